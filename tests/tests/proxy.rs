//! chatd behind a reverse proxy (`--trusted-proxy`): each client behind
//! the proxy is counted, locked out and capped by its own address, which
//! the proxy gives in a PROXY header (text and IRC ports) or in
//! `X-Forwarded-For` (HTTP); nobody else is believed. The proxy is the
//! tests' own small one (`chatd_tests::proxy`), a thread that connects to
//! chatd from 127.0.0.1, says who the client is and pipes the bytes.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};

use chatd_tests::proxy::{Proxy, Says, proxy_header};
use chatd_tests::{Client, READ_TIMEOUT, Server, chatd};
use tungstenite::client::IntoClientRequest;

const PASSWORD: &str = "Zq8-open-sesame";

/// Two clients on other machines, as far as chatd can tell.
const A: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const B: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));

fn tcp_from(addr: SocketAddr, source: IpAddr) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::new(source, 0).into()).unwrap();
    socket.connect(&addr.into()).unwrap();
    let stream = TcpStream::from(socket);
    stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    stream
}

fn welcomed(addr: SocketAddr, source: IpAddr) -> Client {
    let mut client = Client::connect_from(addr, source);
    client.expect_prefix("* Welcome to chatd, Guest");
    client
}

#[test]
fn behind_a_trusted_proxy_each_text_client_has_its_own_per_ip_cap() {
    for says in [Says::ProxyV1, Says::ProxyV2 { tls: false }] {
        let server = Server::start(chatd!(), &["--trusted-proxy", "127.0.0.1", "--max-per-ip", "2"]);
        let proxy = Proxy::start(server.addr(), says);
        let _held = [welcomed(proxy.addr(), A), welcomed(proxy.addr(), A)];
        let mut third = Client::connect_from(proxy.addr(), A);
        third.expect("* bye: too many connections from your address (at most 2); try again later");
        // Others behind the same proxy are not held back by A.
        let _others = [welcomed(proxy.addr(), B), welcomed(proxy.addr(), B)];
    }
}

#[test]
fn failed_logins_behind_a_proxy_lock_out_only_the_guesser() {
    let server = Server::start(chatd!(), &["--trusted-proxy", "127.0.0.1", "--flood-lines-per-sec", "0"]);
    let proxy = Proxy::start(server.addr(), Says::ProxyV1);
    // The owner registered from an address of its own, not through the proxy.
    let mut owner = welcomed(server.addr(), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 4)));
    owner.send(&format!("/register alice {PASSWORD} {PASSWORD}"));
    owner.expect("* account alice registered; you are logged in");
    owner.read_until("* logged in as alice");
    owner.send("/quit");
    owner.expect("* bye: quit");

    let mut guesser = welcomed(proxy.addr(), A);
    for guess in 1..=3 {
        guesser.send(&format!("/login alice Zq8-guess-{guess}"));
        guesser.line();
    }
    guesser.send(&format!("/login alice {PASSWORD}"));
    guesser.expect_prefix("! too many failed logins; try again in ");
    // The owner, behind the same proxy, logs in: the lockout is A's.
    let mut owner = welcomed(proxy.addr(), B);
    owner.send(&format!("/login alice {PASSWORD}"));
    owner.expect("* you are now known as alice");
}

#[test]
fn a_trusted_proxy_must_send_a_proxy_header_and_nobody_else_is_believed() {
    let server = Server::start(chatd!(), &["--trusted-proxy", "127.0.0.1", "--max-per-ip", "1"]);
    // The trusted peer without a header: refused, with the reason.
    let mut bare = Client::connect(server.addr());
    bare.send("/nick without-a-header");
    bare.expect("* bye: a connection from a trusted proxy must begin with a PROXY protocol header");
    bare.expect_eof();
    let mut garbled = Client::connect(server.addr());
    garbled.send_bytes(b"PROXY TCP4 not-an-address 10.0.0.1 1 2\r\n");
    garbled.expect_prefix("* bye: malformed PROXY protocol header");
    // A header names the client, and the cap counts the client.
    let header = proxy_header(Says::ProxyV1, "192.0.2.9:1".parse().unwrap(), server.addr());
    let mut named = Client::connect(server.addr());
    named.send_bytes(&header);
    named.expect_prefix("* Welcome to chatd, Guest");
    let mut again = Client::connect(server.addr());
    again.send_bytes(&header);
    again.expect("* bye: too many connections from your address (at most 1); try again later");
    // Anyone else is not asked for a header: its own address counts.
    let _a = welcomed(server.addr(), A);
    let mut second = Client::connect_from(server.addr(), A);
    second.expect("* bye: too many connections from your address (at most 1); try again later");
}

type Ws = tungstenite::WebSocket<TcpStream>;

/// A WebSocket through `addr` (the proxy or chatd) from `source`, with
/// `x_forwarded_for` sent by the client itself, if given; or the status
/// that refused it.
fn websocket(addr: SocketAddr, source: IpAddr, x_forwarded_for: Option<&str>) -> Result<Ws, u16> {
    let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
    if let Some(forged) = x_forwarded_for {
        request.headers_mut().insert("X-Forwarded-For", forged.parse().unwrap());
    }
    match tungstenite::client(request, tcp_from(addr, source)) {
        Ok((ws, _)) => Ok(ws),
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response))) => {
            Err(response.status().as_u16())
        }
        Err(error) => panic!("{error}"),
    }
}

#[test]
fn behind_a_trusted_http_proxy_each_browser_has_its_own_per_ip_cap() {
    let server = Server::start(chatd!(), &["--trusted-proxy", "127.0.0.1", "--max-per-ip", "1"]);
    let proxy = Proxy::start(server.http_addr(), Says::XForwardedFor);
    let _a = websocket(proxy.addr(), A, None).expect("A's first WebSocket");
    let _b = websocket(proxy.addr(), B, None).expect("B is not A, though both come through the proxy");
    assert_eq!(websocket(proxy.addr(), A, None).err(), Some(503), "A's second is over the cap");
    // What a client writes itself is left of what the proxy adds: not believed.
    assert_eq!(websocket(proxy.addr(), A, Some("192.0.2.9")).err(), Some(503));
    // Nor is X-Forwarded-For from anyone but the proxy.
    let direct = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 5));
    let _direct = websocket(server.http_addr(), direct, Some("192.0.2.10")).expect("a WebSocket");
    assert_eq!(websocket(server.http_addr(), direct, Some("192.0.2.11")).err(), Some(503));
}

/// Sends `request` as it is and returns the status of the answer.
fn status(addr: SocketAddr, request: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.strip_prefix("HTTP/1.1 ").and_then(|a| a.get(..3)).and_then(|s| s.parse().ok()).expect(&answer)
}

#[test]
fn without_the_flag_forwarding_headers_are_ignored_and_the_log_says_so_once() {
    let server = Server::start(chatd!(), &[]);
    let addr = server.http_addr();
    for client in ["192.0.2.1", "192.0.2.2"] {
        let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nX-Forwarded-For: {client}\r\n\r\n");
        assert_eq!(status(addr, &request), 200);
    }
    // Lines are written by a thread of chatd's own, in order: a second one
    // would follow the first at once.
    server.wait_for_log("ignored X-Forwarded-For");
    let logs = server.logs();
    let said = logs.lines().filter(|l| l.contains("ignored X-Forwarded-For")).count();
    assert_eq!(said, 1, "logs:\n{logs}");
}

#[test]
fn a_trusted_proxy_that_names_no_address_gets_a_400() {
    let server = Server::start(chatd!(), &["--trusted-proxy", "127.0.0.1"]);
    let addr = server.http_addr();
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nX-Forwarded-For: unknown\r\n\r\n");
    assert_eq!(status(addr, &request), 400);
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nX-Forwarded-For: 192.0.2.1\r\n\r\n");
    assert_eq!(status(addr, &request), 200);
}
