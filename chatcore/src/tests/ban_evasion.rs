//! Shaking off a ban or a block by changing names: a banned member keeps
//! its name, bans hold accounts and hosts, and a block follows a renamed
//! connection. The logic in JSON, hosts and numerics over IRC.

use std::net::IpAddr;

#[cfg(feature = "json")]
use serde_json::{Value, json};

#[cfg(feature = "json")]
use super::support::{refusal, refused};
use super::{relaxed, sim};
use crate::sim::Sim;
use crate::{ClientId, CloakKey, Codec, ConnectInfo, Hosts};

/// alice operates `club`, where troll sits; both speak JSON.
#[cfg(feature = "json")]
fn club(sim: &mut Sim) -> (ClientId, ClientId) {
    let alice = sim.connect_json_as("alice");
    let troll = sim.connect_json_as("troll");
    sim.send_json(alice, &json!({"type": "create", "room": "club"}));
    sim.send_json(troll, &json!({"type": "join", "room": "club"}));
    sim.clear();
    (alice, troll)
}

#[cfg(feature = "json")]
fn mode(modes: &str, arg: &str) -> Value {
    json!({"type": "mode", "room": "club", "modes": modes, "args": [arg]})
}

#[cfg(feature = "json")]
fn nick(name: &str) -> Value {
    json!({"type": "nick", "nick": name})
}

#[cfg(feature = "json")]
#[test]
fn a_banned_member_cannot_change_nickname_in_the_room() {
    let mut sim = sim();
    let (alice, troll) = club(&mut sim);
    sim.send_json(alice, &mode("+b", "troll"));
    sim.clear();
    let expected =
        ("banned_nick_change".to_owned(), "you cannot change your nickname to nice while banned from club".to_owned());
    assert_eq!(refusal(&mut sim, troll, &nick("nice")), expected);
    // Voiced, it may: an operator let it speak.
    sim.send_json(alice, &mode("+v", "troll"));
    sim.send_json(troll, &nick("nice"));
    assert_eq!(sim.take_json(troll).last().unwrap(), &json!({"type": "nick", "old": "troll", "new": "nice"}));
    // Out of the room, the ban is no reason to keep a name.
    let other = sim.connect_json_as("other");
    sim.send_json(alice, &mode("+b", "other"));
    sim.send_json(other, &nick("another"));
    assert_eq!(sim.take_json(other), [json!({"type": "nick", "old": "other", "new": "another"})]);
}

#[test]
fn irc_is_told_435_when_a_ban_keeps_its_name() {
    let mut sim = sim();
    let alice = sim.connect_as("alice");
    sim.send(alice, "/create club");
    let troll = super::irc::registered(&mut sim, "troll", "");
    sim.send(troll, "JOIN #club");
    sim.send(alice, "/mode club +b troll!*@*");
    sim.clear();
    sim.send(troll, "NICK nice");
    assert_eq!(
        sim.take(troll),
        [":chatd 435 troll nice #club :you cannot change your nickname to nice while banned from club\r"]
    );
    assert_eq!(sim.engine().nick(troll), Some("troll"));
}

#[cfg(feature = "json")]
#[test]
fn an_account_ban_holds_whatever_the_nickname() {
    let mut sim = Sim::new(relaxed());
    sim.set_auto_auth(true);
    let alice = sim.connect_json_as("alice");
    sim.send_json(alice, &json!({"type": "create", "room": "club"}));
    sim.take(alice);
    sim.send_json(alice, &mode("+b", "~a:Troll"));
    let set = json!({"type": "mode", "room": "club", "by": "alice", "modes": "+b", "args": ["~a:Troll"]});
    assert_eq!(sim.take_json(alice), [set]);
    let troll = sim.connect_json_as("troll");
    sim.send_json(troll, &json!({"type": "register", "name": "troll", "password": "hunter22", "confirm": "hunter22"}));
    sim.clear();
    assert_eq!(refused(&mut sim, troll, &json!({"type": "join", "room": "club"})), "banned");
    // A guest under another name is not the account, and gets in.
    let guest = sim.connect_json_as("troll2");
    sim.send_json(guest, &json!({"type": "join", "room": "club"}));
    assert_eq!(sim.take_types(guest)[0], "joined");
    sim.clear();
    for bad in ["~a:", "~x:troll"] {
        let (code, message) = refusal(&mut sim, alice, &mode("+b", bad));
        assert_eq!(code, "invalid_mode_param", "{bad}");
        assert!(message.starts_with("invalid argument for mode b"), "{message}");
    }
}

fn irc_from(sim: &mut Sim, ip: &str, nick: &str) -> ClientId {
    let ip: IpAddr = ip.parse().unwrap();
    let id = sim.connect_with(ConnectInfo::new(Codec::Irc).from(ip));
    sim.send(id, &format!("NICK {nick}"));
    sim.send(id, &format!("USER {nick} 0 * :{nick}"));
    sim.take(id);
    id
}

#[test]
fn hosts_are_cloaked_per_source_and_a_host_ban_holds_across_nicknames() {
    let mut sim = Sim::new(relaxed().with_hosts(Hosts::Cloaked(CloakKey::new([9; 32]))));
    let alice = irc_from(&mut sim, "192.0.2.1", "alice");
    sim.send(alice, "JOIN #club");
    let troll = irc_from(&mut sim, "198.51.100.7", "troll");
    sim.clear();
    sim.send(troll, "JOIN #club");
    let joined = sim.take(alice);
    let prefix = joined[0].split(' ').next().unwrap().to_owned();
    let host = prefix.split('@').nth(1).unwrap().to_owned();
    assert!(host.ends_with(".cloak") && !host.contains("198"), "{joined:?}");
    // WHO and WHOIS show the same host; no address anywhere.
    sim.send(alice, "WHOIS troll");
    let whois = sim.take(alice);
    assert!(whois[0].starts_with(&format!(":chatd 311 alice troll troll {host} * ")), "{whois:?}");
    sim.send(alice, "WHO #club");
    let who = sim.take(alice);
    assert!(who.iter().any(|l| l.contains(&format!(" troll {host} chatd troll H "))), "{who:?}");
    assert!(!who.iter().chain(&whois).any(|l| l.contains("198.51")), "{who:?} {whois:?}");
    // A ban on the host keeps out the same source under any name.
    sim.send(alice, &format!("MODE #club +b *!*@{host}"));
    sim.send(alice, "KICK #club troll");
    sim.send(troll, "NICK innocent");
    sim.clear();
    sim.send(troll, "JOIN #club");
    assert!(sim.take(troll)[0].starts_with(":chatd 474 innocent #club "));
    let again = irc_from(&mut sim, "198.51.100.7", "third");
    sim.send(again, "JOIN #club");
    assert!(sim.take(again)[0].starts_with(":chatd 474 third #club "));
    // Another source is not held.
    let other = irc_from(&mut sim, "198.51.100.8", "other");
    sim.send(other, "JOIN #club");
    assert!(sim.take(other)[0].starts_with(":other!other@"));
}

#[test]
fn with_cloaking_off_hosts_are_addresses() {
    let mut sim = Sim::new(relaxed().with_hosts(Hosts::Addresses));
    let alice = irc_from(&mut sim, "192.0.2.1", "alice");
    sim.send(alice, "JOIN #club");
    assert!(sim.take(alice)[0].starts_with(":alice!alice@192.0.2.1 JOIN #club"));
}

#[cfg(feature = "json")]
#[test]
fn a_blocked_guest_that_renames_stays_blocked_for_its_connection() {
    let mut sim = sim();
    let (alice, troll) = club(&mut sim);
    let msg = |text: &str| json!({"type": "msg", "to": "alice", "text": text});
    sim.send_json(alice, &json!({"type": "block", "nick": "troll"}));
    sim.send_json(troll, &nick("nice"));
    sim.clear();
    sim.send_json(troll, &json!({"type": "say", "room": "club", "text": "hello again"}));
    assert_eq!(sim.take_json(alice), Vec::<Value>::new(), "the room message is not shown");
    assert_eq!(sim.take_types(troll), ["message"], "its own copy comes back all the same");
    assert_eq!(refused(&mut sim, troll, &msg("hi")), "blocked");
    // Someone else who takes the name it left is not blocked for it...
    let newcomer = sim.connect_json_as("troll2");
    sim.send_json(newcomer, &msg("hi"));
    assert_eq!(sim.take_types(alice), ["whisper"]);
    // ...and unblocking the name lets the renamed one be heard again.
    sim.send_json(alice, &json!({"type": "unblock", "nick": "troll"}));
    sim.clear();
    sim.send_json(troll, &msg("sorry"));
    assert_eq!(sim.take_types(alice), ["whisper"]);
    // Blocked again and gone: what it carried goes with it.
    sim.send_json(alice, &json!({"type": "block", "nick": "nice"}));
    sim.send_json(troll, &nick("nicer"));
    sim.disconnect(troll, crate::DisconnectReason::Quit(None)).unwrap();
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}
