//! Durable state end to end: what chatd keeps across a restart, what
//! `--ephemeral` does not keep, retention on disk, `--sync full`, and
//! history past a damaged message.
#![cfg(unix)]

use std::path::Path;
use std::time::{Duration, Instant};

use chatd_tests::{Client, Server, chatd, history_texts};
use rusqlite::{Connection, OpenFlags};
use serde_json::Value;

/// Far more than a graceful stop needs; a failure here means chatd hung.
const EXIT_LIMIT: Duration = Duration::from_secs(15);

/// Stops chatd with SIGTERM and checks it exited cleanly.
fn stop(mut server: Server) {
    server.terminate();
    let status = server.wait_exit(EXIT_LIMIT);
    assert!(status.success(), "chatd exited with {status}; logs:\n{}", server.logs());
}

/// Registers an account (and so logs in to it) as a text client.
fn register(server: &Server, name: &str, password: &str) -> Client {
    let mut client = server.connect();
    client.expect_prefix("* Welcome to ");
    client.send(&format!("/register {name} {password} {password}"));
    client.expect(&format!("* account {name} registered; you are logged in"));
    client.read_until(&format!("* logged in as {name}"));
    client
}

/// Logs in as a text client; returns the lines that followed the login notice.
fn login(server: &Server, name: &str, password: &str) -> (Client, String) {
    let mut client = server.connect();
    client.expect_prefix("* Welcome to ");
    client.send(&format!("/login {name} {password}"));
    client.expect(&format!("* you are now known as {name}"));
    let notice = client.expect_prefix(&format!("* logged in as {name}"));
    (client, notice)
}

/// A JSON client past its welcome.
fn json_client(server: &Server) -> Client {
    let mut client = server.connect();
    client.expect_prefix("* Welcome to ");
    client.send(r#"{"type":"nick","nick":"reader"}"#);
    assert_eq!(client.json()["type"], "welcome");
    assert_eq!(client.json()["type"], "nick");
    client
}

/// Reads JSON objects until one of `kind`.
fn json_of_type(client: &mut Client, kind: &str) -> Value {
    loop {
        let value = client.json();
        if value["type"] == kind {
            return value;
        }
    }
}

/// The `seq`s and texts of a JSON `history` answer.
fn page(value: &Value) -> (Vec<u64>, Vec<String>, bool) {
    let messages = value["messages"].as_array().expect("messages");
    let seqs = messages.iter().map(|m| m["seq"].as_u64().expect("seq")).collect();
    let texts = messages.iter().map(|m| m["text"].as_str().expect("text").to_owned()).collect();
    (seqs, texts, value["more"].as_bool().expect("more"))
}

fn texts(range: std::ops::RangeInclusive<u32>) -> Vec<String> {
    range.map(|i| format!("message {i}")).collect()
}

/// Opens chatd's database read-only (it may be running: WAL readers do not block it).
fn open_db(dir: &Path) -> Connection {
    Connection::open_with_flags(dir.join("chatd.db"), OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open chatd.db")
}

fn stored_seqs(dir: &Path, room_key: &str) -> Vec<u64> {
    let db = open_db(dir);
    let mut query = db.prepare("SELECT seq FROM messages WHERE room_key = ?1 ORDER BY seq").unwrap();
    query.query_map([room_key], |row| row.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

#[test]
fn a_restart_keeps_rooms_history_accounts_offline_messages_blocks_and_last_seen() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    // Memory keeps 5 messages; pages are 4 long, so most history must come from disk.
    let args = ["--flood-lines-per-sec", "0", "--history-len", "5", "--history-page-len", "4"];

    let server = Server::start_in(chatd!(), dir, &args);
    let mut alice = register(&server, "alice", "alice-password");
    alice.send("/create Rust");
    alice.expect("* room Rust created");
    alice.expect("* you are now in Rust (1 here)");
    for text in texts(1..=12) {
        alice.send(&text);
    }
    alice.send("/block mallory");
    alice.expect("* you now block mallory");
    alice.send("/create empty");
    alice.expect("* room empty created");
    alice.read_until("* you are now in empty (1 here)");

    // bob logs in and out: his last-seen time is set, then a whisper waits for him.
    let mut bob = register(&server, "bob", "bob-password");
    bob.send("/quit");
    bob.expect("* bye: quit");
    bob.expect_eof();
    // dave gets a whisper while away and collects it before the restart.
    let mut dave = register(&server, "dave", "dave-password");
    dave.send("/quit");
    dave.expect("* bye: quit");
    dave.expect_eof();
    alice.send("/msg bob kept for bob");
    alice.expect("* bob is offline; your message was kept and will be delivered when they log in");
    alice.send("/msg dave kept for dave");
    alice.expect("* dave is offline; your message was kept and will be delivered when they log in");
    let (mut dave, notice) = login(&server, "dave", "dave-password");
    assert_eq!(notice, "* logged in as dave; 1 message kept for you:");
    assert!(dave.line().ends_with("while you were away] kept for dave"));
    dave.send("/quit");
    dave.expect("* bye: quit");
    dave.expect_eof();

    let mut reader = json_client(&server);
    reader.send(r#"{"type":"seen","nick":"bob"}"#);
    let bob_seen = json_of_type(&mut reader, "seen");
    assert!(bob_seen["last_seen"].as_u64().is_some(), "{bob_seen}");
    alice.sync();
    drop((alice, reader));
    stop(server);

    // After the restart: everything is back.
    let server = Server::start_in(chatd!(), dir, &args);
    let mut guest = server.login("guest");
    guest.send("/list");
    guest.expect("* 2 rooms:");
    guest.expect("*   empty (0 here)");
    guest.expect("*   Rust (0 here)");
    // Joining replays the last 5 messages (what memory keeps), from the store.
    guest.send("/join rust");
    guest.expect("* you are now in Rust (1 here)");
    let replay: Vec<String> = (0..5).map(|_| guest.line()).collect();
    assert_eq!(history_texts(&replay), texts(8..=12));
    // /history walks back through what only the disk holds, a page of 4 at a time.
    guest.send("/history");
    guest.expect("* 4 earlier messages of Rust:");
    let lines: Vec<String> = (0..4).map(|_| guest.line()).collect();
    assert_eq!(history_texts(&lines), texts(4..=7));
    guest.expect("* /history shows earlier ones");
    guest.send("/history");
    guest.expect("* 3 earlier messages of Rust:");
    let lines: Vec<String> = (0..3).map(|_| guest.line()).collect();
    assert_eq!(history_texts(&lines), texts(1..=3));
    guest.expect("* that is the beginning of Rust");
    guest.send("/history");
    guest.expect("* no earlier messages in Rust");
    // New messages carry on numbering after the stored ones.
    guest.send("message 13");
    guest.sync();

    // The same pages in JSON, by `before`.
    let mut reader = json_client(&server);
    reader.send(r#"{"type":"join","room":"Rust"}"#);
    json_of_type(&mut reader, "joined");
    let replayed: Vec<u64> = (0..5).map(|_| reader.json()["seq"].as_u64().expect("a message")).collect();
    assert_eq!(replayed, [9, 10, 11, 12, 13], "the replay after the join");
    reader.send(r#"{"type":"history","room":"Rust","before":7}"#);
    let (seqs, got, more) = page(&json_of_type(&mut reader, "history"));
    assert_eq!((seqs, got, more), (vec![3, 4, 5, 6], texts(3..=6), true));
    reader.send(r#"{"type":"history","room":"rust","before":3}"#);
    let (seqs, got, more) = page(&json_of_type(&mut reader, "history"));
    assert_eq!((seqs, got, more), (vec![1, 2], texts(1..=2), false));

    // Accounts: names stay registered and passwords still work.
    let mut imposter = server.login("someone");
    imposter.send("/nick alice");
    imposter.expect("! alice is a registered name; /login to use it");
    imposter.send("/login alice wrong-password");
    imposter.expect_prefix("! wrong name or password");
    // Last-seen time: exactly as before the restart.
    reader.send(r#"{"type":"seen","nick":"bob"}"#);
    assert_eq!(json_of_type(&mut reader, "seen"), bob_seen);
    // Blocks.
    let (mut alice, notice) = login(&server, "alice", "alice-password");
    assert_eq!(notice, "* logged in as alice");
    alice.send("/blocked");
    alice.expect("* you block (1): mallory");
    // The whisper kept for bob is delivered once...
    let (mut bob, notice) = login(&server, "bob", "bob-password");
    assert_eq!(notice, "* logged in as bob; 1 message kept for you:");
    let whisper = bob.line();
    assert!(whisper.starts_with("[whisper from alice ") && whisper.ends_with(", while you were away] kept for bob"));
    // ...and dave's, delivered before the restart, not again.
    let (mut dave, notice) = login(&server, "dave", "dave-password");
    assert_eq!(notice, "* logged in as dave");
    dave.sync();
    bob.sync();
    drop((guest, reader, imposter, alice, bob, dave));
    stop(server);

    // And bob's delivery itself was stored: a second restart does not repeat it.
    let server = Server::start_in(chatd!(), dir, &args);
    let (mut bob, notice) = login(&server, "bob", "bob-password");
    assert_eq!(notice, "* logged in as bob");
    bob.sync();
    assert_eq!(stored_seqs(dir, "rust"), (1..=13).collect::<Vec<_>>());
}

#[test]
fn ephemeral_keeps_nothing_and_leaves_the_data_dir_alone() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let fresh = dir.join("never-made");

    // With nothing stored, a restart starts empty, and no database is made.
    let server = Server::start_in(chatd!(), &fresh, &["--ephemeral"]);
    let mut alice = register(&server, "alice", "alice-password");
    alice.send("/create gone");
    alice.expect("* room gone created");
    alice.expect("* you are now in gone (1 here)");
    alice.send("soon forgotten");
    alice.sync();
    drop(alice);
    stop(server);
    assert!(!fresh.exists(), "--ephemeral created its data directory");
    let server = Server::start_in(chatd!(), &fresh, &["--ephemeral"]);
    let mut guest = server.login("guest");
    guest.send("/list");
    guest.expect("* no rooms yet; /create ROOM makes one");
    guest.send("/nick alice");
    guest.expect("* you are now known as alice");
    drop(guest);
    stop(server);

    // An ephemeral run on a durable directory neither loads nor changes it.
    let server = Server::start_in(chatd!(), dir, &[]);
    let mut alice = server.login("alice");
    alice.send("/create kept");
    alice.expect("* room kept created");
    alice.expect("* you are now in kept (1 here)");
    drop(alice);
    stop(server);
    let before = std::fs::read(dir.join("chatd.db")).unwrap();
    let server = Server::start_in(chatd!(), dir, &["--ephemeral"]);
    let mut alice = server.login("alice");
    alice.send("/list");
    alice.expect("* no rooms yet; /create ROOM makes one");
    alice.send("/create lost");
    alice.expect("* room lost created");
    alice.expect("* you are now in lost (1 here)");
    alice.send("not stored");
    alice.sync();
    drop(alice);
    stop(server);
    assert_eq!(std::fs::read(dir.join("chatd.db")).unwrap(), before, "--ephemeral wrote to the database");
    let server = Server::start_in(chatd!(), dir, &[]);
    let mut alice = server.login("alice");
    alice.send("/list");
    alice.expect("* 1 room:");
    alice.expect("*   kept (0 here)");
}

/// Waits until the rooms' stored `seq`s are as wanted (pruning runs in the background).
fn wait_for_seqs(dir: &Path, room_key: &str, wanted: &[u64]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seqs = stored_seqs(dir, room_key);
        if seqs == wanted {
            return;
        }
        assert!(Instant::now() < deadline, "room {room_key} kept {seqs:?}, wanted {wanted:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Fills room `r`, alice's account's, with `count` messages and stops the server.
fn fill_room(dir: &Path, count: u32) {
    let server = Server::start_in(chatd!(), dir, &["--flood-lines-per-sec", "0"]);
    let mut alice = register(&server, "alice", "alice-password");
    alice.send("/create r");
    alice.expect("* room r created");
    alice.expect("* you are now in r (1 here)");
    for text in texts(1..=count) {
        alice.send(&text);
    }
    alice.sync();
    drop(alice);
    stop(server);
    assert_eq!(stored_seqs(dir, "r"), (1..=u64::from(count)).collect::<Vec<_>>());
}

#[test]
fn retain_messages_prunes_the_disk_but_numbering_and_paging_carry_on() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    fill_room(dir, 10);

    let args = ["--retain-messages", "3", "--history-len", "2", "--history-page-len", "5"];
    let server = Server::start_in(chatd!(), dir, &args);
    wait_for_seqs(dir, "r", &[8, 9, 10]);
    // Paging stops where the disk does.
    let mut reader = json_client(&server);
    reader.send(r#"{"type":"join","room":"r"}"#);
    json_of_type(&mut reader, "joined");
    reader.send(r#"{"type":"history","room":"r","before":9}"#);
    let (seqs, got, _) = page(&json_of_type(&mut reader, "history"));
    assert_eq!((seqs, got), (vec![8], texts(8..=8)));
    reader.send(r#"{"type":"history","room":"r","before":8}"#);
    let (seqs, _, more) = page(&json_of_type(&mut reader, "history"));
    assert_eq!((seqs, more), (vec![], false));
    // New messages are numbered after the kept ones, and old ones keep being pruned.
    let (mut alice, _) = login(&server, "alice", "alice-password");
    alice.send("/join r");
    alice.read_until("* you are now in r (2 here)");
    alice.send("message 11");
    let live = json_of_type(&mut reader, "message");
    assert_eq!((live["seq"].as_u64(), live["text"].as_str()), (Some(11), Some("message 11")));
    drop((alice, reader));
    stop(server);
    // Pruning runs on start and every few seconds after; the restart makes it run now.
    let server = Server::start_in(chatd!(), dir, &args);
    wait_for_seqs(dir, "r", &[9, 10, 11]);
    let mut guest = server.login("guest");
    guest.send("/join r");
    guest.expect("* you are now in r (1 here)");
    let replay = [guest.line(), guest.line()];
    assert_eq!(history_texts(&replay), texts(10..=11));
    guest.send("/history");
    guest.expect("* 1 earlier message of r:");
    assert_eq!(history_texts(&[guest.line()]), texts(9..=9));
    guest.expect("* /history shows earlier ones");
    guest.send("/history");
    guest.expect("* no earlier messages in r");
}

#[test]
fn retain_days_prunes_old_messages_but_keeps_each_rooms_newest() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    fill_room(dir, 10);
    // Age messages 1 to 6 by ten days and 7 to 9 by two, as if chatd had
    // been running that long.
    {
        let db = Connection::open(dir.join("chatd.db")).unwrap();
        let aged = db.execute("UPDATE messages SET ts_ms = ts_ms - 10 * 86400000 WHERE seq <= 6", []).unwrap();
        assert_eq!(aged, 6);
        let aged =
            db.execute("UPDATE messages SET ts_ms = ts_ms - 2 * 86400000 WHERE seq BETWEEN 7 AND 9", []).unwrap();
        assert_eq!(aged, 3);
    }
    let server = Server::start_in(chatd!(), dir, &["--retain-days", "5"]);
    wait_for_seqs(dir, "r", &[7, 8, 9, 10]);
    drop(server);
    // Even a room whose every message is old keeps its newest, so numbering carries on.
    let server = Server::start_in(chatd!(), dir, &["--retain-days", "1"]);
    wait_for_seqs(dir, "r", &[10]);
    let (mut alice, _) = login(&server, "alice", "alice-password");
    alice.send("/join r");
    alice.expect("* you are now in r (1 here)");
    // Memory holds what was loaded before pruning ran (retention is about
    // the disk), so the replay may show older messages; it ends with the newest.
    while !alice.line().ends_with(": message 10") {}
    alice.send("message 11");
    alice.sync();
    drop(alice);
    stop(server);
    assert_eq!(stored_seqs(dir, "r"), [10, 11]);
}

#[test]
fn sync_full_stores_what_clients_saw_and_survives_a_kill() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let server = Server::start_in(chatd!(), dir, &["--sync", "full", "--flood-lines-per-sec", "0"]);
    server.wait_for_log("sync=Full");
    let (mut alice, mut bob) = server.two_in_owned_room("alice", "bob", "r");
    for text in texts(1..=20) {
        alice.send(&text);
    }
    for text in texts(1..=20) {
        bob.expect(&format!("[r] alice: {text}"));
    }
    // SIGKILL: no goodbye, no flush; what bob saw must still be there.
    drop(server);
    let db = open_db(dir);
    let check: String = db.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
    assert_eq!(check, "ok");
    drop(db);
    let server = Server::start_in(chatd!(), dir, &["--sync", "full"]);
    let mut reader = json_client(&server);
    reader.send(r#"{"type":"join","room":"r"}"#);
    json_of_type(&mut reader, "joined");
    reader.send(r#"{"type":"history","room":"r","before":21}"#);
    let value = json_of_type(&mut reader, "history");
    let (seqs, got, more) = page(&value);
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    assert_eq!(got, texts(1..=20));
    assert!(!more);
}

/// Reads one text `/history` page: its header, the unreadable-rows line
/// if any, the texts, and its last line.
fn text_page(client: &mut Client) -> (String, Option<String>, Vec<String>, String) {
    let header = client.expect_prefix("* ");
    let mut line = client.line();
    let unreadable = line.ends_with("could not be read from storage").then(|| std::mem::take(&mut line));
    let mut lines = Vec::new();
    if unreadable.is_some() {
        line = client.line();
    }
    while line.starts_with("~ [") {
        lines.push(std::mem::take(&mut line));
        line = client.line();
    }
    (header, unreadable, history_texts(&lines), line)
}

#[test]
fn history_pages_past_a_damaged_message_and_shows_the_gap() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let args = ["--flood-lines-per-sec", "0", "--history-len", "2", "--history-page-len", "3"];
    let server = Server::start_in(chatd!(), dir, &args);
    let mut alice = register(&server, "alice", "alice-password");
    alice.send("/create r");
    alice.expect("* room r created");
    alice.expect("* you are now in r (1 here)");
    for text in texts(1..=10) {
        alice.send(&text);
    }
    alice.sync();
    drop(alice);
    stop(server);

    // Damage a message only the disk holds, and one loaded at start, as a
    // flipped byte would: text that is not UTF-8 (as a blob, and as text).
    {
        let db = Connection::open(dir.join("chatd.db")).unwrap();
        db.execute("UPDATE messages SET text = CAST(x'fffe' AS BLOB) WHERE room_key = 'r' AND seq = 5", []).unwrap();
        db.execute("UPDATE messages SET text = CAST(x'ff6f' AS TEXT) WHERE room_key = 'r' AND seq = 9", []).unwrap();
    }
    let server = Server::start_in(chatd!(), dir, &args);
    server.wait_for_log("skipped an unreadable stored message");
    let mut guest = server.login("guest");
    guest.send("/join r");
    guest.expect("* you are now in r (1 here)");
    assert_eq!(history_texts(&[guest.line()]), texts(10..=10), "message 9 was skipped at start");
    let gap = Some("* 1 message here could not be read from storage".to_owned());
    let more = "* /history shows earlier ones".to_owned();
    guest.send("/history");
    assert_eq!(text_page(&mut guest), ("* 3 earlier messages of r:".into(), gap.clone(), texts(6..=8), more.clone()));
    guest.send("/history");
    assert_eq!(text_page(&mut guest), ("* 3 earlier messages of r:".into(), gap, texts(2..=4), more));
    guest.send("/history");
    let end = "* that is the beginning of r".to_owned();
    assert_eq!(text_page(&mut guest), ("* 1 earlier message of r:".into(), None, texts(1..=1), end));
    server.wait_for_log("skipped a stored message that cannot be read room=r seq=Some(5)");

    // JSON clients page by `before` and are told the count.
    let mut reader = json_client(&server);
    reader.send(r#"{"type":"join","room":"r"}"#);
    json_of_type(&mut reader, "joined");
    reader.send(r#"{"type":"history","room":"r","before":7}"#);
    let answer = json_of_type(&mut reader, "history");
    assert_eq!(page(&answer), (vec![3, 4, 6], vec!["message 3".into(), "message 4".into(), "message 6".into()], true));
    assert_eq!(answer["unreadable"], 1, "{answer}");
    // Numbering carries on past the stored messages.
    guest.expect("* reader joined r");
    guest.send("message 11");
    guest.sync();
    assert_eq!(stored_seqs(dir, "r").last(), Some(&11));
}

#[test]
fn a_private_room_stays_private_after_a_restart_and_a_guests_room_forgets() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let server = Server::start_in(chatd!(), dir, &["--flood-lines-per-sec", "0"]);
    let mut alice = register(&server, "alice", "alice-password");
    alice.send("/create vault");
    alice.expect("* room vault created");
    alice.expect("* you are now in vault (1 here)");
    alice.send("/mode vault +iks sesame");
    alice.expect("* alice set mode +i+k+s sesame on vault");
    alice.send("the launch code is 0000");
    let mut gus = server.login("gus");
    gus.send("/create den");
    gus.expect("* room den created");
    gus.expect("* you are now in den (1 here)");
    gus.send("meet at the docks");
    let mut mallory = server.login("mallory");
    mallory.send("/join vault sesame");
    mallory.expect("! vault is invite-only; ask a member for an invitation");
    alice.sync();
    gus.sync();
    // Killed with gus still in his room: nothing marks it left.
    drop(server);

    let server = Server::start_in(chatd!(), dir, &["--flood-lines-per-sec", "0"]);
    let mut mallory = server.login("mallory");
    mallory.send("/list");
    mallory.expect("* 1 room:");
    mallory.expect("*   den (0 here)");
    mallory.send("/join vault");
    mallory.expect("! vault is invite-only; ask a member for an invitation");
    mallory.send("/join vault sesame");
    mallory.expect("! vault is invite-only; ask a member for an invitation");
    mallory.send("/join den");
    mallory.expect("* you are now in den (1 here)");
    mallory.send("/history");
    mallory.expect("* no earlier messages in den");
    // The room was made anew: its numbering starts again, on disk too.
    mallory.send("hello");
    mallory.sync();
    let db = open_db(dir);
    let den: Vec<(u64, String)> = {
        let mut query = db.prepare("SELECT seq, text FROM messages WHERE room_key = 'den' ORDER BY seq").unwrap();
        query.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
    };
    assert_eq!(den, [(1, "hello".to_owned())]);
    // The owner still gets in, and the room's history is still there for her.
    let (mut alice, _) = login(&server, "alice", "alice-password");
    alice.send("/join vault");
    alice.expect("* you are now in vault (1 here)");
    assert_eq!(history_texts(&[alice.line()]), ["the launch code is 0000"]);
    stop(server);
}
