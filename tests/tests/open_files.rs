//! The open-file limit is the real ceiling on connections: chatd says at
//! start how many it allows, warns when `--max-clients` asks for more, and
//! once the descriptors run out it still tells each new connection why it
//! is refused, and answers health checks and scrapes, while everyone
//! already connected is served as before.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use chatd_tests::{Client, READ_TIMEOUT, Server, chatd};

/// The status line of `GET path` on `addr`.
fn status_of(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(READ_TIMEOUT)).expect("set read timeout");
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_owned()
}

/// Connects text clients, keeping each one welcomed, until chatd refuses
/// one; returns what the refused one was told.
fn fill(server: &Server, held: &mut Vec<Client>) -> String {
    loop {
        assert!(held.len() < LIMIT as usize, "more connections than descriptors; logs:\n{}", server.logs());
        let mut client = server.connect();
        let line = client.line();
        if !line.starts_with("* Welcome") {
            return line;
        }
        held.push(client);
    }
}

/// Low enough to reach in a test, high enough for chatd to start.
const LIMIT: u64 = 96;

#[test]
fn chatd_reports_its_open_file_limit_and_refuses_past_it_with_a_reason() {
    let server = Server::start_with_open_files(chatd!(), LIMIT, &["--max-per-ip", "0"]);
    server.wait_for_log("the open-file limit allows about");
    server.wait_for_log("--max-clients is more than the open-file limit allows");
    let logs = server.logs();
    let allowed: u64 = logs
        .lines()
        .find_map(|line| line.split("allows about ").nth(1)?.split(' ').next()?.parse().ok())
        .expect("the count of connections in the log");
    assert!(allowed > 0 && allowed < LIMIT, "allowed {allowed} of {LIMIT}; logs:\n{logs}");

    // Fill every descriptor chatd has, and then some.
    let mut held: Vec<Client> = Vec::new();
    let refused = fill(&server, &mut held);
    assert_eq!(refused, "* bye: the server is at its limit of open connections; try again later");
    assert!(held.len() as u64 >= allowed, "{} held, {allowed} promised", held.len());

    // Health checks and scrapes are still answered, from the reserve;
    // anything else on the HTTP port hears why it is refused. Each is
    // asked right after a refusal says no descriptor is left, since one
    // freed by a connection on its way out would serve it as usual.
    assert_eq!(status_of(server.http_addr(), "/healthz"), "HTTP/1.1 200 OK");
    fill(&server, &mut held);
    assert_eq!(status_of(server.metrics_addr(), "/metrics"), "HTTP/1.1 200 OK");
    fill(&server, &mut held);
    assert_eq!(status_of(server.http_addr(), "/"), "HTTP/1.1 503 Service Unavailable");

    // Those already in are served as before.
    let (first, rest) = held.split_first_mut().expect("someone got in");
    let second = &mut rest[0];
    first.send("/create full");
    first.read_until_prefix("* you are now in full");
    second.send("/join full");
    second.read_until_prefix("* you are now in full");
    first.send("still here");
    let heard = std::iter::repeat_with(|| second.line()).find(|line| line.ends_with("still here"));
    assert!(heard.is_some());

    // A place freed is a place taken again.
    drop(held.pop());
    let mut again = (0..50)
        .map(|_| {
            let mut client = server.connect();
            let line = client.line();
            (client, line)
        })
        .find(|(_, line)| line.starts_with("* Welcome"))
        .map(|(client, _)| client)
        .expect("a freed descriptor lets a new client in");
    again.send("/users");
    again.expect_prefix("* online");
}
