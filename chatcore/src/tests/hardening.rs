//! What an attacker tried against the engine: filling the room table,
//! guessing one account's password from many addresses, crowding out its
//! own failure record, hiding layout tricks in messages, and a JSON line
//! that is not UTF-8.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::restore::records;
use super::{rejected, relaxed};
use crate::output::ClientId;
use crate::sim::Sim;
use crate::{Config, ConnectInfo, Record};

const HOUR: Duration = Duration::from_secs(3_600);

fn from(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
}

/// A client connected from `source`, with `nick`.
fn connect_from(sim: &mut Sim, source: IpAddr, nick: &str) -> ClientId {
    let now = sim.now();
    let id = sim.engine_mut().handle_connect(now, ConnectInfo::default().from(source));
    sim.drain();
    sim.send(id, &format!("/nick {nick}"));
    sim.take(id);
    id
}

/// What a login attempt (answered at once by the sim) tells the client.
fn login(sim: &mut Sim, id: ClientId, line: &str) -> String {
    sim.send(id, line);
    sim.take(id).remove(0)
}

#[test]
fn one_source_creates_a_limited_number_of_rooms_per_window() {
    let mut sim = Sim::new(relaxed().with_max_rooms_created_per_source(3));
    let a = connect_from(&mut sim, from(1), "a");
    for n in 0..3 {
        sim.send(a, &format!("/create r{n}"));
        sim.take(a);
    }
    assert_eq!(rejected(&mut sim, a, "/create r3"), ["! you have created enough rooms for now; try again in 3600 s"]);
    // Another connection from the same address shares the allowance.
    let b = connect_from(&mut sim, from(1), "b");
    assert_eq!(rejected(&mut sim, b, "/create r3"), ["! you have created enough rooms for now; try again in 3600 s"]);
    // Another address has its own; and the window ends.
    let c = connect_from(&mut sim, from(2), "c");
    sim.send(c, "/create r3");
    assert_eq!(sim.take(c)[0], "* room r3 created");
    sim.advance(HOUR);
    sim.send(a, "/create r4");
    assert_eq!(sim.take(a)[0], "* room r4 created");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn an_account_owns_its_rooms_and_only_it_may_drop_them() {
    let mut sim = Sim::new(relaxed().with_emit_records(true));
    sim.set_auto_auth(true);
    let owner = sim.connect();
    sim.send(owner, "/register owner hunter22 hunter22");
    sim.send(owner, "/create club");
    sim.send(owner, "hello");
    let guest = sim.connect_as("guest");
    sim.send(guest, "/join club");
    sim.send(guest, "/create lounge");
    sim.clear();
    sim.take_transcript();
    assert_eq!(rejected(&mut sim, guest, "/drop club"), ["! only the account that created club may drop it"]);
    // A guest's room has no owner: nobody may drop it (it expires instead).
    assert_eq!(rejected(&mut sim, owner, "/drop lounge"), ["! only the account that created lounge may drop it"]);
    assert_eq!(
        rejected(&mut sim, owner, "/drop nowhere"),
        ["! no room named nowhere; /list shows the rooms, /create makes one"]
    );
    sim.send(owner, "/drop club");
    assert_eq!(sim.take(owner), ["* room club was dropped by owner"]);
    assert_eq!(records(&sim.take_transcript()), [Record::RoomDropped { room: "club".into() }]);
    assert_eq!(sim.engine().room_count(), 1);
    assert_eq!(sim.engine().rooms_of(owner), Some(vec![]));
    sim.send(owner, "/create club");
    assert_eq!(sim.take(owner)[0], "* room club created");
    assert_eq!(sim.engine().history_len("club"), Some(0), "a new room of the same name starts empty");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[cfg(feature = "json")]
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
    sim.send(owner, "/register owner hunter22 hunter22");
    sim.send(owner, "/quit");
    let mut refused = 0;
    let mut failed = 0;
    for n in 0..25u8 {
        let attacker = connect_from(&mut sim, from(100 + n), &format!("a{n}"));
        for _ in 0..2 {
            let answer = login(&mut sim, attacker, "/login owner guess");
            if answer.starts_with("! wrong name or password") {
                failed += 1;
            } else {
                assert!(answer.starts_with("! too many failed logins"), "{answer:?}");
                refused += 1;
            }
        }
    }
    // Ten guesses were checked: nine answered as wrong, the tenth with the account's lock.
    assert_eq!(failed, 9);
    assert_eq!(refused, 41);
    let back = connect_from(&mut sim, from(1), "Guest");
    sim.send(back, "/login owner hunter22");
    assert_eq!(sim.engine().account_of(back), Some("owner"), "a known address is exempt");
    // A new address waits out the block like the attacker.
    sim.send(back, "/quit");
    let elsewhere = connect_from(&mut sim, from(9), "x");
    assert!(login(&mut sim, elsewhere, "/login owner hunter22").starts_with("! too many failed logins"));
    sim.advance(Duration::from_secs(15 * 60));
    sim.send(elsewhere, "/login owner hunter22");
    assert_eq!(sim.engine().account_of(elsewhere), Some("owner"));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

/// Checks in flight count too: a hundred guesses sent at once, before any
/// answer, cannot outrun the per-account count.
#[test]
fn simultaneous_guesses_cannot_outrun_the_account_count() {
    let mut sim = Sim::new(relaxed().with_max_account_failures(10));
    sim.set_auto_auth(true);
    let owner = sim.connect();
    sim.send(owner, "/register owner hunter22 hunter22");
    sim.send(owner, "/quit");
    sim.set_auto_auth(false);
    for n in 0..100u8 {
        let attacker = connect_from(&mut sim, from(n), &format!("a{n}"));
        sim.send(attacker, "/login owner guess");
    }
    assert_eq!(sim.take_auth_requests().len(), 10);
}

#[test]
fn cheap_failures_elsewhere_do_not_evict_an_attackers_record() {
    let config = relaxed().with_max_tracked_sources(3).with_max_login_failures(3).with_max_account_failures(1_000);
    let mut sim = Sim::new(config);
    sim.set_auto_auth(true);
    let owner = sim.connect();
    sim.send(owner, "/register owner hunter22 hunter22");
    sim.send(owner, "/register other hunter22 hunter22");
    sim.send(owner, "/quit");
    let attacker = connect_from(&mut sim, from(1), "attacker");
    let mut guesses = 0;
    for round in 0..5u8 {
        for _ in 0..3 {
            if login(&mut sim, attacker, "/login owner guess").starts_with("! wrong name or password") {
                guesses += 1;
            }
        }
        // Cheap failures from three other addresses to crowd the table.
        for n in 0..3u8 {
            let helper = connect_from(&mut sim, from(10 + 3 * round + n), &format!("h{round}x{n}"));
            sim.send(helper, "/login other guess");
            sim.send(helper, "/quit");
        }
    }
    assert_eq!(guesses, 2, "the third failure locks; later ones are refused, not counted afresh");
}

#[test]
fn layout_characters_that_could_fake_another_line_are_refused() {
    let mut sim = Sim::new(relaxed());
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    sim.send(a, "/create r");
    sim.send(b, "/join r");
    sim.clear();
    for text in ["hi\u{2028}[r] bob: I owe alice 100", "\u{202E}olleh", "a\u{2067}b\u{2069}", "p\u{2029}q"] {
        assert_eq!(
            rejected(&mut sim, a, text),
            ["! bidirectional override and line separator characters are not allowed; line discarded"],
            "{text:?}"
        );
    }
    // Right-to-left letters, directional marks and emoji joiners are text like any other.
    for text in ["שלום", "a\u{200F}b", "👨\u{200D}👩\u{200D}👧"] {
        sim.send(a, text);
        assert_eq!(sim.take(b), [format!("[r] alice: {text}")]);
    }
    assert_eq!(sim.take(b), Vec::<String>::new());
}

#[cfg(feature = "json")]
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
    let owner = sim.connect();
    sim.send(owner, "/register owner hunter22 hunter22");
    sim.send(owner, "/quit");
    let mut checked = 0;
    for n in 0..3_600u32 {
        let source = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n));
        let now = sim.now();
        let attacker = sim.engine_mut().handle_connect(now, ConnectInfo::default().from(source));
        sim.drain();
        sim.take(attacker);
        sim.send(attacker, "/login owner guess");
        let answer = sim.take(attacker).remove(0);
        if answer.starts_with("! wrong name or password") || answer.contains("failed logins; try again in 900 s") {
            checked += 1;
        }
        sim.send(attacker, "/quit");
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
