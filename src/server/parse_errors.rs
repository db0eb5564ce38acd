//! JSON bodies for the replies hyper writes itself.
//!
//! A request hyper cannot parse never reaches the service: a malformed request line, header or framing
//! (400), a URI longer than the `http` crate accepts (414), a request head larger than the read buffer (431).
//! hyper answers those on its own with the status and an empty body, then closes the connection. This wraps
//! a connection's I/O and rewrites exactly such a reply — a 400, 414 or 431 head with `content-length: 0`,
//! no `content-type`, written in one piece — into the same reply with the server's JSON error body
//! (`{"error", "kind"}`, kinds `malformed_http`, `uri_too_long`, `headers_too_large`). Every reply of the
//! service carries a `content-type`, so none of them matches. Reads pass through untouched.

use super::error::ApiError;
use hyper::rt::{Read, ReadBufCursor, Write};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// A connection's I/O with hyper's bare parse-error replies given a JSON body.
pub struct JsonParseErrors<T> {
    inner: T,
    /// A rewritten reply not yet handed to `inner`, and how much of it has been.
    pending: Vec<u8>,
    sent: usize,
}

impl<T> JsonParseErrors<T> {
    pub fn new(inner: T) -> Self {
        JsonParseErrors {
            inner,
            pending: Vec::new(),
            sent: 0,
        }
    }
}

impl<T: Write + Unpin> JsonParseErrors<T> {
    /// Writes what is left of a rewritten reply.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.pending.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: Read + Unpin> Read for JsonParseErrors<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: Write + Unpin> Write for JsonParseErrors<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        match with_json_body(buf) {
            Some(reply) => {
                // The whole head counts as written; the longer reply goes out in `poll_drain`, which every
                // later write, flush and shutdown runs first.
                this.pending = reply;
                this.sent = 0;
                if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
                    return Poll::Ready(Err(e));
                }
                Poll::Ready(Ok(buf.len()))
            }
            None => Pin::new(&mut this.inner).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }

    // Not vectored, so hyper flattens a reply into one buffer and a bare head arrives in one write.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// The error a bare reply of this status stands for.
fn error_for(status: u16) -> Option<ApiError> {
    match status {
        400 => Some(ApiError::MalformedHttp),
        414 => Some(ApiError::UriTooLong),
        431 => Some(ApiError::HeadersTooLarge),
        _ => None,
    }
}

/// The longest write taken for one of hyper's bare heads.
const MAX_BARE_HEAD: usize = 512;

/// `head` with a JSON error body, if it is one of hyper's bare parse-error replies written whole.
fn with_json_body(head: &[u8]) -> Option<Vec<u8>> {
    // This runs on every write of every reply: refuse on the first bytes and the length (hyper's bare
    // heads are a status line, `content-length` and `date`, under 200 bytes) before reading the rest.
    if head.len() > MAX_BARE_HEAD
        || !(head.starts_with(b"HTTP/1.1 4") || head.starts_with(b"HTTP/1.0 4"))
    {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let lines = text.strip_suffix("\r\n\r\n")?;
    if lines.contains("\r\n\r\n") {
        return None;
    }
    let mut lines = lines.split("\r\n");
    let status_line = lines.next()?;
    let rest = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))?;
    let error = error_for(rest.get(..3)?.parse().ok()?)?;
    let mut kept = Vec::new();
    let mut empty = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-type") {
            return None;
        }
        if name.eq_ignore_ascii_case("content-length") {
            if value.trim() != "0" {
                return None;
            }
            empty = true;
        } else {
            kept.push(line);
        }
    }
    if !empty {
        return None;
    }
    let body = serde_json::to_vec(&error.body()).ok()?;
    let mut reply = Vec::with_capacity(head.len() + body.len() + 64);
    reply.extend_from_slice(status_line.as_bytes());
    reply.extend_from_slice(b"\r\n");
    for line in kept {
        reply.extend_from_slice(line.as_bytes());
        reply.extend_from_slice(b"\r\n");
    }
    reply.extend_from_slice(b"content-type: application/json\r\n");
    reply.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    reply.extend_from_slice(&body);
    Some(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(reply: &[u8]) -> serde_json::Value {
        let text = std::str::from_utf8(reply).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length: usize = head
            .split("\r\n")
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(length, body.len());
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn bare_parse_error_replies_get_the_json_body() {
        for (status, kind) in [
            ("400 Bad Request", "malformed_http"),
            ("414 URI Too Long", "uri_too_long"),
            ("431 Request Header Fields Too Large", "headers_too_large"),
        ] {
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-length: 0\r\ndate: Thu, 03 Dec 2026 05:00:00 GMT\r\n\r\n"
            );
            let reply = with_json_body(head.as_bytes()).expect(status);
            let text = String::from_utf8(reply.clone()).unwrap();
            assert!(
                text.starts_with(&format!("HTTP/1.1 {status}\r\n")),
                "{text}"
            );
            assert!(text.contains("\r\ndate: Thu, 03 Dec 2026 05:00:00 GMT\r\n"));
            assert!(text.contains("\r\ncontent-type: application/json\r\n"));
            assert!(!text.contains("content-length: 0\r\n"));
            let body = body_of(&reply);
            assert_eq!(body["kind"], kind);
            assert!(!body["error"].as_str().unwrap().is_empty());
        }
    }

    #[test]
    fn the_services_own_replies_pass_untouched() {
        let untouched = [
            // the service's errors carry a content-type
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n",
            // a head with its body in the same write
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}",
            // other statuses
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            // a body chunk, not a head
            "{\"error\":\"x\"}",
            // no content-length
            "HTTP/1.1 400 Bad Request\r\ntransfer-encoding: chunked\r\n\r\n",
            // a partial head
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
        ];
        for head in untouched {
            assert_eq!(with_json_body(head.as_bytes()), None, "{head}");
        }
    }
}
