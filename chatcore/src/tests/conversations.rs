//! Conversations: whispers between accounts are kept (`Record::Whisper`),
//! kept whispers for offline accounts are part of them, and `/history
//! @NICK` pages back through them from the store, through the same fetch
//! and answer as room history.

use std::time::Duration;

use super::paging::{Fetch, Store};
use super::rejected;
use super::restore::{durable, records, restored, trimmed};
use crate::sim::Sim;
use crate::{ClientId, Config, HistoryRange, HistoryTarget, Record, StoredMessage};

fn config() -> Config {
    super::relaxed().with_history_page_len(2).with_emit_records(true)
}

/// A sim that answers password checks at once.
fn sim_with(config: Config) -> Sim {
    let mut sim = Sim::new(config);
    sim.set_auto_auth(true);
    sim
}

/// Connects and registers `name` (text), then empties the inbox.
fn account(sim: &mut Sim, name: &str) -> ClientId {
    let id = sim.connect();
    sim.send(id, &format!("/register {name} Pw-{name}-1 Pw-{name}-1"));
    assert_eq!(sim.engine().account_of(id), Some(name));
    sim.take(id);
    id
}

/// Logs `name` in on a new text connection, then empties the inbox.
fn login(sim: &mut Sim, name: &str) -> ClientId {
    let id = sim.connect();
    sim.send(id, &format!("/login {name} Pw-{name}-1"));
    assert_eq!(sim.engine().account_of(id), Some(name));
    sim.take(id);
    id
}

/// Logs `name` in on a new JSON connection (closing any session it had),
/// then empties the inbox.
#[cfg(feature = "json")]
fn login_json(sim: &mut Sim, name: &str) -> ClientId {
    let id = sim.connect_with(crate::ConnectInfo::new(crate::Codec::Json));
    sim.send_json(id, &serde_json::json!({"type": "login", "name": name, "password": format!("Pw-{name}-1")}));
    assert_eq!(sim.engine().account_of(id), Some(name));
    sim.take(id);
    id
}

fn conversation(account: &str, with: &str) -> HistoryTarget {
    HistoryTarget::Conversation { account: account.into(), with: with.into() }
}

/// The whisper records among `records`, as (seq, from, to, text).
fn whispers(records: &[Record]) -> Vec<(u64, String, String, String)> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Whisper { to, message } => {
                Some((message.seq, message.from.to_string(), to.to_string(), message.text.to_string()))
            }
            _ => None,
        })
        .collect()
}

/// alice and bob, both accounts and online, whisper w1..w5 a minute apart
/// (bob says w2 and w4); the store holds them all.
fn five_whispered() -> (Sim, Store, ClientId, ClientId) {
    let mut sim = sim_with(config());
    let mut store = Store::default();
    let a = account(&mut sim, "alice");
    let b = account(&mut sim, "bob");
    for n in 1..=5 {
        sim.advance(Duration::from_secs(60));
        let (from, to) = if n % 2 == 0 { (b, "alice") } else { (a, "bob") };
        sim.send(from, &format!("/msg {to} w{n}"));
    }
    assert!(store.pump(&mut sim).is_empty());
    sim.clear();
    (sim, store, a, b)
}

#[test]
fn whispers_between_accounts_are_kept_numbered_across_the_server() {
    let (mut sim, store, a, _) = five_whispered();
    let kept = whispers(&store.messages);
    let expected: Vec<_> = (1..=5)
        .map(|n| {
            let (from, to) = if n % 2 == 0 { ("bob", "alice") } else { ("alice", "bob") };
            (n, from.to_owned(), to.to_owned(), format!("w{n}"))
        })
        .collect();
    assert_eq!(kept, expected);
    // Another pair takes the next number: one counter for the server.
    let c = account(&mut sim, "carol");
    sim.take_transcript();
    sim.send(c, "/msg alice hi");
    assert_eq!(whispers(&records(&sim.take_transcript())), [(6, "carol".into(), "alice".into(), "hi".into())]);
    // Text lines are as before: numbers are for programs.
    assert_eq!(sim.take(a), ["[whisper from carol 22:18:20] hi"]);
}

#[test]
fn text_history_pages_back_through_a_conversation_and_starts_over_at_its_beginning() {
    let (mut sim, mut store, a, _) = five_whispered();
    sim.send(a, "/history @BOB");
    // Nothing is shown until the store answers; it is asked for one more than a page.
    assert_eq!(sim.take(a), Vec::<String>::new());
    let fetch = store.serve_one(&mut sim);
    assert_eq!(
        fetch,
        Fetch { client: a, target: conversation("alice", "bob"), range: HistoryRange::Before(6), limit: 3 }
    );
    let first = [
        "* 2 earlier whispers with bob:",
        "~ [whisper from bob 22:17:20] w4",
        "~ [whisper to bob 22:18:20] w5",
        "* /history @bob shows earlier ones",
    ];
    assert_eq!(sim.take(a), first);
    sim.send(a, "/history @bob");
    assert_eq!(store.serve_one(&mut sim).range, HistoryRange::Before(4));
    assert_eq!(
        sim.take(a),
        [
            "* 2 earlier whispers with bob:",
            "~ [whisper from bob 22:15:20] w2",
            "~ [whisper to bob 22:16:20] w3",
            "* /history @bob shows earlier ones"
        ]
    );
    sim.send(a, "/history @bob");
    assert_eq!(store.serve_one(&mut sim).range, HistoryRange::Before(2));
    assert_eq!(
        sim.take(a),
        [
            "* 1 earlier whisper with bob:",
            "~ [whisper to bob 22:14:20] w1",
            "* that is the beginning of your whispers with bob"
        ]
    );
    // At the beginning the cursor goes: the next one shows the newest again.
    sim.send(a, "/history @bob");
    assert_eq!(store.serve_one(&mut sim).range, HistoryRange::Before(6));
    assert_eq!(sim.take(a), first);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn each_side_reads_the_same_conversation() {
    let (mut sim, mut store, _, b) = five_whispered();
    sim.send(b, "/history @alice");
    assert_eq!(store.serve_one(&mut sim).target, conversation("bob", "alice"));
    assert_eq!(
        sim.take(b),
        [
            "* 2 earlier whispers with alice:",
            "~ [whisper to alice 22:17:20] w4",
            "~ [whisper from alice 22:18:20] w5",
            "* /history @alice shows earlier ones"
        ]
    );
}

#[cfg(feature = "json")]
#[test]
fn a_whisper_kept_for_an_offline_account_is_part_of_the_conversation() {
    use serde_json::json;

    let (mut sim, mut store, _, b) = five_whispered();
    let a = login_json(&mut sim, "alice");
    sim.send(b, "/quit");
    sim.take_transcript();
    sim.send_json(a, &json!({"type": "msg", "to": "bob", "text": "are you there?"}));
    assert_eq!(sim.take_json(a), [json!({"type": "kept", "to": "bob"})]);
    let outputs = sim.take_transcript();
    let kept = records(&outputs);
    assert_eq!(whispers(&kept), [(6, "alice".into(), "bob".into(), "are you there?".into())]);
    assert!(kept.iter().any(|r| matches!(r, Record::OfflineKept { seq: Some(6), .. })), "{kept:?}");
    store.messages.extend(kept.into_iter().filter(|r| matches!(r, Record::Whisper { .. })));
    // Delivered at login, and found in the history afterwards.
    let b = login_json(&mut sim, "bob");
    sim.send_json(b, &json!({"type": "history", "with": "alice"}));
    store.serve_one(&mut sim);
    let page = sim.take_json(b);
    let messages: Vec<_> = page[0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["seq"].clone(), m["from"].clone(), m["text"].clone()))
        .collect();
    assert_eq!(
        messages,
        [(json!(5), json!("alice"), json!("w5")), (json!(6), json!("alice"), json!("are you there?"))]
    );
}

#[test]
fn pages_leave_out_what_a_blocked_sender_said() {
    let (mut sim, mut store, a, _) = five_whispered();
    sim.send(a, "/block bob");
    sim.clear();
    sim.send(a, "/history @bob");
    store.serve_one(&mut sim);
    // w4 is bob's: skipped, while the page still covers it.
    assert_eq!(
        sim.take(a),
        ["* 1 earlier whisper with bob:", "~ [whisper to bob 22:18:20] w5", "* /history @bob shows earlier ones"]
    );
    sim.send(a, "/history @bob");
    assert_eq!(store.serve_one(&mut sim).range, HistoryRange::Before(4));
}

#[cfg(feature = "json")]
#[test]
fn guests_neither_keep_nor_read_whispers() {
    use serde_json::json;

    use super::support::refused;

    let mut sim = sim_with(config());
    account(&mut sim, "alice");
    let a = login_json(&mut sim, "alice");
    let g = sim.connect_json_as("guest");
    sim.take_transcript();
    sim.send_json(g, &json!({"type": "msg", "to": "alice", "text": "hi"}));
    sim.send_json(a, &json!({"type": "msg", "to": "guest", "text": "hello"}));
    assert_eq!(whispers(&records(&sim.take_transcript())), []);
    sim.clear();
    let history = |with: &str| json!({"type": "history", "with": with});
    assert_eq!(refused(&mut sim, g, &history("alice")), "history_needs_account");
    assert_eq!(refused(&mut sim, a, &history("guest")), "no_such_account");
    assert_eq!(refused(&mut sim, a, &history("#rust")), "no_such_account");
}

/// The text wording of the refusals to read a conversation.
#[test]
fn text_refusals_to_read_a_conversation() {
    let mut sim = sim_with(config());
    let a = account(&mut sim, "alice");
    let g = sim.connect_as("guest");
    sim.clear();
    let needs_account = "! log in to read your whispers: only whispers between accounts are kept";
    assert_eq!(rejected(&mut sim, g, "/history @alice"), [needs_account]);
    assert_eq!(
        rejected(&mut sim, a, "/history @guest"),
        ["! guest has no account; only whispers between accounts are kept"]
    );
    assert_eq!(
        rejected(&mut sim, a, "/history @#rust"),
        ["! #rust has no account; only whispers between accounts are kept"]
    );
}

#[test]
fn text_history_after_pages_a_conversation_forward() {
    let (mut sim, mut store, a, _) = five_whispered();
    sim.send(a, "/history @bob after 3");
    assert_eq!(store.serve_one(&mut sim).range, HistoryRange::After(3));
    assert_eq!(
        sim.take(a),
        [
            "* 2 later whispers with bob:",
            "~ [whisper from bob 22:17:20] w4",
            "~ [whisper to bob 22:18:20] w5",
            "* that is the newest of your whispers with bob"
        ]
    );
    sim.send(a, "/history @bob after 5");
    assert_eq!(sim.take(a), ["* no later whispers with bob"]);
}

#[cfg(feature = "json")]
#[test]
fn json_pages_a_conversation_forward_with_after() {
    use serde_json::json;

    let (mut sim, mut store, _, _) = five_whispered();
    let j = sim.connect();
    sim.send_json(j, &json!({"type":"login","name":"alice","password":"Pw-alice-1"}));
    sim.take(j);
    let message = |seq: u64, from: &str| {
        let ts = Sim::BASE_UNIX_MS + seq * 60_000;
        json!({"seq": seq, "from": from, "text": format!("w{seq}"), "ts": ts})
    };
    sim.send_json(j, &json!({"type":"history","with":"bob","after":1}));
    let fetch = store.serve_one(&mut sim);
    assert_eq!(
        fetch,
        Fetch { client: j, target: conversation("alice", "bob"), range: HistoryRange::After(1), limit: 3 }
    );
    let page = json!({"type":"history","with":"bob","messages":[message(2, "bob"), message(3, "alice")],"more":true,"oldest":2,"newest":3});
    assert_eq!(sim.take_json(j), [page]);
    sim.send_json(j, &json!({"type":"history","with":"bob","after":3}));
    store.serve_one(&mut sim);
    let last = json!({"type":"history","with":"bob","messages":[message(4, "bob"), message(5, "alice")],"more":false,"oldest":4,"newest":5});
    assert_eq!(sim.take_json(j), [last]);
    // Nothing is newer than the newest whisper: answered without the store.
    sim.send_json(j, &json!({"type":"history","with":"bob","after":5}));
    assert!(store.pump(&mut sim).is_empty());
    let none = json!({"type":"history","with":"bob","messages":[],"more":false,"oldest":null,"newest":5});
    assert_eq!(sim.take_json(j), [none]);
}

#[cfg(feature = "json")]
#[test]
fn json_pages_name_the_conversation_and_page_with_before() {
    use serde_json::json;

    let (mut sim, mut store, _, _) = five_whispered();
    let j = sim.connect();
    sim.send_json(j, &json!({"type":"login","name":"alice","password":"Pw-alice-1"}));
    sim.take(j);
    sim.send_json(j, &json!({"type":"history","with":"bob"}));
    store.serve_one(&mut sim);
    let message = |seq: u64, from: &str| {
        let ts = Sim::BASE_UNIX_MS + seq * 60_000;
        json!({"seq": seq, "from": from, "text": format!("w{seq}"), "ts": ts})
    };
    let page = json!({"type":"history","with":"bob","messages":[message(4, "bob"), message(5, "alice")],"more":true,"oldest":4});
    assert_eq!(sim.take_json(j), [page]);
    sim.send_json(j, &json!({"type":"history","with":"bob","before":2}));
    assert_eq!(store.serve_one(&mut sim).range, HistoryRange::Before(2));
    let first = json!({"type":"history","with":"bob","messages":[message(1, "alice")],"more":false,"oldest":1});
    assert_eq!(sim.take_json(j), [first]);
    // Nothing is older than the first whisper: answered without the store.
    sim.send_json(j, &json!({"type":"history","with":"bob","before":1}));
    assert!(store.pump(&mut sim).is_empty());
    assert_eq!(sim.take_json(j), [json!({"type":"history","with":"bob","messages":[],"more":false,"oldest":null})]);
    // A live whisper between accounts carries its number; one with a guest does not.
    let b = login(&mut sim, "bob");
    sim.send(b, "/msg alice w6");
    let whisper = json!({"type":"whisper","from":"bob","to":"alice","text":"w6","ts":Sim::BASE_UNIX_MS + 300_000,"offline":false,"seq":6});
    assert_eq!(sim.take_json(j), [whisper]);
    let g = sim.connect_as("guest");
    sim.send(g, "/msg alice hi");
    assert_eq!(sim.take_json(j)[0].get("seq"), None);
    // A room and a conversation at once is no request.
    sim.send_json(j, &json!({"type":"history","room":"r","with":"bob"}));
    assert_eq!(sim.take_json(j)[0]["code"], "usage");
}

#[cfg(feature = "json")]
#[test]
fn while_the_store_fails_whispers_are_delivered_but_not_kept() {
    let (mut sim, _, a, _) = five_whispered();
    let b = login_json(&mut sim, "bob");
    sim.engine_mut().handle_storage_status(crate::StorageStatus::Failing);
    sim.take_transcript();
    sim.send(a, "/msg bob still here");
    assert_eq!(records(&sim.take_transcript()), []);
    let got = sim.take_json(b);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (&got[0]["type"], &got[0]["from"], &got[0]["text"]),
        (&"whisper".into(), &"alice".into(), &"still here".into())
    );
    sim.engine_mut().handle_storage_status(crate::StorageStatus::Healthy);
    sim.send(a, "/msg bob back");
    assert_eq!(whispers(&records(&sim.take_transcript())), [(6, "alice".into(), "bob".into(), "back".into())]);
}

#[test]
fn without_a_store_or_with_no_length_nothing_is_kept_and_pages_are_empty() {
    for config in [config().with_emit_records(false), config().with_conversation_history_len(0)] {
        let mut sim = sim_with(config);
        let a = account(&mut sim, "alice");
        let _b = account(&mut sim, "bob");
        sim.take_transcript();
        sim.send(a, "/msg bob hi");
        sim.send(a, "/history @bob");
        let outputs = sim.take_transcript();
        assert_eq!(whispers(&records(&outputs)), []);
        assert!(!outputs.iter().any(|o| matches!(o, crate::Output::FetchHistory { .. })), "{outputs:?}");
        assert_eq!(sim.take(a)[1..], ["* no earlier whispers with bob"]);
    }
}

#[test]
fn answers_for_a_client_gone_or_not_the_one_that_asked_are_dropped() {
    let (mut sim, mut store, a, b) = five_whispered();
    sim.send(a, "/history @bob");
    let fetch = store.pump(&mut sim).remove(0);
    sim.send(a, "/quit");
    sim.clear();
    sim.take_transcript();
    store.answer(&mut sim, &fetch);
    assert_eq!(sim.take_transcript(), []);
    // A page of alice's conversation is not bob's to read.
    let stray = vec![StoredMessage {
        seq: 1,
        from: "alice".into(),
        text: "w1".into(),
        unix_ms: 0,
        kind: crate::MessageKind::Said,
    }];
    sim.engine_mut().handle_history_page(b, &conversation("alice", "bob"), stray, 0).unwrap();
    sim.drain();
    assert_eq!(sim.take_transcript(), []);
}

#[test]
fn numbering_carries_on_after_a_restore_from_the_newest_whisper_only() {
    let mut sim = sim_with(config());
    let a = account(&mut sim, "alice");
    let b = account(&mut sim, "bob");
    sim.send(a, "/msg bob one");
    sim.send(b, "/msg alice two");
    sim.send(b, "/quit");
    sim.send(a, "/msg bob kept");
    let stored = records(&sim.take_transcript());
    // A store feeds only the newest whisper (the kept one, number 3).
    let engine = restored(config(), trimmed(&stored, 1));
    assert_eq!(durable(&engine), durable(sim.engine()));
    let mut after = Sim::from_engine(engine, sim.now());
    after.set_auto_auth(true);
    let b = login(&mut after, "bob");
    after.take_transcript();
    after.send(b, "/msg alice four");
    assert_eq!(whispers(&records(&after.take_transcript())), [(4, "bob".into(), "alice".into(), "four".into())]);
}

#[test]
fn whispers_restored_out_of_order_are_refused() {
    let whisper = |seq| Record::Whisper {
        to: "bob".into(),
        message: StoredMessage {
            seq,
            from: "alice".into(),
            text: "t".into(),
            unix_ms: 0,
            kind: crate::MessageKind::Said,
        },
    };
    let refused = crate::Engine::restore(config(), [whisper(2), whisper(2)]).err();
    assert_eq!(refused, Some(crate::RestoreError::WhisperOutOfOrder { seq: 2 }));
}
