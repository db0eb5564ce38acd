//! The PostgreSQL history backend against a real server. Needs `--features postgres` and
//! `XINSHENG_TEST_POSTGRES_URL` (`.ci/run` starts a server and sets it). Without the URL the tests print a
//! loud skip message — unless `XINSHENG_REQUIRE_POSTGRES=1`, then they fail.

fn url() -> Option<String> {
    match std::env::var("XINSHENG_TEST_POSTGRES_URL") {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ => {
            let required = std::env::var("XINSHENG_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "XINSHENG_REQUIRE_POSTGRES=1 but XINSHENG_TEST_POSTGRES_URL is not set"
            );
            eprintln!(
                "\n*** SKIPPED: PostgreSQL history tests need XINSHENG_TEST_POSTGRES_URL \
                 (see .ci/run) ***\n"
            );
            None
        }
    }
}

#[cfg(not(feature = "postgres"))]
#[test]
fn postgres_feature_is_needed() {
    let required = std::env::var("XINSHENG_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "XINSHENG_REQUIRE_POSTGRES=1: run `cargo test --release --features postgres`"
    );
    let _ = url;
    eprintln!("\n*** SKIPPED: PostgreSQL history tests need `--features postgres` ***\n");
}

#[cfg(feature = "postgres")]
mod pg {
    use super::url;
    use serde_json::Value;
    use std::process::Command;
    use xinsheng::risk::history::{exercise_store, PostgresStore};

    fn unique(prefix: &str) -> String {
        format!(
            "{prefix}-{}-{}",
            std::process::id(),
            xinsheng::risk::history::now_ms()
        )
    }

    #[test]
    fn postgres_store_follows_the_rule() {
        let Some(url) = url() else { return };
        let mut store = PostgresStore::connect(&url).expect("connect to PostgreSQL");
        exercise_store(&mut store, &unique("pg")).unwrap();
    }

    #[test]
    fn three_negatives_across_runs_via_database_url() {
        let Some(url) = url() else { return };
        let id = unique("cli");
        let run = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_xinsheng"))
                .args(args)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .env_remove("XINSHENG_MODEL")
                .env("XINSHENG_DATABASE_URL", &url)
                .env(
                    "XINSHENG_DATA_DIR",
                    std::env::temp_dir().join("xinsheng-unused"),
                )
                .output()
                .unwrap()
        };
        for (i, text) in [
            "等了一周还没发货，太失望了",
            "客服态度非常差",
            "退款一直不到账，太差劲了",
        ]
        .iter()
        .enumerate()
        {
            let out = run(&["analyze", "--compact", "--customer-id", &id, text]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let a: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(a["customer"]["high_risk"], i == 2, "{}", a["customer"]);
        }
        let out = run(&["customer", &id]);
        let c: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(c["consecutive_negative"], 3, "{c}");
        let out = run(&["customers", "--high-risk"]);
        assert!(String::from_utf8_lossy(&out.stdout).contains(&id));
        // A wrong URL is a clear error, not a panic.
        let out = Command::new(env!("CARGO_BIN_EXE_xinsheng"))
            .args(["customer", "x"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env(
                "XINSHENG_DATABASE_URL",
                "postgres://nobody:pw@127.0.0.1:1/none",
            )
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("customer history") && !err.contains("pw@"),
            "{err}"
        );
    }
}
