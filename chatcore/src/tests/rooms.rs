//! `/create`, `/list`, `/join`, `/leave`, `/who`, `/users`, `/help`.
//!
//! The logic is asserted in JSON; what is the text protocol's own (its
//! switch on joining, its usage lines, aliases and layouts) in text.

#[cfg(feature = "json")]
use serde_json::json;

use super::rejected;
use super::sim;
#[cfg(feature = "json")]
use super::support::{refusal, refused};
use crate::command::COMMANDS;
use crate::sim::Sim;

#[cfg(feature = "json")]
#[test]
fn create_makes_a_room_and_joins_it() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    sim.send_json(a, &json!({"type": "create", "room": "#Rust"}));
    assert_eq!(
        sim.take_json(a),
        [
            json!({"type": "created", "room": "#Rust"}),
            json!({"type": "joined", "room": "#Rust", "nick": "alice", "members": 1})
        ]
    );
    assert_eq!(sim.engine().rooms_of(a), Some(vec!["#Rust"]));
    assert_eq!(sim.engine().room_count(), 1);
    // The room is found by any spelling that folds to the same key.
    assert_eq!(sim.engine().members("rust").map(|m| m.collect::<Vec<_>>()), Some(vec![a]));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[cfg(feature = "json")]
#[test]
fn create_refuses_existing_invalid_and_over_limit() {
    let mut sim = Sim::new(super::relaxed().with_max_rooms(2).with_max_room_name_len(8));
    let a = sim.connect_json_as("alice");
    let create = |room: &str| json!({"type": "create", "room": room});
    sim.send_json(a, &create("rust"));
    sim.take(a);
    assert_eq!(refused(&mut sim, a, &create("RUST")), "room_exists");
    assert_eq!(refused(&mut sim, a, &create("#rust")), "room_exists");
    let invalid = [
        ("#", "invalid room name: it is empty"),
        ("a/b", "invalid room name: the character '/' is not allowed"),
        ("##a", "invalid room name: the character '#' is not allowed"),
        ("abcdefghi", "invalid room name: it is longer than 8 characters"),
    ];
    for (room, message) in invalid {
        assert_eq!(refusal(&mut sim, a, &create(room)), ("room_invalid".into(), message.into()), "{room}");
    }
    assert_eq!(refused(&mut sim, a, &json!({"type": "create"})), "usage");
    sim.send_json(a, &create("go"));
    sim.take(a);
    assert_eq!(refused(&mut sim, a, &create("zig")), "room_limit");
    // Room names may hold '.', '-', '_' and digits; the limit counts the '#'.
    let mut sim = Sim::new(super::relaxed().with_max_room_name_len(8));
    let a = sim.connect_json_as("alice");
    sim.send_json(a, &create("#a.b-c_9"));
    assert_eq!(sim.take_types(a), ["created", "joined"]);
    assert_eq!(sim.engine().rooms_of(a), Some(vec!["#a.b-c_9"]));
    assert_eq!(refused(&mut sim, a, &create("#a.b-c_90")), "room_invalid");
}

#[cfg(feature = "json")]
#[test]
fn list_shows_every_room_sorted_with_member_counts() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    let list = json!({"type": "list"});
    sim.send_json(a, &list);
    assert_eq!(sim.take_json(a), [json!({"type": "rooms", "rooms": [], "total": 0, "next": null})]);
    sim.send_json(a, &json!({"type": "create", "room": "zig"}));
    sim.send_json(b, &json!({"type": "create", "room": "Ada"}));
    sim.send_json(a, &json!({"type": "join", "room": "ada"}));
    sim.clear();
    sim.send_json(b, &list);
    let rooms = |ada: usize, zig: usize| {
        json!({"type": "rooms", "rooms": [{"name": "Ada", "members": ada}, {"name": "zig", "members": zig}],
            "total": 2, "next": null})
    };
    assert_eq!(sim.take_json(b), [rooms(2, 1)]);
    for room in ["zig", "Ada"] {
        sim.send_json(a, &json!({"type": "leave", "room": room}));
    }
    sim.send_json(b, &json!({"type": "leave", "room": "Ada"}));
    sim.clear();
    // An empty room stays listed.
    sim.send_json(b, &list);
    assert_eq!(sim.take_json(b), [rooms(0, 0)]);
    sim.send_json(a, &json!({"type": "join", "room": "zig"}));
    sim.send_json(b, &json!({"type": "create", "room": "one"}));
    sim.send_json(b, &json!({"type": "leave", "room": "one"}));
    sim.clear();
    assert_eq!(sim.engine().room_summaries().collect::<Vec<_>>(), [("Ada", 0), ("one", 0), ("zig", 1)]);
}

#[test]
fn singular_room_count() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    sim.send(a, "/create r");
    sim.send(a, "/list");
    assert_eq!(sim.take(a)[2..], ["* 1 room:", "*   r (1 here)"]);
}

#[test]
fn join_switches_rooms_for_text_clients() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    let c = sim.connect_as("carol");
    sim.send(a, "/create one");
    sim.send(b, "/create two");
    sim.send(c, "/join one");
    sim.clear();
    sim.send(a, "/join TWO");
    assert_eq!(sim.take(a), ["* you left one", "* you are now in two (2 here)"]);
    assert_eq!(sim.take(c), ["* alice left one"]);
    assert_eq!(sim.take(b), ["* alice joined two"]);
    assert_eq!(sim.engine().rooms_of(a), Some(vec!["two"]));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[cfg(feature = "json")]
#[test]
fn join_refusals() {
    let mut sim = Sim::new(super::relaxed().with_max_room_name_len(8));
    let a = sim.connect_json_as("alice");
    sim.send_json(a, &json!({"type": "create", "room": "rust"}));
    sim.take(a);
    let join = |room: &str| json!({"type": "join", "room": room});
    assert_eq!(refused(&mut sim, a, &join("nope")), "no_such_room");
    assert_eq!(refusal(&mut sim, a, &join("#Rust")), ("already_in_room".into(), "you are already in rust".into()));
    let invalid = [
        ("a!b", "invalid room name: the character '!' is not allowed"),
        ("abcdefghi", "invalid room name: it is longer than 8 characters"),
    ];
    for (room, message) in invalid {
        assert_eq!(refusal(&mut sim, a, &join(room)), ("room_invalid".into(), message.into()), "{room}");
    }
    assert_eq!(refused(&mut sim, a, &json!({"type": "join"})), "usage");
}

#[test]
fn text_clients_ignore_the_rooms_per_client_limit_because_they_switch() {
    let mut sim = Sim::new(super::relaxed().with_max_rooms_per_client(1));
    let a = sim.connect_as("alice");
    sim.send(a, "/create one");
    sim.send(a, "/create two");
    assert_eq!(sim.engine().rooms_of(a), Some(vec!["two"]));
}

#[cfg(feature = "json")]
#[test]
fn leave_goes_back_to_the_lobby() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    sim.send_json(a, &json!({"type": "create", "room": "rust"}));
    sim.send_json(b, &json!({"type": "join", "room": "rust"}));
    sim.clear();
    sim.send_json(a, &json!({"type": "leave", "room": "rust"}));
    let left = || json!({"type": "left", "room": "rust", "nick": "alice"});
    assert_eq!(sim.take_json(a), [left()]);
    assert_eq!(sim.take_json(b), [left()]);
    assert_eq!(sim.engine().rooms_of(a), Some(vec![]));
    // With no room named, the only room is the one left.
    sim.send_json(b, &json!({"type": "leave"}));
    assert_eq!(sim.take_json(b), [json!({"type": "left", "room": "rust", "nick": "bob"})]);
    assert_eq!(refused(&mut sim, a, &json!({"type": "leave"})), "in_lobby");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[cfg(feature = "json")]
#[test]
fn who_lists_a_room_or_the_lobby() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("Bob");
    let c = sim.connect_json_as("carol");
    let guest = sim.connect();
    sim.send_json(a, &json!({"type": "create", "room": "rust"}));
    sim.send_json(b, &json!({"type": "join", "room": "rust"}));
    sim.clear();
    let who = |room: Option<&str>, members: &[&str]| json!({"type": "who", "room": room, "members": members, "total": members.len(), "next": null});
    sim.send_json(a, &json!({"type": "who"}));
    assert_eq!(sim.take_json(a), [who(Some("rust"), &["alice", "Bob"])]);
    sim.send_json(c, &json!({"type": "who"}));
    assert_eq!(sim.take_json(c), [who(None, &["carol", "Guest4"])]);
    sim.send_json(c, &json!({"type": "who", "room": "#RUST"}));
    assert_eq!(sim.take_json(c), [who(Some("rust"), &["alice", "Bob"])]);
    assert_eq!(refused(&mut sim, c, &json!({"type": "who", "room": "nope"})), "no_such_room");
    sim.send_json(a, &json!({"type": "leave"}));
    sim.send_json(b, &json!({"type": "leave"}));
    sim.clear();
    sim.send_json(c, &json!({"type": "who", "room": "rust"}));
    assert_eq!(sim.take_json(c), [who(Some("rust"), &[])]);
    // A text client is told the same in its own layout: an empty room still has its line.
    sim.send(guest, "/who rust");
    assert_eq!(sim.take(guest), ["* in rust (0): "]);
}

#[cfg(feature = "json")]
#[test]
fn users_lists_everyone_sorted_without_regard_to_case() {
    let mut sim = sim();
    let a = sim.connect_json_as("bob");
    let _b = sim.connect_json_as("Alice");
    let _c = sim.connect();
    sim.send_json(a, &json!({"type": "create", "room": "r"}));
    sim.clear();
    sim.send_json(a, &json!({"type": "users"}));
    assert_eq!(
        sim.take_json(a),
        [json!({"type": "users", "users": ["Alice", "bob", "Guest3"], "total": 3, "next": null})]
    );
}

/// The text protocol's own forms of these commands: its usage lines, its
/// aliases, its layouts and its hint for an empty list.
#[test]
fn text_forms_of_the_room_commands() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    let b = sim.connect_as("Bob");
    let c = sim.connect_as("carol");
    sim.send(a, "/list");
    assert_eq!(sim.take(a), ["* no rooms yet; /create ROOM makes one"]);
    sim.send(a, "/create rust");
    assert_eq!(sim.take(a), ["* room rust created", "* you are now in rust (1 here)"]);
    sim.send(b, "/join rust");
    sim.send(c, "/create zig");
    sim.send(c, "/leave");
    sim.clear();
    // `/rooms` is an alias of `/list`.
    sim.send(c, "/rooms");
    assert_eq!(sim.take(c), ["* 2 rooms:", "*   rust (2 here)", "*   zig (0 here)"]);
    sim.send(a, "/who");
    assert_eq!(sim.take(a), ["* in rust (2): alice, Bob"]);
    sim.send(c, "/who");
    assert_eq!(sim.take(c), ["* in the Lobby (1): carol"]);
    sim.send(c, "/users");
    assert_eq!(sim.take(c), ["* online (3): alice, Bob, carol"]);
    let usage = [
        ("/create", "! usage: /create ROOM"),
        ("/create a b", "! usage: /create ROOM"),
        ("/join", "! usage: /join ROOM [KEY]"),
        ("/join a b c", "! usage: /join ROOM [KEY]"),
        ("/leave rust", "! usage: /leave"),
        ("/list a b", "! usage: /list [FROM]"),
        ("/who a b c", "! usage: /who [ROOM|* [FROM]]"),
        ("/users x y", "! usage: /users [FROM]"),
    ];
    for (line, reply) in usage {
        assert_eq!(rejected(&mut sim, a, line), [reply], "{line}");
    }
    // Each refusal in its text wording.
    let refusals = [
        ("/create RUST", "! room rust already exists; /join it"),
        ("/join nope", "! no room named nope; /list shows the rooms, /create makes one"),
        ("/who nope", "! no room named nope; /list shows the rooms, /create makes one"),
        ("/join #Rust", "! you are already in rust"),
        ("/create a/b", "! invalid room name: the character '/' is not allowed"),
    ];
    for (line, reply) in refusals {
        assert_eq!(rejected(&mut sim, a, line), [reply], "{line}");
    }
    // `/part` is an alias of `/leave`, which goes back to the Lobby.
    sim.send(b, "/part");
    assert_eq!(sim.take(b), ["* you left rust"]);
    assert_eq!(sim.take(a), ["* Bob left rust"]);
    let lobby = "! you are in the Lobby, where nobody hears you; /list the rooms, then /join or /create one";
    assert_eq!(rejected(&mut sim, b, "/leave"), [lobby]);
    let mut sim = Sim::new(super::relaxed().with_max_rooms(1));
    let a = sim.connect_as("alice");
    sim.send(a, "/create one");
    sim.take(a);
    assert_eq!(rejected(&mut sim, a, "/create two"), ["! the server already has its maximum of 1 rooms"]);
}

#[test]
fn help_lists_every_command_in_one_send() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    sim.take_transcript();
    sim.send(a, "/help");
    assert_eq!(sim.take_transcript().len(), 1);
    let lines = sim.take(a);
    // One line per command, usage padded to the longest usage.
    // A row with no text form (IRC's NOTICE, and the 16 verbs only IRC
    // has) is left out.
    let text_rows = || COMMANDS.iter().filter(|c| !c.text_usage.is_empty());
    assert_eq!(text_rows().count(), COMMANDS.len() - 17);
    let width = text_rows().map(|c| c.text_usage.len()).max().unwrap();
    let mut expected = vec!["* commands:".to_owned()];
    expected.extend(text_rows().map(|c| format!("*   {:width$}  {}", c.text_usage, c.about)));
    assert_eq!(lines, expected);
    for usage in
        ["/nick NAME", "/list [FROM]", "/create ROOM", "/join ROOM", "/leave", "/who [ROOM|* [FROM]]", "/users [FROM]"]
    {
        assert!(lines.iter().any(|l| l.starts_with(&format!("*   {usage} "))), "{usage}");
    }
    assert!(
        lines.iter().any(|l| l.contains("/msg NICK TEXT") && l.ends_with("whisper to one user (also: @NICK TEXT)"))
    );
    assert!(lines.iter().any(|l| l.starts_with("*   TEXT ") && l.contains("//TEXT sends a line that starts with /")));
    assert!(lines.iter().any(|l| l.starts_with("*   /quit [REASON] ") && l.ends_with("leave the server")));
    assert_eq!(rejected(&mut sim, a, "/help me"), ["! usage: /help"]);
}
