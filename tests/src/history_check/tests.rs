//! The checker against hand-made histories: one that holds, and for each
//! check one that breaks it and only it (or, for a reorder, it and the
//! gap that a reorder also opens), so that no check passes by accident.

use super::{ClientLog, Message, Observations, Violation};

/// History of room `r`: `one` to `five`, numbered 1 to 5.
fn five() -> Observations {
    let mut observations = Observations::new();
    for (seq, text) in (1..).zip(["one", "two", "three", "four", "five"]) {
        observations.stored(Message::new("r", seq, text));
    }
    observations
}

/// A client that got `seqs` of room `r`, with history's texts.
fn got(name: &str, seqs: &[u64]) -> ClientLog {
    let mut log = ClientLog::new(name);
    for &seq in seqs {
        log.got(Message::new("r", seq, text_of(seq)));
    }
    log
}

fn text_of(seq: u64) -> &'static str {
    ["?", "one", "two", "three", "four", "five"][usize::try_from(seq).unwrap_or(0).min(5)]
}

#[test]
fn agreeing_observations_pass() {
    let mut observations = five();
    // Joined late, saw the rest; another saw all, and its message 2 was acknowledged.
    observations.client(got("late", &[3, 4, 5]));
    let mut all = got("all", &[1, 2, 3, 4, 5]);
    all.connected_at_end();
    observations.client(all);
    observations.acknowledged(Message::new("r", 2, "two"));
    // Resumed after 2: got 3 to 5 in its second session.
    let mut resumed = got("resumed", &[1, 2]);
    resumed.reconnected(true);
    for seq in 3..=5 {
        resumed.got(Message::new("r", seq, text_of(seq)));
    }
    resumed.connected_at_end();
    observations.client(resumed);
    // Reconnected without resuming: starts afresh, from 4.
    let mut fresh = got("fresh", &[1]);
    fresh.reconnected(false);
    fresh.got(Message::new("r", 4, "four"));
    fresh.got(Message::new("r", 5, "five"));
    observations.client(fresh);
    assert_eq!(observations.check(), []);
}

#[test]
fn a_gap_is_found() {
    let mut observations = five();
    observations.client(got("c", &[1, 2, 4, 5]));
    assert_eq!(observations.check(), [Violation::Gap { client: "c".into(), room: "r".into(), seq: 4, after: 2 }]);
}

#[test]
fn a_gap_across_a_resumed_session_is_found() {
    let mut observations = five();
    let mut log = got("c", &[1, 2]);
    log.reconnected(true);
    log.got(Message::new("r", 4, "four"));
    observations.client(log);
    assert_eq!(observations.check(), [Violation::Gap { client: "c".into(), room: "r".into(), seq: 4, after: 2 }]);
}

#[test]
fn a_duplicate_is_found_even_across_a_resumed_session() {
    let mut observations = five();
    observations.client(got("twice", &[1, 2, 2, 3]));
    let mut log = got("resumed", &[1, 2, 3]);
    log.reconnected(true);
    log.got(Message::new("r", 3, "three"));
    log.got(Message::new("r", 4, "four"));
    observations.client(log);
    assert_eq!(
        observations.check(),
        [
            Violation::Duplicate { client: "twice".into(), room: "r".into(), seq: 2 },
            Violation::Duplicate { client: "resumed".into(), room: "r".into(), seq: 3 },
        ]
    );
}

#[test]
fn a_reorder_is_found() {
    let mut observations = five();
    observations.client(got("c", &[1, 2, 4, 3, 5]));
    let violations = observations.check();
    assert!(
        violations.contains(&Violation::Reordered { client: "c".into(), room: "r".into(), seq: 3, after: 4 }),
        "{violations:?}"
    );
}

#[test]
fn a_lost_acknowledged_message_is_found() {
    let mut observations = five();
    // Acknowledged as 6, never stored; acknowledged as 2 with another text.
    observations.acknowledged(Message::new("r", 6, "six"));
    observations.acknowledged(Message::new("r", 2, "deux"));
    assert_eq!(
        observations.check(),
        [
            Violation::LostAck { room: "r".into(), seq: 6, text: "six".into(), stored: None },
            Violation::LostAck { room: "r".into(), seq: 2, text: "deux".into(), stored: Some("two".into()) },
        ]
    );
}

#[test]
fn two_messages_under_one_seq_in_history_are_found() {
    let mut observations = five();
    observations.stored(Message::new("r", 3, "trois"));
    assert_eq!(
        observations.check(),
        [Violation::HistoryDuplicateSeq { room: "r".into(), seq: 3, first: "three".into(), second: "trois".into() }]
    );
}

#[test]
fn a_message_stored_twice_is_found() {
    let mut observations = five();
    observations.stored(Message::new("r", 6, "two"));
    assert_eq!(
        observations.check(),
        [Violation::HistoryDuplicateText { room: "r".into(), text: "two".into(), first: 2, second: 6 }]
    );
}

#[test]
fn a_client_that_got_another_text_than_history_holds_is_found() {
    let mut observations = five();
    let mut log = got("c", &[1]);
    log.got(Message::new("r", 2, "zwei"));
    // A room history has nothing of.
    log.got(Message::new("q", 1, "one"));
    observations.client(log);
    assert_eq!(
        observations.check(),
        [
            Violation::Mismatch {
                client: "c".into(),
                room: "r".into(),
                seq: 2,
                got: "zwei".into(),
                stored: Some("two".into())
            },
            Violation::Mismatch { client: "c".into(), room: "q".into(), seq: 1, got: "one".into(), stored: None },
        ]
    );
}

#[test]
fn a_client_left_behind_at_the_end_is_found() {
    let mut observations = five();
    let mut log = got("c", &[1, 2, 3]);
    log.connected_at_end();
    observations.client(log);
    // Gone before the end: not expected to have caught up.
    observations.client(got("gone", &[1, 2]));
    assert_eq!(observations.check(), [Violation::Behind { client: "c".into(), room: "r".into(), seq: 3, last: 5 }]);
}

#[test]
fn rooms_are_checked_apart() {
    let mut observations = five();
    observations.stored(Message::new("s", 1, "one"));
    observations.stored(Message::new("s", 2, "two"));
    let mut log = ClientLog::new("c");
    // Interleaved rooms, each in order: no gap, no reorder.
    for (room, seq) in [("r", 1), ("s", 1), ("r", 2), ("s", 2), ("r", 3)] {
        log.got(Message::new(room, seq, text_of(seq)));
    }
    assert_eq!(log.last_seq("s"), Some(2));
    observations.client(log);
    assert_eq!(observations.check(), []);
}
