//! chatd with `--database-url`, end to end: what it keeps across a crash,
//! what it does while PostgreSQL is away, and how it refuses to start when
//! PostgreSQL cannot be reached. Each test has a database of its own and
//! skips where no PostgreSQL answers (the last needs none).
#![cfg(unix)]

use std::time::Duration;

use chatd_tests::outside::POSTGRES;
use chatd_tests::relay::Relay;
use chatd_tests::services::TestDatabase;
use chatd_tests::{Server, chatd, history_texts};

/// The texts of room `room`'s messages in the database, in order.
fn stored(database: &TestDatabase, room: &str) -> Vec<String> {
    let texts = database.sql(&format!("SELECT text FROM messages WHERE room_key = '{room}' ORDER BY seq"));
    texts.lines().map(str::to_owned).collect()
}

#[test]
fn a_crash_and_restart_on_postgres_keeps_accounts_rooms_topics_and_history() {
    if !POSTGRES.present() {
        return;
    }
    let database = TestDatabase::create();
    let args = ["--flood-lines-per-sec", "0", "--history-len", "3", "--history-page-len", "10"];
    let server = Server::start_on_database(chatd!(), database.url(), &args);
    let mut alice = server.register("alice", "alice-password");
    alice.send("/create Rust");
    alice.expect("* room Rust created");
    alice.expect("* you are now in Rust (1 here)");
    alice.send("/topic launch day");
    alice.expect("* alice set the topic of Rust: launch day");
    let mut bob = server.login("bob");
    bob.send("/join rust");
    bob.read_until("* you are now in Rust (2 here)");
    let said: Vec<String> = (1..=6).map(|n| format!("message {n}")).collect();
    for text in &said {
        alice.send(text);
    }
    // bob is sent each message only once it is committed.
    for text in &said {
        bob.read_until(&format!("[Rust] alice: {text}"));
    }
    // kill -9: nothing is flushed or closed on the way out.
    drop(server);

    let server = Server::start_on_database(chatd!(), database.url(), &args);
    // Log lines are written by a thread of their own, a moment after; a
    // migration would be logged before the store is open.
    server.wait_for_log("store open (PostgreSQL)");
    assert!(!server.logs().contains("migrated"), "the second start migrates nothing:\n{}", server.logs());
    let mut guest = server.login("guest");
    guest.send("/list");
    guest.expect("* 1 room:");
    guest.expect("*   Rust (0 here)");
    guest.send("/join rust");
    guest.expect("* you are now in Rust (1 here)");
    // The topic, then the last 3 messages (what memory keeps).
    guest.expect_prefix("* topic of Rust: launch day (set by alice, ");
    let replay: Vec<String> = (0..3).map(|_| guest.line()).collect();
    assert_eq!(history_texts(&replay), said[3..]);
    // Older ones come from PostgreSQL.
    guest.send("/history");
    guest.expect("* 3 earlier messages of Rust:");
    let lines: Vec<String> = (0..3).map(|_| guest.line()).collect();
    assert_eq!(history_texts(&lines), said[..3]);
    guest.expect("* that is the beginning of Rust");
    // The account: its name is taken and its password works.
    guest.send("/nick alice");
    guest.expect("! alice is a registered name; /login to use it");
    let mut alice = server.connect();
    alice.expect_prefix("* Welcome to ");
    alice.send("/login alice alice-password");
    alice.expect("* you are now known as alice");
    alice.read_until("* logged in as alice");
    // Numbering carries on after the stored messages.
    alice.send("/join rust");
    alice.read_until("* you are now in Rust (2 here)");
    alice.send("message 7");
    guest.read_until("[Rust] alice: message 7");
    assert_eq!(database.sql("SELECT max(seq) FROM messages WHERE room_key = 'rust'"), "7");
}

#[test]
fn while_postgres_is_away_writes_are_refused_and_when_it_returns_nothing_is_lost() {
    if !POSTGRES.present() {
        return;
    }
    let database = TestDatabase::create();
    // chatd reaches PostgreSQL through a relay the test cuts: as a server
    // that stops and comes back, while the machine's server serves others.
    let relay = Relay::start(database.server_addr());
    let url = database.url_through(relay.addr());
    let args = ["--flood-lines-per-sec", "0", "--history-len", "2", "--history-page-len", "10"];
    let server = Server::start_on_database(chatd!(), &url, &args);
    let (mut alice, mut bob) = server.two_in_owned_room("alice", "bob", "r");
    let before: Vec<String> = (1..=4).map(|n| format!("before {n}")).collect();
    for text in &before {
        alice.send(text);
        bob.expect(&format!("[r] alice: {text}"));
    }

    // A newcomer is shown what memory keeps, the last 2.
    let mut carol = server.login("carol");
    carol.send("/join r");
    carol.read_until("* you are now in r (3 here)");
    assert_eq!(history_texts(&[carol.line(), carol.line()]), before[2..]);
    alice.expect("* carol joined r");
    bob.expect("* carol joined r");

    relay.cut();
    // History only PostgreSQL holds cannot be read: the reader is told of
    // a gap, not that there is nothing.
    carol.send("/history");
    carol.expect("* 0 earlier messages of r:");
    carol.expect("* 1 message here could not be read from storage");
    let _more = carol.line();
    // What was sent as the server went away waits for it; once a commit
    // has failed, new messages are refused.
    let why = || format!("PostgreSQL is away; logs:\n{}", server.logs());
    let accepted = alice.send_until_refused_for_storage("", Duration::from_millis(300), Duration::from_secs(30), &why);
    server.wait_for_log("storage write failed; refusing new messages until it works again");
    // Everything that needs no storage is answered.
    bob.send("/who");
    bob.read_until("* in r (3): alice, bob, carol");

    relay.resume();
    server.wait_for_log("storage writes work again");
    for text in &accepted {
        bob.read_until(&format!("[r] alice: {text}"));
    }
    alice.send("after");
    bob.read_until("[r] alice: after");
    alice.sync();
    let mut wanted = before;
    wanted.extend(accepted);
    wanted.push("after".to_owned());
    assert_eq!(stored(&database, "r"), wanted, "every message accepted stored once, none refused");
}

#[test]
fn sessions_ended_by_the_server_between_messages_are_replaced_unseen() {
    if !POSTGRES.present() {
        return;
    }
    let database = TestDatabase::create();
    let server = Server::start_on_database(chatd!(), database.url(), &["--flood-lines-per-sec", "0"]);
    let (mut alice, mut bob) = server.two_in_owned_room("alice", "bob", "r");
    let said: Vec<String> = (1..=8).map(|n| format!("message {n}")).collect();
    for text in &said {
        // As an operator's pg_terminate_backend, or a server restart.
        assert_eq!(database.end_other_sessions(), 1, "chatd's one connection");
        alice.send(text);
        bob.expect(&format!("[r] alice: {text}"));
    }
    alice.sync();
    assert!(!server.logs().contains("storage write failed"), "a write failed:\n{}", server.logs());
    assert_eq!(stored(&database, "r"), said);
}

#[test]
fn an_unreachable_postgres_stops_chatd_naming_it_without_the_password() {
    // Port 1 on this machine: nothing listens there.
    let url = "postgres://chatd:hunter2@127.0.0.1:1/chat";
    let (status, logs) = Server::fail_to_start(chatd!(), std::path::Path::new("."), &["--database-url", url]);
    assert!(!status.success());
    let plain = logs.lines().find(|line| line.starts_with("chatd: ")).unwrap_or_default();
    assert!(plain.contains("PostgreSQL database postgres://chatd@127.0.0.1:1/chat"), "{logs}");
    assert!(plain.contains("Connection refused"), "{logs}");
    assert!(!logs.contains("hunter2"), "the password was shown:\n{logs}");
}

/// Runs `chatd ARGS...` (a maintenance command) to completion: its exit
/// code, stdout and stderr.
fn chatd_command(args: &[&str]) -> (Option<i32>, String, String) {
    let output = std::process::Command::new(chatd!()).args(args).output().expect("run chatd");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code(), text(&output.stdout), text(&output.stderr))
}

#[test]
fn check_and_backup_on_postgres_say_what_they_find_and_what_to_use() {
    if !POSTGRES.present() {
        return;
    }
    let database = TestDatabase::create();
    let url = database.url();
    let (code, _, stderr) = chatd_command(&["check", "--database-url", url]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("has no table chatd_schema: it is not a chatd database"), "{stderr}");

    drop(Server::start_on_database(chatd!(), url, &[]));
    let (code, stdout, stderr) = chatd_command(&["check", "--database-url", url]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("healthy (connected, schema version 3, every table chatd needs"), "{stdout}");

    let _ = database.sql("CREATE TABLE notes (body text)");
    let _ = database.sql("DROP TABLE blocks");
    let (code, stdout, stderr) = chatd_command(&["check", "--database-url", url]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("note: table notes is not chatd's"), "{stdout}");
    assert!(stderr.contains("table blocks is missing"), "{stderr}");

    let _ = database.sql("UPDATE chatd_schema SET version = 999");
    let (code, _, stderr) = chatd_command(&["check", "--database-url", url]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("schema version 999 is newer than this chatd knows (3)"), "{stderr}");

    let (code, stdout, stderr) = chatd_command(&["backup", "--database-url", url, "--to", "chat.dump"]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains(&format!("pg_dump --format=custom --file=chat.dump '{url}'")), "{stderr}");
    assert!(!std::path::Path::new("chat.dump").exists(), "chatd backup wrote nothing");
}
