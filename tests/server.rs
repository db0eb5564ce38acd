//! End-to-end tests of `xinsheng serve`: the real binary on the shipped model, over real HTTP.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Starts `xinsheng serve --port 0 ARGS` and waits until it is ready.
    fn start(args: &[&str], envs: &[(&str, &str)]) -> Server {
        Self::start_with(args, envs, Stdio::inherit())
    }

    /// `xinsheng serve --port PORT`, stdout piped, with the test environment.
    fn command(port: u16, stderr: Stdio) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xinsheng"));
        cmd.args(["serve", "--port", &port.to_string()])
            .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")))
            .env_remove("XINSHENG_MODEL")
            .env_remove("XINSHENG_API_KEYS")
            .env_remove("XINSHENG_PORT")
            .env("XINSHENG_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(stderr);
        cmd
    }

    fn start_with(args: &[&str], envs: &[(&str, &str)], stderr: Stdio) -> Server {
        let mut cmd = Self::command(0, stderr);
        cmd.args(args);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start xinsheng serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("xinsheng listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        let mut s = Server { child, base };
        s.wait_until_ready();
        s
    }

    /// Polls `/ready` until the engine answers; fails at once if the server exits, after 60 s otherwise.
    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            // 401: probes are behind the API key; the engine answers once warmed up either way.
            let status = match agent().get(&self.url("/ready")).call() {
                Ok(r) => r.status(),
                Err(ureq::Error::Status(code, _)) => code,
                // Not listening yet.
                Err(ureq::Error::Transport(_)) => 0,
            };
            if status == 200 || status == 401 {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the server exited: {status}");
            }
            assert!(Instant::now() < deadline, "server never became ready");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut r = agent().get(&self.url(path));
        for (k, v) in headers {
            r = r.set(k, v);
        }
        finish(r.call())
    }

    fn get(&self, path: &str) -> Resp {
        self.get_with(path, &[])
    }

    fn post_bytes(&self, path: &str, body: &[u8], headers: &[(&str, &str)]) -> Resp {
        let mut r = agent()
            .post(&self.url(path))
            .set("Content-Type", "application/json");
        for (k, v) in headers {
            r = r.set(k, v);
        }
        finish(r.send_bytes(body))
    }

    fn post(&self, path: &str, body: &Value) -> Resp {
        self.post_bytes(path, body.to_string().as_bytes(), &[])
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Status, headers we look at, body.
type Resp = (u16, Vec<(String, String)>, String);

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .build()
}

fn finish(r: Result<ureq::Response, ureq::Error>) -> Resp {
    let resp = match r {
        Ok(resp) => resp,
        Err(ureq::Error::Status(_, resp)) => resp,
        Err(e) => panic!("transport error: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string())))
        .collect();
    (status, headers, resp.into_string().unwrap_or_default())
}

fn header<'a>(r: &'a Resp, name: &str) -> Option<&'a str> {
    r.1.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn json_of(r: &Resp) -> Value {
    serde_json::from_str(&r.2).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.2))
}

/// Asserts an error response: status and `{"error", "kind"}`.
fn assert_error(r: &Resp, status: u16, kind: &str) -> Value {
    assert_eq!(r.0, status, "{}", r.2);
    let v = json_of(r);
    assert_eq!(v["kind"], kind, "{v}");
    assert!(!v["error"].as_str().unwrap_or("").is_empty(), "{v}");
    v
}

/// A batch that takes the model a while (long texts, many of them).
fn slow_batch(items: usize) -> Vec<u8> {
    let text: String = "我已经打了三次电话了，等了一个星期都没人处理，客服态度还特别差，"
        .chars()
        .cycle()
        .take(500)
        .collect();
    let items: Vec<Value> = (0..items).map(|_| json!({ "text": text })).collect();
    json!({ "items": items }).to_string().into_bytes()
}

/// A server whose stdout reader has gone (`xinsheng serve | …` after the reader exits, or a supervisor
/// that closed the pipe) still serves: the address line is written without `println!`, which used to
/// panic on the broken pipe before the server started.
#[test]
fn serves_when_its_stdout_reader_is_gone() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Server::command(port, Stdio::null())
        .spawn()
        .expect("start xinsheng serve");
    drop(child.stdout.take());
    let mut s = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    s.wait_until_ready();
    let (status, _, body) = s.post_bytes(
        "/v1/analyze",
        r#"{"text": "客服态度太差了"}"#.as_bytes(),
        &[],
    );
    assert_eq!(status, 200, "{body}");
}

#[test]
fn endpoints_answer_with_the_contract() {
    let s = Server::start(&[], &[]);

    let health = s.get("/health");
    assert_eq!(health.0, 200);
    assert_eq!(json_of(&health)["status"], "ok");
    let ready = s.get("/ready");
    assert_eq!(json_of(&ready)["status"], "ready");

    let r = s.post(
        "/v1/analyze",
        &json!({"text": "我已经打了三次电话了，等了一个星期都没人处理，客服态度还特别差"}),
    );
    assert_eq!(r.0, 200, "{}", r.2);
    let a = json_of(&r);
    assert_eq!(a["sentiment"]["label"], "negative", "{a}");
    for field in [
        "emotion",
        "categories",
        "category_scores",
        "risk",
        "keywords",
        "masked_text",
    ] {
        assert!(a.get(field).is_some(), "{field} missing: {a}");
    }
    for stage in ["tokenize", "queue", "inference", "postprocess"] {
        let v = header(&r, &format!("x-xinsheng-{stage}-ms")).expect("timing header");
        assert!(v.parse::<f64>().unwrap() >= 0.0);
    }

    // A conversation.
    let r = s.post(
        "/v1/analyze",
        &json!({"turns": [
            {"speaker": "customer", "text": "我的宽带又断网了"},
            {"speaker": "agent", "text": "您好，请问您的账号是多少"},
            {"speaker": "customer", "text": "我要转人工"}
        ]}),
    );
    assert_eq!(r.0, 200, "{}", r.2);
    let a = json_of(&r);
    assert_eq!(a["turns"].as_array().unwrap().len(), 3);
    assert_eq!(a["trajectory"].as_array().unwrap().len(), 2);
    // 断网 is a service outage, priority A, an escalation trigger: the bot hands off at once.
    assert_eq!(a["handoff_turn"], 0, "{a}");

    // Batch: order kept, bad items get an error in their slot.
    let r = s.post(
        "/v1/analyze/batch",
        &json!({"items": [
            {"text": "服务很好，谢谢"},
            {"text": ""},
            {"text": 5},
            {"text": "客服态度太差了，我要投诉"},
            {"turns": [{"speaker": "bot", "text": "hi"}]}
        ]}),
    );
    assert_eq!(r.0, 200, "{}", r.2);
    let results = json_of(&r)["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 5);
    assert_eq!(results[0]["sentiment"]["label"], "positive");
    assert_eq!(results[1]["kind"], "empty_text");
    assert_eq!(results[2]["kind"], "invalid_request");
    assert_eq!(results[3]["sentiment"]["label"], "negative");
    assert_eq!(results[4]["kind"], "bad_speaker");
    let empty = s.post("/v1/analyze/batch", &json!({"items": []}));
    assert_eq!(json_of(&empty)["results"], json!([]));

    // Chatbot conversation: turns one at a time.
    let first = s.post(
        "/v1/conversations/chat-1/turns",
        &json!({"speaker": "customer", "text": "在吗，我想问一下宽带续费怎么办理"}),
    );
    assert_eq!(first.0, 200, "{}", first.2);
    let c = json_of(&first);
    assert_eq!(c["turn_index"], 0);
    assert_eq!(c["handoff"], false, "{c}");
    assert!(c["mood"]["label"].is_string());
    s.post(
        "/v1/conversations/chat-1/turns",
        &json!({"speaker": "agent", "text": "您好，正在为您查询"}),
    );
    let third = s.post(
        "/v1/conversations/chat-1/turns",
        &json!({"speaker": "customer", "text": "我要转人工"}),
    );
    let c = json_of(&third);
    assert_eq!(c["turn_count"], 3, "{c}");
    assert_eq!(c["trajectory"].as_array().unwrap().len(), 2);
    assert_eq!(c["handoff_turn"], 2, "{c}");
    assert_eq!(c["handoff"], true);
    assert_eq!(c["turn"]["speaker"], "customer");
    // Another conversation is independent; a deleted one starts over.
    let other = s.post(
        "/v1/conversations/chat-2/turns",
        &json!({"speaker": "customer", "text": "谢谢你们"}),
    );
    assert_eq!(json_of(&other)["turn_count"], 1);
    assert_eq!(
        agent()
            .delete(&s.url("/v1/conversations/chat-1"))
            .call()
            .unwrap()
            .status(),
        204
    );
    let again = s.post(
        "/v1/conversations/chat-1/turns",
        &json!({"speaker": "customer", "text": "你好"}),
    );
    assert_eq!(json_of(&again)["turn_count"], 1);

    // Metrics after traffic.
    let m = s.get("/metrics");
    assert_eq!(m.0, 200);
    assert!(header(&m, "content-type")
        .unwrap()
        .starts_with("text/plain"));
    for name in [
        "xinsheng_http_requests_total{method=\"POST\",route=\"/v1/analyze\",status=\"200\"}",
        "xinsheng_stage_duration_seconds_bucket{stage=\"inference\"",
        "xinsheng_stage_duration_seconds_bucket{stage=\"queue\"",
        "xinsheng_stage_duration_seconds_bucket{stage=\"tokenize\"",
        "xinsheng_batch_bucket{unit=\"texts\"",
        "xinsheng_queue_depth 0",
        "xinsheng_sentiment_total{label=\"negative\"}",
        "xinsheng_escalations_total{reason=",
        "xinsheng_conversations_active",
    ] {
        assert!(m.2.contains(name), "{name} missing from /metrics:\n{}", m.2);
    }
    assert!(!m.2.contains("客服"), "metrics must not carry text");

    // OpenAPI document and docs page.
    let o = json_of(&s.get("/openapi.json"));
    assert!(o["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/v1/analyze",
        "/v1/analyze/batch",
        "/v1/conversations/{id}/turns",
        "/health",
        "/ready",
        "/metrics",
    ] {
        assert!(o["paths"].get(p).is_some(), "{p} missing from openapi");
    }
    assert!(o["components"]["schemas"]["AnalysisSchema"]["properties"]
        .get("category_scores")
        .is_some());
    let d = s.get("/docs");
    assert_eq!(d.0, 200);
    assert!(d.2.contains("openapi.json"));
    assert!(
        !d.2.contains("src=\"http"),
        "docs page must not load from a CDN"
    );
    // The example uses the page's own address, and Markdown `code` in descriptions is rendered.
    assert!(
        !d.2.contains("localhost:8080"),
        "a fixed port in the example"
    );
    assert!(d.2.contains("location.origin"));
    assert!(d.2.contains("<code>$1</code>"));
    assert!(
        d.2.contains("conversation_changed"),
        "retry advice for the 409"
    );
}

#[test]
fn bad_input_is_a_4xx_with_error_and_kind() {
    let s = Server::start(&["--body-limit", "4096", "--max-batch-items", "3"], &[]);
    let post = |body: &[u8]| s.post_bytes("/v1/analyze", body, &[]);
    assert_error(&post(b"{\"text\": "), 400, "malformed_json");
    assert_error(&post(b"not json"), 400, "malformed_json");
    assert_error(&post(b""), 400, "malformed_json");
    assert_error(&post(b"{\"text\": 5}"), 422, "invalid_request");
    assert_error(&post(b"{\"turns\": \"x\"}"), 422, "invalid_request");
    assert_error(&post(b"\"just a string\""), 422, "invalid_request");
    assert_error(&post(b"{}"), 422, "no_input");
    assert_error(&post(b"{\"turns\": []}"), 422, "no_input");
    assert_error(
        &post(b"{\"turns\": [{\"speaker\": \"customer\"}]}"),
        422,
        "invalid_request",
    );
    assert_error(&post(b"{\"text\": \"  \"}"), 422, "empty_text");
    assert_error(
        &post(b"{\"turns\": [{\"speaker\": \"robot\", \"text\": \"hi\"}]}"),
        422,
        "bad_speaker",
    );
    assert_error(&post(b"{\"text\": \"\xff\xfe\xe5\"}"), 400, "invalid_utf8");
    // Both a text and a conversation: refused, not one of them silently dropped.
    let both = json!({"text": "退款", "turns": [{"speaker": "customer", "text": "在吗"}]});
    let v = assert_error(&s.post("/v1/analyze", &both), 422, "text_and_turns");
    assert!(v["error"].as_str().unwrap().contains("both"), "{v}");
    // Not JSON: a multipart upload or a form is 415, saying JSON is expected. A JSON body is read
    // whatever its content type (`curl -d` sends application/x-www-form-urlencoded).
    let multipart =
        b"--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhi\r\n--XyZ--\r\n";
    let ct = |v: &'static str| [("Content-Type", v)];
    for (body, content_type) in [
        (&multipart[..], "multipart/form-data; boundary=XyZ"),
        (
            &b"{\"text\": \"hi\"}"[..],
            "multipart/form-data; boundary=XyZ",
        ),
        (
            &b"text=%E4%BD%A0%E5%A5%BD"[..],
            "application/x-www-form-urlencoded",
        ),
        (&b"hello"[..], "text/plain"),
    ] {
        let r = s.post_bytes("/v1/analyze", body, &ct(content_type));
        let v = assert_error(&r, 415, "unsupported_media_type");
        assert!(v["error"].as_str().unwrap().contains("must be JSON"), "{v}");
    }
    let form_json = s.post_bytes(
        "/v1/analyze",
        r#"{"text": "你好"}"#.as_bytes(),
        &ct("application/x-www-form-urlencoded"),
    );
    assert_eq!(form_json.0, 200, "{}", form_json.2);
    // Over the body limit: 413 naming the limit.
    let big = format!("{{\"text\": \"{}\"}}", "差".repeat(3000));
    let v = assert_error(&post(big.as_bytes()), 413, "payload_too_large");
    assert!(v["error"].as_str().unwrap().contains("4096"), "{v}");
    // Batch: not an object with items, too many items.
    let batch = |b: &[u8]| s.post_bytes("/v1/analyze/batch", b, &[]);
    assert_error(&batch(b"{\"items\": 3}"), 422, "invalid_request");
    assert_error(&batch(b"{}"), 422, "invalid_request");
    assert_error(&batch(b"{\"items\": [1, 2, 3, 4]}"), 413, "too_many_items");
    // An item or a turn written as an array is refused in its slot, not read by position.
    let v = json_of(&batch(
        "{\"items\": [[\"太慢了\"], {\"turns\": [[\"customer\", \"在吗\"]]}, {\"text\": \"太慢了\"}]}"
            .as_bytes(),
    ));
    for bad in &v["results"].as_array().unwrap()[..2] {
        assert_eq!(bad["kind"], "invalid_request", "{v}");
        assert!(
            bad["error"].as_str().unwrap().contains("a JSON object"),
            "{v}"
        );
    }
    assert!(v["results"][2]["sentiment"].is_object(), "{v}");
    assert_error(
        &post("{\"turns\": [[\"customer\", \"在吗\"]]}".as_bytes()),
        422,
        "invalid_request",
    );
    // Conversation turns.
    let turn = |b: &[u8]| s.post_bytes("/v1/conversations/x/turns", b, &[]);
    assert_error(&turn(b"{\"text\": \"hi\"}"), 422, "invalid_request");
    assert_error(
        &turn(b"{\"speaker\": \"customer\", \"text\": \"\"}"),
        422,
        "empty_text",
    );
    assert_error(
        &turn(b"{\"speaker\": 1, \"text\": \"a\"}"),
        422,
        "invalid_request",
    );
    // Routes and methods.
    assert_error(&s.get("/v2/nothing"), 404, "not_found");
    assert_error(&s.get("/v1/analyze"), 405, "method_not_allowed");
    // Still healthy, and nothing above was a 5xx.
    assert_eq!(s.get("/health").0, 200);
    let m = s.get("/metrics").2;
    let server_errors = m
        .lines()
        .any(|l| l.contains("route=\"/v1") && l.contains("status=\"5"));
    assert!(!server_errors, "a 5xx was served:\n{m}");
}

#[test]
fn default_body_limit_is_one_mebibyte() {
    use std::io::{Read, Write};
    let s = Server::start(&[], &[]);
    let big = format!("{{\"text\": \"{}\"}}", "a".repeat(1024 * 1024 + 10));
    // Sent chunked (no length declared): refused while being read, once past the limit.
    let chunked = finish(
        agent()
            .post(&s.url("/v1/analyze"))
            .set("Content-Type", "application/json")
            .send(std::io::Cursor::new(big.clone().into_bytes())),
    );
    let v = assert_error(&chunked, 413, "payload_too_large");
    assert!(v["error"].as_str().unwrap().contains("1048576"), "{v}");
    // With its length declared: refused before the body is read. The client reads the reply without
    // sending the body (as curl does with `Expect: 100-continue`); a client that insists on writing the
    // whole body may find the connection already closed.
    let mut c = std::net::TcpStream::connect(s.base.trim_start_matches("http://")).unwrap();
    let head = format!(
        "POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        big.len()
    );
    c.write_all(head.as_bytes()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut reply = Vec::new();
    let _ = c.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(
        reply.contains("payload_too_large") && reply.contains("1048576"),
        "{reply}"
    );
    // Under the body limit but over the per-text limit.
    let long = json!({ "text": "差".repeat(20_001) });
    assert_error(&s.post("/v1/analyze", &long), 422, "text_too_long");
}

#[test]
fn logs_never_carry_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let s = Server::start_with(
        &["--log-json"],
        &[("XINSHENG_LOG", "debug")],
        Stdio::from(std::fs::File::create(&log).unwrap()),
    );
    let text = "我叫张三，电话13812345678，客服态度太差了";
    assert_eq!(s.post("/v1/analyze", &json!({ "text": text })).0, 200);
    s.post(
        "/v1/analyze",
        &json!({ "turns": [{"speaker": "robot", "text": text}] }),
    );
    s.post(
        "/v1/conversations/c/turns",
        &json!({"speaker": "customer", "text": text}),
    );
    s.post_bytes("/v1/analyze", text.as_bytes(), &[]);
    drop(s);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("\"route\":\"/v1/analyze\""), "{logged}");
    for secret in ["张三", "13812345678", "客服态度"] {
        assert!(!logged.contains(secret), "log carries text: {logged}");
    }
}

#[test]
fn conversations_expire_after_their_ttl() {
    let s = Server::start(
        &[
            "--conversation-ttl-secs",
            "1",
            "--conversation-max-turns",
            "2",
        ],
        &[],
    );
    let turn = json!({"speaker": "customer", "text": "在吗"});
    assert_eq!(
        json_of(&s.post("/v1/conversations/t/turns", &turn))["turn_count"],
        1
    );
    assert_eq!(
        json_of(&s.post("/v1/conversations/t/turns", &turn))["turn_count"],
        2
    );
    assert_error(
        &s.post("/v1/conversations/t/turns", &turn),
        422,
        "conversation_full",
    );
    std::thread::sleep(Duration::from_millis(1300));
    let r = s.post("/v1/conversations/t/turns", &turn);
    assert_eq!(
        json_of(&r)["turn_count"],
        1,
        "an expired conversation starts over"
    );
}

#[test]
fn saturation_gives_429_with_retry_after_and_timeouts_503() {
    // 128 × 500 characters: over the default --max-request-chars, raised to keep the request slow.
    let s = Server::start(
        &["--max-concurrent", "1", "--max-request-chars", "100000"],
        &[],
    );
    let url = s.url("/v1/analyze/batch");
    let body = slow_batch(128);
    let slow = std::thread::spawn(move || {
        finish(
            agent()
                .post(&url)
                .set("Content-Type", "application/json")
                .send_bytes(&body),
        )
    });
    // Once the slow request holds the only slot, others are refused at once.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !s
        .get("/metrics")
        .2
        .contains("xinsheng_in_flight_requests 1")
    {
        assert!(!slow.is_finished(), "the slow request ended early");
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(2));
    }
    let rejected = s.post("/v1/analyze", &json!({"text": "你好"}));
    assert!(!slow.is_finished(), "the slow request ended too soon");
    assert_error(&rejected, 429, "overloaded");
    assert_eq!(header(&rejected, "retry-after"), Some("1"));
    // Probes are not limited.
    assert_eq!(s.get("/health").0, 200);
    let done = slow.join().unwrap();
    assert_eq!(done.0, 200, "{}", &done.2[..done.2.len().min(300)]);
    assert_eq!(json_of(&done)["results"].as_array().unwrap().len(), 128);
    // Served again once the slot is free.
    assert_eq!(s.post("/v1/analyze", &json!({"text": "你好"})).0, 200);
    drop(s);

    let s = Server::start(
        &[
            "--request-timeout-ms",
            "50",
            "--max-request-chars",
            "100000",
        ],
        &[],
    );
    let r = s.post_bytes("/v1/analyze/batch", &slow_batch(128), &[]);
    assert_error(&r, 503, "timeout");
    assert_eq!(s.get("/ready").0, 200);
}

#[test]
fn api_keys_protect_the_api_but_not_the_probes() {
    let s = Server::start(&["--api-key", "k1", "--api-key", "k2"], &[]);
    let body = r#"{"text": "你好"}"#.as_bytes();
    assert_error(&s.post_bytes("/v1/analyze", body, &[]), 401, "unauthorized");
    assert_error(
        &s.post_bytes("/v1/analyze", body, &[("Authorization", "Bearer nope")]),
        401,
        "unauthorized",
    );
    assert_error(
        &s.post_bytes("/v1/analyze", body, &[("Authorization", "k1")]),
        401,
        "unauthorized",
    );
    // The scheme is case-insensitive (RFC 7235); the key is not.
    for auth in ["bearer k1", "BEARER k2"] {
        let r = s.post_bytes("/v1/analyze", body, &[("Authorization", auth)]);
        assert_eq!(r.0, 200, "{auth}: {}", r.2);
    }
    assert_error(
        &s.post_bytes("/v1/analyze", body, &[("Authorization", "Bearer K1")]),
        401,
        "unauthorized",
    );
    for key in ["k1", "k2"] {
        let auth = format!("Bearer {key}");
        let r = s.post_bytes("/v1/analyze", body, &[("Authorization", auth.as_str())]);
        assert_eq!(r.0, 200, "{}", r.2);
    }
    for open in ["/health", "/metrics", "/openapi.json"] {
        assert_eq!(s.get(open).0, 200, "{open}");
    }
    drop(s);

    // Keys from the environment (comma-separated), probes protected too.
    let s = Server::start(
        &["--protect-probes"],
        &[("XINSHENG_API_KEYS", "alpha,beta")],
    );
    assert_error(&s.get("/metrics"), 401, "unauthorized");
    assert_eq!(
        s.get_with("/metrics", &[("Authorization", "Bearer beta")])
            .0,
        200
    );
    let r = s.post_bytes("/v1/analyze", body, &[("Authorization", "Bearer alpha")]);
    assert_eq!(r.0, 200, "{}", r.2);
}

#[cfg(unix)]
#[test]
fn sigterm_drains_in_flight_requests() {
    let mut s = Server::start(&["--max-request-chars", "100000"], &[]);
    let url = s.url("/v1/analyze/batch");
    let body = slow_batch(128);
    let started = Instant::now();
    let slow = std::thread::spawn(move || {
        finish(
            agent()
                .post(&url)
                .set("Content-Type", "application/json")
                .send_bytes(&body),
        )
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(!slow.is_finished(), "the request should still be in flight");
    let killed = Command::new("kill")
        .args(["-TERM", &s.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let done = slow.join().unwrap();
    assert_eq!(done.0, 200, "in-flight request must complete");
    assert_eq!(json_of(&done)["results"].as_array().unwrap().len(), 128);
    // The process then exits cleanly, by itself.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "server did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(60));
    // Nothing listens any more.
    assert!(agent().get(&s.url("/health")).call().is_err());
}

/// The pipelined API (prepare → model → finish) gives the same analyses as `analyze_batch`.
#[test]
fn prepare_and_finish_match_analyze_batch() {
    use xinsheng::analysis::{Analyzer, Request, Turn};
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/default");
    let analyzer = Analyzer::load(&dir, &candle_core::Device::Cpu).unwrap();
    let reqs = vec![
        Request::text("等了一个星期都没人处理，客服态度还特别差"),
        Request::text("谢谢，问题已经解决了"),
        Request {
            text: None,
            customer_id: None,
            turns: Some(vec![
                Turn {
                    speaker: "customer".into(),
                    text: "又断网了".into(),
                },
                Turn {
                    speaker: "agent".into(),
                    text: "正在为您处理".into(),
                },
            ]),
        },
    ];
    let expected = analyzer.analyze_batch(&reqs);
    for (req, want) in reqs.iter().zip(expected) {
        let mut p = analyzer.prepare(req).unwrap();
        let ids = std::mem::take(&mut p.ids);
        let refs: Vec<&[u32]> = ids.iter().map(Vec::as_slice).collect();
        let probs = analyzer.model.predict_encoded(&refs).unwrap();
        let got = analyzer.finish(p, &probs);
        let (got, want) = (
            serde_json::to_value(&got).unwrap(),
            serde_json::to_value(want.unwrap()).unwrap(),
        );
        // Batch composition changes padding, hence float noise in the last digit at most.
        assert_eq!(got["sentiment"]["label"], want["sentiment"]["label"]);
        let (mut gr, mut wr) = (got["risk"].clone(), want["risk"].clone());
        let (gs, ws) = (
            gr["score"].take().as_f64().unwrap(),
            wr["score"].take().as_f64().unwrap(),
        );
        // Four decimals each: float noise may cross a rounding boundary, one ten-thousandth apart.
        assert!((gs - ws).abs() < 1.5e-4, "risk score {gs} vs {ws}");
        assert_eq!(gr, wr);
        assert_eq!(got["keywords"], want["keywords"]);
        assert_eq!(got["masked_text"], want["masked_text"]);
        assert_eq!(got["handoff_turn"], want["handoff_turn"]);
        let (a, b) = (
            got["sentiment"]["score"].as_f64().unwrap(),
            want["sentiment"]["score"].as_f64().unwrap(),
        );
        assert!((a - b).abs() < 1e-3, "{a} vs {b}");
    }
}

#[test]
fn customer_history_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    let negatives = [
        "快递一个星期了还没到，太慢了",
        "客服态度太差了，问什么都不知道",
        "退款拖了半个月还没到账，非常失望",
    ];
    {
        let s = Server::start(&["--data-dir", &data], &[]);
        assert_error(&s.get("/v1/customers/c-http"), 404, "not_found");
        assert_eq!(
            json_of(&s.get("/v1/customers")),
            json!({"customers": [], "truncated": false})
        );
        // Two contacts on /v1/analyze ...
        for (i, text) in negatives[..2].iter().enumerate() {
            let r = s.post(
                "/v1/analyze",
                &json!({"text": text, "customer_id": "c-http"}),
            );
            assert_eq!(r.0, 200, "{}", r.2);
            let a = json_of(&r);
            assert_eq!(a["customer"]["contacts"], i as u64 + 1, "{a}");
            assert_eq!(a["customer"]["high_risk"], false);
        }
        let r = s.get("/v1/customers/c-http");
        assert_eq!(r.0, 200, "{}", r.2);
        assert_eq!(json_of(&r)["consecutive_negative"], 2);
        // A bad customer id is a 422 before any analysis.
        let long = "x".repeat(200);
        assert_error(
            &s.post("/v1/analyze", &json!({"text": "你好", "customer_id": long})),
            422,
            "invalid_request",
        );
        let doc = json_of(&s.get("/openapi.json"));
        assert!(doc["paths"]["/v1/customers/{id}"]["get"].is_object());
    }
    // ... and the third in a batch after a restart: the SQLite file keeps the history.
    let s = Server::start(&[], &[("XINSHENG_DATA_DIR", data.as_str())]);
    let r = s.post(
        "/v1/analyze/batch",
        &json!({"items": [
            {"text": negatives[2], "customer_id": "c-http"},
            {"text": "你好"},
            {"text": "你好", "customer_id": ""}
        ]}),
    );
    assert_eq!(r.0, 200, "{}", r.2);
    let results = json_of(&r)["results"].clone();
    let c = &results[0]["customer"];
    assert_eq!(c["contacts"], 3, "{c}");
    assert_eq!(c["high_risk"], true, "{c}");
    assert!(results[0]["risk"]["reasons"]
        .as_array()
        .unwrap()
        .contains(&json!("repeat_contact")));
    assert!(results[1].get("customer").is_none());
    assert_eq!(results[2]["kind"], "invalid_request");
    let c = json_of(&s.get("/v1/customers/c-http"));
    assert_eq!(
        (c["high_risk"].clone(), c["contacts"].clone()),
        (json!(true), json!(3))
    );
    // The listing: everyone, or the high-risk ones; a calm second customer is only in the first.
    let r = s.post(
        "/v1/analyze",
        &json!({"text": "收到了，谢谢", "customer_id": "c-calm"}),
    );
    assert_eq!(r.0, 200, "{}", r.2);
    let ids = |v: &Value| -> Vec<String> {
        v["customers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    let all = json_of(&s.get("/v1/customers"));
    assert_eq!(ids(&all), ["c-calm", "c-http"], "{all}");
    assert_eq!(all["truncated"], false);
    assert_eq!(
        ids(&json_of(&s.get("/v1/customers?high_risk=true"))),
        ["c-http"]
    );
    let one = json_of(&s.get("/v1/customers?limit=1"));
    assert_eq!(
        (ids(&one).len(), one["truncated"].clone()),
        (1, json!(true))
    );
    for bad in ["?limit=0", "?high_risk=maybe", "?highrisk=1"] {
        assert_error(
            &s.get(&format!("/v1/customers{bad}")),
            422,
            "invalid_request",
        );
    }
    let doc = json_of(&s.get("/openapi.json"));
    assert!(doc["paths"]["/v1/customers"]["get"].is_object());
}

#[test]
fn a_silent_or_trickling_client_is_disconnected_after_the_header_timeout() {
    use std::io::{Read, Write};
    let server = Server::start(&["--header-timeout-secs", "1"], &[]);
    let addr = server.base.trim_start_matches("http://").to_string();
    let closed_within = |mut conn: std::net::TcpStream, trickle: bool| {
        conn.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 512];
        let mut sent = 0;
        let request = b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\n";
        loop {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "still open after 15 s"
            );
            if trickle && sent < request.len() && conn.write_all(&request[sent..=sent]).is_ok() {
                sent += 1;
            }
            match conn.read(&mut buf) {
                Ok(0) => return started.elapsed(),
                Ok(_) => {} // a 408 or similar before the close
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return started.elapsed(), // reset
            }
        }
    };
    let silent = std::net::TcpStream::connect(&addr).unwrap();
    let t = closed_within(silent, false);
    assert!(t >= Duration::from_millis(800), "closed too early: {t:?}");
    let trickling = std::net::TcpStream::connect(&addr).unwrap();
    closed_within(trickling, true);
    // A keep-alive client that sends whole requests is served as before.
    let r = server.post("/v1/analyze", &json!({"text": "等了一个星期都没人处理"}));
    assert_eq!(r.0, 200, "{}", r.2);
}

#[test]
fn a_turn_that_timed_out_is_not_kept_so_its_retry_is_not_a_duplicate() {
    // A turn of 4,400 characters is read in about 40 windows, far longer than 1 ms (a short turn
    // sometimes finished within 1 ms on the int8 engine), so every turn gets a 503; deleting answers at
    // once.
    let s = Server::start(&["--request-timeout-ms", "1"], &[]);
    let long = "等了一个星期都没人处理".repeat(400);
    for _ in 0..2 {
        let r = s.post(
            "/v1/conversations/retry-1/turns",
            &json!({"speaker": "customer", "text": long}),
        );
        assert_eq!(r.0, 503, "{}", r.2);
        assert_eq!(json_of(&r)["kind"], "timeout");
    }
    let gone = finish(agent().delete(&s.url("/v1/conversations/retry-1")).call());
    assert_eq!(gone.0, 404, "no turn was kept: {}", gone.2);
    assert_eq!(
        json_of(&gone)["error"],
        "no conversation retry-1",
        "{}",
        gone.2
    );
    // Ids with control characters are refused.
    let bad = s.post(
        "/v1/conversations/a%0Ab/turns",
        &json!({"speaker": "customer", "text": "你好"}),
    );
    assert_eq!(bad.0, 422, "{}", bad.2);
    assert_eq!(json_of(&bad)["kind"], "invalid_request");
}

#[test]
fn requests_hyper_cannot_parse_get_the_json_error_body() {
    use std::io::{Read, Write};
    let server = Server::start(&[], &[]);
    let addr = server.base.trim_start_matches("http://").to_string();
    // Sends raw bytes and reads the reply until the server closes the connection.
    let raw = |request: &[u8]| -> (u16, String, Value) {
        let mut conn = std::net::TcpStream::connect(&addr).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        // The server may answer and close before the whole request is written.
        let _ = conn.write_all(request);
        let mut reply = Vec::new();
        let _ = conn.read_to_end(&mut reply);
        let reply = String::from_utf8(reply).unwrap();
        let (head, body) = reply.split_once("\r\n\r\n").expect(&reply);
        let status = head[9..12].parse().unwrap();
        let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {reply}"));
        (status, head.to_ascii_lowercase(), body)
    };
    let long_uri = [
        b"GET /".as_slice(),
        &vec![b'a'; 70_000],
        b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    .concat();
    let big_head = [
        b"GET /health HTTP/1.1\r\nHost: x\r\n".as_slice(),
        &b"X-Filler: 0123456789012345678901234567890123456789\r\n".repeat(12_000),
        b"\r\n",
    ]
    .concat();
    let cases: [(&[u8], u16, &str); 4] = [
        (&long_uri, 414, "uri_too_long"),
        (&big_head, 431, "headers_too_large"),
        (b"GET / HTTP/1.1\r\nHost x\r\n\r\n", 400, "malformed_http"),
        (
            b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}",
            400,
            "malformed_http",
        ),
    ];
    for (request, status, kind) in cases {
        let (got, head, body) = raw(request);
        assert_eq!(got, status, "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        assert_eq!(body["kind"], kind, "{body}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    // The service's own 400 is unchanged, and the server keeps serving.
    let r = server.post_bytes("/v1/analyze", b"{not json", &[]);
    assert_error(&r, 400, "malformed_json");
    let r = server.post("/v1/analyze", &json!({"text": "等了一个星期都没人处理"}));
    assert_eq!(r.0, 200, "{}", r.2);
}

/// Clients that send headers and part of a body, then stall, hold no concurrency slot: the body is read
/// before a slot is taken, and a body that does not arrive within --body-timeout-ms gets 408.
#[test]
fn stalled_bodies_hold_no_slot_and_time_out_with_408() {
    use std::io::{Read, Write};
    let s = Server::start(&["--max-concurrent", "2", "--body-timeout-ms", "1500"], &[]);
    let addr = s.base.trim_start_matches("http://").to_string();
    // Three times the slots: each promises 100 bytes and sends 10.
    let stalled: Vec<std::net::TcpStream> = (0..6)
        .map(|_| {
            let mut c = std::net::TcpStream::connect(&addr).unwrap();
            c.write_all(
                b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                  Content-Length: 100\r\n\r\n{\"text\":\"x",
            )
            .unwrap();
            c
        })
        .collect();
    // Another client is served while they stall (before, every slot was held: 429 for everyone).
    for _ in 0..3 {
        let r = s.post("/v1/analyze", &json!({"text": "等了一个星期都没人处理"}));
        assert_eq!(r.0, 200, "{}", r.2);
    }
    // Each stalled request is answered 408 `body_timeout` and its connection closed.
    for mut c in stalled {
        c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut reply = Vec::new();
        let _ = c.read_to_end(&mut reply);
        let reply = String::from_utf8(reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
        let body: Value = serde_json::from_str(reply.split_once("\r\n\r\n").unwrap().1).unwrap();
        assert_eq!(body["kind"], "body_timeout", "{body}");
        assert!(
            body["error"].as_str().unwrap().contains("1500 ms"),
            "{body}"
        );
    }
    // A body that is declared over the limit is refused before it is read.
    let mut c = std::net::TcpStream::connect(&addr).unwrap();
    c.write_all(b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n{")
        .unwrap();
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut reply = Vec::new();
    let _ = c.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.contains("payload_too_large"), "{reply}");
}

/// The work of one request is capped: turns per conversation (as for chatbot conversations), texts per
/// batch, and the characters the model reads, so no request within the limits is bound to time out.
#[test]
fn the_work_of_one_request_is_capped() {
    let s = Server::start(
        &[
            "--conversation-max-turns",
            "3",
            "--max-request-chars",
            "100",
            "--max-batch-items",
            "5",
        ],
        &[],
    );
    let turns = |n: usize, text: &str| -> Value {
        (0..n)
            .map(|_| json!({"speaker": "customer", "text": text}))
            .collect()
    };
    let v = assert_error(
        &s.post("/v1/analyze", &json!({ "turns": turns(4, "在吗") })),
        413,
        "too_many_turns",
    );
    assert!(v["error"].as_str().unwrap().contains("limit is 3"), "{v}");
    assert_eq!(
        s.post("/v1/analyze", &json!({ "turns": turns(3, "在吗") }))
            .0,
        200
    );
    // Characters: a text of 101; a conversation whose customer turns (counted twice) make 120.
    let v = assert_error(
        &s.post("/v1/analyze", &json!({ "text": "差".repeat(101) })),
        413,
        "too_much_text",
    );
    assert!(v["error"].as_str().unwrap().contains("101"), "{v}");
    assert_error(
        &s.post(
            "/v1/analyze",
            &json!({ "turns": turns(2, &"慢".repeat(30)) }),
        ),
        413,
        "too_much_text",
    );
    assert_eq!(
        s.post("/v1/analyze", &json!({ "text": "差".repeat(100) }))
            .0,
        200
    );
    // A text over the per-text limit is still `text_too_long`, whatever the request cap.
    assert_error(
        &s.post("/v1/analyze", &json!({ "text": "差".repeat(20_001) })),
        422,
        "text_too_long",
    );
    // Batches: characters added up over the items; texts counted with a conversation's turns.
    let items = |v: Vec<Value>| json!({ "items": v });
    assert_error(
        &s.post(
            "/v1/analyze/batch",
            &items(vec![
                json!({"text": "差".repeat(60)}),
                json!({"text": "差".repeat(60)}),
            ]),
        ),
        413,
        "too_much_text",
    );
    assert_error(
        &s.post(
            "/v1/analyze/batch",
            &items(vec![
                json!({"turns": turns(3, "好")}),
                json!({"turns": turns(3, "好")}),
            ]),
        ),
        413,
        "too_many_items",
    );
    // An item over the turn cap, or with both text and turns, gets the error in its slot.
    let r = s.post(
        "/v1/analyze/batch",
        &items(vec![
            json!({"turns": turns(4, "好")}),
            json!({"text": "好", "turns": turns(1, "好")}),
            json!({"text": "太慢了"}),
        ]),
    );
    assert_eq!(r.0, 200, "{}", r.2);
    let v = json_of(&r);
    assert_eq!(v["results"][0]["kind"], "too_many_turns", "{v}");
    assert_eq!(v["results"][1]["kind"], "text_and_turns", "{v}");
    assert!(v["results"][2]["sentiment"].is_object(), "{v}");
    // A chatbot conversation is capped the same way: each turn re-analyzes all of it.
    let turn = |text: &str| {
        s.post(
            "/v1/conversations/cap/turns",
            &json!({"speaker": "customer", "text": text}),
        )
    };
    assert_eq!(turn(&"慢".repeat(30)).0, 200);
    let v = assert_error(&turn(&"慢".repeat(30)), 422, "conversation_full");
    assert!(
        v["error"].as_str().unwrap().contains("120 characters"),
        "{v}"
    );
    assert_eq!(turn("好").0, 200, "a shorter turn still fits");
    drop(s);

    // The defaults refuse a request the model could not finish in time, before running it: three texts
    // at the 20,000-character limit.
    let s = Server::start(&[], &[]);
    let items: Vec<Value> = (0..3)
        .map(|_| json!({"text": "我很生气".repeat(5000)}))
        .collect();
    let v = assert_error(
        &s.post("/v1/analyze/batch", &json!({ "items": items })),
        413,
        "too_much_text",
    );
    assert!(v["error"].as_str().unwrap().contains("40000"), "{v}");
}

/// The inference thread takes one text of each waiting request in turn, so a short request is answered
/// while a large one that arrived first is still being worked through.
#[test]
fn a_short_request_is_not_held_behind_a_large_one() {
    let s = Server::start(&[], &[]);
    let url = s.url("/v1/analyze/batch");
    // 64 × 500 characters (256 windows), within the default caps.
    let body = slow_batch(64);
    let large = std::thread::spawn(move || {
        finish(
            agent()
                .post(&url)
                .set("Content-Type", "application/json")
                .send_bytes(&body),
        )
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while !s
        .get("/metrics")
        .2
        .contains("xinsheng_in_flight_requests 1")
    {
        assert!(!large.is_finished(), "the large request ended early");
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(2));
    }
    let short = s.post("/v1/analyze", &json!({"text": "你好"}));
    assert_eq!(short.0, 200, "{}", short.2);
    assert!(
        !large.is_finished(),
        "the short request waited for the whole large one"
    );
    let done = large.join().unwrap();
    assert_eq!(done.0, 200, "{}", &done.2[..done.2.len().min(300)]);
    assert_eq!(json_of(&done)["results"].as_array().unwrap().len(), 64);
}

/// A port that is taken: the error names the address.
#[test]
fn a_bind_error_names_the_address() {
    let s = Server::start(&[], &[]);
    let port: u16 = s.base.rsplit(':').next().unwrap().parse().unwrap();
    let out = Server::command(port, Stdio::piped()).output().unwrap();
    assert!(!out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{err}"
    );
}
