//! The classroom programs' scenarios, end to end over the text protocol.

use chatd_tests::{Client, Server, chatd};

/// Sends `/users` and returns its answer: once it arrives, every line this
/// client sent before has been handled.
fn users(client: &mut Client) -> String {
    client.send("/users");
    client.expect_prefix("* online (")
}

#[test]
fn guests_get_numbered_names_and_nicknames_are_unique_without_regard_to_case() {
    let server = Server::start(chatd!(), &[]);
    let mut first = server.connect();
    first.expect("* Welcome to chatd, Guest1! You are in the Lobby. Type /help for commands.");
    let mut second = server.connect();
    second.expect("* Welcome to chatd, Guest2! You are in the Lobby. Type /help for commands.");

    first.send("/nick alice");
    first.expect("* you are now known as alice");
    second.send("/nick ALICE");
    second.expect("! nickname ALICE is taken");
    second.send("/nick b@d");
    second.expect_prefix("! invalid nickname: ");
    assert_eq!(users(&mut second), "* online (2): alice, Guest2");

    // The name is free again once its holder changes it.
    first.send("/nick alicia");
    first.expect("* you are now known as alicia");
    second.send("/nick Alice");
    second.expect("* you are now known as Alice");
}

#[test]
fn create_list_join_switch_leave_and_quit() {
    // More commands than flood control's burst allows; flood control has its own test.
    let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0"]);
    let mut alice = server.login("alice");
    let mut bob = server.login("bob");

    alice.send("/list");
    alice.expect("* no rooms yet; /create ROOM makes one");
    alice.send("/create rust");
    alice.expect("* room rust created");
    alice.expect("* you are now in rust (1 here)");
    bob.send("/join rust");
    bob.expect("* you are now in rust (2 here)");
    alice.expect("* bob joined rust");

    // Creating a room moves a text client into it.
    alice.send("/create go");
    alice.expect("* room go created");
    alice.expect("* you left rust");
    alice.expect("* you are now in go (1 here)");
    bob.expect("* alice left rust");
    bob.send("/list");
    bob.expect("* 2 rooms:");
    bob.expect("*   go (1 here)");
    bob.expect("*   rust (1 here)");

    // Joining another room switches to it.
    bob.send("/join go");
    bob.expect("* you left rust");
    bob.expect("* you are now in go (2 here)");
    alice.expect("* bob joined go");
    bob.send("/who");
    bob.expect("* in go (2): alice, bob");

    bob.send("hi alice");
    alice.expect("[go] bob: hi alice");
    alice.send("hi bob");
    bob.expect("[go] alice: hi bob");

    bob.send("/leave");
    bob.expect("* you left go");
    alice.expect("* bob left go");
    bob.send("anyone there?");
    bob.expect("! you are in the Lobby, where nobody hears you; /list the rooms, then /join or /create one");
    bob.send("/join nowhere");
    bob.expect("! no room named nowhere; /list shows the rooms, /create makes one");
    bob.send("/create go");
    bob.expect("! room go already exists; /join it");

    bob.send("/join go");
    bob.expect("* you are now in go (2 here)");
    assert!(bob.expect_prefix("~ [go ").ends_with("] bob: hi alice"));
    assert!(bob.expect_prefix("~ [go ").ends_with("] alice: hi bob"));
    alice.expect("* bob joined go");
    bob.send("/quit see you");
    bob.expect("* bye: quit: see you");
    bob.expect_eof();
    alice.expect("* bob disconnected (quit: see you)");
}

#[test]
fn whispers_with_at_and_msg_reach_only_their_recipient() {
    let server = Server::start(chatd!(), &[]);
    let mut alice = server.login("alice");
    let mut bob = server.login("bob");
    let mut carol = server.login("carol");

    alice.send("@bob psst");
    let got = bob.expect_prefix("[whisper from alice ");
    assert!(got.ends_with("] psst"), "{got:?}");
    let echo = alice.expect_prefix("[whisper to bob ");
    assert!(echo.ends_with("] psst"), "{echo:?}");

    bob.send("/msg alice hello back");
    let got = alice.expect_prefix("[whisper from bob ");
    assert!(got.ends_with("] hello back"), "{got:?}");
    bob.expect_prefix("[whisper to alice ");

    alice.send("/msg nobody hello");
    alice.expect("! nobody named nobody is online");
    // Carol heard none of it: her next line is the answer to her own command.
    assert_eq!(users(&mut carol), "* online (3): alice, bob, carol");
}

#[test]
fn roommates_are_told_of_nick_changes_and_every_kind_of_departure() {
    let server = Server::start(chatd!(), &[]);
    let mut alice = server.login("alice");
    alice.send("/create lounge");
    alice.expect("* room lounge created");
    alice.expect("* you are now in lounge (1 here)");
    let mut bob = server.login("bob");
    bob.send("/join lounge");
    bob.expect("* you are now in lounge (2 here)");
    alice.expect("* bob joined lounge");
    let mut carol = server.login("carol");
    carol.send("/join lounge");
    carol.expect("* you are now in lounge (3 here)");
    alice.expect("* carol joined lounge");
    bob.expect("* carol joined lounge");

    bob.send("/nick robert");
    bob.expect("* you are now known as robert");
    alice.expect("* bob is now known as robert");
    carol.expect("* bob is now known as robert");

    bob.send("/quit");
    bob.expect("* bye: quit");
    alice.expect("* robert disconnected (quit)");
    carol.expect("* robert disconnected (quit)");

    // A peer that just goes away.
    drop(carol);
    alice.expect("* carol disconnected (connection closed)");
    // Someone in the Lobby hears nothing of the lounge by default.
    let mut dave = server.login("dave");
    assert_eq!(users(&mut dave), "* online (2): alice, dave");
}

#[test]
fn a_newcomer_gets_the_capped_history_then_live_messages() {
    let server = Server::start(chatd!(), &["--history-len", "3"]);
    let mut alice = server.login("alice");
    alice.send("/create rust");
    alice.expect("* room rust created");
    alice.expect("* you are now in rust (1 here)");
    for i in 1..=5 {
        alice.send(&format!("message {i}"));
    }
    users(&mut alice);

    let mut bob = server.login("bob");
    bob.send("/join rust");
    bob.expect("* you are now in rust (2 here)");
    for i in 3..=5 {
        let line = bob.expect_prefix("~ [rust ");
        assert!(line.ends_with(&format!("] alice: message {i}")), "{line:?}");
    }
    alice.expect("* bob joined rust");
    alice.send("live now");
    bob.expect("[rust] alice: live now");
}

#[test]
fn help_lists_the_commands() {
    let server = Server::start(chatd!(), &[]);
    let mut client = server.connect();
    client.expect_prefix("* Welcome");
    client.send("/help");
    client.expect("* commands:");
    // /users marks the end of the help text.
    client.send("/users");
    let lines = client.read_until_prefix("* online (");
    for command in ["/nick NAME", "/list", "/create ROOM", "/join ROOM", "/leave", "/msg NICK TEXT"] {
        assert!(lines.iter().any(|l| l.starts_with(&format!("*   {command} "))), "{command} missing from {lines:#?}");
    }
    client.send("/frobnicate");
    client.expect("! unknown command \"/frobnicate\"; type /help for the list");
}
