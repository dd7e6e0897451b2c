//! Room messages, whispers and history.

use std::time::Duration;

use super::{rejected, sim};
use crate::Output;
use crate::sim::Sim;

const LOBBY: &str = "! you are in the Lobby, where nobody hears you; /list the rooms, then /join or /create one";

/// alice and bob in `rust`, carol in `go`, dave in the Lobby; inboxes empty.
fn four() -> (Sim, [crate::ClientId; 4]) {
    let mut sim = sim();
    let ids = ["alice", "bob", "carol", "dave"].map(|n| sim.connect_as(n));
    sim.send(ids[0], "/create rust");
    sim.send(ids[1], "/join rust");
    sim.send(ids[2], "/create go");
    sim.clear();
    (sim, ids)
}

#[test]
fn a_line_is_said_to_every_other_member_of_the_room() {
    let (mut sim, [a, b, c, d]) = four();
    sim.send(a, "hello, bob");
    assert_eq!(sim.take(b), ["[rust] alice: hello, bob"]);
    assert_eq!(sim.take(a), Vec::<String>::new());
    assert_eq!(sim.take(c), Vec::<String>::new());
    assert_eq!(sim.take(d), Vec::<String>::new());
    // Trailing whitespace is dropped, leading kept; tabs are allowed.
    sim.send(a, "  indented\tand tabbed   ");
    assert_eq!(sim.take(b), ["[rust] alice:   indented\tand tabbed"]);
}

#[test]
fn a_broadcast_is_rendered_once_and_shared() {
    let (mut sim, [a, b, c, _]) = four();
    sim.send(c, "/join rust");
    sim.clear();
    sim.take_transcript();
    sim.send(a, "one buffer");
    let sends = sim.take_transcript();
    assert_eq!(sends.len(), 2);
    let ptrs: Vec<_> = sends
        .iter()
        .map(|o| match o {
            Output::Send { data, .. } => data.as_ptr(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ptrs[0], ptrs[1]);
    assert_eq!(sim.take(b), ["[rust] alice: one buffer"]);
    assert_eq!(sim.take(c), ["[rust] alice: one buffer"]);
}

#[test]
fn double_slash_says_a_line_that_starts_with_a_slash() {
    let (mut sim, [a, b, ..]) = four();
    sim.send(a, "//shrug");
    assert_eq!(sim.take(b), ["[rust] alice: /shrug"]);
    sim.send(a, "//");
    assert_eq!(sim.take(b), ["[rust] alice: /"]);
}

#[test]
fn saying_in_the_lobby_is_refused() {
    let (mut sim, [_, _, _, d]) = four();
    assert_eq!(rejected(&mut sim, d, "anyone here?"), [LOBBY]);
    assert_eq!(rejected(&mut sim, d, "//x"), [LOBBY]);
}

#[test]
fn whisper_reaches_one_user_anywhere_and_echoes_to_the_sender() {
    let (mut sim, [a, b, c, d]) = four();
    sim.send(d, "/msg alice psst");
    assert_eq!(sim.take(a), ["[whisper from dave 22:13:20] psst"]);
    assert_eq!(sim.take(d), ["[whisper to alice 22:13:20] psst"]);
    assert_eq!(sim.take(b), Vec::<String>::new());
    sim.advance(Duration::from_secs(61));
    // Aliases, and the recipient's own spelling in the echo.
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
    // To oneself: both lines arrive.
    sim.send(a, "@alice note");
    assert_eq!(sim.take(a), ["[whisper from alice 22:14:21] note", "[whisper to alice 22:14:21] note"]);
}

#[test]
fn whisper_refusals() {
    let (mut sim, [a, ..]) = four();
    let cases = [
        ("/msg zed hi", "! nobody named zed is online"),
        ("@zed hi", "! nobody named zed is online"),
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
}

#[test]
fn joiner_gets_history_first_then_live_messages() {
    let mut sim = Sim::new(super::relaxed().with_history_len(2));
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    sim.send(a, "/create rust");
    for (n, text) in ["one", "two", "three"].iter().enumerate() {
        sim.advance(Duration::from_secs(n as u64 * 3600));
        sim.send(a, text);
    }
    assert_eq!(sim.engine().history_len("rust"), Some(2));
    sim.clear();
    sim.take_transcript();
    sim.send(b, "/join rust");
    // The confirmation and the replay travel as one send.
    let to_b = sim.take_transcript().into_iter().filter(|o| matches!(o, Output::Send { to, .. } if *to == b)).count();
    assert_eq!(to_b, 1);
    assert_eq!(
        sim.take(b),
        ["* you are now in rust (2 here)", "~ [rust 23:13:20] alice: two", "~ [rust 01:13:20] alice: three"]
    );
    assert_eq!(sim.take(a), ["* bob joined rust"]);
    sim.send(a, "four");
    assert_eq!(sim.take(b), ["[rust] alice: four"]);
    // History keeps the sender's name as it was.
    sim.send(a, "/nick alicia");
    sim.send(b, "/leave");
    sim.clear();
    sim.send(b, "/join rust");
    assert_eq!(
        sim.take(b),
        ["* you are now in rust (2 here)", "~ [rust 01:13:20] alice: three", "~ [rust 01:13:20] alice: four"]
    );
}

#[test]
fn history_can_be_turned_off() {
    let mut sim = Sim::new(super::relaxed().with_history_len(0));
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    sim.send(a, "/create rust");
    sim.send(a, "unheard");
    sim.clear();
    sim.send(b, "/join rust");
    assert_eq!(sim.take(b), ["* you are now in rust (2 here)"]);
    assert_eq!(sim.engine().history_len("rust"), Some(0));
}

#[test]
fn a_message_said_alone_is_kept_for_later() {
    // In an account's room: a guest's room forgets everything once it empties.
    let mut sim = sim();
    sim.set_auto_auth(true);
    let a = sim.connect_as("alice");
    sim.send(a, "/register alice Pw-alice-1 Pw-alice-1");
    sim.send(a, "/create rust");
    sim.send(a, "anyone?");
    sim.send(a, "/leave");
    sim.clear();
    sim.send(a, "/join rust");
    assert_eq!(sim.take(a), ["* you are now in rust (1 here)", "~ [rust 22:13:20] alice: anyone?"]);
}

#[test]
fn a_room_style_name_never_reaches_a_user() {
    let mut sim = super::sim();
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    sim.clear();
    assert_eq!(super::rejected(&mut sim, a, "/msg #bob hi"), ["! nobody named #bob is online"]);
    assert_eq!(sim.take(b), Vec::<String>::new());
    assert_eq!(
        super::rejected(&mut sim, a, "/seen #bob"),
        ["! #bob has not been seen (only registered users are remembered)"]
    );
}
