//! `/history` beyond memory: with a store (`emit_records`), older pages are
//! asked of the embedder with `Output::FetchHistory` and rendered from its
//! answer, `Engine::handle_history_page`. A model store here keeps every
//! `Persist` message and whisper record and answers as a real one would.

use std::time::Duration;

use super::restore::{records, trimmed};
use crate::names::NameKey;
use crate::record::StoredMessage;
use crate::sim::Sim;
use crate::{ClientId, Config, HistoryRange, HistoryTarget, Output, Record};

/// Every message and whisper record seen so far, as a store keeps them.
#[derive(Default)]
pub(super) struct Store {
    pub(super) messages: Vec<Record>,
}

/// A fetch the engine asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Fetch {
    pub(super) client: ClientId,
    pub(super) target: HistoryTarget,
    pub(super) range: HistoryRange,
    pub(super) limit: usize,
}

/// A room as a fetch names it.
pub(super) fn room(name: &str) -> HistoryTarget {
    HistoryTarget::Room(name.into())
}

impl Store {
    /// Stores the records among the sim's new outputs and returns the fetches asked for.
    pub(super) fn pump(&mut self, sim: &mut Sim) -> Vec<Fetch> {
        let outputs = sim.take_transcript();
        let history =
            |r: &Record| matches!(r, Record::Message { .. } | Record::MessageDeleted { .. } | Record::Whisper { .. });
        self.messages.extend(records(&outputs).into_iter().filter(history));
        outputs
            .into_iter()
            .filter_map(|o| match o {
                Output::FetchHistory { client, target, range, limit } => Some(Fetch { client, target, range, limit }),
                _ => None,
            })
            .collect()
    }

    /// The page of `target` that `range` names, up to `limit` messages.
    pub(super) fn read(&self, target: &HistoryTarget, range: HistoryRange, limit: usize) -> Vec<StoredMessage> {
        read(&self.messages, target, range, limit)
    }

    /// Answers `fetch` as a store would.
    pub(super) fn answer(&self, sim: &mut Sim, fetch: &Fetch) {
        let page = self.read(&fetch.target, fetch.range, fetch.limit);
        sim.engine_mut().handle_history_page(fetch.client, &fetch.target, page, 0).expect("never an error");
        sim.drain();
    }

    /// Expects exactly one fetch among the sim's new outputs and answers it.
    pub(super) fn serve_one(&mut self, sim: &mut Sim) -> Fetch {
        let fetches = self.pump(sim);
        let [fetch] = &fetches[..] else { panic!("expected one fetch, got {fetches:?}") };
        self.answer(sim, fetch);
        fetch.clone()
    }
}

/// The page of `target` that `range` names among `records`, up to `limit`
/// messages (the newest below a number, or the oldest above it), as a
/// store answers a fetch.
pub(super) fn read(
    records: &[Record],
    target: &HistoryTarget,
    range: HistoryRange,
    limit: usize,
) -> Vec<StoredMessage> {
    let pair = |a: &str, b: &str| {
        let (a, b) = (NameKey::of(a), NameKey::of(b));
        if a <= b { (a, b) } else { (b, a) }
    };
    // A deletion erases its message's text and is an entry of its own, as
    // a store keeps it.
    let mut rows: Vec<Record> = Vec::new();
    for record in records {
        let Record::MessageDeleted { room, seq, from, by, unix_ms, event } = record else {
            rows.push(record.clone());
            continue;
        };
        for row in &mut rows {
            if let Record::Message { room: r, message } = row
                && NameKey::of(r) == NameKey::of(room)
                && message.seq == *seq
            {
                message.text = "".into();
                message.kind = crate::MessageKind::Deleted { by: by.clone(), unix_ms: *unix_ms };
            }
        }
        let kind = crate::MessageKind::Deletion { of: *seq, by: by.clone() };
        let message = StoredMessage { seq: *event, from: from.clone(), text: "".into(), unix_ms: *unix_ms, kind };
        rows.push(Record::Message { room: room.clone(), message });
    }
    let mut found: Vec<StoredMessage> = rows
        .iter()
        .filter_map(|r| match (r, target) {
            (Record::Message { room: r, message }, HistoryTarget::Room(room))
                if NameKey::of(r) == NameKey::of(room) =>
            {
                Some(message.clone())
            }
            (Record::Whisper { to, message }, HistoryTarget::Conversation { account, with })
                if pair(to, &message.from) == pair(account, with) =>
            {
                Some(message.clone())
            }
            _ => None,
        })
        .filter(|m| match range {
            HistoryRange::Before(before) => m.seq < before,
            HistoryRange::After(after) => m.seq > after,
        })
        .collect();
    match range {
        HistoryRange::Before(_) => drop(found.drain(..found.len().saturating_sub(limit))),
        HistoryRange::After(_) => found.truncate(limit),
    }
    found
}

fn config() -> Config {
    super::relaxed().with_history_len(3).with_history_page_len(2).with_emit_records(true)
}

/// alice said m1..m9 in `rust`, a minute apart; the room keeps m7..m9.
fn nine_said() -> (Sim, Store, ClientId) {
    let mut sim = Sim::new(config());
    let mut store = Store::default();
    let a = sim.connect_as("alice");
    sim.send(a, "/create rust");
    for n in 1..=9 {
        sim.advance(Duration::from_secs(60));
        sim.send(a, &format!("m{n}"));
    }
    assert!(store.pump(&mut sim).is_empty());
    assert_eq!(store.messages.len(), 9);
    sim.clear();
    (sim, store, a)
}

/// The text line of message `n` from [`nine_said`].
fn line(n: u64) -> String {
    format!("~ [rust 22:{}:20] alice: m{n}", 13 + n)
}

#[test]
fn text_history_pages_back_through_the_store_to_the_first_message() {
    let (mut sim, mut store, _) = nine_said();
    let b = sim.connect_as("bob");
    sim.send(b, "/join rust");
    assert_eq!(sim.take(b), ["* you are now in rust (2 here)", &line(7), &line(8), &line(9)]);
    store.pump(&mut sim);
    sim.send(b, "/history");
    // Nothing is sent until the store answers.
    assert_eq!(sim.take(b), Vec::<String>::new());
    let fetch = store.serve_one(&mut sim);
    assert_eq!(fetch, Fetch { client: b, target: room("rust"), range: HistoryRange::Before(7), limit: 2 });
    assert_eq!(sim.take(b), ["* 2 earlier messages of rust:", &line(5), &line(6), "* /history shows earlier ones"]);
    sim.send(b, "/history rust");
    assert_eq!(store.serve_one(&mut sim).range, HistoryRange::Before(5));
    assert_eq!(sim.take(b), ["* 2 earlier messages of rust:", &line(3), &line(4), "* /history shows earlier ones"]);
    sim.send(b, "/history");
    assert_eq!(store.serve_one(&mut sim).range, HistoryRange::Before(3));
    assert_eq!(sim.take(b), ["* 2 earlier messages of rust:", &line(1), &line(2), "* that is the beginning of rust"]);
    // At the beginning, memory knows there is nothing more: no fetch.
    sim.send(b, "/history");
    assert!(store.pump(&mut sim).is_empty());
    assert_eq!(sim.take(b), ["* no earlier messages in rust"]);
    // Joining again starts over from the newest.
    sim.send(b, "/leave");
    sim.send(b, "/join rust");
    sim.clear();
    sim.send(b, "/history");
    assert_eq!(store.serve_one(&mut sim).range, HistoryRange::Before(7));
    assert_eq!(sim.take(b)[1..3], [line(5), line(6)]);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn the_first_fetch_starts_below_what_the_join_showed() {
    let config = config().with_history_len(5);
    let mut sim = Sim::new(config);
    let mut store = Store::default();
    let a = sim.connect_as("alice");
    sim.send(a, "/create rust");
    for n in 1..=9 {
        sim.advance(Duration::from_secs(60));
        sim.send(a, &format!("m{n}"));
    }
    let b = sim.connect_as("bob");
    sim.send(b, "/join rust");
    store.pump(&mut sim);
    // The join replayed m5..m9; what is before m5 is on disk only.
    sim.clear();
    sim.send(b, "/history");
    assert_eq!(
        store.serve_one(&mut sim),
        Fetch { client: b, target: room("rust"), range: crate::HistoryRange::Before(5), limit: 2 }
    );
    assert_eq!(sim.take(b)[1..3], [line(3), line(4)]);
}

#[test]
fn a_client_that_left_before_the_answer_gets_nothing() {
    let (mut sim, mut store, _) = nine_said();
    let b = sim.connect_as("bob");
    sim.send(b, "/join rust");
    sim.send(b, "/history");
    let fetches = store.pump(&mut sim);
    sim.send(b, "/quit");
    sim.clear();
    sim.take_transcript();
    store.answer(&mut sim, &fetches[0]);
    assert_eq!(sim.take_transcript(), []);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn stale_odd_and_unknown_answers_do_not_panic() {
    let (mut sim, mut store, a) = nine_said();
    let stored = |seq: u64| StoredMessage {
        seq,
        from: "alice".into(),
        text: format!("m{seq}").into(),
        unix_ms: 0,
        kind: crate::MessageKind::Said,
    };
    sim.take_transcript();
    // A client never issued is misuse; a room gone meanwhile is told, not paged.
    assert_eq!(
        sim.engine_mut().handle_history_page(ClientId(999), &room("rust"), vec![stored(1)], 0),
        Err(crate::Error::UnknownClient(ClientId(999)))
    );
    assert_eq!(sim.engine_mut().handle_history_page(a, &room("nowhere"), vec![stored(1)], 0), Ok(()));
    sim.drain();
    assert_eq!(sim.take(a), ["! no room named nowhere; /list shows the rooms, /create makes one"]);
    sim.take_transcript();
    // Unsorted, repeated and too many: sorted, deduplicated, the newest page kept.
    let odd = vec![stored(4), stored(2), stored(4), stored(3), stored(1)];
    sim.engine_mut().handle_history_page(a, &room("RUST"), odd, 0).unwrap();
    sim.drain();
    let zero = |n: u64| format!("~ [rust 00:00:00] alice: m{n}");
    assert_eq!(sim.take(a), ["* 2 earlier messages of rust:", &zero(3), &zero(4), "* /history shows earlier ones"]);
    // An empty answer (say, the store's retention dropped them).
    sim.engine_mut().handle_history_page(a, &room("rust"), Vec::new(), 0).unwrap();
    sim.drain();
    assert_eq!(sim.take(a), ["* no earlier messages in rust"]);
    // The same answer twice is rendered twice; nothing breaks.
    sim.send(a, "/history");
    let fetch = store.pump(&mut sim).remove(0);
    store.answer(&mut sim, &fetch);
    store.answer(&mut sim, &fetch);
    assert_eq!(sim.take(a).len(), 8);
    // Huge and zero numbers.
    let extremes = vec![stored(u64::MAX), stored(0)];
    sim.engine_mut().handle_history_page(a, &room("rust"), extremes, 0).unwrap();
    sim.drain();
    assert_eq!(sim.take(a).len(), 4);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn after_a_restart_pages_come_from_the_store() {
    let (_, mut store, _) = nine_said();
    // Restored as a store would at start: the room, then only its newest messages.
    // An account's room: a guest's would come back with nothing to page.
    let mut kept = vec![Record::RoomCreated { room: "rust".into(), unix_ms: 0, owner: Some("alice".into()) }];
    kept.extend(store.messages.iter().cloned());
    let mut after = Sim::new(config());
    for record in trimmed(&kept, 3) {
        after.engine_mut().world.restore(record).unwrap();
    }
    let b = after.connect_as("bob");
    after.send(b, "/join rust");
    assert_eq!(after.take(b), ["* you are now in rust (1 here)", &line(7), &line(8), &line(9)]);
    for (before, first) in [(7, 5), (5, 3), (3, 1)] {
        after.send(b, "/history");
        assert_eq!(store.serve_one(&mut after).range, HistoryRange::Before(before));
        assert_eq!(after.take(b)[1..3], [line(first), line(first + 1)]);
    }
    // A new message in the restored room gets the next number.
    after.send(b, "m10");
    assert!(store.pump(&mut after).is_empty());
    assert!(
        matches!(store.messages.last(), Some(Record::Message { message: StoredMessage { seq: 10, .. }, .. })),
        "{:?}",
        store.messages.last()
    );
}

#[cfg(feature = "json")]
mod json {
    use serde_json::{Value, json};

    use super::{Fetch, nine_said, room};

    const TS: u64 = crate::sim::Sim::BASE_UNIX_MS;

    fn message(seq: u64) -> Value {
        json!({"seq": seq, "from": "alice", "text": format!("m{seq}"), "ts": TS + 60_000 * seq})
    }

    fn page(first: u64, more: bool) -> Value {
        json!({"type":"history","room":"rust","messages":[message(first), message(first + 1)],"more":more,"oldest":first})
    }

    #[test]
    fn json_before_pages_back_through_the_store() {
        let (mut sim, mut store, _) = nine_said();
        let c = sim.connect();
        sim.send_json(c, &json!({"type":"join","room":"rust"}));
        sim.take(c);
        store.pump(&mut sim);
        // Without `before`: the newest page, from memory.
        sim.send_json(c, &json!({"type":"history","room":"rust"}));
        assert!(store.pump(&mut sim).is_empty());
        assert_eq!(sim.take_json(c), [page(8, true)]);
        sim.send_json(c, &json!({"type":"history","room":"rust","before":9}));
        assert!(store.pump(&mut sim).is_empty());
        assert_eq!(sim.take_json(c), [page(7, true)]);
        // Beyond memory: asked of the store.
        sim.send_json(c, &json!({"type":"history","before":7}));
        assert_eq!(
            store.serve_one(&mut sim),
            Fetch { client: c, target: room("rust"), range: crate::HistoryRange::Before(7), limit: 2 }
        );
        assert_eq!(sim.take_json(c), [page(5, true)]);
        sim.send_json(c, &json!({"type":"history","room":"rust","before":4}));
        assert_eq!(store.serve_one(&mut sim).range, crate::HistoryRange::Before(4));
        assert_eq!(sim.take_json(c), [page(2, true)]);
        sim.send_json(c, &json!({"type":"history","room":"rust","before":3}));
        store.serve_one(&mut sim);
        assert_eq!(sim.take_json(c), [page(1, false)]);
        sim.send_json(c, &json!({"type":"history","room":"rust","before":1}));
        assert!(store.pump(&mut sim).is_empty());
        assert_eq!(
            sim.take_json(c),
            [json!({"type":"history","room":"rust","messages":[],"more":false,"oldest":null})]
        );
        // A number past the newest is the newest.
        sim.send_json(c, &json!({"type":"history","room":"rust","before":1000}));
        assert_eq!(sim.take_json(c), [page(8, true)]);
    }
}

#[test]
fn pages_skip_senders_the_reader_blocks_without_stalling() {
    let mut sim = Sim::new(config());
    let mut store = Store::default();
    let a = sim.connect_as("alice");
    let c = sim.connect_as("carol");
    sim.send(a, "/create rust");
    sim.send(c, "/join rust");
    for n in 1..=7 {
        sim.send(if n % 2 == 1 { a } else { c }, &format!("m{n}"));
    }
    let said = |from: &str, n: u64| format!("~ [rust 22:13:20] {from}: m{n}");
    let b = sim.connect_as("bob");
    sim.send(b, "/block carol");
    sim.send(b, "/join rust");
    assert_eq!(sim.take(b)[1..], ["* you are now in rust (3 here)", &said("alice", 5), &said("alice", 7)]);
    store.pump(&mut sim);
    sim.send(b, "/history");
    assert_eq!(store.serve_one(&mut sim).range, HistoryRange::Before(5));
    assert_eq!(sim.take(b), ["* 1 earlier message of rust:", &said("alice", 3), "* /history shows earlier ones"]);
    sim.send(b, "/history");
    assert_eq!(store.serve_one(&mut sim).range, HistoryRange::Before(3));
    assert_eq!(sim.take(b), ["* 1 earlier message of rust:", &said("alice", 1), "* that is the beginning of rust"]);
    // A page of nothing but blocked lines still moves the cursor back.
    sim.send(b, "/block alice");
    sim.send(b, "/leave");
    sim.send(b, "/join rust");
    sim.take(b);
    sim.send(b, "/history");
    assert_eq!(store.serve_one(&mut sim).range, HistoryRange::Before(5));
    assert_eq!(sim.take(b), ["* 0 earlier messages of rust:", "* /history shows earlier ones"]);
    sim.send(b, "/history");
    assert_eq!(store.serve_one(&mut sim).range, HistoryRange::Before(3));
    assert_eq!(sim.take(b), ["* no earlier messages in rust"]);
    // From memory too, for a JSON client.
    #[cfg(feature = "json")]
    {
        use serde_json::json;
        let j = sim.connect();
        sim.send_json(j, &json!({"type":"block","nick":"carol"}));
        sim.send_json(j, &json!({"type":"join","room":"rust"}));
        sim.take(j);
        sim.send_json(j, &json!({"type":"history","room":"rust","before":8}));
        assert!(store.pump(&mut sim).is_empty());
        let seven = json!({"seq":7,"from":"alice","text":"m7","ts":crate::sim::Sim::BASE_UNIX_MS});
        // `oldest` is the blocked message 6: the next page ends before it.
        let page = json!({"type":"history","room":"rust","messages":[seven],"more":true,"oldest":6});
        assert_eq!(sim.take_json(j), [page]);
    }
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}
