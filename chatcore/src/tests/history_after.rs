//! Paging forward: `history` with `after` (JSON) and `CHATHISTORY AFTER`
//! (IRC) give the oldest messages numbered above a number, so that a client
//! that reconnects (to this server or, in a cluster, another node) resumes
//! from the last message it saw and gets each later one once, in order.
//! Served from the room's memory when it holds every message after the
//! number, else read from the store.

use std::time::Duration;

use super::irc::registered;
use super::paging::{Fetch, Store, room};
use crate::sim::Sim;
use crate::{ClientId, Config, HistoryRange};

/// Keeps three messages in memory, pages of two, with a store.
fn config() -> Config {
    super::relaxed().with_history_len(3).with_history_page_len(2).with_emit_records(true)
}

/// alice said m1..m`n` in `rust`, a minute apart; every message is in
/// `store`.
fn said(config: Config, n: u64) -> (Sim, Store, ClientId) {
    let mut sim = Sim::new(config);
    let mut store = Store::default();
    let a = sim.connect_as("alice");
    sim.send(a, "/create rust");
    for k in 1..=n {
        sim.advance(Duration::from_secs(60));
        sim.send(a, &format!("m{k}"));
    }
    assert!(store.pump(&mut sim).is_empty());
    sim.clear();
    (sim, store, a)
}

#[test]
fn irc_chathistory_after_a_msgid_or_a_time_is_a_batch_of_the_later_messages() {
    let (mut sim, _, _) = said(super::relaxed(), 5);
    let a = registered(&mut sim, "bob", "batch message-tags");
    sim.send(a, "JOIN #rust");
    sim.take(a);
    let batch = |seqs: &[u64]| {
        let mut lines = vec![":chatd BATCH +history chathistory #rust\r".to_owned()];
        lines.extend(
            seqs.iter().map(|n| format!("@batch=history;msgid={n}-rust :alice!alice@chatd PRIVMSG #rust m{n}\r")),
        );
        lines.push(":chatd BATCH -history\r".to_owned());
        lines
    };
    sim.send(a, "CHATHISTORY AFTER #rust msgid=2-rust 10");
    assert_eq!(sim.take(a), batch(&[3, 4, 5]));
    // A time is exclusive: message 2 was said at exactly this moment.
    sim.send(a, "CHATHISTORY AFTER #rust timestamp=2023-11-14T22:15:20.000Z 10");
    assert_eq!(sim.take(a), batch(&[3, 4, 5]));
    sim.send(a, "CHATHISTORY AFTER #rust msgid=5 10");
    assert_eq!(sim.take(a), batch(&[]));
    sim.send(a, "CHATHISTORY AFTER #rust * 10");
    assert!(sim.take(a)[0].starts_with(":chatd FAIL CHATHISTORY INVALID_PARAMS "));
    sim.send(a, "CHATHISTORY AFTER #nowhere msgid=3 10");
    assert!(sim.take(a)[0].starts_with(":chatd FAIL CHATHISTORY INVALID_TARGET "));
}

#[test]
fn irc_chathistory_after_reads_the_store_beyond_memory() {
    let (mut sim, mut store, _) = said(config(), 9);
    let a = registered(&mut sim, "bob", "batch message-tags");
    sim.send(a, "JOIN #rust");
    sim.take(a);
    sim.send(a, "CHATHISTORY AFTER #rust msgid=1 10");
    let fetch = store.serve_one(&mut sim);
    assert_eq!(fetch, Fetch { client: a, target: room("rust"), range: HistoryRange::After(1), limit: 2 });
    let lines = sim.take(a);
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[1].contains("msgid=2-rust ") && lines[1].ends_with(" m2\r"), "{lines:?}");
    assert!(lines[2].contains("msgid=3-rust ") && lines[2].ends_with(" m3\r"), "{lines:?}");
}

#[test]
fn text_history_after_pages_forward_and_leaves_the_cursor_walking_back() {
    let (mut sim, mut store, _) = said(config(), 9);
    let c = sim.connect_as("carol");
    sim.send(c, "/join rust");
    sim.take(c);
    let line = |k: u64| format!("~ [rust 22:{}:20] alice: m{k}", 13 + k);
    sim.send(c, "/history after 2");
    assert_eq!(store.serve_one(&mut sim).range, HistoryRange::After(2));
    let page =
        ["* 2 later messages of rust:".to_owned(), line(3), line(4), "* /history rust after 4 shows later ones".into()];
    assert_eq!(sim.take(c), page);
    sim.send(c, "/history rust after 8");
    assert_eq!(sim.take(c), ["* 1 later message of rust:".to_owned(), line(9), "* that is the newest of rust".into()]);
    sim.send(c, "/history  after  9 ");
    assert_eq!(sim.take(c), ["* no later messages in rust"]);
    // The walk back goes on from the oldest message the join showed.
    sim.send(c, "/history");
    assert_eq!(store.serve_one(&mut sim).range, HistoryRange::Before(7));
    assert_eq!(sim.take(c)[1..3], [line(5), line(6)]);
    assert!(store.pump(&mut sim).is_empty());
    assert_eq!(
        super::rejected(&mut sim, c, "/history after"),
        ["! no room named after; /list shows the rooms, /create makes one"]
    );
}

#[cfg(feature = "json")]
mod json {
    use serde_json::{Value, json};

    use super::{config, said};
    use crate::sim::Sim;
    use crate::tests::paging::{Fetch, room};
    use crate::tests::support::refused;
    use crate::{ClientId, HistoryRange, Output, StoredMessage};

    fn message(seq: u64) -> Value {
        json!({"seq": seq, "from": "alice", "text": format!("m{seq}"), "ts": Sim::BASE_UNIX_MS + 60_000 * seq})
    }

    fn page(seqs: &[u64], more: bool, newest: u64) -> Value {
        let oldest = seqs.first();
        let messages: Vec<Value> = seqs.iter().copied().map(message).collect();
        json!({"type": "history", "room": "rust", "messages": messages, "more": more, "oldest": oldest, "newest": newest})
    }

    /// A JSON client in `rust`, its replay taken.
    fn reader(sim: &mut Sim) -> ClientId {
        let b = sim.connect_json_as("bob");
        sim.send_json(b, &json!({"type": "join", "room": "rust"}));
        sim.take(b);
        b
    }

    fn after(sim: &mut Sim, client: ClientId, after: u64) {
        sim.send_json(client, &json!({"type": "history", "room": "rust", "after": after}));
    }

    #[test]
    fn a_page_forward_within_memory_is_served_from_it() {
        let (mut sim, mut store, _) = said(config(), 9);
        let b = reader(&mut sim);
        // Memory keeps 7..9: everything after 6 is there.
        after(&mut sim, b, 6);
        assert!(store.pump(&mut sim).is_empty(), "no fetch");
        assert_eq!(sim.take_json(b), [page(&[7, 8], true, 8)]);
        after(&mut sim, b, 8);
        assert_eq!(sim.take_json(b), [page(&[9], false, 9)]);
        // Caught up, or ahead of the room: nothing, and nothing more.
        after(&mut sim, b, 9);
        assert_eq!(sim.take_json(b), [page(&[], false, 9)]);
        after(&mut sim, b, 50);
        assert_eq!(sim.take_json(b), [page(&[], false, 50)]);
        assert!(store.pump(&mut sim).is_empty(), "no fetch");
    }

    #[test]
    fn a_page_forward_beyond_memory_is_read_from_the_store_and_says_more() {
        let (mut sim, mut store, _) = said(config(), 9);
        let b = reader(&mut sim);
        sim.send_json(b, &json!({"type": "history", "room": "rust", "after": 2, "id": "resume"}));
        let fetch = store.serve_one(&mut sim);
        assert_eq!(fetch, Fetch { client: b, target: room("rust"), range: HistoryRange::After(2), limit: 2 });
        // The page read from the store still names its request.
        let mut first = page(&[3, 4], true, 4);
        first["id"] = json!("resume");
        assert_eq!(sim.take_json(b), [first]);
        // Answered in any order, and with a row from outside the page, the
        // page is the oldest above the number, oldest first.
        after(&mut sim, b, 4);
        assert_eq!(store.pump(&mut sim).len(), 1);
        let stored = |seq: u64| StoredMessage {
            seq,
            from: "alice".into(),
            text: format!("m{seq}").into(),
            unix_ms: Sim::BASE_UNIX_MS + 60_000 * seq,
            kind: crate::MessageKind::Said,
        };
        let messages = vec![stored(7), stored(6), stored(4), stored(5)];
        sim.engine_mut().handle_history_page(b, &room("rust"), messages, 0).unwrap();
        sim.drain();
        assert_eq!(sim.take_json(b), [page(&[5, 6], true, 6)]);
        // The store's last page says more when the room has said more since.
        after(&mut sim, b, 6);
        assert!(store.pump(&mut sim).is_empty(), "7.. is in memory");
        assert_eq!(sim.take_json(b), [page(&[7, 8], true, 8)]);
    }

    #[test]
    fn pages_asked_both_ways_at_once_are_each_placed_as_asked() {
        let (mut sim, mut store, _) = said(config(), 9);
        let b = reader(&mut sim);
        after(&mut sim, b, 1);
        sim.send_json(b, &json!({"type": "history", "room": "rust", "before": 5}));
        let fetches = store.pump(&mut sim);
        let ranges: Vec<HistoryRange> = fetches.iter().map(|f| f.range).collect();
        assert_eq!(ranges, [HistoryRange::After(1), HistoryRange::Before(5)]);
        for fetch in &fetches {
            store.answer(&mut sim, fetch);
        }
        let back =
            json!({"type": "history", "room": "rust", "messages": [message(3), message(4)], "more": true, "oldest": 3});
        assert_eq!(sim.take_json(b), [page(&[2, 3], true, 3), back]);
    }

    #[test]
    fn a_client_resuming_after_any_number_gets_every_later_message_once_in_order() {
        for last_seen in 0..=11 {
            let (mut sim, mut store, a) = said(config(), 9);
            let b = reader(&mut sim);
            // The room goes on after the reader is back, before it catches up.
            sim.send(a, "m10");
            sim.send(a, "m11");
            sim.take(b);
            let mut seen = Vec::new();
            let mut cursor = last_seen;
            loop {
                after(&mut sim, b, cursor);
                for fetch in store.pump(&mut sim) {
                    store.answer(&mut sim, &fetch);
                }
                let [reply] = &sim.take_json(b)[..] else { panic!("one page") };
                for m in reply["messages"].as_array().unwrap() {
                    seen.push(m["seq"].as_u64().unwrap());
                }
                cursor = reply["newest"].as_u64().unwrap();
                if reply["more"] == json!(false) {
                    break;
                }
            }
            let expected: Vec<u64> = (last_seen + 1..=11).collect();
            assert_eq!(seen, expected, "after {last_seen}");
        }
    }

    #[test]
    fn before_and_after_together_are_a_usage_error_and_refusals_are_as_for_before() {
        let (mut sim, mut store, _) = said(config(), 3);
        let b = reader(&mut sim);
        for both in [
            json!({"type": "history", "room": "rust", "before": 3, "after": 1}),
            json!({"type": "history", "before": 3, "after": 1}),
            json!({"type": "history", "with": "alice", "before": 3, "after": 1}),
        ] {
            assert_eq!(refused(&mut sim, b, &both), "usage");
        }
        assert_eq!(refused(&mut sim, b, &json!({"type": "history", "room": "go", "after": 1})), "no_such_room");
        let c = sim.connect_json_as("carol");
        sim.send_json(c, &json!({"type": "create", "room": "den"}));
        sim.take(c);
        let outsider = refused(&mut sim, b, &json!({"type": "history", "room": "den", "after": 0}));
        assert_eq!(outsider, "not_in_room");
        assert!(store.pump(&mut sim).is_empty());
        let fetches = sim.take_transcript().into_iter().filter(|o| matches!(o, Output::FetchHistory { .. }));
        assert_eq!(fetches.count(), 0);
    }

    #[test]
    fn without_a_store_a_page_forward_shows_what_memory_keeps() {
        let (mut sim, _, _) = said(config().with_emit_records(false), 9);
        let b = reader(&mut sim);
        // 1..6 are gone; the page starts at the oldest kept.
        after(&mut sim, b, 2);
        assert_eq!(sim.take_json(b), [page(&[7, 8], true, 8)]);
        assert!(!sim.take_transcript().iter().any(|o| matches!(o, Output::FetchHistory { .. })));
    }
}
