//! Other nodes' users as local clients see them: in their rooms' news,
//! in `/who`, NAMES, `/users` and `/list`.

use super::Net;
use crate::{Codec, ConnectInfo, DisconnectReason, PresenceChange};

#[test]
fn roommates_on_another_node_are_told_of_joins_renames_parts_and_quits() {
    let mut net = Net::new(2);
    let alice = net.connect_as(0, "alice");
    let bob = net.connect_as(1, "bob");
    net.send(0, alice, "/join r1");
    net.settle();
    net.nodes[0].take(alice);
    net.send(1, bob, "/join r1");
    net.settle();
    assert_eq!(net.nodes[0].take(alice), ["* bob joined r1"]);
    assert!(net.nodes[1].take(bob)[0].contains("2"), "bob hears the room has two members");
    net.send(1, bob, "/nick robert");
    net.settle();
    assert_eq!(net.nodes[0].take(alice), ["* bob is now known as robert"]);
    net.send(1, bob, "/leave");
    net.settle();
    assert_eq!(net.nodes[0].take(alice), ["* robert left r1"]);
    net.send(1, bob, "/join r1");
    net.settle();
    net.nodes[0].take(alice);
    net.nodes[1].disconnect(bob, DisconnectReason::ConnectionClosed).unwrap();
    net.pump();
    net.settle();
    assert_eq!(net.nodes[0].take(alice), ["* robert disconnected (connection closed)"]);
    assert!(net.nodes[0].engine().world.remote.get(&crate::NameKey::of("robert")).is_none());
    assert_eq!(net.nodes[0].engine().check_invariants(), Ok(()));
}

#[test]
fn lists_count_and_name_remote_members() {
    let mut net = Net::new(2);
    let alice = net.connect_as(0, "alice");
    let bob = net.connect_as(1, "bob");
    let irc = net.nodes[0].connect_with(ConnectInfo::new(Codec::Irc));
    net.pump();
    net.settle();
    net.send(0, irc, "NICK carol");
    net.send(0, irc, "USER c 0 * :C");
    net.settle();
    net.send(0, alice, "/join r1");
    net.send(1, bob, "/join r1");
    net.send(0, irc, "JOIN #r1");
    net.settle();
    net.nodes[0].take(alice);
    net.nodes[0].take(irc);
    net.send(0, alice, "/who");
    let who = net.nodes[0].take(alice).join("\n");
    assert!(who.contains("alice") && who.contains("bob") && who.contains("carol"), "{who}");
    net.send(0, alice, "/list");
    let list = net.nodes[0].take(alice).join("\n");
    assert!(list.contains("r1 (3)") || list.contains("r1") && list.contains('3'), "{list}");
    net.send(0, alice, "/users");
    let users = net.nodes[0].take(alice).join("\n");
    assert!(users.contains("alice, bob, carol") || users.contains("bob"), "{users}");
    net.send(0, irc, "NAMES #r1");
    let names = net.nodes[0].take(irc).join("\n");
    assert!(names.contains(" 353 ") && names.contains("bob"), "{names}");
    assert_eq!(net.nodes[0].engine().room_summaries().find(|(r, _)| *r == "r1"), Some(("r1", 3)));
    assert_eq!(net.nodes[0].engine().stats().remote_users, 1);
}

#[test]
fn presence_this_node_cannot_apply_is_counted_and_ignored() {
    let mut net = Net::new(2);
    let alice = net.connect_as(0, "alice");
    net.send(0, alice, "/join r1");
    net.settle();
    let engine = net.nodes[0].engine_mut();
    let now = crate::Now::new(std::time::Instant::now(), 0);
    let changes = [
        // No room may be named so: it is not one whose creation is on its way.
        PresenceChange::Joined { room: "no where".into(), nick: "zed".into(), host: "h".into() },
        PresenceChange::Left { room: "r1".into(), nick: "zed".into(), reason: None },
        PresenceChange::Quit { nick: "zed".into(), reason: DisconnectReason::ConnectionClosed },
        PresenceChange::Renamed { old: "zed".into(), new: "zoe".into() },
    ];
    for change in changes {
        engine.handle_remote_presence(now, change);
    }
    assert_eq!(engine.stats().remote_presence_ignored, 4);
    assert_eq!(engine.check_invariants(), Ok(()));
    net.nodes[0].drain();
    assert_eq!(net.nodes[0].take(alice).len(), 1, "only its own join: {:?}", net.nodes[0].take(alice));
}

#[test]
fn remote_users_are_bounded_by_max_clients() {
    let mut net = Net::with_config(2, super::node_config().with_max_clients(2));
    let a = net.connect_as(0, "a1");
    let b = net.connect_as(0, "a2");
    net.send(0, a, "/join r1");
    net.send(0, b, "/join r1");
    net.settle();
    let engine = net.nodes[1].engine_mut();
    let now = crate::Now::new(std::time::Instant::now(), 0);
    engine
        .handle_remote_presence(now, PresenceChange::Joined { room: "r1".into(), nick: "a3".into(), host: "h".into() });
    assert_eq!(engine.stats().remote_users, 2);
    assert_eq!(engine.stats().remote_presence_ignored, 1);
}

#[test]
fn a_room_with_remote_members_does_not_expire() {
    let config = super::node_config().with_guest_room_idle_expiry(std::time::Duration::from_secs(60));
    let mut net = Net::with_config(2, config);
    let a = net.connect_as(0, "ann");
    let b = net.connect_as(1, "ben");
    net.send(0, a, "/join r2");
    net.send(1, b, "/join r2");
    net.settle();
    net.send(1, b, "/leave");
    net.settle();
    net.nodes[1].advance(std::time::Duration::from_secs(600));
    assert!(net.nodes[1].engine().room_summaries().any(|(room, members)| room == "r2" && members == 1));
}

#[test]
fn a_whisper_reaches_a_user_of_another_node_unless_blocked() {
    let mut net = Net::new(2);
    let alice = net.connect_as(0, "alice");
    let bob = net.connect_as(1, "bob");
    net.send(0, alice, "/join r1");
    net.send(1, bob, "/join r1");
    net.settle();
    net.nodes[0].take(alice);
    net.nodes[1].take(bob);
    net.send(0, alice, "/msg BOB psst");
    net.settle();
    assert_eq!(net.nodes[0].take(alice), ["[whisper to bob 22:13:20] psst"]);
    assert_eq!(net.nodes[1].take(bob), ["[whisper from alice 22:13:20] psst"]);
    net.send(1, bob, "/block alice");
    net.nodes[1].take(bob);
    net.send(0, alice, "/msg bob again");
    net.settle();
    assert_eq!(net.nodes[1].take(bob), Vec::<String>::new(), "blocked: dropped");
    assert_eq!(net.nodes[1].engine().stats().remote_whispers_dropped, 1);
    // A whisper to a name only a user in no room elsewhere holds is one to an unknown nick.
    let _carol = net.connect_as(1, "carol");
    net.send(0, alice, "/msg carol hi");
    assert_eq!(net.nodes[0].take(alice).last().map(String::as_str), Some("! nobody named carol is online"));
    assert!(net.whispers.is_empty());
}

#[test]
fn joining_a_guests_room_whose_members_are_on_another_node_makes_no_operator() {
    let mut net = Net::new(2);
    let alice = net.connect_as(0, "alice");
    let bob = net.connect_as(1, "bob");
    net.send(0, alice, "/create lounge");
    net.settle();
    net.send(1, bob, "/join lounge");
    net.settle();
    let key = crate::NameKey::of("lounge");
    let status = |node: usize, id| net.nodes[node].engine().world.rooms.get(&key).map(|room| room.members.status(id));
    assert!(status(0, alice).is_some_and(|status| status.operator), "the creator operates the room");
    assert!(status(1, bob).is_some_and(|status| !status.operator), "the room was not empty: alice is in it");
    assert_eq!(net.nodes[1].engine().check_invariants(), Ok(()));
}
