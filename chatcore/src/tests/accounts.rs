//! `/register`, `/login`, `/seen`, `/since`, `/block`, `/unblock`,
//! `/blocked`, offline whispers, and the errors around them: their logic in
//! JSON, their wording in the text protocol in tests of their own.

use std::time::Duration;

#[cfg(feature = "json")]
use serde_json::{Value, json};

#[cfg(feature = "json")]
use super::support::{refusal, refused};
use super::{rejected, sim};
use crate::sim::Sim;
#[cfg(feature = "json")]
use crate::{Codec, ConnectInfo, DisconnectReason};
use crate::{Config, Output, StorageStatus};

#[cfg(feature = "json")]
const TS: u64 = Sim::BASE_UNIX_MS;

/// A sim that answers password requests at once.
pub(super) fn auto(config: Config) -> Sim {
    let mut sim = Sim::new(config);
    sim.set_auto_auth(true);
    sim
}

#[cfg(feature = "json")]
fn register(name: &str, password: &str) -> Value {
    json!({"type": "register", "name": name, "password": password, "confirm": password})
}

#[cfg(feature = "json")]
fn login(name: &str, password: &str) -> Value {
    json!({"type": "login", "name": name, "password": password})
}

/// A new guest connected as JSON, its welcome taken.
#[cfg(feature = "json")]
fn connect_json(sim: &mut Sim) -> crate::ClientId {
    let id = sim.connect_with(ConnectInfo::new(Codec::Json));
    sim.take(id);
    id
}

/// alice registered and logged out; bob online, registered as bob; both
/// speak JSON.
#[cfg(feature = "json")]
fn alice_away(config: Config) -> (Sim, crate::ClientId) {
    let mut sim = auto(config);
    let a = connect_json(&mut sim);
    sim.send_json(a, &register("alice", "hunter22"));
    sim.send_json(a, &json!({"type": "quit"}));
    // Kept whispers are for registered senders.
    let b = connect_json(&mut sim);
    sim.send_json(b, &register("bob", "hunter33"));
    sim.take(b);
    (sim, b)
}

#[cfg(feature = "json")]
#[test]
fn register_logs_in_and_locks_the_nickname() {
    let mut sim = sim();
    let a = connect_json(&mut sim);
    sim.take_transcript();
    sim.send_json(a, &register("Alice", "hunter22"));
    // The password goes to the embedder to hash; nothing is told yet.
    let requests = sim.take_auth_requests();
    assert!(matches!(&requests[..], [Output::HashPassword { password, .. }] if password.expose() == "hunter22"));
    assert_eq!(sim.take_json(a), Vec::<Value>::new());
    assert_eq!(refused(&mut sim, a, &login("Alice", "hunter22")), "auth_in_progress");
    let Output::HashPassword { request, .. } = requests[0].clone() else { unreachable!() };
    let now = sim.now();
    sim.engine_mut().handle_password_hashed(now, request, Some(crate::PasswordHash::new("h"))).unwrap();
    sim.drain();
    assert_eq!(
        sim.take_json(a),
        [
            json!({"type": "registered", "name": "Alice"}),
            json!({"type": "nick", "old": "Guest1", "new": "Alice"}),
            json!({"type": "logged_in", "name": "Alice", "offline": 0})
        ]
    );
    assert_eq!(sim.engine().account_of(a), Some("Alice"));
    assert_eq!(sim.engine().account_count(), 1);
    assert_eq!(refused(&mut sim, a, &json!({"type": "nick", "nick": "other"})), "nick_locked");
    assert_eq!(refused(&mut sim, a, &register("bob", "hunter22")), "already_logged_in");
    assert_eq!(refused(&mut sim, a, &login("Alice", "hunter22")), "already_logged_in");
    // Answering twice is the embedder's mistake.
    let now = sim.now();
    assert!(sim.engine_mut().handle_password_hashed(now, request, None).is_err());
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[cfg(feature = "json")]
#[test]
fn register_refusals() {
    let mut sim = auto(super::relaxed().with_max_accounts(1));
    let a = sim.connect_json_as("carol");
    let cases = [
        (register("alice", "short"), "password_too_short"),
        (
            json!({"type": "register", "name": "alice", "password": "longenough", "confirm": "different"}),
            "password_mismatch",
        ),
        (register("9lives", "hunter22"), "nick_invalid"),
        (json!({"type": "register", "name": "alice", "password": "hunter22"}), "usage"),
    ];
    for (request, code) in cases {
        assert_eq!(refused(&mut sim, a, &request), code, "{request}");
    }
    let b = connect_json(&mut sim);
    sim.send_json(b, &register("alice", "hunter22"));
    sim.send_json(b, &json!({"type": "quit"}));
    assert_eq!(refused(&mut sim, a, &register("ALICE", "hunter22")), "account_exists");
    assert_eq!(refused(&mut sim, a, &register("dave", "hunter22")), "account_limit");
    assert_eq!(refused(&mut sim, a, &json!({"type": "nick", "nick": "Alice"})), "nick_registered");
}

#[cfg(feature = "json")]
#[test]
fn registrations_per_source_are_capped() {
    let mut sim = auto(super::relaxed().with_max_registrations_per_source(1));
    let a = connect_json(&mut sim);
    sim.send_json(a, &register("alice", "hunter22"));
    let b = sim.connect_json_as("bob");
    let expected = (
        "too_many_registrations".to_owned(),
        "too many registrations from your address; try again in 3600 s".to_owned(),
    );
    assert_eq!(refusal(&mut sim, b, &register("bob", "hunter22")), expected);
}

#[cfg(feature = "json")]
#[test]
fn a_failed_hash_is_told_and_registers_nothing() {
    let mut sim = sim();
    let a = sim.connect_json_as("carol");
    sim.send_json(a, &register("alice", "hunter22"));
    let Output::HashPassword { request, .. } = sim.take_auth_requests().remove(0) else { panic!() };
    let now = sim.now();
    sim.engine_mut().handle_password_hashed(now, request, None).unwrap();
    sim.drain();
    let told = sim.take_json(a);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!((&told[0]["type"], &told[0]["code"]), (&json!("error"), &json!("hash_failed")));
    assert_eq!(sim.engine().account_count(), 0);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

/// The `code` and `message` of the one error `client` was sent.
#[cfg(feature = "json")]
fn error(sim: &mut Sim, client: crate::ClientId) -> (String, String) {
    let told = sim.take_json(client);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["type"], "error", "{told:?}");
    (told[0]["code"].as_str().unwrap().to_owned(), told[0]["message"].as_str().unwrap().to_owned())
}

#[cfg(feature = "json")]
#[test]
fn login_delivers_kept_whispers_and_failures_lock_out() {
    let (mut sim, b) = alice_away(super::relaxed());
    sim.send_json(b, &json!({"type": "msg", "to": "alice", "text": "are you there?"}));
    assert_eq!(sim.take_json(b), [json!({"type": "kept", "to": "alice"})]);
    assert_eq!(sim.engine().offline_len("alice"), Some(1));
    let g = connect_json(&mut sim);
    let failed = |left: &str| ("login_failed".to_owned(), format!("wrong name or password ({left} before a pause)"));
    sim.send_json(g, &login("alice", "wrong"));
    assert_eq!(error(&mut sim, g), failed("2 more tries"));
    sim.send_json(g, &login("nobody", "hunter22"));
    assert_eq!(error(&mut sim, g), failed("2 more tries"));
    sim.advance(Duration::from_secs(1));
    sim.send_json(g, &login("Alice", "hunter22"));
    let whisper = sim.take_json(g).pop().unwrap();
    assert_eq!(sim.engine().nick(g), Some("alice"));
    assert_eq!(
        (&whisper["type"], &whisper["from"], &whisper["text"], &whisper["ts"], &whisper["offline"]),
        (&json!("whisper"), &json!("bob"), &json!("are you there?"), &json!(TS), &json!(true))
    );
    assert_eq!(sim.engine().offline_len("alice"), Some(0));
    sim.send_json(g, &json!({"type": "quit"}));
    let h = connect_json(&mut sim);
    for expected in [
        failed("2 more tries"),
        failed("1 more try"),
        ("locked_out".to_owned(), "too many failed logins; try again in 60 s".to_owned()),
    ] {
        sim.send_json(h, &login("alice", "nope"));
        assert_eq!(error(&mut sim, h), expected);
    }
    assert_eq!(refused(&mut sim, h, &login("alice", "hunter22")), "locked_out");
    assert_eq!(refused(&mut sim, h, &json!({"type": "login", "name": "alice"})), "usage");
    sim.advance(Duration::from_secs(60));
    sim.send_json(h, &login("alice", "hunter22"));
    assert_eq!(
        sim.take_json(h),
        [
            json!({"type": "nick", "old": "Guest4", "new": "alice"}),
            json!({"type": "logged_in", "name": "alice", "offline": 0})
        ]
    );
}

#[cfg(feature = "json")]
#[test]
fn a_second_login_joins_the_first_session_and_a_squatter_is_renamed() {
    let mut sim = auto(super::relaxed());
    let squatter = sim.connect_json_as("bob");
    let a = connect_json(&mut sim);
    sim.send_json(a, &register("bob", "hunter22"));
    assert_eq!(sim.take_json(squatter), [json!({"type": "renamed", "old": "bob", "new": "Guest3"})]);
    assert_eq!(sim.engine().nick(a), Some("bob"));
    let b = connect_json(&mut sim);
    sim.clear();
    sim.send_json(b, &login("bob", "hunter22"));
    assert_eq!(sim.take_json(a), Vec::<Value>::new(), "the first connection stays, undisturbed");
    assert!(sim.is_connected(a));
    assert_eq!(sim.take_types(b), ["nick", "logged_in"]);
    assert_eq!(sim.engine().nick(a), Some("bob"));
    assert_eq!(sim.engine().nick(b), Some("bob"));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[cfg(feature = "json")]
#[test]
fn login_required_lets_only_auth_help_and_quit_through() {
    let mut sim = auto(super::relaxed().with_require_login(true));
    let a = connect_json(&mut sim);
    let say = json!({"type": "say", "room": "r", "text": "hello"});
    // The first line also settles the codec, so it is checked apart.
    sim.send_json(a, &json!({"type": "list"}));
    assert_eq!(error(&mut sim, a).0, "login_required");
    for request in
        [say, json!({"type": "nick", "nick": "x"}), json!({"type": "create", "room": "r"}), json!({"type": "users"})]
    {
        assert_eq!(refused(&mut sim, a, &request), "login_required", "{request}");
    }
    sim.send_json(a, &json!({"type": "help"}));
    assert_eq!(sim.take_types(a), ["help"]);
    sim.send_json(a, &register("alice", "hunter22"));
    sim.clear();
    sim.send_json(a, &json!({"type": "users"}));
    assert_eq!(sim.take_json(a), [json!({"type": "users", "users": ["alice"], "total": 1, "next": null})]);
}

#[cfg(feature = "json")]
#[test]
fn seen_and_since() {
    let (mut sim, b) = alice_away(super::relaxed());
    let seen = |nick: &str| json!({"type": "seen", "nick": nick});
    sim.send_json(b, &seen("ALICE"));
    assert_eq!(sim.take_json(b), [json!({"type": "seen", "nick": "alice", "online": false, "last_seen": TS})]);
    sim.send_json(b, &seen("bob"));
    assert_eq!(sim.take_json(b), [json!({"type": "seen", "nick": "bob", "online": true, "last_seen": null})]);
    assert_eq!(refused(&mut sim, b, &seen("zed")), "never_seen");
    assert_eq!(refused(&mut sim, b, &json!({"type": "seen"})), "usage");
    sim.advance(Duration::from_secs(120));
    let bob = json!({"nick": "bob", "online": true, "last_seen": null});
    let alice = json!({"nick": "alice", "online": false, "last_seen": TS});
    sim.send_json(b, &json!({"type": "since", "seconds": 3600}));
    assert_eq!(
        sim.take_json(b),
        [json!({"type": "since", "seconds": 3600, "users": [bob.clone(), alice], "total": 2, "next": null})]
    );
    sim.send_json(b, &json!({"type": "since", "seconds": 60}));
    assert_eq!(sim.take_json(b), [json!({"type": "since", "seconds": 60, "users": [bob], "total": 1, "next": null})]);
    assert_eq!(refused(&mut sim, b, &json!({"type": "since", "seconds": -1})), "usage");
    assert_eq!(refused(&mut sim, b, &json!({"type": "since"})), "usage");
}

#[cfg(feature = "json")]
#[test]
fn blocking_silences_messages_whispers_and_history() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    let block = |nick: &str| json!({"type": "block", "nick": nick});
    let blocked = json!({"type": "blocked"});
    sim.send_json(b, &json!({"type": "create", "room": "r"}));
    sim.send_json(b, &json!({"type": "say", "room": "r", "text": "before"}));
    sim.send_json(a, &block("BOB"));
    assert_eq!(sim.take_json(a), [json!({"type": "block", "nick": "BOB", "blocked": true})]);
    sim.send_json(a, &blocked);
    assert_eq!(sim.take_json(a), [json!({"type": "block_list", "names": ["BOB"]})]);
    sim.send_json(a, &json!({"type": "join", "room": "r"}));
    assert_eq!(sim.take_types(a), ["joined"], "bob's history message is skipped");
    sim.send_json(b, &json!({"type": "say", "room": "r", "text": "can you hear me"}));
    assert_eq!(sim.take_json(a), Vec::<Value>::new());
    sim.take(b);
    assert_eq!(refused(&mut sim, b, &json!({"type": "msg", "to": "alice", "text": "hi"})), "blocked");
    assert_eq!(refused(&mut sim, a, &block("alice")), "cannot_block_self");
    assert_eq!(refused(&mut sim, a, &json!({"type": "unblock", "nick": "zed"})), "not_blocked");
    assert_eq!(refused(&mut sim, a, &block("a.b")), "nick_invalid");
    sim.send_json(a, &json!({"type": "unblock", "nick": "bob"}));
    assert_eq!(sim.take_json(a), [json!({"type": "block", "nick": "bob", "blocked": false})]);
    sim.send_json(a, &blocked);
    assert_eq!(sim.take_json(a), [json!({"type": "block_list", "names": []})]);
    sim.send_json(b, &json!({"type": "say", "room": "r", "text": "now?"}));
    let heard = sim.take_json(a);
    assert_eq!(heard.len(), 1);
    assert_eq!((&heard[0]["from"], &heard[0]["text"]), (&json!("bob"), &json!("now?")));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[cfg(feature = "json")]
#[test]
fn block_and_mailbox_limits() {
    let (mut sim, b) = alice_away(super::relaxed().with_max_blocks(1).with_max_offline_messages(1));
    sim.send_json(b, &json!({"type": "block", "nick": "x"}));
    sim.take(b);
    assert_eq!(refused(&mut sim, b, &json!({"type": "block", "nick": "y"})), "block_limit");
    let msg = |text: &str| json!({"type": "msg", "to": "alice", "text": text});
    sim.send_json(b, &msg("one"));
    sim.take(b);
    assert_eq!(refused(&mut sim, b, &msg("two")), "mailbox_full");
    let guest = sim.connect_json_as("guest");
    assert_eq!(refused(&mut sim, guest, &msg("hi")), "offline_needs_account");
}

#[cfg(feature = "json")]
#[test]
fn a_failing_store_refuses_what_it_would_have_to_save() {
    let mut sim = Sim::new(super::relaxed());
    let a = sim.connect_json_as("alice");
    sim.send_json(a, &json!({"type": "create", "room": "r"}));
    sim.clear();
    sim.engine_mut().handle_storage_status(StorageStatus::Failing);
    for request in [
        json!({"type": "say", "room": "r", "text": "hello"}),
        json!({"type": "create", "room": "s"}),
        register("alice", "hunter22"),
        json!({"type": "block", "nick": "bob"}),
    ] {
        assert_eq!(refused(&mut sim, a, &request), "storage_unavailable", "{request}");
    }
    sim.send_json(a, &json!({"type": "who"}));
    assert_eq!(sim.take_types(a), ["who"]);
    sim.engine_mut().handle_storage_status(StorageStatus::Healthy);
    sim.send_json(a, &json!({"type": "create", "room": "s"}));
    assert_eq!(sim.take_types(a), ["created", "joined"]);
}

#[cfg(feature = "json")]
#[test]
fn idle_clients_are_warned_then_closed() {
    let mut sim = Sim::new(super::relaxed().with_idle_timeout(Duration::from_secs(120)));
    let a = sim.connect_json_as("alice");
    let warning = || json!({"type": "idle_warning", "seconds": 30});
    sim.advance(Duration::from_secs(89));
    assert_eq!(sim.take_json(a), Vec::<Value>::new());
    sim.advance(Duration::from_secs(1));
    assert_eq!(sim.take_json(a), [warning()]);
    // Any line, even an empty one, starts the clock again.
    sim.send(a, "");
    sim.advance(Duration::from_secs(119));
    assert_eq!(sim.take_json(a), [warning()]);
    sim.advance(Duration::from_secs(1));
    assert_eq!(sim.take_json(a), [json!({"type": "bye", "code": "idle", "reason": "idle for too long"})]);
    assert_eq!(sim.closed(a), Some(&DisconnectReason::IdleTimeout));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[cfg(feature = "json")]
#[test]
fn an_idle_warning_handled_late_still_counts_whole_seconds_up() {
    let mut sim =
        Sim::new(super::relaxed().with_idle_timeout(Duration::from_secs(2)).with_idle_warning(Duration::from_secs(1)));
    let a = sim.connect_json_as("alice");
    // A real timer wakes a little after the deadline, never exactly on it.
    let late = sim.now().advance(Duration::from_millis(1_003));
    sim.engine_mut().handle_timeout(late);
    sim.drain();
    assert_eq!(sim.take_json(a), [json!({"type": "idle_warning", "seconds": 1})]);
}

#[cfg(feature = "json")]
#[test]
fn a_busy_server_refuses_a_check_without_counting_it() {
    let config = super::relaxed().with_max_login_failures(1);
    let mut sim = Sim::new(config);
    sim.set_auto_auth(true);
    let owner = connect_json(&mut sim);
    sim.send_json(owner, &register("owner", "secret123"));
    sim.send_json(owner, &json!({"type": "quit"}));
    sim.set_auto_auth(false);
    let guest = connect_json(&mut sim);
    for _ in 0..3 {
        sim.send_json(guest, &login("owner", "wrong-password"));
        let requests = sim.take_auth_requests();
        let [Output::VerifyPassword { request, .. }] = &requests[..] else { panic!("{requests:?}") };
        sim.engine_mut().handle_password_busy(*request).unwrap();
        sim.drain();
        assert_eq!(error(&mut sim, guest).0, "server_busy");
        // Answered once: a second answer is misuse.
        assert_eq!(sim.engine_mut().handle_password_busy(*request), Err(crate::Error::UnknownRequest(*request)));
    }
    // Three refusals counted nothing: one real failure is still allowed before the lockout.
    sim.set_auto_auth(true);
    sim.send_json(guest, &login("owner", "secret123"));
    assert_eq!(sim.engine().account_of(guest), Some("owner"));
}

#[cfg(feature = "json")]
#[test]
fn a_registration_refused_as_busy_does_not_use_up_the_allowance() {
    let mut sim = Sim::new(super::relaxed().with_max_registrations_per_source(1));
    let a = connect_json(&mut sim);
    sim.send_json(a, &register("first", "hunter22"));
    let requests = sim.take_auth_requests();
    let [Output::HashPassword { request, .. }] = &requests[..] else { panic!("{requests:?}") };
    sim.engine_mut().handle_password_busy(*request).unwrap();
    sim.drain();
    assert_eq!(error(&mut sim, a).0, "server_busy");
    sim.send_json(a, &register("first", "hunter22"));
    assert!(matches!(&sim.take_auth_requests()[..], [Output::HashPassword { .. }]), "the retry is let through");
}

/// The text protocol's wording of accounts: registering, logging in with
/// kept whispers and their date, lockouts, a squatter renamed, `/seen` and
/// `/since`, blocks, a failing store, a busy server, idle warnings, and the
/// usage lines.
#[test]
fn text_clients_see_accounts_in_their_own_words() {
    let mut sim = sim();
    let squatter = sim.connect_as("alice");
    let a = sim.connect();
    sim.take(a);
    sim.send(a, "/register Alice hunter22 hunter22");
    let Output::HashPassword { request, .. } = sim.take_auth_requests().remove(0) else { panic!() };
    assert_eq!(
        rejected(&mut sim, a, "/login Alice hunter22"),
        ["! your previous login or registration is still being checked"]
    );
    let now = sim.now();
    sim.engine_mut().handle_password_hashed(now, request, Some(crate::PasswordHash::new("sim:hunter22"))).unwrap();
    sim.drain();
    assert_eq!(
        sim.take(a),
        ["* account Alice registered; you are logged in", "* you are now known as Alice", "* logged in as Alice"]
    );
    assert_eq!(sim.take(squatter), ["* alice is a registered name and its owner logged in; you are now Guest3"]);
    sim.set_auto_auth(true);
    let refusals = [
        ("/nick other", "! you are logged in as Alice; your nickname is your account name"),
        ("/register bob hunter22 hunter22", "! you are logged in as Alice already"),
        ("/login Alice hunter22", "! you are logged in as Alice already"),
        ("/block alice", "! you cannot block yourself"),
        ("/unblock zed", "! you do not block zed"),
        ("/seen zed", "! zed has not been seen (only registered users are remembered)"),
        ("/seen", "! usage: /seen NICK"),
        ("/since -1", "! usage: /since SECONDS [FROM]"),
        ("/since 1 a b", "! usage: /since SECONDS [FROM]"),
        ("/login alice", "! usage: /login NAME PASSWORD"),
    ];
    for (line, reply) in refusals {
        assert_eq!(rejected(&mut sim, a, line), [reply], "{line}");
    }
    let guest = sim.connect_as("carol");
    let refusals = [
        ("/register alice short short", "! the password must be at least 8 characters"),
        ("/register alice longenough different", "! the passwords do not match"),
        ("/register 9lives hunter22 hunter22", "! invalid nickname: it must start with a letter"),
        ("/register alice hunter22", "! usage: /register NAME PASSWORD PASSWORD"),
        ("/register ALICE hunter22 hunter22", "! an account named Alice exists already"),
        ("/msg Alice hi", "! Alice does not accept messages from you"),
    ];
    sim.send(a, "/block carol");
    assert_eq!(sim.take(a), ["* you now block carol"]);
    for (line, reply) in refusals {
        assert_eq!(rejected(&mut sim, guest, line), [reply], "{line}");
    }
    sim.send(a, "/blocked");
    assert_eq!(sim.take(a), ["* you block (1): carol"]);
    sim.send(a, "/unblock carol");
    assert_eq!(sim.take(a), ["* you no longer block carol"]);
    sim.send(a, "/blocked");
    assert_eq!(sim.take(a), ["* you block nobody"]);
    sim.send(a, "/seen carol");
    assert_eq!(sim.take(a), ["* carol is online now"]);
    // Alice leaves; bob, an account, keeps a whisper for her.
    sim.send(a, "/quit");
    assert_eq!(rejected(&mut sim, guest, "/nick alice"), ["! Alice is a registered name; /login to use it"]);
    let b = sim.connect();
    sim.send(b, "/register bob hunter33 hunter33");
    sim.take(b);
    sim.send(b, "/seen ALICE");
    assert_eq!(sim.take(b), ["* Alice was last seen 2023-11-14 22:13:20 UTC"]);
    sim.send(b, "/msg alice are you there?");
    assert_eq!(sim.take(b), ["* Alice is offline; your message was kept and will be delivered when they log in"]);
    assert_eq!(rejected(&mut sim, guest, "/msg alice hi"), ["! Alice is offline; log in to leave a message for them"]);
    sim.advance(Duration::from_secs(120));
    sim.send(b, "/since 3600");
    assert_eq!(
        sim.take(b),
        [
            "* online within the last 3600 s (4): bob (online), carol (online), Guest3 (online), Alice (last seen 2023-11-14 22:13:20 UTC)"
        ]
    );
    sim.send(b, "/since 60");
    assert_eq!(sim.take(b), ["* online within the last 60 s (3): bob (online), carol (online), Guest3 (online)"]);
    let g = sim.connect();
    sim.take(g);
    for reply in [
        "! wrong name or password (2 more tries before a pause)",
        "! wrong name or password (1 more try before a pause)",
        "! too many failed logins; try again in 60 s",
    ] {
        sim.send(g, "/login alice nope");
        assert_eq!(sim.take(g), [reply]);
    }
    sim.advance(Duration::from_secs(60));
    sim.send(g, "/login alice hunter22");
    assert_eq!(
        sim.take(g),
        [
            "* you are now known as Alice",
            "* logged in as Alice; 1 message kept for you:",
            "[whisper from bob 2023-11-14 22:13:20 UTC, while you were away] are you there?"
        ]
    );
    // A second login is another connection of the account: the first stays.
    let again = sim.connect();
    sim.send(again, "/login alice hunter22");
    assert_eq!(sim.take(g), Vec::<String>::new());
    assert!(sim.is_connected(g));
    assert_eq!(sim.take(again)[1..], ["* you are now known as Alice", "* logged in as Alice"]);
    sim.engine_mut().handle_storage_status(StorageStatus::Failing);
    let reply = ["! the server cannot save right now; that was not sent or saved, try again shortly"];
    assert_eq!(rejected(&mut sim, again, "/block bob"), reply);
    sim.engine_mut().handle_storage_status(StorageStatus::Healthy);
    sim.set_auto_auth(false);
    sim.send(guest, "/login bob wrong-password");
    let [Output::VerifyPassword { request, .. }] = &sim.take_auth_requests()[..] else { panic!() };
    sim.engine_mut().handle_password_busy(*request).unwrap();
    sim.drain();
    assert_eq!(sim.take(guest), ["! the server is busy; try again in a moment"]);
    let mut sim = auto(super::relaxed().with_max_registrations_per_source(1));
    let a = sim.connect_as("carol");
    sim.send(a, "/register alice hunter22 hunter22");
    sim.take(a);
    let b = sim.connect_as("bob");
    assert_eq!(
        rejected(&mut sim, b, "/register bob hunter22 hunter22"),
        ["! too many registrations from your address; try again in 3600 s"]
    );
    let mut sim = auto(super::relaxed().with_max_accounts(1));
    let a = sim.connect();
    sim.send(a, "/register alice hunter22 hunter22");
    let b = sim.connect_as("bob");
    assert_eq!(
        rejected(&mut sim, b, "/register dave hunter22 hunter22"),
        ["! the server already has its maximum of 1 accounts"]
    );
    let mut sim = super::sim();
    let c = sim.connect_as("carol");
    sim.send(c, "/register carl hunter22 hunter22");
    let Output::HashPassword { request, .. } = sim.take_auth_requests().remove(0) else { panic!() };
    let now = sim.now();
    sim.engine_mut().handle_password_hashed(now, request, None).unwrap();
    sim.drain();
    assert_eq!(sim.take(c), ["! registration failed on the server; try again"]);
}

/// The text wording of a required login, of the limits on blocks and
/// mailboxes, and of idle warnings and the close that follows.
#[test]
fn text_clients_see_limits_and_idleness_in_their_own_words() {
    let mut sim = auto(super::relaxed().with_require_login(true));
    let a = sim.connect();
    sim.take(a);
    let first = "! log in first: /login NAME PASSWORD, or /register NAME PASSWORD PASSWORD";
    sim.send(a, "/list");
    assert_eq!(sim.take(a), [first]);
    assert_eq!(rejected(&mut sim, a, "hello"), [first]);
    sim.send(a, "/help");
    assert!(sim.take(a).len() > 1);
    let mut sim = auto(super::relaxed().with_max_blocks(1).with_max_offline_messages(1));
    let a = sim.connect();
    sim.send(a, "/register alice hunter22 hunter22");
    sim.send(a, "/quit");
    let b = sim.connect();
    sim.send(b, "/register bob hunter33 hunter33");
    sim.send(b, "/block x");
    sim.take(b);
    assert_eq!(rejected(&mut sim, b, "/block y"), ["! you already block the maximum of 1 names"]);
    sim.send(b, "/msg alice one");
    sim.take(b);
    assert_eq!(rejected(&mut sim, b, "/msg alice two"), ["! alice is offline and cannot take more messages now"]);
    let mut sim = Sim::new(super::relaxed().with_idle_timeout(Duration::from_secs(120)));
    let a = sim.connect_as("alice");
    sim.advance(Duration::from_secs(90));
    assert_eq!(sim.take(a), ["* you have been idle; you will be disconnected in 30 s unless you send something"]);
    sim.advance(Duration::from_secs(30));
    assert_eq!(sim.take(a), ["* bye: idle for too long"]);
    let mut sim =
        Sim::new(super::relaxed().with_idle_timeout(Duration::from_secs(2)).with_idle_warning(Duration::from_secs(1)));
    let a = sim.connect_as("alice");
    sim.advance(Duration::from_secs(1));
    assert_eq!(sim.take(a), ["* you have been idle; you will be disconnected in 1 s unless you send something"]);
}
