//! Reading an HTTP/1.x request head (httparse), with a cap on its size and
//! on the time it may take, and keeping only what chatd routes on.

use std::io;
use std::net::TcpStream;
use std::time::Duration;

use futures_lite::{AsyncReadExt, future};
use smol::{Async, Timer};

use crate::proxy::forwarded::Forwarding;

/// Largest request head accepted: a browser's GET with its usual headers
/// and cookies for this host fits many times over; more is refused (431).
pub(crate) const MAX_HEAD: usize = 8 * 1024;

/// Time a client has to send its whole request head; a connection that
/// trickles it or says nothing is answered 408 and closed, so an idle
/// connection cannot keep its per-IP slot.
pub(crate) const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Most headers parsed; a head with more is refused (431).
const MAX_HEADERS: usize = 48;

/// Why no request could be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HeadError {
    /// More than [`MAX_HEAD`] bytes, or more than 48 headers.
    #[error("the request head is larger than {MAX_HEAD} bytes or has too many headers")]
    TooLarge,
    /// [`HEAD_TIMEOUT`] passed first.
    #[error("no complete request head within {} s", HEAD_TIMEOUT.as_secs())]
    Timeout,
    /// Not HTTP/1.x, or a header that is not UTF-8 text, or a header chatd
    /// relies on given twice.
    #[error("malformed request head: {0}")]
    Malformed(String),
    /// The peer closed before the head ended (nobody to answer).
    #[error("the connection closed before the request head ended")]
    Closed,
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// What chatd needs of a request: its method, its path (without the
/// query), and the headers the WebSocket upgrade and the origin check use.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) method: String,
    pub(crate) path: String,
    /// HTTP/1.1 (a WebSocket needs it) rather than 1.0.
    pub(crate) http11: bool,
    pub(crate) host: Option<String>,
    pub(crate) origin: Option<String>,
    pub(crate) upgrade: Option<String>,
    pub(crate) connection: Option<String>,
    pub(crate) ws_key: Option<String>,
    pub(crate) ws_version: Option<String>,
    /// What proxies in front say about the client; believed only from a
    /// `--trusted-proxy`.
    pub(crate) forwarding: Forwarding,
}

/// Reads one request head from `stream`. Also returns the bytes that came
/// after it (a WebSocket client's first frames, if it did not wait).
pub(crate) async fn read_head(stream: &Async<TcpStream>) -> Result<(Head, Vec<u8>), HeadError> {
    future::or(read(stream), async {
        Timer::after(HEAD_TIMEOUT).await;
        Err(HeadError::Timeout)
    })
    .await
}

async fn read(mut stream: &Async<TcpStream>) -> Result<(Head, Vec<u8>), HeadError> {
    let mut buf = Vec::new();
    let mut chunk = [0; 1024];
    loop {
        let room = (MAX_HEAD + 1 - buf.len()).min(chunk.len());
        let n = stream.read(&mut chunk[..room]).await?;
        if n == 0 {
            return Err(HeadError::Closed);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some((head, len)) = parse(&buf)? {
            buf.drain(..len);
            return Ok((head, buf));
        }
        if buf.len() > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
    }
}

/// The head and its length, once `buf` holds all of it.
pub(crate) fn parse(buf: &[u8]) -> Result<Option<(Head, usize)>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD => len,
        Ok(httparse::Status::Complete(_)) | Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(error) => return Err(HeadError::Malformed(error.to_string())),
    };
    let target = request.path.unwrap_or("/");
    let mut head = Head {
        method: request.method.unwrap_or_default().to_owned(),
        path: target.split(['?', '#']).next().unwrap_or_default().to_owned(),
        http11: request.version == Some(1),
        ..Head::default()
    };
    for header in request.headers.iter() {
        let field = match header.name.to_ascii_lowercase().as_str() {
            "host" => Some(&mut head.host),
            "origin" => Some(&mut head.origin),
            "upgrade" => Some(&mut head.upgrade),
            "connection" => Some(&mut head.connection),
            "sec-websocket-key" => Some(&mut head.ws_key),
            "sec-websocket-version" => Some(&mut head.ws_version),
            // Lists: each line adds to what came before.
            "x-forwarded-for" | "forwarded" | "x-forwarded-proto" => None,
            _ => continue,
        };
        let value = std::str::from_utf8(header.value)
            .map_err(|_| HeadError::Malformed(format!("the {} header is not UTF-8", header.name)))?;
        let Some(field) = field else {
            head.forwarding.add(header.name, value);
            continue;
        };
        // Two Hosts or two Origins could make the origin check and a proxy
        // in front disagree about which one counts: refuse rather than pick.
        if field.replace(value.trim().to_owned()).is_some() {
            return Err(HeadError::Malformed(format!("the {} header is given twice", header.name)));
        }
    }
    Ok(Some((head, len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_routing_and_the_upgrade_need() {
        let raw = b"GET /ws?room=x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
            Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:8080\r\n\
            User-Agent: test\r\n\r\nEARLY";
        let (head, len) = parse(raw).unwrap().unwrap();
        assert_eq!(&raw[len..], b"EARLY");
        assert_eq!(head.method, "GET");
        assert_eq!(head.path, "/ws");
        assert!(head.http11);
        assert_eq!(head.host.as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(head.origin.as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(head.upgrade.as_deref(), Some("websocket"));
        assert_eq!(head.ws_key.as_deref(), Some("dGhlIHNhbXBsZSBub25jZQ=="));
        assert_eq!(head.ws_version.as_deref(), Some("13"));
        assert!(head.forwarding.is_empty());
    }

    #[test]
    fn forwarding_headers_are_lists_across_lines() {
        let raw = b"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\nx-forwarded-for: 192.0.2.7\r\n\
            X-Forwarded-Proto: https\r\n\r\n";
        let (head, _) = parse(raw).unwrap().unwrap();
        assert_eq!(head.forwarding.x_forwarded_for.as_deref(), Some("6.6.6.6, 192.0.2.7"));
        assert_eq!(head.forwarding.x_forwarded_proto.as_deref(), Some("https"));
        assert_eq!(head.forwarding.forwarded, None);
    }

    #[test]
    fn partial_heads_wait_and_bad_ones_are_refused() {
        assert!(parse(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap().is_none());
        assert!(matches!(parse(b"GET / HTTP/9.9\r\n\r\n"), Err(HeadError::Malformed(_))));
        assert!(matches!(parse(b"\x00\x01\x02 nonsense\r\n\r\n"), Err(HeadError::Malformed(_))));
        assert!(matches!(
            parse(b"GET / HTTP/1.1\r\nOrigin: http://a\r\norigin: http://b\r\n\r\n"),
            Err(HeadError::Malformed(_))
        ));
        let many: String = (0..60).map(|i| format!("X-{i}: y\r\n")).collect();
        assert!(matches!(parse(format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes()), Err(HeadError::TooLarge)));
    }
}
