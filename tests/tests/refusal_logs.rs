//! A flood of refused connections against the real chatd writes a line
//! for the first refusal and then sums the rest up, instead of one log
//! line per refusal.

use std::net::{IpAddr, Ipv4Addr};

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
    // chatd answered the last refusal, so it has logged whatever it would for them.
    let logs = server.logs();
    let lines = logs.lines().filter(|line| line.contains("refused")).count();
    assert_eq!(lines, 1, "one line for 200 refusals; logs:\n{logs}");
}
