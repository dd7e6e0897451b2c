//! Durable changes one node stores, carried to the others by the feed and
//! applied there live: rooms, topics, modes and drops, accounts, blocks
//! and kept whispers. The feed (`Net::carry_record`) checks that a node
//! stores nothing again for what it applies.

use super::Net;
use crate::sim::Sim;
use crate::{ClientId, Codec, ConnectInfo, DisconnectReason, Engine, Output, PasswordHash, Record, StoredMessage};

/// `count` nodes whose password checks are answered at once.
fn net(count: usize) -> Net {
    let mut net = Net::new(count);
    for sim in &mut net.nodes {
        sim.set_auto_auth(true);
    }
    net
}

/// A client of `node` registered as `name` (password `hunter22`), settled.
fn registered(net: &mut Net, node: usize, name: &str) -> ClientId {
    let id = net.connect(node);
    net.send(node, id, &format!("/register {name} hunter22 hunter22"));
    net.settle();
    let told = net.nodes[node].take(id);
    assert_eq!(net.nodes[node].engine().account_of(id), Some(name), "{told:?}");
    id
}

/// A guest of `node` that logs in to `name`, settled.
fn logged_in(net: &mut Net, node: usize, name: &str) -> ClientId {
    let id = net.connect(node);
    net.send(node, id, &format!("/login {name} hunter22"));
    net.settle();
    let account = net.nodes[node].engine().account_of(id).map(str::to_owned);
    assert_eq!(account.as_deref(), Some(name));
    id
}

fn quit(net: &mut Net, node: usize, id: ClientId) {
    net.nodes[node].disconnect(id, DisconnectReason::ConnectionClosed).unwrap();
    net.pump();
    net.settle();
}

fn assert_invariants(net: &Net) {
    for sim in &net.nodes {
        assert_eq!(sim.engine().check_invariants(), Ok(()));
    }
}

#[test]
fn a_room_created_on_one_node_is_joined_on_another() {
    let mut net = net(2);
    let alice = net.connect_as(0, "alice");
    let bob = net.connect_as(1, "bob");
    net.send(0, alice, "/create rust");
    net.settle();
    assert_eq!(net.nodes[1].engine().room_count(), 4);
    net.nodes[0].take(alice);
    net.send(1, bob, "/join rust");
    net.settle();
    assert_eq!(net.nodes[1].engine().rooms_of(bob), Some(vec!["rust"]));
    assert_eq!(net.nodes[0].take(alice), ["* bob joined rust"]);
    assert_eq!(net.nodes[1].engine().stats().remote_records_ignored, 0);
    assert_invariants(&net);
}

#[test]
fn members_who_joined_before_the_rooms_record_came_are_in_it_once_it_does() {
    let mut net = net(2);
    let alice = net.connect_as(0, "alice");
    let bob = net.connect_as(1, "bob");
    net.send(0, alice, "/create rust");
    net.pump();
    // The presence bus is faster than the feed here.
    while net.deliver() {}
    assert_eq!(net.nodes[1].engine().stats().remote_users, 1, "alice waits for her room");
    assert_eq!(net.nodes[1].engine().check_invariants(), Ok(()));
    net.settle();
    net.send(1, bob, "/join rust");
    net.settle();
    assert!(net.nodes[1].take(bob).iter().any(|l| l.contains("rust (2 here)")), "alice is in it");
    assert_eq!(net.seen_rooms(1), net.true_rooms());
    net.send(0, alice, "/leave");
    net.settle();
    assert_eq!(net.seen_rooms(1), net.true_rooms());
    assert_eq!(net.nodes[1].engine().stats().remote_presence_ignored, 0);
    assert_invariants(&net);
}

#[test]
fn a_room_created_here_while_another_nodes_was_on_its_way_takes_that_nodes_members() {
    let mut net = net(2);
    let alice = net.connect_as(0, "alice");
    let bob = net.connect_as(1, "bob");
    net.send(0, alice, "/create rust");
    net.pump();
    while net.deliver() {}
    // Node 1 has not had node 0's record yet: bob creates the room anew there.
    net.send(1, bob, "/create rust");
    assert!(net.nodes[1].take(bob).iter().any(|l| l.contains("rust (2 here)")), "alice is in it");
    net.settle();
    assert_eq!(net.seen_rooms(0), net.true_rooms());
    assert_eq!(net.seen_rooms(1), net.true_rooms());
    assert_eq!(net.nodes[1].engine().stats().remote_records_ignored, 1, "created twice: the second is ignored");
    assert_invariants(&net);
}

#[test]
fn a_topic_set_on_one_node_is_told_to_members_on_another_in_their_codecs() {
    let mut net = net(2);
    let alice = net.connect_as(0, "alice");
    let bob = net.connect_as(1, "bob");
    let irc = net.nodes[1].connect_with(ConnectInfo::new(Codec::Irc));
    net.pump();
    net.settle();
    net.send(1, irc, "NICK carol");
    net.send(1, irc, "USER c 0 * :C");
    net.settle();
    for (node, id, line) in [(0, alice, "/join r1"), (1, bob, "/join r1"), (1, irc, "JOIN #r1")] {
        net.send(node, id, line);
        net.settle();
    }
    net.nodes[1].take(bob);
    net.nodes[1].take(irc);
    net.send(0, alice, "/topic all about rust");
    net.settle();
    assert_eq!(net.nodes[1].take(bob), ["* alice set the topic of r1: all about rust"]);
    let now = net.nodes[1].now();
    let set = net.nodes[0].engine().world.rooms[&crate::NameKey::of("r1")].topic.clone().expect("set");
    let again = Record::TopicSet { room: "r1".into(), topic: Some(set.text), by: set.set_by, unix_ms: set.unix_ms };
    net.nodes[1].engine_mut().handle_remote_record(now, again);
    net.nodes[1].drain();
    assert!(net.nodes[1].take(bob).is_empty(), "a repeat of the record changes nothing");
    assert_eq!(net.nodes[1].take(irc), [":alice!alice@chatd TOPIC #r1 :all about rust\r"]);
    net.send(1, bob, "/topic");
    assert!(net.nodes[1].take(bob)[0].starts_with("* topic of r1: all about rust (set by alice"));
    net.send(0, alice, "/topic -");
    net.settle();
    assert_eq!(net.nodes[1].take(bob), ["* alice cleared the topic of r1"]);
    assert_invariants(&net);
}

#[test]
fn a_ban_set_on_one_node_refuses_a_join_on_another_and_is_told_there() {
    let mut net = net(2);
    let alice = net.connect_as(0, "alice");
    let bob = net.connect_as(1, "bob");
    let carol = net.connect_as(1, "carol");
    net.send(0, alice, "/create den");
    net.settle();
    net.send(1, bob, "/join den");
    net.settle();
    net.nodes[1].take(bob);
    net.send(0, alice, "/mode den +bk carol!*@* sesame");
    net.settle();
    let server = net.nodes[1].engine().config().server_name.clone();
    assert_eq!(net.nodes[1].take(bob), [format!("* {server} set mode +k+b sesame carol!*@* on den")]);
    net.send(1, carol, "/join den sesame");
    assert_eq!(net.nodes[1].take(carol), ["! you are banned from den"]);
    net.send(0, alice, "/mode den -b carol!*@*");
    net.settle();
    assert_eq!(net.nodes[1].take(bob), [format!("* {server} set mode -b carol!*@* on den")]);
    net.send(1, carol, "/join den");
    assert!(net.nodes[1].take(carol)[0].starts_with("! "), "the key still holds");
    net.send(1, carol, "/join den sesame");
    net.settle();
    assert_eq!(net.nodes[1].engine().rooms_of(carol), Some(vec!["den"]));
    assert_invariants(&net);
}

#[test]
fn modes_from_another_node_keep_the_invitations_of_this_ones_sessions() {
    let mut net = net(2);
    let alice = net.connect_as(0, "alice");
    let bob = net.connect_as(1, "bob");
    let carol = net.connect_as(1, "carol");
    net.send(1, bob, "/create den");
    net.send(1, bob, "/mode den +i");
    net.send(1, bob, "/invite carol den");
    net.settle();
    net.send(0, alice, "/join den");
    net.settle();
    let told = net.nodes[0].take(alice);
    assert!(told.iter().any(|l| l.starts_with("! ")), "invite only, on node 0 too: {told:?}");
    // A change made on node 0 would be by an operator there; here it comes as a record.
    let now = net.nodes[1].now();
    let mut modes =
        net.nodes[1].engine().world.stored_modes(&net.nodes[1].engine().world.rooms[&crate::NameKey::of("den")].modes);
    modes.moderated = true;
    net.nodes[1].engine_mut().handle_remote_record(now, Record::RoomModesSet { room: "den".into(), modes });
    net.nodes[1].drain();
    net.send(1, carol, "/join den");
    net.settle();
    assert_eq!(net.nodes[1].engine().rooms_of(carol), Some(vec!["den"]), "still invited");
    assert_invariants(&net);
}

#[test]
fn a_room_dropped_on_one_node_is_gone_on_another_and_its_members_are_told() {
    let mut net = net(2);
    let alice = registered(&mut net, 0, "alice");
    let bob = net.connect_as(1, "bob");
    net.send(0, alice, "/create den");
    net.send(0, alice, "/say hello");
    net.settle();
    net.send(1, bob, "/join den");
    net.settle();
    net.nodes[1].take(bob);
    net.nodes[1].take_cluster_requests();
    net.send(0, alice, "/drop den");
    net.settle();
    assert_eq!(net.nodes[1].take(bob), ["* room den was dropped by alice"]);
    assert_eq!(net.nodes[1].engine().rooms_of(bob), Some(vec![]));
    assert_eq!(net.nodes.iter().map(|n| n.engine().room_count()).collect::<Vec<_>>(), [3, 3]);
    // Node 1's presence in it ended for the others, as after a drop there.
    assert!(!net.true_rooms().contains_key(&crate::NameKey::of("den")));
    assert_eq!(net.seen_rooms(0), net.true_rooms());
    assert_invariants(&net);
}

#[test]
fn a_drop_from_another_node_emits_the_presence_and_unfollow_of_a_local_drop() {
    let mut sim = Sim::new(super::node_config());
    sim.set_sole_node(true);
    let bob = sim.connect_as("bob");
    let now = sim.now();
    let create = Record::RoomCreated { room: "den".into(), unix_ms: 1, owner: Some("alice".into()) };
    sim.engine_mut().handle_remote_record(now, create);
    sim.drain();
    sim.send(bob, "/join den");
    sim.take(bob);
    sim.take_cluster_requests();
    sim.take_transcript();
    sim.engine_mut().handle_remote_record(now, Record::RoomDropped { room: "den".into() });
    sim.drain();
    assert_eq!(sim.take(bob), ["* room den was dropped by alice"]);
    let requests = sim.take_cluster_requests();
    assert!(matches!(&requests[..], [crate::ClusterRequest::Unfollow { room }] if &**room == "den"), "{requests:?}");
    assert!(!sim.take_transcript().iter().any(|o| matches!(o, Output::Persist(_))));
    assert_eq!(sim.engine().room_count(), 0);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn an_account_registered_on_one_node_logs_in_on_another_with_its_blocks() {
    let mut net = net(2);
    let dave = registered(&mut net, 0, "dave");
    net.send(0, dave, "/block eve");
    net.settle();
    quit(&mut net, 0, dave);
    assert_eq!(net.nodes[1].engine().account_count(), 1);
    let dave = logged_in(&mut net, 1, "dave");
    net.nodes[1].take(dave);
    net.send(1, dave, "/blocked");
    assert!(net.nodes[1].take(dave).join("\n").contains("eve"));
    net.send(1, dave, "/unblock eve");
    net.settle();
    quit(&mut net, 1, dave);
    let dave = logged_in(&mut net, 0, "dave");
    net.nodes[0].take(dave);
    net.send(0, dave, "/blocked");
    assert!(!net.nodes[0].take(dave).join("\n").contains("eve"), "unblocked on node 1");
    assert_invariants(&net);
}

#[test]
fn a_whisper_kept_on_one_node_is_delivered_on_another_at_once_or_at_login() {
    let mut net = net(2);
    let dave = registered(&mut net, 1, "dave");
    quit(&mut net, 1, dave);
    let frank = registered(&mut net, 0, "frank");
    net.send(0, frank, "/msg dave first");
    net.settle();
    assert_eq!(net.nodes[1].engine().offline_len("dave"), Some(1));
    let dave = net.connect(1);
    net.send(1, dave, "/login dave hunter22");
    net.settle();
    let told = net.nodes[1].take(dave);
    assert!(told.iter().any(|l| l.contains("frank") && l.ends_with("first")), "{told:?}");
    assert_eq!(net.nodes.iter().map(|n| n.engine().offline_len("dave")).collect::<Vec<_>>(), [Some(0), Some(0)]);
    // Online on node 1 but in no room, dave is offline as node 0 sees it.
    net.send(0, frank, "/msg dave second");
    net.settle();
    let told = net.nodes[1].take(dave);
    assert!(matches!(&told[..], [line] if line.contains("frank") && line.ends_with("second")), "{told:?}");
    assert_eq!(net.nodes.iter().map(|n| n.engine().offline_len("dave")).collect::<Vec<_>>(), [Some(0), Some(0)]);
    assert_invariants(&net);
}

#[test]
fn records_that_do_not_apply_are_counted_and_change_nothing() {
    let mut sim = Sim::new(super::node_config());
    let now = sim.now();
    let hash = PasswordHash::new("h");
    let message =
        StoredMessage { seq: 1, from: "x".into(), text: "t".into(), unix_ms: 1, kind: crate::MessageKind::Said };
    let records = [
        Record::TopicSet { room: "nowhere".into(), topic: Some("t".into()), by: "x".into(), unix_ms: 1 },
        Record::RoomDropped { room: "nowhere".into() },
        Record::RoomVacated { room: "nowhere".into(), unix_ms: 1 },
        Record::Message { room: "r1".into(), message },
        Record::Blocked { account: "nobody".into(), name: "x".into() },
        Record::OfflineDelivered { to: "nobody".into() },
        Record::RoomCreated { room: "r1".into(), unix_ms: 1, owner: None },
        Record::AccountCreated { name: "dave".into(), hash: hash.clone(), unix_ms: 1 },
        Record::AccountCreated { name: "DAVE".into(), hash, unix_ms: 1 },
        Record::RoomCreated { room: "#bad name".into(), unix_ms: 1, owner: None },
    ];
    let engine: &mut Engine = sim.engine_mut();
    engine.handle_remote_record(now, Record::RoomCreated { room: "r1".into(), unix_ms: 0, owner: None });
    for record in records {
        engine.handle_remote_record(now, record);
    }
    assert_eq!(engine.stats().remote_records_ignored, 9, "all but the first account");
    assert_eq!((engine.room_count(), engine.account_count(), engine.history_len("r1")), (1, 1, Some(0)));
    assert_eq!(engine.poll_output(), None);
    assert_eq!(engine.check_invariants(), Ok(()));
}

#[test]
fn applied_records_are_not_stored_again() {
    let mut sim = Sim::new(super::node_config());
    let now = sim.now();
    let hash = PasswordHash::new("h");
    let records = [
        Record::RoomCreated { room: "den".into(), unix_ms: 1, owner: Some("dave".into()) },
        Record::AccountCreated { name: "dave".into(), hash, unix_ms: 1 },
        Record::TopicSet { room: "den".into(), topic: Some("t".into()), by: "dave".into(), unix_ms: 2 },
        Record::KnownSource { account: "dave".into(), source: crate::SourceKey::UNKNOWN },
        Record::LastSeen { account: "dave".into(), unix_ms: 3 },
        Record::Blocked { account: "dave".into(), name: "eve".into() },
        Record::Whisper {
            to: "dave".into(),
            message: StoredMessage {
                seq: 7,
                from: "frank".into(),
                text: "t".into(),
                unix_ms: 4,
                kind: crate::MessageKind::Said,
            },
        },
        Record::OfflineKept { to: "dave".into(), from: "frank".into(), text: "t".into(), unix_ms: 4, seq: Some(7) },
        Record::RoomVacated { room: "den".into(), unix_ms: 5 },
        Record::Unblocked { account: "dave".into(), name: "eve".into() },
    ];
    let engine = sim.engine_mut();
    // A feed may repeat itself: each applies once.
    for record in records.iter().chain(&records[1..]) {
        engine.handle_remote_record(now, record.clone());
    }
    assert_eq!(engine.poll_output(), None);
    assert_eq!(engine.stats().remote_records_ignored, 1, "the account created twice");
    assert_eq!(engine.offline_len("dave"), Some(1));
    assert_eq!(engine.world.accounts.next_whisper_seq(), 8, "the next whisper is numbered past the stored one");
    assert_eq!(engine.check_invariants(), Ok(()));
}

#[test]
fn a_last_seen_time_from_another_node_leaves_a_session_here_online() {
    let mut net = net(2);
    let dave = registered(&mut net, 0, "dave");
    let now = net.nodes[0].now();
    net.nodes[0].engine_mut().handle_remote_record(now, Record::LastSeen { account: "dave".into(), unix_ms: 1 });
    net.nodes[0].drain();
    assert!(net.nodes[0].engine().world.accounts.seen_from(None).next().is_none(), "dave is online here");
    quit(&mut net, 0, dave);
    let seen: Vec<_> = net.nodes[1].engine().world.accounts.seen_from(None).map(|(_, a)| a.name.clone()).collect();
    assert_eq!(seen, [Box::from("dave")], "seen as it left node 0");
    assert_invariants(&net);
}
