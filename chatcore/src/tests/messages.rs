//! Room messages, whispers and history: who hears what, in JSON; the text
//! protocol's own forms (`//` escaping, `@nick` whispers, aliases, its line
//! formats and usage) in tests of their own.

use std::time::Duration;

#[cfg(feature = "json")]
use serde_json::{Value, json};

#[cfg(feature = "json")]
use super::support::refused;
use super::{rejected, sim};
#[cfg(feature = "json")]
use crate::Output;
use crate::sim::Sim;

#[cfg(feature = "json")]
const TS: u64 = Sim::BASE_UNIX_MS;
const LOBBY: &str = "! you are in the Lobby, where nobody hears you; /list the rooms, then /join or /create one";

/// alice and bob in `rust`, carol in `go`, dave in the Lobby, all speaking
/// JSON; inboxes empty.
#[cfg(feature = "json")]
fn four() -> (Sim, [crate::ClientId; 4]) {
    let mut sim = sim();
    let ids = ["alice", "bob", "carol", "dave"].map(|n| sim.connect_json_as(n));
    sim.send_json(ids[0], &json!({"type": "create", "room": "rust"}));
    sim.send_json(ids[1], &json!({"type": "join", "room": "rust"}));
    sim.send_json(ids[2], &json!({"type": "create", "room": "go"}));
    sim.clear();
    (sim, ids)
}

#[cfg(feature = "json")]
fn say(room: &str, text: &str) -> Value {
    json!({"type": "say", "room": room, "text": text})
}

/// A room message as received: `seq` numbers it in its room; `history`:
/// replayed rather than live.
#[cfg(feature = "json")]
fn message(room: &str, seq: u64, from: &str, text: &str, ts: u64, history: bool) -> Value {
    json!({"type": "message", "room": room, "seq": seq, "from": from, "text": text, "ts": ts, "history": history})
}

#[cfg(feature = "json")]
fn whisper(from: &str, to: &str, text: &str, ts: u64) -> Value {
    json!({"type": "whisper", "from": from, "to": to, "text": text, "ts": ts, "offline": false})
}

#[cfg(feature = "json")]
#[test]
fn a_line_is_said_to_every_other_member_of_the_room() {
    let (mut sim, [a, b, c, d]) = four();
    sim.send_json(a, &say("rust", "hello, bob"));
    assert_eq!(sim.take_json(b), [message("rust", 1, "alice", "hello, bob", TS, false)]);
    // A JSON sender gets its own message back, numbered.
    assert_eq!(sim.take_json(a), [message("rust", 1, "alice", "hello, bob", TS, false)]);
    for id in [c, d] {
        assert_eq!(sim.take_json(id), Vec::<Value>::new());
    }
}

#[cfg(feature = "json")]
#[test]
fn a_broadcast_is_rendered_once_and_shared() {
    let (mut sim, [a, b, c, _]) = four();
    sim.send_json(c, &json!({"type": "join", "room": "rust"}));
    sim.clear();
    sim.take_transcript();
    sim.send_json(a, &say("rust", "one buffer"));
    // Bob, Carol, and Alice's own copy: one buffer for all three.
    let sends = sim.take_transcript();
    assert_eq!(sends.len(), 3);
    let ptrs: Vec<_> = sends
        .iter()
        .map(|o| match o {
            Output::Send { data, .. } => data.as_ptr(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(ptrs.iter().all(|&p| p == ptrs[0]));
    assert_eq!(sim.take_json(b), [message("rust", 1, "alice", "one buffer", TS, false)]);
    assert_eq!(sim.take_json(c), [message("rust", 1, "alice", "one buffer", TS, false)]);
}

#[cfg(feature = "json")]
#[test]
fn saying_in_the_lobby_is_refused() {
    let (mut sim, [_, _, _, d]) = four();
    assert_eq!(refused(&mut sim, d, &json!({"type": "say", "text": "anyone here?"})), "in_lobby");
}

#[cfg(feature = "json")]
#[test]
fn whisper_reaches_one_user_anywhere_and_echoes_to_the_sender() {
    let (mut sim, [a, b, c, d]) = four();
    let msg = |to: &str, text: &str| json!({"type": "msg", "to": to, "text": text});
    sim.send_json(d, &msg("alice", "psst"));
    assert_eq!(sim.take_json(a), [whisper("dave", "alice", "psst", TS)]);
    assert_eq!(sim.take_json(d), [whisper("dave", "alice", "psst", TS)]);
    assert_eq!(sim.take_json(b), Vec::<Value>::new());
    sim.advance(Duration::from_secs(61));
    // The recipient's own spelling, whatever the sender's.
    sim.send_json(c, &msg("BOB", "two  spaces"));
    let later = TS + 61_000;
    assert_eq!(sim.take_json(b), [whisper("carol", "bob", "two  spaces", later)]);
    assert_eq!(sim.take_json(c), [whisper("carol", "bob", "two  spaces", later)]);
    // To oneself: both arrive.
    sim.send_json(a, &msg("alice", "note"));
    assert_eq!(sim.take_json(a), [whisper("alice", "alice", "note", later), whisper("alice", "alice", "note", later)]);
}

#[cfg(feature = "json")]
#[test]
fn whisper_refusals() {
    let (mut sim, [a, ..]) = four();
    assert_eq!(refused(&mut sim, a, &json!({"type": "msg", "to": "zed", "text": "hi"})), "no_such_nick");
    for request in [json!({"type": "msg", "to": "bob"}), json!({"type": "msg", "text": "hi"}), json!({"type": "msg"})] {
        assert_eq!(refused(&mut sim, a, &request), "usage", "{request}");
    }
}

#[cfg(feature = "json")]
#[test]
fn joiner_gets_history_first_then_live_messages() {
    let mut sim = Sim::new(super::relaxed().with_history_len(2));
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    sim.send_json(a, &json!({"type": "create", "room": "rust"}));
    let mut times = Vec::new();
    for (n, text) in ["one", "two", "three"].iter().enumerate() {
        sim.advance(Duration::from_secs(n as u64 * 3600));
        sim.send_json(a, &say("rust", text));
        times.push(TS + sim.elapsed().as_millis() as u64);
    }
    assert_eq!(sim.engine().history_len("rust"), Some(2));
    sim.clear();
    sim.take_transcript();
    let join = json!({"type": "join", "room": "rust"});
    sim.send_json(b, &join);
    // The confirmation and the replay travel as one send.
    let to_b = sim.take_transcript().into_iter().filter(|o| matches!(o, Output::Send { to, .. } if *to == b)).count();
    assert_eq!(to_b, 1);
    let joined = || json!({"type": "joined", "room": "rust", "nick": "bob", "members": 2});
    assert_eq!(
        sim.take_json(b),
        [
            joined(),
            message("rust", 2, "alice", "two", times[1], true),
            message("rust", 3, "alice", "three", times[2], true)
        ]
    );
    assert_eq!(sim.take_json(a), [joined()]);
    sim.send_json(a, &say("rust", "four"));
    assert_eq!(sim.take_json(b), [message("rust", 4, "alice", "four", times[2], false)]);
    // History keeps the sender's name as it was.
    sim.send_json(a, &json!({"type": "nick", "nick": "alicia"}));
    sim.send_json(b, &json!({"type": "leave", "room": "rust"}));
    sim.clear();
    sim.send_json(b, &join);
    assert_eq!(
        sim.take_json(b),
        [
            joined(),
            message("rust", 3, "alice", "three", times[2], true),
            message("rust", 4, "alice", "four", times[2], true)
        ]
    );
}

#[cfg(feature = "json")]
#[test]
fn history_can_be_turned_off() {
    let mut sim = Sim::new(super::relaxed().with_history_len(0));
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    sim.send_json(a, &json!({"type": "create", "room": "rust"}));
    sim.send_json(a, &say("rust", "unheard"));
    sim.clear();
    sim.send_json(b, &json!({"type": "join", "room": "rust"}));
    assert_eq!(sim.take_types(b), ["joined"]);
    assert_eq!(sim.engine().history_len("rust"), Some(0));
}

#[cfg(feature = "json")]
#[test]
fn a_message_said_alone_is_kept_for_later() {
    // In an account's room: a guest's room forgets everything once it empties.
    let mut sim = sim();
    sim.set_auto_auth(true);
    let a = sim.connect_json_as("alice");
    let register = json!({"type": "register", "name": "alice", "password": "Pw-alice-1", "confirm": "Pw-alice-1"});
    sim.send_json(a, &register);
    sim.send_json(a, &json!({"type": "create", "room": "rust"}));
    sim.send_json(a, &say("rust", "anyone?"));
    sim.send_json(a, &json!({"type": "leave", "room": "rust"}));
    sim.clear();
    sim.send_json(a, &json!({"type": "join", "room": "rust"}));
    assert_eq!(
        sim.take_json(a),
        [
            json!({"type": "joined", "room": "rust", "nick": "alice", "members": 1}),
            message("rust", 1, "alice", "anyone?", TS, true)
        ]
    );
}

#[cfg(feature = "json")]
#[test]
fn a_room_style_name_never_reaches_a_user() {
    let mut sim = super::sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    sim.clear();
    assert_eq!(refused(&mut sim, a, &json!({"type": "msg", "to": "#bob", "text": "hi"})), "no_such_nick");
    assert_eq!(sim.take_json(b), Vec::<Value>::new());
    assert_eq!(refused(&mut sim, a, &json!({"type": "seen", "nick": "#bob"})), "never_seen");
}

/// alice and bob in `rust`, carol in `go`, dave in the Lobby, all speaking
/// text; inboxes empty.
fn four_text() -> (Sim, [crate::ClientId; 4]) {
    let mut sim = sim();
    let ids = ["alice", "bob", "carol", "dave"].map(|n| sim.connect_as(n));
    sim.send(ids[0], "/create rust");
    sim.send(ids[1], "/join rust");
    sim.send(ids[2], "/create go");
    sim.clear();
    (sim, ids)
}

/// A text line that is not a command is said in the room, in the text
/// protocol's line format; trailing whitespace is dropped, leading kept,
/// tabs allowed.
#[test]
fn text_lines_are_said_in_the_text_format() {
    let (mut sim, [a, b, _, d]) = four_text();
    sim.send(a, "hello, bob");
    assert_eq!(sim.take(b), ["[rust] alice: hello, bob"]);
    assert_eq!(sim.take(a), Vec::<String>::new());
    sim.send(a, "  indented\tand tabbed   ");
    assert_eq!(sim.take(b), ["[rust] alice:   indented\tand tabbed"]);
    assert_eq!(rejected(&mut sim, d, "anyone here?"), [LOBBY]);
    assert_eq!(rejected(&mut sim, d, "//x"), [LOBBY]);
}

#[test]
fn double_slash_says_a_line_that_starts_with_a_slash() {
    let (mut sim, [a, b, ..]) = four_text();
    sim.send(a, "//shrug");
    assert_eq!(sim.take(b), ["[rust] alice: /shrug"]);
    sim.send(a, "//");
    assert_eq!(sim.take(b), ["[rust] alice: /"]);
}

/// Whispers in text: `/msg`, its aliases `/whisper` and `/w`, `@nick`, and
/// their line formats with the time.
#[test]
fn text_whispers_and_their_aliases() {
    let (mut sim, [a, b, c, d]) = four_text();
    sim.send(d, "/msg alice psst");
    assert_eq!(sim.take(a), ["[whisper from dave 22:13:20] psst"]);
    assert_eq!(sim.take(d), ["[whisper to alice 22:13:20] psst"]);
    sim.advance(Duration::from_secs(61));
    sim.send(c, "/whisper BOB two  spaces");
    sim.send(c, "/w bob three");
    sim.send(c, "@Bob four");
    assert_eq!(
        sim.take(b),
        [
            "[whisper from carol 22:14:21] two  spaces",
            "[whisper from carol 22:14:21] three",
            "[whisper from carol 22:14:21] four"
        ]
    );
    assert_eq!(
        sim.take(c),
        ["[whisper to bob 22:14:21] two  spaces", "[whisper to bob 22:14:21] three", "[whisper to bob 22:14:21] four"]
    );
    sim.send(a, "@alice note");
    assert_eq!(sim.take(a), ["[whisper from alice 22:14:21] note", "[whisper to alice 22:14:21] note"]);
}

#[test]
fn text_whisper_refusals() {
    let (mut sim, [a, b, ..]) = four_text();
    let cases = [
        ("/msg zed hi", "! nobody named zed is online"),
        ("@zed hi", "! nobody named zed is online"),
        ("/msg #bob hi", "! nobody named #bob is online"),
        ("/seen #bob", "! #bob has not been seen (only registered users are remembered)"),
        ("/msg bob", "! usage: /msg NICK TEXT"),
        ("/msg bob    ", "! usage: /msg NICK TEXT"),
        ("/msg", "! usage: /msg NICK TEXT"),
        ("/w", "! usage: /msg NICK TEXT"),
        ("@bob", "! usage: /msg NICK TEXT"),
        ("@ bob hi", "! usage: /msg NICK TEXT"),
        ("@", "! usage: /msg NICK TEXT"),
    ];
    for (line, reply) in cases {
        assert_eq!(rejected(&mut sim, a, line), [reply], "{line}");
    }
    assert_eq!(sim.take(b), Vec::<String>::new());
}

/// Replayed history in text: `~`, the room and the time of each message.
#[test]
fn text_history_replay_format() {
    let mut sim = Sim::new(super::relaxed().with_history_len(2));
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    sim.send(a, "/create rust");
    for (n, text) in ["one", "two", "three"].iter().enumerate() {
        sim.advance(Duration::from_secs(n as u64 * 3600));
        sim.send(a, text);
    }
    sim.clear();
    sim.send(b, "/join rust");
    assert_eq!(
        sim.take(b),
        ["* you are now in rust (2 here)", "~ [rust 23:13:20] alice: two", "~ [rust 01:13:20] alice: three"]
    );
}
