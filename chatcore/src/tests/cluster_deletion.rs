//! Deleting a message on a cluster node: the node checks who may delete
//! and publishes the deletion; the store numbers it as the room's next
//! entry (erasing the message there), and every node makes it, and tells
//! its members, when it arrives in the room's order. One node here, fed
//! as its embedder would; `deletion.rs` has what a deletion is.
#![cfg(feature = "json")]

use serde_json::{Value, json};

use super::cluster_messages::publications;
use super::relaxed;
use crate::record::MessageKind;
use crate::sim::Sim;
use crate::{ClientId, ClusterRequest, RoomMessage};

const T0: u64 = Sim::BASE_UNIX_MS;

/// A node alone for names, with alice and bob (JSON) in `rust`, and
/// irc, an IRC client with `draft/message-redaction`, and tex (text).
fn node() -> (Sim, [ClientId; 4]) {
    let mut sim = Sim::new(relaxed().with_cluster(true));
    sim.set_sole_node(true);
    let alice = sim.connect_json_as("alice");
    let bob = sim.connect_json_as("bob");
    sim.send_json(alice, &json!({"type": "create", "room": "rust"}));
    sim.send_json(bob, &json!({"type": "join", "room": "rust"}));
    let irc = super::irc::registered(&mut sim, "irc", "draft/message-redaction");
    sim.send(irc, "JOIN #rust");
    let tex = sim.connect_as("tex");
    sim.send(tex, "/join rust");
    for client in [alice, bob, irc, tex] {
        sim.take(client);
    }
    sim.take_cluster_requests();
    (sim, [alice, bob, irc, tex])
}

fn feed(sim: &mut Sim, message: RoomMessage) {
    let now = sim.now();
    sim.engine_mut().handle_room_message(now, message).expect("no misuse");
    sim.drain();
}

/// An entry of `rust` from another node, numbered `seq`.
fn remote(seq: u64, from: &str, text: &str, kind: MessageKind) -> RoomMessage {
    RoomMessage {
        room: "rust".into(),
        seq,
        from: from.into(),
        host: "elsewhere".into(),
        text: text.into(),
        unix_ms: T0,
        notice: false,
        kind,
        ticket: None,
    }
}

/// Whether the node's memory of `rust` still holds `text`.
fn remembers(sim: &Sim, text: &str) -> bool {
    sim.engine().world.rooms.values().any(|r| r.history.iter().any(|e| e.text.contains(text)))
}

/// alice says `secret`, stored as 1 and fed back with its ticket.
fn said_secret(sim: &mut Sim, alice: ClientId) {
    sim.send_json(alice, &json!({"type": "say", "room": "rust", "text": "secret"}));
    let publication = publications(sim).pop().expect("a publication");
    feed(sim, publication.numbered(1));
}

#[test]
fn a_deletion_is_published_and_made_once_the_store_numbered_it() {
    let (mut sim, [alice, bob, irc, tex]) = node();
    said_secret(&mut sim, alice);
    for client in [alice, bob, irc, tex] {
        sim.take(client);
    }
    sim.send_json(alice, &json!({"type": "delete", "room": "rust", "seq": 1, "reason": "oops", "id": 5}));
    assert_eq!(sim.take(bob), Vec::<String>::new(), "nothing before the store numbers it");
    assert_eq!(sim.take(alice), Vec::<String>::new(), "its request waits for the deletion");
    assert!(remembers(&sim, "secret"), "made only when it comes back");
    let publication = publications(&mut sim).pop().expect("the deletion is published");
    assert_eq!(publication.kind, MessageKind::Deletion { of: 1, by: "alice".into() });
    assert_eq!((&*publication.from, &*publication.text), ("alice", "oops"), "the author, and the reason");
    feed(&mut sim, publication.numbered(2));
    let told = json!({"type": "deleted", "room": "rust", "seq": 1, "from": "alice", "by": "alice", "ts": T0,
        "event": 2, "reason": "oops", "history": false});
    let mut tagged = told.clone();
    tagged["id"] = json!(5);
    assert_eq!(sim.take_json(alice), [tagged], "the deleter's request is answered with it");
    assert_eq!(sim.take_json(bob), [told]);
    let redact = sim.take(irc);
    assert_eq!(redact.len(), 1, "{redact:?}");
    assert!(redact[0].starts_with(":alice!alice@chatd REDACT #rust 1-rust "), "{redact:?}");
    assert!(redact[0].trim_end().ends_with("oops"), "{redact:?}");
    assert_eq!(sim.take(tex).len(), 1);
    assert!(!remembers(&sim, "secret"));
    // The deletion took a number: the room numbers on from there.
    assert_eq!(sim.engine().world.rooms.values().next().map(|r| r.next_seq), Some(3));
    // A deletion of the tombstone, or of the deletion, is refused here.
    sim.send_json(alice, &json!({"type": "delete", "room": "rust", "seq": 1}));
    assert_eq!(sim.take_json(alice)[0]["code"], "already_deleted");
    assert_eq!(publications(&mut sim), []);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn a_deletion_the_store_declines_is_refused_as_already_deleted() {
    let (mut sim, [alice, bob, ..]) = node();
    said_secret(&mut sim, alice);
    sim.take(alice);
    sim.take(bob);
    sim.send_json(alice, &json!({"type": "delete", "room": "rust", "seq": 1, "id": 8}));
    let ticket = publications(&mut sim).pop().expect("published").ticket;
    sim.engine_mut().handle_publish_failed(ticket).expect("outstanding");
    sim.drain();
    let refusal = sim.take_json(alice);
    assert_eq!((&refusal[0]["code"], &refusal[0]["id"]), (&json!("already_deleted"), &json!(8)), "{refusal:?}");
    assert_eq!(sim.take(bob), Vec::<String>::new());
    assert!(remembers(&sim, "secret"), "a deletion that never was changes nothing");
}

#[test]
fn another_nodes_deletion_is_made_in_the_rooms_order() {
    let (mut sim, [alice, bob, ..]) = node();
    feed(&mut sim, remote(1, "carol", "secret", MessageKind::Said));
    assert_eq!(sim.take_json(bob)[0]["text"], "secret");
    // The deletion (3) comes before message 2: it waits for it.
    feed(&mut sim, remote(3, "carol", "", MessageKind::Deletion { of: 1, by: "carol".into() }));
    sim.take(alice);
    assert_eq!(sim.take_json(bob).len(), 0, "held behind the gap");
    assert!(remembers(&sim, "secret"));
    feed(&mut sim, remote(2, "dave", "two", MessageKind::Said));
    let heard: Vec<(Value, Value)> = sim.take_json(bob).iter().map(|m| (m["type"].clone(), m["seq"].clone())).collect();
    assert_eq!(heard, [(json!("message"), json!(2)), (json!("deleted"), json!(1))]);
    assert!(!remembers(&sim, "secret"));
    // A repeat of the deletion is a duplicate, told once.
    feed(&mut sim, remote(3, "carol", "", MessageKind::Deletion { of: 1, by: "carol".into() }));
    assert_eq!(sim.take_json(bob).len(), 0);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn a_message_deleted_before_it_arrived_is_kept_as_its_tombstone_untold() {
    let (mut sim, [_, bob, ..]) = node();
    let tombstone = MessageKind::Deleted { by: "carol".into(), unix_ms: T0 };
    feed(&mut sim, remote(1, "carol", "", tombstone));
    assert_eq!(sim.take_json(bob).len(), 0, "the deletion tells of it");
    feed(&mut sim, remote(2, "carol", "", MessageKind::Deletion { of: 1, by: "carol".into() }));
    let told = sim.take_json(bob);
    assert_eq!((&told[0]["type"], &told[0]["event"]), (&json!("deleted"), &json!(2)), "{told:?}");
    let late = sim.connect_json_as("late");
    sim.send_json(late, &json!({"type": "join", "room": "rust"}));
    let replay = sim.take_json(late);
    let entry = replay.iter().find(|m| m["type"] == "message" && m["seq"] == 1).expect("the tombstone replayed");
    assert_eq!(entry["deleted"]["by"], "carol");
}

#[test]
fn an_entry_with_unsafe_names_from_a_damaged_store_is_passed_over() {
    let (mut sim, [_, bob, ..]) = node();
    feed(&mut sim, remote(1, "carol", "hi", MessageKind::Said));
    sim.take(bob);
    feed(&mut sim, remote(2, "carol", "", MessageKind::Deletion { of: 1, by: "\u{1b}[2J".into() }));
    assert_eq!(sim.take_json(bob).len(), 0);
    assert!(remembers(&sim, "hi"), "not made");
    feed(&mut sim, remote(3, "carol", "next", MessageKind::Said));
    assert_eq!(sim.take_json(bob)[0]["seq"], 3, "numbering goes on past it");
}

#[test]
fn a_deletion_in_the_change_feed_erases_the_message_from_a_room_not_followed() {
    // An account's room, which outlives its members.
    let created = crate::Record::RoomCreated { room: "rust".into(), unix_ms: 0, owner: Some("keeper".into()) };
    let engine = super::restore::restored(relaxed().with_cluster(true), [created]);
    let mut sim = Sim::from_engine(engine, Sim::new(relaxed()).now());
    sim.set_sole_node(true);
    let bob = sim.connect_json_as("bob");
    sim.send_json(bob, &json!({"type": "join", "room": "rust"}));
    feed(&mut sim, remote(1, "carol", "secret", MessageKind::Said));
    // bob leaves: the node no longer follows the room, and its ring is stale.
    sim.send_json(bob, &json!({"type": "leave", "room": "rust"}));
    assert!(sim.take_cluster_requests().iter().any(|r| matches!(r, ClusterRequest::Unfollow { .. })));
    assert!(remembers(&sim, "secret"));
    let deleted = |seq| crate::Record::MessageDeleted {
        room: "RUST".into(),
        seq,
        from: "carol".into(),
        by: "op".into(),
        unix_ms: T0,
        event: 2,
    };
    let now = sim.now();
    sim.engine_mut().handle_remote_record(now, deleted(1));
    assert!(!remembers(&sim, "secret"), "erased at once");
    assert_eq!(sim.engine().world.rooms.values().next().map(|r| r.next_seq), Some(2), "numbering waits for the entry");
    assert_eq!(sim.engine().stats().remote_records_ignored, 0);
    sim.engine_mut().handle_remote_record(now, deleted(1));
    sim.engine_mut().handle_remote_record(now, deleted(7));
    assert_eq!(sim.engine().stats().remote_records_ignored, 2, "erased already, and never kept");
    // A newcomer's replay shows the tombstone; the entry then comes as the backfill feeds it.
    let late = sim.connect_json_as("late");
    sim.send_json(late, &json!({"type": "join", "room": "rust"}));
    let replay = sim.take_json(late);
    assert!(!replay.iter().any(|m| m.to_string().contains("secret")), "{replay:?}");
    feed(&mut sim, remote(2, "carol", "", MessageKind::Deletion { of: 1, by: "op".into() }));
    let told = sim.take_json(late);
    assert_eq!((&told[0]["type"], &told[0]["event"]), (&json!("deleted"), &json!(2)), "{told:?}");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}
