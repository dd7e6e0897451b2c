//! The PROXY protocol header (HAProxy's, v1 text or v2 binary) that a
//! trusted proxy puts before the client's bytes on a TCP connection.
//!
//! The header is read exactly, never a byte past it, so whatever the
//! client sent after it is left in the socket for the connection's own
//! reader. The protocol forbids guessing whether a header is there: from a
//! trusted proxy it must be, and a connection without one is refused.
//! Parsing is the `ppp` crate's.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use futures_lite::{AsyncReadExt, future};
use ppp::v2::{self, Addresses, Command};
use ppp::{HeaderResult, v1};
use smol::{Async, Timer};

use super::Client;

/// Time a trusted proxy has to send the header: the same as an HTTP head.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// Longest header accepted. v1 is at most 107 bytes; a v2 header's
/// extensions (TLS details, a connection id) take a few hundred at most.
pub(crate) const MAX_HEADER: usize = 4096;

/// The v2 header's first 12 bytes.
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// The shortest header of either version: v1's `PROXY UNKNOWN\r\n`.
const SHORTEST: usize = 15;

/// v1's longest header, CRLF included.
const V1_MAX: usize = 107;

/// The v2 extension that says how the client connected (`PP2_TYPE_SSL`),
/// and its flag for a client that used TLS (`PP2_CLIENT_SSL`).
const TLV_SSL: u8 = 0x20;
const CLIENT_SSL: u8 = 0x01;

/// Why a trusted proxy's connection is refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HeaderError {
    /// The connection does not begin with a PROXY header.
    #[error("a connection from a trusted proxy must begin with a PROXY protocol header")]
    Missing,
    /// It begins like one, but is not a valid one.
    #[error("malformed PROXY protocol header: {0}")]
    Malformed(String),
    /// A v2 header longer than [`MAX_HEADER`].
    #[error("the PROXY protocol header is longer than {MAX_HEADER} bytes")]
    TooLarge,
    /// [`TIMEOUT`] passed first.
    #[error("no PROXY protocol header within {} s", TIMEOUT.as_secs())]
    Timeout,
    /// The connection failed or closed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Reads the header that begins `stream`. `None`: the proxy speaks for
/// itself (a v2 `LOCAL` command, a v1 `UNKNOWN`, such as a health check),
/// so its own address counts.
pub(crate) async fn read(stream: &Async<TcpStream>) -> Result<Option<Client>, HeaderError> {
    future::or(read_header(stream), async {
        Timer::after(TIMEOUT).await;
        Err(HeaderError::Timeout)
    })
    .await
}

async fn read_header(mut stream: &Async<TcpStream>) -> Result<Option<Client>, HeaderError> {
    // A byte at a time until it is clear which version this is, so that a
    // connection without a header is told so at once rather than at the
    // deadline, and nothing past a short header is taken.
    let mut buf = Vec::with_capacity(SHORTEST);
    let mut byte = [0];
    while buf.len() < SHORTEST {
        stream.read_exact(&mut byte).await?;
        buf.push(byte[0]);
        let agrees = |start: &[u8]| start.starts_with(&buf) || buf.starts_with(start);
        if !agrees(b"PROXY ") && !agrees(V2_SIGNATURE) {
            return Err(HeaderError::Missing);
        }
    }
    if buf.starts_with(V2_SIGNATURE) {
        // The fixed part is 16 bytes; its last two are the length of the rest.
        buf.push(0);
        stream.read_exact(&mut buf[SHORTEST..]).await?;
        let rest = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
        if buf.len() + rest > MAX_HEADER {
            return Err(HeaderError::TooLarge);
        }
        let fixed = buf.len();
        buf.resize(fixed + rest, 0);
        stream.read_exact(&mut buf[fixed..]).await?;
    } else {
        // A v1 header ends at its CRLF: read up to it one byte at a time,
        // so not a byte of the client's is taken.
        while !buf.ends_with(b"\r\n") {
            if buf.len() >= V1_MAX {
                return Err(HeaderError::Malformed(format!("no line end within {} bytes", V1_MAX)));
            }
            stream.read_exact(&mut byte).await?;
            buf.push(byte[0]);
        }
    }
    parse(&buf)
}

/// The client a whole header names.
pub(crate) fn parse(header: &[u8]) -> Result<Option<Client>, HeaderError> {
    let malformed = |error: &dyn std::fmt::Display| HeaderError::Malformed(error.to_string());
    match HeaderResult::parse(header) {
        HeaderResult::V1(Ok(header)) => Ok(match header.addresses {
            v1::Addresses::Tcp4(ip) => Some(SocketAddr::from((ip.source_address, ip.source_port))),
            v1::Addresses::Tcp6(ip) => Some(SocketAddr::from((ip.source_address, ip.source_port))),
            v1::Addresses::Unknown => None,
        }
        .map(|addr| Client { addr, tls: false })),
        HeaderResult::V1(Err(error)) => Err(malformed(&error)),
        HeaderResult::V2(Ok(header)) => {
            let addr = match header.addresses {
                _ if header.command == Command::Local => return Ok(None),
                Addresses::IPv4(ip) => SocketAddr::from((ip.source_address, ip.source_port)),
                Addresses::IPv6(ip) => SocketAddr::from((ip.source_address, ip.source_port)),
                Addresses::Unspecified | Addresses::Unix(_) => return Ok(None),
            };
            let tls = tls_extension(&header)?;
            Ok(Some(Client { addr, tls }))
        }
        HeaderResult::V2(Err(error)) => Err(malformed(&error)),
    }
}

/// Whether the v2 header's TLS extension says the client used TLS.
fn tls_extension(header: &v2::Header<'_>) -> Result<bool, HeaderError> {
    for tlv in header.tlvs() {
        let tlv = tlv.map_err(|error| HeaderError::Malformed(error.to_string()))?;
        if tlv.kind == TLV_SSL {
            return Ok(tlv.value.first().is_some_and(|client| client & CLIENT_SSL != 0));
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A v2 header: `command` (0 LOCAL, 1 PROXY), family and protocol
    /// byte, then addresses and extensions as given.
    fn v2(command: u8, family: u8, rest: &[u8]) -> Vec<u8> {
        let mut header = V2_SIGNATURE.to_vec();
        header.push(0x20 | command);
        header.push(family);
        header.extend_from_slice(&u16::try_from(rest.len()).unwrap().to_be_bytes());
        header.extend_from_slice(rest);
        header
    }

    /// IPv4 source 192.0.2.7:4242, destination 10.0.0.1:7878.
    const V4_ADDRESSES: [u8; 12] = [192, 0, 2, 7, 10, 0, 0, 1, 0x10, 0x92, 0x1e, 0xc6];

    #[test]
    fn v1_names_the_client() {
        let client = parse(b"PROXY TCP4 192.0.2.7 10.0.0.1 4242 7878\r\n").unwrap().unwrap();
        assert_eq!(client, Client { addr: "192.0.2.7:4242".parse().unwrap(), tls: false });
        let client = parse(b"PROXY TCP6 2001:db8::7 2001:db8::1 4242 7878\r\n").unwrap().unwrap();
        assert_eq!(client.addr, "[2001:db8::7]:4242".parse().unwrap());
        assert_eq!(parse(b"PROXY UNKNOWN\r\n").unwrap(), None, "the proxy speaks for itself");
    }

    #[test]
    fn v2_names_the_client_and_whether_it_used_tls() {
        let plain = v2(1, 0x11, &V4_ADDRESSES);
        assert_eq!(parse(&plain).unwrap(), Some(Client { addr: "192.0.2.7:4242".parse().unwrap(), tls: false }));
        // PP2_TYPE_SSL: client flags (PP2_CLIENT_SSL), verify (4 bytes), no sub-extensions.
        let mut with_tls = V4_ADDRESSES.to_vec();
        with_tls.extend_from_slice(&[TLV_SSL, 0, 5, CLIENT_SSL, 0, 0, 0, 0]);
        assert!(parse(&v2(1, 0x11, &with_tls)).unwrap().unwrap().tls);
        assert_eq!(parse(&v2(0, 0x00, &[])).unwrap(), None, "LOCAL: a health check");
    }

    #[test]
    fn malformed_headers_are_refused() {
        assert!(matches!(parse(b"PROXY TCP4 nonsense\r\n"), Err(HeaderError::Malformed(_))));
        assert!(matches!(parse(b"PROXY TCP4 192.0.2.7 10.0.0.1 4242\r\n"), Err(HeaderError::Malformed(_))));
        let mut bad_tlv = V4_ADDRESSES.to_vec();
        bad_tlv.extend_from_slice(&[TLV_SSL, 0, 9, 1]);
        assert!(matches!(parse(&v2(1, 0x11, &bad_tlv)), Err(HeaderError::Malformed(_))));
    }

    /// Reads from a real socket: exactly the header, leaving the client's
    /// first bytes, whichever version, and refusing a connection without
    /// one as soon as its first bytes show it (the client here waits).
    #[test]
    fn reads_exactly_the_header() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let v2_header = v2(1, 0x11, &V4_ADDRESSES);
        let cases: [(&[u8], bool); 4] = [
            (b"PROXY TCP4 192.0.2.7 10.0.0.1 4242 7878\r\nhello\n", true),
            (&[v2_header.as_slice(), b"hello\n"].concat(), true),
            (b"PROXY UNKNOWN\r\nhello\n", true),
            (b"hello\n", false),
        ];
        for (sent, ok) in cases {
            let mut client = std::net::TcpStream::connect(addr).unwrap();
            std::io::Write::write_all(&mut client, sent).unwrap();
            let (server, _) = listener.accept().unwrap();
            let server = Async::new(server).unwrap();
            let read = smol::block_on(read(&server));
            assert_eq!(read.is_ok(), ok, "{read:?}");
            if ok {
                let mut rest = [0; 6];
                smol::block_on((&server).read_exact(&mut rest)).unwrap();
                assert_eq!(&rest, b"hello\n");
            } else {
                assert!(matches!(read, Err(HeaderError::Missing)));
            }
        }
    }
}
