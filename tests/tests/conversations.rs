//! Whisper threads against the real chatd: whispers between accounts are
//! kept, through disconnects and restarts, and paged back with `/history
//! @NICK` (JSON `with`); blocked senders are left out; guests are told
//! that only accounts keep whispers.

use std::time::Duration;

use chatd_tests::{Client, Server, chatd};
use serde_json::{Value, json};

const PASSWORD: &str = "Zq8-open-sesame";
/// Small pages, so that paging back is seen; no flood control, so that a
/// test may send as fast as it likes.
const ARGS: &[&str] = &["--history-page-len", "3", "--flood-lines-per-sec", "0"];

/// Whispers `text` from `from` to `to` (both online, text clients) and
/// checks that both see it.
fn whisper(from: (&mut Client, &str), to: (&mut Client, &str), text: &str) {
    let ((sender, sender_name), (recipient, recipient_name)) = (from, to);
    sender.send(&format!("/msg {recipient_name} {text}"));
    let echo = sender.expect_prefix(&format!("[whisper to {recipient_name} "));
    assert!(echo.ends_with(&format!("] {text}")), "{echo:?}");
    let delivered = recipient.expect_prefix(&format!("[whisper from {sender_name} "));
    assert!(delivered.ends_with(&format!("] {text}")), "{delivered:?}");
}

fn login_text(server: &Server, name: &str) -> Client {
    let mut client = server.connect();
    client.expect_prefix("* Welcome to chatd, Guest");
    client.send(&format!("/login {name} {PASSWORD}"));
    client.expect(&format!("* you are now known as {name}"));
    client.expect_prefix(&format!("* logged in as {name}"));
    client
}

/// The `(seq, from, text)` of each message of a JSON history page.
fn entries(page: &Value) -> Vec<(u64, String, String)> {
    page["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("a page has messages: {page}"))
        .iter()
        .map(|m| {
            let seq = m["seq"].as_u64().expect("a number");
            (seq, m["from"].as_str().unwrap().to_owned(), m["text"].as_str().unwrap().to_owned())
        })
        .collect()
}

fn entry(seq: u64, from: &str, text: &str) -> (u64, String, String) {
    (seq, from.to_owned(), text.to_owned())
}

#[test]
fn a_whisper_thread_survives_reconnects_and_a_restart_and_pages_back_in_order() {
    let data = tempfile::tempdir().expect("a data directory");
    let mut server = Server::start_in(chatd!(), data.path(), ARGS);
    let mut alice = server.register("alice", PASSWORD);
    let mut bob = server.register("bob", PASSWORD);
    whisper((&mut alice, "alice"), (&mut bob, "bob"), "one");
    whisper((&mut bob, "bob"), (&mut alice, "alice"), "two");
    whisper((&mut alice, "alice"), (&mut bob, "bob"), "three");
    // bob goes; what alice says meanwhile is kept for him, and is part of the thread.
    bob.send("/quit");
    bob.expect("* bye: quit");
    bob.expect_eof();
    alice.send("/msg bob four, while you were away");
    alice.expect("* bob is offline; your message was kept and will be delivered when they log in");
    drop(alice);

    server.terminate();
    assert!(server.wait_exit(Duration::from_secs(10)).success(), "{}", server.logs());
    let server = Server::start_in(chatd!(), data.path(), ARGS);

    // bob comes back as a program: the kept whisper, with its number in the thread.
    let mut bob = server.connect();
    bob.first_json(&json!({"type": "login", "name": "bob", "password": PASSWORD}).to_string());
    assert_eq!(bob.json()["type"], "nick");
    assert_eq!(bob.json(), json!({"type": "logged_in", "name": "bob", "offline": 1}));
    let kept = bob.json();
    assert_eq!(
        (kept["text"].as_str(), kept["offline"].as_bool(), kept["seq"].as_u64()),
        (Some("four, while you were away"), Some(true), Some(4))
    );
    bob.send(r#"{"type":"history","with":"ALICE"}"#);
    let newest = bob.json();
    assert_eq!((newest["type"].as_str(), newest["with"].as_str()), (Some("history"), Some("alice")), "{newest}");
    assert_eq!(
        entries(&newest),
        [entry(2, "bob", "two"), entry(3, "alice", "three"), entry(4, "alice", "four, while you were away")]
    );
    assert_eq!((newest["more"].as_bool(), newest["oldest"].as_u64()), (Some(true), Some(2)));
    bob.send(r#"{"type":"history","with":"alice","before":2}"#);
    let first = bob.json();
    assert_eq!(entries(&first), [entry(1, "alice", "one")]);
    assert_eq!(first["more"], false);

    // alice, on a terminal, reads the same thread from her side.
    let mut alice = login_text(&server, "alice");
    alice.send("/history @bob");
    alice.expect("* 3 earlier whispers with bob:");
    assert!(alice.expect_prefix("~ [whisper from bob ").ends_with("] two"));
    assert!(alice.expect_prefix("~ [whisper to bob ").ends_with("] three"));
    assert!(alice.expect_prefix("~ [whisper to bob ").ends_with("] four, while you were away"));
    alice.expect("* /history @bob shows earlier ones");
    alice.send("/history @bob");
    alice.expect("* 1 earlier whisper with bob:");
    assert!(alice.expect_prefix("~ [whisper to bob ").ends_with("] one"));
    alice.expect("* that is the beginning of your whispers with bob");

    // A new whisper carries on the numbering from before the restart.
    alice.send("/msg bob five");
    alice.expect_prefix("[whisper to bob ");
    let live = bob.json();
    assert_eq!((live["text"].as_str(), live["seq"].as_u64()), (Some("five"), Some(5)), "{live}");
}

#[test]
fn blocked_senders_are_left_out_and_guests_are_told_whispers_need_accounts() {
    let server = Server::start(chatd!(), ARGS);
    let mut bob = server.register("bob", PASSWORD);
    let mut mallory = server.register("mallory", PASSWORD);
    whisper((&mut mallory, "mallory"), (&mut bob, "bob"), "buy my stuff");
    whisper((&mut bob, "bob"), (&mut mallory, "mallory"), "no thanks");
    whisper((&mut mallory, "mallory"), (&mut bob, "bob"), "last chance");
    bob.send("/block mallory");
    bob.expect("* you now block mallory");
    bob.send("/history @mallory");
    // The page covers all three; only bob's own line is shown.
    bob.expect("* 1 earlier whisper with mallory:");
    assert!(bob.expect_prefix("~ [whisper to mallory ").ends_with("] no thanks"));
    bob.expect("* that is the beginning of your whispers with mallory");
    // mallory still reads the whole thread.
    mallory.send("/history @bob");
    mallory.expect("* 3 earlier whispers with bob:");

    let mut guest = server.login("visitor");
    guest.send("/msg bob hello");
    guest.expect_prefix("[whisper to bob ");
    bob.expect_prefix("[whisper from visitor ");
    guest.send("/history @bob");
    guest.expect("! log in to read your whispers: only whispers between accounts are kept");
    let mut program = server.connect();
    program.first_json(r#"{"type":"history","with":"bob"}"#);
    let message = program.json_error("history_needs_account");
    assert_eq!(message, "log in to read your whispers: only whispers between accounts are kept");
    // Nor was the guest's whisper kept in bob's history with that name.
    bob.send("/history @visitor");
    bob.expect("! visitor has no account; only whispers between accounts are kept");
}
