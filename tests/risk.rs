//! End-to-end tests of the risk engine through the real binary on the shipped model: reason codes,
//! negation and questions, policy files, sarcasm, agent turns, customer history across process runs,
//! and `eval-risk`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str], data_dir: Option<&Path>) -> Output {
    command(args, data_dir).output().expect("run xinsheng")
}

/// `run` with one more environment variable.
fn run_env(args: &[&str], data_dir: Option<&Path>, key: &str, value: &str) -> Output {
    command(args, data_dir)
        .env(key, value)
        .output()
        .expect("run xinsheng")
}

fn command(args: &[&str], data_dir: Option<&Path>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xinsheng"));
    cmd.args(args)
        .current_dir(root())
        .env_remove("XINSHENG_MODEL")
        .env_remove("XINSHENG_POLICY")
        .env_remove("XINSHENG_DATABASE_URL")
        .env_remove("XINSHENG_STORE_TEXT");
    match data_dir {
        Some(d) => cmd.env("XINSHENG_DATA_DIR", d),
        // Tests must never write into the repository's ./data.
        None => cmd.env(
            "XINSHENG_DATA_DIR",
            std::env::temp_dir().join("xinsheng-unused"),
        ),
    };
    cmd
}

/// The JSON objects a successful command printed, one per line.
fn json_lines(out: Output) -> Vec<Value> {
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn analyze(text: &str) -> Value {
    ok_json(&run(&["analyze", "--compact", text], None))
}

fn reasons(a: &Value) -> Vec<String> {
    a["risk"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn each_reason_code_escalates_with_evidence() {
    let cases = [
        ("再不给我退款，我就打12315投诉你们", "regulator_threat", "A"),
        ("你们再这样我就找媒体曝光", "media_threat", "A"),
        ("我已经找好律师了，准备起诉你们", "legal_threat", "A"),
        ("充电宝充着充着就冒烟了，差点起火", "safety", "A"),
        ("再不解决我就销户，换一家", "churn_threat", "B"),
        ("叫你们经理来跟我说", "supervisor_demand", "B"),
        ("这已经是我第三次打电话了", "repeat_contact", "B"),
        ("家里宽带断网两天了", "service_outage", "B"),
        ("你们简直欺人太甚，忍无可忍", "strong_anger", "B"),
    ];
    for (text, code, worst) in cases {
        let a = analyze(text);
        let r = &a["risk"];
        assert!(reasons(&a).contains(&code.to_string()), "{text}: {r}");
        assert_eq!(r["escalate"], true, "{text}: {r}");
        // The model may make a B reason urgent (outage with a very negative text), never less urgent.
        assert!(r["priority"].as_str().unwrap() <= worst, "{text}: {r}");
        let ev = r["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["reason"] == code)
            .unwrap_or_else(|| panic!("{text}: no evidence for {code}: {r}"));
        assert!(
            ev["phrase"].is_string() || ev["score"].is_number(),
            "{text}: {ev}"
        );
        assert!(r["respond_within_minutes"].as_u64().unwrap() <= 30, "{r}");
    }
}

#[test]
fn negation_and_questions_do_not_escalate() {
    for text in [
        "我不是要投诉，只是问一下",
        "投诉流程是什么",
        "12315的电话是多少？",
        "我不想曝光你们，只想把问题解决",
        "请问怎么注销账户？",
    ] {
        let a = analyze(text);
        let phrase_reasons: Vec<&Value> = a["risk"]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["phrase"].is_string())
            .collect();
        assert!(phrase_reasons.is_empty(), "{text}: {}", a["risk"]);
        assert_eq!(a["risk"]["escalate"], false, "{text}: {}", a["risk"]);
        assert_ne!(a["risk"]["priority"], "A", "{text}");
    }
}

#[test]
fn sarcasm_is_not_praise() {
    let a = analyze("你们效率可真高啊，一个月了还没处理");
    assert_eq!(a["sentiment"]["label"], "negative", "{}", a["sentiment"]);
    assert_ne!(a["risk"]["priority"], "C", "{}", a["risk"]);
    // Plain praise stays praise.
    let a = analyze("谢谢你们，问题解决得很快，服务很好");
    assert_eq!(a["sentiment"]["label"], "positive", "{}", a["sentiment"]);
    assert!(a["sentiment"].get("rule").is_none());
}

#[test]
fn policy_file_changes_routes_and_bad_policies_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(root().join("models/default/policy.toml")).unwrap();
    let custom = dir.path().join("policy.toml");
    std::fs::write(
        &custom,
        shipped.replacen("route = \"complaints\"", "route = \"legal_desk\"", 1),
    )
    .unwrap();
    let a = ok_json(&run(
        &[
            "analyze",
            "--compact",
            "--policy",
            custom.to_str().unwrap(),
            "我要起诉你们",
        ],
        None,
    ));
    assert_eq!(a["risk"]["route"], "legal_desk", "{}", a["risk"]);

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        shipped.replacen("strong_anger = 0.9", "strong_anger = 7", 1),
    )
    .unwrap();
    let out = run(
        &["analyze", "--policy", bad.to_str().unwrap(), "你好"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("scores.strong_anger"),
        "{err}"
    );

    let out = run(&["analyze", "--policy", "no/such.toml", "你好"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such.toml"));
}

#[test]
fn three_negative_contacts_across_runs_make_a_high_risk_customer() {
    let dir = tempfile::tempdir().unwrap();
    let d = Some(dir.path());
    let texts = [
        "快递一个星期了还没到，太慢了",
        "客服态度太差了，问什么都不知道",
        "退款拖了半个月还没到账，非常失望",
    ];
    for (i, text) in texts.iter().enumerate() {
        let a = ok_json(&run(
            &["analyze", "--compact", "--customer-id", "客户-007", text],
            d,
        ));
        let c = &a["customer"];
        assert_eq!(c["id"], "客户-007");
        assert_eq!(c["contacts"], i as u64 + 1, "{c}");
        assert_eq!(c["consecutive_negative"], i as u64 + 1, "{c}");
        assert_eq!(c["high_risk"], i == 2, "{c}");
        if i == 2 {
            assert!(reasons(&a).contains(&"repeat_contact".to_string()));
            assert_eq!(a["risk"]["escalate"], true);
        }
    }
    assert!(dir.path().join("history.sqlite").exists());
    let c = ok_json(&run(&["customer", "客户-007"], d));
    assert_eq!(c["high_risk"], true, "{c}");
    assert!(c["risk_score"].as_f64().unwrap() > 0.0);
    let lines = json_lines(run(&["customers", "--high-risk"], d));
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], "客户-007");
    // A calm contact resets the run.
    let a = ok_json(&run(
        &[
            "analyze",
            "--compact",
            "--customer-id",
            "客户-007",
            "收到了，谢谢，非常满意",
        ],
        d,
    ));
    assert_eq!(
        a["customer"]["consecutive_negative"], 0,
        "{}",
        a["customer"]
    );
    assert_eq!(a["customer"]["high_risk"], false);
    let out = run(&["customer", "nobody"], d);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown customer"));
    // The raw text is never stored (default --store-text none).
    let db = std::fs::read(dir.path().join("history.sqlite")).unwrap();
    let needle = "退款拖了".as_bytes();
    assert!(!db.windows(needle.len()).any(|w| w == needle));
}

#[test]
fn agent_turns_and_handoff_in_conversations() {
    let conv = r#"{"turns": [
        {"speaker": "customer", "text": "我的洗衣机坏了，怎么办"},
        {"speaker": "agent", "text": "你自己看说明书去，我也没办法"},
        {"speaker": "customer", "text": "我要转人工"}]}"#;
    let a = ok_json(&run(&["analyze", "--compact", conv], None));
    let cats: Vec<&str> = a["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert!(cats.contains(&"service_attitude"), "{}", a["categories"]);
    assert_eq!(a["agent_evidence"][0]["turn"], 1);
    assert!(
        a["handoff_turn"].as_u64().unwrap() <= 2,
        "{}",
        a["handoff_turn"]
    );
    // An indignant question hands off even when it reads calm (`conversation.agitation`).
    let conv = r#"{"turns": [
        {"speaker": "customer", "text": "我想把套餐降到99的，怎么操作"},
        {"speaker": "agent", "text": "您的号码在合约期内，暂不支持降档。"},
        {"speaker": "customer", "text": "什么合约期？？我什么时候签过合约？"}]}"#;
    let a = ok_json(&run(&["analyze", "--compact", conv], None));
    assert_eq!(a["handoff_turn"], 2, "{a}");
    // An agent naming a hotline is not a customer threat.
    let conv = r#"{"turns": [
        {"speaker": "customer", "text": "请问怎么查话费"},
        {"speaker": "agent", "text": "您可以拨打10086，也可以在App里查询"}]}"#;
    let a = ok_json(&run(&["analyze", "--compact", conv], None));
    assert_eq!(a["risk"]["escalate"], false, "{}", a["risk"]);
    assert_eq!(a["handoff_turn"], Value::Null);
    // Not in its own turn's risk either, nor in a conversation of agent turns only (whose customer side
    // used to be read from the agent's text: A, regulator_threat).
    let referral = r#"{"speaker": "agent", "text": "如您对处理结果不满意，可以拨打12315"}"#;
    for conv in [
        format!(
            r#"{{"turns": [{{"speaker": "customer", "text": "我的宽带还是不好用"}}, {referral}]}}"#
        ),
        format!(r#"{{"turns": [{referral}]}}"#),
    ] {
        let a = ok_json(&run(&["analyze", "--compact", &conv], None));
        let agent = a["turns"].as_array().unwrap().last().unwrap();
        assert_eq!(agent["risk"]["escalate"], false, "{}", agent["risk"]);
        assert_eq!(agent["risk"]["reasons"], serde_json::json!([]));
        assert!(
            !reasons(&a).contains(&"regulator_threat".to_string()),
            "{}",
            a["risk"]
        );
        assert_eq!(a["risk"]["escalate"], false, "{}", a["risk"]);
        assert_eq!(a["handoff_turn"], Value::Null);
    }
}

#[test]
fn a_conversation_escalated_by_the_history_hands_off_at_the_first_customer_turn() {
    let dir = tempfile::tempdir().unwrap();
    let d = Some(dir.path());
    for text in [
        "快递一个星期了还没到，太慢了",
        "客服态度太差了，问什么都不知道",
    ] {
        ok_json(&run(&["analyze", "--customer-id", "c4", text], d));
    }
    let conv = r#"{"turns": [
        {"speaker": "agent", "text": "您好，请问有什么可以帮您"},
        {"speaker": "customer", "text": "网速还是很慢，挺失望的"},
        {"speaker": "agent", "text": "我帮您看看"}]}"#;
    let a = ok_json(&run(
        &["analyze", "--compact", "--customer-id", "c4", conv],
        d,
    ));
    assert_eq!(a["customer"]["high_risk"], true, "{}", a["customer"]);
    assert_eq!(a["risk"]["escalate"], true, "{}", a["risk"]);
    assert_eq!(a["handoff_turn"], 1, "{a}");
}

#[test]
fn eval_risk_reports_the_figures() {
    let r = ok_json(&run(
        &[
            "eval-risk",
            "--utterances",
            "tests/data/risk_fixture/utterances.jsonl",
            "--conversations",
            "tests/data/risk_fixture/conversations.jsonl",
        ],
        None,
    ));
    let u = &r["utterances"]["all"];
    assert_eq!(u["rows"], 6);
    for k in ["precision", "recall", "f1"] {
        let x = u["escalation"][k].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&x), "{k}");
    }
    // These six are easy: the rules must get the escalations right.
    assert_eq!(u["escalation"]["f1"], 1.0, "{u}");
    assert!(u["priority"]["accuracy"].as_f64().unwrap() >= 0.8, "{u}");
    assert!(u["sentiment"]["accuracy"].is_number());
    assert!(u["reasons"]["per_code"]["safety"]["tp"] == 1, "{u}");
    let c = &r["conversations"]["all"];
    assert_eq!(c["rows"], 2);
    assert_eq!(c["handoff"]["within_1"], 1.0, "{c}");
    assert!(r["utterances"]["holdout"]["rows"].as_u64().unwrap() == 3);
    // Bad input is a clear error.
    let out = run(&["eval-risk", "--utterances", "no/such.jsonl"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such.jsonl"));
}

/// `xinsheng train-risk` on parts j and k of risk_train, plus `extra`, into `out`.
fn train_risk(extra: &[&str], out: &Path) -> Value {
    let mut args = vec![
        "train-risk",
        "--data",
        "tests/data/risk_train/j",
        "--data",
        "tests/data/risk_train/k",
        "--output",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ok_json(&run(&args, None))
}

#[test]
fn the_learned_models_are_trained_used_and_can_be_turned_off() {
    // The shipped model: a complaint no phrase rule catches escalates on the learned score, explained by
    // the n-grams that weighed most.
    let text = "你们这个客服能不能靠谱点，我打了两回都说在处理，到底处理到哪了";
    let a = analyze(text);
    assert_eq!(a["risk"]["escalate"], true, "{}", a["risk"]);
    let e = &a["risk"]["evidence"][0];
    assert_eq!(e["reason"], "escalation_model", "{}", a["risk"]);
    assert_eq!(e["source"], "risk_model.json");
    assert!(e["score"].as_f64().unwrap() >= 0.5 && e["phrase"].is_string());
    assert!(a["risk"]["reasons"].as_array().unwrap().is_empty());
    // The complaint model: a calm billing complaint (the sentiment head does not read it negative) is B,
    // with the complaint model as evidence; no escalation.
    let c = analyze("上个月的账单里多了一笔十块钱的短信费");
    assert_eq!(c["risk"]["priority"], "B", "{}", c["risk"]);
    assert_eq!(c["risk"]["escalate"], false, "{}", c["risk"]);
    assert_eq!(c["risk"]["evidence"][0]["reason"], "complaint_model");
    assert_eq!(c["risk"]["evidence"][0]["source"], "complaint_model.json");
    // A policy can turn the escalation model off.
    let dir = tempfile::tempdir().unwrap();
    let policy = std::fs::read_to_string(root().join("models/default/policy.toml"))
        .unwrap()
        .replacen("[escalation]\n", "[escalation]\nlearned_min_score = 2\n", 1);
    let policy_path = dir.path().join("policy.toml");
    std::fs::write(&policy_path, policy).unwrap();
    let off = ok_json(&run(
        &[
            "analyze",
            "--compact",
            "--policy",
            policy_path.to_str().unwrap(),
            text,
        ],
        None,
    ));
    assert_eq!(off["risk"]["escalate"], false, "{}", off["risk"]);

    // train-risk: two groups, a cross-validated threshold, a file a model directory can use.
    let out_path = dir.path().join("risk_model.json");
    let r = train_risk(&["--exclude-near", "tests/data/risk"], &out_path);
    let rows = r["rows"].as_u64().unwrap();
    assert!((380..=400).contains(&rows), "{r}");
    let t = r["threshold"].as_f64().unwrap();
    assert!((0.3..=0.95).contains(&t), "{r}");
    assert_eq!(r["cross_validation"]["table"].as_array().unwrap().len(), 14);
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    assert_eq!(stored["training"]["rows"].as_u64(), Some(rows));
    assert!(stored["weights"].as_object().unwrap().len() > 1000);
    let complaint_path = dir.path().join("complaint_model.json");
    let r = train_risk(&["--target", "complaint"], &complaint_path);
    assert_eq!(r["target"], "complaint");
    let row = &r["cross_validation"]["table"][0];
    assert!(row["priority_accuracy"].as_f64().unwrap() > 0.5, "{r}");
    assert!(r["cross_validation"]["rules_priority_accuracy"].is_number());
    let model_dir = dir.path().join("model");
    std::fs::create_dir(&model_dir).unwrap();
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "policy.toml",
    ] {
        std::fs::copy(root().join("models/default").join(f), model_dir.join(f)).unwrap();
    }
    std::fs::copy(&out_path, model_dir.join("risk_model.json")).unwrap();
    std::fs::copy(&complaint_path, model_dir.join("complaint_model.json")).unwrap();
    let m = model_dir.to_str().unwrap();
    ok_json(&run(&["--model", m, "analyze", "--compact", text], None));
    // eval-risk --rules-only leaves both learned models out.
    let figures = |extra: &[&str]| {
        let mut args = vec![
            "--model",
            m,
            "eval-risk",
            "--utterances",
            "tests/data/risk_train/l/utterances.jsonl",
        ];
        args.extend_from_slice(extra);
        ok_json(&run(&args, None))["utterances"]["all"].clone()
    };
    let (with, without) = (figures(&[]), figures(&["--rules-only"]));
    assert_ne!(
        with, without,
        "the learned models change nothing on 150 rows?"
    );
    // A broken model file is a clear error naming it.
    std::fs::write(model_dir.join("risk_model.json"), "{\"format_version\": 1}").unwrap();
    let bad = run(&["--model", m, "analyze", "--compact", text], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("risk_model.json"));
    // Bad arguments are clear errors.
    for args in [
        &["train-risk", "--data", "no/such/dir", "--output", "x.json"][..],
        &[
            "train-risk",
            "--data",
            "tests/data/risk_train/j",
            "--threshold",
            "3",
            "--output",
            "x.json",
        ][..],
    ] {
        let out = run(args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    }
    assert!(!root().join("x.json").exists());
}

/// Fixes from a risk audit (2026-12-03), through the shipped model and policy.
#[test]
fn audit_threats_safety_and_harmless_mentions() {
    let cases: &[(&str, &[&str])] = &[
        // 不会/不能 negate 忍, not the threat after it
        ("我不会忍了去12315", &["regulator_threat"]),
        ("不能忍了 我要打12315", &["regulator_threat"]),
        // a child swallowing something
        ("孩子把零件吞下去了", &["safety"]),
        ("宝宝误吞了电池", &["safety"]),
        ("小孩吃了里面的干燥剂", &["safety"]),
        // indirect court and internet-regulator threats
        ("咱们法庭见", &["legal_threat"]),
        ("我去网信办举报你们", &["regulator_threat"]),
        // closing the account as a demand
        ("我要销户", &["churn_threat"]),
        ("把我的卡销户", &["churn_threat"]),
    ];
    for (text, want) in cases {
        let a = analyze(text);
        for w in *want {
            assert!(
                reasons(&a).contains(&w.to_string()),
                "{text}: {}",
                a["risk"]
            );
        }
        assert_eq!(a["risk"]["escalate"], true, "{text}: {}", a["risk"]);
    }
    for text in ["我不会去12315投诉的", "我在微博上看到你们的活动"] {
        let a = analyze(text);
        assert!(reasons(&a).is_empty(), "{text}: {}", a["risk"]);
        assert_ne!(a["risk"]["priority"], "A", "{text}: {}", a["risk"]);
    }
}

/// A threat the model reads calm still counts as a negative contact (it escalated on the rules), so it does
/// not reset the run; the rolling score is fed the contact's own score, before the history's reason.
#[test]
fn a_calm_threat_keeps_the_negative_run_and_the_score_is_the_contacts_own() {
    let dir = tempfile::tempdir().unwrap();
    let d = Some(dir.path());
    let texts = [
        "快递一个星期了还没到，太慢了",
        "客服态度太差了，问什么都不知道",
    ];
    let mut last = Value::Null;
    for text in texts {
        last = ok_json(&run(
            &["analyze", "--compact", "--customer-id", "客户-036", text],
            d,
        ));
    }
    assert_eq!(last["customer"]["consecutive_negative"], 2, "{last}");
    let threat = "我去网信办举报你们";
    let alone = analyze(threat);
    let negative = alone["sentiment"]["scores"]["negative"].as_f64().unwrap();
    assert!(
        negative < 0.5,
        "the model must read it calm for this test: {alone}"
    );
    assert_eq!(alone["risk"]["priority"], "A", "{}", alone["risk"]);
    let a = ok_json(&run(
        &["analyze", "--compact", "--customer-id", "客户-036", threat],
        d,
    ));
    let c = &a["customer"];
    assert_eq!(c["consecutive_negative"], 3, "{c}");
    assert_eq!(c["high_risk"], true, "{c}");
    // A calm demand to close the account (churn, B, score 0.6) from the high-risk customer: the output gets
    // repeat_contact (weight 0.7), the rolling score is fed 0.6. decay 0.5: new = 0.5 × previous + 0.5 × own.
    let demand = "我要销户";
    let alone = analyze(demand);
    let own = alone["risk"]["score"].as_f64().unwrap();
    assert!(own < 0.7, "{}", alone["risk"]);
    let prev = c["risk_score"].as_f64().unwrap();
    let a = ok_json(&run(
        &["analyze", "--compact", "--customer-id", "客户-036", demand],
        d,
    ));
    let c = &a["customer"];
    assert_eq!(c["consecutive_negative"], 4, "{c}");
    assert!(reasons(&a).contains(&"repeat_contact".to_string()), "{a}");
    assert!(a["risk"]["score"].as_f64().unwrap() >= 0.7, "{}", a["risk"]);
    let want = 0.5 * prev + 0.5 * own;
    let got = c["risk_score"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-3, "{got} vs {want}: {c}");
}

#[test]
fn reading_customers_creates_no_store_and_lists_everyone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("not-yet");
    let d = Some(data.as_path());
    // Reads before any contact: nobody, and no store is created.
    let out = run(&["customer", "客户-100"], d);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown customer"));
    let out = run(&["customers"], d);
    assert!(out.status.success() && out.stdout.is_empty());
    assert!(!data.exists(), "a read created {}", data.display());
    // One calm and one negative customer: `customers` lists both, `--high-risk` neither.
    ok_json(&run(
        &["analyze", "--customer-id", "客户-100", "收到了，谢谢"],
        d,
    ));
    ok_json(&run(
        &["analyze", "--customer-id", "客户-101", "客服态度太差了"],
        d,
    ));
    let all = json_lines(run(&["customers"], d));
    let ids: Vec<&str> = all.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["客户-100", "客户-101"]);
    assert_eq!(all[1]["consecutive_negative"], 1);
    assert!(all.iter().all(|c| c["high_risk"] == false));
    assert!(json_lines(run(&["customers", "--high-risk"], d)).is_empty());
    // Boolean environment values as shells write them.
    assert!(json_lines(run_env(&["customers"], d, "XINSHENG_HIGH_RISK", "1")).is_empty());
    assert_eq!(
        json_lines(run_env(&["customers"], d, "XINSHENG_HIGH_RISK", "0")).len(),
        2
    );
}

/// Calm requests that name a service action, an institution or a second visit are not escalated, while
/// look-alikes written the same way are (rows of tests/data/risk_calm and its brief).
#[test]
fn calm_requests_stay_calm_and_their_look_alikes_escalate() {
    for text in [
        "我上周已经在营业厅办过停机了",
        "我想办理停水，房子卖了要过户",
        "家里要装修，想申请暂时停气，需要找谁",
        "我要寄一份材料给法院，能不能今天寄出",
        "派出所让我打印一份近三个月的通话记录，怎么弄",
        "我第二次来交燃气费了，上次的卡没带，能用身份证查吗",
        "工号1023的柜员特别耐心，帮我表扬一下",
    ] {
        let a = analyze(text);
        assert!(reasons(&a).is_empty(), "{text}: {}", a["risk"]);
        assert_eq!(a["risk"]["escalate"], false, "{text}: {}", a["risk"]);
        assert_eq!(a["risk"]["priority"], "C", "{text}: {}", a["risk"]);
    }
    let cases = [
        (
            "我根本没办过停机，你们凭什么把我的号停了，现在电话都打不出去",
            "service_outage",
            "A",
        ),
        ("我要报修，家里停水了", "service_outage", "A"),
        (
            "办停机保号的时候你们收了我钱，结果号码还是被停了，现在什么电话都打不进来",
            "service_outage",
            "A",
        ),
        (
            "派出所已经立案了，你们的快递员冒领了我的包裹",
            "legal_threat",
            "A",
        ),
        ("法院见吧，合同你们单方面改了还不认账", "legal_threat", "A"),
        (
            "我第二次来办这个业务了，上次你们说材料齐了，结果又让我白跑一趟",
            "repeat_contact",
            "B",
        ),
    ];
    for (text, reason, priority) in cases {
        let a = analyze(text);
        assert!(
            reasons(&a).contains(&reason.to_string()),
            "{text}: {}",
            a["risk"]
        );
        assert_eq!(a["risk"]["escalate"], true, "{text}: {}", a["risk"]);
        assert_eq!(a["risk"]["priority"], priority, "{text}: {}", a["risk"]);
    }
}

/// Cases from the stop-37 audit (`/work/audit/ux37`, section 7): a count of calls, a traditional-script
/// consumer council, Mars is no spark, and a sarcastic thank-you for wasted trips.
#[test]
fn audit_counts_councils_sparks_and_wasted_trips() {
    for (text, priority, reason) in [
        (
            "我都打了五次电话了，每次都说会有人联系我，到现在都没有人管",
            "B",
            Some("repeat_contact"),
        ),
        ("我要投訴到消保會", "A", Some("regulator_threat")),
        ("插座冒火星了", "A", Some("safety")),
        ("这家店的菜简直是火星来的，太难吃了", "B", None),
    ] {
        let a = analyze(text);
        assert_eq!(a["risk"]["priority"], priority, "{text}: {}", a["risk"]);
        match reason {
            Some(r) => assert!(
                reasons(&a).contains(&r.to_string()),
                "{text}: {}",
                a["risk"]
            ),
            None => assert!(reasons(&a).is_empty(), "{text}: {}", a["risk"]),
        }
    }
    let a = analyze("呵呵，真是谢谢你们了，让我白跑三趟");
    assert_eq!(a["sentiment"]["label"], "negative", "{}", a["sentiment"]);
    assert!(a["sentiment"]["rule"]
        .as_str()
        .is_some_and(|r| r.starts_with("sarcasm")));
}
