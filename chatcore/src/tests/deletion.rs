//! Deleting a room message: its author or an operator of the room takes it
//! back; the text leaves history (a tombstone keeps its number, who
//! deleted it and when), every member is told in its codec's words, and
//! the deletion is the room's next numbered entry, so that a device that
//! resumes after the last number it saw learns of it.

use std::time::Duration;

use serde_json::{Value, json};

use super::irc::registered;
use super::paging::{Store, room};
use super::restore::{records, restored};
use super::support::refused;
use crate::record::{MessageKind, Record, StoredMessage};
use crate::sim::Sim;
use crate::{ClientId, Config, HistoryRange};

const T0: u64 = Sim::BASE_UNIX_MS;

/// alice (JSON) created `rust` and said `secret` (1) and `fine` (2) a
/// minute apart; bob (JSON) is in it too. Inboxes are empty.
fn chat(config: Config) -> (Sim, ClientId, ClientId) {
    let mut sim = Sim::new(config);
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    sim.send_json(a, &json!({"type": "create", "room": "rust"}));
    sim.send_json(b, &json!({"type": "join", "room": "rust"}));
    for text in ["secret", "fine"] {
        sim.advance(Duration::from_secs(60));
        sim.send_json(a, &json!({"type": "say", "room": "rust", "text": text}));
    }
    sim.take(a);
    sim.take(b);
    (sim, a, b)
}

fn delete(seq: u64) -> Value {
    json!({"type": "delete", "room": "rust", "seq": seq})
}

/// What every member is told when `by` deletes message `seq` (`from`'s)
/// as entry `event`, at `ts`.
fn deleted(seq: u64, from: &str, by: &str, ts: u64, event: u64) -> Value {
    json!({"type": "deleted", "room": "rust", "seq": seq, "from": from, "by": by, "ts": ts, "event": event,
        "history": false})
}

/// Whether the engine's memory of every room still holds `text`.
fn remembers(sim: &Sim, text: &str) -> bool {
    sim.engine().world.rooms.values().any(|r| r.history.iter().any(|e| e.text.contains(text)))
}

#[test]
fn the_author_deletes_its_message_and_every_member_is_told() {
    let (mut sim, a, b) = chat(super::relaxed());
    sim.advance(Duration::from_secs(60));
    sim.send_json(a, &delete(1));
    let told = deleted(1, "alice", "alice", T0 + 180_000, 3);
    assert_eq!(sim.take_json(a), std::slice::from_ref(&told));
    assert_eq!(sim.take_json(b), [told]);
    assert!(!remembers(&sim, "secret"), "the text is gone from memory");
    assert!(remembers(&sim, "fine"));
    // A page shows the tombstone, without its text, and the deletion.
    sim.send_json(b, &json!({"type": "history", "room": "rust"}));
    let page = sim.take_json(b).pop().unwrap();
    assert_eq!(
        page["messages"],
        json!([
            {"seq": 1, "from": "alice", "ts": T0 + 60_000, "deleted": {"by": "alice", "ts": T0 + 180_000}},
            {"seq": 2, "from": "alice", "text": "fine", "ts": T0 + 120_000},
            {"seq": 3, "from": "alice", "ts": T0 + 180_000, "deletes": 1, "by": "alice"},
        ])
    );
    // The next message numbers on after the deletion.
    sim.send_json(b, &json!({"type": "say", "room": "rust", "text": "next"}));
    assert_eq!(sim.take_json(a)[0]["seq"], 4);
    // A newcomer's replay has the tombstone, never the text.
    let c = sim.connect_json_as("carol");
    sim.send_json(c, &json!({"type": "join", "room": "rust"}));
    let replay = sim.take_json(c);
    let tombstone = replay.iter().find(|m| m["type"] == "message" && m["seq"] == 1).expect("the tombstone");
    assert_eq!(tombstone["deleted"], json!({"by": "alice", "ts": T0 + 180_000}));
    assert!(tombstone.get("text").is_none(), "{tombstone}");
    let deletion = replay.iter().find(|m| m["type"] == "deleted").expect("the deletion");
    assert_eq!(
        (deletion["seq"].clone(), deletion["event"].clone(), deletion["history"].clone()),
        (json!(1), json!(3), json!(true))
    );
    assert!(!replay.iter().any(|m| m.to_string().contains("secret")), "{replay:?}");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn a_room_operator_deletes_anyones_message_and_others_are_refused() {
    let (mut sim, a, b) = chat(super::relaxed());
    sim.send_json(b, &json!({"type": "say", "room": "rust", "text": "spam"}));
    let c = sim.connect_json_as("carol");
    sim.send_json(c, &json!({"type": "join", "room": "rust"}));
    sim.take(a);
    sim.take(b);
    sim.take(c);
    // Not its author, not an operator.
    assert_eq!(refused(&mut sim, c, &delete(3)), "delete_forbidden");
    assert_eq!(refused(&mut sim, b, &delete(1)), "delete_forbidden");
    // The room's operator (its creator) may delete anyone's.
    sim.send_json(a, &delete(3));
    let told = deleted(3, "bob", "alice", T0 + 120_000, 4);
    for member in [a, b, c] {
        assert_eq!(sim.take_json(member), std::slice::from_ref(&told));
    }
    assert_eq!(refused(&mut sim, a, &delete(3)), "already_deleted");
    assert_eq!(refused(&mut sim, a, &delete(4)), "already_deleted", "a deletion is not a message");
    let (code, message) = super::support::refusal(&mut sim, a, &delete(99));
    assert_eq!(code, "unknown_message");
    assert!(message.contains("last 100 messages"), "{message}");
    // Without a number: the sender's own newest; bob has none left.
    assert_eq!(refused(&mut sim, b, &json!({"type": "delete", "room": "rust"})), "nothing_to_delete");
    // Only members delete.
    let d = sim.connect_json_as("dave");
    assert_eq!(refused(&mut sim, d, &delete(1)), "not_in_room");
    assert_eq!(refused(&mut sim, d, &json!({"type": "delete", "room": "nowhere", "seq": 1})), "no_such_room");
}

#[test]
fn only_what_memory_holds_can_be_deleted() {
    let (mut sim, a, _) = chat(super::relaxed().with_history_len(1));
    let (code, message) = super::support::refusal(&mut sim, a, &delete(1));
    assert_eq!(code, "unknown_message");
    assert!(message.contains("last 1 messages"), "{message}");
    sim.send_json(a, &delete(2));
    assert_eq!(sim.take_json(a)[0]["type"], "deleted");
}

#[test]
fn a_text_user_deletes_its_last_message_and_sees_tombstones() {
    let mut sim = super::sim();
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    sim.send(a, "/create rust");
    sim.send(b, "/join rust");
    sim.send(a, "first");
    sim.send(b, "mine");
    sim.send(a, "oops");
    sim.take(a);
    sim.take(b);
    // Bare `/delete`: the sender's newest message in its room.
    sim.send(a, "/delete");
    assert_eq!(sim.take(a), ["* a message by alice was deleted"]);
    assert_eq!(sim.take(b), ["* a message by alice was deleted"]);
    // An operator deleting someone else's says so.
    sim.send(a, "/delete rust 2");
    assert_eq!(sim.take(b), ["* a message by bob was deleted by alice"]);
    assert_eq!(
        super::rejected(&mut sim, b, "/delete rust 1"),
        ["! you may delete only your own messages in rust; its operators may delete any"]
    );
    assert_eq!(super::rejected(&mut sim, b, "/delete"), ["! you have no message in rust that can still be deleted"]);
    let c = sim.connect_as("carol");
    sim.send(c, "/join rust");
    let replay = sim.take(c);
    let history: Vec<&String> = replay.iter().filter(|l| l.starts_with("~ ")).collect();
    assert_eq!(
        history,
        [
            "~ [rust 22:13:20] alice: first",
            "~ [rust 22:13:20] (a message by bob was deleted)",
            "~ [rust 22:13:20] (a message by alice was deleted)",
            "~ [rust 22:13:20] * a message by alice was deleted",
            "~ [rust 22:13:20] * a message by bob was deleted by alice",
        ]
    );
    sim.send(c, "/history rust after 0");
    let page = sim.take(c);
    assert!(page.contains(&"~ [rust 22:13:20] (a message by alice was deleted)".to_owned()), "{page:?}");
    assert!(!page.iter().any(|l| l.contains("oops") || l.contains("mine")), "{page:?}");
}

#[test]
fn irc_clients_with_message_redaction_see_redact_and_others_a_notice() {
    let mut sim = super::sim();
    let a = registered(&mut sim, "alice", "draft/message-redaction message-tags");
    let b = registered(&mut sim, "bob", "draft/message-redaction");
    let c = registered(&mut sim, "carol", "");
    sim.send(a, "JOIN #rust");
    sim.send(b, "JOIN #rust");
    sim.send(c, "JOIN #rust");
    sim.send(a, "PRIVMSG #rust :oops");
    for id in [a, b, c] {
        sim.take(id);
    }
    sim.send(a, "REDACT #rust 1-rust :typo");
    let redact = |line: &String| line.ends_with(" REDACT #rust 1-rust typo\r") && line.contains(":alice!alice@");
    let [line] = &sim.take(b)[..] else { panic!("one line") };
    assert!(redact(line), "{line}");
    let [line] = &sim.take(a)[..] else { panic!("one line") };
    assert!(line.starts_with("@msgid=2-rust :alice!alice@") && redact(line), "{line}");
    let [line] = &sim.take(c)[..] else { panic!("one line") };
    assert!(line.ends_with(" NOTICE #rust :* a message by alice was deleted (typo)\r"), "{line}");
    // Again, or someone else's without being an operator: FAIL, naming
    // the target and the msgid as given.
    sim.send(a, "REDACT #rust 1-rust");
    assert!(sim.take(a)[0].starts_with(":chatd FAIL REDACT UNKNOWN_MSGID #rust 1-rust :"));
    sim.send(b, "PRIVMSG #rust :hello");
    sim.take(b);
    sim.take(c);
    sim.send(c, "REDACT #rust 3");
    assert!(sim.take(c)[0].starts_with(":chatd FAIL REDACT REDACT_FORBIDDEN #rust 3 :"));
    sim.send(c, "REDACT #rust 99-rust");
    assert!(sim.take(c)[0].starts_with(":chatd FAIL REDACT UNKNOWN_MSGID #rust 99-rust :"));
    // An id that is not one of the channel's, or a channel one is not in.
    for other in ["3-go", "3-w", "nonexistent123"] {
        sim.send(c, &format!("REDACT #rust {other}"));
        let told = sim.take(c);
        assert!(told[0].starts_with(&format!(":chatd FAIL REDACT UNKNOWN_MSGID #rust {other} :")), "{told:?}");
    }
    sim.send(c, "REDACT #nowhere 3");
    assert!(sim.take(c)[0].starts_with(":chatd FAIL REDACT INVALID_TARGET #nowhere :"));
    sim.send(c, "REDACT #rust");
    assert!(sim.take(c)[0].starts_with(":chatd 461 carol REDACT "));
    // A reason as long as a JSON line allows is cut to fit one IRC line.
    let op = sim.connect_json_as("erin");
    sim.send_json(op, &json!({"type": "join", "room": "rust"}));
    sim.send_json(op, &json!({"type": "say", "room": "rust", "text": "long"}));
    for id in [a, b, c] {
        sim.take(id);
    }
    sim.send_json(op, &json!({"type": "delete", "room": "rust", "seq": 4, "reason": "why ".repeat(400)}));
    let [line] = &sim.take(b)[..] else { panic!("one line") };
    assert!(line.contains(" REDACT #rust 4-rust :why why ") && line.len() <= 512, "{line}");
    sim.take(a);
    sim.take(c);
    // History: with the capability the deleted message is left out and
    // the deletion is a REDACT; without, a notice.
    sim.send(b, "CHATHISTORY AFTER #rust msgid=0 10");
    let lines = sim.take(b);
    assert!(lines[0].contains(" REDACT #rust 1-rust\r"), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("was deleted")), "{lines:?}");
    sim.send(c, "CHATHISTORY AFTER #rust msgid=1 10");
    let lines = sim.take(c);
    assert!(lines[0].ends_with(" NOTICE #rust :* a message by alice was deleted\r"), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("oops")), "{lines:?}");
}

#[test]
fn a_device_that_resumes_after_its_last_number_learns_of_deletions() {
    // bob's device saw 1 and 2, then went away; 1 was deleted meanwhile.
    let (mut sim, a, b) = chat(super::relaxed());
    sim.disconnect(b, crate::DisconnectReason::Quit(None)).unwrap();
    sim.send_json(a, &delete(1));
    sim.send_json(a, &json!({"type": "say", "room": "rust", "text": "later"}));
    let b = sim.connect_json_as("bob");
    sim.send_json(b, &json!({"type": "join", "room": "rust"}));
    sim.take(b);
    sim.send_json(b, &json!({"type": "history", "room": "rust", "after": 2}));
    let page = sim.take_json(b).pop().unwrap();
    assert_eq!(page["newest"], 4);
    assert_eq!(
        page["messages"],
        json!([
            {"seq": 3, "from": "alice", "ts": T0 + 120_000, "deletes": 1, "by": "alice"},
            {"seq": 4, "from": "alice", "text": "later", "ts": T0 + 120_000},
        ])
    );
}

#[test]
fn catching_up_from_the_store_shows_deletions_and_tombstones() {
    // Memory keeps two entries: a page after 0 is read from the store.
    let config = super::relaxed().with_history_len(2).with_emit_records(true);
    let (mut sim, a, b) = chat(config);
    let mut store = Store::default();
    sim.send_json(a, &delete(2));
    assert!(store.pump(&mut sim).is_empty());
    sim.take(b);
    sim.send_json(b, &json!({"type": "history", "room": "rust", "after": 0}));
    let fetch = store.serve_one(&mut sim);
    assert_eq!((fetch.target, fetch.range), (room("rust"), HistoryRange::After(0)));
    let page = sim.take_json(b).pop().unwrap();
    assert_eq!(
        page["messages"],
        json!([
            {"seq": 1, "from": "alice", "text": "secret", "ts": T0 + 60_000},
            {"seq": 2, "from": "alice", "ts": T0 + 120_000, "deleted": {"by": "alice", "ts": T0 + 120_000}},
            {"seq": 3, "from": "alice", "ts": T0 + 120_000, "deletes": 2, "by": "alice"},
        ])
    );
}

#[test]
fn a_deletion_is_recorded_and_a_restored_room_keeps_the_tombstone() {
    let config = super::relaxed().with_emit_records(true);
    let mut sim = Sim::new(config.clone());
    sim.set_auto_auth(true);
    // An account's room: a guest's would start afresh once empty.
    let a = sim.connect_json_as("alice");
    sim.send_json(a, &json!({"type": "register", "name": "alice", "password": "Pw-alice-1", "confirm": "Pw-alice-1"}));
    sim.send_json(a, &json!({"type": "create", "room": "rust"}));
    sim.send_json(a, &json!({"type": "say", "room": "rust", "text": "secret"}));
    sim.send_json(a, &delete(1));
    let kept = records(&sim.take_transcript());
    let deletion = Record::MessageDeleted {
        room: "rust".into(),
        seq: 1,
        from: "alice".into(),
        by: "alice".into(),
        unix_ms: T0,
        event: 2,
    };
    assert_eq!(kept.last(), Some(&deletion));
    // Fed every record as it came, or as a store loads its rows.
    let mut as_loaded: Vec<Record> =
        kept.iter().filter(|r| !matches!(r, Record::Message { .. } | Record::MessageDeleted { .. })).cloned().collect();
    as_loaded.extend([
        Record::Message {
            room: "rust".into(),
            message: StoredMessage {
                seq: 1,
                from: "alice".into(),
                text: "".into(),
                unix_ms: T0,
                kind: MessageKind::Deleted { by: "alice".into(), unix_ms: T0 },
            },
        },
        Record::Message {
            room: "rust".into(),
            message: StoredMessage {
                seq: 2,
                from: "alice".into(),
                text: "".into(),
                unix_ms: T0,
                kind: MessageKind::Deletion { of: 1, by: "alice".into() },
            },
        },
    ]);
    for fed in [kept, as_loaded] {
        let engine = restored(config.clone(), fed);
        let mut sim = Sim::from_engine(engine, sim.now());
        let b = sim.connect_json_as("bob");
        sim.send_json(b, &json!({"type": "join", "room": "rust"}));
        let replay = sim.take_json(b);
        assert!(!replay.iter().any(|m| m.to_string().contains("secret")), "{replay:?}");
        let tombstone = replay.iter().find(|m| m["seq"] == 1).expect("the tombstone");
        assert_eq!(tombstone["deleted"], json!({"by": "alice", "ts": T0}));
        assert!(replay.iter().any(|m| m["type"] == "deleted" && m["event"] == 2), "{replay:?}");
        sim.send_json(b, &json!({"type": "say", "room": "rust", "text": "after"}));
        assert_eq!(sim.take_json(b)[0]["seq"], 3, "numbering goes on after the deletion");
        assert_eq!(sim.engine().check_invariants(), Ok(()));
    }
}

#[test]
fn a_cluster_node_judges_a_deletion_then_publishes_it_for_the_store_to_number() {
    let (mut sim, a, b) = chat(super::relaxed());
    sim.engine_mut().world.config.cluster = true;
    // The checks are made here, as on a single node.
    assert_eq!(refused(&mut sim, b, &delete(1)), "delete_forbidden");
    assert_eq!(refused(&mut sim, a, &delete(9)), "unknown_message");
    assert_eq!(sim.take_cluster_requests(), []);
    sim.send_json(a, &delete(1));
    assert_eq!(sim.take(b), Vec::<String>::new(), "made when it comes back numbered (cluster_deletion.rs)");
    assert!(remembers(&sim, "secret"));
    let published = sim.take_cluster_requests();
    assert!(
        matches!(&published[..], [crate::ClusterRequest::Publish(p)]
            if p.kind == MessageKind::Deletion { of: 1, by: "alice".into() }),
        "{published:?}"
    );
}

#[test]
fn a_member_who_blocks_the_sender_hears_nothing_of_the_deletion() {
    let (mut sim, a, b) = chat(super::relaxed());
    sim.send_json(b, &json!({"type": "block", "nick": "alice"}));
    sim.take(b);
    sim.send_json(a, &delete(2));
    assert_eq!(sim.take_json(a)[0]["type"], "deleted");
    assert_eq!(sim.take(b), Vec::<String>::new());
    sim.send_json(b, &json!({"type": "history", "room": "rust", "after": 0}));
    assert_eq!(sim.take_json(b)[0]["messages"], json!([]), "pages leave out what the blocked sender said");
}

#[test]
fn a_server_operator_deletes_a_message_in_a_room_it_does_not_operate() {
    let mut sim = Sim::new(super::relaxed().with_operators(vec!["Root".to_owned()]));
    sim.set_auto_auth(true);
    let a = sim.connect_json_as("alice");
    sim.send_json(a, &json!({"type": "create", "room": "rust"}));
    sim.send_json(a, &json!({"type": "say", "room": "rust", "text": "spam"}));
    let root = sim.connect_json_as("guest");
    let register = json!({"type": "register", "name": "root", "password": "hunter22", "confirm": "hunter22"});
    sim.send_json(root, &register);
    sim.send_json(root, &json!({"type": "join", "room": "rust"}));
    let mallory = sim.connect_json_as("mallory");
    sim.send_json(mallory, &json!({"type": "join", "room": "rust"}));
    sim.take(a);
    sim.take(root);
    sim.take(mallory);
    assert!(sim.engine().is_server_operator(root));
    // A member who is neither the author nor an operator of any kind may not.
    assert_eq!(refused(&mut sim, mallory, &delete(1)), "delete_forbidden");
    sim.send_json(root, &delete(1));
    let told = sim.take_json(a);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!((told[0]["type"].as_str(), told[0]["by"].as_str()), (Some("deleted"), Some("root")));
    assert!(!remembers(&sim, "spam"));
}
