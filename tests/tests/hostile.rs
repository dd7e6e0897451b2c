//! Hostile and broken peers: each gets an error or is closed, and nobody
//! else notices.

use std::io::{ErrorKind, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chatd_tests::{Client, READ_TIMEOUT, Server, chatd};

/// Two clients in room `r`: the one under test and a witness.
fn pair(server: &Server) -> (Client, Client) {
    let mut peer = server.login("peer");
    peer.send("/create r");
    peer.expect("* room r created");
    peer.expect("* you are now in r (1 here)");
    let mut witness = server.login("witness");
    witness.send("/join r");
    witness.expect("* you are now in r (2 here)");
    peer.expect("* witness joined r");
    (peer, witness)
}

#[test]
fn overlong_lines_are_refused_and_reading_resumes_at_the_next_line() {
    let server = Server::start(chatd!(), &["--max-line-bytes", "64"]);
    let (mut peer, mut witness) = pair(&server);

    peer.send(&"x".repeat(65));
    peer.expect("! line too long (over 64 bytes); it was discarded");
    // A line that never ends, sent in pieces, costs one error and no memory.
    for _ in 0..100 {
        peer.send_bytes(&[b'y'; 1000]);
    }
    peer.send_bytes(b"\n");
    peer.expect("! line too long (over 64 bytes); it was discarded");
    peer.send(&"z".repeat(64));
    // The witness saw none of the discarded lines.
    witness.expect(&format!("[r] peer: {}", "z".repeat(64)));
}

#[test]
fn invalid_utf8_control_characters_and_binary_junk_get_errors_to_their_sender_only() {
    let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0"]);
    let (mut peer, mut witness) = pair(&server);

    peer.send_bytes(b"caf\xe9\n");
    peer.expect("! line is not valid UTF-8; it was discarded");
    peer.send("clear \x1b[2J screen");
    peer.expect("! control characters are not allowed; line discarded");

    let junk: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let lines = junk.iter().filter(|&&b| b == b'\n').count();
    peer.send_bytes(&junk);
    peer.send_bytes(b"\n");
    for _ in 0..=lines {
        let answer = peer.line();
        assert!(answer.starts_with("! "), "junk should only get errors, got {answer:?}");
    }
    peer.send("still here");
    witness.expect("[r] peer: still here");
}

#[test]
fn flood_control_refuses_lines_beyond_the_burst() {
    let server = Server::start(chatd!(), &["--flood-burst", "3", "--flood-lines-per-sec", "1"]);
    let (mut peer, mut witness) = pair(&server);
    // `pair` used two of peer's three lines; the bucket refills one a second,
    // so of ten lines sent at once at most a few get through.
    for i in 0..10 {
        peer.send(&format!("line {i}"));
    }
    // Let the bucket refill so that the marker line itself is accepted.
    std::thread::sleep(Duration::from_millis(1100));
    peer.send("/users");
    let answers = peer.read_until_prefix("* online (");
    assert!(answers.len() >= 5, "ten lines at once should hit flood control: {answers:#?}");
    assert!(
        answers.iter().all(|a| a == "! slow down: too many lines too fast; that line was not acted on"),
        "{answers:#?}"
    );
    // The witness got exactly the lines that were not refused, in order.
    let delivered = 10 - answers.len();
    for i in 0..delivered {
        witness.expect(&format!("[r] peer: line {i}"));
    }
}

#[test]
fn a_peer_sending_a_byte_at_a_time_is_served_and_blocks_nobody() {
    let server = Server::start(chatd!(), &[]);
    let mut slow = server.connect();
    slow.expect_prefix("* Welcome");
    let mut other = server.login("other");
    for (i, byte) in b"/nick slowpoke\n".iter().enumerate() {
        slow.send_bytes(&[*byte]);
        if i == 5 {
            // Half a line is pending; everyone else is served meanwhile.
            other.send("/users");
            other.expect("* online (2): Guest1, other");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    slow.expect("* you are now known as slowpoke");
}

#[test]
fn a_client_that_stops_reading_is_cut_while_the_others_get_every_message() {
    let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0", "--send-queue-bytes", "65536"]);
    let (mut sender, mut watcher) = pair(&server);
    let mut lazy = server.login("lazy");
    lazy.send("/join r");
    lazy.expect("* you are now in r (3 here)");
    sender.expect("* lazy joined r");
    watcher.expect("* lazy joined r");
    // From here on, `lazy` reads nothing.

    let cut = Arc::new(AtomicBool::new(false));
    let received = Arc::new(AtomicU64::new(0));
    let (seen_cut, progress) = (cut.clone(), received.clone());
    let watching = std::thread::spawn(move || {
        loop {
            let line = watcher.line();
            if line == "* lazy disconnected (send queue exceeded)" {
                seen_cut.store(true, Ordering::SeqCst);
                continue;
            }
            let body = line.strip_prefix("[r] peer: ").unwrap_or_else(|| panic!("unexpected line {line:?}"));
            if body == "done" {
                return progress.load(Ordering::SeqCst);
            }
            let n: u64 = body.split(' ').next().and_then(|n| n.parse().ok()).expect("numbered message");
            assert_eq!(n, progress.load(Ordering::SeqCst), "the watcher must get every message, in order");
            progress.fetch_add(1, Ordering::SeqCst);
        }
    });

    // The sender stays at most WINDOW messages ahead of the watcher, so the
    // watcher is a client that keeps up (far under its 64 KiB queue even if
    // the kernel buffered nothing and chatd's count of written bytes lags a
    // write behind) while `lazy` falls ever further behind.
    const WINDOW: u64 = 8;
    let padding = "x".repeat(1000);
    let mut sent = 0u64;
    let deadline = Instant::now() + Duration::from_secs(120);
    while !cut.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "lazy was never cut after {sent} messages; logs:\n{}", server.logs());
        if sent - received.load(Ordering::SeqCst) >= WINDOW {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        sender.send(&format!("{sent} {padding}"));
        sent += 1;
    }
    sender.send("done");
    assert_eq!(watching.join().unwrap(), sent);
    sender.expect("* lazy disconnected (send queue exceeded)");
    server.wait_for_log("send queue exceeded; disconnecting");

    // The lazy client finds its connection closed once it reads what the
    // kernel had already buffered.
    lazy.stream().set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    let mut sink = [0; 65536];
    loop {
        match lazy.stream().read(&mut sink) {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) if error.kind() == ErrorKind::ConnectionReset => break,
            Err(error) => panic!("lazy's connection should be closed, got {error}"),
        }
    }
}

#[test]
fn a_connection_beyond_max_clients_is_refused_with_one_line() {
    let server = Server::start(chatd!(), &["--max-clients", "2"]);
    let mut first = server.login("first");
    let _second = server.login("second");
    let mut third = server.connect();
    third.expect("* bye: server is full; try again later");
    third.expect_eof();
    server.wait_for_log("refused");

    // A freed slot can be taken again.
    first.send("/quit");
    first.expect("* bye: quit");
    first.expect_eof();
    let mut fourth = server.connect();
    fourth.expect_prefix("* Welcome to chatd, ");
}

#[test]
fn connections_beyond_the_per_ip_cap_are_refused() {
    let server = Server::start(chatd!(), &["--max-per-ip", "2"]);
    let first = server.connect();
    let mut second = server.connect();
    second.expect_prefix("* Welcome");
    let mut third = server.connect();
    third.expect("* bye: too many connections from your address (at most 2); try again later");
    third.expect_eof();

    // The address gets its slot back once a connection has closed; chatd
    // notices the close asynchronously, so try a few times.
    drop(first);
    let deadline = Instant::now() + READ_TIMEOUT;
    loop {
        let mut again = server.connect();
        let line = again.line();
        if line.starts_with("* Welcome") {
            break;
        }
        assert!(line.starts_with("* bye: too many connections"), "{line:?}");
        assert!(Instant::now() < deadline, "the slot was never freed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_connection_that_never_speaks_is_closed_after_the_registration_timeout() {
    let server = Server::start(chatd!(), &["--registration-timeout", "2"]);
    let mut talker = server.connect();
    talker.expect_prefix("* Welcome");
    talker.send("/nick talker");
    talker.expect("* you are now known as talker");

    let mut silent = server.connect();
    silent.expect_prefix("* Welcome");
    silent.expect("* bye: no input received in time");
    silent.expect_eof();

    // The talker connected first, so its deadline had passed too; having
    // spoken, it stays.
    talker.send("/users");
    talker.expect("* online (1): talker");
}

#[test]
fn a_peer_that_half_closes_still_gets_its_answers() {
    let server = Server::start(chatd!(), &[]);
    let mut client = server.connect();
    client.expect_prefix("* Welcome");
    client.send("/nick brief");
    client.send("/users");
    client.shutdown_write();
    client.expect("* you are now known as brief");
    client.expect("* online (1): brief");
    client.expect_eof();
}

#[test]
fn a_registered_client_that_goes_silent_is_warned_then_closed() {
    let server = Server::start(chatd!(), &["--idle-timeout", "2", "--idle-warning", "1"]);
    let mut quiet = server.login("quiet");
    let mut lively = server.login("lively");
    // Anyone who speaks stays: the lively client answers its warning.
    lively.expect_prefix("* you have been idle; you will be disconnected in ");
    lively.send("/users");
    lively.expect("* online (2): lively, quiet");

    quiet.expect_prefix("* you have been idle; you will be disconnected in ");
    quiet.expect("* bye: idle for too long");
    quiet.expect_eof();

    lively.send("/users");
    let mut answer = lively.line();
    if answer.starts_with("* you have been idle") {
        answer = lively.line();
    }
    assert_eq!(answer, "* online (1): lively");
}
