//! `/nick`: choosing, refusing and announcing nicknames. The logic in
//! JSON; the text protocol's wording, alias and usage in a test of its own.

#[cfg(feature = "json")]
use serde_json::{Value, json};

#[cfg(feature = "json")]
use super::support::{refusal, refused};
use super::{rejected, sim};
#[cfg(feature = "json")]
use crate::DisconnectReason;
#[cfg(feature = "json")]
use crate::sim::Sim;

#[cfg(feature = "json")]
fn nick(name: &str) -> Value {
    json!({"type": "nick", "nick": name})
}

#[cfg(feature = "json")]
fn changed(old: &str, new: &str) -> Value {
    json!({"type": "nick", "old": old, "new": new})
}

#[cfg(feature = "json")]
#[test]
fn nick_sets_the_name_and_tells_the_user() {
    let mut sim = sim();
    let a = sim.connect();
    sim.take(a);
    sim.send_json(a, &nick("alice"));
    assert_eq!(
        sim.take_json(a),
        [json!({"type": "welcome", "server": "chatd", "nick": "Guest1"}), changed("Guest1", "alice")]
    );
    assert_eq!(sim.engine().nick(a), Some("alice"));
    sim.send_json(a, &nick("Alicia"));
    assert_eq!(sim.take_json(a), [changed("alice", "Alicia")]);
    assert_eq!(sim.engine().nick(a), Some("Alicia"));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[cfg(feature = "json")]
#[test]
fn nick_change_is_told_to_roommates_only() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    let lobby = sim.connect_json_as("carol");
    let elsewhere = sim.connect_json_as("dave");
    sim.send_json(a, &json!({"type": "create", "room": "rust"}));
    sim.send_json(b, &json!({"type": "join", "room": "rust"}));
    sim.send_json(elsewhere, &json!({"type": "create", "room": "go"}));
    sim.clear();
    sim.send_json(a, &nick("alicia"));
    assert_eq!(sim.take_json(a), [changed("alice", "alicia")]);
    assert_eq!(sim.take_json(b), [changed("alice", "alicia")]);
    assert_eq!(sim.take_json(lobby), Vec::<Value>::new());
    assert_eq!(sim.take_json(elsewhere), Vec::<Value>::new());
}

#[cfg(feature = "json")]
#[test]
fn taken_nick_is_refused_without_regard_to_case() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    let taken = |name: &str| ("nick_taken".to_owned(), format!("nickname {name} is taken"));
    assert_eq!(refusal(&mut sim, b, &nick("ALICE")), taken("ALICE"));
    assert_eq!(refusal(&mut sim, b, &nick("alice")), taken("alice"));
    assert_eq!(sim.engine().nick(b), Some("bob"));
    // The owner may change the case of its own nickname.
    sim.send_json(a, &nick("ALICE"));
    assert_eq!(sim.take_json(a), [changed("alice", "ALICE")]);
}

#[cfg(feature = "json")]
#[test]
fn freed_nicks_can_be_taken() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    let c = sim.connect_json_as("carol");
    sim.send_json(a, &nick("alicia"));
    sim.send_json(b, &nick("alice"));
    assert_eq!(sim.take_json(b), [changed("bob", "alice")]);
    sim.disconnect(b, DisconnectReason::ConnectionClosed).unwrap();
    sim.send_json(c, &nick("Alice"));
    assert_eq!(sim.take_json(c), [changed("carol", "Alice")]);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[cfg(feature = "json")]
#[test]
fn invalid_nicks_are_refused_with_the_rule() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let cases = [
        ("2fast", "it must start with a letter"),
        ("_x", "it must start with a letter"),
        ("al.ice", "the character '.' is not allowed"),
        ("zoë", "the character 'ë' is not allowed"),
        ("guest7", "Guest<number> names are given by the server"),
        ("Guest1", "Guest<number> names are given by the server"),
        ("abcdefghijabcdefghijabcdefghijabc", "it is longer than 32 characters"),
        ("a b", "the character ' ' is not allowed"),
    ];
    for (name, rule) in cases {
        let expected = ("nick_invalid".to_owned(), format!("invalid nickname: {rule}"));
        assert_eq!(refusal(&mut sim, a, &nick(name)), expected, "{name}");
    }
    assert_eq!(refused(&mut sim, a, &json!({"type": "nick"})), "usage");
    // Exactly the limit is fine, as are `Guest` and `Guestbook`.
    let mut old = "alice".to_owned();
    for ok in ["abcdefghijabcdefghijabcdefghijab", "Guest", "Guestbook", "a-b_C9"] {
        sim.send_json(a, &nick(ok));
        assert_eq!(sim.take_json(a), [changed(&old, ok)]);
        old = ok.to_owned();
    }
}

#[cfg(feature = "json")]
#[test]
fn nick_length_limit_is_configurable() {
    let mut sim = Sim::new(super::relaxed().with_max_nick_len(3));
    let a = sim.connect_json_as("ab");
    let expected = ("nick_invalid".to_owned(), "invalid nickname: it is longer than 3 characters".to_owned());
    assert_eq!(refusal(&mut sim, a, &nick("abcd")), expected);
    sim.send_json(a, &nick("abc"));
    assert_eq!(sim.take_json(a), [changed("ab", "abc")]);
}

#[cfg(feature = "json")]
#[test]
fn guest_names_cannot_be_taken_even_when_free() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice"); // was Guest1
    assert_eq!(refused(&mut sim, a, &nick("Guest1")), "nick_invalid");
}

#[cfg(feature = "json")]
#[test]
fn taking_the_nick_you_have_is_confirmed_but_not_announced() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    sim.send_json(a, &json!({"type": "create", "room": "rust"}));
    sim.send_json(b, &json!({"type": "join", "room": "rust"}));
    sim.clear();
    sim.send_json(a, &nick("alice"));
    assert_eq!(sim.take_json(a), [changed("alice", "alice")]);
    assert_eq!(sim.take_json(b), Vec::<Value>::new());
}

/// The text protocol's wording of `/nick`, its `/name` alias, command
/// words in any case, and its usage line.
#[test]
fn text_clients_choose_nicknames_in_their_own_words() {
    let mut sim = sim();
    let a = sim.connect();
    let b = sim.connect_as("bob");
    sim.send(b, "/create rust");
    sim.take(a);
    sim.send(a, "/nick alice");
    assert_eq!(sim.take(a), ["* you are now known as alice"]);
    sim.send(a, "/join rust");
    sim.clear();
    sim.send(a, "/name Alicia");
    assert_eq!(sim.take(a), ["* you are now known as Alicia"]);
    assert_eq!(sim.take(b), ["* alice is now known as Alicia"]);
    sim.send(a, "/NICK alice");
    assert_eq!(sim.take(a), ["* you are now known as alice"]);
    assert_eq!(sim.engine().nick(a), Some("alice"));
    sim.take(b);
    assert_eq!(rejected(&mut sim, b, "/nick ALICE"), ["! nickname ALICE is taken"]);
    assert_eq!(rejected(&mut sim, b, "/nick 2fast"), ["! invalid nickname: it must start with a letter"]);
    for line in ["/nick", "/nick a b"] {
        assert_eq!(rejected(&mut sim, b, line), ["! usage: /nick NAME"], "{line}");
    }
}
