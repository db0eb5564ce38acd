//! The server's one error type and the one table that maps it to an HTTP status and a `kind`.
//! Every error body is `{"error": "<message>", "kind": "<kind>"}`; bad input is never a 500.

use crate::analysis::AnalyzeError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("request body is not valid UTF-8: {0}")]
    InvalidUtf8(String),
    #[error("could not read the request body: {0}")]
    BadBody(String),
    #[error("request does not match the schema: {0}")]
    InvalidRequest(String),
    #[error("text is empty")]
    EmptyText,
    #[error("{0}")]
    TextTooLong(String),
    #[error("request needs `text` or a non-empty `turns` list")]
    NoInput,
    #[error("request has both `text` and `turns`; send one of them (a text, or a conversation)")]
    TextAndTurns,
    #[error("{0}")]
    BadSpeaker(String),
    #[error(
        "{got} texts in one batch (a conversation counts as its number of turns); the limit is \
         {limit} (--max-batch-items)"
    )]
    TooManyItems { got: usize, limit: usize },
    /// The whole message: a conversation at its turn limit or its character limit.
    #[error("{0}")]
    ConversationFull(String),
    #[error("{got} turns in one conversation; the limit is {limit} (--conversation-max-turns)")]
    TooManyTurns { got: usize, limit: usize },
    #[error(
        "the model would read {got} characters for this request (every text and turn, a \
         conversation's customer turns twice); the limit is {limit} (--max-request-chars): send \
         fewer or shorter texts per request"
    )]
    TooMuchText { got: usize, limit: usize },
    #[error("{0}")]
    ConversationChanged(String),
    #[error("request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request body did not arrive within {ms} ms (--body-timeout-ms)")]
    BodyTimeout { ms: u64 },
    /// The whole message (names the content type and what was wrong).
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("missing or invalid API key (send `Authorization: Bearer <key>`)")]
    Unauthorized,
    /// The whole message: `no route for /x`, `no conversation abc`, `no customer c1`.
    #[error("{0}")]
    NotFound(String),
    #[error("method {0} is not allowed here")]
    MethodNotAllowed(String),
    #[error("too many requests in flight (limit {limit}); retry after {retry_after_secs} s")]
    Overloaded { limit: usize, retry_after_secs: u64 },
    #[error("request took longer than {ms} ms")]
    Timeout { ms: u64 },
    #[error("model is not loaded yet")]
    NotReady,
    #[error("server is shutting down")]
    ShuttingDown,
    #[error("internal error: {0}")]
    Internal(String),
    /// The rest are hyper's own replies to a request it cannot parse (`parse_errors`).
    #[error("request is not valid HTTP/1.1: malformed request line, header or message framing")]
    MalformedHttp,
    #[error("request URI is too long")]
    UriTooLong,
    #[error("request line and headers are larger than the server accepts")]
    HeadersTooLarge,
}

/// The table: every error's status code and `kind`.
pub fn status_and_kind(e: &ApiError) -> (StatusCode, &'static str) {
    use ApiError::*;
    match e {
        MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
        InvalidUtf8(_) => (StatusCode::BAD_REQUEST, "invalid_utf8"),
        BadBody(_) => (StatusCode::BAD_REQUEST, "bad_body"),
        InvalidRequest(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
        EmptyText => (StatusCode::UNPROCESSABLE_ENTITY, "empty_text"),
        TextTooLong(_) => (StatusCode::UNPROCESSABLE_ENTITY, "text_too_long"),
        NoInput => (StatusCode::UNPROCESSABLE_ENTITY, "no_input"),
        TextAndTurns => (StatusCode::UNPROCESSABLE_ENTITY, "text_and_turns"),
        BadSpeaker(_) => (StatusCode::UNPROCESSABLE_ENTITY, "bad_speaker"),
        TooManyItems { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_many_items"),
        ConversationFull(_) => (StatusCode::UNPROCESSABLE_ENTITY, "conversation_full"),
        TooManyTurns { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_many_turns"),
        TooMuchText { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_much_text"),
        ConversationChanged(_) => (StatusCode::CONFLICT, "conversation_changed"),
        PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        BodyTimeout { .. } => (StatusCode::REQUEST_TIMEOUT, "body_timeout"),
        UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
        NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        Overloaded { .. } => (StatusCode::TOO_MANY_REQUESTS, "overloaded"),
        Timeout { .. } => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
        NotReady => (StatusCode::SERVICE_UNAVAILABLE, "not_ready"),
        ShuttingDown => (StatusCode::SERVICE_UNAVAILABLE, "shutting_down"),
        Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        MalformedHttp => (StatusCode::BAD_REQUEST, "malformed_http"),
        UriTooLong => (StatusCode::URI_TOO_LONG, "uri_too_long"),
        HeadersTooLarge => (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
        ),
    }
}

/// The error body, also used in a batch result's slot.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for a person.
    pub error: String,
    /// Stable machine-readable kind, e.g. `malformed_json`, `empty_text`, `overloaded`.
    pub kind: String,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        status_and_kind(self).0
    }

    pub fn kind(&self) -> &'static str {
        status_and_kind(self).1
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.to_string(),
            kind: self.kind().to_string(),
        }
    }
}

impl From<AnalyzeError> for ApiError {
    fn from(e: AnalyzeError) -> Self {
        match e {
            AnalyzeError::EmptyText => ApiError::EmptyText,
            AnalyzeError::TooLong(_) => ApiError::TextTooLong(e.to_string()),
            AnalyzeError::NoInput => ApiError::NoInput,
            AnalyzeError::TextAndTurns => ApiError::TextAndTurns,
            AnalyzeError::BadSpeaker(_) => ApiError::BadSpeaker(e.to_string()),
            AnalyzeError::Model(m) => ApiError::Internal(m.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _) = status_and_kind(&self);
        let mut resp = (status, axum::Json(self.body())).into_response();
        if let ApiError::Overloaded {
            retry_after_secs, ..
        } = self
        {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        // Lets the metrics layer count errors by kind without parsing the body.
        resp.extensions_mut().insert(ErrorKind(self.kind()));
        resp
    }
}

/// The `kind` of an error response, as a response extension.
#[derive(Debug, Clone, Copy)]
pub struct ErrorKind(pub &'static str);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_is_never_a_server_error() {
        let bad_input = [
            ApiError::MalformedJson("x".into()),
            ApiError::InvalidUtf8("x".into()),
            ApiError::InvalidRequest("x".into()),
            ApiError::EmptyText,
            ApiError::NoInput,
            ApiError::PayloadTooLarge { limit: 1 },
            ApiError::TooManyItems { got: 2, limit: 1 },
            ApiError::TooManyTurns { got: 2, limit: 1 },
            ApiError::TooMuchText { got: 2, limit: 1 },
            ApiError::TextAndTurns,
            ApiError::BodyTimeout { ms: 1 },
            ApiError::UnsupportedMediaType("x".into()),
            ApiError::MalformedHttp,
            ApiError::UriTooLong,
            ApiError::HeadersTooLarge,
        ];
        for e in bad_input {
            assert!(e.status().is_client_error(), "{e:?}");
        }
        assert_eq!(
            ApiError::PayloadTooLarge { limit: 1024 }.to_string(),
            "request body is larger than the limit of 1024 bytes"
        );
    }
}
