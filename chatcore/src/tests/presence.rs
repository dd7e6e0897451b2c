//! Who is told about joins, leaves, disconnects and quits. The logic in
//! JSON; the text protocol's wording in a test of its own.

#[cfg(feature = "json")]
use serde_json::{Value, json};

#[cfg(feature = "json")]
use super::sim;
use crate::DisconnectReason;
#[cfg(feature = "json")]
use crate::Output;
use crate::sim::Sim;

#[cfg(feature = "json")]
fn disconnected(nick: &str, reason: &str) -> Value {
    json!({"type": "disconnected", "nick": nick, "reason": reason})
}

#[cfg(feature = "json")]
#[test]
fn disconnect_is_told_to_roommates_with_the_reason() {
    let reasons = [
        (DisconnectReason::ConnectionClosed, "connection closed"),
        (DisconnectReason::ConnectionError, "connection error"),
        (DisconnectReason::SendQueueExceeded, "send queue exceeded"),
        (DisconnectReason::Quit(None), "quit"),
        (DisconnectReason::Quit(Some("later".into())), "quit: later"),
        (DisconnectReason::ServerFull, "server is full; try again later"),
        (DisconnectReason::RegistrationTimeout, "no input received in time"),
        (DisconnectReason::ServerShutdown, "server is shutting down; reconnect"),
    ];
    for (reason, shown) in reasons {
        let mut sim = sim();
        let a = sim.connect_json_as("alice");
        let b = sim.connect_json_as("bob");
        let lobby = sim.connect_json_as("carol");
        sim.send_json(a, &json!({"type": "create", "room": "rust"}));
        sim.send_json(b, &json!({"type": "join", "room": "rust"}));
        sim.clear();
        sim.disconnect(a, reason).unwrap();
        assert_eq!(sim.take_json(b), [disconnected("alice", shown)]);
        assert_eq!(sim.take_json(lobby), Vec::<Value>::new());
        assert_eq!(sim.engine().members("rust").unwrap().collect::<Vec<_>>(), [b]);
        assert_eq!(sim.engine().check_invariants(), Ok(()));
    }
}

#[cfg(feature = "json")]
#[test]
fn quit_says_goodbye_closes_and_tells_roommates() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    sim.send_json(a, &json!({"type": "create", "room": "rust"}));
    sim.send_json(b, &json!({"type": "join", "room": "rust"}));
    sim.clear();
    sim.take_transcript();
    sim.send_json(a, &json!({"type": "quit", "reason": "gone  fishing"}));
    assert_eq!(sim.take_json(a), [json!({"type": "bye", "code": "quit", "reason": "quit: gone  fishing"})]);
    assert_eq!(sim.take_json(b), [disconnected("alice", "quit: gone  fishing")]);
    assert_eq!(sim.closed(a), Some(&DisconnectReason::Quit(Some("gone  fishing".into()))));
    assert!(matches!(sim.take_transcript().last(), Some(Output::Close { client, .. }) if *client == a));
    assert!(!sim.is_connected(a));
    assert_eq!(sim.engine().nick(a), None);

    let c = sim.connect_json_as("carol");
    sim.send_json(c, &json!({"type": "quit"}));
    assert_eq!(sim.take_json(c), [json!({"type": "bye", "code": "quit", "reason": "quit"})]);
    assert_eq!(sim.closed(c), Some(&DisconnectReason::Quit(None)));
}

#[cfg(feature = "json")]
#[test]
fn lines_after_quit_in_the_same_read_are_ignored() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    sim.send_json(b, &json!({"type": "create", "room": "rust"}));
    sim.clear();
    let read = "{\"type\":\"quit\"}\n{\"type\":\"join\",\"room\":\"rust\"}\n{\"type\":\"say\",\"text\":\"hello\"}\n";
    assert_eq!(sim.input(a, read.as_bytes()), Ok(()));
    assert_eq!(sim.take_types(a), ["bye"]);
    assert_eq!(sim.take_json(b), Vec::<Value>::new());
    assert_eq!(sim.engine().members("rust").unwrap().count(), 1);
}

#[cfg(feature = "json")]
#[test]
fn lobby_presence_is_announced_when_configured() {
    let mut sim = Sim::new(super::relaxed().with_announce_lobby_presence(true));
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    sim.send_json(b, &json!({"type": "create", "room": "rust"}));
    sim.take(b);
    let c = sim.connect_json_as("carol");
    let connected = |nick: &str| json!({"type": "connected", "nick": nick});
    // Each connects as a guest; a name taken in the Lobby is told to nobody.
    assert_eq!(sim.take_json(a), [connected("Guest2"), connected("Guest3")]);
    assert_eq!(sim.take_json(b), Vec::<Value>::new(), "a room member hears no connects");
    sim.send_json(c, &json!({"type": "join", "room": "rust"}));
    sim.clear();
    sim.disconnect(c, DisconnectReason::ConnectionClosed).unwrap();
    // The Lobby and the roommates hear it once each.
    assert_eq!(sim.take_json(a), [disconnected("carol", "connection closed")]);
    assert_eq!(sim.take_json(b), [disconnected("carol", "connection closed")]);
}

#[cfg(feature = "json")]
#[test]
fn lobby_presence_goes_to_the_lobby_by_id_though_it_is_kept_by_name() {
    let mut sim = Sim::new(super::relaxed().with_announce_lobby_presence(true));
    // Ids in one order, names in the other.
    let zed = sim.connect_json_as("zed");
    let amy = sim.connect_json_as("amy");
    sim.clear();
    // The sim fails on a broadcast whose ids are not sorted and unique.
    let guest = sim.connect();
    assert_eq!(sim.take_json(zed), [json!({"type": "connected", "nick": "Guest3"})]);
    assert_eq!(sim.take_json(amy), [json!({"type": "connected", "nick": "Guest3"})]);
    sim.disconnect(guest, DisconnectReason::ConnectionClosed).unwrap();
    assert_eq!(sim.take_json(zed), [disconnected("Guest3", "connection closed")]);
    assert_eq!(sim.take_json(amy), [disconnected("Guest3", "connection closed")]);
}

#[cfg(feature = "json")]
#[test]
fn lobby_presence_is_silent_by_default() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect();
    sim.disconnect(b, DisconnectReason::ConnectionClosed).unwrap();
    assert_eq!(sim.take_json(a), Vec::<Value>::new());
}

#[cfg(feature = "json")]
#[test]
fn join_and_leave_are_told_to_the_room() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    let c = sim.connect_json_as("carol");
    sim.send_json(a, &json!({"type": "create", "room": "rust"}));
    sim.send_json(b, &json!({"type": "join", "room": "rust"}));
    sim.clear();
    sim.send_json(c, &json!({"type": "join", "room": "rust"}));
    let joined = || json!({"type": "joined", "room": "rust", "nick": "carol", "members": 3});
    for id in [a, b, c] {
        assert_eq!(sim.take_json(id), [joined()]);
    }
    sim.send_json(c, &json!({"type": "leave", "room": "rust"}));
    let left = || json!({"type": "left", "room": "rust", "nick": "carol"});
    for id in [a, b, c] {
        assert_eq!(sim.take_json(id), [left()]);
    }
}

/// The text protocol's wording of presence: joins and leaves, connects and
/// disconnects with their reason, `/quit` with its reason trimmed, and its
/// `/exit` alias.
#[test]
fn text_clients_hear_presence_in_their_own_words() {
    let mut sim = Sim::new(super::relaxed().with_announce_lobby_presence(true));
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    sim.send(a, "/create rust");
    sim.clear();
    let c = sim.connect();
    assert_eq!(sim.take(b), ["* Guest3 connected"]);
    assert_eq!(sim.take(c), ["* Welcome to chatd, Guest3! You are in the Lobby. Type /help for commands."]);
    sim.send(c, "/join rust");
    assert_eq!(sim.take(a), ["* Guest3 joined rust"]);
    assert_eq!(sim.take(c), ["* you are now in rust (2 here)"]);
    sim.send(b, "/join rust");
    sim.clear();
    sim.send(b, "/leave");
    assert_eq!(sim.take(a), ["* bob left rust"]);
    assert_eq!(sim.take(b), ["* you left rust"]);
    sim.take(c);
    sim.send(c, "/quit gone  fishing ");
    assert_eq!(sim.take(c), ["* bye: quit: gone  fishing"]);
    assert_eq!(sim.take(a), ["* Guest3 disconnected (quit: gone  fishing)"]);
    assert_eq!(sim.take(b), ["* Guest3 disconnected (quit: gone  fishing)"]);
    assert_eq!(sim.closed(c), Some(&DisconnectReason::Quit(Some("gone  fishing".into()))));
    sim.send(b, "/exit");
    assert_eq!(sim.take(b), ["* bye: quit"]);
    assert_eq!(sim.closed(b), Some(&DisconnectReason::Quit(None)));
}
