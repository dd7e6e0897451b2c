//! `/history`: pages of older messages, served from memory when no store
//! is configured.

use std::time::Duration;

use super::rejected;
use crate::record::StoredMessage;
use crate::sim::Sim;
use crate::{HistoryRange, HistoryTarget, Output};

/// alice said one..five in `rust`, her account's room, a minute apart;
/// the room keeps three. (A guest's room would start afresh each time it
/// emptied.)
fn five_said(page: usize) -> (Sim, crate::ClientId) {
    let config = super::relaxed().with_history_len(3).with_history_page_len(page);
    let mut sim = Sim::new(config);
    sim.set_auto_auth(true);
    let a = sim.connect_as("alice");
    sim.send(a, "/register alice Pw-alice-1 Pw-alice-1");
    sim.send(a, "/create rust");
    for word in ["one", "two", "three", "four", "five"] {
        sim.advance(Duration::from_secs(60));
        sim.send(a, word);
    }
    sim.clear();
    (sim, a)
}

#[test]
fn text_history_continues_from_the_oldest_shown() {
    let (mut sim, a) = five_said(2);
    sim.send(a, "/leave");
    sim.send(a, "/join rust");
    assert_eq!(
        sim.take(a)[1..],
        [
            "* you are now in rust (1 here)",
            "~ [rust 22:16:20] alice: three",
            "~ [rust 22:17:20] alice: four",
            "~ [rust 22:18:20] alice: five",
        ]
    );
    // Everything older than what the join showed has fallen out of memory.
    sim.send(a, "/history");
    assert_eq!(sim.take(a), ["* no earlier messages in rust"]);
    assert_eq!(rejected(&mut sim, a, "/history a b"), ["! usage: /history [ROOM|@NICK]"]);
    assert_eq!(rejected(&mut sim, a, "/history go"), ["! no room named go; /list shows the rooms, /create makes one"]);
    sim.send(a, "/leave");
    sim.clear();
    let lobby = "! you are in the Lobby, where nobody hears you; /list the rooms, then /join or /create one";
    assert_eq!(rejected(&mut sim, a, "/history"), [lobby]);
}

#[test]
fn text_history_pages_back_through_the_store() {
    let config = super::relaxed().with_history_len(3).with_history_page_len(2).with_emit_records(true);
    let mut sim = Sim::new(config);
    let a = sim.connect_as("alice");
    sim.send(a, "/create rust");
    for word in ["one", "two", "three", "four", "five"] {
        sim.send(a, word);
    }
    let b = sim.connect_as("bob");
    sim.send(b, "/join rust");
    sim.clear();
    sim.take_transcript();
    sim.send(b, "/history");
    let fetch = Output::FetchHistory {
        client: b,
        target: HistoryTarget::Room("rust".into()),
        range: HistoryRange::Before(3),
        limit: 2,
    };
    assert_eq!(sim.take_transcript(), [fetch]);
    let stored = |seq: u64, text: &str| StoredMessage {
        seq,
        from: "alice".into(),
        text: text.into(),
        unix_ms: 0,
        kind: crate::MessageKind::Said,
    };
    sim.engine_mut()
        .handle_history_page(b, &HistoryTarget::Room("rust".into()), vec![stored(2, "two"), stored(1, "one")], 0)
        .unwrap();
    sim.drain();
    assert_eq!(
        sim.take(b),
        [
            "* 2 earlier messages of rust:",
            "~ [rust 00:00:00] alice: one",
            "~ [rust 00:00:00] alice: two",
            "* that is the beginning of rust"
        ]
    );
    sim.send(b, "/history");
    assert_eq!(sim.take(b), ["* no earlier messages in rust"]);
}

#[test]
fn rows_the_store_could_not_read_are_shown_as_a_gap() {
    let mut sim = Sim::new(super::relaxed().with_history_len(2).with_history_page_len(2).with_emit_records(true));
    let a = sim.connect_as("alice");
    sim.send(a, "/create rust");
    for word in ["one", "two", "three", "four", "five"] {
        sim.send(a, word);
    }
    sim.send(a, "/history");
    sim.clear();
    let stored = |seq: u64, text: &str| StoredMessage {
        seq,
        from: "alice".into(),
        text: text.into(),
        unix_ms: 0,
        kind: crate::MessageKind::Said,
    };
    // Row 2 is damaged: the store returns row 1 and says one could not be read.
    sim.engine_mut().handle_history_page(a, &HistoryTarget::Room("rust".into()), vec![stored(1, "one")], 1).unwrap();
    sim.drain();
    assert_eq!(
        sim.take(a),
        [
            "* 1 earlier message of rust:",
            "* 1 message here could not be read from storage",
            "~ [rust 00:00:00] alice: one",
            "* that is the beginning of rust"
        ]
    );
}

#[cfg(feature = "json")]
mod json {
    use serde_json::json;

    use super::five_said;
    use crate::record::StoredMessage;
    use crate::sim::Sim;
    use crate::tests::support::refused;
    use crate::{HistoryTarget, Output};

    const TS: u64 = Sim::BASE_UNIX_MS;

    fn message(seq: u64, text: &str) -> serde_json::Value {
        json!({"seq": seq, "from": "alice", "text": text, "ts": TS + 60_000 * seq})
    }

    #[test]
    fn json_history_without_before_starts_from_the_newest() {
        let (mut sim, _) = five_said(2);
        let c = sim.connect();
        sim.send_json(c, &json!({"type":"join","room":"rust"}));
        sim.take(c);
        sim.send_json(c, &json!({"type":"history"}));
        assert_eq!(
            sim.take_json(c),
            [
                json!({"type":"history","room":"rust","messages":[message(4, "four"), message(5, "five")],"more":true,"oldest":4})
            ]
        );
    }

    #[test]
    fn json_history_says_more_only_when_more_can_be_had() {
        let (mut sim, _) = five_said(2);
        let c = sim.connect();
        sim.send_json(c, &json!({"type":"join","room":"rust"}));
        sim.take(c);
        sim.send_json(c, &json!({"type":"history","room":"rust","before":5}));
        // Message 2 is gone from memory and there is no store: nothing more.
        assert_eq!(
            sim.take_json(c),
            [
                json!({"type":"history","room":"rust","messages":[message(3, "three"), message(4, "four")],"more":false,"oldest":3})
            ]
        );
        sim.send_json(c, &json!({"type":"history","room":"rust","before":3}));
        assert_eq!(
            sim.take_json(c),
            [json!({"type":"history","room":"rust","messages":[],"more":false,"oldest":null})]
        );
    }

    #[test]
    fn json_history_pages_back_through_the_store_and_counts_unreadable_rows() {
        let config = super::super::relaxed().with_history_len(3).with_history_page_len(2).with_emit_records(true);
        let mut sim = Sim::new(config);
        let a = sim.connect_json_as("alice");
        sim.send_json(a, &json!({"type": "create", "room": "rust"}));
        for word in ["one", "two", "three", "four", "five"] {
            sim.send_json(a, &json!({"type": "say", "room": "rust", "text": word}));
        }
        let b = sim.connect_json_as("bob");
        sim.send_json(b, &json!({"type": "join", "room": "rust"}));
        sim.clear();
        sim.take_transcript();
        sim.send_json(b, &json!({"type": "history", "room": "rust", "before": 3}));
        let room = HistoryTarget::Room("rust".into());
        let fetch =
            Output::FetchHistory { client: b, target: room.clone(), range: crate::HistoryRange::Before(3), limit: 2 };
        assert_eq!(sim.take_transcript(), [fetch]);
        let stored = |seq: u64, text: &str| StoredMessage {
            seq,
            from: "alice".into(),
            text: text.into(),
            unix_ms: 0,
            kind: crate::MessageKind::Said,
        };
        // Row 2 is damaged: the store returns row 1 and says one could not be read.
        sim.engine_mut().handle_history_page(b, &room, vec![stored(1, "one")], 1).unwrap();
        sim.drain();
        assert_eq!(
            sim.take_json(b),
            [
                json!({"type": "history", "room": "rust", "messages": [{"seq": 1, "from": "alice", "text": "one", "ts": 0}],
                "more": false, "oldest": 1, "unreadable": 1})
            ]
        );
        assert_eq!(refused(&mut sim, b, &json!({"type": "history", "room": "go"})), "no_such_room");
        sim.send_json(b, &json!({"type": "leave", "room": "rust"}));
        sim.take(b);
        assert_eq!(refused(&mut sim, b, &json!({"type": "history"})), "in_lobby");
    }
}
