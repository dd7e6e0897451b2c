//! `--reuse-port`: several chatd processes, each with its own data, serve
//! one address; without it, a second chatd on a bound port fails to start.
//! Stopping one of them drops no connection that reached it: each is
//! either served by the chatd left or told, by the one stopping, to
//! reconnect.
#![cfg(target_os = "linux")]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use chatd_tests::{Client, READ_TIMEOUT, Server, chatd};

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

/// Connections opened while one chatd stops, by [`CONNECTING_THREADS`].
const STOPPING_CONNECTIONS: usize = 200;
const CONNECTING_THREADS: usize = 4;

/// Connections opened before the signal. The kernel spreads them by a hash
/// of their addresses, so with two chatds the chance that none reaches the
/// one being stopped is 2 in 2^40.
const BEFORE_THE_SIGNAL: usize = 40;

/// The pause between one thread's connections: the 200 then span the
/// signal, the half second during which the stopping chatd still takes
/// what was under way, and its close.
const PACE: Duration = Duration::from_millis(15);

const GOODBYE: &str = "* bye: server is shutting down; reconnect";

/// What became of one connection.
#[derive(Debug, PartialEq, Eq)]
enum Fate {
    /// Welcomed by the chatd that stays.
    Served,
    /// Told by the chatd that stopped to reconnect, then closed.
    ToldToReconnect,
}

/// Reads what `stream` was told: a welcome from `stays`, or everything up
/// to the end of the connection, which must end with the goodbye.
fn fate(stream: TcpStream, stays: &str) -> Result<Fate, String> {
    stream.set_read_timeout(Some(READ_TIMEOUT)).map_err(|e| e.to_string())?;
    let mut lines = Vec::new();
    for line in BufReader::new(stream).lines() {
        let line = line.map_err(|error| format!("{error} after {lines:?}"))?;
        if lines.is_empty() && line.starts_with(&format!("* Welcome to {stays},")) {
            return Ok(Fate::Served);
        }
        lines.push(line);
    }
    match lines.last() {
        Some(last) if last == GOODBYE => Ok(Fate::ToldToReconnect),
        _ => Err(format!("closed after {lines:?}")),
    }
}

#[test]
fn a_stopped_node_drops_no_connection_it_was_handed() {
    let mut north = start_node("north", None);
    let south = start_node("south", Some(&north));
    let addr: SocketAddr = north.addr();

    let opened = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(CONNECTING_THREADS));
    let connecting: Vec<_> = (0..CONNECTING_THREADS)
        .map(|_| {
            let (opened, start) = (opened.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                (0..STOPPING_CONNECTIONS / CONNECTING_THREADS)
                    .map(|_| {
                        // A SYN the stopping chatd dropped is sent again a
                        // second later, within the connect's own wait.
                        let stream = TcpStream::connect(addr).map_err(|error| format!("connect: {error}"));
                        opened.fetch_add(1, Ordering::SeqCst);
                        thread::sleep(PACE);
                        stream
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    while opened.load(Ordering::SeqCst) < BEFORE_THE_SIGNAL {
        thread::sleep(Duration::from_millis(1));
    }
    north.terminate();
    let streams: Vec<_> = connecting.into_iter().flat_map(|thread| thread.join().expect("connecting thread")).collect();
    let status = north.wait_exit(EXIT_LIMIT);
    assert!(status.success(), "chatd exited with {status}; logs:\n{}", north.logs());

    let fates: Vec<_> = streams.into_iter().map(|stream| stream.and_then(|stream| fate(stream, "south"))).collect();
    let dropped: Vec<_> = fates.iter().filter_map(|fate| fate.as_ref().err()).collect();
    assert!(
        dropped.is_empty(),
        "{} of {STOPPING_CONNECTIONS} connections were dropped: {dropped:?}\nnorth's logs:\n{}",
        dropped.len(),
        north.logs()
    );
    // Both fates happened: the test did stop a chatd that had connections.
    let told = fates.iter().filter(|fate| fate.as_ref() == Ok(&Fate::ToldToReconnect)).count();
    assert!(told > 0 && told < STOPPING_CONNECTIONS, "{told} of {STOPPING_CONNECTIONS} told to reconnect");
    drop(south);
}
