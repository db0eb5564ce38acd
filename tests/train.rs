//! End-to-end training: a tiny config trains for a few steps on a small labeled file through the real
//! binary, the loss falls, a checkpoint resumes, the model directory loads and `eval` reports on it.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn xinsheng(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xinsheng"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run xinsheng")
}

fn tiny_args<'a>(out: &'a str, steps: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--quiet",
        "--train-file",
        "tests/data/tiny_train.jsonl",
        "--dev-file",
        "tests/data/tiny_dev.jsonl",
        "--tokenizer",
        "models/default",
        "--out",
        out,
        "--layers",
        "1",
        "--hidden",
        "32",
        "--attention-heads",
        "2",
        "--ffn",
        "64",
        "--max-length",
        "32",
        "--batch-size",
        "8",
        "--lr",
        "1e-2",
        "--warmup",
        "0.1",
        "--dropout",
        "0",
        "--max-steps",
        steps,
        "--checkpoint-every",
        "10",
        "--f32",
    ]
}

fn losses(dir: &Path) -> Vec<(u64, f64)> {
    std::fs::read_to_string(dir.join("train_log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["step"].as_u64().unwrap(), v["loss"].as_f64().unwrap())
        })
        .collect()
}

#[test]
fn tiny_training_lowers_the_loss_resumes_and_evaluates() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("model");
    let out = out_dir.to_str().unwrap();

    // 60 steps, a checkpoint every 10.
    let run = xinsheng(&tiny_args(out, "60"));
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(summary["steps"], 60);
    assert!(summary["examples_per_second"].as_f64().unwrap() > 0.0);
    let l = losses(&out_dir);
    assert_eq!(l.len(), 60);
    let first: f64 = l[..8].iter().map(|x| x.1).sum::<f64>() / 8.0;
    let last: f64 = l[52..].iter().map(|x| x.1).sum::<f64>() / 8.0;
    assert!(
        last < first * 0.8,
        "loss should fall: first {first:.3}, last {last:.3}"
    );

    // The directory is a loadable model with all three heads and thresholds chosen on dev.
    let cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("config.json")).unwrap())
            .unwrap();
    let heads = cfg["xinsheng"]["heads"].as_array().unwrap();
    let names: Vec<&str> = heads.iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["sentiment", "emotion", "categories"]);
    assert_eq!(heads[2]["thresholds"].as_array().unwrap().len(), 5);
    // The categories head reads the maximum over the token states; the others the [CLS] pooler.
    assert_eq!(heads[2]["pooling"], "max");
    assert!(heads[0].get("pooling").is_none());
    assert!(cfg["xinsheng"]["training"]["dev"]["dev"]["sentiment_accuracy"].is_number());

    // --resume with other options is refused.
    let mut resume_args = tiny_args(out, "70");
    resume_args.push("--resume");
    let run = xinsheng(&resume_args);
    // Options differ (max_steps), so the checkpoint is refused with a clear error…
    assert_eq!(
        run.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stderr).contains("other options"));
    // …while the same options continue where the checkpoint stopped: nothing left to do at step 60.
    let mut same = tiny_args(out, "60");
    same.push("--resume");
    let run = xinsheng(&same);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(losses(&out_dir).len(), 60, "no step was repeated");

    // An interrupted run: the state file says step 30 (as after a kill between checkpoints 30 and 40);
    // resume runs only steps 31..=60 and appends them to the log.
    let state_path = out_dir.join("checkpoint/state.json");
    let mut state: Value =
        serde_json::from_str(&std::fs::read_to_string(&state_path).unwrap()).unwrap();
    state["step"] = 30.into();
    std::fs::write(&state_path, state.to_string()).unwrap();
    let run = xinsheng(&same);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let steps: Vec<u64> = losses(&out_dir).iter().map(|x| x.0).collect();
    assert_eq!(steps[60..], (31..=60).collect::<Vec<_>>());

    // eval prints the report as JSON.
    let run = xinsheng(&[
        "--model",
        out,
        "eval",
        "--data",
        "tests/data/tiny_dev.jsonl",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["examples"], 4);
    assert_eq!(report["sentiment_mode"], "three_way");
    let confusion = report["sentiment"]["confusion"].as_array().unwrap();
    let total: u64 = confusion
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|x| x.as_u64().unwrap())
        .sum();
    assert_eq!(total, 4);
    assert!(report["sentiment"]["per_class"]["negative"]["recall"].is_number());
    assert!(report["emotion"]["macro_f1"].is_number());
    // Anger flagged by threshold: one point per threshold, flagging more as the threshold falls.
    let points = report["anger_by_threshold"].as_array().unwrap();
    assert_eq!(points.len(), 7);
    let flagged: Vec<u64> = points
        .iter()
        .map(|p| p["flagged"].as_u64().unwrap())
        .collect();
    assert!(flagged.windows(2).all(|w| w[0] >= w[1]), "{flagged:?}");
    assert!(report["categories"]["per_label"]["process"]["f1"].is_number());

    // A bad training file is a usage error naming the line.
    let bad = tmp.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"text\": \"好\", \"sentiment\": \"positive\"}\n{\"nope\": 1}\n",
    )
    .unwrap();
    let mut args = tiny_args(out, "2");
    args[3] = bad.to_str().unwrap();
    let run = xinsheng(&args);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&run.stderr).contains(":2:"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// A prepared-corpus directory for `train-categories`: training rows from the part-3 hand labels (source
/// `handcat`), dev rows from part 1's dev ids.
fn category_corpus(dir: &Path) {
    let read = |p: &str| -> Vec<Value> {
        std::fs::read_to_string(root().join(p))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let split: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/data/categories/split.json")).unwrap(),
    )
    .unwrap();
    let dev_ids: Vec<&str> = split["dev"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let write = |name: &str, rows: Vec<Value>| {
        let text: String = rows
            .iter()
            .map(|r| {
                let v = serde_json::json!({"text": r["text"], "categories": r["categories"], "source": "handcat"});
                v.to_string() + "\n"
            })
            .collect();
        std::fs::write(dir.join(name), text).unwrap();
    };
    write(
        "train.jsonl",
        read("tests/data/categories/labeled_part3.jsonl"),
    );
    write(
        "dev_handcat.jsonl",
        read("tests/data/categories/labeled_part1.jsonl")
            .into_iter()
            .filter(|r| dev_ids.contains(&r["id"].as_str().unwrap()))
            .collect(),
    );
}

#[test]
fn category_ngrams_are_fitted_blended_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let model = tmp.path().join("model");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&model).unwrap();
    category_corpus(&data);
    for f in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::copy(root().join("models/default").join(f), model.join(f)).unwrap();
    }
    let (m, d) = (model.to_str().unwrap(), data.to_str().unwrap());
    let text = "房间太小，价格还死贵，一晚上八百块根本不值";
    let analyze = |extra: &[&str]| -> Value {
        let mut args = vec!["--model", m, "--engine", "f32"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["analyze", text]);
        let out = xinsheng(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let before = analyze(&[]);

    // `train-categories` on the prepared corpus (with extra options); its JSON report when it succeeds.
    let run = |extra: &[&str]| -> std::process::Output {
        let mut args = vec![
            "--model",
            m,
            "--engine",
            "f32",
            "train-categories",
            "--data",
            d,
        ];
        args.extend_from_slice(extra);
        xinsheng(&args)
    };
    let fit = || -> Value {
        let out = run(&[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let report = fit();
    let training = &report["training"];
    assert_eq!(training["train_rows"]["handcat"], 1600, "{training}");
    let per_label = training["per_label"].as_object().unwrap();
    assert_eq!(per_label.len(), 5);
    for (label, v) in per_label {
        assert_eq!(v["f1_by_weight"].as_array().unwrap().len(), 11, "{label}");
    }
    // On the held-out part-1 dev rows the blend is at least the network alone (w = 0 is on the grid) and
    // the n-grams earned a weight for some label.
    let f1 = &training["macro_f1"];
    assert!(
        f1["blended"].as_f64() >= f1["network_alone"].as_f64(),
        "{f1}"
    );
    assert!(
        per_label
            .values()
            .any(|v| v["chosen"]["weight"].as_f64() > Some(0.0)),
        "{training}"
    );

    // The analysis now reads the blended scores with the file's thresholds; eval reports those thresholds.
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("category_ngrams.json")).unwrap())
            .unwrap();
    let after = analyze(&[]);
    assert_ne!(before["category_scores"], after["category_scores"]);
    assert!(
        after["categories"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["label"] == "price"),
        "{after}"
    );
    assert_eq!(
        before["sentiment"], after["sentiment"],
        "only categories change"
    );
    let out = xinsheng(&[
        "--model",
        m,
        "--engine",
        "f32",
        "eval",
        "--data",
        &format!("{d}/dev_handcat.jsonl"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let eval: Value = serde_json::from_slice(&out.stdout).unwrap();
    let labels = [
        "service_attitude",
        "process",
        "product_quality",
        "price",
        "other",
    ];
    for (j, l) in labels.iter().enumerate() {
        let want = file["labels"][l]["threshold"].as_f64().unwrap();
        let got = eval["categories"]["thresholds"][j].as_f64().unwrap();
        assert!((want - got).abs() < 1e-6, "{l}: {want} vs {got}");
    }

    // A broken file is refused with its name and the reason, never a panic; train-categories repairs it.
    let mut bad = file.clone();
    bad["blend_weights"]["price"] = 2.into();
    std::fs::write(model.join("category_ngrams.json"), bad.to_string()).unwrap();
    let out = xinsheng(&["--model", m, "analyze", text]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("category_ngrams.json") && err.contains("`price`"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    fit();
    assert_eq!(analyze(&[])["category_scores"], after["category_scores"]);

    // Bad options: a clear usage error.
    let out = run(&["--weights", "0,1.5"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("[0, 1]"));
    let out = run(&["--sources", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no rows with categories"));
    let out = run(&["--ngram-max", "0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ngram-max"));
}

/// A prepared-corpus directory for `train-ngrams`: the written customer-service utterances, parts 1–4 as
/// training rows and part 5 as the `cs_written` dev split (each with its sentiment and emotion).
fn emotion_corpus(dir: &Path) {
    let rows = |part: u32| -> String {
        let path = root().join(format!("tests/data/cs_written/labeled_part{part}.jsonl"));
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| {
                let r: Value = serde_json::from_str(l).unwrap();
                let v = serde_json::json!({"text": r["text"], "sentiment": r["sentiment"],
                    "emotion": r["emotion"], "source": "cs_written"});
                v.to_string() + "\n"
            })
            .collect()
    };
    let train: String = (1..=4).map(rows).collect();
    std::fs::write(dir.join("train.jsonl"), train).unwrap();
    std::fs::write(dir.join("dev_cs_written.jsonl"), rows(5)).unwrap();
}

#[test]
fn head_ngrams_are_fitted_blended_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let model = tmp.path().join("model");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&model).unwrap();
    emotion_corpus(&data);
    for f in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::copy(root().join("models/default").join(f), model.join(f)).unwrap();
    }
    let (m, d) = (model.to_str().unwrap(), data.to_str().unwrap());
    let text = "我都打了五次电话了还是没人管，你们到底还想不想干了";
    let analyze = || -> Value {
        let out = xinsheng(&["--model", m, "--engine", "f32", "analyze", text]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let eval = || -> Value {
        let dev = format!("{d}/dev_cs_written.jsonl");
        let out = xinsheng(&["--model", m, "--engine", "f32", "eval", "--data", &dev]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let fit = |head: &str, extra: &[&str]| -> std::process::Output {
        let mut args = vec![
            "--model",
            m,
            "--engine",
            "f32",
            "train-ngrams",
            "--head",
            head,
            "--data",
            d,
        ];
        args.extend_from_slice(extra);
        xinsheng(&args)
    };
    // Each head in turn: the other fields of the analysis stay as they were.
    for (head, other) in [("emotion", "sentiment"), ("sentiment", "emotion")] {
        let before = analyze();
        let eval_before = eval();
        let out = fit(head, &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let training = &report["training"];
        assert_eq!(training["train_rows"]["cs_written"], 1613, "{training}");
        let grid = training["by_weight"].as_array().unwrap();
        assert_eq!(grid.len(), 11);
        // The chosen weight is the grid's best on the dev rows; at weight 0 the fit reads the network as
        // eval did before, and eval of the blended model reports exactly the chosen figure (the fit and eval
        // read the same blend, sentiment two-way or three-way alike).
        let best = grid
            .iter()
            .map(|g| g["mean_accuracy"].as_f64().unwrap())
            .fold(0.0, f64::max);
        assert_eq!(training["chosen"]["mean_accuracy"].as_f64(), Some(best));
        let network_alone = grid[0]["splits"]["cs_written"]["accuracy"]
            .as_f64()
            .unwrap();
        let net_eval = eval_before[head]["accuracy"].as_f64().unwrap();
        assert!(
            (network_alone - net_eval).abs() < 1e-3,
            "{head}: {network_alone} vs {net_eval}"
        );
        let blended = eval()[head]["accuracy"].as_f64().unwrap();
        assert!((blended - best).abs() < 1e-3, "{head}: {blended} vs {best}");

        // The analysis now reads the blended head; the other heads are untouched.
        let after = analyze();
        assert_ne!(before[head], after[head], "{head}");
        assert_eq!(before[other], after[other], "{head}");
        assert_eq!(before["category_scores"], after["category_scores"]);
    }

    // A broken file is refused with its name and the reason, never a panic; train-ngrams repairs it.
    let after = analyze();
    let path = model.join("emotion_ngrams.json");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut bad = file.clone();
    bad["labels"].as_object_mut().unwrap().remove("fear");
    std::fs::write(&path, bad.to_string()).unwrap();
    let out = xinsheng(&["--model", m, "analyze", text]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("emotion_ngrams.json") && err.contains("`fear`"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(fit("emotion", &[]).status.success());
    assert_eq!(analyze(), after);

    // Bad options and data: a clear usage error.
    let out = fit("emotion", &["--weights", "0,1.5"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("[0, 1]"));
    let out = fit("sentiment", &["--min-count", "0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--min-count"));
    let out = fit("categories", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--head"));
    std::fs::remove_file(data.join("dev_cs_written.jsonl")).unwrap();
    let out = fit("emotion", &[]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no dev rows labeled for the emotion head")
    );
}

#[test]
fn init_from_a_directory_that_is_not_a_model_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for init in [dir.path().join("missing"), empty] {
        let mut args = tiny_args(out.to_str().unwrap(), "2");
        args.extend(["--init", init.to_str().unwrap()]);
        let r = xinsheng(&args);
        let msg = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{}: {msg}", init.display());
        assert!(msg.contains("--init"), "{msg}");
    }
}
