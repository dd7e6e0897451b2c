//! Always-on accounts: an account that stays in its rooms while none of
//! its connections is, shown away, its whispers kept, its rooms restored
//! after a restart.
#![cfg(feature = "json")]

use std::time::Duration;

use serde_json::{Value, json};

use super::accounts::auto;
use super::devices::json_client;
use super::irc::registered;
use super::relaxed;
use super::restore::records;
use super::support::refused;
use crate::names::NameKey;
use crate::sim::Sim;
use crate::{AlwaysOn, ClientId, Config, Engine, Record};

/// alice registered, always-on, in her room `den`, which bob joined; then
/// alice disconnected. Returns (sim, bob).
fn alice_gone(config: Config) -> (Sim, ClientId) {
    let mut sim = auto(config);
    let a = json_client(&mut sim);
    sim.send_json(a, &json!({"type": "register", "name": "alice", "password": "hunter22", "confirm": "hunter22"}));
    sim.send_json(a, &json!({"type": "create", "room": "den"}));
    sim.send_json(a, &json!({"type": "always_on", "state": "on"}));
    let bob = sim.connect_json_as("bob");
    sim.send_json(bob, &json!({"type": "join", "room": "den"}));
    sim.clear();
    sim.send_json(a, &json!({"type": "quit"}));
    (sim, bob)
}

#[test]
fn an_always_on_account_stays_in_its_rooms_away_and_comes_back_quietly() {
    let (mut sim, bob) = alice_gone(relaxed());
    assert_eq!(sim.take_json(bob), Vec::<Value>::new(), "nobody hears alice go");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
    // Still a member, shown away.
    sim.send_json(bob, &json!({"type": "who", "room": "den"}));
    let who = sim.take_json(bob);
    assert_eq!(who[0]["members"], json!(["alice", "bob"]), "{who:?}");
    assert_eq!(who[0]["away"], json!(["alice"]), "{who:?}");
    let carol = registered(&mut sim, "carol", "");
    sim.send(carol, "JOIN #den");
    sim.take(carol);
    sim.send(carol, "WHO #den");
    let lines = sim.take(carol);
    assert!(lines.iter().any(|l| l.starts_with(":chatd 352 carol #den alice ") && l.contains(" G ")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with(":chatd 352 carol #den bob ") && l.contains(" H ")), "{lines:?}");
    sim.send(carol, "NAMES #den");
    assert!(sim.take(carol)[0].contains("alice"));
    // What she misses waits: the room's history, and her mailbox.
    sim.send_json(bob, &json!({"type": "say", "room": "den", "text": "while you were out"}));
    sim.send_json(bob, &json!({"type": "register", "name": "bob", "password": "hunter33", "confirm": "hunter33"}));
    sim.take(bob);
    sim.send_json(bob, &json!({"type": "msg", "to": "alice", "text": "psst"}));
    assert_eq!(sim.take_json(bob)[0]["type"], "kept");
    // IRC says she is away.
    sim.send(carol, "PRIVMSG alice :hello?");
    let lines = sim.take(carol);
    assert!(lines.iter().any(|l| l.starts_with(":chatd 301 carol alice ")), "{lines:?}");
    // Her name is hers.
    let guest = sim.connect_json_as("dave");
    assert_eq!(refused(&mut sim, guest, &json!({"type": "nick", "nick": "alice"})), "nick_registered");
    sim.clear();
    // She logs in again, on a terminal: back in den, quietly, with what she missed.
    let t = sim.connect();
    sim.take(t);
    sim.send(t, "/login alice hunter22");
    let text = sim.take(t);
    assert!(text.iter().any(|l| l.contains("while you were out")), "{text:?}");
    assert!(text.iter().any(|l| l.contains("psst")), "{text:?}");
    assert!(sim.engine().world.clients[&t].is_in(&NameKey::of("den")));
    assert!(sim.engine().world.rooms.get(&NameKey::of("den")).expect("den").members.absent_len() == 0);
    assert_eq!(sim.take_json(bob), Vec::<Value>::new(), "bob hears nothing of her return");
    assert_eq!(sim.take(carol), Vec::<String>::new());
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn turning_always_on_off_takes_the_account_out_of_the_rooms_it_waited_in() {
    let (mut sim, bob) = alice_gone(relaxed());
    let a = json_client(&mut sim);
    sim.send_json(a, &json!({"type": "login", "name": "alice", "password": "hunter22"}));
    sim.send_json(a, &json!({"type": "always_on"}));
    let reply = sim.take_json(a);
    assert_eq!(reply.last(), Some(&json!({"type": "always_on", "on": true, "forced": false})), "{reply:?}");
    // Out of den with a part, then back in den, so that off has a room to wait in no more.
    sim.send_json(a, &json!({"type": "create", "room": "lair"}));
    sim.send_json(bob, &json!({"type": "join", "room": "lair"}));
    sim.send_json(a, &json!({"type": "quit"}));
    // A terminal comes back to one room; the account still waits in the other.
    let t = sim.connect();
    sim.send(t, "/login alice hunter22");
    let waiting = sim.engine().world.rooms.values().filter(|r| r.members.absent_len() > 0).count();
    assert_eq!(waiting, 1);
    sim.clear();
    sim.send(t, "/always-on off");
    assert!(sim.take(t).iter().any(|l| l.contains("always-on is off")));
    let parted = sim.take_json(bob);
    assert_eq!(parted.len(), 1, "{parted:?}");
    assert_eq!((parted[0]["type"].as_str(), parted[0]["nick"].as_str()), (Some("left"), Some("alice")));
    assert!(sim.engine().world.rooms.values().all(|r| r.members.absent_len() == 0));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
    // Off, the account leaves with its last connection, as before.
    sim.send(t, "/quit");
    assert_eq!(sim.take_json(bob)[0]["type"], "disconnected");
}

#[test]
fn the_server_may_force_always_on_and_guests_cannot_have_it() {
    let (mut sim, bob) = alice_gone(relaxed().with_always_on(AlwaysOn::ForcedOn));
    assert_eq!(sim.take_json(bob), Vec::<Value>::new());
    assert_eq!(sim.engine().world.rooms.get(&NameKey::of("den")).expect("den").members.absent_len(), 1);
    let a = json_client(&mut sim);
    sim.send_json(a, &json!({"type": "login", "name": "alice", "password": "hunter22"}));
    sim.take(a);
    assert_eq!(refused(&mut sim, a, &json!({"type": "always_on", "state": "off"})), "always_on_forced");
    assert_eq!(refused(&mut sim, bob, &json!({"type": "always_on", "state": "on"})), "always_on_needs_account");
    assert_eq!(refused(&mut sim, a, &json!({"type": "always_on", "state": "maybe"})), "usage");
    // Forced off, the choice is stored but has no effect.
    let (mut sim, bob) = alice_gone(relaxed().with_always_on(AlwaysOn::ForcedOff));
    assert_eq!(sim.take_json(bob)[0]["type"], "disconnected");
    assert!(sim.engine().world.rooms.values().all(|r| r.members.absent_len() == 0));
}

#[test]
fn a_restart_puts_an_always_on_account_back_in_its_rooms() {
    let mut sim = auto(relaxed().with_emit_records(true));
    let a = json_client(&mut sim);
    sim.send_json(a, &json!({"type": "register", "name": "alice", "password": "hunter22", "confirm": "hunter22"}));
    sim.send_json(a, &json!({"type": "create", "room": "den"}));
    sim.send_json(a, &json!({"type": "create", "room": "gone"}));
    sim.send_json(a, &json!({"type": "always_on", "state": "on"}));
    sim.send_json(a, &json!({"type": "create", "room": "lair"}));
    sim.send_json(a, &json!({"type": "leave", "room": "gone"}));
    let stored = records(&sim.take_transcript());
    assert!(stored.contains(&Record::AlwaysOn { account: "alice".into(), on: true }), "{stored:?}");
    let engine = Engine::restore(relaxed(), stored).expect("restored");
    let waiting: Vec<&str> =
        engine.world.rooms.values().filter(|r| r.members.is_absent(&NameKey::of("alice"))).map(|r| &*r.name).collect();
    assert_eq!(waiting, ["den", "lair"]);
    assert_eq!(engine.check_invariants(), Ok(()));
    // And a login puts her connection in them.
    let mut sim = Sim::from_engine(engine, sim.now());
    sim.set_auto_auth(true);
    let a = json_client(&mut sim);
    sim.send_json(a, &json!({"type": "login", "name": "alice", "password": "hunter22"}));
    let joined: Vec<Value> = sim.take_json(a).into_iter().filter(|v| v["type"] == "joined").collect();
    assert_eq!(joined.len(), 2, "{joined:?}");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn an_absent_account_keeps_no_room_alive() {
    let config = relaxed().with_room_idle_expiry(Duration::from_secs(60));
    let (mut sim, bob) = alice_gone(config);
    sim.send_json(bob, &json!({"type": "leave", "room": "den"}));
    sim.advance(Duration::from_secs(61));
    assert!(sim.engine().world.rooms.get(&NameKey::of("den")).is_none(), "den expired with only alice waiting");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
    let a = json_client(&mut sim);
    sim.send_json(a, &json!({"type": "login", "name": "alice", "password": "hunter22"}));
    assert!(sim.take_json(a).iter().all(|v| v["type"] != "joined"));
    assert!(sim.engine().world.accounts.get(&NameKey::of("alice")).expect("alice").away_rooms.is_empty());
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn irc_spells_it_alwayson_and_text_shows_it() {
    let mut sim = auto(relaxed());
    let a = sim.connect();
    sim.send(a, "/register alice hunter22 hunter22");
    sim.send(a, "/always-on");
    let text = sim.take(a);
    assert_eq!(
        text.last().map(String::as_str),
        Some("* always-on is off: your account does not stay in its rooms while you are not connected")
    );
    let i = super::irc::irc(&mut sim);
    sim.send(i, "CAP REQ :sasl");
    sim.send(i, "NICK someone");
    sim.send(i, "USER alice 0 * :Alice");
    sim.send(i, "AUTHENTICATE PLAIN");
    sim.send(i, "AUTHENTICATE AGFsaWNlAGh1bnRlcjIy");
    sim.send(i, "CAP END");
    sim.take(i);
    sim.send(i, "ALWAYSON on");
    let lines = sim.take(i);
    assert!(lines.iter().any(|l| l.contains("always-on is on")), "{lines:?}");
    // Both connections are told.
    assert!(sim.take(a).iter().any(|l| l.contains("always-on is on")));
    assert!(sim.engine().world.always_on(&NameKey::of("alice")));
}
