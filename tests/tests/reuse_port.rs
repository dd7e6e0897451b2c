//! `--reuse-port`: several chatd processes, each with its own data, serve
//! one address; without it, a second chatd on a bound port fails to start.
#![cfg(target_os = "linux")]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use chatd_tests::{Client, Server, chatd};

/// Far more than chatd needs; a failure here means it hung.
const EXIT_LIMIT: Duration = Duration::from_secs(15);

/// Connections made to learn who answers. The kernel picks a listener by
/// hashing each connection's addresses, so with two listeners the chance
/// that every one of these lands on the same one is 2 in 2^64.
const CONNECTIONS: usize = 64;

/// The server names that answer `CONNECTIONS` fresh connections to `addr`,
/// read from each one's welcome.
fn who_answers(addr: SocketAddr) -> BTreeSet<String> {
    (0..CONNECTIONS)
        .map(|_| {
            let mut client = Client::connect(addr);
            let welcome = client.expect_prefix("* Welcome to ");
            welcome.split(',').next().unwrap_or_default().to_owned()
        })
        .collect()
}

/// A chatd named `name` with `--reuse-port`, on fresh ports or on those of
/// `shared_with`.
fn start_node(name: &str, shared_with: Option<&Server>) -> Server {
    let ports = shared_with.map(|first| [first.addr(), first.irc_addr(), first.http_addr()].map(|a| a.to_string()));
    let mut args = vec!["--reuse-port", "--server-name", name, "--max-per-ip", "0"];
    if let Some([text, irc, http]) = &ports {
        args.extend(["--listen", text, "--irc-listen", irc, "--http-listen", http]);
    }
    Server::start(chatd!(), &args)
}

#[test]
fn two_chatds_with_reuse_port_share_every_chat_port() {
    let mut north = start_node("north", None);
    let south = start_node("south", Some(&north));
    // Every chat port is the same address; each keeps a metrics port of its own.
    assert_eq!(south.addr(), north.addr());
    assert_eq!(south.irc_addr(), north.irc_addr());
    assert_eq!(south.http_addr(), north.http_addr());
    assert_ne!(south.metrics_addr(), north.metrics_addr());

    let both: BTreeSet<String> = ["* Welcome to north", "* Welcome to south"].map(String::from).into();
    assert_eq!(who_answers(north.addr()), both, "connections should be spread over both chatds");

    north.terminate();
    let status = north.wait_exit(EXIT_LIMIT);
    assert!(status.success(), "chatd exited with {status}; logs:\n{}", north.logs());
    let south_only: BTreeSet<String> = ["* Welcome to south".to_owned()].into();
    assert_eq!(who_answers(south.addr()), south_only, "the chatd left should serve every new connection");
}

#[test]
fn without_reuse_port_a_second_chatd_on_a_bound_port_fails_to_start() {
    let first = Server::start(chatd!(), &[]);
    let port = first.addr().to_string();
    let dir = tempfile::tempdir().unwrap();
    let (status, stderr) = Server::fail_to_start(chatd!(), dir.path(), &["--listen", &port]);
    assert!(!status.success(), "chatd exited with {status}");
    let plain = stderr.lines().find(|line| line.starts_with("chatd: ")).unwrap_or_default();
    assert!(plain.contains(&format!("cannot listen on {port}: Address already in use")), "{stderr}");

    // Sharing takes both: one chatd with the flag cannot join a port bound without it.
    let (status, stderr) = Server::fail_to_start(chatd!(), dir.path(), &["--listen", &port, "--reuse-port"]);
    assert!(!status.success(), "chatd exited with {status}");
    assert!(stderr.contains(&format!("cannot listen on {port}: Address already in use")), "{stderr}");
}
