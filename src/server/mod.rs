//! `xinsheng serve`: the HTTP API (axum + tokio). Routes and middleware are here; the engine that runs
//! the model off the async runtime is in [`engine`], the error table in [`error`], the request and
//! response types in [`types`].
//!
//! Middleware, outermost first: metrics + request log (every route) → for `/v1/*`: API key (when keys
//! are configured) → body read (the whole body, within `--body-timeout-ms`, else 408; bodies above the
//! limit are refused with 413 while being read) → concurrency limit (429 + `Retry-After` when full, never
//! an unbounded queue) → request timeout (503). The body is read before a concurrency slot is taken, so
//! clients that send headers and then stall hold no slot.

pub mod auth;
pub mod conversations;
pub mod customers;
pub mod engine;
pub mod error;
mod listen;
pub mod metrics;
mod parse_errors;
pub mod types;

use crate::analysis::{Analyzer, Request as AnalysisRequest, Turn};
use crate::config::ServeArgs;
use crate::json_object::Object;
use auth::ApiKeys;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, MatchedPath, Path, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use conversations::Conversations;
use engine::{Engine, EngineConfig, Timings};
use error::{ApiError, ErrorBody, ErrorKind};
use metrics::Metrics;
use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use types::*;
use utoipa::OpenApi;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub metrics: Arc<Metrics>,
    pub conversations: Arc<Conversations>,
    pub history: Arc<crate::risk::history::History>,
    limiter: Arc<Semaphore>,
    max_concurrent: usize,
    body_limit: usize,
    max_batch_items: usize,
    /// Most characters the model reads for one request (`--max-request-chars`).
    max_request_chars: usize,
    /// Most turns in one conversation of `/v1/analyze` or a batch item.
    max_turns: usize,
    timeout: Duration,
    body_timeout: Duration,
    model: Arc<str>,
    draining: Arc<AtomicBool>,
}

/// A JSON body whose every failure is an [`ApiError`]: 413 over the body limit, 400 for invalid UTF-8
/// or malformed JSON, 422 for a wrong type or a missing field, 415 for a multipart body or a body that is
/// not JSON under a content type that is not JSON (a form). A JSON body is accepted under any content
/// type, so `curl -d '{…}'` (which says `application/x-www-form-urlencoded`) works.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let media = media_type(req.headers());
        if let Some(m) = media.as_deref().filter(|m| m.starts_with("multipart/")) {
            return Err(ApiError::UnsupportedMediaType(format!(
                "the request body must be JSON (Content-Type: application/json), not {m}"
            )));
        }
        let bytes = read_bytes(req, state).await?;
        parse_json(&bytes)
            .map(JsonBody)
            .map_err(|e| match (e, media) {
                (e @ (ApiError::MalformedJson(_) | ApiError::InvalidUtf8(_)), Some(m))
                    if !is_json(&m) =>
                {
                    ApiError::UnsupportedMediaType(format!(
                    "the request body must be JSON (Content-Type: application/json); this one is \
                     {m} and not JSON: {e}"
                ))
                }
                (e, _) => e,
            })
    }
}

/// The body's media type (`Content-Type` without parameters, lower case), if given.
fn media_type(headers: &axum::http::HeaderMap) -> Option<String> {
    let v = headers.get(header::CONTENT_TYPE)?;
    let v = String::from_utf8_lossy(v.as_bytes());
    let m = v
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    (!m.is_empty()).then(|| m.chars().take(100).collect())
}

fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}

/// The whole body (413 over the body limit).
async fn read_bytes(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit: state.body_limit,
            }
        } else {
            ApiError::BadBody(r.body_text())
        }
    })
}

/// 413 when a conversation has more turns than `--conversation-max-turns`.
fn check_turns(st: &AppState, r: &AnalyzeRequest) -> Result<(), ApiError> {
    let got = r.turns.as_ref().map_or(0, Vec::len);
    if got > st.max_turns {
        return Err(ApiError::TooManyTurns {
            got,
            limit: st.max_turns,
        });
    }
    Ok(())
}

/// 413 when the model would read more characters for a request than `--max-request-chars`
/// ([`AnalysisRequest::model_chars`]: every text and turn, a conversation's customer turns twice).
fn check_chars(st: &AppState, got: usize) -> Result<(), ApiError> {
    if got > st.max_request_chars {
        return Err(ApiError::TooMuchText {
            got,
            limit: st.max_request_chars,
        });
    }
    Ok(())
}

/// Parses a JSON body, sorting failures into the error classes of the API.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(ApiError::InvalidUtf8(format!(
            "invalid byte sequence at offset {}",
            e.valid_up_to()
        )));
    }
    let classify = |e: serde_json::Error| match e.classify() {
        serde_json::error::Category::Data => ApiError::InvalidRequest(e.to_string()),
        _ => ApiError::MalformedJson(e.to_string()),
    };
    // Every request body is an object; serde would also read a struct from an array by position.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(classify)?;
        return Err(ApiError::InvalidRequest(
            "the request body must be a JSON object".into(),
        ));
    }
    serde_json::from_slice(bytes).map_err(classify)
}

fn ms(d: Duration) -> HeaderValue {
    HeaderValue::from_str(&format!("{:.3}", d.as_secs_f64() * 1000.0))
        .unwrap_or(HeaderValue::from_static("0"))
}

/// Per-stage timings as response headers.
fn with_timings(mut resp: Response, t: &Timings) -> Response {
    let h = resp.headers_mut();
    h.insert("x-xinsheng-tokenize-ms", ms(t.tokenize));
    h.insert("x-xinsheng-queue-ms", ms(t.queue));
    h.insert("x-xinsheng-inference-ms", ms(t.inference));
    h.insert("x-xinsheng-postprocess-ms", ms(t.postprocess));
    resp
}

/// Analyze one text or conversation.
///
/// Body: `{"text": "..."}` or `{"turns": [{"speaker": "customer"|"agent", "text": "..."}]}`. The response
/// carries per-stage timings in `x-xinsheng-{tokenize,queue,inference,postprocess}-ms` headers.
#[utoipa::path(post, path = "/v1/analyze", request_body = AnalyzeRequest,
    responses(
        (status = 200, description = "The analysis", body = AnalysisSchema),
        (status = 400, description = "Malformed JSON or invalid UTF-8", body = ErrorBody),
        (status = 401, description = "Missing or wrong API key", body = ErrorBody),
        (status = 408, description = "The body did not arrive within `--body-timeout-ms`", body = ErrorBody),
        (status = 413, description = "Body over the limit, more turns than `--conversation-max-turns`, or more characters than `--max-request-chars`", body = ErrorBody),
        (status = 415, description = "A body that is not JSON (a form or multipart upload)", body = ErrorBody),
        (status = 422, description = "Wrong types, missing text, both `text` and `turns`, empty text, text over 20,000 characters, bad speaker", body = ErrorBody),
        (status = 429, description = "Too many requests in flight (see Retry-After)", body = ErrorBody),
        (status = 503, description = "Timeout, not ready or shutting down", body = ErrorBody),
    ))]
async fn analyze(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<AnalyzeRequest>,
) -> Result<Response, ApiError> {
    customers::check(req.customer_id.as_deref())?;
    check_turns(&st, &req)?;
    let customer = req.customer_id.clone();
    let req = AnalysisRequest::from(req);
    check_chars(&st, req.model_chars())?;
    let (mut results, timings) = st.engine.analyze(vec![req]).await;
    let mut analysis = results
        .pop()
        .ok_or_else(|| ApiError::Internal("no result".into()))??;
    if let Some(id) = customer {
        customers::record(&st, &id, &mut analysis).await?;
    }
    Ok(with_timings(Json(analysis).into_response(), &timings))
}

/// Analyze many texts or conversations; results in the order of `items`.
///
/// A bad item gets `{"error", "kind"}` in its slot; the other items are analyzed. A batch holds at most
/// `--max-batch-items` texts (a conversation counts as its number of turns) and `--max-request-chars`
/// characters in all.
#[utoipa::path(post, path = "/v1/analyze/batch", request_body = BatchRequest,
    responses(
        (status = 200, description = "One result per item, in order", body = BatchResponse),
        (status = 400, description = "Malformed JSON or invalid UTF-8", body = ErrorBody),
        (status = 401, description = "Missing or wrong API key", body = ErrorBody),
        (status = 408, description = "The body did not arrive within `--body-timeout-ms`", body = ErrorBody),
        (status = 413, description = "Body over the limit, too many texts, or too many characters in all", body = ErrorBody),
        (status = 415, description = "A body that is not JSON (a form or multipart upload)", body = ErrorBody),
        (status = 422, description = "No `items` list", body = ErrorBody),
        (status = 429, description = "Too many requests in flight (see Retry-After)", body = ErrorBody),
        (status = 503, description = "Timeout, not ready or shutting down", body = ErrorBody),
    ))]
async fn analyze_batch(
    State(st): State<AppState>,
    JsonBody(batch): JsonBody<BatchRequest>,
) -> Result<Response, ApiError> {
    let n = batch.items.len();
    if n > st.max_batch_items {
        return Err(ApiError::TooManyItems {
            got: n,
            limit: st.max_batch_items,
        });
    }
    let mut slots: Vec<Option<BatchItem>> = vec![None; n];
    let mut reqs = Vec::with_capacity(n);
    let mut positions = Vec::with_capacity(n);
    let (mut texts, mut chars) = (0, 0);
    for (i, item) in batch.items.into_iter().enumerate() {
        match serde_json::from_value::<Object<AnalyzeRequest>>(item)
            .map(|Object(r)| r)
            .map_err(|e| ApiError::InvalidRequest(e.to_string()))
            .and_then(|r| customers::check(r.customer_id.as_deref()).map(|_| r))
            .and_then(|r| check_turns(&st, &r).map(|_| r))
        {
            Ok(r) => {
                let r = AnalysisRequest::from(r);
                texts += r.turns.as_ref().map_or(1, |t| t.len().max(1));
                chars += r.model_chars();
                positions.push(i);
                reqs.push(r);
            }
            Err(e) => slots[i] = Some(BatchItem::Error(e.body())),
        }
    }
    if texts > st.max_batch_items {
        return Err(ApiError::TooManyItems {
            got: texts,
            limit: st.max_batch_items,
        });
    }
    check_chars(&st, chars)?;
    let customer_ids: Vec<Option<String>> = reqs.iter().map(|r| r.customer_id.clone()).collect();
    let (results, timings) = st.engine.analyze(reqs).await;
    for ((i, r), customer) in positions.into_iter().zip(results).zip(customer_ids) {
        // Contacts are stored in item order, so three items of one customer count in that order.
        let r = match (r, customer) {
            (Ok(mut a), Some(id)) => customers::record(&st, &id, &mut a).await.map(|_| a),
            (Ok(a), None) => Ok(a),
            (Err(e), _) => Err(ApiError::from(e)),
        };
        slots[i] = Some(match r {
            Ok(a) => BatchItem::Analysis(Box::new(a)),
            Err(e) => BatchItem::Error(e.body()),
        });
    }
    let results = slots
        .into_iter()
        .map(|s| {
            s.unwrap_or_else(|| BatchItem::Error(ApiError::Internal("no result".into()).body()))
        })
        .collect();
    Ok(with_timings(
        Json(BatchResponse { results }).into_response(),
        &timings,
    ))
}

/// Add the next turn of a chatbot conversation; returns the running analysis and a handoff decision.
///
/// Turns are kept in memory and forgotten after `--conversation-ttl-secs` without a new turn.
#[utoipa::path(post, path = "/v1/conversations/{id}/turns", request_body = TurnInput,
    params(("id" = String, Path, description = "Conversation id chosen by the client (1 to 128 bytes)")),
    responses(
        (status = 200, description = "Mood, trajectory and handoff decision so far", body = ConversationResponse),
        (status = 400, description = "Malformed JSON or invalid UTF-8", body = ErrorBody),
        (status = 401, description = "Missing or wrong API key", body = ErrorBody),
        (status = 408, description = "The body did not arrive within `--body-timeout-ms`", body = ErrorBody),
        (status = 409, description = "Another turn of this conversation was stored while this one was analyzed; nothing was stored. Post the same turn again (at once, or after a short random delay of 50 to 200 ms if it happens again); send the turns of one conversation one at a time, each after the previous reply, to avoid it", body = ErrorBody),
        (status = 413, description = "Body over the limit", body = ErrorBody),
        (status = 415, description = "A body that is not JSON (a form or multipart upload)", body = ErrorBody),
        (status = 422, description = "Bad speaker, empty text, text over 20,000 characters, or the conversation is full (`--conversation-max-turns` turns or `--max-request-chars` characters)", body = ErrorBody),
        (status = 429, description = "Too many requests in flight (see Retry-After)", body = ErrorBody),
        (status = 503, description = "Timeout, not ready or shutting down", body = ErrorBody),
    ))]
async fn conversation_turn(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    JsonBody(turn): JsonBody<TurnInput>,
) -> Result<Response, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::InvalidRequest(e.body_text()))?;
    let turns = st.conversations.prepare(
        &id,
        Turn {
            speaker: turn.speaker,
            text: turn.text,
        },
    )?;
    let turn_count = turns.len();
    let req = AnalysisRequest {
        text: None,
        turns: Some(turns.clone()),
        customer_id: None,
    };
    let (mut results, timings) = st.engine.analyze(vec![req]).await;
    let mut a = results
        .pop()
        .ok_or_else(|| ApiError::Internal("no result".into()))??;
    let turn = a
        .turns
        .take()
        .and_then(|mut t| t.pop())
        .ok_or_else(|| ApiError::Internal("no turn analysis".into()))?;
    // Stored only now: a turn whose analysis failed or timed out is not in the conversation.
    st.conversations.commit(&id, turns)?;
    st.metrics.conversations.set(st.conversations.len() as i64);
    let handoff_turn = a.handoff_turn.flatten();
    let body = ConversationResponse {
        conversation_id: id,
        turn_index: turn_count - 1,
        turn_count,
        mood: a.sentiment.take(),
        trajectory: a.trajectory.take().unwrap_or_default(),
        handoff_turn,
        handoff: handoff_turn.is_some(),
        risk: a.risk,
        turn,
    };
    Ok(with_timings(Json(body).into_response(), &timings))
}

/// Forget a conversation.
#[utoipa::path(delete, path = "/v1/conversations/{id}",
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 204, description = "Forgotten"),
        (status = 404, description = "No such conversation", body = ErrorBody),
    ))]
async fn conversation_delete(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::InvalidRequest(e.body_text()))?;
    let found = st.conversations.remove(&id);
    st.metrics.conversations.set(st.conversations.len() as i64);
    if found {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no conversation {id}")))
    }
}

/// The process is up.
#[utoipa::path(get, path = "/health", responses((status = 200, body = StatusResponse)))]
async fn health() -> Json<StatusResponse> {
    Json(StatusResponse {
        status: "ok".into(),
        model: None,
    })
}

/// The model is loaded and warmed up (503 before that and while shutting down).
#[utoipa::path(get, path = "/ready", responses(
    (status = 200, body = StatusResponse),
    (status = 503, body = ErrorBody)))]
async fn ready(State(st): State<AppState>) -> Result<Json<StatusResponse>, ApiError> {
    if st.draining.load(Ordering::Acquire) {
        return Err(ApiError::ShuttingDown);
    }
    if !st.engine.is_ready() {
        return Err(ApiError::NotReady);
    }
    Ok(Json(StatusResponse {
        status: "ready".into(),
        model: Some(st.model.to_string()),
    }))
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", responses((status = 200, content_type = "text/plain", body = String)))]
async fn metrics_text(State(st): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        st.metrics.render(),
    )
        .into_response()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "xinsheng",
        description = "Sentiment, emotion, complaint categories, risk, keywords and PII masking for \
                       Chinese customer-service text. Errors are `{\"error\", \"kind\"}`. When API keys \
                       are configured, /v1/* needs `Authorization: Bearer <key>`."
    ),
    paths(
        analyze,
        analyze_batch,
        conversation_turn,
        conversation_delete,
        customers::get_customer,
        customers::list_customers,
        health,
        ready,
        metrics_text
    ),
    components(schemas(
        AnalyzeRequest,
        TurnInput,
        BatchRequest,
        BatchResponse,
        BatchItemSchema,
        ConversationResponse,
        CustomerSchema,
        CustomerListSchema,
        StatusResponse,
        ErrorBody,
        AnalysisSchema,
        SentimentSchema,
        LabelScoreSchema,
        RiskSchema,
        EvidenceSchema
    ))
)]
pub struct ApiDoc;

/// The OpenAPI document of the API.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".into())
}

async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        openapi_json(),
    )
        .into_response()
}

async fn docs() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!(
        "no route for {}",
        uri.path().chars().take(200).collect::<String>()
    ))
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// Counts and logs every request (route template, method, status, latency; never the body).
async fn track(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    let start = Instant::now();
    let resp = next.run(req).await;
    let elapsed = start.elapsed();
    let status = resp.status();
    st.metrics
        .requests
        .with_label_values(&[route.as_str(), method.as_str(), status.as_str()])
        .inc();
    st.metrics
        .request_seconds
        .with_label_values(&[route.as_str()])
        .observe(elapsed.as_secs_f64());
    let kind = resp.extensions().get::<ErrorKind>().map(|k| k.0);
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    if status.is_server_error() {
        tracing::warn!(%method, route, status = status.as_u16(), latency_ms, kind, "request");
    } else {
        tracing::info!(%method, route, status = status.as_u16(), latency_ms, kind, "request");
    }
    resp
}

/// Reads the whole request body before the concurrency limit is reached: 408 when it has not arrived
/// within `--body-timeout-ms`, 413 as soon as it is known to be over the body limit. The handler then
/// reads the buffered body at once.
async fn read_body(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > st.body_limit as u64) {
        return ApiError::PayloadTooLarge {
            limit: st.body_limit,
        }
        .into_response();
    }
    let (parts, body) = req.into_parts();
    let read = read_bytes(Request::from_parts(parts.clone(), body), &st);
    match tokio::time::timeout(st.body_timeout, read).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Ok(Err(e)) => e.into_response(),
        Err(_) => ApiError::BodyTimeout {
            ms: st.body_timeout.as_millis() as u64,
        }
        .into_response(),
    }
}

/// 429 with `Retry-After` when `max_concurrent` analysis requests are already being served.
async fn limit(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let Ok(_permit) = st.limiter.clone().try_acquire_owned() else {
        return ApiError::Overloaded {
            limit: st.max_concurrent,
            retry_after_secs: 1,
        }
        .into_response();
    };
    // A guard, so the gauge is right even when the client goes away and the request is dropped.
    struct InFlight(prometheus::IntGauge);
    impl Drop for InFlight {
        fn drop(&mut self) {
            self.0.dec();
        }
    }
    st.metrics.in_flight.inc();
    let _in_flight = InFlight(st.metrics.in_flight.clone());
    next.run(req).await
}

/// 503 when a request takes longer than the timeout (its queued work is then dropped).
async fn timeout(State(st): State<AppState>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(st.timeout, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::Timeout {
            ms: st.timeout.as_millis() as u64,
        }
        .into_response(),
    }
}

/// The application: routes, middleware and fallbacks.
pub fn router(state: AppState, keys: ApiKeys, protect_probes: bool) -> Router {
    let keys = Arc::new(keys);
    let api = Router::new()
        .route("/v1/analyze", post(analyze))
        .route("/v1/analyze/batch", post(analyze_batch))
        .route("/v1/conversations/{id}/turns", post(conversation_turn))
        .route(
            "/v1/conversations/{id}",
            axum::routing::delete(conversation_delete),
        )
        .route("/v1/customers", get(customers::list_customers))
        .route("/v1/customers/{id}", get(customers::get_customer))
        .route_layer(middleware::from_fn_with_state(state.clone(), timeout))
        .route_layer(middleware::from_fn_with_state(state.clone(), limit))
        .route_layer(middleware::from_fn_with_state(state.clone(), read_body))
        .route_layer(middleware::from_fn_with_state(
            keys.clone(),
            auth::require_key,
        ));
    let mut open = Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics_text))
        .route("/openapi.json", get(openapi))
        .route("/docs", get(docs));
    if protect_probes {
        open = open.route_layer(middleware::from_fn_with_state(keys, auth::require_key));
    }
    api.merge(open)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(DefaultBodyLimit::max(state.body_limit))
        .with_state(state)
}

fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("XINSHENG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Runs the server until SIGTERM or Ctrl-C, then drains in-flight requests (at most
/// `--shutdown-grace-secs`). Prints `xinsheng listening on http://ADDR` on standard output once bound.
pub fn run(
    analyzer: Analyzer,
    args: &ServeArgs,
    model: &str,
    history: crate::risk::history::History,
) -> std::io::Result<()> {
    init_tracing(args.log_json);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("xinsheng-http")
        .build()?;
    runtime.block_on(serve(analyzer, args.clone(), model.to_string(), history))
}

async fn serve(
    analyzer: Analyzer,
    args: ServeArgs,
    model: String,
    history: crate::risk::history::History,
) -> std::io::Result<()> {
    let metrics = Arc::new(Metrics::new());
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let engine = Engine::start(
        Arc::new(analyzer),
        EngineConfig {
            max_batch_tokens: args.max_batch_tokens,
            max_batch_size: args.max_batch_size,
            batch_wait: Duration::from_millis(args.batch_wait_ms),
            workers: if args.workers == 0 {
                cores
            } else {
                args.workers
            },
        },
        metrics.clone(),
    )?;
    let max_request_chars = usize::try_from(args.max_request_chars).unwrap_or(usize::MAX);
    let conversations = Arc::new(Conversations::new(
        Duration::from_secs(args.conversation_ttl_secs),
        args.conversation_max_turns,
        max_request_chars,
        args.max_conversations,
    ));
    let max_concurrent = args.max_concurrent.max(1);
    let state = AppState {
        engine: Arc::new(engine),
        metrics: metrics.clone(),
        conversations: conversations.clone(),
        history: Arc::new(history),
        limiter: Arc::new(Semaphore::new(max_concurrent)),
        max_concurrent,
        body_limit: args.body_limit,
        max_batch_items: args.max_batch_items,
        max_request_chars,
        max_turns: args.conversation_max_turns.max(1),
        timeout: Duration::from_millis(args.request_timeout_ms.max(1)),
        body_timeout: Duration::from_millis(args.body_timeout_ms.max(1)),
        model: model.into(),
        draining: Arc::new(AtomicBool::new(false)),
    };
    let keys = ApiKeys::new(&args.api_keys);
    let app = router(state.clone(), keys.clone(), args.protect_probes);

    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
        .await
        .map_err(|e| {
            let host = if args.host.contains(':') {
                format!("[{}]", args.host)
            } else {
                args.host.clone()
            };
            std::io::Error::new(
                e.kind(),
                format!("cannot listen on {host}:{}: {e}", args.port),
            )
        })?;
    let addr = listener.local_addr()?;
    // The address line callers wait for; a closed stdout (a supervisor that discards it) must not stop
    // the server, so a failed write is ignored rather than a `println!` panic.
    {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        let _ =
            writeln!(stdout, "xinsheng listening on http://{addr}").and_then(|()| stdout.flush());
    }
    tracing::info!(%addr, auth = keys.enabled(), max_concurrent, body_limit = args.body_limit, "listening");

    // Expired conversations are swept in the background.
    let sweep_every = Duration::from_secs(args.conversation_ttl_secs.clamp(1, 60));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(sweep_every).await;
            metrics.conversations.set(conversations.sweep() as i64);
        }
    });

    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let draining = state.draining.clone();
    let signal = async move {
        shutdown_signal().await;
        draining.store(true, Ordering::Release);
        tracing::info!("shutdown signal: draining in-flight requests");
        let _ = stop_tx.send(true);
    };
    let server = listen::serve(
        listener,
        app,
        Duration::from_secs(args.header_timeout_secs),
        signal,
    );
    let grace = Duration::from_secs(args.shutdown_grace_secs);
    tokio::select! {
        () = server => {},
        _ = async {
            let _ = stop_rx.wait_for(|stop| *stop).await;
            tokio::time::sleep(grace).await;
        } => tracing::warn!("shutdown grace period over; exiting with requests still in flight"),
    }
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_must_be_json_objects() {
        let r: Result<AnalysisRequest, _> = parse_json(br#"{"text": "nihao"}"#);
        assert_eq!(r.unwrap().text.as_deref(), Some("nihao"));
        for body in [&br#"["nihao"]"#[..], b" [\"x\", null]", b"\"text\"", b"5"] {
            let r: Result<AnalysisRequest, _> = parse_json(body);
            assert!(
                matches!(r, Err(ApiError::InvalidRequest(ref m)) if m.contains("JSON object")),
                "{r:?}"
            );
        }
        let r: Result<AnalysisRequest, _> = parse_json(b"[1, ");
        assert!(matches!(r, Err(ApiError::MalformedJson(_))), "{r:?}");
    }
}
