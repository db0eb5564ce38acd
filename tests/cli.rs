//! End-to-end: the real binary on the shipped model (`models/default`).

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary with `args`, run from the project root on the shipped model.
fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xinsheng"));
    cmd.args(args)
        .current_dir(root())
        .env_remove("XINSHENG_MODEL");
    cmd
}

fn xinsheng(args: &[&str]) -> Output {
    command(args).output().expect("run xinsheng")
}

fn analyze(text: &str) -> Value {
    let out = xinsheng(&["analyze", "--compact", text]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("analysis JSON")
}

fn sentiment(a: &Value) -> &str {
    a["sentiment"]["label"].as_str().unwrap()
}

#[test]
fn furious_complaint_is_negative_with_the_contract_fields() {
    let a = analyze("我已经打了三次电话了，等了一个星期都没人处理，客服态度还特别差");
    assert_eq!(sentiment(&a), "negative", "{a}");
    let scores = &a["sentiment"]["scores"];
    let sum: f64 = ["negative", "neutral", "positive"]
        .iter()
        .map(|k| scores[k].as_f64().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 1e-3, "{scores}");
    assert!(a["emotion"]["label"].is_string());
    let cats = a["category_scores"].as_object().unwrap();
    assert_eq!(
        cats.keys().collect::<Vec<_>>(),
        [
            "service_attitude",
            "process",
            "product_quality",
            "price",
            "other"
        ]
    );
    assert!(a["categories"].is_array());
    assert!(!a["keywords"].as_array().unwrap().is_empty(), "{a}");
    assert!(a["risk"]["reasons"]
        .as_array()
        .unwrap()
        .contains(&"repeat_contact".into()));
    assert_ne!(a["risk"]["priority"], "C");
    assert!(a["masked_text"].is_string());
}

#[test]
fn real_sentences_get_sensible_sentiment() {
    for text in [
        "你们这什么破服务，退款拖了一个月还没到账，太恶心了",
        "质量太差了，用了两天就坏了，再也不买了",
    ] {
        assert_eq!(sentiment(&analyze(text)), "negative", "{text}");
    }
    for text in [
        "客服小姐姐很耐心，问题很快就解决了，非常满意",
        "东西很好，物流很快，好评",
    ] {
        assert_eq!(sentiment(&analyze(text)), "positive", "{text}");
    }
}

#[test]
fn characters_outside_the_pruned_vocabulary_read_as_unknown() {
    // The shipped tokenizer keeps only the tokens its network saw in training (scripts/prune_vocab.py): 丙 and
    // 佟 are bert-base-chinese tokens it dropped, so they read as [UNK] and the rest of the text decides.
    let vocab: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("models/default/tokenizer.json")).unwrap(),
    )
    .unwrap();
    let vocab = vocab["model"]["vocab"].as_object().unwrap();
    assert!(vocab.contains_key("[UNK]") && !vocab.contains_key("丙") && !vocab.contains_key("佟"));
    let a = analyze("丙佟店的客服态度太差了，问了三遍都不理人");
    assert_eq!(sentiment(&a), "negative", "{a}");
    let a = analyze("丙佟店的东西很好，物流很快，好评");
    assert_eq!(sentiment(&a), "positive", "{a}");
}

#[test]
fn regulator_threat_is_priority_a_and_pii_is_masked() {
    let a = analyze("我是张伟，电话13812345678，再不处理我就打12315投诉你们");
    assert_eq!(a["risk"]["priority"], "A", "{a}");
    assert_eq!(a["risk"]["escalate"], true);
    assert_eq!(a["risk"]["respond_within_minutes"], 15);
    let masked = a["masked_text"].as_str().unwrap();
    assert!(!masked.contains("13812345678"), "{masked}");
    assert!(!masked.contains("张伟"), "{masked}");
    assert!(masked.contains("12315"), "{masked}");
}

#[test]
fn stdin_and_conversation_input() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_xinsheng"))
        .args(["analyze", "--compact"])
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            r#"{"turns": [{"speaker": "customer", "text": "你好"}, {"speaker": "agent", "text": "您好，请问有什么可以帮您"}, {"speaker": "customer", "text": "帮我转人工"}]}"#
                .as_bytes(),
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["turns"].as_array().unwrap().len(), 3);
    assert_eq!(a["trajectory"].as_array().unwrap().len(), 2);
    assert_eq!(a["handoff_turn"], 2, "{a}");
}

#[test]
fn bad_usage_exits_2_with_a_clear_message() {
    let out = xinsheng(&["analyze", "   "]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no text"));
    let out = xinsheng(&["--model", "no/such/dir", "analyze", "你好"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir"));
    let out = xinsheng(&["--device", "tpu", "analyze", "你好"]);
    assert_eq!(out.status.code(), Some(2));
}

/// `xinsheng analyze … | head` where the reader has gone before the answer is written: the command ends
/// with the status of a broken pipe (141) and says nothing, where `println!` used to panic (status 101).
#[test]
fn closed_stdout_ends_quietly_without_a_panic() {
    use std::process::Stdio;
    let mut child = command(&["analyze", "客服态度太差了"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run xinsheng");
    // Close the read end at once: the model takes far longer to load than this.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn label_round_trip_keeps_every_row_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let out = xinsheng(&[
        "label",
        "--quiet",
        "--input",
        "tests/data/label_input.jsonl",
        "--output",
        output.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(summary["rows"], 7);
    assert_eq!(summary["errors"], 3);
    let rows: Vec<Value> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[0]["id"], 1);
    assert_eq!(sentiment(&rows[0]["analysis"]), "negative");
    assert_eq!(rows[1]["channel"], "chat", "input fields are kept");
    assert!(rows[2]["error"]
        .as_str()
        .unwrap()
        .contains("no field `text`"));
    assert_eq!(rows[3]["raw"], "this line is not JSON");
    assert!(rows[3]["error"].is_string());
    assert_eq!(rows[4]["error"], "text is empty");
    let conv = &rows[5]["analysis"];
    assert_eq!(conv["turns"].as_array().unwrap().len(), 3);
    assert_eq!(conv["risk"]["priority"], "A");
    assert_eq!(rows[6]["id"], 7);
    assert!(rows[6].get("error").is_none());
}

#[test]
fn long_text_is_read_in_overlapping_windows_not_truncated() {
    // 384 characters, more than the shipped model's 160-token window.
    let long = "我已经打了三次电话了，等了一个星期都没人处理，客服态度还特别差。".repeat(12);
    let a = analyze(&long);
    assert_eq!(a["chunks"], 3, "{a}");
    assert_eq!(sentiment(&a), "negative");
    // The threat at the very end is seen even though the text is long (risk reads the whole text).
    let tail = format!("{long}再不处理我就打12315投诉你们");
    let a = analyze(&tail);
    assert!(a["chunks"].as_u64().unwrap() >= 3, "{a}");
    assert_eq!(a["risk"]["priority"], "A", "{a}");
    // A short text is one window: no `chunks` field.
    let short = analyze("请问怎么改收货地址");
    assert!(short.get("chunks").is_none(), "{short}");
}

#[test]
fn eval_group_by_reports_each_group_and_they_add_up() {
    let out = xinsheng(&[
        "--engine",
        "int8",
        "eval",
        "--data",
        "tests/data/robustness/dev.jsonl",
        "--group-by",
        "phenomenon",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["group_by"], "phenomenon");
    let groups = r["groups"].as_object().unwrap();
    let names: Vec<&str> = groups.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "asr_no_punct",
            "colloquial",
            "dialect",
            "mixed",
            "negation",
            "sarcasm",
            "traditional",
            "typo"
        ]
    );
    // The groups partition the rows: counts and correct sentiment predictions add up to the whole file.
    let n = |v: &Value| v["examples"].as_u64().unwrap();
    let correct = |v: &Value| {
        let c = v["sentiment"]["confusion"].as_array().unwrap();
        (0..c.len()).map(|i| c[i][i].as_u64().unwrap()).sum::<u64>()
    };
    assert_eq!(groups.values().map(n).sum::<u64>(), n(&r));
    assert_eq!(groups.values().map(correct).sum::<u64>(), correct(&r));
    for g in groups.values() {
        assert!(g["categories"]["macro_f1"].is_number(), "{g}");
    }

    // A field holding a list cannot name a group: a usage error with the line, not a panic.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"text\": \"太慢了\", \"sentiment\": \"negative\", \"channel\": \"app\"}\n\
         {\"text\": \"很好\", \"sentiment\": \"positive\", \"channel\": [\"web\"]}\n",
    )
    .unwrap();
    let out = xinsheng(&[
        "eval",
        "--data",
        bad.to_str().unwrap(),
        "--group-by",
        "channel",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(":2") && err.contains("channel"), "{err}");
}

#[test]
fn thread_counts_and_waits_out_of_range_are_usage_errors() {
    let label = |flag: &'static str, v: &'static str| {
        vec!["label", "--input", "x.csv", "--output", "y.csv", flag, v]
    };
    for (args, what) in [
        (vec!["--threads", "100000", "analyze", "你好"], "256"),
        (vec!["serve", "--workers", "100000"], "256"),
        (vec!["serve", "--batch-wait-ms", "99999999"], "0..=1000"),
        (vec!["serve", "--header-timeout-secs", "0"], "1..=3600"),
        (label("--window", "18446744073709551615"), "1000000"),
        (label("--window", "0"), "1000000"),
        (label("--batch-size", "0"), "4096"),
        (
            vec!["bench", "--texts", "x.txt", "--seconds", "inf"],
            "86400",
        ),
        (
            vec!["bench", "--texts", "x.txt", "--seconds", "NaN"],
            "86400",
        ),
    ] {
        let out = xinsheng(&args);
        let msg = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {msg}");
        assert!(msg.contains(what), "{args:?}: {msg}");
    }
}

#[test]
fn analyze_refuses_malformed_requests_and_invisible_only_text() {
    for input in [
        r#"{"text":null}"#,
        r#"{"turns":"x"}"#,
        r#"{"turns":[{"speaker":"customer"}]}"#,
        "\u{200b}",
        "\u{feff}\u{00ad}",
        "\u{0007}\u{0001}",
    ] {
        let out = xinsheng(&["analyze", input]);
        let msg = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{input:?}: {msg}");
        assert!(out.stdout.is_empty(), "{input:?}: no analysis printed");
        assert!(
            msg.contains("JSON request") || msg.contains("no text") || msg.contains("empty"),
            "{input:?}: {msg}"
        );
    }
}

/// Runs `analyze` with `stdin` piped in and `env` set.
fn analyze_stdin(stdin: &[u8], env: &[(&str, &str)]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut cmd = command(&["analyze", "--compact"]);
    cmd.env_remove("XINSHENG_TEXT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run xinsheng");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().expect("wait")
}

#[test]
fn piped_input_is_what_gets_analyzed_and_broken_requests_are_refused() {
    // A truncated chatbot payload is an error, not a text about JSON.
    let out = analyze_stdin(
        r#"{"turns": [{"speaker":"customer","text":"我要投诉"}"#.as_bytes(),
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not valid JSON"), "{err}");
    // A text that merely starts with a brace is still a text.
    let out = analyze_stdin("{赠品}没收到".as_bytes(), &[]);
    assert!(out.status.success());
    // An environment variable named like the argument does not replace piped input.
    let out = analyze_stdin(
        "来自标准输入的文本".as_bytes(),
        &[("XINSHENG_TEXT", "来自环境变量")],
    );
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["masked_text"], "来自标准输入的文本");
    // GBK on standard input: the error says what to do.
    let out = analyze_stdin(&[0xBF, 0xCD, 0xB7, 0xFE, 0xCC, 0xAB, 0xB2, 0xEE], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("not UTF-8") && err.contains("iconv"), "{err}");
    // Boolean flags take the values shells use.
    let out = analyze_stdin("你好".as_bytes(), &[("XINSHENG_COMPACT", "1")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn scores_have_four_decimals_and_sentiment_sums_to_one() {
    for text in [
        "没有送水没有送水没有送水",
        "我卡里的三万块钱莫名其妙被转走了，你们银行必须给我个说法",
        "我都打了五次电话了，每次都说会有人联系我，到现在都没有人管",
        "你们客服几点下班",
        "东西很好，物流也快，谢谢",
    ] {
        let a = analyze(text);
        let scores = a["sentiment"]["scores"].as_object().unwrap();
        let units: i64 = scores
            .values()
            .map(|v| (v.as_f64().unwrap() * 10_000.0).round() as i64)
            .sum();
        assert_eq!(units, 10_000, "{text}: {scores:?}");
        let label = a["sentiment"]["label"].as_str().unwrap();
        assert_eq!(a["sentiment"]["score"], scores[label], "{text}");
        let four = |v: &Value| {
            let x = v.as_f64().unwrap();
            ((x * 10_000.0).round() / 10_000.0 - x).abs() < 1e-12
        };
        assert!(four(&a["risk"]["score"]), "{text}: {}", a["risk"]["score"]);
        // Why an A or an escalation: evidence, even when `reasons` has no code for it (large_loss,
        // escalation_model).
        if a["risk"]["priority"] == "A" || a["risk"]["escalate"] == true {
            assert!(
                !a["risk"]["evidence"].as_array().unwrap().is_empty(),
                "{text}: {}",
                a["risk"]
            );
        }
        for e in a["risk"]["evidence"].as_array().unwrap() {
            if !e["score"].is_null() {
                assert!(four(&e["score"]), "{text}: {e}");
            }
        }
    }
}

#[test]
fn model_directory_mistakes_get_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = xinsheng(&["--model", "models/default/config.json", "analyze", "你好"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("not a directory"), "{err}");
    let out = xinsheng(&["--model", "no/such/dir", "analyze", "你好"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such model directory"));
    // A config that does not fit the weights, with backtraces switched on: the reason, no frames.
    let m = dir.path();
    for f in ["model.safetensors", "tokenizer.json"] {
        std::fs::copy(root().join("models/default").join(f), m.join(f)).unwrap();
    }
    let mut config: Value =
        serde_json::from_slice(&std::fs::read(root().join("models/default/config.json")).unwrap())
            .unwrap();
    config["vocab_size"] = 99_999.into();
    std::fs::write(m.join("config.json"), config.to_string()).unwrap();
    let out = command(&["--model", m.to_str().unwrap(), "analyze", "你好"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("does not match config.json"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}
