//! Connecting: the welcome, guest names, the client cap, stale ids.

use super::sim;
use crate::sim::Sim;
use crate::{ClientId, Config, DisconnectReason, Error, Output};

#[test]
fn welcome_names_the_server_and_the_guest() {
    let mut sim = sim();
    let a = sim.connect();
    let b = sim.connect();
    assert_eq!(sim.take(a), ["* Welcome to chatd, Guest1! You are in the Lobby. Type /help for commands."]);
    assert_eq!(sim.take(b), ["* Welcome to chatd, Guest2! You are in the Lobby. Type /help for commands."]);
    assert_eq!(sim.engine().nick(a), Some("Guest1"));
    assert_eq!(sim.engine().rooms_of(a), Some(vec![]));
    assert_eq!(sim.engine().client_count(), 2);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn server_name_comes_from_config() {
    let mut sim = Sim::new(Config::default().with_server_name("den"));
    let a = sim.connect();
    assert_eq!(sim.take(a), ["* Welcome to den, Guest1! You are in the Lobby. Type /help for commands."]);
}

#[test]
fn guest_numbers_are_never_reused() {
    let mut sim = sim();
    let a = sim.connect();
    sim.disconnect(a, DisconnectReason::ConnectionClosed).unwrap();
    let b = sim.connect();
    assert_ne!(a, b);
    assert_eq!(sim.engine().nick(b), Some("Guest2"));
}

#[test]
fn full_server_refuses_with_a_farewell_and_close() {
    let mut sim = Sim::new(Config::default().with_max_clients(2));
    let a = sim.connect();
    let _b = sim.connect();
    sim.take_transcript();
    let c = sim.connect();
    assert_eq!(
        sim.take_transcript(),
        [
            Output::Send { to: c, data: "* bye: server is full; try again later\n".into() },
            Output::Close { client: c, reason: DisconnectReason::ServerFull },
        ]
    );
    assert_eq!(sim.engine().client_count(), 2);
    assert_eq!(sim.engine().nick(c), None);
    // Input that races the close is ignored, not an error.
    assert_eq!(sim.input(c, b"hello\n"), Ok(()));
    assert_eq!(sim.take_transcript(), []);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
    // A refused connection uses no guest number; a freed slot can be taken.
    sim.disconnect(a, DisconnectReason::ConnectionClosed).unwrap();
    let d = sim.connect();
    assert_eq!(sim.engine().nick(d), Some("Guest3"));
}

#[test]
fn closed_ids_race_quietly_and_unissued_ids_are_errors() {
    let mut sim = sim();
    let a = sim.connect();
    sim.send(a, "/quit");
    sim.take_transcript();
    // The peer's bytes and its own close can arrive after the engine closed it: both are normal.
    assert_eq!(sim.input(a, b"hi\n"), Ok(()));
    assert_eq!(sim.disconnect(a, DisconnectReason::ConnectionClosed), Ok(()));
    assert_eq!(sim.take_transcript(), []);
    let never = ClientId(999);
    assert_eq!(sim.input(never, b"hi\n"), Err(Error::UnknownClient(never)));
    assert_eq!(sim.disconnect(never, DisconnectReason::ConnectionClosed), Err(Error::UnknownClient(never)));
    assert_eq!(Error::UnknownClient(never).to_string(), "client client#999 was never issued by this engine");
    assert_eq!(never.as_u64(), 999);
    assert!(sim.take_transcript().iter().all(|o| !matches!(o, Output::Send { to, .. } if *to == never)));
}

#[test]
fn disconnect_is_not_a_close() {
    let mut sim = sim();
    let a = sim.connect();
    sim.take_transcript();
    sim.disconnect(a, DisconnectReason::ConnectionError).unwrap();
    assert_eq!(sim.take_transcript(), []);
    assert_eq!(sim.closed(a), None);
    assert!(!sim.is_connected(a));
}
