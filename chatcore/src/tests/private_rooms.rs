//! What a private room keeps, and what nobody inherits: an account's room
//! keeps its modes, bans and the accounts it made operators across a
//! restart (`Record::RoomModesSet`), so an outsider is still refused and
//! never replayed its history; a guest's room that empties starts again
//! as new, so the next person in never reads a previous group's messages.

use std::time::Duration;

use super::restore::{durable, records, restored};
use crate::modes::MAX_OPERATORS;
use crate::sim::Sim;
use crate::{ClientId, Config, Record, StorageStatus, StoredModes};

fn stored_config() -> Config {
    super::relaxed().with_emit_records(true).with_max_registrations_per_source(100)
}

/// A store-backed sim that answers password requests at once.
fn stored_sim() -> Sim {
    let mut sim = Sim::new(stored_config());
    sim.set_auto_auth(true);
    sim
}

/// A client that registered `name` (password `Pw-NAME-1`).
fn account(sim: &mut Sim, name: &str) -> ClientId {
    let id = sim.connect();
    sim.send(id, &format!("/register {name} Pw-{name}-1 Pw-{name}-1"));
    sim.take(id);
    id
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
    sim.send(a, "/create vault");
    sim.send(a, "/mode vault +iks sesame");
    sim.send(a, "/mode vault +b mallory");
    sim.send(a, "/invite bob vault");
    sim.send(b, "/join vault");
    sim.send(a, "/mode vault +o bob");
    sim.send(a, "the launch code is 0000");
    sim.send(a, "/quit");
    sim.send(b, "/quit");
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
    sim.send(a, "/create vault");
    sim.take_transcript();
    sim.send(a, "/mode vault +iks sesame");
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
    sim.send(a, "/mode vault +i");
    sim.send(a, "/invite bob vault");
    sim.send(b, "/join vault");
    sim.send(a, "/mode vault +v bob");
    assert!(records(&sim.take_transcript()).iter().all(|r| !matches!(r, Record::RoomModesSet { .. })));
    // An operator logged in to an account is remembered, by the account's name.
    sim.send(a, "/mode vault +o bob");
    let operators = vec!["bob".into()];
    let kept = Record::RoomModesSet { room: "vault".into(), modes: StoredModes { operators, ..want.clone() } };
    assert_eq!(records(&sim.take_transcript()), [kept]);
    sim.send(a, "/mode vault -o bob");
    assert_eq!(records(&sim.take_transcript()), [Record::RoomModesSet { room: "vault".into(), modes: want }]);
}

#[test]
fn after_a_restart_an_outsider_is_refused_and_hears_nothing() {
    let mut after = restart(&vault());
    let m = after.connect_as("mallory");
    after.send(m, "/list");
    assert_eq!(after.take(m), ["* no rooms yet; /create ROOM makes one"]);
    after.send(m, "/join vault sesame");
    assert_eq!(after.take(m), ["! you are banned from vault"]);
    after.send(m, "/mode vault");
    assert_eq!(after.take(m), ["* modes of vault: +instk *"]);
    // Knowing the key is not enough: the room is still invite-only.
    let c = after.connect_as("carol");
    after.send(c, "/join vault");
    assert_eq!(after.take(c), ["! vault is invite-only; ask a member for an invitation"]);
    after.send(c, "/join vault sesame");
    assert_eq!(after.take(c), ["! vault is invite-only; ask a member for an invitation"]);
}

#[test]
fn after_a_restart_the_owner_and_the_accounts_made_operators_get_in_and_operate() {
    let mut after = restart(&vault());
    let b = after.connect();
    after.send(b, "/login bob Pw-bob-1");
    after.take(b);
    // Past +i and +k: the room made bob's account an operator.
    after.send(b, "/join vault");
    assert_eq!(after.take(b), ["* you are now in vault (1 here)", "~ [vault 22:13:20] alice: the launch code is 0000"]);
    after.send(b, "/mode vault -s");
    assert_eq!(after.take(b), ["* bob set mode -s on vault"]);
    let a = after.connect();
    after.send(a, "/login alice Pw-alice-1");
    after.send(a, "/join vault");
    after.take(a);
    after.send(a, "/mode vault -o bob");
    after.take(a);
    after.send(b, "/leave");
    after.send(b, "/join vault");
    assert_eq!(after.take(b).last().unwrap(), "! vault is invite-only; ask a member for an invitation");
}

#[test]
fn an_operator_account_is_forgotten_while_away_and_the_list_is_bounded() {
    let mut sim = stored_sim();
    let a = account(&mut sim, "alice");
    sim.send(a, "/create club");
    for n in 0..MAX_OPERATORS {
        let name = format!("op{n}");
        let id = account(&mut sim, &name);
        sim.send(id, "/join club");
        sim.send(a, &format!("/mode club +o {name}"));
    }
    let extra = account(&mut sim, "extra");
    sim.send(extra, "/join club");
    sim.take(a);
    assert_eq!(
        super::rejected(&mut sim, a, "/mode club +o extra"),
        ["! club already remembers the maximum of 32 operators; take one away with -o first"]
    );
    // op0 leaves; an operator takes its account off the list by name.
    let op0 = sim.engine().world.nicks[&crate::NameKey::of("op0")];
    sim.send(op0, "/leave");
    sim.take(a);
    sim.take_transcript();
    sim.send(a, "/mode club -o op0");
    assert_eq!(sim.take(a), ["* alice set mode -o op0 on club"]);
    assert!(
        matches!(&records(&sim.take_transcript())[..], [Record::RoomModesSet { modes, .. }] if modes.operators.len() == MAX_OPERATORS - 1)
    );
    sim.send(a, "/mode club +o extra");
    assert_eq!(sim.take(a), ["* alice set mode +o extra on club"]);
    sim.send(op0, "/join club");
    sim.take(op0);
    sim.send(op0, "/mode club +m");
    assert_eq!(sim.take(op0), ["! you are not an operator of club"]);
}

#[test]
fn a_guest_room_emptied_then_rejoined_shows_no_history_and_no_operator_of_before() {
    let mut sim = stored_sim();
    let g = sim.connect_as("gus");
    let h = sim.connect_as("hal");
    sim.send(g, "/create den");
    sim.send(h, "/join den");
    sim.send(g, "/mode den +sk plans");
    sim.send(g, "/mode den +o hal");
    sim.send(g, "/topic the plan: midnight");
    sim.send(g, "meet at the docks");
    sim.send(g, "/leave");
    sim.take_transcript();
    sim.send(h, "/quit");
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
    let m = sim.connect_as("mallory");
    sim.send(m, "/list");
    assert_eq!(sim.take(m), ["* 1 room:", "*   den (0 here)"]);
    sim.send(m, "/join den");
    assert_eq!(sim.take(m), ["* you are now in den (1 here)"]);
    sim.send(m, "/history");
    assert_eq!(sim.take(m), ["* no earlier messages in den"]);
    sim.send(m, "/mode den");
    assert_eq!(sim.take(m), ["* modes of den: +n"]);
    // hal, an operator of the group before, comes back to a room he does not operate.
    let h = sim.connect_as("hal");
    sim.send(h, "/join den");
    sim.take(h);
    sim.send(h, "/mode den +i");
    assert_eq!(sim.take(h), ["! you are not an operator of den"]);
    // Numbering starts again.
    sim.take_transcript();
    sim.send(m, "hello");
    assert!(matches!(&records(&sim.take_transcript())[..], [Record::Message { message, .. }] if message.seq == 1));
}

#[test]
fn a_guest_room_left_occupied_by_a_crash_is_renewed_for_whoever_walks_in() {
    let mut sim = stored_sim();
    let g = sim.connect_as("gus");
    sim.send(g, "/create den");
    sim.send(g, "/mode den +sk plans");
    sim.send(g, "meet at the docks");
    // The process dies here: no departure is recorded.
    let stored = records(&sim.take_transcript());
    let mut after = restart(&stored);
    after.advance(Duration::from_secs(5));
    let m = after.connect_as("mallory");
    after.take_transcript();
    after.send(m, "/join den");
    assert_eq!(after.take(m), ["* you are now in den (1 here)"]);
    let now = after.now().unix_ms;
    assert_eq!(
        records(&after.take_transcript()),
        [
            Record::RoomDropped { room: "den".into() },
            Record::RoomCreated { room: "den".into(), unix_ms: now, owner: None },
            Record::RoomVacated { room: "den".into(), unix_ms: now },
        ]
    );
    after.send(m, "/history");
    assert_eq!(after.take(m), ["* no earlier messages in den"]);
}

#[test]
fn an_invitation_is_for_the_user_not_for_whoever_takes_the_name_next() {
    let mut sim = stored_sim();
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    sim.send(a, "/create club");
    sim.send(a, "/mode club +i");
    sim.send(a, "/invite bob club");
    sim.send(b, "/quit");
    let m = sim.connect_as("bob");
    sim.take(m);
    sim.send(m, "/join club");
    assert_eq!(sim.take(m), ["! club is invite-only; ask a member for an invitation"]);
}

#[test]
fn a_mode_change_needs_a_working_store() {
    let mut sim = stored_sim();
    let a = sim.connect_as("alice");
    sim.send(a, "/create club");
    sim.engine_mut().handle_storage_status(StorageStatus::Failing);
    sim.drain();
    sim.take(a);
    assert_eq!(
        super::rejected(&mut sim, a, "/mode club +s"),
        ["! the server cannot save right now; that was not sent or saved, try again shortly"]
    );
    sim.send(a, "/mode club");
    assert_eq!(sim.take(a), ["* modes of club: +n"]);
}

#[test]
fn changes_before_a_refused_one_are_told_and_kept() {
    let mut sim = stored_sim();
    let a = account(&mut sim, "alice");
    sim.send(a, "/create club");
    sim.take(a);
    sim.take_transcript();
    sim.send(a, "/mode club +s+o nobody");
    let told = sim.take(a);
    assert_eq!(told[0], "* alice set mode +s on club");
    assert_eq!(told[1..], ["! nobody is not in club"]);
    assert!(
        matches!(&records(&sim.take_transcript())[..], [Record::RoomModesSet { modes, .. }] if modes.secret),
        "the +s that was applied is on record"
    );
}
