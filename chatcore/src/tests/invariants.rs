//! `Engine::check_invariants` notices each kind of corruption.

use std::time::Duration;

use crate::InvariantViolation as V;
use crate::codec::Wire;
use crate::names::NameKey;
use crate::sim::Sim;
use crate::{ClientId, Config};

/// alice (text) in `rust`, bob (JSON, if built) in `rust` and `go`, a silent guest.
fn populated() -> (Sim, ClientId, ClientId, ClientId) {
    let mut sim = Sim::new(super::relaxed().with_history_len(2));
    let a = sim.connect_as("alice");
    let b = sim.connect();
    sim.send(a, "/create rust");
    #[cfg(feature = "json")]
    {
        sim.send(b, r#"{"type":"nick","nick":"bob"}"#);
        sim.send(b, r#"{"type":"join","room":"rust"}"#);
        sim.send(b, r#"{"type":"create","room":"go"}"#);
    }
    #[cfg(not(feature = "json"))]
    sim.send(b, "/nick bob");
    sim.send(a, "hello");
    let guest = sim.connect();
    assert_eq!(sim.engine().check_invariants(), Ok(()));
    (sim, a, b, guest)
}

fn check(sim: &mut Sim, corrupt: impl FnOnce(&mut crate::Engine)) -> V {
    corrupt(sim.engine_mut());
    sim.engine().check_invariants().expect_err("corruption goes unnoticed")
}

#[test]
fn a_fresh_engine_and_a_busy_one_are_consistent() {
    assert_eq!(crate::Engine::new(Config::default()).unwrap().check_invariants(), Ok(()));
    populated();
}

#[test]
fn client_and_room_limits() {
    let (mut sim, ..) = populated();
    let v = check(&mut sim, |e| e.world.config.max_clients = 2);
    assert_eq!(v, V::TooManyClients { count: 3, max: 2 });
    assert_eq!(v.to_string(), "3 clients connected, over max_clients 2");
    let (mut sim, ..) = populated();
    let rooms = sim.engine().room_count();
    assert_eq!(check(&mut sim, |e| e.world.config.max_rooms = 0), V::TooManyRoomsExist { count: rooms, max: 0 });
}

#[test]
fn nickname_index() {
    let (mut sim, a, b, _) = populated();
    let v = check(&mut sim, |e| e.world.clients.get_mut(&a).unwrap().nick = "Alicia".into());
    assert!(matches!(v, V::NickKeyMismatch { client, .. } if client == a), "{v:?}");

    let (mut sim, a, b2, _) = populated();
    let _ = b;
    // Two clients with one folded nickname.
    let v = check(&mut sim, |e| {
        let c = e.world.clients.get_mut(&b2).unwrap();
        c.nick = "ALICE".into();
        c.nick_key = NameKey::of("alice");
    });
    assert!(matches!(v, V::NickNotIndexed { client, indexed: Some(owner), .. } if client == b2 && owner == a), "{v:?}");

    let (mut sim, ..) = populated();
    let v = check(&mut sim, |e| {
        e.world.names.insert_unchecked(NameKey::of("ghost"), ClientId(77));
    });
    assert!(matches!(v, V::StaleNick { .. }), "{v:?}");
}

#[test]
fn memberships_both_ways() {
    let (mut sim, a, _, guest) = populated();
    let v = check(&mut sim, |e| {
        e.world.rooms.get_mut(&NameKey::of("rust")).unwrap().members.remove(a);
    });
    assert_eq!(v, V::NotAMember { client: a, room: "rust".into() });

    let (mut sim, _, _, guest2) = populated();
    let _ = guest;
    let v = check(&mut sim, |e| {
        e.world.rooms.get_mut(&NameKey::of("rust")).unwrap().members.insert(guest2, Wire::Text);
    });
    assert_eq!(v, V::UnlistedMember { room: "rust".into(), client: guest2 });

    let (mut sim, a, ..) = populated();
    let v = check(&mut sim, |e| e.world.clients.get_mut(&a).unwrap().rooms.push(NameKey::of("atlantis")));
    assert!(matches!(v, V::MissingRoom { client, .. } if client == a), "{v:?}");

    let (mut sim, a, ..) = populated();
    let v = check(&mut sim, |e| e.world.clients.get_mut(&a).unwrap().rooms.push(NameKey::of("rust")));
    assert_eq!(v, V::DuplicateMembership { client: a, room: "rust".into() });

    let (mut sim, ..) = populated();
    let v = check(&mut sim, |e| {
        let room = e.world.rooms.remove(&NameKey::of("rust")).unwrap();
        e.world.rooms.insert_unchecked(NameKey::of("rusty"), room);
    });
    assert!(matches!(v, V::MissingRoom { .. } | V::RoomKeyMismatch { .. }), "{v:?}");
}

#[cfg(feature = "json")]
#[test]
fn codecs_and_room_counts_per_client() {
    let (mut sim, a, b, _) = populated();
    let v = check(&mut sim, |e| {
        e.world.rooms.get_mut(&NameKey::of("rust")).unwrap().members.insert(a, Wire::Json);
        e.world.rooms.get_mut(&NameKey::of("rust")).unwrap().members.remove(a);
        e.world.rooms.get_mut(&NameKey::of("rust")).unwrap().members.insert(a, Wire::Json);
    });
    assert_eq!(v, V::CodecMismatch { room: "rust".into(), client: a });

    let (mut sim, _, b2, _) = populated();
    let _ = b;
    assert_eq!(
        check(&mut sim, |e| e.world.config.max_rooms_per_client = 1),
        V::TooManyRooms { client: b2, rooms: 2, max: 1 }
    );

    let (mut sim, a, b, _) = populated();
    let _ = b;
    let v = check(&mut sim, |e| {
        let go = NameKey::of("go");
        e.world.clients.get_mut(&a).unwrap().rooms.push(go.clone());
        e.world.rooms.get_mut(&go).unwrap().members.insert(a, Wire::Text);
    });
    assert_eq!(v, V::TextInSeveralRooms { client: a, rooms: 2 });
}

#[test]
fn history_cap() {
    let (mut sim, ..) = populated();
    let v = check(&mut sim, |e| {
        let room = e.world.rooms.get_mut(&NameKey::of("rust")).unwrap();
        let mut entry = room.history.iter().next().unwrap().clone();
        for _ in 0..3 {
            entry.seq = room.next_seq;
            room.next_seq += 1;
            room.history.push(10, entry.clone());
        }
    });
    assert_eq!(v, V::HistoryOverCap { room: "rust".into(), len: 4, max: 2 });
}

#[test]
fn room_lists() {
    let (mut sim, ..) = populated();
    let v = check(&mut sim, |e| {
        let modes = &mut e.world.rooms.get_mut(&NameKey::of("rust")).unwrap().modes;
        modes.operators_mut().extend([NameKey::of("alice"), NameKey::of("Alice")]);
    });
    assert_eq!(v, V::RoomListsOverCap { room: "rust".into() });
}

#[test]
fn history_order() {
    let (mut sim, a, ..) = populated();
    sim.send(a, "again");
    let v = check(&mut sim, |e| e.world.rooms.get_mut(&NameKey::of("rust")).unwrap().next_seq = 1);
    assert_eq!(v, V::HistoryOrder { room: "rust".into() });
}

#[test]
fn deadlines() {
    let (mut sim, _, _, guest) = populated();
    let v = check(&mut sim, |e| {
        let client = e.world.clients.get_mut(&guest).unwrap();
        e.world.timers.disarm(guest, client);
    });
    assert_eq!(v, V::DeadlineMismatch { client: guest });

    let (mut sim, a, ..) = populated();
    let at = sim.now().instant;
    let v = check(&mut sim, |e| e.world.clients.get_mut(&a).unwrap().timer = Some(at));
    assert_eq!(v, V::DeadlineMismatch { client: a });

    let (mut sim, a, ..) = populated();
    let v = check(&mut sim, |e| {
        let client = e.world.clients.get_mut(&a).unwrap();
        client.registration_deadline = Some(client.last_activity + Duration::from_secs(1));
    });
    assert_eq!(v, V::DeadlineMismatch { client: a }, "a client that has spoken has no registration deadline");

    let (mut sim, _, _, guest) = populated();
    let v = check(&mut sim, |e| {
        e.world.clients.get_mut(&guest).unwrap().timer = None;
    });
    assert!(matches!(v, V::DeadlineMismatch { .. } | V::StaleTimers { .. }), "{v:?}");
}
