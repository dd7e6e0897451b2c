//! One node of a cluster: publishing, delivery in the store's order,
//! holding and backfilling gaps, following rooms, and the embedder's
//! misuse. Several nodes together are in `cluster_sim.rs`.
#![cfg(feature = "json")]

use std::time::Duration;

use serde_json::json;

use super::relaxed;
use crate::sim::Sim;
use crate::{ClusterRequest, Error, Output, Publication, PublishTicket, RoomMessage};

fn node() -> Sim {
    node_with(relaxed().with_cluster(true))
}

/// A node alone in its cluster for names (every claim granted), so that
/// its cluster requests are those of room messages.
fn node_with(config: crate::Config) -> Sim {
    let mut sim = Sim::new(config);
    sim.set_sole_node(true);
    sim
}

/// The publications among the cluster requests made since the last call.
pub(super) fn publications(sim: &mut Sim) -> Vec<Publication> {
    let requests = sim.take_cluster_requests();
    requests
        .into_iter()
        .filter_map(|r| match r {
            ClusterRequest::Publish(publication) => Some(*publication),
            _ => None,
        })
        .collect()
}

/// A message of `room` another node published, numbered `seq`.
fn remote(room: &str, seq: u64, from: &str) -> RoomMessage {
    RoomMessage {
        room: room.into(),
        seq,
        from: from.into(),
        host: "chatd".into(),
        text: format!("message {seq}").into(),
        unix_ms: Sim::BASE_UNIX_MS,
        notice: false,
        kind: crate::MessageKind::Said,
        ticket: None,
    }
}

fn feed(sim: &mut Sim, message: RoomMessage) -> Result<(), Error> {
    let now = sim.now();
    let result = sim.engine_mut().handle_room_message(now, message);
    sim.drain();
    result
}

/// `rust` with alice (text) and bob (JSON) in it, everything told so far taken.
fn room_of_two(sim: &mut Sim) -> (crate::ClientId, crate::ClientId) {
    let alice = sim.connect_as("alice");
    let bob = sim.connect_json_as("bob");
    sim.send(alice, "/create rust");
    sim.send_json(bob, &json!({"type": "join", "room": "rust"}));
    sim.take(alice);
    sim.take(bob);
    sim.take_cluster_requests();
    (alice, bob)
}

/// Messages `carol`, on another node, said in `rust`, numbered `seqs`, fed in that order.
fn feed_carol(sim: &mut Sim, seqs: impl IntoIterator<Item = u64>) {
    for seq in seqs {
        feed(sim, remote("rust", seq, "carol")).expect("no ticket");
    }
}

/// The numbers of the room messages a JSON client received.
fn seqs_heard(sim: &mut Sim, client: crate::ClientId) -> Vec<u64> {
    heard(sim, client).into_iter().map(|(seq, _)| seq).collect()
}

/// The `seq` and `text` of each room message a JSON client received.
fn heard(sim: &mut Sim, client: crate::ClientId) -> Vec<(u64, String)> {
    let replies = sim.take_json(client);
    replies
        .iter()
        .filter(|r| r["type"] == "message")
        .map(|r| (r["seq"].as_u64().expect("a seq"), r["text"].as_str().expect("a text").to_owned()))
        .collect()
}

#[test]
fn without_cluster_mode_no_cluster_request_ever_comes() {
    let mut sim = Sim::new(relaxed());
    let alice = sim.connect_as("alice");
    let bob = sim.connect_json_as("bob");
    sim.send(alice, "/create rust");
    sim.send_json(bob, &json!({"type": "join", "room": "rust", "id": 1}));
    sim.send(alice, "hello");
    sim.send_json(bob, &json!({"type": "say", "room": "rust", "text": "hi", "id": 2}));
    sim.send(alice, "/leave");
    sim.send_json(bob, &json!({"type": "leave", "room": "rust"}));
    sim.disconnect(alice, crate::DisconnectReason::ConnectionClosed).expect("issued");
    sim.advance(Duration::from_secs(2 * 3_600));
    let transcript = sim.take_transcript();
    assert!(transcript.iter().any(|o| matches!(o, Output::Send { .. })), "the room worked: {transcript:?}");
    assert!(!transcript.iter().any(|o| matches!(o, Output::Cluster(_))), "{transcript:?}");
    assert_eq!(sim.take_cluster_requests(), []);
    assert_eq!(sim.engine().poll_timeout(), None, "no backfill timer either");
}

#[test]
fn a_message_is_published_and_delivered_only_once_the_store_numbered_it() {
    let mut sim = node();
    let (alice, bob) = room_of_two(&mut sim);
    sim.send(alice, "hello, bob");
    assert_eq!(sim.take_json(bob), Vec::<serde_json::Value>::new(), "nothing before the store numbers it");
    let publication = publications(&mut sim).pop().expect("a publication");
    assert_eq!((&*publication.room, &*publication.from, &*publication.text), ("rust", "alice", "hello, bob"));
    assert_eq!((publication.unix_ms, publication.notice), (Sim::BASE_UNIX_MS, false));
    assert_eq!(sim.engine().stats().messages, 0);
    feed(&mut sim, publication.numbered(1)).expect("its ticket is outstanding");
    assert_eq!(heard(&mut sim, bob), [(1, "hello, bob".to_owned())]);
    assert_eq!(sim.take(alice), Vec::<String>::new(), "a text sender does not hear itself");
    assert_eq!(sim.engine().stats().messages, 1);
    assert_eq!(sim.engine().history_len("rust"), Some(1));
    sim.send_json(bob, &json!({"type": "history", "room": "rust"}));
    let page = sim.take_json(bob);
    assert_eq!(page[0]["messages"][0]["text"], "hello, bob", "the ring keeps it: {page:?}");
}

#[test]
fn the_json_echo_carries_the_stored_seq_and_the_request_id() {
    let mut sim = node();
    let (_alice, bob) = room_of_two(&mut sim);
    feed_carol(&mut sim, [1]);
    sim.take_json(bob);
    sim.send_json(bob, &json!({"type": "say", "room": "rust", "text": "mine", "id": "a1"}));
    assert_eq!(sim.take_json(bob), Vec::<serde_json::Value>::new(), "answered when numbered");
    let publication = publications(&mut sim).pop().expect("a publication");
    feed(&mut sim, publication.numbered(2)).expect("outstanding");
    let echo = sim.take_json(bob);
    assert_eq!(echo.len(), 1, "{echo:?}");
    assert_eq!((&echo[0]["type"], &echo[0]["seq"], &echo[0]["id"]), (&json!("message"), &json!(2), &json!("a1")));
}

#[test]
fn an_irc_sender_hears_its_echo_only_with_echo_message_and_a_label_is_acknowledged() {
    let mut sim = node();
    let (alice, _bob) = room_of_two(&mut sim);
    let echoing = super::irc::registered(&mut sim, "echo", "echo-message labeled-response batch");
    let quiet = super::irc::registered(&mut sim, "quiet", "labeled-response batch");
    for id in [echoing, quiet] {
        sim.send(id, "JOIN #rust");
    }
    sim.take(echoing);
    sim.take(quiet);
    sim.take_cluster_requests();
    sim.take(alice);
    sim.send(echoing, "@label=e1 PRIVMSG #rust :echoed");
    sim.send(quiet, "@label=q1 PRIVMSG #rust :not echoed");
    let [first, second] = <[Publication; 2]>::try_from(publications(&mut sim)).expect("two publications");
    feed(&mut sim, first.numbered(1)).expect("outstanding");
    feed(&mut sim, second.numbered(2)).expect("outstanding");
    let echoed = sim.take(echoing);
    assert_eq!(echoed.len(), 2, "its echo, then quiet's message: {echoed:?}");
    assert_eq!(echoed[0], "@label=e1 :echo!echo@chatd PRIVMSG #rust echoed\r");
    let quiet_lines = sim.take(quiet);
    assert!(quiet_lines.iter().any(|l| l.starts_with("@label=q1 :chatd ACK")), "{quiet_lines:?}");
    assert!(!quiet_lines.iter().any(|l| l.contains(":not echoed")), "{quiet_lines:?}");
    assert_eq!(sim.take(alice), ["[rust] echo: echoed", "[rust] quiet: not echoed"]);
}

#[test]
fn a_publication_the_store_could_not_keep_is_refused_as_a_failing_store_refuses() {
    let mut sim = node();
    let (alice, bob) = room_of_two(&mut sim);
    sim.send_json(bob, &json!({"type": "say", "room": "rust", "text": "lost", "id": 9}));
    let ticket = publications(&mut sim).pop().expect("a publication").ticket;
    sim.engine_mut().handle_publish_failed(ticket).expect("outstanding");
    sim.drain();
    let refusal = sim.take_json(bob);
    assert_eq!(refusal.len(), 1, "{refusal:?}");
    assert_eq!(
        (&refusal[0]["type"], &refusal[0]["code"], &refusal[0]["id"]),
        (&json!("error"), &json!("storage_unavailable"), &json!(9))
    );
    assert_eq!(sim.take(alice), Vec::<String>::new(), "nobody else is told");
    assert_eq!(sim.engine_mut().handle_publish_failed(ticket), Err(Error::UnknownTicket(ticket)), "answered once");
    // IRC never answers a NOTICE with an error.
    let irc = super::irc::registered(&mut sim, "irc", "");
    sim.send(irc, "JOIN #rust");
    sim.take(irc);
    sim.send(irc, "NOTICE #rust :quiet");
    let ticket = publications(&mut sim).pop().expect("a publication").ticket;
    sim.engine_mut().handle_publish_failed(ticket).expect("outstanding");
    sim.drain();
    assert_eq!(sim.take(irc), Vec::<String>::new());
}

#[test]
fn misuse_of_tickets_is_an_error_and_changes_nothing() {
    let mut sim = node();
    let (alice, bob) = room_of_two(&mut sim);
    let never = PublishTicket::from_u64(77);
    assert_eq!(sim.engine_mut().handle_publish_failed(never), Err(Error::UnknownTicket(never)));
    let forged = RoomMessage { ticket: Some(never), ..remote("rust", 1, "alice") };
    assert_eq!(feed(&mut sim, forged), Err(Error::UnknownTicket(never)));
    assert_eq!(heard(&mut sim, bob), [], "nothing delivered");
    sim.send(alice, "first");
    let publication = publications(&mut sim).pop().expect("a publication");
    // Its ticket is the rust room's, not another's.
    sim.send(alice, "/create other");
    sim.take_cluster_requests();
    let elsewhere = RoomMessage { room: "other".into(), ..publication.numbered(1) };
    assert_eq!(feed(&mut sim, elsewhere), Err(Error::UnknownTicket(publication.ticket)));
    sim.send(alice, "/join rust");
    sim.take_cluster_requests();
    feed(&mut sim, publication.numbered(1)).expect("outstanding");
    assert_eq!(heard(&mut sim, bob), [(1, "first".to_owned())]);
    // A repeat carrying the ticket again is harmless; a new number with it is misuse.
    assert_eq!(feed(&mut sim, publication.numbered(1)), Ok(()));
    assert_eq!(feed(&mut sim, publication.numbered(2)), Err(Error::UnknownTicket(publication.ticket)));
    assert_eq!(
        sim.engine_mut().handle_publish_failed(publication.ticket),
        Err(Error::UnknownTicket(publication.ticket))
    );
    assert_eq!(heard(&mut sim, bob), []);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn a_sender_who_left_meanwhile_is_no_error() {
    let mut sim = node();
    let (alice, bob) = room_of_two(&mut sim);
    sim.send(alice, "goodbye");
    let publication = publications(&mut sim).pop().expect("a publication");
    sim.disconnect(alice, crate::DisconnectReason::ConnectionClosed).expect("issued");
    feed(&mut sim, publication.numbered(1)).expect("the ticket is still outstanding");
    assert_eq!(heard(&mut sim, bob), [(1, "goodbye".to_owned())]);
}

#[test]
fn messages_after_a_gap_wait_for_it_and_repeats_are_dropped() {
    let mut sim = node();
    let (_alice, bob) = room_of_two(&mut sim);
    feed_carol(&mut sim, [3, 2, 3]);
    assert_eq!(heard(&mut sim, bob), [], "1 is missing");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
    feed_carol(&mut sim, [1]);
    assert_eq!(seqs_heard(&mut sim, bob), [1, 2, 3]);
    feed_carol(&mut sim, [2]);
    assert_eq!(heard(&mut sim, bob), []);
    assert_eq!(sim.engine().stats().cluster_duplicates, 2);
    assert_eq!(sim.engine().poll_timeout(), None, "the gap closed: no backfill is due");
}

#[test]
fn a_gap_still_open_after_the_wait_is_backfilled_and_again_after_each_wait() {
    let mut sim = node();
    let (_alice, bob) = room_of_two(&mut sim);
    feed_carol(&mut sim, [1, 4]);
    sim.advance(Duration::from_millis(249));
    assert_eq!(sim.take_cluster_requests(), []);
    sim.advance(Duration::from_millis(1));
    let backfill = ClusterRequest::Backfill { room: "rust".into(), after: 1, upto: 4 };
    assert_eq!(sim.take_cluster_requests(), std::slice::from_ref(&backfill));
    sim.advance(Duration::from_millis(250));
    assert_eq!(sim.take_cluster_requests(), [backfill], "still open: asked again");
    feed_carol(&mut sim, 2..=4);
    assert_eq!(seqs_heard(&mut sim, bob), [1, 2, 3, 4]);
    sim.advance(Duration::from_secs(5));
    assert_eq!(sim.take_cluster_requests(), [], "closed: not asked again");
    assert_eq!(sim.engine().stats().cluster_backfills, 2);
}

#[test]
fn a_room_over_its_bound_drops_what_it_holds_and_the_backfill_brings_it() {
    let mut sim = node_with(relaxed().with_cluster(true).with_cluster_max_held(2));
    let (_alice, bob) = room_of_two(&mut sim);
    feed_carol(&mut sim, [2, 3, 4]);
    assert_eq!(sim.engine().stats().cluster_held_dropped, 3);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
    sim.advance(Duration::from_millis(250));
    assert_eq!(sim.take_cluster_requests(), [ClusterRequest::Backfill { room: "rust".into(), after: 0, upto: 4 }]);
    feed_carol(&mut sim, 1..=4);
    assert_eq!(seqs_heard(&mut sim, bob), [1, 2, 3, 4]);
}

/// A client logged in to an account of its name: a room it creates keeps
/// its numbering when it empties, as a guest's would not.
fn account(sim: &mut Sim, name: &str) -> crate::ClientId {
    sim.set_auto_auth(true);
    let id = sim.connect();
    sim.send(id, &format!("/register {name} hunter22 hunter22"));
    sim.take(id);
    id
}

#[test]
fn a_room_is_followed_from_its_first_local_member_to_its_last() {
    let mut sim = node();
    let alice = account(&mut sim, "alice");
    let bob = sim.connect_json_as("bob");
    sim.send(alice, "/create rust");
    assert_eq!(sim.take_cluster_requests(), [ClusterRequest::Follow { room: "rust".into(), after: 0 }]);
    sim.send_json(bob, &json!({"type": "join", "room": "rust"}));
    assert_eq!(sim.take_cluster_requests(), [], "already followed");
    feed_carol(&mut sim, [1]);
    sim.send(alice, "/leave");
    assert_eq!(sim.take_cluster_requests(), []);
    sim.disconnect(bob, crate::DisconnectReason::ConnectionClosed).expect("issued");
    assert_eq!(sim.take_cluster_requests(), [ClusterRequest::Unfollow { room: "rust".into() }]);
    // A notification racing the unfollow is ignored.
    feed_carol(&mut sim, [2]);
    feed(&mut sim, remote("nowhere", 1, "carol")).expect("no ticket");
    assert_eq!(sim.engine().stats().cluster_ignored, 2);
    sim.send(alice, "/join rust");
    assert_eq!(sim.take_cluster_requests(), [ClusterRequest::Follow { room: "rust".into(), after: 1 }]);
}

#[test]
fn a_newcomer_to_a_stale_room_gets_the_ring_then_what_it_missed_in_order() {
    let mut sim = node();
    let alice = account(&mut sim, "alice");
    sim.send(alice, "/create rust");
    feed_carol(&mut sim, [1]);
    sim.send(alice, "/leave");
    sim.take_cluster_requests();
    let bob = sim.connect_json_as("bob");
    sim.send_json(bob, &json!({"type": "join", "room": "rust"}));
    assert_eq!(sim.take_cluster_requests(), [ClusterRequest::Follow { room: "rust".into(), after: 1 }]);
    let replay = sim.take_json(bob);
    let replayed: Vec<(u64, bool)> = replay
        .iter()
        .filter(|r| r["type"] == "message")
        .map(|r| (r["seq"].as_u64().unwrap_or(0), r["history"] == true))
        .collect();
    assert_eq!(replayed, [(1, true)], "the ring as it stands");
    // The backfill from 1 on and a live message, in any order.
    feed_carol(&mut sim, [3, 2, 4]);
    assert_eq!(seqs_heard(&mut sim, bob), [2, 3, 4]);
}

#[test]
fn a_dropped_room_is_unfollowed() {
    let mut sim = node();
    let owner = account(&mut sim, "owner");
    sim.send(owner, "/create club");
    feed(&mut sim, remote("club", 2, "carol")).expect("no ticket");
    sim.take_cluster_requests();
    sim.send(owner, "/drop club");
    assert_eq!(sim.take_cluster_requests(), [ClusterRequest::Unfollow { room: "club".into() }]);
    assert_eq!(sim.engine().poll_timeout(), None, "its gap went with it");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn blocks_apply_to_messages_from_other_nodes() {
    let mut sim = node();
    let (_alice, bob) = room_of_two(&mut sim);
    sim.send_json(bob, &json!({"type": "block", "nick": "carol"}));
    sim.take_json(bob);
    feed(&mut sim, remote("rust", 1, "Carol")).expect("no ticket");
    feed(&mut sim, remote("rust", 2, "dave")).expect("no ticket");
    assert_eq!(seqs_heard(&mut sim, bob), [2]);
}

#[test]
fn a_message_that_could_rewrite_a_terminal_is_passed_over() {
    let mut sim = node();
    let (alice, bob) = room_of_two(&mut sim);
    let damaged = RoomMessage { text: "\u{1b}[2Jgone".into(), ..remote("rust", 1, "carol") };
    feed(&mut sim, damaged).expect("no ticket");
    feed_carol(&mut sim, [2]);
    assert_eq!(seqs_heard(&mut sim, bob), [2], "numbered, not shown");
    assert_eq!(sim.take(alice), ["[rust] carol: message 2"]);
}

#[test]
fn a_lost_last_message_is_noticed_by_the_rooms_head_and_backfilled() {
    let mut sim = node();
    let (_alice, bob) = room_of_two(&mut sim);
    feed_carol(&mut sim, [1]);
    let now = sim.now();
    sim.engine_mut().handle_room_head(now, "rust", 1);
    sim.engine_mut().handle_room_head(now, "elsewhere", 9);
    assert_eq!(sim.engine().poll_timeout(), None, "nothing is missing");
    sim.engine_mut().handle_room_head(now, "RUST", 3);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
    sim.advance(Duration::from_millis(250));
    assert_eq!(sim.take_cluster_requests(), [ClusterRequest::Backfill { room: "rust".into(), after: 1, upto: 3 }]);
    feed_carol(&mut sim, 2..=3);
    assert_eq!(seqs_heard(&mut sim, bob), [1, 2, 3]);
    assert_eq!(sim.engine().poll_timeout(), None, "the gap closed");
}

#[test]
fn history_pages_come_from_the_store_which_may_hold_what_this_node_has_not_heard_yet() {
    let mut sim = node_with(relaxed().with_cluster(true).with_emit_records(true));
    let (_, bob) = room_of_two(&mut sim);
    feed_carol(&mut sim, 1..=3);
    sim.take(bob);
    sim.take_transcript();
    // Memory holds 1 to 3, but another node may have stored 4 already.
    sim.send_json(bob, &json!({"type": "history", "room": "rust"}));
    sim.send_json(bob, &json!({"type": "history", "room": "rust", "after": 1}));
    let fetches: Vec<crate::HistoryRange> = sim
        .take_transcript()
        .into_iter()
        .filter_map(|o| match o {
            Output::FetchHistory { range, .. } => Some(range),
            _ => None,
        })
        .collect();
    assert_eq!(fetches, [crate::HistoryRange::Before(4), crate::HistoryRange::After(1)]);
    assert!(sim.take(bob).is_empty(), "nothing is answered from memory");
}

/// Another node's drop of a room reaches this one while its publication
/// is on its way; the store numbered it in the room as it is after the
/// drop. Its first copy, to no room here, answers its ticket; the room is
/// then created again here, and the `Follow` backfill's copy is new to
/// it. That copy must come without the ticket to be delivered: carrying
/// the answered ticket again, it is refused and the gap never closes, so
/// a store read must not hand a ticket back (only the first copy does).
#[test]
fn a_ticket_answered_while_its_room_was_gone_comes_with_no_later_copy() {
    let mut sim = node();
    let (alice, bob) = room_of_two(&mut sim);
    sim.send(alice, "hello");
    let publication = publications(&mut sim).pop().expect("published");
    let now = sim.now();
    sim.engine_mut().handle_remote_record(now, crate::Record::RoomDropped { room: "rust".into() });
    sim.drain();
    feed(&mut sim, publication.numbered(1)).expect("a sender whose room went is no error");
    sim.send(alice, "/create rust");
    sim.send_json(bob, &json!({"type": "join", "room": "rust"}));
    sim.take(alice);
    sim.take(bob);
    assert_eq!(feed(&mut sim, publication.numbered(1)), Err(Error::UnknownTicket(publication.ticket)));
    assert_eq!(seqs_heard(&mut sim, bob), Vec::<u64>::new(), "refused: nothing delivered");
    let copy = RoomMessage { ticket: None, ..publication.numbered(1) };
    feed(&mut sim, copy).expect("a copy without its ticket");
    assert_eq!(seqs_heard(&mut sim, bob), [1]);
}
