//! `/create`, `/list`, `/join`, `/leave`, `/who`, `/users`, `/help`.

use super::{rejected, sim};
use crate::command::COMMANDS;
use crate::sim::Sim;

#[test]
fn create_makes_a_room_and_joins_it() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    sim.send(a, "/create #Rust");
    assert_eq!(sim.take(a), ["* room #Rust created", "* you are now in #Rust (1 here)"]);
    assert_eq!(sim.engine().rooms_of(a), Some(vec!["#Rust"]));
    assert_eq!(sim.engine().room_count(), 1);
    // The room is found by any spelling that folds to the same key.
    assert_eq!(sim.engine().members("rust").map(|m| m.collect::<Vec<_>>()), Some(vec![a]));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn create_refuses_existing_invalid_and_over_limit() {
    let mut sim = Sim::new(super::relaxed().with_max_rooms(2).with_max_room_name_len(8));
    let a = sim.connect_as("alice");
    sim.send(a, "/create rust");
    sim.take(a);
    assert_eq!(rejected(&mut sim, a, "/create RUST"), ["! room rust already exists; /join it"]);
    assert_eq!(rejected(&mut sim, a, "/create #rust"), ["! room rust already exists; /join it"]);
    let invalid = [
        ("/create #", "! invalid room name: it is empty"),
        ("/create a/b", "! invalid room name: the character '/' is not allowed"),
        ("/create ##a", "! invalid room name: the character '#' is not allowed"),
        ("/create abcdefghi", "! invalid room name: it is longer than 8 characters"),
        ("/create", "! usage: /create ROOM"),
        ("/create a b", "! usage: /create ROOM"),
    ];
    for (line, reply) in invalid {
        assert_eq!(rejected(&mut sim, a, line), [reply], "{line}");
    }
    sim.send(a, "/create go");
    sim.take(a);
    assert_eq!(rejected(&mut sim, a, "/create zig"), ["! the server already has its maximum of 2 rooms"]);
    // Room names may hold '.', '-', '_' and digits; the limit counts the '#'.
    let mut sim = Sim::new(super::relaxed().with_max_room_name_len(8));
    let a = sim.connect_as("alice");
    sim.send(a, "/create #a.b-c_9");
    assert_eq!(sim.take(a), ["* room #a.b-c_9 created", "* you are now in #a.b-c_9 (1 here)"]);
    assert_eq!(rejected(&mut sim, a, "/create #a.b-c_90"), ["! invalid room name: it is longer than 8 characters"]);
}

#[test]
fn list_shows_every_room_sorted_with_member_counts() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    sim.send(a, "/list");
    assert_eq!(sim.take(a), ["* no rooms yet; /create ROOM makes one"]);
    sim.send(a, "/create zig");
    sim.send(b, "/create Ada");
    sim.send(a, "/join ada");
    sim.clear();
    sim.send(b, "/list");
    assert_eq!(sim.take(b), ["* 2 rooms:", "*   Ada (2 here)", "*   zig (0 here)"]);
    sim.send(b, "/leave");
    sim.send(b, "/leave");
    sim.send(a, "/leave");
    sim.clear();
    // `/rooms` is an alias; an empty room stays listed.
    sim.send(b, "/rooms");
    assert_eq!(sim.take(b), ["* 2 rooms:", "*   Ada (0 here)", "*   zig (0 here)"]);
    sim.send(a, "/join zig");
    sim.send(b, "/leave");
    sim.clear();
    sim.send(b, "/create one");
    sim.send(b, "/leave");
    sim.take(b);
    assert_eq!(rejected(&mut sim, b, "/list a b"), ["! usage: /list [FROM]"]);
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

#[test]
fn join_refusals() {
    let mut sim = Sim::new(super::relaxed().with_max_room_name_len(8));
    let a = sim.connect_as("alice");
    sim.send(a, "/create rust");
    sim.take(a);
    let cases = [
        ("/join nope", "! no room named nope; /list shows the rooms, /create makes one"),
        ("/join #Rust", "! you are already in rust"),
        ("/join a!b", "! invalid room name: the character '!' is not allowed"),
        ("/join abcdefghi", "! invalid room name: it is longer than 8 characters"),
        ("/join", "! usage: /join ROOM [KEY]"),
        ("/join a b c", "! usage: /join ROOM [KEY]"),
    ];
    for (line, reply) in cases {
        assert_eq!(rejected(&mut sim, a, line), [reply], "{line}");
    }
}

#[test]
fn text_clients_ignore_the_rooms_per_client_limit_because_they_switch() {
    let mut sim = Sim::new(super::relaxed().with_max_rooms_per_client(1));
    let a = sim.connect_as("alice");
    sim.send(a, "/create one");
    sim.send(a, "/create two");
    assert_eq!(sim.engine().rooms_of(a), Some(vec!["two"]));
}

#[test]
fn leave_goes_back_to_the_lobby() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    sim.send(a, "/create rust");
    sim.send(b, "/join rust");
    sim.clear();
    sim.send(a, "/leave");
    assert_eq!(sim.take(a), ["* you left rust"]);
    assert_eq!(sim.take(b), ["* alice left rust"]);
    assert_eq!(sim.engine().rooms_of(a), Some(vec![]));
    sim.send(b, "/part");
    assert_eq!(sim.take(b), ["* you left rust"]);
    let lobby = "! you are in the Lobby, where nobody hears you; /list the rooms, then /join or /create one";
    assert_eq!(rejected(&mut sim, a, "/leave"), [lobby]);
    assert_eq!(rejected(&mut sim, a, "/leave rust"), ["! usage: /leave"]);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn who_lists_a_room_or_the_lobby() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    let b = sim.connect_as("Bob");
    let c = sim.connect_as("carol");
    let guest = sim.connect();
    sim.send(a, "/create rust");
    sim.send(b, "/join rust");
    sim.clear();
    sim.send(a, "/who");
    assert_eq!(sim.take(a), ["* in rust (2): alice, Bob"]);
    sim.send(c, "/who");
    assert_eq!(sim.take(c), ["* in the Lobby (2): carol, Guest4"]);
    sim.send(c, "/who #RUST");
    assert_eq!(sim.take(c), ["* in rust (2): alice, Bob"]);
    assert_eq!(rejected(&mut sim, c, "/who nope"), ["! no room named nope; /list shows the rooms, /create makes one"]);
    assert_eq!(rejected(&mut sim, c, "/who a b c"), ["! usage: /who [ROOM|* [FROM]]"]);
    sim.send(a, "/leave");
    sim.send(b, "/leave");
    sim.clear();
    sim.send(guest, "/who rust");
    assert_eq!(sim.take(guest), ["* in rust (0): "]);
}

#[test]
fn users_lists_everyone_sorted_without_regard_to_case() {
    let mut sim = sim();
    let a = sim.connect_as("bob");
    let _b = sim.connect_as("Alice");
    let _c = sim.connect();
    sim.send(a, "/create r");
    sim.clear();
    sim.send(a, "/users");
    assert_eq!(sim.take(a), ["* online (3): Alice, bob, Guest3"]);
    assert_eq!(rejected(&mut sim, a, "/users x y"), ["! usage: /users [FROM]"]);
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
    // A row with no text form (IRC's NOTICE) is left out.
    let text_rows = || COMMANDS.iter().filter(|c| !c.text_usage.is_empty());
    assert_eq!(text_rows().count(), COMMANDS.len() - 1);
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
