//! What an attacker tried against the engine: filling the room table,
//! guessing one account's password from many addresses, crowding out its
//! own failure record, hiding layout tricks in messages, and a JSON line
//! that is not UTF-8. Clients speak JSON, so refusals are told by code.
#![cfg(feature = "json")]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde_json::{Value, json};

use super::restore::records;
use super::support::{refusal, refused};
use super::{rejected, relaxed};
use crate::output::ClientId;
use crate::sim::Sim;
use crate::{Codec, Config, ConnectInfo, Record};

const HOUR: Duration = Duration::from_secs(3_600);

fn from(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
}

/// A JSON client connected from `source`, with `nick`.
fn connect_from(sim: &mut Sim, source: IpAddr, nick: &str) -> ClientId {
    let id = sim.connect_with(ConnectInfo::new(Codec::Json).from(source));
    sim.send_json(id, &json!({"type": "nick", "nick": nick}));
    sim.take(id);
    id
}

/// A JSON client that registered `name` (password `hunter22`) and left.
fn registered_and_gone(sim: &mut Sim, names: &[&str]) {
    let id = sim.connect_with(ConnectInfo::new(Codec::Json));
    for name in names {
        sim.send_json(id, &json!({"type": "register", "name": name, "password": "hunter22", "confirm": "hunter22"}));
    }
    sim.send_json(id, &json!({"type": "quit"}));
}

fn login_request(name: &str, password: &str) -> Value {
    json!({"type": "login", "name": name, "password": password})
}

/// The `code` and `message` of the error a login attempt (answered at once
/// by the sim) is refused with, or `("", "")` if it was not refused.
fn login(sim: &mut Sim, id: ClientId, name: &str, password: &str) -> (String, String) {
    sim.send_json(id, &login_request(name, password));
    let told = sim.take_json(id);
    match told.iter().find(|v| v["type"] == "error") {
        Some(e) => (e["code"].as_str().unwrap().to_owned(), e["message"].as_str().unwrap().to_owned()),
        None => (String::new(), String::new()),
    }
}

fn create(room: &str) -> Value {
    json!({"type": "create", "room": room})
}

#[test]
fn one_source_creates_a_limited_number_of_rooms_per_window() {
    let mut sim = Sim::new(relaxed().with_max_rooms_created_per_source(3));
    let a = connect_from(&mut sim, from(1), "a");
    for n in 0..3 {
        sim.send_json(a, &create(&format!("r{n}")));
        sim.take(a);
    }
    let enough =
        ("too_many_rooms_created".to_owned(), "you have created enough rooms for now; try again in 3600 s".to_owned());
    assert_eq!(refusal(&mut sim, a, &create("r3")), enough);
    // Another connection from the same address shares the allowance.
    let b = connect_from(&mut sim, from(1), "b");
    assert_eq!(refusal(&mut sim, b, &create("r3")), enough);
    // Another address has its own; and the window ends.
    let c = connect_from(&mut sim, from(2), "c");
    sim.send_json(c, &create("r3"));
    assert_eq!(sim.take_json(c)[0], json!({"type": "created", "room": "r3"}));
    sim.advance(HOUR);
    sim.send_json(a, &create("r4"));
    assert_eq!(sim.take_json(a)[0], json!({"type": "created", "room": "r4"}));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn an_account_owns_its_rooms_and_only_it_may_drop_them() {
    let mut sim = Sim::new(relaxed().with_emit_records(true));
    sim.set_auto_auth(true);
    let owner = sim.connect_json_as("someone");
    sim.send_json(owner, &json!({"type": "register", "name": "owner", "password": "hunter22", "confirm": "hunter22"}));
    sim.send_json(owner, &create("club"));
    sim.send_json(owner, &json!({"type": "say", "room": "club", "text": "hello"}));
    let guest = sim.connect_json_as("guest");
    sim.send_json(guest, &json!({"type": "join", "room": "club"}));
    sim.send_json(guest, &create("lounge"));
    sim.clear();
    sim.take_transcript();
    let drop = |room: &str| json!({"type": "drop", "room": room});
    let not_owner = |room: &str| {
        (
            "not_room_owner".to_owned(),
            format!("only the account that created {room}, or a server operator, may drop it"),
        )
    };
    assert_eq!(refusal(&mut sim, guest, &drop("club")), not_owner("club"));
    // A guest's room has no owner: nobody may drop it (it expires instead).
    assert_eq!(refusal(&mut sim, owner, &drop("lounge")), not_owner("lounge"));
    assert_eq!(refused(&mut sim, owner, &drop("nowhere")), "no_such_room");
    sim.send_json(owner, &drop("club"));
    assert_eq!(sim.take_json(owner), [json!({"type": "dropped", "room": "club", "by": "owner"})]);
    assert_eq!(records(&sim.take_transcript()), [Record::RoomDropped { room: "club".into() }]);
    assert_eq!(sim.engine().room_count(), 1);
    assert_eq!(sim.engine().rooms_of(owner), Some(vec![]));
    sim.send_json(owner, &create("club"));
    assert_eq!(sim.take_json(owner)[0], json!({"type": "created", "room": "club"}));
    assert_eq!(sim.engine().history_len("club"), Some(0), "a new room of the same name starts empty");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn members_of_a_dropped_room_are_told_and_left_outside_it() {
    let mut sim = Sim::new(relaxed());
    sim.set_auto_auth(true);
    let owner = sim.connect();
    sim.send(owner, "/register owner hunter22 hunter22");
    sim.send(owner, "/create club");
    let text = sim.connect_as("texter");
    sim.send(text, "/join club");
    let json = sim.connect_json_as("bot");
    sim.send_json(json, &serde_json::json!({"type":"join","room":"club"}));
    sim.clear();
    sim.send(owner, "/drop club");
    assert_eq!(sim.take(text), ["* room club was dropped by owner"]);
    assert_eq!(sim.take_json(json), [serde_json::json!({"type":"dropped","room":"club","by":"owner"})]);
    assert_eq!(
        rejected(&mut sim, text, "still here?"),
        ["! you are in the Lobby, where nobody hears you; /list the rooms, then /join or /create one"]
    );
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn empty_rooms_expire_guests_sooner_and_survive_a_restart_as_records_say() {
    let config = relaxed().with_emit_records(true);
    let mut sim = Sim::new(config.clone());
    sim.set_auto_auth(true);
    let owner = sim.connect();
    sim.send(owner, "/register owner hunter22 hunter22");
    sim.send(owner, "/create owned");
    let guest = sim.connect_as("guest");
    sim.send(guest, "/create temp");
    sim.send(guest, "/leave");
    sim.send(owner, "/leave");
    // Still there just before a guest room's hour is up.
    sim.advance(HOUR - Duration::from_secs(61));
    assert_eq!(sim.engine().room_count(), 2);
    sim.advance(Duration::from_secs(61));
    assert_eq!(sim.engine().room_summaries().map(|(n, _)| n).collect::<Vec<_>>(), ["owned"]);
    // Someone in a room keeps it alive however long.
    sim.send(owner, "/join owned");
    sim.advance(40 * 24 * HOUR);
    assert_eq!(sim.engine().room_count(), 1);
    sim.send(owner, "/leave");
    sim.advance(29 * 24 * HOUR);
    assert_eq!(sim.engine().room_count(), 1);
    // What the records say survives: an engine rebuilt from them expires the room on time.
    let stored: Vec<Record> = records(&sim.take_transcript());
    assert!(stored.iter().any(|r| matches!(r, Record::RoomDropped { room } if &**room == "temp")));
    let engine = crate::Engine::restore(config, stored).unwrap();
    let mut restarted = Sim::from_engine(engine, sim.now());
    assert_eq!(restarted.engine().room_count(), 1);
    let someone = restarted.connect();
    restarted.advance(24 * HOUR + Duration::from_secs(60));
    assert_eq!(restarted.engine().room_count(), 0, "30 days after its last member left");
    let _ = someone;
}

/// An attacker with many addresses against one account: each address
/// alone stays under its own lockout, but the account stops taking guesses
/// from addresses it does not know. Its owner, from a known one, still
/// logs in.
#[test]
fn guessing_from_many_addresses_is_throttled_per_account_but_not_the_owner() {
    let config = relaxed().with_max_account_failures(10);
    let mut sim = Sim::new(config);
    sim.set_auto_auth(true);
    let owner = connect_from(&mut sim, from(1), "Guest");
    sim.send_json(owner, &json!({"type": "register", "name": "owner", "password": "hunter22", "confirm": "hunter22"}));
    sim.send_json(owner, &json!({"type": "quit"}));
    let mut refused = 0;
    let mut failed = 0;
    for n in 0..25u8 {
        let attacker = connect_from(&mut sim, from(100 + n), &format!("a{n}"));
        for _ in 0..2 {
            let (code, message) = login(&mut sim, attacker, "owner", "guess");
            if code == "login_failed" {
                failed += 1;
            } else {
                assert_eq!(code, "locked_out", "{message}");
                refused += 1;
            }
        }
    }
    // Ten guesses were checked: nine answered as wrong, the tenth with the account's lock.
    assert_eq!(failed, 9);
    assert_eq!(refused, 41);
    let back = connect_from(&mut sim, from(1), "Guest");
    sim.send_json(back, &login_request("owner", "hunter22"));
    assert_eq!(sim.engine().account_of(back), Some("owner"), "a known address is exempt");
    // A new address waits out the block like the attacker.
    sim.send_json(back, &json!({"type": "quit"}));
    let elsewhere = connect_from(&mut sim, from(9), "x");
    assert_eq!(login(&mut sim, elsewhere, "owner", "hunter22").0, "locked_out");
    sim.advance(Duration::from_secs(15 * 60));
    sim.send_json(elsewhere, &login_request("owner", "hunter22"));
    assert_eq!(sim.engine().account_of(elsewhere), Some("owner"));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

/// Checks in flight count too: a hundred guesses sent at once, before any
/// answer, cannot outrun the per-account count.
#[test]
fn simultaneous_guesses_cannot_outrun_the_account_count() {
    let mut sim = Sim::new(relaxed().with_max_account_failures(10));
    sim.set_auto_auth(true);
    registered_and_gone(&mut sim, &["owner"]);
    sim.set_auto_auth(false);
    for n in 0..100u8 {
        let attacker = connect_from(&mut sim, from(n), &format!("a{n}"));
        sim.send_json(attacker, &login_request("owner", "guess"));
    }
    assert_eq!(sim.take_auth_requests().len(), 10);
}

#[test]
fn cheap_failures_elsewhere_do_not_evict_an_attackers_record() {
    let config = relaxed().with_max_tracked_sources(3).with_max_login_failures(3).with_max_account_failures(1_000);
    let mut sim = Sim::new(config);
    sim.set_auto_auth(true);
    registered_and_gone(&mut sim, &["owner", "other"]);
    let attacker = connect_from(&mut sim, from(1), "attacker");
    let mut guesses = 0;
    for round in 0..5u8 {
        for _ in 0..3 {
            if login(&mut sim, attacker, "owner", "guess").0 == "login_failed" {
                guesses += 1;
            }
        }
        // Cheap failures from three other addresses to crowd the table.
        for n in 0..3u8 {
            let helper = connect_from(&mut sim, from(10 + 3 * round + n), &format!("h{round}x{n}"));
            sim.send_json(helper, &login_request("other", "guess"));
            sim.send_json(helper, &json!({"type": "quit"}));
        }
    }
    assert_eq!(guesses, 2, "the third failure locks; later ones are refused, not counted afresh");
}

#[test]
fn layout_characters_that_could_fake_another_line_are_refused() {
    let mut sim = Sim::new(relaxed());
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    sim.send_json(a, &create("r"));
    sim.send_json(b, &json!({"type": "join", "room": "r"}));
    sim.clear();
    let say = |text: &str| json!({"type": "say", "room": "r", "text": text});
    for text in ["hi\u{2028}[r] bob: I owe alice 100", "\u{202E}olleh", "a\u{2067}b\u{2069}", "p\u{2029}q"] {
        assert_eq!(refused(&mut sim, a, &say(text)), "layout_character", "{text:?}");
    }
    // A text client's line is refused the same way.
    let t = sim.connect_as("tess");
    assert_eq!(
        rejected(&mut sim, t, "hi\u{2028}there"),
        ["! bidirectional override and line separator characters are not allowed; line discarded"]
    );
    // Right-to-left letters, directional marks and emoji joiners are text like any other.
    for text in ["שלום", "a\u{200F}b", "👨\u{200D}👩\u{200D}👧"] {
        sim.send_json(a, &say(text));
        let heard = sim.take_json(b);
        assert_eq!((heard.len(), &heard[0]["from"], &heard[0]["text"]), (1, &json!("alice"), &json!(text)));
    }
    assert_eq!(sim.take_json(b), Vec::<Value>::new());
}

#[test]
fn a_first_line_starting_with_a_brace_picks_json_even_if_it_is_not_utf8() {
    let mut sim = Sim::new(relaxed());
    let a = sim.connect();
    sim.take(a);
    sim.input(a, b"{\"type\":\"nick\",\"nick\":\"\xff\"}\n").unwrap();
    let lines = sim.take_json(a);
    assert_eq!(lines[0]["type"], "welcome");
    assert_eq!(lines[1]["code"], "invalid_utf8");
}

/// Guesses checked in one simulated hour against one account by an
/// attacker with a fresh address for every try, one try a second.
fn guesses_per_hour(config: Config) -> usize {
    let mut sim = Sim::new(config);
    sim.set_auto_auth(true);
    registered_and_gone(&mut sim, &["owner"]);
    let mut checked = 0;
    for n in 0..3_600u32 {
        let source = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n));
        let attacker = sim.connect_with(ConnectInfo::new(Codec::Json).from(source));
        sim.take(attacker);
        // The account's own lock (900 s) still means the guess was checked.
        let (code, message) = login(&mut sim, attacker, "owner", "guess");
        if code == "login_failed" || (code == "locked_out" && message.contains("try again in 900 s")) {
            checked += 1;
        }
        sim.send_json(attacker, &json!({"type": "quit"}));
        sim.advance(Duration::from_secs(1));
    }
    checked
}

#[test]
fn guesses_per_hour_against_one_account_are_bounded_whatever_the_addresses() {
    let now = guesses_per_hour(relaxed());
    // Without the per-account count (as before it existed; its largest value is never reached in an
    // hour), every fresh address gets its tries.
    let before = guesses_per_hour(relaxed().with_max_account_failures(1_000_000));
    println!("guesses checked per hour against one account: {before} without the per-account count, {now} with it");
    assert_eq!(before, 3_600);
    // 10 per 15-minute block, plus the window that starts the hour.
    assert!(now <= 50, "{now} guesses in an hour");
}
