//! Who is told about joins, leaves, disconnects and quits.

use super::sim;
use crate::sim::Sim;
use crate::{DisconnectReason, Output};

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
        (DisconnectReason::ServerShutdown, "server is shutting down"),
    ];
    for (reason, shown) in reasons {
        let mut sim = sim();
        let a = sim.connect_as("alice");
        let b = sim.connect_as("bob");
        let lobby = sim.connect_as("carol");
        sim.send(a, "/create rust");
        sim.send(b, "/join rust");
        sim.clear();
        sim.disconnect(a, reason).unwrap();
        assert_eq!(sim.take(b), [format!("* alice disconnected ({shown})")]);
        assert_eq!(sim.take(lobby), Vec::<String>::new());
        assert_eq!(sim.engine().members("rust").unwrap().collect::<Vec<_>>(), [b]);
        assert_eq!(sim.engine().check_invariants(), Ok(()));
    }
}

#[test]
fn quit_says_goodbye_closes_and_tells_roommates() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    sim.send(a, "/create rust");
    sim.send(b, "/join rust");
    sim.clear();
    sim.take_transcript();
    sim.send(a, "/quit gone  fishing ");
    assert_eq!(sim.take(a), ["* bye: quit: gone  fishing"]);
    assert_eq!(sim.take(b), ["* alice disconnected (quit: gone  fishing)"]);
    assert_eq!(sim.closed(a), Some(&DisconnectReason::Quit(Some("gone  fishing".into()))));
    assert!(matches!(sim.take_transcript().last(), Some(Output::Close { client, .. }) if *client == a));
    assert!(!sim.is_connected(a));
    assert_eq!(sim.engine().nick(a), None);

    let c = sim.connect_as("carol");
    sim.send(c, "/exit");
    assert_eq!(sim.take(c), ["* bye: quit"]);
    assert_eq!(sim.closed(c), Some(&DisconnectReason::Quit(None)));
}

#[test]
fn lines_after_quit_in_the_same_read_are_ignored() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    sim.send(b, "/create rust");
    sim.clear();
    assert_eq!(sim.input(a, b"/quit\n/join rust\nhello\n"), Ok(()));
    assert_eq!(sim.take(a), ["* bye: quit"]);
    assert_eq!(sim.take(b), Vec::<String>::new());
    assert_eq!(sim.engine().members("rust").unwrap().count(), 1);
}

#[test]
fn lobby_presence_is_announced_when_configured() {
    let mut sim = Sim::new(super::relaxed().with_announce_lobby_presence(true));
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    sim.send(b, "/create rust");
    sim.take(b);
    let c = sim.connect();
    assert_eq!(sim.take(a), ["* Guest2 connected", "* Guest3 connected"]);
    assert_eq!(sim.take(b), Vec::<String>::new(), "a room member hears no connects");
    assert_eq!(sim.take(c), ["* Welcome to chatd, Guest3! You are in the Lobby. Type /help for commands."]);
    sim.send(c, "/join rust");
    sim.clear();
    sim.disconnect(c, DisconnectReason::ConnectionClosed).unwrap();
    // The Lobby and the roommates hear it once each.
    assert_eq!(sim.take(a), ["* Guest3 disconnected (connection closed)"]);
    assert_eq!(sim.take(b), ["* Guest3 disconnected (connection closed)"]);
}

#[test]
fn lobby_presence_goes_to_the_lobby_by_id_though_it_is_kept_by_name() {
    let mut sim = Sim::new(super::relaxed().with_announce_lobby_presence(true));
    // Ids in one order, names in the other.
    let zed = sim.connect_as("zed");
    let amy = sim.connect_as("amy");
    sim.clear();
    // The sim fails on a broadcast whose ids are not sorted and unique.
    let guest = sim.connect();
    assert_eq!(sim.take(zed), ["* Guest3 connected"]);
    assert_eq!(sim.take(amy), ["* Guest3 connected"]);
    sim.disconnect(guest, DisconnectReason::ConnectionClosed).unwrap();
    assert_eq!(sim.take(zed), ["* Guest3 disconnected (connection closed)"]);
    assert_eq!(sim.take(amy), ["* Guest3 disconnected (connection closed)"]);
}

#[test]
fn lobby_presence_is_silent_by_default() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    let b = sim.connect();
    sim.disconnect(b, DisconnectReason::ConnectionClosed).unwrap();
    assert_eq!(sim.take(a), Vec::<String>::new());
}

#[test]
fn join_and_leave_are_told_to_the_room() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    let c = sim.connect_as("carol");
    sim.send(a, "/create rust");
    sim.send(b, "/join rust");
    sim.clear();
    sim.send(c, "/join rust");
    assert_eq!(sim.take(a), ["* carol joined rust"]);
    assert_eq!(sim.take(b), ["* carol joined rust"]);
    assert_eq!(sim.take(c), ["* you are now in rust (3 here)"]);
    sim.send(c, "/leave");
    assert_eq!(sim.take(a), ["* carol left rust"]);
    assert_eq!(sim.take(b), ["* carol left rust"]);
}
