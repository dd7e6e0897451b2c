//! Room operators: modes (key, limit, invite-only, moderated, secret,
//! topic lock, bans), kicks and invitations: their logic in JSON, and their
//! forms in the text protocol and over IRC.

#[cfg(feature = "json")]
use serde_json::{Value, json};

#[cfg(feature = "json")]
use super::support::refused;
use super::{relaxed, sim};
#[cfg(feature = "json")]
use crate::ClientId;
use crate::sim::Sim;
use crate::{Codec, ConnectInfo};

/// alice created `club` (so she operates it); bob is online in the Lobby.
#[cfg(feature = "json")]
fn club() -> (Sim, ClientId, ClientId) {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    sim.send_json(a, &json!({"type": "create", "room": "club"}));
    let b = sim.connect_json_as("bob");
    sim.take(a);
    (sim, a, b)
}

/// A `mode` request on `club`: `modes` and its `args`.
#[cfg(feature = "json")]
fn mode(modes: &str, args: &[&str]) -> Value {
    json!({"type": "mode", "room": "club", "modes": modes, "args": args})
}

/// What every member is told when `by` changes the modes of `club`.
#[cfg(feature = "json")]
fn changed(by: &str, modes: &str, args: &[&str]) -> Value {
    json!({"type": "mode", "room": "club", "by": by, "modes": modes, "args": args})
}

#[cfg(feature = "json")]
fn join(key: Option<&str>) -> Value {
    json!({"type": "join", "room": "club", "key": key})
}

#[cfg(feature = "json")]
#[test]
fn a_key_and_a_limit_keep_people_out_and_every_member_sees_the_change() {
    let (mut sim, a, b) = club();
    sim.send_json(a, &mode("+k", &["beer"]));
    assert_eq!(sim.take_json(a), [changed("alice", "+k", &["beer"])]);
    assert_eq!(refused(&mut sim, b, &join(None)), "bad_room_key");
    assert_eq!(refused(&mut sim, b, &join(Some("bees"))), "bad_room_key");
    sim.send_json(b, &join(Some("beer")));
    assert_eq!(sim.take_json(b)[0], json!({"type": "joined", "room": "club", "nick": "bob", "members": 2}));
    sim.send_json(a, &mode("-k+l", &["2"]));
    assert_eq!(
        sim.take_json(a),
        [json!({"type": "joined", "room": "club", "nick": "bob", "members": 2}), changed("alice", "-k+l", &["2"])]
    );
    assert_eq!(sim.take_json(b), [changed("alice", "-k+l", &["2"])]);
    let c = sim.connect_json_as("carol");
    assert_eq!(refused(&mut sim, c, &join(None)), "room_full");
    sim.send_json(b, &json!({"type": "mode", "room": "club"}));
    assert_eq!(sim.take_json(b), [json!({"type": "modes", "room": "club", "modes": "+nl 2"})]);
    assert_eq!(refused(&mut sim, b, &mode("-l", &[])), "not_operator");
}

#[cfg(feature = "json")]
#[test]
fn invite_only_rooms_take_whoever_an_operator_invites_once() {
    let (mut sim, a, b) = club();
    sim.send_json(a, &mode("+i", &[]));
    sim.take(a);
    assert_eq!(refused(&mut sim, b, &join(None)), "invite_only");
    sim.send_json(a, &json!({"type": "invite", "nick": "bob", "room": "club"}));
    let invited = || json!({"type": "invited", "room": "club", "by": "alice", "nick": "bob"});
    assert_eq!(sim.take_json(a), [invited()]);
    assert_eq!(sim.take_json(b), [invited()]);
    sim.send_json(b, &join(None));
    assert_eq!(sim.take_types(b)[0], "joined");
    sim.send_json(b, &json!({"type": "leave", "room": "club"}));
    sim.take(b);
    assert_eq!(refused(&mut sim, b, &join(None)), "invite_only", "used up");
    sim.take(a);
    assert_eq!(refused(&mut sim, a, &json!({"type": "invite", "nick": "alice", "room": "club"})), "already_on_channel");
}

#[cfg(feature = "json")]
#[test]
fn a_moderated_room_hears_only_operators_and_voiced_members() {
    let (mut sim, a, b) = club();
    sim.send_json(b, &join(None));
    sim.send_json(a, &mode("+m", &[]));
    sim.take(a);
    sim.take(b);
    let say = |text: &str| json!({"type": "say", "room": "club", "text": text});
    assert_eq!(refused(&mut sim, b, &say("hello?")), "cannot_speak");
    sim.send_json(a, &mode("+v", &["bob"]));
    assert_eq!(sim.take_json(b), [changed("alice", "+v", &["bob"])]);
    sim.send_json(b, &say("hello!"));
    let heard = sim.take_json(a).pop().unwrap();
    assert_eq!((&heard["type"], &heard["from"], &heard["text"]), (&json!("message"), &json!("bob"), &json!("hello!")));
    assert_eq!(refused(&mut sim, a, &mode("+o", &["nobody"])), "not_on_channel");
}

#[cfg(feature = "json")]
#[test]
fn a_kick_tells_everyone_and_puts_the_member_back_in_the_lobby() {
    let (mut sim, a, b) = club();
    sim.send_json(b, &join(None));
    sim.take(a);
    sim.take(b);
    let kick =
        |nick: &str, reason: Option<&str>| json!({"type": "kick", "room": "club", "nick": nick, "reason": reason});
    assert_eq!(refused(&mut sim, b, &kick("alice", None)), "not_operator");
    sim.send_json(a, &kick("bob", Some("enough of that")));
    let kicked = || json!({"type": "kicked", "room": "club", "by": "alice", "nick": "bob", "reason": "enough of that"});
    assert_eq!(sim.take_json(a), [kicked()]);
    assert_eq!(sim.take_json(b), [kicked()]);
    assert_eq!(sim.engine().rooms_of(b), Some(vec![]));
    assert_eq!(refused(&mut sim, b, &json!({"type": "say", "text": "still here?"})), "in_lobby");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[cfg(feature = "json")]
#[test]
fn bans_keep_matching_names_out_and_secret_rooms_are_unlisted() {
    let (mut sim, a, b) = club();
    sim.send_json(a, &mode("+b", &["bo*"]));
    assert_eq!(sim.take_json(a), [changed("alice", "+b", &["bo*!*@*"])]);
    assert_eq!(refused(&mut sim, b, &join(None)), "banned");
    sim.send_json(a, &mode("+b", &[]));
    assert_eq!(sim.take_json(a), [json!({"type": "bans", "room": "club", "masks": ["bo*!*@*"]})]);
    sim.send_json(a, &mode("-b+s", &["bo*"]));
    sim.take(a);
    let rooms =
        |rooms: Value| json!({"type": "rooms", "rooms": rooms, "total": rooms.as_array().unwrap().len(), "next": null});
    sim.send_json(b, &json!({"type": "list"}));
    assert_eq!(sim.take_json(b), [rooms(json!([]))]);
    sim.send_json(a, &json!({"type": "list"}));
    assert_eq!(sim.take_json(a), [rooms(json!([{"name": "club", "members": 1}]))]);
    assert_eq!(refused(&mut sim, a, &mode("+x", &[])), "unknown_mode");
}

#[cfg(feature = "json")]
#[test]
fn whoever_joins_a_guests_room_empty_operates_it() {
    let (mut sim, a, b) = club();
    sim.send_json(a, &json!({"type": "leave", "room": "club"}));
    sim.send_json(b, &join(None));
    sim.take(b);
    sim.send_json(b, &mode("+t", &[]));
    assert_eq!(sim.take_json(b), [changed("bob", "+t", &[])]);
}

/// The text protocol's forms of modes, invitations, kicks and bans.
#[test]
fn text_clients_get_mode_kick_and_invite_in_their_own_words() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    sim.send(a, "/create club");
    let b = sim.connect_as("bob");
    sim.take(a);
    sim.send(a, "/mode club +k beer");
    assert_eq!(sim.take(a), ["* alice set mode +k beer on club"]);
    sim.send(b, "/join club");
    assert_eq!(sim.take(b), ["! club needs a key to join"]);
    sim.send(b, "/join club beer");
    assert_eq!(sim.take(b)[0], "* you are now in club (2 here)");
    sim.send(a, "/mode club -k+l 2");
    assert_eq!(sim.take(a)[1], "* alice set mode -k+l 2 on club");
    let c = sim.connect_as("carol");
    sim.send(c, "/join club");
    assert_eq!(sim.take(c), ["! club is full"]);
    sim.send(b, "/mode club");
    assert_eq!(sim.take(b).last().unwrap(), "* modes of club: +nl 2");
    sim.send(b, "/mode club -l");
    assert_eq!(sim.take(b), ["! you are not an operator of club"]);
    sim.send(a, "/mode club +i");
    sim.send(b, "/leave");
    sim.send(b, "/join club");
    assert_eq!(sim.take(b).last().unwrap(), "! club is invite-only; ask a member for an invitation");
    sim.take(a);
    sim.send(a, "/invite bob club");
    assert_eq!(sim.take(a), ["* invited bob to club"]);
    assert_eq!(sim.take(b), ["* alice invites you to club (/join club)"]);
    sim.send(b, "/join club");
    assert_eq!(sim.take(b)[0], "* you are now in club (2 here)");
    sim.send(a, "/invite alice club");
    assert_eq!(sim.take(a).last().unwrap(), "! alice is already in club");
    sim.send(a, "/mode club +m");
    sim.take(a);
    sim.take(b);
    sim.send(b, "hello?");
    assert_eq!(sim.take(b), ["! you cannot speak in club now"]);
    sim.send(a, "/mode club +o nobody");
    assert_eq!(sim.take(a), ["! nobody is not in club"]);
    sim.send(a, "/mode club +x");
    assert_eq!(sim.take(a), ["! x is not a room mode here"]);
    sim.send(a, "/kick club bob enough of that");
    assert_eq!(sim.take(a), ["* bob was kicked from club by alice (enough of that)"]);
    assert_eq!(sim.take(b), ["* bob was kicked from club by alice (enough of that)"]);
    sim.send(a, "/mode club +b bo*");
    assert_eq!(sim.take(a), ["* alice set mode +b bo*!*@* on club"]);
    sim.send(b, "/join club");
    assert_eq!(sim.take(b), ["! you are banned from club"]);
    sim.send(a, "/mode club +b");
    assert_eq!(sim.take(a), ["* banned from club (1): bo*!*@*"]);
}

#[test]
fn irc_clients_get_mode_kick_and_invite_in_their_own_form() {
    let mut sim = Sim::new(relaxed());
    let irc = |sim: &mut Sim, nick: &str| {
        let now = sim.now();
        let id = sim.engine_mut().handle_connect(now, ConnectInfo::new(Codec::Irc));
        sim.send(id, &format!("NICK {nick}"));
        sim.send(id, &format!("USER {nick} 0 * :{nick}"));
        sim.take(id);
        id
    };
    let op = irc(&mut sim, "op");
    let guest = irc(&mut sim, "guest");
    sim.send(op, "JOIN #chan");
    sim.take(op);
    sim.send(op, "MODE #chan +k beer");
    assert_eq!(sim.take(op), [":op!op@chatd MODE #chan +k beer\r"]);
    sim.send(guest, "JOIN #chan");
    assert_eq!(sim.take(guest), [":chatd 475 guest #chan :chan needs a key to join\r"]);
    sim.send(guest, "JOIN #chan beer");
    assert_eq!(sim.take(guest)[0], ":guest!guest@chatd JOIN #chan\r");
    sim.take(op);
    sim.send(guest, "MODE #chan +i");
    assert_eq!(sim.take(guest), [":chatd 482 guest #chan :you are not an operator of chan\r"]);
    sim.send(op, "KICK #chan guest :bye now");
    assert_eq!(sim.take(guest), [":op!op@chatd KICK #chan guest :bye now\r"]);
    assert_eq!(sim.take(op), [":op!op@chatd KICK #chan guest :bye now\r"]);
    sim.send(op, "INVITE guest #chan");
    assert_eq!(sim.take(op), [":chatd 341 op guest #chan\r"]);
    assert_eq!(sim.take(guest), [":op!op@chatd INVITE guest #chan\r"]);
    sim.send(op, "MODE #chan b");
    assert_eq!(sim.take(op), [":chatd 368 op #chan :End of channel ban list\r"]);
}
