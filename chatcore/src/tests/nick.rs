//! `/nick`: choosing, refusing and announcing nicknames.

use super::{rejected, sim};
use crate::DisconnectReason;
use crate::sim::Sim;

#[test]
fn nick_sets_the_name_and_tells_the_user() {
    let mut sim = sim();
    let a = sim.connect();
    sim.take(a);
    sim.send(a, "/nick alice");
    assert_eq!(sim.take(a), ["* you are now known as alice"]);
    assert_eq!(sim.engine().nick(a), Some("alice"));
    // `/name` is an alias, and command words ignore case.
    sim.send(a, "/name Alicia");
    assert_eq!(sim.take(a), ["* you are now known as Alicia"]);
    sim.send(a, "/NICK alice");
    assert_eq!(sim.take(a), ["* you are now known as alice"]);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn nick_change_is_told_to_roommates_only() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    let lobby = sim.connect_as("carol");
    let elsewhere = sim.connect_as("dave");
    sim.send(a, "/create rust");
    sim.send(b, "/join rust");
    sim.send(elsewhere, "/create go");
    sim.clear();
    sim.send(a, "/nick alicia");
    assert_eq!(sim.take(a), ["* you are now known as alicia"]);
    assert_eq!(sim.take(b), ["* alice is now known as alicia"]);
    assert_eq!(sim.take(lobby), Vec::<String>::new());
    assert_eq!(sim.take(elsewhere), Vec::<String>::new());
}

#[test]
fn taken_nick_is_refused_without_regard_to_case() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    assert_eq!(rejected(&mut sim, b, "/nick ALICE"), ["! nickname ALICE is taken"]);
    assert_eq!(rejected(&mut sim, b, "/nick alice"), ["! nickname alice is taken"]);
    assert_eq!(sim.engine().nick(b), Some("bob"));
    // The owner may change the case of its own nickname.
    sim.send(a, "/nick ALICE");
    assert_eq!(sim.take(a), ["* you are now known as ALICE"]);
}

#[test]
fn freed_nicks_can_be_taken() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    let c = sim.connect_as("carol");
    sim.send(a, "/nick alicia");
    sim.send(b, "/nick alice");
    assert_eq!(sim.take(b), ["* you are now known as alice"]);
    sim.disconnect(b, DisconnectReason::ConnectionClosed).unwrap();
    sim.send(c, "/nick Alice");
    assert_eq!(sim.take(c), ["* you are now known as Alice"]);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn invalid_nicks_are_refused_with_the_rule() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    let cases = [
        ("/nick 2fast", "! invalid nickname: it must start with a letter"),
        ("/nick _x", "! invalid nickname: it must start with a letter"),
        ("/nick al.ice", "! invalid nickname: the character '.' is not allowed"),
        ("/nick zoë", "! invalid nickname: the character 'ë' is not allowed"),
        ("/nick guest7", "! invalid nickname: Guest<number> names are given by the server"),
        ("/nick Guest1", "! invalid nickname: Guest<number> names are given by the server"),
        ("/nick abcdefghijabcdefghijabcdefghijabc", "! invalid nickname: it is longer than 32 characters"),
        ("/nick", "! usage: /nick NAME"),
        ("/nick a b", "! usage: /nick NAME"),
    ];
    for (line, reply) in cases {
        assert_eq!(rejected(&mut sim, a, line), [reply], "{line}");
    }
    // Exactly the limit is fine, as are `Guest` and `Guestbook`.
    for ok in ["abcdefghijabcdefghijabcdefghijab", "Guest", "Guestbook", "a-b_C9"] {
        sim.send(a, &format!("/nick {ok}"));
        assert_eq!(sim.take(a), [format!("* you are now known as {ok}")]);
    }
}

#[test]
fn nick_length_limit_is_configurable() {
    let mut sim = Sim::new(super::relaxed().with_max_nick_len(3));
    let a = sim.connect_as("ab");
    assert_eq!(rejected(&mut sim, a, "/nick abcd"), ["! invalid nickname: it is longer than 3 characters"]);
    sim.send(a, "/nick abc");
    assert_eq!(sim.take(a), ["* you are now known as abc"]);
}

#[test]
fn guest_names_cannot_be_taken_even_when_free() {
    let mut sim = sim();
    let a = sim.connect_as("alice"); // was Guest1
    assert_eq!(
        rejected(&mut sim, a, "/nick Guest1"),
        ["! invalid nickname: Guest<number> names are given by the server"]
    );
}

#[test]
fn taking_the_nick_you_have_is_confirmed_but_not_announced() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    sim.send(a, "/create rust");
    sim.send(b, "/join rust");
    sim.clear();
    sim.send(a, "/nick alice");
    assert_eq!(sim.take(a), ["* you are now known as alice"]);
    assert_eq!(sim.take(b), Vec::<String>::new());
}
