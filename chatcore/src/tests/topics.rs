//! Room topics: shown on joining, set by the room's owner (or by anyone in
//! a guest's room), told to every member, kept across restarts.

use super::restore::records;
use super::{rejected, relaxed};
use crate::sim::Sim;

#[test]
fn a_topic_is_shown_set_told_and_shown_to_newcomers() {
    let mut sim = Sim::new(relaxed());
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    sim.send(a, "/create lounge");
    sim.send(b, "/join lounge");
    sim.clear();
    sim.send(a, "/topic");
    assert_eq!(sim.take(a), ["* lounge has no topic"]);
    // A guest's room: any member may set it, and everyone hears.
    sim.send(b, "/topic Rust on Tuesdays");
    assert_eq!(sim.take(a), ["* bob set the topic of lounge: Rust on Tuesdays"]);
    assert_eq!(sim.take(b), ["* bob set the topic of lounge: Rust on Tuesdays"]);
    let c = sim.connect_as("carol");
    sim.send(c, "/join lounge");
    let lines = sim.take(c);
    assert_eq!(lines[0], "* you are now in lounge (3 here)");
    assert_eq!(lines[1], "* topic of lounge: Rust on Tuesdays (set by bob, 2023-11-14 22:13:20 UTC)");
    sim.send(a, "/topic -");
    assert_eq!(sim.take(c), ["* alice cleared the topic of lounge"]);
    sim.send(c, "/topic");
    assert_eq!(sim.take(c), ["* lounge has no topic"]);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn only_the_owner_sets_the_topic_of_an_owned_room_and_it_survives_a_restart() {
    let config = relaxed().with_emit_records(true).with_max_topic_len(20);
    let mut sim = Sim::new(config.clone());
    sim.set_auto_auth(true);
    let owner = sim.connect();
    sim.send(owner, "/register owner hunter22 hunter22");
    sim.send(owner, "/create club");
    let guest = sim.connect_as("guest");
    sim.send(guest, "/join club");
    sim.clear();
    let mut stored = records(&sim.take_transcript());
    assert_eq!(rejected(&mut sim, guest, "/topic mine now"), ["! only operators of club may set its topic"]);
    assert_eq!(rejected(&mut sim, owner, &format!("/topic {}", "x".repeat(21))), ["! a topic may be at most 20 bytes"]);
    assert_eq!(
        rejected(&mut sim, owner, "/topic a\u{202E}b"),
        ["! bidirectional override and line separator characters are not allowed; line discarded"]
    );
    sim.send(owner, "/topic members only");
    assert_eq!(sim.take(guest), ["* owner set the topic of club: members only"]);
    stored.extend(records(&sim.take_transcript()));
    let engine = crate::Engine::restore(config, stored).unwrap();
    let mut restarted = Sim::from_engine(engine, sim.now());
    let back = restarted.connect_as("visitor");
    restarted.send(back, "/join club");
    assert_eq!(restarted.take(back)[1], "* topic of club: members only (set by owner, 2023-11-14 22:13:20 UTC)");
}

#[cfg(feature = "json")]
#[test]
fn json_clients_ask_and_set_topics_by_room() {
    use serde_json::json;
    let mut sim = Sim::new(relaxed());
    let a = sim.connect_json_as("bot");
    sim.send_json(a, &json!({"type":"create","room":"ops"}));
    sim.take(a);
    sim.send_json(a, &json!({"type":"topic","room":"ops"}));
    assert_eq!(
        sim.take_json(a),
        [json!({"type":"topic","room":"ops","text":null,"by":null,"ts":null,"changed":false})]
    );
    sim.send_json(a, &json!({"type":"topic","room":"ops","text":"deploys"}));
    assert_eq!(
        sim.take_json(a),
        [
            json!({"type":"topic","room":"ops","text":"deploys","by":"bot","ts":crate::sim::Sim::BASE_UNIX_MS,"changed":true})
        ]
    );
}
