//! Connections that are not clients yet (HTTP request heads, handshakes,
//! IRC before registration) are capped across every port and every
//! address: when the cap is reached the oldest is dropped, and clients are
//! never touched.

use std::io::{ErrorKind, Read};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use chatd_tests::{Client, Server, chatd};

/// Half of a request head, as a slow sender leaves it.
const HALF_HEAD: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";

/// Whether chatd closed `client` within `wait` (well before the head
/// timeout's 10 s, after which a head would be answered 408 and closed).
fn closed_within(client: &Client, wait: Duration) -> bool {
    let mut stream = client.stream();
    stream.set_read_timeout(Some(wait)).expect("set read timeout");
    let mut buf = [0; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return false,
            Err(e) => panic!("reading: {e}"),
        }
    }
}

fn dropped(client: &Client) -> bool {
    closed_within(client, Duration::from_secs(5))
}

/// A slow request head from `127.0.0.N`.
fn slow_head(server: &Server, n: u8) -> Client {
    let mut client = Client::connect_from(server.http_addr(), IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)));
    client.send_bytes(HALF_HEAD);
    client
}

#[test]
fn the_oldest_connections_that_are_not_clients_yet_make_room_and_clients_stay() {
    // At `debug`, chatd logs each connection with its peer.
    let server = Server::start_logging(chatd!(), &["--max-pending-connections", "4"], "info,chatd=debug");
    // Clients: a registered IRC user and a text user are never counted.
    let mut irc = server.irc("bob", "");
    let mut text = server.login("alice");
    // An IRC connection that never registers is the oldest newcomer.
    let unregistered = Client::connect(server.irc_addr());
    let port = unregistered.stream().local_addr().expect("local address").port();
    server.wait_for_log(&format!("peer=127.0.0.1:{port}"));
    // Then slow heads from many addresses, twice the cap.
    let heads: Vec<_> = (2..10).map(|n| slow_head(&server, n)).collect();
    assert!(dropped(&unregistered), "the unregistered IRC connection was the oldest");
    for (i, head) in heads[..4].iter().enumerate() {
        assert!(dropped(head), "head {i} was among the oldest");
    }
    server.wait_for_log("dropping the oldest");
    // A request that completes is answered, at the cost of the oldest head.
    let mut health = Client::connect_from(server.http_addr(), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 20)));
    health.send_bytes(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    health.expect_prefix("HTTP/1.1 200 ");
    assert!(dropped(&heads[4]), "the oldest head made room for the health check");
    for head in &heads[5..] {
        assert!(!closed_within(head, Duration::from_millis(300)), "a newer head is still being read");
    }
    // The clients are untouched.
    irc.irc("PING :still");
    irc.until("PONG");
    text.send("/nick alicia");
    text.expect("* you are now known as alicia");
}
