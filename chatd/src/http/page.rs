//! The bundled chat page and every HTTP answer chatd writes.
//!
//! The page is three files under `chatd/web/`, built into the binary, so a
//! chatd executable is the whole deployment. Every answer closes the
//! connection (`Connection: close`): a page load is three short requests,
//! and a server that keeps no idle HTTP connections has nothing to bound.

use std::borrow::Cow;
use std::fmt::Write as _;

/// The page, its script and its style.
const INDEX_HTML: &[u8] = include_bytes!("../../web/index.html");
const APP_JS: &[u8] = include_bytes!("../../web/app.js");
const STYLE_CSS: &[u8] = include_bytes!("../../web/style.css");

/// Only this server's own files and its own WebSocket: no inline script or
/// style, nothing from elsewhere, no framing by other sites. ('self' in
/// connect-src covers ws:// to the same host and port in current browsers.)
pub(crate) const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A file of the page: `/`, `/app.js` or `/style.css`.
pub(crate) fn asset(path: &str) -> Option<Response> {
    let (content_type, body) = match path {
        "/" => ("text/html; charset=utf-8", INDEX_HTML),
        "/app.js" => ("text/javascript; charset=utf-8", APP_JS),
        "/style.css" => ("text/css; charset=utf-8", STYLE_CSS),
        _ => return None,
    };
    // Revalidated on every load, so a new chatd's page is never mixed
    // with an old one's script.
    Some(Response::new(Status::Ok, content_type, body).header("Cache-Control", "no-cache"))
}

/// The status codes chatd answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    SwitchingProtocols,
    Ok,
    BadRequest,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    UpgradeRequired,
    HeaderFieldsTooLarge,
    ServiceUnavailable,
}

impl Status {
    fn line(self) -> &'static str {
        match self {
            Status::SwitchingProtocols => "101 Switching Protocols",
            Status::Ok => "200 OK",
            Status::BadRequest => "400 Bad Request",
            Status::NotFound => "404 Not Found",
            Status::MethodNotAllowed => "405 Method Not Allowed",
            Status::RequestTimeout => "408 Request Timeout",
            Status::UpgradeRequired => "426 Upgrade Required",
            Status::HeaderFieldsTooLarge => "431 Request Header Fields Too Large",
            Status::ServiceUnavailable => "503 Service Unavailable",
        }
    }
}

/// One HTTP answer, written whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    status: Status,
    headers: Vec<(&'static str, String)>,
    body: Cow<'static, [u8]>,
}

impl Response {
    pub(crate) fn new(status: Status, content_type: &str, body: impl Into<Cow<'static, [u8]>>) -> Self {
        let headers = vec![("Content-Type", content_type.to_owned())];
        Self { status, headers, body: body.into() }
    }

    /// A plain-text answer: the body is `text` and a newline.
    pub(crate) fn text(status: Status, text: &str) -> Self {
        Self::new(status, "text/plain; charset=utf-8", format!("{text}\n").into_bytes())
    }

    /// The answer that accepts a WebSocket; `accept` is the key's proof.
    pub(crate) fn switching(accept: String) -> Self {
        Self { status: Status::SwitchingProtocols, headers: Vec::new(), body: Cow::Borrowed(&[]) }
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Accept", &accept)
    }

    pub(crate) fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub(crate) fn status(&self) -> Status {
        self.status
    }

    /// The bytes on the wire. Every answer but the upgrade carries the
    /// security headers and closes the connection.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {}\r\n", self.status.line());
        for (name, value) in &self.headers {
            let _ = write!(head, "{name}: {value}\r\n");
        }
        if self.status != Status::SwitchingProtocols {
            let _ = write!(
                head,
                "Content-Length: {}\r\nContent-Security-Policy: {CONTENT_SECURITY_POLICY}\r\n\
                 X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n",
                self.body.len()
            );
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_comes_with_its_type_and_security_headers() {
        let page = String::from_utf8(asset("/").unwrap().to_bytes()).unwrap();
        assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
        assert!(page.contains("\r\nContent-Type: text/html; charset=utf-8\r\n"), "{page}");
        assert!(page.contains(&format!("\r\nContent-Length: {}\r\n", INDEX_HTML.len())), "{page}");
        assert!(page.contains("\r\nX-Content-Type-Options: nosniff\r\n"), "{page}");
        assert!(page.contains("\r\nContent-Security-Policy: default-src 'self'"), "{page}");
        assert!(page.ends_with(std::str::from_utf8(INDEX_HTML).unwrap()));
        assert!(asset("/app.js").is_some() && asset("/style.css").is_some());
        assert_eq!(asset("/index.html"), None);
        assert_eq!(asset("/../Cargo.toml"), None);
    }

    #[test]
    fn the_upgrade_answer_has_no_body_headers() {
        let answer = String::from_utf8(Response::switching("abc=".into()).to_bytes()).unwrap();
        assert_eq!(
            answer,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: abc=\r\n\r\n"
        );
    }
}
