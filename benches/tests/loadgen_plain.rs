//! loadgen end to end, without chatd: plain mode against a tiny broadcast
//! server in this test (each line goes to every other client), so the
//! whole pipeline (connect, schedule, send, receive, account) is checked
//! for exactness on every `cargo test`.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use chatd_benches::loadgen::cli::Args;
use chatd_benches::loadgen::run;
use clap::Parser;

/// Accepts `clients` connections, then relays each line to all the others
/// (or, with `drop_every`, silently drops every n-th relayed line).
fn broadcast_server(clients: usize, drop_every: Option<usize>) -> std::net::SocketAddr {
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
                    if drop_every.is_some_and(|n| *count % n == 0) {
                        continue;
                    }
                    for (other, peer) in peers.lock().expect("lock").iter_mut().enumerate() {
                        if other != me {
                            let _ = peer.write_all(format!("{line}\n").as_bytes());
                        }
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
    let summary = run::run(plain_args(broadcast_server(clients, None), clients));
    assert!(!summary.aborted, "{:?}", summary.first_error);
    assert_eq!(summary.sent, 280);
    assert_eq!(summary.expected, 280 * (clients as u64 - 1));
    assert_eq!(summary.delivered, summary.expected);
    assert_eq!((summary.lost, summary.duplicates, summary.misdelivered), (0, 0, 0));
    assert_eq!(summary.exit_code(), 0);
}

#[test]
fn a_dropped_delivery_is_counted_and_fails_the_run() {
    let clients = 4;
    let summary = run::run(plain_args(broadcast_server(clients, Some(50)), clients));
    assert!(!summary.aborted, "{:?}", summary.first_error);
    // Every 50th message is dropped for all 3 recipients.
    assert_eq!(summary.lost, 280 / 50 * 3);
    assert_eq!(summary.lost, summary.expected - summary.delivered);
    assert_eq!(summary.exit_code(), 1);
}
