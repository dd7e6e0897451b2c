//! One account on several connections at once, end to end: logged in over
//! text, IRC and JSON together, a line from one seen by the others as the
//! account's own; and an always-on account that a restart leaves in its
//! room, with what was said meanwhile waiting for it.

use std::time::Duration;

use chatd_tests::{Client, Server, chatd};
use serde_json::Value;

const EXIT_LIMIT: Duration = Duration::from_secs(10);

/// "\0alice\0alice-password", as SASL PLAIN sends it.
const ALICE_PLAIN: &str = "AGFsaWNlAGFsaWNlLXBhc3N3b3Jk";

fn json_of_type(client: &mut Client, kind: &str) -> Value {
    loop {
        let value = client.json();
        if value["type"] == kind {
            return value;
        }
    }
}

/// An IRC client logged in to alice with SASL, read up to its welcome's end.
fn irc_alice(server: &Server) -> Client {
    let mut irc = Client::connect(server.irc_addr());
    irc.irc("CAP REQ :sasl");
    irc.until(" ACK ");
    irc.irc("NICK somebody\r\nUSER alice 0 * :Alice\r\nAUTHENTICATE PLAIN");
    irc.until("AUTHENTICATE +");
    irc.irc(&format!("AUTHENTICATE {ALICE_PLAIN}"));
    irc.until(" 903 ");
    irc.irc("CAP END");
    irc.until(" 001 alice ");
    irc
}

#[test]
fn an_account_on_text_irc_and_json_at_once_shares_its_room_and_its_lines() {
    let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0"]);
    let mut text = server.register("alice", "alice-password");
    text.send("/create den");
    text.read_until("* you are now in den (1 here)");
    let mut bob = server.login("bob");
    bob.send("/join den");
    bob.read_until("* you are now in den (2 here)");
    text.expect_prefix("* bob joined den");

    // JSON logs in and is put in den; so is IRC, with its JOIN and NAMES.
    let mut json = server.connect();
    json.first_json(r#"{"type":"login","name":"alice","password":"alice-password"}"#);
    let joined = json_of_type(&mut json, "joined");
    assert_eq!((joined["room"].as_str(), joined["members"].as_u64()), (Some("den"), Some(2)), "{joined}");
    let mut irc = irc_alice(&server);
    irc.until(" JOIN #den");
    let names = irc.until(" 353 ");
    let listed = names.rsplit(" :").next().unwrap_or_default();
    assert_eq!(listed.split(' ').filter(|n| n.trim_start_matches('@') == "alice").count(), 1, "{names}");

    // bob saw alice once: no join for the two new connections.
    bob.send("/who den");
    let seen = bob.read_until("* in den (2): alice, bob");
    assert!(seen.iter().all(|l| !l.contains("joined")), "{seen:?}");

    // A line from the terminal: bob sees it, JSON as its own with its seq,
    // IRC as a PRIVMSG from its own nick.
    text.send("hello from the terminal");
    bob.expect("[den] alice: hello from the terminal");
    let said = json_of_type(&mut json, "message");
    assert_eq!((said["from"].as_str(), said["seq"].as_u64()), (Some("alice"), Some(1)), "{said}");
    assert_eq!(said["text"], "hello from the terminal");
    let privmsg = irc.until(" PRIVMSG #den ");
    assert!(privmsg.starts_with(":alice!") && privmsg.ends_with(":hello from the terminal"), "{privmsg}");
    // And one from IRC reaches the terminal and JSON.
    irc.irc("PRIVMSG #den :and from irc");
    bob.expect("[den] alice: and from irc");
    text.expect("[den] alice: and from irc");
    assert_eq!(json_of_type(&mut json, "message")["seq"], 2);

    // The terminal leaves: nobody notices; the last one out is a quit.
    text.send("/quit");
    text.expect("* bye: quit");
    irc.irc("QUIT :done");
    irc.until("ERROR ");
    json.send(r#"{"type":"quit"}"#);
    json_of_type(&mut json, "bye");
    bob.expect("* alice disconnected (quit)");
}

#[test]
fn an_always_on_account_stays_in_its_room_across_a_restart_with_history_waiting() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let args = ["--flood-lines-per-sec", "0"];
    let server = Server::start_in(chatd!(), dir, &args);
    let mut alice = server.register("alice", "alice-password");
    alice.send("/create den");
    alice.read_until("* you are now in den (1 here)");
    alice.send("/always-on on");
    alice.expect("* always-on is on: your account stays in its rooms while you are not connected");
    let mut bob = server.register("bob", "bob-password");
    bob.send("/join den");
    bob.read_until("* you are now in den (2 here)");
    alice.send("/quit");
    alice.read_until("* bye: quit");
    alice.expect_eof();
    bob.send("/who den");
    bob.read_until("* in den (2): alice, bob (away: alice)");
    bob.send("missed this");
    bob.sync();
    drop(bob);
    let mut server = server;
    server.terminate();
    assert!(server.wait_exit(EXIT_LIMIT).success(), "{}", server.logs());

    // After the restart alice is still in den, away.
    let server = Server::start_in(chatd!(), dir, &args);
    let mut carol = server.login("carol");
    carol.send("/join den");
    carol.read_until("* you are now in den (2 here)");
    carol.send("/who den");
    carol.read_until("* in den (2): alice, carol (away: alice)");
    // She logs in: back in den, with what she missed; carol hears nothing of it.
    let mut alice = server.connect();
    alice.expect_prefix("* Welcome to ");
    alice.send("/login alice alice-password");
    let mut lines = Vec::new();
    while !lines.last().is_some_and(|l: &String| l.ends_with("bob: missed this")) {
        lines.push(alice.line());
    }
    assert!(lines.iter().any(|l| l.starts_with("* you are now in den")), "{lines:?}");
    carol.send("/who den");
    let seen = carol.read_until("* in den (2): alice, carol");
    assert!(seen.iter().all(|l| !l.contains("joined")), "{seen:?}");
}
