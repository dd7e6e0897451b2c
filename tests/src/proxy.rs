//! A small reverse proxy for the tests of `--trusted-proxy`: it accepts
//! clients, connects to chatd from 127.0.0.1, says who the client is (a
//! PROXY protocol header, or an `X-Forwarded-For` header added to the
//! request head) and pipes the bytes both ways.

use std::io::{Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};

/// How the proxy tells chatd who the client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Says {
    /// A PROXY protocol v1 header (`PROXY TCP4 …\r\n`).
    ProxyV1,
    /// A PROXY protocol v2 header; `tls` sets its TLS extension, as a proxy
    /// that terminated the client's TLS does.
    ProxyV2 { tls: bool },
    /// `X-Forwarded-For: <client>` added to the HTTP request head.
    XForwardedFor,
}

/// A running proxy in front of one chatd port; it runs until the test ends.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
}

impl Proxy {
    /// A proxy on a free port of 127.0.0.1 in front of `upstream`.
    pub fn start(upstream: SocketAddr, says: Says) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                std::thread::spawn(move || forward(client, upstream, says));
            }
        });
        Proxy { addr }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// The header that introduces `client`, who reached the proxy at `proxy`.
pub fn proxy_header(says: Says, client: SocketAddr, proxy: SocketAddr) -> Vec<u8> {
    match says {
        Says::ProxyV1 => {
            let family = if client.is_ipv4() { "TCP4" } else { "TCP6" };
            let (src, dst) = (client.ip(), proxy.ip());
            format!("PROXY {family} {src} {dst} {} {}\r\n", client.port(), proxy.port()).into_bytes()
        }
        Says::ProxyV2 { tls } => {
            let (IpAddr::V4(src), IpAddr::V4(dst)) = (client.ip(), proxy.ip()) else {
                panic!("the tests' proxy speaks v2 for IPv4 only")
            };
            let mut rest = Vec::new();
            rest.extend_from_slice(&src.octets());
            rest.extend_from_slice(&dst.octets());
            rest.extend_from_slice(&client.port().to_be_bytes());
            rest.extend_from_slice(&proxy.port().to_be_bytes());
            if tls {
                // PP2_TYPE_SSL, length 5: PP2_CLIENT_SSL, then a verify result of 0.
                rest.extend_from_slice(&[0x20, 0, 5, 0x01, 0, 0, 0, 0]);
            }
            let mut header = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
            // Version 2, PROXY; TCP over IPv4.
            header.extend_from_slice(&[0x21, 0x11]);
            header.extend_from_slice(&u16::try_from(rest.len()).expect("a short header").to_be_bytes());
            header.extend_from_slice(&rest);
            header
        }
        Says::XForwardedFor => panic!("X-Forwarded-For goes inside the request head"),
    }
}

fn forward(mut client: TcpStream, upstream: SocketAddr, says: Says) {
    let (Ok(peer), Ok(local)) = (client.peer_addr(), client.local_addr()) else { return };
    let Ok(mut server) = TcpStream::connect(upstream) else { return };
    let said = match says {
        Says::XForwardedFor => {
            let Some(head) = read_head(&mut client) else { return };
            with_forwarded_for(&head, peer.ip())
        }
        _ => proxy_header(says, peer, local),
    };
    if server.write_all(&said).is_err() {
        return;
    }
    let (Ok(mut client_rx), Ok(mut server_tx)) = (client.try_clone(), server.try_clone()) else { return };
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_rx, &mut server_tx);
        let _ = server_tx.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut server, &mut client);
    let _ = client.shutdown(Shutdown::Write);
    let _ = up.join();
}

/// The request head and whatever came with it, up to its blank line.
fn read_head(client: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0];
    while !head.ends_with(b"\r\n\r\n") {
        client.read_exact(&mut byte).ok()?;
        head.push(byte[0]);
    }
    Some(head)
}

/// `head` with `X-Forwarded-For: client` as its last header, so that it
/// ends the list after any the client sent itself (as nginx's
/// `$proxy_add_x_forwarded_for` does).
fn with_forwarded_for(head: &[u8], client: IpAddr) -> Vec<u8> {
    let mut out = head[..head.len() - 2].to_vec();
    out.extend_from_slice(format!("X-Forwarded-For: {client}\r\n\r\n").as_bytes());
    out
}
