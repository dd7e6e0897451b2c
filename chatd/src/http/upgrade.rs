//! The WebSocket opening handshake (RFC 6455 section 4.2) as chatd checks
//! it, and which pages may open one (the Origin check).
//!
//! chatd reads the request head itself (it routes every path on the same
//! port), so it checks the upgrade headers here and answers with
//! tungstenite's own accept-key function; the framing after that is all
//! tungstenite's.

use async_tungstenite::tungstenite::handshake::derive_accept_key;

use super::page::{Response, Status};
use super::request::Head;

/// Why a request to `/ws` cannot become a WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UpgradeError {
    #[error("a WebSocket needs HTTP/1.1")]
    NotHttp11,
    #[error("the request does not ask for a WebSocket (Upgrade: websocket)")]
    NotWebSocket,
    #[error("the request does not ask for an upgrade (Connection: Upgrade)")]
    NoConnectionUpgrade,
    #[error("Sec-WebSocket-Key is missing or not 16 bytes in base64")]
    BadKey,
    #[error("only WebSocket version 13 is supported")]
    Version,
}

impl UpgradeError {
    /// The answer: 426 names the version chatd speaks; the rest are 400.
    pub(crate) fn response(self) -> Response {
        match self {
            UpgradeError::Version => {
                Response::text(Status::UpgradeRequired, &self.to_string()).header("Sec-WebSocket-Version", "13")
            }
            _ => Response::text(Status::BadRequest, &self.to_string()),
        }
    }
}

/// Checks that `head` asks for a WebSocket chatd can speak, and returns the
/// `Sec-WebSocket-Accept` value that proves the server understood.
pub(crate) fn accept_key(head: &Head) -> Result<String, UpgradeError> {
    if !head.http11 {
        return Err(UpgradeError::NotHttp11);
    }
    if !has_token(head.upgrade.as_deref(), "websocket") {
        return Err(UpgradeError::NotWebSocket);
    }
    if !has_token(head.connection.as_deref(), "upgrade") {
        return Err(UpgradeError::NoConnectionUpgrade);
    }
    if head.ws_version.as_deref() != Some("13") {
        return Err(UpgradeError::Version);
    }
    let key = head.ws_key.as_deref().filter(|key| is_key(key)).ok_or(UpgradeError::BadKey)?;
    Ok(derive_accept_key(key.as_bytes()))
}

/// Whether a comma-separated header value holds `token` (case-insensitive).
fn has_token(value: Option<&str>, token: &str) -> bool {
    value.is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

/// 16 bytes in base64: 22 characters of the alphabet and `==`.
fn is_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    bytes.len() == 24
        && bytes.ends_with(b"==")
        && bytes[..22].iter().all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// Which web pages may open a WebSocket to chatd.
///
/// A browser says which page is connecting in `Origin`, and nothing stops
/// a page on any other site from connecting (WebSockets are not bound by
/// the same-origin policy), in the name of whoever opened it. So by
/// default only chatd's own page may: an `Origin` whose host and port are
/// the request's `Host` (chatd serves no TLS itself, so the scheme is not
/// compared: a TLS proxy in front sees `https://` origins for the same
/// host). `--allowed-origin` adds others, compared whole
/// (`https://chat.example.com`). A request without `Origin` is not from a
/// browser page (a program, a bot) and is let in: the check protects
/// browser users, and a program could send any `Origin` it liked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Origins {
    /// Lowercase, without a trailing slash.
    allowed: Vec<String>,
}

impl Origins {
    pub(crate) fn new(allowed: &[String]) -> Self {
        Self { allowed: allowed.iter().map(|o| normalize(o)).collect() }
    }

    /// Whether a request from page `origin` to host `host` may upgrade.
    pub(crate) fn allows(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        let Some(origin) = origin else { return true };
        let origin = normalize(origin);
        if self.allowed.contains(&origin) {
            return true;
        }
        let authority = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
        matches!((authority, host), (Some(authority), Some(host)) if authority == host.to_ascii_lowercase())
    }
}

fn normalize(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upgrade() -> Head {
        Head {
            method: "GET".into(),
            path: "/ws".into(),
            http11: true,
            host: Some("127.0.0.1:8080".into()),
            upgrade: Some("websocket".into()),
            connection: Some("keep-alive, Upgrade".into()),
            ws_key: Some("dGhlIHNhbXBsZSBub25jZQ==".into()),
            ws_version: Some("13".into()),
            ..Head::default()
        }
    }

    #[test]
    fn the_rfc_example_key_is_answered_as_the_rfc_says() {
        assert_eq!(accept_key(&upgrade()).unwrap(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn each_missing_piece_is_named() {
        let refused = |change: fn(&mut Head)| {
            let mut head = upgrade();
            change(&mut head);
            accept_key(&head).unwrap_err()
        };
        assert_eq!(refused(|h| h.http11 = false), UpgradeError::NotHttp11);
        assert_eq!(refused(|h| h.upgrade = Some("h2c".into())), UpgradeError::NotWebSocket);
        assert_eq!(refused(|h| h.connection = Some("keep-alive".into())), UpgradeError::NoConnectionUpgrade);
        assert_eq!(refused(|h| h.ws_version = Some("8".into())), UpgradeError::Version);
        assert_eq!(refused(|h| h.ws_key = Some("short".into())), UpgradeError::BadKey);
        assert_eq!(refused(|h| h.ws_key = None), UpgradeError::BadKey);
        assert_eq!(UpgradeError::Version.response().status(), Status::UpgradeRequired);
        assert_eq!(UpgradeError::BadKey.response().status(), Status::BadRequest);
    }

    #[test]
    fn same_origin_by_default_others_when_allowed() {
        let origins = Origins::default();
        let host = Some("127.0.0.1:8080");
        assert!(origins.allows(None, host), "not a browser");
        assert!(origins.allows(Some("http://127.0.0.1:8080"), host));
        assert!(origins.allows(Some("HTTPS://Chat.Example.com"), Some("chat.example.com")));
        assert!(!origins.allows(Some("http://evil.example"), host));
        assert!(!origins.allows(Some("http://127.0.0.1:8081"), host), "another port is another origin");
        assert!(!origins.allows(Some("null"), host));
        assert!(!origins.allows(Some("http://127.0.0.1:8080"), None), "no Host to compare with");
        let origins = Origins::new(&["https://chat.example.com/".into()]);
        assert!(origins.allows(Some("https://chat.example.com"), host));
        assert!(!origins.allows(Some("http://chat.example.com"), host), "allowed origins are compared whole");
    }
}
