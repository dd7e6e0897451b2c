//! Message deletion end to end: the text leaves the database, a device
//! that comes back and resumes after the last number it saw learns of the
//! deletion (across a restart, from what chatd stored), and IRC clients
//! are told with REDACT or a notice.
#![cfg(unix)]

use std::time::Duration;

use chatd_tests::{Client, Server, chatd};
use rusqlite::{Connection, OpenFlags};
use serde_json::json;

/// Far more than a graceful stop needs; a failure here means chatd hung.
const EXIT_LIMIT: Duration = Duration::from_secs(15);

#[test]
fn a_device_back_after_a_restart_learns_that_a_message_it_saw_was_deleted() {
    let dir = tempfile::tempdir().expect("a data directory");
    let server = Server::start_in(chatd!(), dir.path(), &[]);
    // An account's room keeps its history while empty and across a restart.
    let mut alice = server.register("alice", "alice-password");
    alice.send("/create news");
    alice.expect("* room news created");
    alice.expect("* you are now in news (1 here)");
    let mut device = server.connect();
    device.join_as_json("bob", "news");
    alice.send("launch at noon");
    alice.send("bring snacks");
    let seen: Vec<u64> = (0..2).map(|_| device.json_of_type("message")["seq"].as_u64().unwrap()).collect();
    assert_eq!(seen, [1, 2]);
    drop(device);

    alice.send("/delete news 1");
    alice.read_until("* a message by alice was deleted");
    server.terminate();
    let mut server = server;
    assert!(server.wait_exit(EXIT_LIMIT).success(), "logs:\n{}", server.logs());
    let db = Connection::open_with_flags(dir.path().join("chatd.db"), OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let count = |sql: &str| -> u64 { db.query_row(sql, [], |row| row.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM messages WHERE text LIKE '%noon%'"), 0, "the text is erased");
    assert_eq!(count("SELECT count(*) FROM messages WHERE text LIKE '%snacks%'"), 1);
    drop(db);

    let server = Server::start_in(chatd!(), dir.path(), &[]);
    let mut device = server.connect();
    device.join_as_json("bob", "news");
    device.send(&json!({"type": "history", "room": "news", "after": 2}).to_string());
    let page = device.json_of_type("history");
    assert_eq!(page["newest"], 3, "{page}");
    let [deletion] = page["messages"].as_array().expect("messages").as_slice() else { panic!("{page}") };
    assert_eq!(
        (&deletion["seq"], &deletion["deletes"], &deletion["by"], &deletion["from"]),
        (&json!(3), &json!(1), &json!("alice"), &json!("alice")),
        "{page}"
    );
    assert!(deletion.get("text").is_none(), "{page}");
    // A page back shows the tombstone in the message's place, never its text.
    device.send(&json!({"type": "history", "room": "news", "before": 3}).to_string());
    let page = device.json_of_type("history");
    assert_eq!(page["messages"][0]["seq"], 1, "{page}");
    assert_eq!(page["messages"][0]["deleted"]["by"], "alice", "{page}");
    assert!(!page.to_string().contains("noon"), "{page}");
}

#[test]
fn irc_clients_are_told_of_a_deletion_by_redact_or_by_a_notice() {
    let server = Server::start(chatd!(), &[]);
    let mut probe = Client::connect(server.irc_addr());
    probe.irc("CAP LS 302");
    assert!(probe.until(" LS ").contains("draft/message-redaction"), "the capability is advertised");
    let mut redacting = server.irc("carol", "draft/message-redaction");
    let mut plain = server.irc("dave", "");
    let mut alice = server.login("alice");
    alice.send("/create news");
    alice.expect("* room news created");
    for client in [&mut redacting, &mut plain] {
        client.irc("JOIN #news");
        client.until(" 366 ");
    }
    alice.send("oops");
    redacting.until(" PRIVMSG #news ");
    plain.until(" PRIVMSG #news ");
    // Text users never see numbers: a bare /delete takes back their last.
    alice.send("/delete");
    let redact = redacting.until(" REDACT ");
    assert!(redact.starts_with(":alice!alice@") && redact.ends_with(" REDACT #news 1-news"), "{redact}");
    let notice = plain.until(" NOTICE #news ");
    assert!(notice.ends_with(" NOTICE #news :* a message by alice was deleted"), "{notice}");
    // carol may not delete alice's message; alice's is gone already.
    redacting.irc("PRIVMSG #news :mine");
    redacting.irc("REDACT #news 1-news");
    let fail = redacting.until(" FAIL ");
    assert!(fail.contains(" FAIL REDACT "), "{fail}");
    alice.send("/delete news 3");
    redacting.until(" REDACT #news 3-news");
}
