//! Stopping one of several chatds that share a port (`--reuse-port`): no
//! connection that reached it is dropped unanswered. Each one is either
//! served by the chatd left or told, by the one stopping, to reconnect.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use chatd_tests::{READ_TIMEOUT, Server, chatd};

/// Far more than chatd needs; a failure here means it hung.
const EXIT_LIMIT: Duration = Duration::from_secs(15);

/// Connections opened while one chatd stops, by [`CONNECTING_THREADS`].
const CONNECTIONS: usize = 200;
const CONNECTING_THREADS: usize = 4;

/// Connections opened before the signal. The kernel spreads them by a hash
/// of their addresses, so with two chatds the chance that none reaches the
/// one being stopped is 2 in 2^40.
const BEFORE_THE_SIGNAL: usize = 40;

/// The pause between one thread's connections: the 200 then span the
/// signal, the second during which the stopping chatd still takes what
/// was under way, and its close.
const PACE: Duration = Duration::from_millis(15);

const GOODBYE: &str = "* bye: server is shutting down; reconnect";

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
                (0..CONNECTIONS / CONNECTING_THREADS)
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
        "{} of {CONNECTIONS} connections were dropped: {dropped:?}\nnorth's logs:\n{}",
        dropped.len(),
        north.logs()
    );
    // Both fates happened: the test did stop a chatd that had connections.
    let told = fates.iter().filter(|fate| fate.as_ref() == Ok(&Fate::ToldToReconnect)).count();
    assert!(told > 0 && told < CONNECTIONS, "{told} of {CONNECTIONS} told to reconnect");
    drop(south);
}
