//! A flood of refused connections against the real chatd writes a line
//! for the first refusal and then sums the rest up, instead of one log
//! line per refusal; connections that come and go write nothing at the
//! default level.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};

use chatd_tests::{Server, chatd};

#[test]
fn a_flood_of_refused_connections_logs_its_first_refusal_only() {
    let server = Server::start(chatd!(), &["--max-per-ip", "1"]);
    let source = IpAddr::V4(Ipv4Addr::new(127, 0, 6, 1));
    let mut held = server.connect_from(source);
    held.expect_prefix("* Welcome");
    for _ in 0..200 {
        let mut refused = server.connect_from(source);
        refused.expect("* bye: too many connections from your address (at most 1); try again later");
        refused.expect_eof();
    }
    // chatd answered the last refusal, so it has queued whatever it would
    // log for them; its log thread writes the lines in order, so any
    // second line follows the first at once.
    server.wait_for_log("refused");
    let logs = server.logs();
    let lines = logs.lines().filter(|line| line.contains("refused")).count();
    assert_eq!(lines, 1, "one line for 200 refusals; logs:\n{logs}");
}

#[test]
fn connection_churn_from_two_addresses_writes_no_line_per_connection() {
    let server = Server::start(chatd!(), &[]);
    // The last line of start-up: chatd may still be writing it when the
    // first clients could connect.
    server.wait_for_log("the open-file limit allows about");
    let quiet = server.logs().len();
    for i in 0..200u8 {
        let mut client = server.connect_from(IpAddr::V4(Ipv4Addr::new(127, 0, 7, i % 2 + 1)));
        client.expect_prefix("* Welcome");
    }
    // Each welcome came after its connection was taken in, so whatever
    // chatd logs per connection it has logged for all but the last few
    // departures.
    let logs = server.logs();
    let churn = &logs[quiet..];
    assert!(churn.lines().count() < 5, "400 connections wrote:\n{churn}");
}

#[test]
fn a_flood_of_websockets_from_another_sites_page_is_summed_up() {
    let server = Server::start(chatd!(), &[]);
    let addr = server.http_addr();
    let upgrade = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://evil.example\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    for _ in 0..50 {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(chatd_tests::READ_TIMEOUT)).unwrap();
        stream.write_all(upgrade.as_bytes()).unwrap();
        // The close frame (its first byte 0x88, never in the text of the
        // 101) follows the 101 once the refusal is noted.
        let mut answer = Vec::new();
        let mut buf = [0; 512];
        while !answer.contains(&0x88) {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "closed before the close frame: {}", String::from_utf8_lossy(&answer));
            answer.extend_from_slice(&buf[..n]);
        }
    }
    server.wait_for_log("another site's page");
    let logs = server.logs();
    let lines = logs.lines().filter(|line| line.contains("another site's page")).count();
    assert_eq!(lines, 1, "one line for 50 refusals; logs:\n{logs}");
}
