//! `Engine::stats`: each figure moves with the event it counts, and only then.

use crate::sim::Sim;

// JSON clients need the `json` feature.
#[cfg(feature = "json")]
#[test]
fn stats_follow_clients_messages_and_refusals() {
    use crate::{Codec, Config, ConnectInfo, DisconnectReason, Now, Stats};
    use std::time::Duration;
    let config = Config::default()
        .with_flood_burst(2)
        .with_flood_lines_per_sec(1)
        .with_max_registrations_per_source(1)
        .with_idle_timeout(Duration::ZERO);
    let mut sim = Sim::new(config);
    sim.set_auto_auth(true);
    assert_eq!(sim.engine().stats(), Stats::default(), "a new engine has counted nothing");

    let alice = sim.connect_as("alice");
    let bob = sim.connect_as("bob");
    let json = sim.connect_json_as("carol");
    let irc = sim.engine_mut().handle_connect(Now::system(), ConnectInfo::new(Codec::Irc));
    sim.drain();
    let stats = sim.engine().stats();
    assert_eq!((stats.clients, stats.text_clients, stats.json_clients, stats.irc_clients), (4, 2, 1, 1));
    let lines_before = stats.lines_in;

    sim.advance(Duration::from_secs(10));
    sim.send(alice, "/create rust");
    sim.send(bob, "/join rust");
    let before = sim.engine().stats();
    sim.send(alice, "hello, bob");
    let after = sim.engine().stats();
    assert_eq!(after.rooms, 1);
    assert_eq!(after.lines_in, lines_before + 3);
    assert_eq!(after.messages, before.messages + 1);
    // One line, to bob; alice does not get her own line back.
    assert_eq!(after.deliveries, before.deliveries + 1);

    // Two lines in the burst, the third refused.
    sim.advance(Duration::from_secs(10));
    for _ in 0..3 {
        sim.send(bob, "/who");
    }
    assert_eq!(sim.engine().stats().flood_refusals, 1);

    // A wrong password, then the registration limit (one per source).
    sim.advance(Duration::from_secs(10));
    sim.send(alice, "/register alice hunter22 hunter22");
    let (g1, g2) = (sim.connect(), sim.connect());
    sim.send(g1, "/login alice wrong-one");
    sim.send(g2, "/register dave hunter22 hunter22");
    let stats = sim.engine().stats();
    assert_eq!((stats.accounts, stats.login_failures, stats.lockouts, stats.registration_refusals), (1, 1, 0, 1));
    assert_eq!(sim.engine().check_invariants(), Ok(()));

    // Leaving takes each client off its codec's count.
    sim.disconnect(json, DisconnectReason::ConnectionClosed).unwrap();
    sim.disconnect(irc, DisconnectReason::ConnectionClosed).unwrap();
    let stats = sim.engine().stats();
    assert_eq!((stats.clients, stats.text_clients, stats.json_clients, stats.irc_clients), (4, 4, 0, 0));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn lockouts_count_the_failure_that_locks_and_each_refusal_after() {
    let mut sim = Sim::new(super::relaxed());
    sim.set_auto_auth(true);
    let a = sim.connect();
    sim.send(a, "/register alice hunter22 hunter22");
    sim.send(a, "/quit");
    let g = sim.connect();
    for _ in 0..4 {
        sim.send(g, "/login alice nope");
    }
    let stats = sim.engine().stats();
    // The third failure locks; the fourth attempt is refused unchecked.
    assert_eq!((stats.login_failures, stats.lockouts), (3, 2));
}

#[cfg(feature = "json")]
#[test]
fn a_text_client_whose_first_line_is_json_counts_as_json() {
    let mut sim = Sim::new(super::relaxed());
    let c = sim.connect();
    assert_eq!(sim.engine().stats().text_clients, 1);
    sim.send(c, r#"{"type":"nick","nick":"dora"}"#);
    let stats = sim.engine().stats();
    assert_eq!((stats.text_clients, stats.json_clients), (0, 1));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}
