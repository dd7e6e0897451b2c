//! Message deletion across a cluster, end to end: a message said on one
//! node is deleted from another by a server operator; members on both
//! nodes are told (text, JSON, IRC with REDACT), the text leaves the
//! PostgreSQL row and the room's Redis stream, and a device that comes back to the first node and
//! resumes after the last number it saw learns of the deletion. Skips
//! where PostgreSQL or Redis does not answer.
#![cfg(unix)]

use std::time::{Duration, Instant};

use chatd_tests::cluster::Cluster;
use chatd_tests::outside::{POSTGRES, REDIS};
use chatd_tests::services::redis;
use chatd_tests::{READ_TIMEOUT, chatd};
use serde_json::json;

#[test]
fn a_message_said_on_one_node_is_deleted_from_another_and_everyone_learns_of_it() {
    if !(POSTGRES.present() && REDIS.present()) {
        return;
    }
    let cluster = Cluster::start(chatd!(), 2, &["--operator", "root", "--flood-lines-per-sec", "0"]);
    let mut alice = cluster.node(1).login("alice");
    alice.send("/create news");
    alice.read_until("* you are now in news (1 here)");
    let mut device = cluster.node(1).connect();
    device.join_as_json("bob", "news");
    cluster.wait_for_room(2, "news");
    let mut root = cluster.node(2).register("root", "root-password");
    root.send("/join news");
    root.read_until("* you are now in news (3 here)");
    let mut dave = cluster.node(2).irc("dave", "draft/message-redaction");
    dave.irc("JOIN #news");
    dave.until(" 366 dave #news ");

    alice.send("launch at noon");
    let said = device.json_of_type("message");
    assert_eq!((&said["seq"], &said["text"]), (&json!(1), &json!("launch at noon")), "{said}");
    root.read_until("[news] alice: launch at noon");
    dave.until(" PRIVMSG #news :launch at noon");
    drop(device);

    // Neither the author nor an operator of the room: a server operator.
    root.send("/delete news 1");
    root.read_until("* a message by alice was deleted by root");
    alice.read_until("* a message by alice was deleted by root");
    let redact = dave.until(" REDACT ");
    assert!(redact.starts_with(":root!") && redact.contains(" REDACT #news 1-news"), "{redact}");
    let count = |sql: &str| cluster.database().sql(sql);
    assert_eq!(count("SELECT count(*) FROM messages WHERE text LIKE '%noon%'"), "0", "the text is erased");
    assert_eq!(count("SELECT deleted_by FROM messages WHERE seq = 1"), "root");
    assert_eq!(count("SELECT deletes FROM messages WHERE seq = 2"), "1", "the deletion took the next number");
    // Redis keeps the deletion's entry, not the message's.
    let stream = cluster.redis().expect("Redis").key("room:news");
    let entries = || redis(&["XRANGE", &stream, "-", "+"]);
    let deadline = Instant::now() + READ_TIMEOUT;
    while entries().contains("noon") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let entries = entries();
    assert!(!entries.contains("noon") && entries.contains("2-1"), "{entries}");

    // The device comes back to the first node and resumes after 1.
    let mut device = cluster.node(1).connect();
    device.join_as_json("bob", "news");
    device.send(&json!({"type": "history", "room": "news", "after": 1}).to_string());
    let page = device.json_of_type("history");
    let [deletion] = page["messages"].as_array().expect("messages").as_slice() else { panic!("{page}") };
    assert_eq!(
        (&deletion["seq"], &deletion["deletes"], &deletion["by"], &deletion["from"]),
        (&json!(2), &json!(1), &json!("root"), &json!("alice")),
        "{page}"
    );
    assert!(!page.to_string().contains("noon"), "{page}");

    // Deleting it again, from either node, is refused.
    alice.send("/delete news 1");
    alice.read_until("! message 1 of news is already deleted");
    // The room numbers on after the deletion, on both nodes.
    alice.send("after");
    let next = device.json_of_type("message");
    assert_eq!((&next["seq"], &next["text"]), (&json!(3), &json!("after")), "{next}");
    root.read_until("[news] alice: after");
}
