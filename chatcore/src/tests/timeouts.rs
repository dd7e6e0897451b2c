//! Simulated time: the registration timeout, shutdown and flood control.
//! Clients speak JSON; the text wording of these goodbyes and refusals is
//! kept in a test of its own.

use std::time::Duration;

#[cfg(feature = "json")]
use serde_json::{Value, json};

#[cfg(feature = "json")]
use super::support::refused;
use super::{rejected, sim};
use crate::sim::Sim;
#[cfg(feature = "json")]
use crate::{Codec, ConnectInfo};
use crate::{Config, DisconnectReason, Output};

#[cfg(feature = "json")]
fn bye(code: &str, reason: &str) -> Value {
    json!({"type": "bye", "code": code, "reason": reason})
}

/// The `bye` of a shutdown, which asks the client to reconnect.
#[cfg(feature = "json")]
fn shutdown_bye() -> Value {
    json!({"type": "bye", "code": "shutdown", "reason": "server is shutting down; reconnect", "reconnect": true})
}

#[cfg(feature = "json")]
fn say(text: &str) -> Value {
    json!({"type": "say", "room": "rust", "text": text})
}

#[cfg(feature = "json")]
#[test]
fn a_silent_connection_is_closed_at_the_registration_timeout() {
    let mut sim = Sim::new(super::relaxed().with_registration_timeout(Duration::from_secs(10)));
    let a = sim.connect_json_as("alice");
    // Connections whose transport chose JSON, so that the goodbye is JSON.
    let silent = sim.connect_with(ConnectInfo::new(Codec::Json));
    let partial = sim.connect_with(ConnectInfo::new(Codec::Json));
    sim.input(partial, br#"{"type":"nick","nick":"never-finish""#).unwrap();
    sim.clear();
    assert_eq!(sim.engine().poll_timeout(), Some(sim.now().instant + Duration::from_secs(10)));
    sim.advance(Duration::from_millis(9_999));
    assert!(sim.is_connected(silent));
    sim.advance(Duration::from_millis(1));
    assert_eq!(sim.take_json(silent), [bye("registration_timeout", "no input received in time")]);
    assert_eq!(sim.take_json(partial), [bye("registration_timeout", "no input received in time")]);
    assert_eq!(sim.closed(silent), Some(&DisconnectReason::RegistrationTimeout));
    assert!(sim.is_connected(a));
    assert_eq!(sim.engine().poll_timeout(), None);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn timers_fire_in_order_at_their_own_time() {
    let mut sim = Sim::new(super::relaxed().with_registration_timeout(Duration::from_secs(10)));
    let a = sim.connect_as("alice");
    sim.send(a, "/create rust");
    let first = sim.connect();
    sim.advance(Duration::from_secs(5));
    let second = sim.connect();
    sim.take_transcript();
    sim.advance(Duration::from_secs(60));
    let closed: Vec<_> = sim
        .take_transcript()
        .into_iter()
        .filter_map(|o| if let Output::Close { client, .. } = o { Some(client) } else { None })
        .collect();
    assert_eq!(closed, [first, second]);
}

#[test]
fn any_complete_line_counts_as_input_even_a_blank_or_bad_one() {
    let mut sim = Sim::new(super::relaxed().with_registration_timeout(Duration::from_secs(10)));
    let blank = sim.connect();
    let bad = sim.connect();
    sim.input(blank, b"\r\n").unwrap();
    sim.input(bad, b"\xff\n").unwrap();
    sim.advance(Duration::from_secs(3600));
    assert!(sim.is_connected(blank));
    assert!(sim.is_connected(bad));
    // The timer armed at connect fired early and found nothing left to do.
    assert_eq!(sim.engine().poll_timeout(), None);
}

#[test]
fn early_timeouts_are_harmless_and_zero_disables() {
    let mut sim = Sim::new(super::relaxed().with_registration_timeout(Duration::from_secs(10)));
    let a = sim.connect();
    let now = sim.now();
    sim.engine_mut().handle_timeout(now);
    sim.drain();
    assert!(sim.is_connected(a));

    let mut sim = Sim::new(super::relaxed().with_registration_timeout(Duration::ZERO));
    let a = sim.connect();
    assert_eq!(sim.engine().poll_timeout(), None);
    sim.advance(Duration::from_secs(86_400));
    assert!(sim.is_connected(a));
}

#[test]
fn disconnect_before_the_timeout_disarms_it() {
    let mut sim = sim();
    let a = sim.connect();
    assert!(sim.engine().poll_timeout().is_some());
    sim.disconnect(a, DisconnectReason::ConnectionClosed).unwrap();
    assert_eq!(sim.engine().poll_timeout(), None);
}

#[cfg(feature = "json")]
#[test]
fn shutdown_says_goodbye_to_everyone() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    let c = sim.connect_with(ConnectInfo::new(Codec::Json));
    sim.send_json(a, &json!({"type": "create", "room": "rust"}));
    sim.send_json(b, &json!({"type": "join", "room": "rust"}));
    sim.clear();
    sim.shutdown();
    assert_eq!(sim.take_json(a), [shutdown_bye()]);
    // Everyone is leaving, so nobody is told of anyone else's departure.
    assert_eq!(sim.take_json(b), [shutdown_bye()]);
    assert_eq!(sim.take_json(c), [shutdown_bye()]);
    for id in [a, b, c] {
        assert_eq!(sim.closed(id), Some(&DisconnectReason::ServerShutdown));
    }
    assert_eq!(sim.engine().client_count(), 0);
    assert_eq!(sim.engine().room_count(), 1, "rooms outlive their members");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[cfg(feature = "json")]
#[test]
fn flood_control_refuses_a_burst_beyond_the_allowance() {
    let mut sim = Sim::new(Config::default().with_flood_burst(3).with_flood_lines_per_sec(2));
    let a = sim.connect_json_as("alice"); // its first line is its first token
    let b = sim.connect();
    sim.send_json(a, &json!({"type": "create", "room": "rust"}));
    sim.send_json(b, &json!({"type": "join", "room": "rust"}));
    sim.send_json(a, &say("one"));
    sim.clear();
    assert_eq!(refused(&mut sim, a, &say("two")), "flood");
    assert_eq!(refused(&mut sim, a, &json!({"type": "nick", "nick": "other"})), "flood");
    // Blank lines cost nothing and say nothing.
    sim.send(a, "");
    assert_eq!(sim.take_json(a), Vec::<Value>::new());
    sim.advance(Duration::from_millis(499));
    assert_eq!(refused(&mut sim, a, &say("three")), "flood");
    sim.advance(Duration::from_millis(500));
    sim.send_json(a, &say("four"));
    let heard = sim.take_json(b);
    assert_eq!((heard.len(), &heard[0]["text"]), (1, &json!("four")));
    assert_eq!(sim.take_types(a), ["message"], "its own copy");
    assert_eq!(refused(&mut sim, a, &say("five")), "flood");
}

/// A warning longer than half the idle time: activity after the warning
/// brings the next warning closer than the disconnect the timer was armed
/// for, and the timer must follow (a fuzzer found it late).
#[cfg(feature = "json")]
#[test]
fn activity_after_a_long_warning_re_arms_the_next_warning_in_time() {
    let config = Config::default()
        .with_idle_timeout(Duration::from_secs(10))
        .with_idle_warning(Duration::from_secs(8))
        .with_flood_lines_per_sec(0);
    let mut sim = Sim::new(config);
    let a = sim.connect_json_as("alice");
    sim.advance(Duration::from_secs(2));
    assert_eq!(sim.take_json(a), [json!({"type": "idle_warning", "seconds": 8})], "warned 8 s before the end");
    sim.advance(Duration::from_millis(500));
    sim.send_json(a, &json!({"type": "users"}));
    sim.take(a);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
    // The next warning is due 2 s after that activity, not at the old disconnect time.
    sim.advance(Duration::from_secs(2));
    assert!(sim.take_types(a).iter().any(|t| t == "idle_warning"));
    assert!(sim.is_connected(a));
}

/// The text wording of the goodbyes at the registration timeout and at
/// shutdown, and of a refusal for flooding.
#[test]
fn text_clients_are_told_in_their_own_words() {
    let mut sim = Sim::new(
        Config::default()
            .with_registration_timeout(Duration::from_secs(10))
            .with_flood_burst(2)
            .with_flood_lines_per_sec(1),
    );
    let a = sim.connect();
    let silent = sim.connect();
    sim.send(a, "/nick alice");
    sim.send(a, "/users");
    sim.clear();
    assert_eq!(rejected(&mut sim, a, "/users"), ["! slow down: too many lines too fast; that line was not acted on"]);
    sim.advance(Duration::from_secs(10));
    assert_eq!(sim.take(silent), ["* bye: no input received in time"]);
    sim.shutdown();
    assert_eq!(sim.take(a), ["* bye: server is shutting down; reconnect"]);
}
