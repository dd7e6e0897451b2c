//! The bundled chat page and every HTTP answer chatd writes.
//!
//! The page is the files under `chatd/web/`, built into the binary, so a
//! chatd executable is the whole deployment. Every answer closes the
//! connection (`Connection: close`): a page load is a dozen short requests,
//! and a server that keeps no idle HTTP connections has nothing to bound.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::codes;

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
// Browsers load modules only with a JavaScript type.
const JS: &str = "text/javascript; charset=utf-8";

const INDEX_HTML: &[u8] = include_bytes!("../../web/index.html");

/// The page's files: the page, its style, and its script as ES modules
/// (`app.js` imports the others by these paths, and `/codes.js`, which
/// chatd writes from chatcore's codes).
const FILES: &[(&str, &str, &[u8])] = &[
    ("/", HTML, INDEX_HTML),
    ("/style.css", CSS, include_bytes!("../../web/style.css")),
    ("/app.js", JS, include_bytes!("../../web/app.js")),
    ("/conn.js", JS, include_bytes!("../../web/conn.js")),
    ("/convs.js", JS, include_bytes!("../../web/convs.js")),
    ("/dom.js", JS, include_bytes!("../../web/dom.js")),
    ("/markers.js", JS, include_bytes!("../../web/markers.js")),
    ("/nav.js", JS, include_bytes!("../../web/nav.js")),
    ("/panes.js", JS, include_bytes!("../../web/panes.js")),
    ("/people.js", JS, include_bytes!("../../web/people.js")),
    ("/requests.js", JS, include_bytes!("../../web/requests.js")),
    ("/rooms.js", JS, include_bytes!("../../web/rooms.js")),
    ("/session.js", JS, include_bytes!("../../web/session.js")),
];

/// The page's script modules as written under `chatd/web/`, by path.
#[cfg(test)]
pub(super) fn scripts() -> impl Iterator<Item = (&'static str, &'static str)> {
    FILES
        .iter()
        .filter(|(path, _, _)| path.ends_with(".js"))
        .map(|(path, _, body)| (*path, std::str::from_utf8(body).expect("the page's scripts are UTF-8")))
}

/// Only this server's own files and its own WebSocket: no inline script or
/// style, nothing from elsewhere, no framing by other sites. ('self' in
/// connect-src covers ws:// to the same host and port in current browsers.)
pub(crate) const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A file of the page (see `FILES`, and `/codes.js`), by its path.
pub(crate) fn asset(path: &str) -> Option<Response> {
    let (content_type, body) = if path == "/codes.js" {
        (JS, codes::MODULE.as_bytes())
    } else {
        FILES.iter().find(|(file, _, _)| *file == path).map(|&(_, content_type, body)| (content_type, body))?
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
    MisdirectedRequest,
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
            Status::MisdirectedRequest => "421 Misdirected Request",
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
        // Every module the page imports is served, as JavaScript, the
        // written one like the others.
        for (path, _) in scripts().chain([("/codes.js", "")]) {
            let module = String::from_utf8(asset(path).unwrap().to_bytes()).unwrap();
            assert!(module.contains("\r\nContent-Type: text/javascript; charset=utf-8\r\n"), "{path}");
            assert!(module.contains("\r\nCache-Control: no-cache\r\n"), "{path}");
            assert!(module.contains("\r\nContent-Security-Policy: default-src 'self'"), "{path}");
        }
        assert_eq!(asset("/index.html"), None);
        assert_eq!(asset("/../Cargo.toml"), None);
    }

    #[test]
    fn every_module_the_page_imports_is_served() {
        for (path, _, body) in FILES.iter().filter(|(path, _, _)| path.ends_with(".js")) {
            let source = std::str::from_utf8(body).unwrap();
            for import in source.split("from './").skip(1) {
                let name = &import[..import.find('\'').unwrap()];
                assert!(asset(&format!("/{name}")).is_some(), "{path} imports {name}, which is not served");
            }
        }
    }

    /// The names the page's own modules use as codes: `errors.NAME` and
    /// `byes.NAME`, with which list each names.
    fn names_used(source: &str) -> Vec<(&'static str, &str)> {
        let mut used = Vec::new();
        for list in ["errors", "byes"] {
            let reference = format!("{list}.");
            for (at, _) in source.match_indices(&reference) {
                // Only the identifier itself, not `someerrors.` or `x.errors.`.
                let before = source[..at].chars().next_back();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
                    continue;
                }
                let rest = &source[at + reference.len()..];
                let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
                // "errors." ending a sentence in a comment names nothing.
                if end > 0 {
                    used.push((list, &rest[..end]));
                }
            }
        }
        used
    }

    #[test]
    fn every_code_the_page_names_is_one_chatcore_defines() {
        let mut checked = 0;
        for (path, source) in scripts() {
            for (list, name) in names_used(source) {
                let defined = match list {
                    "errors" => chatcore::ERROR_CODES.iter().any(|error| error.code == name),
                    _ => chatcore::BYE_CODES.iter().any(|bye| bye.code == name),
                };
                assert!(defined, "{path} names {list}.{name}, which chatcore does not define");
                checked += 1;
            }
        }
        // The page does name codes: a scan that found none checked nothing.
        assert!(checked >= 6, "only {checked} codes named by the page");
    }

    #[test]
    fn the_page_spells_no_code_of_its_own() {
        // A code as a quoted string in the page is a hand copy that no
        // test would notice going stale; only `/codes.js` spells them.
        // Two codes are also words the page sends for other reasons: the
        // request types `quit` and `blocked` (and the label "blocked").
        const ALSO_REQUEST_TYPES: [&str; 2] = ["quit", "blocked"];
        let errors = chatcore::ERROR_CODES.iter().map(|error| error.code);
        let codes: Vec<_> = errors.chain(chatcore::BYE_CODES.iter().map(|bye| bye.code)).collect();
        for (path, source) in scripts() {
            for code in codes.iter().filter(|code| !ALSO_REQUEST_TYPES.contains(code)) {
                for quote in ['\'', '"', '`'] {
                    let spelled = format!("{quote}{code}{quote}");
                    assert!(!source.contains(&spelled), "{path} spells {spelled}; name it through codes.js");
                }
            }
        }
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
