//! loadgen end to end, without chatd: plain mode against a tiny broadcast
//! server in this test (each line goes to every other client), so the
//! whole pipeline (connect, schedule, send, receive, account) is checked
//! for exactness on every `cargo test`.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use chatd_benches::loadgen::cli::Args;
use chatd_benches::loadgen::run;
use clap::Parser;

/// What the test server does wrong, on purpose.
#[derive(Debug, Clone, Copy, Default)]
struct Faults {
    /// Silently drop every n-th relayed line.
    drop_every: Option<usize>,
    /// After relaying n lines, say goodbye to the first client accepted and
    /// close its connection, as chatd does when a send queue overflows.
    cut_after: Option<usize>,
}

/// Accepts `clients` connections, then relays each line to all the others
/// (misbehaving as `faults` says).
fn broadcast_server(clients: usize, faults: Faults) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    thread::spawn(move || {
        let peers: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let relayed = Arc::new(Mutex::new(0usize));
        for (me, stream) in listener.incoming().take(clients).enumerate() {
            let stream = stream.expect("accept");
            peers.lock().expect("lock").push(stream.try_clone().expect("clone"));
            let (peers, relayed) = (peers.clone(), relayed.clone());
            thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { return };
                    let mut count = relayed.lock().expect("lock");
                    *count += 1;
                    if faults.drop_every.is_some_and(|n| *count % n == 0) {
                        continue;
                    }
                    let mut peers = peers.lock().expect("lock");
                    for (other, peer) in peers.iter_mut().enumerate() {
                        if other != me {
                            let _ = peer.write_all(format!("{line}\n").as_bytes());
                        }
                    }
                    if faults.cut_after == Some(*count) {
                        let _ = peers[0].write_all(b"* bye: send queue exceeded\n");
                        let _ = peers[0].shutdown(Shutdown::Both);
                    }
                }
            });
        }
    });
    addr
}

fn plain_args(addr: std::net::SocketAddr, clients: usize) -> Args {
    Args::parse_from([
        "loadgen",
        "--mode=plain",
        &format!("--addr={addr}"),
        &format!("--clients={clients}"),
        "--rate=400",
        "--warmup=0.2",
        "--duration=0.5",
        "--drain=2",
        "--setup-timeout=10",
        "--threads=2",
        "--quiet",
    ])
}

#[test]
fn every_delivery_is_accounted_for() {
    let clients = 8;
    let summary = run::run(plain_args(broadcast_server(clients, Faults::default()), clients));
    assert!(!summary.aborted, "{:?}", summary.first_error);
    assert_eq!(summary.sent, 280);
    assert_eq!(summary.expected, 280 * (clients as u64 - 1));
    assert_eq!(summary.delivered, summary.expected);
    assert_eq!((summary.lost.total, summary.duplicates, summary.misdelivered, summary.cut), (0, 0, 0, 0));
    assert_eq!(summary.exit_code(), 0);
}

#[test]
fn a_dropped_delivery_is_counted_and_fails_the_run() {
    let clients = 4;
    let summary =
        run::run(plain_args(broadcast_server(clients, Faults { drop_every: Some(50), ..Faults::default() }), clients));
    assert!(!summary.aborted, "{:?}", summary.first_error);
    // Every 50th message is dropped for all 3 recipients.
    assert_eq!(summary.lost.total, 280 / 50 * 3);
    assert_eq!(summary.lost.total, summary.expected - summary.delivered);
    assert_eq!(summary.exit_code(), 1);
}

#[test]
fn a_client_the_server_cuts_is_reported_with_its_reason_and_fails_the_run() {
    let clients = 4;
    let mut args = plain_args(broadcast_server(clients, Faults { cut_after: Some(40), ..Faults::default() }), clients);
    args.drain = 0.5; // what the cut client misses never comes
    let summary = run::run(args);
    assert!(!summary.aborted, "{:?}", summary.first_error);
    assert_eq!(summary.cut, 1);
    assert_eq!(summary.cut_reasons, [("send queue exceeded".to_owned(), 1)]);
    // Everything missing went to the cut client or was sent by it.
    assert!(summary.lost.to_cut > 0, "{:?}", summary.lost);
    assert_eq!(summary.lost.total, summary.lost.to_cut + summary.lost.from_cut);
    assert_eq!(summary.exit_code(), 1);
    assert!(summary.to_text().contains("cut       1 client (send queue exceeded)"), "{}", summary.to_text());
}

#[test]
fn a_burst_is_sent_at_once_and_every_delivery_is_accounted_for() {
    let clients = 6;
    let addr = broadcast_server(clients, Faults::default());
    let summary = run::run(Args::parse_from([
        "loadgen",
        "--mode=plain",
        &format!("--addr={addr}"),
        &format!("--clients={clients}"),
        "--schedule=burst",
        "--burst-senders=5",
        "--burst-lines=3",
        "--burst-gap=0.2",
        "--size=1900",
        "--drain=2",
        "--setup-timeout=10",
        "--threads=2",
        "--quiet",
    ]));
    assert!(!summary.aborted, "{:?}", summary.first_error);
    // 5 senders × 3 lines, each to the 5 other clients.
    assert_eq!(summary.sent, 15);
    assert_eq!(summary.expected, 15 * 5);
    assert_eq!(summary.delivered, summary.expected);
    assert_eq!((summary.lost.total, summary.duplicates, summary.misdelivered, summary.cut), (0, 0, 0, 0));
    let burst = summary.burst.expect("a burst run reports its burst");
    assert_eq!((burst.senders, burst.lines, burst.bursts), (5, 3, 1));
    let readers = burst.readers.expect("client 5 only reads");
    assert_eq!((readers.clients, readers.cut, readers.received, readers.expected), (1, 0, 15, 15));
    let last = burst.last_delivery_ms.expect("deliveries arrived");
    let latency = summary.latency.expect("deliveries are timed");
    assert_eq!(latency.count, 75);
    assert!(latency.max <= last * 1.001 + 0.001, "{latency:?} against {last} ms");
    assert_eq!(summary.exit_code(), 0);
}
