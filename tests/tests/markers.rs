//! Read markers against the real chatd: a marker set over JSON survives a
//! restart and a later login is told what is unread (JSON and text), IRC
//! clients with `draft/read-marker` set and read markers by time, and in a
//! cluster another node learns a marker from the change feed (skipped
//! where PostgreSQL or Redis does not answer).

use chatd_tests::{Client, Server, chatd};
use serde_json::{Value, json};

const PASSWORD: &str = "Zq8-open-sesame";
const ARGS: &[&str] = &["--flood-lines-per-sec", "0"];

/// JSON objects from `client` until one of `kind`, which is returned.
fn until_type(client: &mut Client, kind: &str) -> Value {
    loop {
        let value = client.json();
        if value["type"] == kind {
            return value;
        }
        assert_ne!(value["type"], "error", "waiting for {kind}: {value}");
    }
}

/// A new JSON client logged in to `name` (registered with `verb` "register" or "login").
fn json_account(server: &Server, verb: &str, name: &str) -> Client {
    let mut client = server.connect();
    let request = match verb {
        "register" => json!({"type": "register", "name": name, "password": PASSWORD, "confirm": PASSWORD}),
        _ => json!({"type": "login", "name": name, "password": PASSWORD}),
    };
    client.first_json(&request.to_string());
    client
}

#[test]
fn a_marker_set_over_json_survives_a_restart_and_the_next_login_counts_the_unread() {
    let data = tempfile::tempdir().expect("a data directory");
    {
        let server = Server::start_in(chatd!(), data.path(), ARGS);
        let mut alice = json_account(&server, "register", "alice");
        until_type(&mut alice, "logged_in");
        alice.send(r#"{"type":"create","room":"rust"}"#);
        for k in 1..=4 {
            alice.send(&json!({"type": "say", "room": "rust", "text": format!("m{k}")}).to_string());
            assert_eq!(until_type(&mut alice, "message")["seq"], k);
        }
        alice.send(r#"{"type":"read","room":"rust","seq":1}"#);
        let marker = until_type(&mut alice, "read");
        assert_eq!((marker["room"].as_str(), marker["seq"].as_u64()), (Some("rust"), Some(1)), "{marker}");
        // Dropping the server kills it: what a client was told is on disk.
    }
    let server = Server::start_in(chatd!(), data.path(), ARGS);
    let mut alice = json_account(&server, "login", "alice");
    until_type(&mut alice, "logged_in");
    let unread = alice.json();
    assert_eq!(unread["type"], "unread", "{unread}");
    assert_eq!(
        (unread["room"].as_str(), unread["count"].as_u64(), unread["first_seq"].as_u64()),
        (Some("rust"), Some(3), Some(2))
    );
    assert!(unread["since"].as_u64().is_some(), "the first unread message is in memory: {unread}");
    // Catching up: the messages after the marker, as a page forward.
    alice.send(r#"{"type":"join","room":"rust"}"#);
    assert_eq!(until_type(&mut alice, "unread")["count"], 3);
    alice.send(r#"{"type":"history","room":"rust","since":1}"#);
    let page = until_type(&mut alice, "history");
    let seqs: Vec<u64> = page["messages"].as_array().unwrap().iter().filter_map(|m| m["seq"].as_u64()).collect();
    assert_eq!(seqs, [2, 3, 4]);
    alice.send(r#"{"type":"read","room":"rust","seq":3}"#);
    assert_eq!(until_type(&mut alice, "read")["seq"], 3);
    alice.send(r#"{"type":"quit"}"#);
    // A text login says it in a line.
    let mut text = server.connect();
    text.expect_prefix("* Welcome to chatd, Guest");
    text.send(&format!("/login alice {PASSWORD}"));
    text.expect("* you are now known as alice");
    text.expect("* logged in as alice");
    let line = text.expect_prefix("* 1 unread in rust since ");
    assert!(line.ends_with(" (/history rust)"), "{line}");
    text.send("/join rust");
    text.read_until_prefix("* 1 unread in rust since ");
    text.send("/history rust since");
    text.expect("* 1 later message of rust:");
    let said = text.expect_prefix("~ [rust ");
    assert!(said.ends_with("] alice: m4"), "{said}");
}

#[test]
fn irc_markread_with_the_capability() {
    let server = Server::start(chatd!(), ARGS);
    let mut ivy = server.irc("ivy", "draft/read-marker");
    ivy.irc(&format!("REGISTER ivy * {PASSWORD}"));
    ivy.until(" 900 ");
    ivy.irc("JOIN #rust");
    ivy.until(" JOIN ");
    assert_eq!(ivy.irc_line(), ":chatd MARKREAD #rust *", "the marker comes right after the JOIN");
    ivy.until(" 366 ");
    ivy.irc("PRIVMSG #rust :hello");
    // A time after every message marks the newest, and is kept as given.
    ivy.irc("MARKREAD #rust timestamp=2099-01-01T00:00:00.000Z");
    let marked = ivy.until(" MARKREAD ");
    assert_eq!(marked, ":chatd MARKREAD #rust timestamp=2099-01-01T00:00:00.000Z");
    ivy.irc("MARKREAD #rust");
    assert_eq!(ivy.until(" MARKREAD "), marked);
    ivy.irc("MARKREAD #rust timestamp=yesterday");
    assert!(ivy.until(" FAIL ").starts_with(":chatd FAIL MARKREAD INVALID_PARAMS "));
    // A guest's markers are its connection's, by time, even in an empty channel.
    let mut gus = server.irc("gus", "draft/read-marker");
    gus.irc("JOIN #empty");
    gus.until(" JOIN ");
    assert_eq!(gus.irc_line(), ":chatd MARKREAD #empty *");
    gus.irc("MARKREAD #empty timestamp=2019-01-04T14:33:26.123Z");
    assert_eq!(gus.until(" MARKREAD "), ":chatd MARKREAD #empty timestamp=2019-01-04T14:33:26.123Z");
}

#[test]
fn a_marker_set_on_one_node_is_known_to_another() {
    use chatd_tests::cluster::Cluster;
    use chatd_tests::outside::{POSTGRES, REDIS};
    use std::time::{Duration, Instant};
    if !(POSTGRES.present() && REDIS.present()) {
        return;
    }
    let cluster = Cluster::start(chatd!(), 2, ARGS);
    let mut gina = json_account(cluster.node(1), "register", "gina");
    until_type(&mut gina, "logged_in");
    gina.send(r#"{"type":"create","room":"club"}"#);
    for k in 1..=3 {
        gina.send(&json!({"type": "say", "room": "club", "text": format!("m{k}")}).to_string());
        assert_eq!(until_type(&mut gina, "message")["seq"], k);
    }
    gina.send(r#"{"type":"read","room":"club","seq":2}"#);
    assert_eq!(until_type(&mut gina, "read")["seq"], 2);
    gina.send(r#"{"type":"quit"}"#);
    until_type(&mut gina, "bye");
    // On node 2, once its change feed has brought the marker.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut gina = server_login(cluster.node(2), "gina");
        gina.send(r#"{"type":"join","room":"club"}"#);
        until_type(&mut gina, "joined");
        gina.send(r#"{"type":"read","room":"club"}"#);
        let marker = until_type(&mut gina, "read");
        if marker["seq"] == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "node 2 never learned the marker: {marker}\n{}", cluster.logs());
        gina.send(r#"{"type":"quit"}"#);
        until_type(&mut gina, "bye");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A JSON client logged in to `name` on `server`, asking again while the
/// account is not yet known there or its name is still held.
fn server_login(server: &Server, name: &str) -> Client {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut client = json_account(server, "login", name);
        let answer = client.json();
        match answer["type"].as_str() {
            Some("nick" | "logged_in") => return client,
            _ => assert!(std::time::Instant::now() < deadline, "{name} cannot log in: {answer}"),
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
