//! SIGTERM and SIGINT: every client is told, queued output is flushed, and
//! chatd exits 0.
#![cfg(unix)]

use std::time::Duration;

use chatd_tests::{Server, chatd};
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

#[test]
fn ctrl_c_still_stops_chatd_after_the_reader_of_its_log_has_gone() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().expect("a data directory");
    let mut child = Command::new(chatd!())
        .args(["--listen", "127.0.0.1:0", "--irc-listen", "none", "--http-listen", "none", "--metrics-listen", "none"])
        .arg("--data-dir")
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chatd");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut first).expect("chatd's first line");
    let addr = first.trim().strip_prefix("listening on ").expect("the address").parse().expect("an address");
    // The log's reader exits, as `tee` does in `chatd | tee log` when it is
    // stopped first: every log line from now on fails to write.
    drop(child.stderr.take());
    for _ in 0..3 {
        let mut client = chatd_tests::Client::connect(addr);
        client.expect_prefix("* Welcome to chatd, Guest");
    }
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).expect("a pid")).expect("a valid pid");
    rustix::process::kill_process(pid, rustix::process::Signal::INT).expect("send SIGINT");
    let deadline = std::time::Instant::now() + EXIT_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chatd") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("chatd ignored SIGINT once its log could not be written");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}

#[test]
fn sigterm_stops_chatd_whose_log_reader_stopped_reading() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().expect("a data directory");
    // Debug lines for every connection fill the pipe of a reader that
    // never reads, as a stalled log shipper's does.
    let mut child = Command::new(chatd!())
        .args(["--listen", "127.0.0.1:0", "--irc-listen", "none", "--http-listen", "none", "--metrics-listen", "none"])
        .args(["--max-per-ip", "0"])
        .arg("--data-dir")
        .arg(dir.path())
        .env("RUST_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chatd");
    let _unread = child.stderr.take().expect("piped stderr");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut first).expect("chatd's first line");
    let addr: std::net::SocketAddr =
        first.trim().strip_prefix("listening on ").expect("the address").parse().expect("an address");
    // Each connection logs two lines of about 100 bytes; a pipe holds 64 KiB.
    for _ in 0..3000 {
        drop(std::net::TcpStream::connect(addr).expect("connect"));
    }
    let mut client = chatd_tests::Client::connect(addr);
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).expect("a pid")).expect("a valid pid");
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("send SIGTERM");
    let deadline = std::time::Instant::now() + EXIT_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chatd") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("chatd ignored SIGTERM while its log could not be written");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
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
