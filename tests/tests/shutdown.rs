//! SIGTERM and SIGINT: every client is told, queued output is flushed, and
//! chatd exits 0.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use chatd_tests::{Client, Server, chatd};
use rustix::process::{Pid, Signal};
use serde_json::json;

/// Far more than chatd needs; a failure here means it hung.
const EXIT_LIMIT: Duration = Duration::from_secs(15);

#[test]
fn sigterm_tells_every_client_and_exits_zero() {
    let mut server = Server::start(chatd!(), &[]);
    let mut alice = server.login("alice");
    alice.send("/create rust");
    alice.expect("* room rust created");
    alice.expect("* you are now in rust (1 here)");
    let mut guest = server.connect();
    guest.expect_prefix("* Welcome");
    let mut bot = server.connect();
    bot.expect_prefix("* Welcome");
    bot.send(r#"{"type":"nick","nick":"bot"}"#);
    assert_eq!(bot.json()["type"], "welcome");
    assert_eq!(bot.json()["type"], "nick");

    server.terminate();
    alice.expect("* bye: server is shutting down; reconnect");
    alice.expect_eof();
    guest.expect("* bye: server is shutting down; reconnect");
    guest.expect_eof();
    assert_eq!(
        bot.json(),
        json!({"type": "bye", "code": "shutdown", "reason": "server is shutting down; reconnect", "reconnect": true})
    );
    bot.expect_eof();
    let status = server.wait_exit(EXIT_LIMIT);
    assert!(status.success(), "chatd exited with {status}; logs:\n{}", server.logs());
    server.wait_for_log("shutting down");
}

#[test]
fn sigint_with_a_client_that_never_reads_still_exits_zero() {
    // A send queue big enough that the deaf client is still connected, with
    // output waiting, when the signal comes.
    let mut server = Server::start(chatd!(), &["--flood-lines-per-sec", "0", "--send-queue-bytes", "67108864"]);
    let mut talker = server.login("talker");
    talker.send("/create noise");
    talker.expect("* room noise created");
    talker.expect("* you are now in noise (1 here)");
    let mut deaf = server.login("deaf");
    deaf.send("/join noise");
    deaf.expect("* you are now in noise (2 here)");
    talker.expect("* deaf joined noise");
    // Fill deaf's socket buffers; it never reads again.
    let padding = "x".repeat(1000);
    for i in 0..2000 {
        talker.send(&format!("{i} {padding}"));
    }
    talker.send("/users");
    talker.expect("* online (2): deaf, talker");

    server.interrupt();
    talker.read_until("* bye: server is shutting down; reconnect");
    talker.expect_eof();
    let status = server.wait_exit(EXIT_LIMIT);
    assert!(status.success(), "chatd exited with {status}; logs:\n{}", server.logs());
    drop(deaf);
}

/// A chatd on a fresh text port only, with its stderr piped and left to
/// the test, logging at `rust_log`; and the address it listens on.
fn start_with_stderr_piped(rust_log: &str, dir: &Path) -> (Child, SocketAddr) {
    let mut child = Command::new(chatd!())
        .args(["--listen", "127.0.0.1:0", "--irc-listen", "none", "--http-listen", "none", "--metrics-listen", "none"])
        .args(["--max-per-ip", "0"])
        .arg("--data-dir")
        .arg(dir)
        .env("RUST_LOG", rust_log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chatd");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut first).expect("chatd's first line");
    let addr = first.trim().strip_prefix("listening on ").expect("the address").parse().expect("an address");
    (child, addr)
}

/// Sends `signal` to `child` and waits for it to exit, failing with
/// `hung` if it does not within [`EXIT_LIMIT`].
fn stop(child: &mut Child, signal: Signal, hung: &str) -> ExitStatus {
    let pid = Pid::from_raw(i32::try_from(child.id()).expect("a pid")).expect("a valid pid");
    rustix::process::kill_process(pid, signal).expect("send a signal");
    let deadline = Instant::now() + EXIT_LIMIT;
    loop {
        if let Some(status) = child.try_wait().expect("wait for chatd") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{hung}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_still_stops_chatd_after_the_reader_of_its_log_has_gone() {
    let dir = tempfile::tempdir().expect("a data directory");
    let (mut child, addr) = start_with_stderr_piped("info", dir.path());
    // The log's reader exits, as `tee` does in `chatd | tee log` when it is
    // stopped first: every log line from now on fails to write.
    drop(child.stderr.take());
    for _ in 0..3 {
        let mut client = Client::connect(addr);
        client.expect_prefix("* Welcome to chatd, Guest");
    }
    let status = stop(&mut child, Signal::INT, "chatd ignored SIGINT once its log could not be written");
    assert!(status.success(), "{status}");
}

#[test]
fn sigterm_stops_chatd_whose_log_reader_stopped_reading() {
    let dir = tempfile::tempdir().expect("a data directory");
    // Debug lines for every connection fill the pipe of a reader that
    // never reads, as a stalled log shipper's does.
    let (mut child, addr) = start_with_stderr_piped("debug", dir.path());
    let _unread = child.stderr.take().expect("piped stderr");
    // Each connection logs two lines of about 100 bytes; a pipe holds 64 KiB.
    for _ in 0..3000 {
        drop(TcpStream::connect(addr).expect("connect"));
    }
    // On a busy machine chatd may not have seen all of those end yet, and
    // its cap per address refuses a newcomer until it has: the client
    // that is to hear the goodbye must be one chatd took.
    let mut client = loop {
        let mut client = Client::connect(addr);
        if client.line().starts_with("* Welcome to chatd") {
            break client;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let status = stop(&mut child, Signal::TERM, "chatd ignored SIGTERM while its log could not be written");
    assert!(status.success(), "{status}");
    // Its clients were still told, whatever became of the log.
    client.read_until("* bye: server is shutting down; reconnect");
}

#[test]
fn sigterm_with_many_idle_clients_and_slow_readers_tells_them_all_and_exits() {
    const IDLE: usize = 300;
    const SLOW: usize = 20;
    let mut server =
        Server::start(chatd!(), &["--flood-lines-per-sec", "0", "--max-per-ip", "0", "--send-queue-bytes", "67108864"]);
    let mut talker = server.login("talker");
    talker.send("/create noise");
    talker.expect("* room noise created");
    talker.expect("* you are now in noise (1 here)");
    let mut slow = Vec::new();
    for i in 0..SLOW {
        let mut reader = server.login(&format!("slow{i}"));
        reader.send("/join noise");
        reader.read_until(&format!("* you are now in noise ({} here)", i + 2));
        slow.push(reader);
    }
    let mut idle: Vec<_> = (0..IDLE).map(|_| server.connect()).collect();
    // The slow readers stop reading; their socket buffers fill.
    let padding = "x".repeat(1000);
    for i in 0..500 {
        talker.send(&format!("{i} {padding}"));
    }
    talker.send("/users");
    talker.read_until_prefix("* online (");

    server.terminate();
    for client in &mut idle {
        client.expect_prefix("* Welcome to ");
        client.expect("* bye: server is shutting down; reconnect");
        client.expect_eof();
    }
    talker.read_until("* bye: server is shutting down; reconnect");
    let status = server.wait_exit(EXIT_LIMIT);
    assert!(status.success(), "chatd exited with {status}; logs:\n{}", server.logs());
    drop(slow);
}
