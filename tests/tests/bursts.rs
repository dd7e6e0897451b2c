//! Bursts of legal traffic never cut a reader that keeps up; a reader that
//! stopped is still cut, and nobody waits for it. The send queue judges how
//! far a client is behind, not how much one batch of the server produced.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use chatd_tests::{Client, Server, chatd};

const ROOM: &str = "burst";

/// A logged-in text client from its own loopback address (the per-address
/// cap is 16 at the defaults), in `ROOM`.
fn member(server: &Server, nick: &str, index: u8, create: bool) -> Client {
    let mut client = server.connect_from(IpAddr::V4(Ipv4Addr::new(127, 0, 1, index)));
    client.expect_prefix("* Welcome to ");
    client.send(&format!("/nick {nick}"));
    client.expect(&format!("* you are now known as {nick}"));
    client.send(&format!("/{} {ROOM}", if create { "create" } else { "join" }));
    client.read_until_prefix(&format!("* you are now in {ROOM} "));
    client
}

/// Reads lines until `count` room messages have arrived, failing on a
/// disconnect; returns them.
fn read_messages(client: &mut Client, count: usize) -> Vec<String> {
    let mut messages = Vec::with_capacity(count);
    while messages.len() < count {
        let line = match client.try_line() {
            Ok(Some(line)) => line,
            Ok(None) => panic!("cut after {} of {count} messages", messages.len()),
            Err(error) => panic!("stalled after {} of {count} messages: {error}", messages.len()),
        };
        assert!(!line.starts_with("* bye"), "cut after {} of {count} messages: {line}", messages.len());
        if line.starts_with(&format!("[{ROOM}] ")) {
            messages.push(line);
        }
    }
    messages
}

/// 40 people each send flood control's whole burst (10 lines) of 1,900-byte
/// lines at the same instant, at the default settings: 760 KB for every
/// member at once, three times the send-queue limit. Everyone reads as
/// fast as it can and gets all of it.
#[test]
fn a_burst_from_many_senders_reaches_every_reader_that_keeps_up() {
    const SENDERS: usize = 40;
    const LINES: usize = 10;
    let server = Server::start(chatd!(), &[]);
    let mut reader = member(&server, "reader", 1, true);
    let senders: Vec<Client> = (0..SENDERS).map(|i| member(&server, &format!("s{i}"), 2 + i as u8, false)).collect();
    // Everyone's join notices are out of the way before the burst, and
    // flood control has refilled the two lines each sender spent joining
    // (4 lines/s), so each may send its whole burst of 10.
    reader.read_until(&format!("* s{} joined {ROOM}", SENDERS - 1));
    thread::sleep(Duration::from_millis(1_000));

    let start = Arc::new(Barrier::new(SENDERS + 1));
    let handles: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(i, mut sender)| {
            let start = start.clone();
            thread::spawn(move || {
                let burst: String = (0..LINES).map(|n| format!("{i}.{n} {}\n", "x".repeat(1_900))).collect();
                start.wait();
                sender.send_bytes(burst.as_bytes());
                // Senders are readers too: everyone else's burst reaches them.
                read_messages(&mut sender, (SENDERS - 1) * LINES).len()
            })
        })
        .collect();
    start.wait();
    let got = read_messages(&mut reader, SENDERS * LINES);
    for i in 0..SENDERS {
        let mine: Vec<&String> = got.iter().filter(|l| l.starts_with(&format!("[{ROOM}] s{i}: {i}."))).collect();
        assert_eq!(mine.len(), LINES, "s{i}'s lines");
        for (n, line) in mine.iter().enumerate() {
            assert!(line.starts_with(&format!("[{ROOM}] s{i}: {i}.{n} ")), "s{i}'s lines in order: {line:.40}");
        }
    }
    for handle in handles {
        assert_eq!(handle.join().expect("a sender thread"), (SENDERS - 1) * LINES);
    }
    assert!(!server.logs().contains("send queue exceeded"), "somebody was cut:\n{}", server.logs());
}

/// A client that rejoins its rooms in one write (as IRC and web clients do
/// on reconnecting) gets every replay, though together they are more than
/// the send-queue limit.
#[test]
fn joining_rooms_full_of_long_history_in_one_write_gets_every_replay() {
    // Flood control off only to fill the histories quickly; the send queue is at its defaults.
    let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0"]);
    // An account, whose rooms keep their history once it moves on (a
    // guest's room forgets everything when it empties).
    let mut filler = server.register("filler", "filler-password");
    let rooms = ["a", "b", "c"];
    for room in rooms {
        filler.send(&format!("/create {room}"));
        filler.read_until_prefix(&format!("* you are now in {room} "));
        let history: String = (0..100).map(|n| format!("{room}{n} {}\n", "h".repeat(2_000))).collect();
        filler.send_bytes(history.as_bytes());
    }
    // The filler's lines are handled in order: once this is answered, every history is full.
    filler.send("/users");
    filler.expect_prefix("* online (1)");

    let mut text = server.login("texter");
    text.send_bytes(b"/join a\n/join b\n/join c\n");
    for room in rooms {
        let before = text.read_until_prefix(&format!("* you are now in {room} ("));
        assert!(before.iter().all(|l| !l.starts_with("* bye") && !l.starts_with('!')), "{before:?}");
        for n in 0..100 {
            let line = text.line();
            assert!(
                line.starts_with("~ [") && line.contains(&format!("] filler: {room}{n} ")),
                "{room} {n}: {line:.60}"
            );
        }
    }

    let mut json = server.connect();
    json.first_json(r#"{"type":"nick","nick":"bot"}"#);
    json.send_bytes(
        b"{\"type\":\"join\",\"room\":\"a\"}\n{\"type\":\"join\",\"room\":\"b\"}\n{\"type\":\"join\",\"room\":\"c\"}\n",
    );
    for room in rooms {
        let mut replayed = 0;
        loop {
            let value = json.json();
            match value["type"].as_str() {
                Some("message") if value["room"] == room && value["history"] == true => replayed += 1,
                Some("joined") if value["room"] == room => {}
                Some("joined" | "message" | "nick") => {}
                other => panic!("unexpected {other:?}: {value}"),
            }
            if replayed == 100 {
                break;
            }
        }
    }
    assert!(!server.logs().contains("send queue exceeded"), "somebody was cut:\n{}", server.logs());
}

/// With flood control off and the default send queue, one sender pastes
/// 100,000 lines; a reader that reads as fast as it can gets every one.
#[test]
fn a_hundred_thousand_line_paste_reaches_a_fast_reader() {
    const LINES: usize = 100_000;
    let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0"]);
    let mut paster = member(&server, "paster", 1, true);
    let reader = member(&server, "reader", 2, false);
    paster.read_until(&format!("* reader joined {ROOM}"));
    let paste = thread::spawn(move || {
        let text: String = (0..LINES).map(|n| format!("line {n}\n")).collect();
        paster.send_bytes(text.as_bytes());
        paster
    });
    let mut stream = reader.stream().try_clone().expect("clone the reader's stream");
    let mut buffer = vec![0u8; 1 << 20];
    let mut received = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let wanted = format!("[{ROOM}] paster: line {}\n", LINES - 1);
    while !received.ends_with(wanted.as_bytes()) {
        assert!(Instant::now() < deadline, "only {} lines arrived", received.iter().filter(|&&b| b == b'\n').count());
        let n = stream.read(&mut buffer).expect("read");
        assert!(n > 0, "cut after {} lines", received.iter().filter(|&&b| b == b'\n').count());
        received.extend_from_slice(&buffer[..n]);
    }
    let text = String::from_utf8(received).expect("UTF-8");
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with(&format!("[{ROOM}] paster: "))).collect();
    assert_eq!(lines.len(), LINES);
    assert!(lines.iter().enumerate().all(|(n, l)| *l == format!("[{ROOM}] paster: line {n}")), "every line, in order");
    drop(paste.join());
    assert!(!server.logs().contains("send queue exceeded"), "somebody was cut:\n{}", server.logs());
}

/// A member that never reads is still cut once it has left more than the
/// limit unread past the grace period, while one that reads gets every
/// message and never waits for it.
#[test]
fn a_member_that_never_reads_is_still_cut_in_a_burst() {
    let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0"]);
    let mut sender = member(&server, "sender", 1, true);
    let mut reader = member(&server, "reader", 2, false);
    let deaf = member(&server, "deaf", 3, false);
    reader.read_until(&format!("* deaf joined {ROOM}"));
    sender.read_until(&format!("* deaf joined {ROOM}"));
    // From here on, `deaf` reads nothing.
    let reading = thread::spawn(move || {
        let mut count = 0u64;
        let mut cut_seen = false;
        loop {
            let line = reader.line();
            if line == "* deaf disconnected (send queue exceeded)" {
                cut_seen = true;
            } else if line == format!("[{ROOM}] sender: done") {
                return (count, cut_seen);
            } else if line.starts_with(&format!("[{ROOM}] sender: ")) {
                count += 1;
            }
        }
    });
    // Bursts of 1.9 KB lines, 100 at a time, until the deaf member is cut:
    // at most a minute.
    let burst: String = (0..100).map(|_| format!("{}\n", "y".repeat(1_900))).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut sent = 0u64;
    while !server.logs().contains("send queue exceeded; disconnecting") {
        assert!(Instant::now() < deadline, "deaf was never cut after {sent} lines");
        sender.send_bytes(burst.as_bytes());
        sent += 100;
        thread::sleep(Duration::from_millis(50));
    }
    sender.send("done");
    let (count, cut_seen) = reading.join().expect("the reading thread");
    assert_eq!(count, sent, "the reader got every line");
    assert!(cut_seen, "the room was told");
    drop(deaf);
}
