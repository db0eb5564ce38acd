//! Optional API keys: `Authorization: Bearer <key>` (the scheme in any case). With no keys configured every request passes.

use crate::server::error::ApiError;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct ApiKeys {
    keys: Vec<Vec<u8>>,
}

impl ApiKeys {
    /// Empty keys are ignored (`XINSHENG_API_KEYS=""` means no auth).
    pub fn new(keys: &[String]) -> Self {
        Self {
            keys: keys
                .iter()
                .map(|k| k.trim())
                .filter(|k| !k.is_empty())
                .map(|k| k.as_bytes().to_vec())
                .collect(),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.keys.is_empty()
    }

    /// Whether an `Authorization` header value carries one of the keys.
    pub fn allows(&self, header: Option<&[u8]>) -> bool {
        if !self.enabled() {
            return true;
        }
        let Some(h) = header else { return false };
        // The scheme is case-insensitive (RFC 7235 § 2.1): `Bearer`, `bearer` and `BEARER` are one.
        let Some(space) = h.iter().position(|&b| b == b' ') else {
            return false;
        };
        if !h[..space].eq_ignore_ascii_case(b"bearer") {
            return false;
        }
        let token = h[space..].trim_ascii_start();
        // Compare with every key, in time that does not depend on where a key differs.
        self.keys
            .iter()
            .fold(false, |ok, k| ok | constant_time_eq(k, token))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Middleware: 401 unless the request carries a configured key.
pub async fn require_key(State(keys): State<Arc<ApiKeys>>, req: Request, next: Next) -> Response {
    let header = req.headers().get(AUTHORIZATION).map(|v| v.as_bytes());
    if keys.allows(header) {
        next.run(req).await
    } else {
        ApiError::Unauthorized.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_keys() {
        let none = ApiKeys::new(&[" ".into()]);
        assert!(!none.enabled());
        assert!(none.allows(None));
        let keys = ApiKeys::new(&["k1".into(), "secret-2".into()]);
        assert!(keys.allows(Some(b"Bearer k1")));
        assert!(keys.allows(Some(b"Bearer secret-2")));
        assert!(keys.allows(Some(b"bearer k1")));
        assert!(keys.allows(Some(b"BEARER  k1")));
        assert!(
            !keys.allows(Some(b"Bearer K1")),
            "the key itself is case-sensitive"
        );
        assert!(!keys.allows(Some(b"Bearerk1")));
        assert!(!keys.allows(Some(b"Bearer ")));
        assert!(!keys.allows(Some(b"Bearer k2")));
        assert!(!keys.allows(Some(b"k1")));
        assert!(!keys.allows(Some(b"Basic k1")));
        assert!(!keys.allows(None));
    }
}
