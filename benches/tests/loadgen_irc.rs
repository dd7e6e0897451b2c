//! loadgen's IRC mode end to end, against a tiny IRC server in this test
//! (registration, JOIN with its echo and `366`, PRIVMSG relayed to the other
//! members of the channel, a PING to every client), so the IRC framing and
//! parsing feed the same exact accounting as chat mode.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use chatd_benches::loadgen::cli::Args;
use chatd_benches::loadgen::run;
use clap::Parser;

/// Channel name → (nickname, connection) of each member.
type Channels = Arc<Mutex<HashMap<String, Vec<(String, TcpStream)>>>>;

/// Serves IRC on a fresh loopback port; nicknames in `taken` are refused
/// with `433`, and a client that sends `QUIT` after `cut_after` relayed
/// messages gets `ERROR` and is closed.
fn irc_server(taken: &'static [&'static str], cut_after: Option<usize>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let channels: Channels = Arc::default();
    let relayed = Arc::new(Mutex::new(0usize));
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (channels, relayed) = (channels.clone(), relayed.clone());
            thread::spawn(move || serve(stream, &channels, &relayed, taken, cut_after));
        }
    });
    addr
}

fn serve(stream: TcpStream, channels: &Channels, relayed: &Mutex<usize>, taken: &[&str], cut_after: Option<usize>) {
    let mut out = stream.try_clone().expect("clone");
    let mut nick = String::from("*");
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { return };
        let line = line.trim_end_matches('\r');
        let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
        let reply = match command {
            "NICK" if taken.contains(&rest) => format!(":test 433 * {rest} :Nickname is already in use\r\n"),
            "NICK" => {
                nick = rest.to_owned();
                String::new()
            }
            "USER" => format!(":test 001 {nick} :Welcome\r\n:test NOTICE {nick} :hi\r\nPING :test\r\n"),
            "PONG" => String::new(),
            "JOIN" => {
                let mut channels = channels.lock().expect("lock");
                let members = channels.entry(rest.to_owned()).or_default();
                let join = format!(":{nick}!{nick}@test JOIN {rest}\r\n");
                for (_, peer) in members.iter_mut() {
                    let _ = peer.write_all(join.as_bytes());
                }
                members.push((nick.clone(), out.try_clone().expect("clone")));
                format!("{join}:test 353 {nick} = {rest} :{nick}\r\n:test 366 {nick} {rest} :End of NAMES list\r\n")
            }
            "PRIVMSG" => {
                let (target, text) = rest.split_once(" :").expect("PRIVMSG target :text");
                let relay = format!(":{nick}!{nick}@test PRIVMSG {target} :{text}\r\n");
                let mut channels = channels.lock().expect("lock");
                for (who, peer) in channels.get_mut(target).into_iter().flatten() {
                    if *who != nick {
                        let _ = peer.write_all(relay.as_bytes());
                    }
                }
                let mut count = relayed.lock().expect("lock");
                *count += 1;
                if cut_after == Some(*count) {
                    let _ = out.write_all(b"ERROR :Closing Link: test (Excess Flood)\r\n");
                    let _ = out.shutdown(Shutdown::Both);
                    for (_, peer) in channels.get_mut(target).into_iter().flatten() {
                        let _ = peer.write_all(format!(":{nick}!{nick}@test QUIT :Excess Flood\r\n").as_bytes());
                    }
                    return;
                }
                String::new()
            }
            _ => format!(":test 421 {nick} {command} :Unknown command\r\n"),
        };
        if out.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

fn irc_args(addr: std::net::SocketAddr, extra: &[&str]) -> Args {
    let addr = format!("--addr={addr}");
    let base = ["loadgen", "--mode=irc", &addr, "--clients=5", "--rate=50", "--warmup=0.2"];
    let rest = ["--duration=0.8", "--drain=1", "--setup-timeout=10", "--threads=2", "--quiet", "--nick-prefix=t"];
    Args::parse_from(base.iter().chain(&rest).chain(extra))
}

#[test]
fn every_irc_delivery_is_accounted_for() {
    let summary = run::run(irc_args(irc_server(&[], None), &["--rooms=2"]));
    assert!(!summary.aborted, "{:?}", summary.first_error);
    assert_eq!(summary.ready, 5);
    assert_eq!(summary.sent, 50);
    // Rooms of 3 (clients 0, 2, 4) and 2 (clients 1, 3): 30 messages to 2
    // others, 20 to 1.
    assert_eq!(summary.expected, 30 * 2 + 20);
    assert_eq!(summary.delivered, summary.expected);
    assert_eq!((summary.lost.total, summary.duplicates, summary.misdelivered, summary.cut), (0, 0, 0, 0));
    assert_eq!(summary.server_errors, 0);
    assert_eq!(summary.exit_code(), 0);
}

#[test]
fn a_nickname_in_use_fails_the_setup_clearly() {
    let summary = run::run(irc_args(irc_server(&["t3"], None), &[]));
    assert!(summary.aborted);
    let error = summary.first_error.clone().expect("an error");
    assert!(error.contains("client 3 (t3) was refused") && error.contains(" 433 "), "{error}");
    assert_eq!(summary.exit_code(), 2);
}

#[test]
fn a_client_the_server_closes_is_cut_with_its_reason() {
    let mut args = irc_args(irc_server(&[], Some(10)), &[]);
    args.drain = 0.5; // what the cut client misses never comes
    let summary = run::run(args);
    assert!(!summary.aborted, "{:?}", summary.first_error);
    assert_eq!(summary.cut, 1);
    assert_eq!(summary.cut_reasons, [("Closing Link: test (Excess Flood)".to_owned(), 1)]);
    assert!(summary.lost.total > 0);
    assert_eq!(summary.lost.total, summary.lost.to_cut + summary.lost.from_cut);
    assert_eq!(summary.exit_code(), 1);
}
