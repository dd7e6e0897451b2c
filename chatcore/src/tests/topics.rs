//! Room topics: shown on joining, set by the room's owner (or by anyone in
//! a guest's room), told to every member, kept across restarts. The logic
//! in JSON; the text protocol's wording of topics in a test of its own.

#[cfg(feature = "json")]
use serde_json::{Value, json};

#[cfg(feature = "json")]
use super::restore::records;
#[cfg(feature = "json")]
use super::support::refused;
use super::{rejected, relaxed};
use crate::sim::Sim;

#[cfg(feature = "json")]
const TS: u64 = Sim::BASE_UNIX_MS;

#[cfg(feature = "json")]
fn ask(room: &str) -> Value {
    json!({"type": "topic", "room": room})
}

#[cfg(feature = "json")]
fn set(room: &str, text: &str) -> Value {
    json!({"type": "topic", "room": room, "text": text})
}

/// A topic as told: `changed` when just set, otherwise asked for or shown
/// on joining.
#[cfg(feature = "json")]
fn topic(room: &str, text: &str, by: &str, changed: bool) -> Value {
    json!({"type": "topic", "room": room, "text": text, "by": by, "ts": TS, "changed": changed})
}

#[cfg(feature = "json")]
fn no_topic(room: &str) -> Value {
    json!({"type": "topic", "room": room, "text": null, "by": null, "ts": null, "changed": false})
}

#[cfg(feature = "json")]
#[test]
fn a_topic_is_shown_set_told_and_shown_to_newcomers() {
    let mut sim = Sim::new(relaxed());
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    sim.send_json(a, &json!({"type": "create", "room": "lounge"}));
    sim.send_json(b, &json!({"type": "join", "room": "lounge"}));
    sim.clear();
    sim.send_json(a, &ask("lounge"));
    assert_eq!(sim.take_json(a), [no_topic("lounge")]);
    // A guest's room: any member may set it, and everyone hears.
    sim.send_json(b, &set("lounge", "Rust on Tuesdays"));
    assert_eq!(sim.take_json(a), [topic("lounge", "Rust on Tuesdays", "bob", true)]);
    assert_eq!(sim.take_json(b), [topic("lounge", "Rust on Tuesdays", "bob", true)]);
    let c = sim.connect_json_as("carol");
    sim.send_json(c, &json!({"type": "join", "room": "lounge"}));
    assert_eq!(
        sim.take_json(c),
        [
            json!({"type": "joined", "room": "lounge", "nick": "carol", "members": 3}),
            topic("lounge", "Rust on Tuesdays", "bob", false)
        ]
    );
    // An empty text clears it.
    sim.send_json(a, &set("lounge", ""));
    let cleared = sim.take_json(c);
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    assert_eq!(
        (&cleared[0]["text"], &cleared[0]["by"], &cleared[0]["changed"]),
        (&json!(null), &json!("alice"), &json!(true))
    );
    sim.send_json(c, &ask("lounge"));
    assert_eq!(sim.take_json(c), [no_topic("lounge")]);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[cfg(feature = "json")]
#[test]
fn only_the_owner_sets_the_topic_of_an_owned_room_and_it_survives_a_restart() {
    let config = relaxed().with_emit_records(true).with_max_topic_len(20);
    let mut sim = Sim::new(config.clone());
    sim.set_auto_auth(true);
    let owner = sim.connect_json_as("someone");
    let register = json!({"type": "register", "name": "owner", "password": "hunter22", "confirm": "hunter22"});
    sim.send_json(owner, &register);
    sim.send_json(owner, &json!({"type": "create", "room": "club"}));
    let guest = sim.connect_json_as("guest");
    sim.send_json(guest, &json!({"type": "join", "room": "club"}));
    sim.clear();
    let mut stored = records(&sim.take_transcript());
    assert_eq!(refused(&mut sim, guest, &set("club", "mine now")), "not_topic_setter");
    assert_eq!(refused(&mut sim, owner, &set("club", &"x".repeat(21))), "topic_too_long");
    assert_eq!(refused(&mut sim, owner, &set("club", "a\u{202E}b")), "layout_character");
    sim.send_json(owner, &set("club", "members only"));
    assert_eq!(sim.take_json(guest), [topic("club", "members only", "owner", true)]);
    stored.extend(records(&sim.take_transcript()));
    let engine = crate::Engine::restore(config, stored).unwrap();
    let mut restarted = Sim::from_engine(engine, sim.now());
    let back = restarted.connect_json_as("visitor");
    restarted.send_json(back, &json!({"type": "join", "room": "club"}));
    assert_eq!(restarted.take_json(back)[1], topic("club", "members only", "owner", false));
}

/// The text protocol's wording of topics: asked for, set, shown on
/// joining with its date, cleared with `-`, and refused.
#[test]
fn text_clients_see_topics_in_their_own_words() {
    let mut sim = Sim::new(relaxed().with_max_topic_len(20));
    sim.set_auto_auth(true);
    let owner = sim.connect();
    sim.send(owner, "/register owner hunter22 hunter22");
    sim.send(owner, "/create club");
    let guest = sim.connect_as("guest");
    sim.send(guest, "/join club");
    sim.clear();
    sim.send(owner, "/topic");
    assert_eq!(sim.take(owner), ["* club has no topic"]);
    assert_eq!(rejected(&mut sim, guest, "/topic mine now"), ["! only operators of club may set its topic"]);
    assert_eq!(rejected(&mut sim, owner, &format!("/topic {}", "x".repeat(21))), ["! a topic may be at most 20 bytes"]);
    assert_eq!(
        rejected(&mut sim, owner, "/topic a\u{202E}b"),
        ["! bidirectional override and line separator characters are not allowed; line discarded"]
    );
    sim.send(owner, "/topic members only");
    assert_eq!(sim.take(owner), ["* owner set the topic of club: members only"]);
    assert_eq!(sim.take(guest), ["* owner set the topic of club: members only"]);
    let c = sim.connect_as("carol");
    sim.send(c, "/join club");
    let lines = sim.take(c);
    assert_eq!(lines[0], "* you are now in club (3 here)");
    assert_eq!(lines[1], "* topic of club: members only (set by owner, 2023-11-14 22:13:20 UTC)");
    sim.send(owner, "/topic -");
    assert_eq!(sim.take(c), ["* owner cleared the topic of club"]);
    sim.send(c, "/topic");
    assert_eq!(sim.take(c), ["* club has no topic"]);
}
