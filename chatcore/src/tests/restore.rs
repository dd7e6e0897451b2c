//! The durability contract: the `Persist` records an engine emits rebuild
//! its durable state (rooms, kept history and numbering, accounts with their
//! hashes, last-seen times, mailboxes and block lists) through
//! `Engine::restore`, whether every record is fed or only the last
//! `history_len` messages of each room. Plus each `RestoreError`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use proptest::prelude::*;

use crate::names::NameKey;
use crate::sim::Sim;
use crate::{
    ClientId, Config, ConnectInfo, DisconnectReason, Engine, Output, PasswordHash, Record, RestoreError, StorageStatus,
    StoredMessage,
};

/// What a store keeps: rooms, kept history and message numbering, and
/// accounts with everything about them. Equal digests mean a restart loses
/// nothing.
pub(crate) fn durable(engine: &Engine) -> String {
    let mut out = String::new();
    for (key, room) in &engine.world.rooms {
        let modes = engine.world.stored_modes(&room.modes);
        let _ = writeln!(out, "room {key} {:?} next={} {modes:?}", room.name, room.next_seq);
        for e in room.history.iter() {
            let _ = writeln!(out, "  #{} {:?} {} {:?}", e.seq, e.from, e.unix_ms, e.text);
        }
    }
    for (key, a) in &engine.world.accounts {
        let _ = writeln!(out, "account {key} {:?} hash={:?} seen={:?}", a.name, a.hash.expose(), a.last_seen_ms());
        for m in a.mailbox() {
            let _ = writeln!(out, "  kept {:?} {} {:?} #{:?}", m.from, m.unix_ms, m.text, m.seq);
        }
        let _ = writeln!(out, "  blocks {:?}", a.blocks);
    }
    let _ = writeln!(
        out,
        "offline {} next whisper {}",
        engine.world.accounts.offline_total(),
        engine.world.accounts.next_whisper_seq()
    );
    out
}

/// The `Persist` records among `outputs`, in order.
pub(crate) fn records(outputs: &[Output]) -> Vec<Record> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Persist(record) => Some(Record::clone(record)),
            _ => None,
        })
        .collect()
}

/// A fresh engine rebuilt from `records`; panics on a `RestoreError`.
pub(crate) fn restored(config: Config, records: impl IntoIterator<Item = Record>) -> Engine {
    let mut engine = Engine::new(config).unwrap();
    for record in records {
        let shown = format!("{record:?}");
        if let Err(e) = engine.world.restore(record) {
            panic!("restoring {shown}: {e}");
        }
    }
    engine
}

/// `records` as a store would feed them at start: only the last
/// `history_len` messages of each room (at least one, so that numbering
/// continues) and the last whisper, everything else as it came.
pub(crate) fn trimmed(records: &[Record], history_len: usize) -> Vec<Record> {
    let mut per_room: BTreeMap<NameKey, usize> = BTreeMap::new();
    for record in records {
        if let Record::Message { room, .. } = record {
            *per_room.entry(NameKey::of(room)).or_default() += 1;
        }
    }
    let last_whisper = records.iter().rposition(|r| matches!(r, Record::Whisper { .. }));
    let keep = history_len.max(1);
    let mut seen: BTreeMap<NameKey, usize> = BTreeMap::new();
    records
        .iter()
        .enumerate()
        .filter(|&(at, record)| match record {
            Record::Whisper { .. } => Some(at) == last_whisper,
            Record::Message { room, .. } => {
                let key = NameKey::of(room);
                let n = seen.entry(key.clone()).or_default();
                *n += 1;
                *n + keep > per_room[&key]
            }
            _ => true,
        })
        .map(|(_, record)| record.clone())
        .collect()
}

fn stored_config() -> Config {
    super::relaxed().with_emit_records(true).with_history_len(3)
}

/// A store-backed sim that answers password requests at once.
fn stored_sim(config: Config) -> Sim {
    let mut sim = Sim::new(config);
    sim.set_auto_auth(true);
    sim
}

// ---- restoring a known history ----

#[cfg(feature = "json")]
#[test]
fn a_restored_engine_holds_what_the_first_one_did() {
    use serde_json::json;

    let mut sim = stored_sim(stored_config());
    let a = sim.connect();
    sim.send(a, "/register alice Pw-alice-1 Pw-alice-1");
    sim.send(a, "/create Rust");
    for word in ["one", "two", "three", "four"] {
        sim.advance(Duration::from_secs(1));
        sim.send(a, word);
    }
    sim.send(a, "/block mallory");
    sim.send(a, "/block eve");
    sim.send(a, "/unblock mallory");
    sim.send(a, "/quit");
    let b = sim.connect();
    sim.send(b, "/register bob Pw-bob-123 Pw-bob-123");
    sim.send(b, "/msg alice while you were out");
    sim.send(b, "/create go");
    let outputs = sim.take_transcript();
    let stored = records(&outputs);
    let engine = restored(stored_config(), stored.iter().cloned());
    assert_eq!(durable(&engine), durable(sim.engine()));
    assert_eq!(engine.check_invariants(), Ok(()));
    assert_eq!(engine.room_count(), 2);
    assert_eq!(engine.history_len("rust"), Some(3));
    assert_eq!(engine.offline_len("alice"), Some(1));
    assert_eq!(engine.account_count(), 2);
    // A store keeps only the last history_len messages per room for restarts.
    let newest = trimmed(&stored, 3);
    assert_eq!(newest.iter().filter(|r| matches!(r, Record::Message { .. })).count(), 3);
    assert_eq!(durable(&restored(stored_config(), newest)), durable(sim.engine()));

    // After the restart: alice logs in with her password, gets her whisper and her blocks.
    let mut after = Sim::new(stored_config());
    for record in stored {
        after.engine_mut().world.restore(record).unwrap();
    }
    after.set_auto_auth(true);
    let a = after.connect_with(crate::ConnectInfo::new(crate::Codec::Json));
    after.take(a);
    after.send_json(a, &json!({"type": "login", "name": "alice", "password": "Pw-alice-1"}));
    let ts = |secs: u64| Sim::BASE_UNIX_MS + secs * 1_000;
    assert_eq!(
        after.take_json(a),
        [
            json!({"type": "nick", "old": "Guest1", "new": "alice"}),
            json!({"type": "logged_in", "name": "alice", "offline": 1}),
            json!({"type": "whisper", "from": "bob", "to": "alice", "text": "while you were out", "ts": ts(4), "offline": true, "seq": 1})
        ]
    );
    after.send_json(a, &json!({"type": "blocked"}));
    assert_eq!(after.take_json(a), [json!({"type": "block_list", "names": ["eve"]})]);
    after.send_json(a, &json!({"type": "join", "room": "rust"}));
    let replayed = |seq: u64, text: &str| json!({"type": "message", "room": "Rust", "seq": seq, "from": "alice", "text": text, "ts": ts(seq), "history": true});
    assert_eq!(
        after.take_json(a),
        [
            json!({"type": "joined", "room": "Rust", "nick": "alice", "members": 1}),
            replayed(2, "two"),
            replayed(3, "three"),
            replayed(4, "four")
        ]
    );
    // Numbering continues where it stopped.
    after.take_transcript();
    after.send_json(a, &json!({"type": "say", "room": "Rust", "text": "five"}));
    let persisted = records(&after.take_transcript());
    assert!(
        matches!(&persisted[..], [Record::Message { room, message }] if **room == *"Rust" && message.seq == 5 && *message.text == *"five"),
        "{persisted:?}"
    );
}

#[cfg(feature = "json")]
#[test]
fn blocks_a_guest_brings_to_its_account_are_stored() {
    use serde_json::json;

    // A guest's blocks join the account's when it registers or logs in, and
    // must be on record like any other block of the account.
    let mut sim = stored_sim(stored_config());
    let g = sim.connect();
    sim.send(g, "/block mallory");
    sim.send(g, "/register alice Pw-alice-1 Pw-alice-1");
    sim.send(g, "/quit");
    let h = sim.connect_with(crate::ConnectInfo::new(crate::Codec::Json));
    sim.send_json(h, &json!({"type": "block", "nick": "eve"}));
    sim.send_json(h, &json!({"type": "login", "name": "alice", "password": "Pw-alice-1"}));
    sim.send_json(h, &json!({"type": "blocked"}));
    assert_eq!(sim.take_json(h).last(), Some(&json!({"type": "block_list", "names": ["eve", "mallory"]})));
    let engine = restored(stored_config(), records(&sim.take_transcript()));
    assert_eq!(durable(&engine), durable(sim.engine()));
    let blocks: Vec<&str> = engine.world.accounts[&NameKey::of("alice")].blocks.values().map(|n| &**n).collect();
    assert_eq!(blocks, ["eve", "mallory"]);
}

#[test]
fn history_len_zero_still_continues_the_numbering() {
    let config = stored_config().with_history_len(0);
    let mut sim = stored_sim(config.clone());
    let a = sim.connect_as("alice");
    sim.send(a, "/create r");
    sim.send(a, "one");
    sim.send(a, "two");
    let stored = records(&sim.take_transcript());
    let engine = restored(config.clone(), trimmed(&stored, 0));
    assert_eq!(engine.history_len("r"), Some(0));
    assert_eq!(durable(&engine), durable(sim.engine()));
    assert_eq!(engine.world.rooms[&NameKey::of("r")].next_seq, 3);
}

// ---- RestoreError, one by one ----

fn room(name: &str) -> Record {
    Record::RoomCreated { room: name.into(), unix_ms: 1, owner: None }
}

fn message(room: &str, seq: u64) -> Record {
    let message = StoredMessage {
        seq,
        from: "alice".into(),
        text: format!("m{seq}").into(),
        unix_ms: seq,
        kind: crate::MessageKind::Said,
    };
    Record::Message { room: room.into(), message }
}

fn account(name: &str) -> Record {
    Record::AccountCreated { name: name.into(), hash: PasswordHash::new(format!("h-{name}")), unix_ms: 1 }
}

/// `record` fails with `expected` and leaves the engine as it was.
fn refused(engine: &mut Engine, record: Record, expected: RestoreError) {
    let before = durable(engine);
    let shown = format!("{record:?}");
    assert_eq!(engine.world.restore(record), Err(expected), "{shown}");
    assert_eq!(durable(engine), before, "{shown} changed the engine");
    assert_eq!(engine.check_invariants(), Ok(()));
}

#[test]
fn restore_is_a_constructor_that_refuses_a_bad_config_or_record() {
    let bad = stored_config().with_max_clients(0);
    assert_eq!(
        Engine::restore(bad, [room("r")]).map(|_| ()),
        Err(RestoreError::Config(crate::ConfigError::Zero { field: "max_clients" }))
    );
    let engine = Engine::restore(stored_config(), [room("r"), message("r", 1)]).unwrap();
    assert_eq!(engine.history_len("r"), Some(1));
    assert_eq!(
        Engine::restore(stored_config(), [message("nowhere", 1)]).map(|_| ()),
        Err(RestoreError::UnknownRoom("nowhere".into()))
    );
}

#[test]
fn records_about_unknown_rooms_and_accounts_are_refused() {
    let mut engine = Engine::new(stored_config()).unwrap();
    engine.world.restore(room("r")).unwrap();
    refused(&mut engine, message("s", 1), RestoreError::UnknownRoom("s".into()));
    let unknown = || RestoreError::UnknownAccount("bob".into());
    refused(&mut engine, Record::LastSeen { account: "bob".into(), unix_ms: 5 }, unknown());
    let kept = Record::OfflineKept { to: "bob".into(), from: "x".into(), text: "t".into(), unix_ms: 5, seq: None };
    refused(&mut engine, kept, unknown());
    refused(&mut engine, Record::OfflineDelivered { to: "bob".into() }, unknown());
    refused(&mut engine, Record::Blocked { account: "bob".into(), name: "x".into() }, unknown());
    refused(&mut engine, Record::Unblocked { account: "bob".into(), name: "x".into() }, unknown());
    assert_eq!(unknown().to_string(), "record for account bob, which was never created");
    // Names are matched without regard to case, as everywhere else.
    engine.world.restore(account("Bob")).unwrap();
    engine.world.restore(Record::LastSeen { account: "BOB".into(), unix_ms: 5 }).unwrap();
    engine.world.restore(message("R", 1)).unwrap();
    assert_eq!(engine.world.accounts[&NameKey::of("bob")].last_seen_ms(), Some(5));
    assert_eq!(engine.history_len("r"), Some(1));
}

#[test]
fn rooms_and_accounts_created_twice_are_refused() {
    let mut engine = Engine::new(stored_config()).unwrap();
    engine.world.restore(room("#rust")).unwrap();
    engine.world.restore(account("alice")).unwrap();
    refused(&mut engine, room("RUST"), RestoreError::Duplicate("RUST".into()));
    refused(&mut engine, account("Alice"), RestoreError::Duplicate("Alice".into()));
    // A room name no client could have created is refused as well.
    refused(
        &mut engine,
        room("a b"),
        RestoreError::InvalidName { name: "a b".into(), reason: crate::NameError::BadChar(' ') },
    );
    assert_eq!(RestoreError::Duplicate("x".into()).to_string(), "x is created twice");
    assert_eq!(engine.room_count(), 1);
    assert_eq!(engine.account_count(), 1);
}

#[test]
fn messages_out_of_order_are_refused() {
    let mut engine = Engine::new(stored_config()).unwrap();
    engine.world.restore(room("r")).unwrap();
    let out_of_order = |seq| RestoreError::OutOfOrder { room: "r".into(), seq };
    refused(&mut engine, message("r", 0), out_of_order(0));
    // Gaps are allowed (a store may feed only the newest), going back is not.
    engine.world.restore(message("r", 4)).unwrap();
    engine.world.restore(message("r", 5)).unwrap();
    refused(&mut engine, message("r", 5), out_of_order(5));
    refused(&mut engine, message("r", 2), out_of_order(2));
    assert_eq!(out_of_order(2).to_string(), "message 2 of room r is not newer than the last one restored");
    assert_eq!(engine.world.rooms[&NameKey::of("r")].next_seq, 6);
}

#[test]
fn restore_keeps_within_todays_limits() {
    let config = stored_config().with_max_offline_messages(2).with_max_blocks(1).with_history_len(2);
    let mut engine = Engine::new(config).unwrap();
    engine.world.restore(account("alice")).unwrap();
    engine.world.restore(room("r")).unwrap();
    for n in 1..=4 {
        let kept =
            Record::OfflineKept { to: "alice".into(), from: "bob".into(), text: "t".into(), unix_ms: n, seq: None };
        engine.world.restore(kept).unwrap();
        engine.world.restore(message("r", n)).unwrap();
    }
    engine.world.restore(Record::Blocked { account: "alice".into(), name: "x".into() }).unwrap();
    engine.world.restore(Record::Blocked { account: "alice".into(), name: "y".into() }).unwrap();
    assert_eq!(engine.offline_len("alice"), Some(2));
    assert_eq!(engine.history_len("r"), Some(2));
    assert_eq!(engine.world.accounts[&NameKey::of("alice")].blocks.len(), 1);
    assert_eq!(engine.check_invariants(), Ok(()));
    engine.world.restore(Record::OfflineDelivered { to: "alice".into() }).unwrap();
    assert_eq!(engine.offline_len("alice"), Some(0));
    assert_eq!(engine.check_invariants(), Ok(()));
}

#[test]
fn a_password_hashed_after_the_store_began_failing_registers_nothing() {
    let mut sim = Sim::new(super::relaxed().with_emit_records(true));
    let a = sim.connect_as("carol");
    sim.send(a, "/register alice Pw-alice-1 Pw-alice-1");
    let [Output::HashPassword { request, .. }] = &sim.take_auth_requests()[..] else { panic!("one hash request") };
    sim.engine_mut().handle_storage_status(StorageStatus::Failing);
    sim.take_transcript();
    let now = sim.now();
    sim.engine_mut().handle_password_hashed(now, *request, Some(PasswordHash::new("sim:Pw-alice-1"))).unwrap();
    sim.drain();
    assert_eq!(sim.take_transcript(), [Output::Send { to: a, data: storage_unavailable_line() }]);
    assert_eq!(sim.engine().account_count(), 0);
    assert_eq!(sim.engine().account_of(a), None);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
    // Once the store is back, the same registration goes through.
    sim.engine_mut().handle_storage_status(StorageStatus::Healthy);
    sim.set_auto_auth(true);
    sim.send(a, "/register alice Pw-alice-1 Pw-alice-1");
    assert_eq!(sim.engine().account_of(a), Some("alice"));
}

fn storage_unavailable_line() -> bytes::Bytes {
    format!("! {}\n", crate::error::Rejection::StorageUnavailable).into()
}

// ---- random runs: records always rebuild the durable state ----

use super::lines::{Line, NAMES, line};

#[derive(Debug, Clone)]
enum Act {
    /// From one of three addresses, or from an unknown one.
    Connect {
        ip: Option<u8>,
        json: bool,
    },
    /// A line from the `who`-th client still connected.
    Line {
        who: usize,
        line: Line,
    },
    Disconnect {
        who: usize,
    },
    Advance {
        secs: u64,
    },
    /// Restart here: rebuild from the records so far and compare.
    Check,
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        3 => (prop::option::of(0u8..3), any::<bool>()).prop_map(|(ip, json)| Act::Connect { ip, json }),
        16 => (0usize..5, line()).prop_map(|(who, line)| Act::Line { who, line }),
        1 => (0usize..5).prop_map(|who| Act::Disconnect { who }),
        2 => (0u64..40).prop_map(|secs| Act::Advance { secs }),
        1 => Just(Act::Check),
    ]
}

fn random_config(history_len: usize) -> Config {
    super::relaxed()
        .with_emit_records(true)
        .with_history_len(history_len)
        .with_max_clients(5)
        .with_max_rooms(3)
        .with_max_accounts(3)
        .with_max_blocks(2)
        .with_max_offline_messages(2)
        .with_registration_timeout(Duration::from_secs(30))
        .with_idle_timeout(Duration::from_secs(60))
        .with_idle_warning(Duration::from_secs(10))
        // Rooms expire within a run, so expiry records are rebuilt too.
        .with_guest_room_idle_expiry(Duration::from_secs(30))
        .with_room_idle_expiry(Duration::from_secs(70))
        .with_max_known_sources(2)
}

/// Rebuilds from every record so far, and from a store's trimmed view, and
/// compares both with the running engine.
fn check_restart(sim: &Sim, stored: &[Record], history_len: usize, at: &str) -> Result<(), TestCaseError> {
    let config = sim.engine().config().clone();
    let want = durable(sim.engine());
    let mut full = Engine::new(config.clone()).unwrap();
    for record in stored {
        full.world.restore(record.clone()).map_err(|e| TestCaseError::fail(format!("{at}: {record:?}: {e}")))?;
    }
    prop_assert_eq!(&durable(&full), &want, "restored from every record, {}", at);
    prop_assert_eq!(full.check_invariants(), Ok(()));
    let mut newest = Engine::new(config).unwrap();
    for record in trimmed(stored, history_len) {
        newest.world.restore(record.clone()).map_err(|e| TestCaseError::fail(format!("{at}: {record:?}: {e}")))?;
    }
    prop_assert_eq!(&durable(&newest), &want, "restored from the newest messages, {}", at);
    Ok(())
}

/// The history lines a fresh text client sees on joining each room.
fn replays(sim: &mut Sim, rooms: &[String]) -> Vec<String> {
    let c = sim.connect();
    let mut lines = Vec::new();
    for room in rooms {
        sim.take(c);
        sim.send(c, &format!("/join {room}"));
        lines.extend(sim.take(c).into_iter().filter(|l| l.starts_with("~ ")));
    }
    lines
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn records_rebuild_the_durable_state(history_len in 1usize..4, acts in prop::collection::vec(act(), 1..80)) {
        let mut sim = Sim::new(random_config(history_len));
        // Password requests are answered at once, with the sim's stand-in hash.
        sim.set_auto_auth(true);
        let mut issued: Vec<(ClientId, bool)> = Vec::new();
        let mut stored: Vec<Record> = Vec::new();
        for (n, act) in [Act::Connect { ip: None, json: false }, Act::Connect { ip: Some(0), json: true }]
            .iter()
            .chain(&acts)
            .enumerate()
        {
            let connected: Vec<(ClientId, bool)> =
                issued.iter().copied().filter(|&(id, _)| sim.is_connected(id)).collect();
            match *act {
                Act::Connect { ip, json } => {
                    let now = sim.now();
                    let id = match ip {
                        Some(last) => sim.engine_mut().handle_connect(now, ConnectInfo::default().from(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)))),
                        None => sim.engine_mut().handle_connect(now, ConnectInfo::default()),
                    };
                    sim.drain();
                    issued.push((id, json && cfg!(feature = "json")));
                }
                Act::Line { who, ref line } => {
                    if let Some(&(id, json)) = connected.get(who % connected.len().max(1)) {
                        sim.send(id, &line.render(json));
                    }
                }
                Act::Disconnect { who } => {
                    if let Some(&(id, _)) = connected.get(who % connected.len().max(1)) {
                        sim.disconnect(id, DisconnectReason::ConnectionClosed).expect("connected");
                    }
                }
                Act::Advance { secs } => sim.advance(Duration::from_secs(secs)),
                Act::Check => {}
            }
            stored.extend(records(&sim.take_transcript()));
            prop_assert_eq!(sim.engine().check_invariants(), Ok(()), "after {:?}", act);
            if matches!(act, Act::Check) {
                check_restart(&sim, &stored, history_len, &format!("step {n}"))?;
            }
        }
        check_restart(&sim, &stored, history_len, "the end")?;
        // A shutdown stores when each logged-in user was last seen; restart after it.
        sim.shutdown();
        stored.extend(records(&sim.take_transcript()));
        check_restart(&sim, &stored, history_len, "after shutdown")?;
        let mut after = Sim::new(random_config(history_len));
        for record in trimmed(&stored, history_len) {
            after.engine_mut().world.restore(record).expect("checked above");
        }
        // The same as before through the public API as well.
        let rooms: Vec<String> = sim.engine().room_summaries().map(|(name, _)| name.to_owned()).collect();
        let again: Vec<String> = after.engine().room_summaries().map(|(name, _)| name.to_owned()).collect();
        prop_assert_eq!(&rooms, &again);
        prop_assert_eq!(sim.engine().account_count(), after.engine().account_count());
        for name in NAMES {
            prop_assert_eq!(sim.engine().offline_len(name), after.engine().offline_len(name));
        }
        for room in &rooms {
            prop_assert_eq!(sim.engine().history_len(room), after.engine().history_len(room));
        }
        prop_assert_eq!(replays(&mut sim, &rooms), replays(&mut after, &rooms));
        // Each restored room numbers its next message where the first left
        // off; one whose modes keep a newcomer out (or quiet) still does so.
        let c = after.connect();
        for room in &rooms {
            let key = NameKey::of(room);
            let (next, modes) = (sim.engine().world.rooms[&key].next_seq, &sim.engine().world.rooms[&key].modes);
            after.send(c, &format!("/join {room}"));
            after.take_transcript();
            if !after.engine().world.rooms[&key].members.contains(c) {
                let closed = modes.invite_only || modes.key.is_some() || modes.limit.is_some() || !modes.bans().is_empty();
                prop_assert!(closed, "{} refused a newcomer with modes {:?}", room, modes);
                continue;
            }
            after.send(c, "next");
            let said = records(&after.take_transcript());
            if modes.moderated {
                prop_assert!(said.is_empty(), "{} is moderated, yet a newcomer spoke: {:?}", room, said);
                continue;
            }
            prop_assert!(
                matches!(&said[..], [Record::Message { message, room: r }] if message.seq == next && **r == **room),
                "{} next {}: {:?}", room, next, said
            );
        }
    }
}
