//! End-to-end: the PII allow-list of the command line (`--pii-allow`, `XINSHENG_PII_ALLOW`,
//! `--pii-allow-file`) reaches `masked_text`, on the real binary and the shipped model.
//!
//!     cargo test --release --test pii_allow_cli

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

const TEXT: &str = "请拨打我们的热线0755-88886666，或者值班手机13800000000，我的手机13912345678";

fn masked_text(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xinsheng"));
    cmd.args(args)
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .env_remove("XINSHENG_MODEL")
        .env_remove("XINSHENG_PII_ALLOW")
        .env_remove("XINSHENG_PII_ALLOW_FILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run xinsheng");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_slice(&out.stdout).expect("analysis JSON");
    a["masked_text"].as_str().expect("masked_text").to_string()
}

#[test]
fn allow_list_from_flag_environment_and_file() {
    // Default: both company numbers are masked like any other phone number.
    assert_eq!(
        masked_text(&["analyze", "--compact", TEXT], &[]),
        "请拨打我们的热线0755-********，或者值班手机1**********，我的手机1**********"
    );
    let allowed = "请拨打我们的热线0755-88886666，或者值班手机13800000000，我的手机1**********";
    // Flag (repeatable).
    assert_eq!(
        masked_text(
            &[
                "--pii-allow",
                "0755-88886666",
                "--pii-allow",
                "138000*",
                "analyze",
                "--compact",
                TEXT
            ],
            &[]
        ),
        allowed
    );
    // Environment variable (comma-separated).
    assert_eq!(
        masked_text(
            &["analyze", "--compact", TEXT],
            &[("XINSHENG_PII_ALLOW", "075588886666,13800000000")]
        ),
        allowed
    );
    // File.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("allow.txt");
    std::fs::write(
        &file,
        "# our numbers\n0755-88886666\n13800000000  # duty phone\n",
    )
    .expect("write allow file");
    let file = file.to_str().expect("utf-8 path");
    assert_eq!(
        masked_text(
            &["analyze", "--compact", "--pii-allow-file", file, TEXT],
            &[]
        ),
        allowed
    );
}

#[test]
fn missing_allow_file_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_xinsheng"))
        .args([
            "--pii-allow-file",
            "no/such/allow-list.txt",
            "analyze",
            "谢谢",
        ])
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .env_remove("XINSHENG_MODEL")
        .output()
        .expect("run xinsheng");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("allow-list.txt"));
}
