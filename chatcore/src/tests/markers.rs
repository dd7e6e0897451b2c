//! Read markers: set through each codec (`/read`, JSON `read`, IRC
//! `MARKREAD` with `draft/read-marker`), only forward, told to every
//! connection of the account, kept across a restart, and what they give a
//! device that comes back: the unread count on login and on joining, and
//! `/history ROOM since`.
#![cfg(feature = "json")]

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::irc::registered;
use super::restore::{records, restored};
use super::support::refused;
use crate::sim::Sim;
use crate::{ClientId, Codec, Config, ConnectInfo, Now, ReadTarget, Record};

/// 2023-11-15 13:50:00 UTC.
const BASE_MS: u64 = 1_700_056_200_000;

/// A sim whose clock starts at [`BASE_MS`] and answers password checks at once.
fn sim(config: Config) -> Sim {
    let mut sim = Sim::with_base(config, Now::new(Instant::now(), BASE_MS));
    sim.set_auto_auth(true);
    sim
}

fn json_client(sim: &mut Sim) -> ClientId {
    let id = sim.connect_with(ConnectInfo::new(Codec::Json));
    sim.take(id);
    id
}

/// alice registered over JSON, owner of `rust`, where the guest bob (text)
/// said `n` messages a minute apart (the first at 13:51).
fn alice_and_bob(config: Config, n: u64) -> (Sim, ClientId, ClientId) {
    let mut sim = sim(config);
    let a = json_client(&mut sim);
    sim.send_json(a, &json!({"type": "register", "name": "alice", "password": "hunter22", "confirm": "hunter22"}));
    sim.send_json(a, &json!({"type": "create", "room": "rust"}));
    let b = sim.connect_as("bob");
    sim.send(b, "/join rust");
    for k in 1..=n {
        sim.advance(Duration::from_secs(60));
        sim.send(b, &format!("m{k}"));
    }
    sim.take(a);
    sim.take(b);
    (sim, a, b)
}

/// The time of message `k` of [`alice_and_bob`].
fn said_at(k: u64) -> u64 {
    BASE_MS + 60_000 * k
}

fn read(seq: Option<u64>) -> Value {
    json!({"type": "read", "room": "rust", "seq": seq})
}

fn marker(seq: u64) -> Value {
    json!({"type": "read", "room": "rust", "seq": seq, "ts": said_at(seq)})
}

fn marker_records(sim: &mut Sim) -> Vec<Record> {
    records(&sim.take_transcript()).into_iter().filter(|r| matches!(r, Record::ReadMarker { .. })).collect()
}

#[test]
fn a_json_marker_moves_only_forward_and_is_stored_each_time_it_moves() {
    let (mut sim, a, _) = alice_and_bob(super::relaxed().with_emit_records(true), 5);
    sim.take_transcript();
    sim.send_json(a, &read(Some(3)));
    assert_eq!(sim.take_json(a), [marker(3)]);
    let stored = Record::ReadMarker {
        account: "alice".into(),
        target: ReadTarget::Room("rust".into()),
        seq: 3,
        unix_ms: said_at(3),
    };
    assert_eq!(marker_records(&mut sim), [stored]);
    // Behind the marker, or no number at all: where it is, and nothing stored.
    sim.send_json(a, &read(Some(2)));
    sim.send_json(a, &read(None));
    assert_eq!(sim.take_json(a), [marker(3), marker(3)]);
    assert_eq!(marker_records(&mut sim), []);
    // Beyond the newest message: the newest.
    sim.send_json(a, &read(Some(99)));
    assert_eq!(sim.take_json(a), [marker(5)]);
    assert_eq!(marker_records(&mut sim).len(), 1);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn a_guest_keeps_its_own_markers_in_memory_and_each_refusal_says_why() {
    let (mut sim, a, _) = alice_and_bob(super::relaxed().with_emit_records(true).with_max_read_markers(1), 2);
    let guest = json_client(&mut sim);
    sim.send_json(guest, &json!({"type": "join", "room": "rust"}));
    sim.take(guest);
    sim.take(a);
    sim.take_transcript();
    // A guest's marker is its connection's: told to it, never stored.
    sim.send_json(guest, &read(Some(1)));
    sim.send_json(guest, &read(None));
    assert_eq!(sim.take_json(guest), [marker(1), marker(1)]);
    assert_eq!(marker_records(&mut sim), []);
    assert_eq!(sim.take(a), Vec::<String>::new());
    // Bounded as an account's.
    let over = json!({"type": "read", "with": "somebody", "ts": 5});
    assert_eq!(refused(&mut sim, guest, &over), "read_marker_limit");
    assert_eq!(refused(&mut sim, a, &json!({"type": "read", "with": "bob", "seq": 1})), "no_such_account");
    // Asking about a room that does not exist is answered; marking it is refused.
    sim.send_json(a, &json!({"type": "read", "room": "nowhere"}));
    assert_eq!(sim.take_json(a), [json!({"type": "read", "room": "nowhere", "seq": null, "ts": null})]);
    assert_eq!(refused(&mut sim, a, &json!({"type": "read", "room": "nowhere", "seq": 1})), "no_such_room");
    assert_eq!(refused(&mut sim, a, &json!({"type": "read", "room": "rust", "with": "alice"})), "usage");
}

#[test]
fn an_account_keeps_at_most_max_read_markers_and_a_dropped_room_frees_its_place() {
    let (mut sim, a, _) = alice_and_bob(super::relaxed().with_max_read_markers(1), 1);
    sim.send_json(a, &json!({"type": "create", "room": "go"}));
    sim.send_json(a, &json!({"type": "say", "room": "go", "text": "hi"}));
    sim.send_json(a, &read(Some(1)));
    sim.take(a);
    assert_eq!(refused(&mut sim, a, &json!({"type": "read", "room": "go", "seq": 1})), "read_marker_limit");
    sim.send_json(a, &json!({"type": "drop", "room": "rust"}));
    sim.take(a);
    sim.send_json(a, &json!({"type": "read", "room": "go", "seq": 1}));
    assert_eq!(sim.take_types(a), ["read"]);
}

#[test]
fn a_marker_set_elsewhere_reaches_each_connection_of_the_account_that_hears_markers() {
    let (mut sim, a, _) = alice_and_bob(super::relaxed(), 4);
    // An IRC client of another account, without the capability, hears of nothing.
    let carol = registered(&mut sim, "carol", "");
    sim.send(carol, "REGISTER carol * hunter44");
    sim.take(carol);
    let now = sim.now();
    let record = |account: &str, seq| Record::ReadMarker {
        account: account.into(),
        target: ReadTarget::Room("rust".into()),
        seq,
        unix_ms: said_at(seq),
    };
    // As another node (or another device) set it: every session of the account is told.
    sim.engine_mut().handle_remote_record(now, record("alice", 2));
    sim.drain();
    assert_eq!(sim.engine().world.sessions_of(&crate::NameKey::of("alice")), [a]);
    assert_eq!(sim.take_json(a), [marker(2)]);
    // Behind it: nothing moves, nobody is told.
    sim.engine_mut().handle_remote_record(now, record("alice", 1));
    sim.drain();
    assert_eq!(sim.take(a), Vec::<String>::new());
    sim.send(carol, "JOIN #rust");
    sim.take(carol);
    sim.engine_mut().handle_remote_record(now, record("carol", 3));
    sim.drain();
    assert_eq!(sim.take(carol), Vec::<String>::new(), "no draft/read-marker, no MARKREAD");
    sim.send(carol, "MARKREAD #rust");
    assert_eq!(sim.take(carol), [":chatd MARKREAD #rust timestamp=2023-11-15T13:53:00.000Z\r"]);
}

#[test]
fn login_and_joining_tell_what_came_after_the_marker() {
    let (mut sim, a, b) = alice_and_bob(super::relaxed(), 5);
    sim.send_json(a, &read(Some(3)));
    sim.send_json(a, &json!({"type": "quit"}));
    sim.advance(Duration::from_secs(60));
    sim.send(b, "m6");
    let a = json_client(&mut sim);
    sim.send_json(a, &json!({"type": "login", "name": "alice", "password": "hunter22"}));
    let unread = json!({"type": "unread", "room": "rust", "count": 3, "first_seq": 4, "since": said_at(4)});
    let told = sim.take_json(a);
    assert_eq!(told[told.len() - 2..], [json!({"type": "logged_in", "name": "alice", "offline": 0}), unread.clone()]);
    sim.send_json(a, &json!({"type": "join", "room": "rust"}));
    let joined = sim.take_json(a);
    assert_eq!(joined.last(), Some(&unread), "after the replay: {joined:?}");
    // Nothing unread, nothing said.
    sim.send_json(a, &read(Some(6)));
    sim.send_json(a, &json!({"type": "leave", "room": "rust"}));
    sim.send_json(a, &json!({"type": "join", "room": "rust"}));
    assert!(!sim.take_types(a).contains(&"unread".to_owned()));
}

#[test]
fn text_marks_up_to_the_newest_and_a_login_shows_the_unread_line() {
    let mut sim = sim(super::relaxed());
    let a = sim.connect_as("alice");
    sim.send(a, "/register alice hunter22 hunter22");
    sim.send(a, "/create rust");
    let b = sim.connect_as("bob");
    sim.send(b, "/join rust");
    for k in 1..=3 {
        sim.send(b, &format!("early {k}"));
    }
    sim.take(a);
    sim.send(a, "/read");
    assert_eq!(sim.take(a), ["* rust read up to message 3"]);
    sim.send(a, "/quit");
    // 14:02: twelve messages, ten seconds apart.
    sim.advance(Duration::from_secs(12 * 60));
    for k in 1..=12 {
        sim.send(b, &format!("late {k}"));
        sim.advance(Duration::from_secs(10));
    }
    let a = sim.connect_as("alice2");
    sim.send(a, "/login alice hunter22");
    let lines = sim.take(a);
    assert!(lines.contains(&"* 12 unread in rust since 14:02 (/history rust)".to_owned()), "{lines:?}");
    sim.send(a, "/join rust");
    assert_eq!(sim.take(a).last().map(String::as_str), Some("* 12 unread in rust since 14:02 (/history rust)"));
    sim.send(a, "/history rust since");
    let page = sim.take(a);
    assert_eq!(page[0], "* 12 later messages of rust:");
    assert_eq!(page[1], "~ [rust 14:02:00] bob: late 1");
    assert_eq!(page.last().map(String::as_str), Some("* that is the newest of rust"));
    sim.send(a, "/history rust since 14");
    assert_eq!(sim.take(a)[0], "* 1 later message of rust:");
    sim.send(a, "/read rust 9");
    sim.send(a, "/read rust 5");
    sim.send(a, "/read");
    assert_eq!(
        sim.take(a),
        ["* rust read up to message 9", "* rust read up to message 9", "* rust read up to message 15"]
    );
    sim.send(a, "/history rust since");
    assert_eq!(sim.take(a), ["* no later messages in rust"]);
}

#[test]
fn json_since_is_after_by_another_name() {
    let (mut sim, a, _) = alice_and_bob(super::relaxed(), 4);
    sim.send_json(a, &json!({"type": "history", "room": "rust", "since": 2}));
    let page = sim.take_json(a);
    let seqs: Vec<u64> = page[0]["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [3, 4]);
    assert_eq!(page[0]["newest"], 4);
    assert_eq!(refused(&mut sim, a, &json!({"type": "history", "room": "rust", "since": 2, "after": 1})), "usage");
}

#[test]
fn irc_markread_names_markers_by_time_with_draft_read_marker() {
    let (mut sim, _, _) = alice_and_bob(super::relaxed(), 3);
    let i = registered(&mut sim, "ivy", "draft/read-marker");
    sim.send(i, "REGISTER ivy * hunter55");
    sim.take(i);
    sim.send(i, "JOIN #rust");
    let joined = sim.take(i);
    assert!(joined[0].starts_with(":ivy!"), "{joined:?}");
    assert_eq!(joined[1], ":chatd MARKREAD #rust *\r", "the marker right after the JOIN");
    let at = |k| crate::codec::irc::time::format(said_at(k));
    // A time between two messages marks the older one, and keeps the time
    // given, which is what IRC clients are told back.
    let between = crate::codec::irc::time::format(said_at(2) + 30_000);
    sim.send(i, &format!("MARKREAD #rust timestamp={between}"));
    let marked = format!(":chatd MARKREAD #rust timestamp={between}\r");
    assert_eq!(sim.take(i), std::slice::from_ref(&marked));
    sim.send(i, "MARKREAD #rust");
    // An older time is no move: the stored one is told.
    sim.send(i, &format!("MARKREAD #rust timestamp={}", at(1)));
    assert_eq!(sim.take(i), [marked.clone(), marked.clone()]);
    sim.send(i, "MARKREAD #rust timestamp=soon");
    assert!(sim.take(i)[0].starts_with(":chatd FAIL MARKREAD INVALID_PARAMS "));
    sim.send(i, "PART #rust");
    sim.take(i);
    sim.send(i, "JOIN #rust");
    let joined = sim.take(i);
    assert_eq!(joined[1], marked);
    // The number marked is the older message's: what a JSON client sees.
    let i_json = json_client(&mut sim);
    sim.send_json(i_json, &json!({"type": "login", "name": "ivy", "password": "hunter55"}));
    sim.send_json(i_json, &json!({"type": "join", "room": "rust"}));
    sim.take(i_json);
    sim.send_json(i_json, &json!({"type": "read", "room": "rust"}));
    let json_marker = sim.take_json(i_json);
    assert_eq!(json_marker[0]["seq"], 2, "{json_marker:?}");
}

#[test]
fn an_irc_guest_has_markers_for_its_connection_by_time() {
    let (mut sim, _, _) = alice_and_bob(super::relaxed().with_emit_records(true), 0);
    let guest = registered(&mut sim, "gus", "draft/read-marker");
    sim.send(guest, "MARKREAD #nowhere");
    sim.send(guest, "MARKREAD");
    let told = sim.take(guest);
    assert_eq!(told[0], ":chatd MARKREAD #nowhere *\r");
    assert!(told[1].starts_with(":chatd FAIL MARKREAD NEED_MORE_PARAMS "), "{told:?}");
    sim.send(guest, "JOIN #empty");
    let joined = sim.take(guest);
    assert_eq!(joined[1], ":chatd MARKREAD #empty *\r", "before NAMES: {joined:?}");
    // An empty room: the time is kept all the same, and only moves forward.
    sim.send(guest, "MARKREAD #empty timestamp=2019-06-01T12:00:00.000Z");
    sim.send(guest, "MARKREAD #empty timestamp=2019-01-01T00:00:00.000Z");
    let newer = ":chatd MARKREAD #empty timestamp=2019-06-01T12:00:00.000Z\r";
    assert_eq!(sim.take(guest), [newer, newer]);
    sim.send(guest, "PART #empty");
    sim.send(guest, "JOIN #empty");
    let rejoined = sim.take(guest);
    assert!(rejoined.iter().any(|l| l == newer), "{rejoined:?}");
    // A nickname names the conversation with it.
    sim.send(guest, "MARKREAD bob timestamp=2023-07-04T00:00:00.000Z");
    sim.send(guest, "MARKREAD Bob");
    let dm = ":chatd MARKREAD bob timestamp=2023-07-04T00:00:00.000Z\r";
    assert_eq!(sim.take(guest), [dm, ":chatd MARKREAD Bob timestamp=2023-07-04T00:00:00.000Z\r"]);
    assert_eq!(marker_records(&mut sim), [], "a guest's markers are not stored");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn a_restart_keeps_markers_and_a_dropped_room_takes_them() {
    let (mut sim, a, _) = alice_and_bob(super::relaxed().with_emit_records(true), 4);
    sim.send_json(a, &read(Some(1)));
    let engine = restored(super::relaxed().with_emit_records(true), records(&sim.take_transcript()));
    let mut sim = Sim::from_engine(engine, Now::new(Instant::now(), BASE_MS + 3_600_000));
    sim.set_auto_auth(true);
    let a = json_client(&mut sim);
    sim.send_json(a, &json!({"type": "login", "name": "alice", "password": "hunter22"}));
    let unread = json!({"type": "unread", "room": "rust", "count": 3, "first_seq": 2, "since": said_at(2)});
    assert_eq!(sim.take_json(a).last(), Some(&unread));
    sim.send_json(a, &json!({"type": "drop", "room": "rust"}));
    sim.send_json(a, &json!({"type": "create", "room": "rust"}));
    sim.send_json(a, &json!({"type": "say", "room": "rust", "text": "anew"}));
    sim.send_json(a, &read(None));
    let told = sim.take_json(a);
    assert_eq!(told.last().map(|m| m["seq"].clone()), Some(Value::Null), "no marker in the new room: {told:?}");
}

#[test]
fn an_irc_client_logged_in_by_sasl_hears_the_unread_after_its_welcome() {
    let (mut sim, a, _) = alice_and_bob(super::relaxed(), 3);
    sim.send_json(a, &read(Some(1)));
    sim.send_json(a, &json!({"type": "quit"}));
    let i = sim.connect_with(ConnectInfo::new(Codec::Irc));
    sim.send(i, "CAP REQ :sasl");
    sim.send(i, "NICK alice");
    sim.send(i, "USER alice 0 * :alice");
    sim.send(i, "AUTHENTICATE PLAIN");
    // base64 of "\0alice\0hunter22"
    sim.send(i, "AUTHENTICATE AGFsaWNlAGh1bnRlcjIy");
    let before = sim.take(i);
    assert!(before.iter().any(|l| l.contains(" 903 ")), "{before:?}");
    assert!(!before.iter().any(|l| l.contains("unread")), "not before the welcome: {before:?}");
    sim.send(i, "CAP END");
    let after = sim.take(i);
    let welcome = after.iter().position(|l| l.contains(" 001 ")).expect("a welcome");
    let unread = after.iter().position(|l| l.ends_with(":* 2 unread in rust since 13:52 (HISTORY #rust)\r"));
    assert!(unread.is_some_and(|at| at > welcome), "{after:?}");
}

#[test]
fn a_conversation_has_a_marker_by_whisper_number() {
    let (mut sim, a, _) = alice_and_bob(super::relaxed().with_emit_records(true), 0);
    let d = json_client(&mut sim);
    sim.send_json(d, &json!({"type": "register", "name": "dave", "password": "hunter33", "confirm": "hunter33"}));
    for text in ["one", "two"] {
        sim.send_json(a, &json!({"type": "msg", "to": "dave", "text": text}));
    }
    sim.take(a);
    sim.take(d);
    let now = sim.now().unix_ms;
    let marker = |seq: u64| json!({"type": "read", "with": "dave", "seq": seq, "ts": now});
    // Beyond the newest whisper: the newest.
    sim.send_json(a, &json!({"type": "read", "with": "Dave", "seq": 9}));
    sim.send_json(a, &json!({"type": "read", "with": "dave", "seq": 1}));
    sim.send_json(a, &json!({"type": "read", "with": "dave"}));
    assert_eq!(sim.take_json(a), [marker(2), marker(2), marker(2)]);
    assert_eq!(sim.take(d), Vec::<String>::new(), "dave's markers are his own");
    sim.send_json(d, &json!({"type": "read", "with": "alice"}));
    assert_eq!(sim.take_json(d), [json!({"type": "read", "with": "alice", "seq": null, "ts": null})]);
    // A time cannot be placed among whispers (they live in the store): it
    // moves the marker's time and keeps its number, forward only.
    sim.send_json(a, &json!({"type": "read", "with": "dave", "ts": now + 5}));
    sim.send_json(a, &json!({"type": "read", "with": "dave", "ts": now + 1}));
    let later = json!({"type": "read", "with": "dave", "seq": 2, "ts": now + 5});
    assert_eq!(sim.take_json(a), [later.clone(), later]);
}
