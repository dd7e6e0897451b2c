//! What a private room keeps, and what nobody inherits: an account's room
//! keeps its modes, bans and the accounts it made operators across a
//! restart (`Record::RoomModesSet`), so an outsider is still refused and
//! never replayed its history; a guest's room that empties starts again
//! as new, so the next person in never reads a previous group's messages.
//!
//! Clients speak JSON: what is told is asserted by `type`, fields and code.
#![cfg(feature = "json")]

use std::time::Duration;

use serde_json::{Value, json};

use super::restore::{durable, records, restored};
use super::support::{refusal, refused};
use crate::modes::MAX_OPERATORS;
use crate::sim::Sim;
use crate::{ClientId, Codec, Config, ConnectInfo, Record, StorageStatus, StoredModes};

const TS: u64 = Sim::BASE_UNIX_MS;

fn stored_config() -> Config {
    super::relaxed().with_emit_records(true).with_max_registrations_per_source(100)
}

/// A store-backed sim that answers password requests at once.
fn stored_sim() -> Sim {
    let mut sim = Sim::new(stored_config());
    sim.set_auto_auth(true);
    sim
}

/// A JSON client that registered `name` (password `Pw-NAME-1`).
fn account(sim: &mut Sim, name: &str) -> ClientId {
    let id = guest(sim);
    let password = format!("Pw-{name}-1");
    sim.send_json(id, &json!({"type": "register", "name": name, "password": password, "confirm": password}));
    sim.take(id);
    id
}

/// A JSON client, a guest, its welcome taken.
fn guest(sim: &mut Sim) -> ClientId {
    let id = sim.connect_with(ConnectInfo::new(Codec::Json));
    sim.take(id);
    id
}

/// A JSON client that logged in to `name`, its replies taken.
fn login(sim: &mut Sim, name: &str) -> ClientId {
    let id = guest(sim);
    sim.send_json(id, &json!({"type": "login", "name": name, "password": format!("Pw-{name}-1")}));
    sim.take(id);
    id
}

fn create(room: &str) -> Value {
    json!({"type": "create", "room": room})
}

fn join(room: &str) -> Value {
    json!({"type": "join", "room": room})
}

fn leave(room: &str) -> Value {
    json!({"type": "leave", "room": room})
}

/// A `mode` request: `modes` on `room`, with `args`.
fn mode(room: &str, modes: &str, args: &[&str]) -> Value {
    json!({"type": "mode", "room": room, "modes": modes, "args": args})
}

/// What the members of `room` are told when `by` changes its modes.
fn changed(room: &str, by: &str, modes: &str, args: &[&str]) -> Value {
    json!({"type": "mode", "room": room, "by": by, "modes": modes, "args": args})
}

fn modes(room: &str, modes: &str) -> Value {
    json!({"type": "modes", "room": room, "modes": modes})
}

/// An empty first page of a room's history.
fn no_history(room: &str) -> Value {
    json!({"type": "history", "room": room, "messages": [], "more": false, "oldest": null})
}

/// A fresh sim rebuilt from `stored`, as chatd does at start.
fn restart(stored: &[Record]) -> Sim {
    let mut after = Sim::new(stored_config());
    for record in stored {
        after.engine_mut().world.restore(record.clone()).unwrap();
    }
    after.set_auto_auth(true);
    after
}

/// alice (an account) made `vault` `+iks sesame`, banned mallory, made
/// bob's account an operator and said the launch code; everyone left.
/// Returns every record emitted.
fn vault() -> Vec<Record> {
    let mut sim = stored_sim();
    let a = account(&mut sim, "alice");
    let b = account(&mut sim, "bob");
    sim.send_json(a, &create("vault"));
    sim.send_json(a, &mode("vault", "+iks", &["sesame"]));
    sim.send_json(a, &mode("vault", "+b", &["mallory"]));
    sim.send_json(a, &json!({"type": "invite", "nick": "bob", "room": "vault"}));
    sim.send_json(b, &join("vault"));
    sim.send_json(a, &mode("vault", "+o", &["bob"]));
    sim.send_json(a, &json!({"type": "say", "room": "vault", "text": "the launch code is 0000"}));
    sim.send_json(a, &json!({"type": "quit"}));
    sim.send_json(b, &json!({"type": "quit"}));
    let stored = records(&sim.take_transcript());
    // A restart loses nothing the room keeps.
    assert_eq!(durable(&restored(stored_config(), stored.iter().cloned())), durable(sim.engine()));
    stored
}

#[test]
fn a_mode_change_is_recorded_as_the_rooms_whole_set() {
    let mut sim = stored_sim();
    let a = account(&mut sim, "alice");
    let b = account(&mut sim, "bob");
    sim.send_json(a, &create("vault"));
    sim.take_transcript();
    sim.send_json(a, &mode("vault", "+iks", &["sesame"]));
    let want = StoredModes {
        invite_only: true,
        moderated: false,
        secret: true,
        topic_locked: true,
        external_messages: false,
        key: Some("sesame".into()),
        limit: None,
        bans: vec![],
        operators: vec![],
    };
    assert_eq!(records(&sim.take_transcript()), [Record::RoomModesSet { room: "vault".into(), modes: want.clone() }]);
    // A change that changes nothing records nothing; a voice is not kept.
    sim.send_json(a, &mode("vault", "+i", &[]));
    sim.send_json(a, &json!({"type": "invite", "nick": "bob", "room": "vault"}));
    sim.send_json(b, &join("vault"));
    sim.send_json(a, &mode("vault", "+v", &["bob"]));
    assert!(records(&sim.take_transcript()).iter().all(|r| !matches!(r, Record::RoomModesSet { .. })));
    // An operator logged in to an account is remembered, by the account's name.
    sim.send_json(a, &mode("vault", "+o", &["bob"]));
    let operators = vec!["bob".into()];
    let kept = Record::RoomModesSet { room: "vault".into(), modes: StoredModes { operators, ..want.clone() } };
    assert_eq!(records(&sim.take_transcript()), [kept]);
    sim.send_json(a, &mode("vault", "-o", &["bob"]));
    assert_eq!(records(&sim.take_transcript()), [Record::RoomModesSet { room: "vault".into(), modes: want }]);
}

#[test]
fn after_a_restart_an_outsider_is_refused_and_hears_nothing() {
    let mut after = restart(&vault());
    let m = guest(&mut after);
    after.send_json(m, &json!({"type": "nick", "nick": "mallory"}));
    after.take(m);
    after.send_json(m, &json!({"type": "list"}));
    assert_eq!(after.take_json(m), [json!({"type": "rooms", "rooms": [], "total": 0, "next": null})]);
    assert_eq!(refused(&mut after, m, &json!({"type": "join", "room": "vault", "key": "sesame"})), "banned");
    after.send_json(m, &json!({"type": "mode", "room": "vault"}));
    assert_eq!(after.take_json(m), [modes("vault", "+instk *")]);
    // Knowing the key is not enough: the room is still invite-only.
    let c = after.connect_json_as("carol");
    assert_eq!(refused(&mut after, c, &join("vault")), "invite_only");
    assert_eq!(refused(&mut after, c, &json!({"type": "join", "room": "vault", "key": "sesame"})), "invite_only");
}

#[test]
fn after_a_restart_the_owner_and_the_accounts_made_operators_get_in_and_operate() {
    let mut after = restart(&vault());
    let b = login(&mut after, "bob");
    // Past +i and +k: the room made bob's account an operator.
    after.send_json(b, &join("vault"));
    assert_eq!(
        after.take_json(b),
        [
            json!({"type": "joined", "room": "vault", "nick": "bob", "members": 1}),
            json!({"type": "message", "room": "vault", "seq": 1, "from": "alice", "text": "the launch code is 0000",
                "ts": TS, "history": true})
        ]
    );
    after.send_json(b, &mode("vault", "-s", &[]));
    assert_eq!(after.take_json(b), [changed("vault", "bob", "-s", &[])]);
    let a = login(&mut after, "alice");
    after.send_json(a, &join("vault"));
    after.take(a);
    after.send_json(a, &mode("vault", "-o", &["bob"]));
    after.take(a);
    after.send_json(b, &leave("vault"));
    after.take(b);
    assert_eq!(refused(&mut after, b, &join("vault")), "invite_only");
}

#[test]
fn an_operator_account_is_forgotten_while_away_and_the_list_is_bounded() {
    let mut sim = stored_sim();
    let a = account(&mut sim, "alice");
    sim.send_json(a, &create("club"));
    for n in 0..MAX_OPERATORS {
        let name = format!("op{n}");
        let id = account(&mut sim, &name);
        sim.send_json(id, &join("club"));
        sim.send_json(a, &mode("club", "+o", &[&name]));
    }
    let extra = account(&mut sim, "extra");
    sim.send_json(extra, &join("club"));
    sim.take(a);
    let (code, message) = refusal(&mut sim, a, &mode("club", "+o", &["extra"]));
    assert_eq!(code, "operator_list_full");
    assert_eq!(message, "club already remembers the maximum of 32 operators; take one away with -o first");
    // op0 leaves; an operator takes its account off the list by name.
    let op0 = sim.engine().world.names.holder(&crate::NameKey::of("op0")).unwrap();
    sim.send_json(op0, &leave("club"));
    sim.take(a);
    sim.take_transcript();
    sim.send_json(a, &mode("club", "-o", &["op0"]));
    assert_eq!(sim.take_json(a), [changed("club", "alice", "-o", &["op0"])]);
    assert!(
        matches!(&records(&sim.take_transcript())[..], [Record::RoomModesSet { modes, .. }] if modes.operators.len() == MAX_OPERATORS - 1)
    );
    sim.send_json(a, &mode("club", "+o", &["extra"]));
    assert_eq!(sim.take_json(a), [changed("club", "alice", "+o", &["extra"])]);
    sim.send_json(op0, &join("club"));
    sim.take(op0);
    assert_eq!(refused(&mut sim, op0, &mode("club", "+m", &[])), "not_operator");
}

#[test]
fn a_guest_room_emptied_then_rejoined_shows_no_history_and_no_operator_of_before() {
    let mut sim = stored_sim();
    let g = sim.connect_json_as("gus");
    let h = sim.connect_json_as("hal");
    sim.send_json(g, &create("den"));
    sim.send_json(h, &join("den"));
    sim.send_json(g, &mode("den", "+sk", &["plans"]));
    sim.send_json(g, &mode("den", "+o", &["hal"]));
    sim.send_json(g, &json!({"type": "topic", "room": "den", "text": "the plan: midnight"}));
    sim.send_json(g, &json!({"type": "say", "room": "den", "text": "meet at the docks"}));
    sim.send_json(g, &leave("den"));
    sim.take_transcript();
    sim.send_json(h, &json!({"type": "quit"}));
    // On record: the room is forgotten and made again, empty.
    let stored = records(&sim.take_transcript());
    let now = sim.now().unix_ms;
    assert_eq!(
        stored,
        [
            Record::RoomDropped { room: "den".into() },
            Record::RoomCreated { room: "den".into(), unix_ms: now, owner: None },
            Record::RoomVacated { room: "den".into(), unix_ms: now },
        ]
    );
    let m = sim.connect_json_as("mallory");
    sim.send_json(m, &json!({"type": "list"}));
    assert_eq!(
        sim.take_json(m),
        [json!({"type": "rooms", "rooms": [{"name": "den", "members": 0}], "total": 1, "next": null})]
    );
    sim.send_json(m, &join("den"));
    assert_eq!(sim.take_json(m), [json!({"type": "joined", "room": "den", "nick": "mallory", "members": 1})]);
    sim.send_json(m, &json!({"type": "history", "room": "den"}));
    assert_eq!(sim.take_json(m), [no_history("den")]);
    sim.send_json(m, &json!({"type": "mode", "room": "den"}));
    assert_eq!(sim.take_json(m), [modes("den", "+n")]);
    // hal, an operator of the group before, comes back to a room he does not operate.
    let h = sim.connect_json_as("hal");
    sim.send_json(h, &join("den"));
    sim.take(h);
    assert_eq!(refused(&mut sim, h, &mode("den", "+i", &[])), "not_operator");
    // Numbering starts again.
    sim.take_transcript();
    sim.send_json(m, &json!({"type": "say", "room": "den", "text": "hello"}));
    assert!(matches!(&records(&sim.take_transcript())[..], [Record::Message { message, .. }] if message.seq == 1));
}

#[test]
fn a_guest_room_left_occupied_by_a_crash_is_renewed_for_whoever_walks_in() {
    let mut sim = stored_sim();
    let g = sim.connect_json_as("gus");
    sim.send_json(g, &create("den"));
    sim.send_json(g, &mode("den", "+sk", &["plans"]));
    sim.send_json(g, &json!({"type": "say", "room": "den", "text": "meet at the docks"}));
    // The process dies here: no departure is recorded.
    let stored = records(&sim.take_transcript());
    let mut after = restart(&stored);
    after.advance(Duration::from_secs(5));
    let m = after.connect_json_as("mallory");
    after.take_transcript();
    after.send_json(m, &join("den"));
    assert_eq!(after.take_json(m), [json!({"type": "joined", "room": "den", "nick": "mallory", "members": 1})]);
    let now = after.now().unix_ms;
    assert_eq!(
        records(&after.take_transcript()),
        [
            Record::RoomDropped { room: "den".into() },
            Record::RoomCreated { room: "den".into(), unix_ms: now, owner: None },
            Record::RoomVacated { room: "den".into(), unix_ms: now },
        ]
    );
    after.send_json(m, &json!({"type": "history", "room": "den"}));
    assert_eq!(after.take_json(m), [no_history("den")]);
}

#[test]
fn an_invitation_is_for_the_user_not_for_whoever_takes_the_name_next() {
    let mut sim = stored_sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    sim.send_json(a, &create("club"));
    sim.send_json(a, &mode("club", "+i", &[]));
    sim.send_json(a, &json!({"type": "invite", "nick": "bob", "room": "club"}));
    sim.send_json(b, &json!({"type": "quit"}));
    let m = sim.connect_json_as("bob");
    assert_eq!(refused(&mut sim, m, &join("club")), "invite_only");
}

#[test]
fn a_mode_change_needs_a_working_store() {
    let mut sim = stored_sim();
    let a = sim.connect_json_as("alice");
    sim.send_json(a, &create("club"));
    sim.engine_mut().handle_storage_status(StorageStatus::Failing);
    sim.drain();
    sim.take(a);
    assert_eq!(refused(&mut sim, a, &mode("club", "+s", &[])), "storage_unavailable");
    sim.send_json(a, &json!({"type": "mode", "room": "club"}));
    assert_eq!(sim.take_json(a), [modes("club", "+n")]);
}

#[test]
fn changes_before_a_refused_one_are_told_and_kept() {
    let mut sim = stored_sim();
    let a = account(&mut sim, "alice");
    sim.send_json(a, &create("club"));
    sim.take(a);
    sim.take_transcript();
    sim.send_json(a, &mode("club", "+s+o", &["nobody"]));
    let told = sim.take_json(a);
    assert_eq!(told[0], changed("club", "alice", "+s", &[]));
    assert_eq!((told.len(), &told[1]["code"]), (2, &json!("not_on_channel")));
    assert!(
        matches!(&records(&sim.take_transcript())[..], [Record::RoomModesSet { modes, .. }] if modes.secret),
        "the +s that was applied is on record"
    );
}
