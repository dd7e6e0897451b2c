//! Accounts against the real chatd: registering, logging in, reserved
//! names, `--require-login`, failed-login lockout per account and address,
//! the registration cap, and that accounts survive a restart. Idle
//! timeouts, offline messages, `/seen`, `/since` and blocking are in
//! `accounts_social.rs`; that secrets never leave chatd, in
//! `accounts_secrets.rs`.

use std::net::{IpAddr, Ipv4Addr};

use chatd_tests::{Client, Server, chatd};
use serde_json::json;

const PASSWORD: &str = "Zq8-open-sesame";

/// A loopback address other than chatd's own, so that chatd sees another source.
const ELSEWHERE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// A new text client that has registered `name` (and so is logged in as it).
fn register(server: &Server, name: &str) -> Client {
    server.register(name, PASSWORD)
}

/// The number N in a line ending "try again in N s".
fn retry_after(line: &str) -> u64 {
    line.strip_suffix(" s")
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no 'try again in N s' in {line:?}"))
}

#[test]
fn registering_asks_for_the_password_twice_and_logging_in_takes_name_and_password() {
    let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0"]);
    let mut alice = server.connect();
    alice.expect("* Welcome to chatd, Guest1! You are in the Lobby. Type /help for commands.");
    alice.send(&format!("/register alice {PASSWORD} {PASSWORD}x"));
    alice.expect("! the passwords do not match");
    alice.send("/register alice Zq8-sh Zq8-sh");
    alice.expect("! the password must be at least 8 characters");
    alice.send(&format!("/register alice {PASSWORD}"));
    alice.expect("! usage: /register NAME PASSWORD PASSWORD");
    alice.send(&format!("/register 9lives {PASSWORD} {PASSWORD}"));
    alice.expect("! invalid nickname: it must start with a letter");
    // None of those registered anything: the name is still free to take.
    let mut other = server.login("alice");
    other.send("/nick someone");
    other.expect("* you are now known as someone");

    alice.send(&format!("/register Alice {PASSWORD} {PASSWORD}"));
    alice.expect("* account Alice registered; you are logged in");
    alice.expect("* you are now known as Alice");
    alice.expect("* logged in as Alice");
    alice.send("/nick other");
    alice.expect("! you are logged in as Alice; your nickname is your account name");
    alice.send(&format!("/register alicia {PASSWORD} {PASSWORD}"));
    alice.expect("! you are logged in as Alice already");
    other.send(&format!("/register ALICE {PASSWORD} {PASSWORD}"));
    other.expect("! an account named Alice exists already");
    alice.send("/quit");
    alice.expect("* bye: quit");
    alice.expect_eof();

    let mut again = server.connect();
    again.expect_prefix("* Welcome to chatd, Guest");
    again.send("/login alice Zq8-wrong-guess");
    again.expect("! wrong name or password (2 more tries before a pause)");
    // An unknown name gets the same answer as a wrong password.
    again.send(&format!("/login nobody {PASSWORD}"));
    again.expect("! wrong name or password (2 more tries before a pause)");
    again.send("/login alice");
    again.expect("! usage: /login NAME PASSWORD");
    // Names are matched without regard to case; the account keeps its spelling.
    again.send(&format!("/login alice {PASSWORD}"));
    again.expect("* you are now known as Alice");
    again.expect("* logged in as Alice");
    again.send("/users");
    again.expect("* online (2): Alice, someone");
    again.send(&format!("/login Alice {PASSWORD}"));
    again.expect("! you are logged in as Alice already");
}

#[test]
fn json_clients_register_and_log_in_with_objects() {
    let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0"]);
    let mut bot = server.connect();
    bot.first_json(r#"{"type":"register","name":"bot","password":"Zq8-open-sesame","confirm":"Zq8-other"}"#);
    assert_eq!(bot.json_error("password_mismatch"), "the passwords do not match");
    bot.send(r#"{"type":"register","name":"bot","password":"Zq8-sh","confirm":"Zq8-sh"}"#);
    assert_eq!(bot.json_error("password_too_short"), "the password must be at least 8 characters");
    bot.send(r#"{"type":"register","name":"bot","password":"Zq8-open-sesame"}"#);
    bot.json_error("usage");
    bot.send(r#"{"type":"register","name":"bot","password":"Zq8-open-sesame","confirm":"Zq8-open-sesame"}"#);
    assert_eq!(bot.json(), json!({"type": "registered", "name": "bot"}));
    assert_eq!(bot.json(), json!({"type": "nick", "old": "Guest1", "new": "bot"}));
    assert_eq!(bot.json(), json!({"type": "logged_in", "name": "bot", "offline": 0}));
    bot.send(r#"{"type":"nick","nick":"bot2"}"#);
    bot.json_error("nick_locked");
    bot.send(r#"{"type":"login","name":"bot","password":"Zq8-open-sesame"}"#);
    assert_eq!(bot.json_error("already_logged_in"), "you are logged in as bot already");
    bot.send(r#"{"type":"quit"}"#);
    assert_eq!(bot.json(), json!({"type": "bye", "code": "quit", "reason": "quit"}));

    let mut again = server.connect();
    again.first_json(r#"{"type":"nick","nick":"bot"}"#);
    assert_eq!(again.json_error("nick_registered"), "bot is a registered name; /login to use it");
    again.send(r#"{"type":"register","name":"BOT","password":"Zq8-open-sesame","confirm":"Zq8-open-sesame"}"#);
    assert_eq!(again.json_error("account_exists"), "an account named bot exists already");
    again.send(r#"{"type":"login","name":"bot","password":"Zq8-wrong"}"#);
    assert_eq!(again.json_error("login_failed"), "wrong name or password (2 more tries before a pause)");
    again.send(r#"{"type":"login","name":"bot","password":"Zq8-open-sesame"}"#);
    assert_eq!(again.json(), json!({"type": "nick", "old": "Guest2", "new": "bot"}));
    assert_eq!(again.json(), json!({"type": "logged_in", "name": "bot", "offline": 0}));
}

#[test]
fn a_registered_name_is_reserved_and_its_owner_takes_it_back_from_a_guest() {
    let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0"]);
    let mut yves = server.login("bob");
    yves.send("/create r");
    yves.expect("* room r created");
    yves.expect("* you are now in r (1 here)");
    let mut witness = server.login("witness");
    witness.send("/join r");
    witness.expect("* you are now in r (2 here)");
    yves.expect("* witness joined r");

    // The guest holding the name is renamed when its owner registers it.
    let mut owner = register(&server, "bob");
    yves.expect("* bob is a registered name and its owner logged in; you are now Guest4");
    witness.expect("* bob is now known as Guest4");
    yves.send("/nick BOB");
    yves.expect("! nickname BOB is taken");
    owner.send("/join r");
    owner.expect("* you are now in r (3 here)");
    witness.expect("* bob joined r");

    // Logging in again elsewhere adds a connection to the account: it
    // joins bob's room, and nobody else hears of it.
    let mut json = server.connect();
    json.first_json(r#"{"type":"login","name":"bob","password":"Zq8-open-sesame"}"#);
    assert_eq!(json.json(), json!({"type": "nick", "old": "Guest5", "new": "bob"}));
    assert_eq!(json.json(), json!({"type": "logged_in", "name": "bob", "offline": 0}));
    assert_eq!(json.json()["type"], "joined");
    witness.send("/who r");
    witness.expect("* in r (3): bob, Guest4, witness");
    owner.send("/quit");
    owner.read_until("* bye: quit");
    owner.expect_eof();
    witness.send("/who r");
    witness.expect("* in r (3): bob, Guest4, witness");

    // A JSON guest holding a name hears that it was taken back.
    let mut dave = server.connect();
    dave.first_json(r#"{"type":"nick","nick":"dave"}"#);
    assert_eq!(dave.json(), json!({"type": "nick", "old": "Guest6", "new": "dave"}));
    let mut owner = register(&server, "dave");
    assert_eq!(dave.json(), json!({"type": "renamed", "old": "dave", "new": "Guest8"}));
    // Nor can a guest take it while its owner is away.
    owner.send("/quit");
    owner.expect("* bye: quit");
    dave.send(r#"{"type":"nick","nick":"Dave"}"#);
    assert_eq!(dave.json_error("nick_registered"), "dave is a registered name; /login to use it");
}

#[test]
fn with_require_login_guests_may_only_register_log_in_ask_for_help_and_quit() {
    let server =
        Server::start(chatd!(), &["--require-login", "--registration-timeout", "2", "--flood-lines-per-sec", "0"]);
    let mut owner = server.connect();
    owner.expect_prefix("* Welcome to chatd, Guest1!");
    let mut bot = server.connect();
    let mut talker = server.connect();
    talker.expect_prefix("* Welcome to chatd, Guest3!");

    for line in ["hello?", "/nick talker", "/list", "/users", "/create r", "/msg Guest1 hi", "/seen x", "/block x"] {
        talker.send(line);
        talker.expect("! log in first: /login NAME PASSWORD, or /register NAME PASSWORD PASSWORD");
    }
    talker.send("/help");
    talker.expect("* commands:");
    let help = talker.read_until_prefix("*   /quit [REASON]");
    assert!(help.iter().any(|l| l.starts_with("*   /register NAME PASSWORD PASSWORD")), "{help:#?}");
    bot.first_json(r#"{"type":"users"}"#);
    bot.json_error("login_required");
    bot.send(r#"{"type":"say","text":"hi"}"#);
    bot.json_error("login_required");

    owner.send(&format!("/register owner {PASSWORD} {PASSWORD}"));
    owner.expect("* account owner registered; you are logged in");
    owner.expect("* you are now known as owner");
    owner.expect("* logged in as owner");
    owner.send("/create r");
    owner.expect("* room r created");
    owner.expect("* you are now in r (1 here)");

    // Lines do not stop the registration timeout; only logging in does.
    talker.expect("* bye: no input received in time");
    talker.expect_eof();
    assert_eq!(
        bot.json(),
        json!({"type": "bye", "code": "registration_timeout", "reason": "no input received in time"})
    );
    bot.expect_eof();
    // The owner connected before both and is still here.
    owner.send("/users");
    owner.expect("* online (1): owner");

    let mut leaving = server.connect();
    leaving.expect_prefix("* Welcome");
    leaving.send("/quit");
    leaving.expect("* bye: quit");
}

#[test]
fn three_failed_logins_lock_out_that_address_for_that_account_only() {
    let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0"]);
    let mut owner = register(&server, "alice");
    owner.send("/quit");
    owner.expect("* bye: quit");

    let mut attacker = server.connect();
    attacker.expect_prefix("* Welcome");
    attacker.send("/login alice Zq8-guess-1");
    attacker.expect("! wrong name or password (2 more tries before a pause)");
    attacker.send("/login alice Zq8-guess-2");
    attacker.expect("! wrong name or password (1 more try before a pause)");
    attacker.send("/login alice Zq8-guess-3");
    attacker.expect("! too many failed logins; try again in 60 s");
    // Even the right password is refused from here now, on any connection.
    attacker.send(&format!("/login alice {PASSWORD}"));
    let refusal = attacker.expect_prefix("! too many failed logins; try again in ");
    assert!((1..=60).contains(&retry_after(&refusal)), "{refusal}");
    let mut json = server.connect();
    json.first_json(r#"{"type":"login","name":"alice","password":"Zq8-open-sesame"}"#);
    let message = json.json_error("locked_out");
    assert!(message.starts_with("too many failed logins; try again in "), "{message}");
    assert!((1..=60).contains(&retry_after(&message)), "{message}");
    // Other accounts are counted on their own.
    json.send(r#"{"type":"login","name":"nobody","password":"Zq8-guess"}"#);
    let message = json.json_error("login_failed");
    assert_eq!(message, "wrong name or password (2 more tries before a pause)");

    // The owner, from another address, is not locked out: it has its own count.
    let mut elsewhere = server.connect_from(ELSEWHERE);
    elsewhere.expect_prefix("* Welcome");
    elsewhere.send("/login alice Zq8-typo");
    elsewhere.expect("! wrong name or password (2 more tries before a pause)");
    elsewhere.send(&format!("/login alice {PASSWORD}"));
    elsewhere.expect("* you are now known as alice");
    elsewhere.expect("* logged in as alice");
    // A success from there did not lift the lock here.
    attacker.send(&format!("/login alice {PASSWORD}"));
    attacker.expect_prefix("! too many failed logins; try again in ");
}

#[test]
fn registrations_are_capped_per_address() {
    let server = Server::start(chatd!(), &["--max-registrations-per-source", "2", "--registration-window", "600"]);
    // A registration refused for its own fault uses up none of the allowance.
    let mut first = server.connect();
    first.expect_prefix("* Welcome");
    first.send(&format!("/register one {PASSWORD} {PASSWORD}x"));
    first.expect("! the passwords do not match");
    let _one = register(&server, "one");
    let _two = register(&server, "two");
    let mut third = server.connect();
    third.expect_prefix("* Welcome");
    third.send(&format!("/register three {PASSWORD} {PASSWORD}"));
    let refusal = third.expect_prefix("! too many registrations from your address; try again in ");
    assert!((1..=600).contains(&retry_after(&refusal)), "{refusal}");
    let mut json = server.connect();
    json.first_json(r#"{"type":"register","name":"four","password":"Zq8-open-sesame","confirm":"Zq8-open-sesame"}"#);
    json.json_error("too_many_registrations");

    // Another address has its own allowance.
    let mut elsewhere = server.connect_from(ELSEWHERE);
    elsewhere.expect_prefix("* Welcome");
    elsewhere.send(&format!("/register three {PASSWORD} {PASSWORD}"));
    elsewhere.expect("* account three registered; you are logged in");
}

#[test]
fn accounts_blocks_and_kept_messages_survive_a_restart() {
    let data = tempfile::tempdir().expect("a temporary data directory");
    {
        let server = Server::start_in(chatd!(), data.path(), &[]);
        let mut alice = register(&server, "alice");
        alice.send("/block mallory");
        alice.expect("* you now block mallory");
        alice.send("/quit");
        alice.expect("* bye: quit");
        let mut bob = register(&server, "bob");
        bob.send("/msg alice kept across a restart");
        bob.expect("* alice is offline; your message was kept and will be delivered when they log in");
        // Dropping the server kills it: what a client was told is on disk.
    }
    {
        let server = Server::start_in(chatd!(), data.path(), &[]);
        let mut guest = server.connect();
        guest.expect_prefix("* Welcome");
        guest.send("/nick alice");
        guest.expect("! alice is a registered name; /login to use it");
        guest.send("/seen alice");
        guest.expect_prefix("* alice was last seen ");
        let mut mallory = server.login("mallory");
        mallory.send("/msg alice let me in");
        mallory.expect("! alice does not accept messages from you");

        let mut alice = server.connect();
        alice.expect_prefix("* Welcome");
        alice.send("/login alice Zq8-not-it");
        alice.expect("! wrong name or password (2 more tries before a pause)");
        alice.send(&format!("/login alice {PASSWORD}"));
        alice.expect("* you are now known as alice");
        alice.expect("* logged in as alice; 1 message kept for you:");
        let kept = alice.expect_prefix("[whisper from bob ");
        assert!(kept.ends_with(" UTC, while you were away] kept across a restart"), "{kept}");
        alice.send("/blocked");
        alice.expect("* you block (1): mallory");
        alice.send("/quit");
        alice.expect("* bye: quit");
    }
    // Delivered messages are not delivered again.
    let server = Server::start_in(chatd!(), data.path(), &[]);
    let mut alice = server.connect();
    alice.expect_prefix("* Welcome");
    alice.send(&format!("/login alice {PASSWORD}"));
    alice.expect("* you are now known as alice");
    alice.expect("* logged in as alice");
    alice.send("/blocked");
    alice.expect("* you block (1): mallory");
}

#[test]
fn accounts_blocks_and_checks_in_flight_are_bounded() {
    let server = Server::start(chatd!(), &["--max-accounts", "1", "--max-blocks", "1", "--flood-lines-per-sec", "0"]);
    let mut alice = register(&server, "alice");
    let mut bob = server.connect();
    bob.expect_prefix("* Welcome");
    bob.send(&format!("/register bob {PASSWORD} {PASSWORD}"));
    bob.expect("! the server already has its maximum of 1 accounts");

    alice.send("/block mallory");
    alice.expect("* you now block mallory");
    alice.send("/block trudy");
    alice.expect("! you already block the maximum of 1 names");

    // Two logins in one write: the second arrives while the first is checked.
    bob.send_bytes(b"/login alice Zq8-guess-1\n/login alice Zq8-guess-2\n");
    bob.expect("! your previous login or registration is still being checked");
    bob.expect("! wrong name or password (2 more tries before a pause)");
}
