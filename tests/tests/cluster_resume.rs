//! A client of a cluster node that is killed reconnects to another node
//! and resumes by message number: it pages forward from the last message
//! it saw (`history` with `after`) and gets every later one once, in
//! order, read from the shared store where the node's memory no longer
//! holds it.

use chatd_tests::outside::{POSTGRES, REDIS};
use chatd_tests::services::{RedisPrefix, TestDatabase};
use chatd_tests::{Client, Server, chatd};
use serde_json::{Value, json};

fn node(database: &TestDatabase, prefix: &RedisPrefix, name: &str) -> Server {
    let redis = prefix.url();
    let args = [
        "--redis-url",
        &redis,
        "--redis-prefix",
        prefix.prefix(),
        "--node-name",
        name,
        "--flood-lines-per-sec",
        "0",
        // Memory keeps two messages and a page holds two: most of the
        // catching up is read from PostgreSQL.
        "--history-len",
        "2",
        "--history-page-len",
        "2",
    ];
    Server::start_on_database(chatd!(), database.url(), &args)
}

/// A JSON client named `nick`, past its welcome.
fn json_client(server: &Server, nick: &str) -> Client {
    let mut client = server.connect();
    client.expect_prefix("* Welcome to ");
    client.send(&json!({"type": "nick", "nick": nick}).to_string());
    assert_eq!(client.json()["type"], "welcome");
    let answer = client.json();
    assert_eq!(answer["type"], "nick", "{answer}");
    client
}

/// The next object of `kind` (or an error), skipping others.
fn next_of(client: &mut Client, kind: &str) -> Value {
    loop {
        let value = client.json();
        if value["type"] == kind || value["type"] == "error" {
            return value;
        }
    }
}

/// Joins `room` once the node has heard of it.
fn join_when_known(server: &Server, client: &mut Client, room: &str) {
    server.wait_for_room(room);
    client.send(&json!({"type": "join", "room": room}).to_string());
    let answer = next_of(client, "joined");
    assert_eq!(answer["type"], "joined", "{answer}");
}

/// Says `text` in `room` and waits for its echo, which comes once the
/// store has numbered it; returns its number.
fn say(client: &mut Client, room: &str, text: &str) -> u64 {
    client.send(&json!({"type": "say", "room": room, "text": text}).to_string());
    loop {
        let message = next_of(client, "message");
        assert_eq!(message["type"], "message", "{message}");
        if message["text"] == text {
            return message["seq"].as_u64().expect("seq");
        }
    }
}

#[test]
fn a_client_of_a_killed_node_resumes_on_another_from_the_last_message_it_saw() {
    if !(POSTGRES.present() && REDIS.present()) {
        return;
    }
    let database = TestDatabase::create();
    let prefix = RedisPrefix::new();
    let doomed = node(&database, &prefix, "doomed");
    let survivor = node(&database, &prefix, "survivor");

    let mut alice = json_client(&survivor, "alice");
    alice.send(r#"{"type":"create","room":"resume"}"#);
    assert_eq!(next_of(&mut alice, "joined")["type"], "joined");
    let mut bob = json_client(&doomed, "bob");
    join_when_known(&doomed, &mut bob, "resume");
    let mut last_seen = 0;
    for n in 1..=5 {
        assert_eq!(say(&mut alice, "resume", &format!("message {n}")), n);
        let heard = next_of(&mut bob, "message");
        assert_eq!(heard["text"], format!("message {n}"), "{heard}");
        last_seen = heard["seq"].as_u64().expect("seq");
    }
    assert_eq!(last_seen, 5);

    // bob's node dies; the room goes on without him.
    drop(bob);
    drop(doomed);
    for n in 6..=10 {
        assert_eq!(say(&mut alice, "resume", &format!("message {n}")), n);
    }

    // Back on the other node, bob catches up from message 5 (under
    // another name: the dead node's hold on his lapses only with its lease).
    let mut bob = json_client(&survivor, "bobby");
    join_when_known(&survivor, &mut bob, "resume");
    let mut seen = Vec::new();
    let mut after = last_seen;
    for _ in 0..10 {
        bob.send(&json!({"type": "history", "room": "resume", "after": after}).to_string());
        let page = next_of(&mut bob, "history");
        assert_eq!(page["type"], "history", "{page}");
        for m in page["messages"].as_array().expect("messages") {
            let seq = m["seq"].as_u64().expect("seq");
            assert_eq!(m["text"], format!("message {seq}"), "{page}");
            seen.push(seq);
        }
        after = page["newest"].as_u64().expect("newest");
        if page["more"] == false {
            break;
        }
    }
    assert_eq!(seen, (6..=10).collect::<Vec<u64>>(), "every message after the last seen, once, in order");
}
