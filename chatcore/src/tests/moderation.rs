//! Room operators: modes (key, limit, invite-only, moderated, secret,
//! topic lock, bans), kicks and invitations, in the text protocol and
//! over IRC.

use super::{relaxed, sim};
use crate::sim::Sim;
use crate::{ClientId, Codec, ConnectInfo};

/// alice created `club` (so she operates it); bob is online in the Lobby.
fn club() -> (Sim, ClientId, ClientId) {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    sim.send(a, "/create club");
    let b = sim.connect_as("bob");
    sim.take(a);
    (sim, a, b)
}

#[test]
fn a_key_and_a_limit_keep_people_out_and_every_member_sees_the_change() {
    let (mut sim, a, b) = club();
    sim.send(a, "/mode club +k beer");
    assert_eq!(sim.take(a), ["* alice set mode +k beer on club"]);
    sim.send(b, "/join club");
    assert_eq!(sim.take(b), ["! club needs a key to join"]);
    sim.send(b, "/join club bees");
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
}

#[test]
fn invite_only_rooms_take_whoever_an_operator_invites_once() {
    let (mut sim, a, b) = club();
    sim.send(a, "/mode club +i");
    sim.take(a);
    sim.send(b, "/join club");
    assert_eq!(sim.take(b), ["! club is invite-only; ask a member for an invitation"]);
    sim.send(a, "/invite bob club");
    assert_eq!(sim.take(a), ["* invited bob to club"]);
    assert_eq!(sim.take(b), ["* alice invites you to club (/join club)"]);
    sim.send(b, "/join club");
    assert_eq!(sim.take(b)[0], "* you are now in club (2 here)");
    sim.send(b, "/leave");
    sim.send(b, "/join club");
    assert_eq!(sim.take(b).last().unwrap(), "! club is invite-only; ask a member for an invitation", "used up");
    sim.take(a);
    sim.send(a, "/invite alice club");
    assert_eq!(sim.take(a), ["! alice is already in club"]);
}

#[test]
fn a_moderated_room_hears_only_operators_and_voiced_members() {
    let (mut sim, a, b) = club();
    sim.send(b, "/join club");
    sim.send(a, "/mode club +m");
    sim.take(a);
    sim.take(b);
    sim.send(b, "hello?");
    assert_eq!(sim.take(b), ["! you cannot speak in club now"]);
    assert_eq!(sim.take(a), Vec::<String>::new());
    sim.send(a, "/mode club +v bob");
    sim.take(b);
    sim.send(b, "hello!");
    assert_eq!(sim.take(a).last().unwrap(), "[club] bob: hello!");
    sim.send(a, "/mode club +o nobody");
    assert_eq!(sim.take(a), ["! nobody is not in club"]);
}

#[test]
fn a_kick_tells_everyone_and_puts_the_member_back_in_the_lobby() {
    let (mut sim, a, b) = club();
    sim.send(b, "/join club");
    sim.take(a);
    sim.take(b);
    sim.send(b, "/kick club alice");
    assert_eq!(sim.take(b), ["! you are not an operator of club"]);
    sim.send(a, "/kick club bob enough of that");
    assert_eq!(sim.take(a), ["* bob was kicked from club by alice (enough of that)"]);
    assert_eq!(sim.take(b), ["* bob was kicked from club by alice (enough of that)"]);
    sim.send(b, "still here?");
    assert_eq!(
        sim.take(b),
        ["! you are in the Lobby, where nobody hears you; /list the rooms, then /join or /create one"]
    );
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn bans_keep_matching_names_out_and_secret_rooms_are_unlisted() {
    let (mut sim, a, b) = club();
    sim.send(a, "/mode club +b bo*");
    assert_eq!(sim.take(a), ["* alice set mode +b bo*!*@* on club"]);
    sim.send(b, "/join club");
    assert_eq!(sim.take(b), ["! you are banned from club"]);
    sim.send(a, "/mode club +b");
    assert_eq!(sim.take(a), ["* banned from club (1): bo*!*@*"]);
    sim.send(a, "/mode club -b+s bo*");
    sim.take(a);
    sim.send(b, "/list");
    assert_eq!(sim.take(b), ["* no rooms yet; /create ROOM makes one"]);
    sim.send(a, "/list");
    assert_eq!(sim.take(a), ["* 1 room:", "*   club (1 here)"]);
    sim.send(a, "/mode club +x");
    assert_eq!(sim.take(a), ["! x is not a room mode here"]);
}

#[test]
fn whoever_joins_a_guests_room_empty_operates_it() {
    let (mut sim, a, b) = club();
    sim.send(a, "/leave");
    sim.send(b, "/join club");
    sim.take(b);
    sim.send(b, "/mode club +t");
    assert_eq!(sim.take(b), ["* bob set mode +t on club"]);
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
