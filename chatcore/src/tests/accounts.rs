//! `/register`, `/login`, `/seen`, `/since`, `/block`, `/unblock`,
//! `/blocked`, offline whispers, and the errors around them.

use std::time::Duration;

use super::{rejected, sim};
use crate::sim::Sim;
use crate::{Config, DisconnectReason, Output, StorageStatus};

/// A sim that answers password requests at once.
fn auto(config: Config) -> Sim {
    let mut sim = Sim::new(config);
    sim.set_auto_auth(true);
    sim
}

/// alice registered and logged out; bob online as a guest named bob.
fn alice_away(config: Config) -> (Sim, crate::ClientId) {
    let mut sim = auto(config);
    let a = sim.connect();
    sim.send(a, "/register alice hunter22 hunter22");
    sim.send(a, "/quit");
    // Kept whispers are for registered senders.
    let b = sim.connect();
    sim.send(b, "/register bob hunter33 hunter33");
    sim.take(b);
    (sim, b)
}

#[test]
fn register_logs_in_and_locks_the_nickname() {
    let mut sim = sim();
    let a = sim.connect();
    sim.take(a);
    sim.take_transcript();
    sim.send(a, "/register Alice hunter22 hunter22");
    // The password goes to the embedder to hash; nothing is told yet.
    let requests = sim.take_auth_requests();
    assert!(matches!(&requests[..], [Output::HashPassword { password, .. }] if password.expose() == "hunter22"));
    assert_eq!(sim.take(a), Vec::<String>::new());
    assert_eq!(
        rejected(&mut sim, a, "/login Alice hunter22"),
        ["! your previous login or registration is still being checked"]
    );
    let Output::HashPassword { request, .. } = requests[0].clone() else { unreachable!() };
    let now = sim.now();
    sim.engine_mut().handle_password_hashed(now, request, Some(crate::PasswordHash::new("h"))).unwrap();
    sim.drain();
    assert_eq!(
        sim.take(a),
        ["* account Alice registered; you are logged in", "* you are now known as Alice", "* logged in as Alice"]
    );
    assert_eq!(sim.engine().account_of(a), Some("Alice"));
    assert_eq!(sim.engine().account_count(), 1);
    assert_eq!(
        rejected(&mut sim, a, "/nick other"),
        ["! you are logged in as Alice; your nickname is your account name"]
    );
    assert_eq!(rejected(&mut sim, a, "/register bob hunter22 hunter22"), ["! you are logged in as Alice already"]);
    assert_eq!(rejected(&mut sim, a, "/login Alice hunter22"), ["! you are logged in as Alice already"]);
    // Answering twice is the embedder's mistake.
    let now = sim.now();
    assert!(sim.engine_mut().handle_password_hashed(now, request, None).is_err());
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn register_refusals() {
    let mut sim = auto(super::relaxed().with_max_accounts(1));
    let a = sim.connect_as("carol");
    let cases = [
        ("/register alice short short", "! the password must be at least 8 characters"),
        ("/register alice longenough different", "! the passwords do not match"),
        ("/register 9lives hunter22 hunter22", "! invalid nickname: it must start with a letter"),
        ("/register alice hunter22", "! usage: /register NAME PASSWORD PASSWORD"),
    ];
    for (line, reply) in cases {
        assert_eq!(rejected(&mut sim, a, line), [reply], "{line}");
    }
    let b = sim.connect();
    sim.send(b, "/register alice hunter22 hunter22");
    sim.send(b, "/quit");
    assert_eq!(rejected(&mut sim, a, "/register ALICE hunter22 hunter22"), ["! an account named alice exists already"]);
    assert_eq!(
        rejected(&mut sim, a, "/register dave hunter22 hunter22"),
        ["! the server already has its maximum of 1 accounts"]
    );
    assert_eq!(rejected(&mut sim, a, "/nick Alice"), ["! alice is a registered name; /login to use it"]);
}

#[test]
fn registrations_per_source_are_capped() {
    let mut sim = auto(super::relaxed().with_max_registrations_per_source(1));
    let a = sim.connect();
    sim.send(a, "/register alice hunter22 hunter22");
    let b = sim.connect_as("bob");
    assert_eq!(
        rejected(&mut sim, b, "/register bob hunter22 hunter22"),
        ["! too many registrations from your address; try again in 3600 s"]
    );
}

#[test]
fn a_failed_hash_is_told_and_registers_nothing() {
    let mut sim = sim();
    let a = sim.connect_as("carol");
    sim.send(a, "/register alice hunter22 hunter22");
    let Output::HashPassword { request, .. } = sim.take_auth_requests().remove(0) else { panic!() };
    let now = sim.now();
    sim.engine_mut().handle_password_hashed(now, request, None).unwrap();
    sim.drain();
    assert_eq!(sim.take(a), ["! registration failed on the server; try again"]);
    assert_eq!(sim.engine().account_count(), 0);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn login_delivers_kept_whispers_and_failures_lock_out() {
    let (mut sim, b) = alice_away(super::relaxed());
    sim.send(b, "/msg alice are you there?");
    assert_eq!(sim.take(b), ["* alice is offline; your message was kept and will be delivered when they log in"]);
    assert_eq!(sim.engine().offline_len("alice"), Some(1));
    let g = sim.connect();
    sim.take(g);
    sim.send(g, "/login alice wrong");
    assert_eq!(sim.take(g), ["! wrong name or password (2 more tries before a pause)"]);
    sim.send(g, "/login nobody hunter22");
    assert_eq!(sim.take(g), ["! wrong name or password (2 more tries before a pause)"]);
    sim.advance(Duration::from_secs(1));
    sim.send(g, "/login Alice hunter22");
    assert_eq!(
        sim.take(g),
        [
            "* you are now known as alice",
            "* logged in as alice; 1 message kept for you:",
            "[whisper from bob 2023-11-14 22:13:20 UTC, while you were away] are you there?"
        ]
    );
    assert_eq!(sim.engine().offline_len("alice"), Some(0));
    sim.send(g, "/quit");
    let h = sim.connect();
    sim.take(h);
    for reply in [
        "! wrong name or password (2 more tries before a pause)",
        "! wrong name or password (1 more try before a pause)",
        "! too many failed logins; try again in 60 s",
    ] {
        sim.send(h, "/login alice nope");
        assert_eq!(sim.take(h), [reply]);
    }
    assert_eq!(rejected(&mut sim, h, "/login alice hunter22"), ["! too many failed logins; try again in 60 s"]);
    assert_eq!(rejected(&mut sim, h, "/login alice"), ["! usage: /login NAME PASSWORD"]);
    sim.advance(Duration::from_secs(60));
    sim.send(h, "/login alice hunter22");
    assert_eq!(sim.take(h), ["* you are now known as alice", "* logged in as alice"]);
}

#[test]
fn a_second_login_closes_the_first_session_and_renames_a_squatter() {
    let mut sim = auto(super::relaxed());
    let squatter = sim.connect_as("bob");
    let a = sim.connect();
    sim.send(a, "/register bob hunter22 hunter22");
    assert_eq!(sim.take(squatter), ["* bob is a registered name and its owner logged in; you are now Guest3"]);
    assert_eq!(sim.engine().nick(a), Some("bob"));
    let b = sim.connect();
    sim.clear();
    sim.send(b, "/login bob hunter22");
    assert_eq!(sim.take(a), ["* bye: logged in from elsewhere"]);
    assert_eq!(sim.closed(a), Some(&DisconnectReason::LoggedInElsewhere));
    assert_eq!(sim.take(b), ["* you are now known as bob", "* logged in as bob"]);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn login_required_lets_only_auth_help_and_quit_through() {
    let mut sim = auto(super::relaxed().with_require_login(true));
    let a = sim.connect();
    sim.take(a);
    let first = "! log in first: /login NAME PASSWORD, or /register NAME PASSWORD PASSWORD";
    sim.send(a, "/list");
    assert_eq!(sim.take(a), [first]);
    for line in ["hello", "/nick x", "/create r", "/users"] {
        assert_eq!(rejected(&mut sim, a, line), [first], "{line}");
    }
    sim.send(a, "/help");
    assert!(sim.take(a).len() > 1);
    sim.send(a, "/register alice hunter22 hunter22");
    sim.clear();
    sim.send(a, "/users");
    assert_eq!(sim.take(a), ["* online (1): alice"]);
}

#[test]
fn seen_and_since() {
    let (mut sim, b) = alice_away(super::relaxed());
    sim.send(b, "/seen ALICE");
    assert_eq!(sim.take(b), ["* alice was last seen 2023-11-14 22:13:20 UTC"]);
    sim.send(b, "/seen bob");
    assert_eq!(sim.take(b), ["* bob is online now"]);
    assert_eq!(rejected(&mut sim, b, "/seen zed"), ["! zed has not been seen (only registered users are remembered)"]);
    assert_eq!(rejected(&mut sim, b, "/seen"), ["! usage: /seen NICK"]);
    sim.advance(Duration::from_secs(120));
    sim.send(b, "/since 3600");
    assert_eq!(
        sim.take(b),
        ["* online within the last 3600 s (2): bob (online), alice (last seen 2023-11-14 22:13:20 UTC)"]
    );
    sim.send(b, "/since 60");
    assert_eq!(sim.take(b), ["* online within the last 60 s (1): bob (online)"]);
    assert_eq!(rejected(&mut sim, b, "/since -1"), ["! usage: /since SECONDS [FROM]"]);
    assert_eq!(rejected(&mut sim, b, "/since 1 a b"), ["! usage: /since SECONDS [FROM]"]);
}

#[test]
fn blocking_silences_messages_whispers_and_history() {
    let mut sim = sim();
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    sim.send(b, "/create r");
    sim.send(b, "before");
    sim.send(a, "/block BOB");
    assert_eq!(sim.take(a), ["* you now block BOB"]);
    sim.send(a, "/blocked");
    assert_eq!(sim.take(a), ["* you block (1): BOB"]);
    sim.send(a, "/join r");
    assert_eq!(sim.take(a), ["* you are now in r (2 here)"], "bob's history line is skipped");
    sim.send(b, "can you hear me");
    assert_eq!(sim.take(a), Vec::<String>::new());
    sim.take(b);
    assert_eq!(rejected(&mut sim, b, "@alice hi"), ["! alice does not accept messages from you"]);
    assert_eq!(rejected(&mut sim, a, "/block alice"), ["! you cannot block yourself"]);
    assert_eq!(rejected(&mut sim, a, "/unblock zed"), ["! you do not block zed"]);
    assert_eq!(rejected(&mut sim, a, "/block a.b"), ["! invalid nickname: the character '.' is not allowed"]);
    sim.send(a, "/unblock bob");
    assert_eq!(sim.take(a), ["* you no longer block bob"]);
    sim.send(a, "/blocked");
    assert_eq!(sim.take(a), ["* you block nobody"]);
    sim.send(b, "now?");
    assert_eq!(sim.take(a), ["[r] bob: now?"]);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn block_and_mailbox_limits() {
    let (mut sim, b) = alice_away(super::relaxed().with_max_blocks(1).with_max_offline_messages(1));
    sim.send(b, "/block x");
    sim.take(b);
    assert_eq!(rejected(&mut sim, b, "/block y"), ["! you already block the maximum of 1 names"]);
    sim.send(b, "/msg alice one");
    sim.take(b);
    assert_eq!(rejected(&mut sim, b, "/msg alice two"), ["! alice is offline and cannot take more messages now"]);
    let guest = sim.connect_as("guest");
    assert_eq!(rejected(&mut sim, guest, "/msg alice hi"), ["! alice is offline; log in to leave a message for them"]);
}

#[test]
fn a_failing_store_refuses_what_it_would_have_to_save() {
    let mut sim = Sim::new(super::relaxed());
    let a = sim.connect_as("alice");
    sim.send(a, "/create r");
    sim.clear();
    sim.engine_mut().handle_storage_status(StorageStatus::Failing);
    let reply = ["! the server cannot save right now; that was not sent or saved, try again shortly"];
    for line in ["hello", "/create s", "/register alice hunter22 hunter22", "/block bob"] {
        assert_eq!(rejected(&mut sim, a, line), reply, "{line}");
    }
    sim.send(a, "/who");
    assert_eq!(sim.take(a), ["* in r (1): alice"]);
    sim.engine_mut().handle_storage_status(StorageStatus::Healthy);
    sim.send(a, "/create s");
    assert_eq!(sim.take(a).len(), 3);
}

#[test]
fn idle_clients_are_warned_then_closed() {
    let mut sim = Sim::new(super::relaxed().with_idle_timeout(Duration::from_secs(120)));
    let a = sim.connect_as("alice");
    sim.advance(Duration::from_secs(89));
    assert_eq!(sim.take(a), Vec::<String>::new());
    sim.advance(Duration::from_secs(1));
    assert_eq!(sim.take(a), ["* you have been idle; you will be disconnected in 30 s unless you send something"]);
    // Any line, even an empty one, starts the clock again.
    sim.send(a, "");
    sim.advance(Duration::from_secs(119));
    assert_eq!(sim.take(a), ["* you have been idle; you will be disconnected in 30 s unless you send something"]);
    sim.advance(Duration::from_secs(1));
    assert_eq!(sim.take(a), ["* bye: idle for too long"]);
    assert_eq!(sim.closed(a), Some(&DisconnectReason::IdleTimeout));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn an_idle_warning_handled_late_still_counts_whole_seconds_up() {
    let mut sim =
        Sim::new(super::relaxed().with_idle_timeout(Duration::from_secs(2)).with_idle_warning(Duration::from_secs(1)));
    let a = sim.connect_as("alice");
    // A real timer wakes a little after the deadline, never exactly on it.
    let late = sim.now().advance(Duration::from_millis(1_003));
    sim.engine_mut().handle_timeout(late);
    sim.drain();
    assert_eq!(sim.take(a), ["* you have been idle; you will be disconnected in 1 s unless you send something"]);
}

#[test]
fn a_busy_server_refuses_a_check_without_counting_it() {
    let config = super::relaxed().with_max_login_failures(1);
    let mut sim = Sim::new(config);
    sim.set_auto_auth(true);
    let owner = sim.connect();
    sim.send(owner, "/register owner secret123 secret123");
    sim.send(owner, "/quit");
    sim.set_auto_auth(false);
    let guest = sim.connect();
    sim.take(guest);
    for _ in 0..3 {
        sim.send(guest, "/login owner wrong-password");
        let requests = sim.take_auth_requests();
        let [Output::VerifyPassword { request, .. }] = &requests[..] else { panic!("{requests:?}") };
        sim.engine_mut().handle_password_busy(*request).unwrap();
        sim.drain();
        assert_eq!(sim.take(guest), ["! the server is busy; try again in a moment"]);
        // Answered once: a second answer is misuse.
        assert_eq!(sim.engine_mut().handle_password_busy(*request), Err(crate::Error::UnknownRequest(*request)));
    }
    // Three refusals counted nothing: one real failure is still allowed before the lockout.
    sim.set_auto_auth(true);
    sim.send(guest, "/login owner secret123");
    assert_eq!(sim.engine().account_of(guest), Some("owner"));
}

#[test]
fn a_registration_refused_as_busy_does_not_use_up_the_allowance() {
    let mut sim = Sim::new(super::relaxed().with_max_registrations_per_source(1));
    let a = sim.connect();
    sim.take(a);
    sim.send(a, "/register first hunter22 hunter22");
    let requests = sim.take_auth_requests();
    let [Output::HashPassword { request, .. }] = &requests[..] else { panic!("{requests:?}") };
    sim.engine_mut().handle_password_busy(*request).unwrap();
    sim.drain();
    assert_eq!(sim.take(a), ["! the server is busy; try again in a moment"]);
    sim.send(a, "/register first hunter22 hunter22");
    assert!(matches!(&sim.take_auth_requests()[..], [Output::HashPassword { .. }]), "the retry is let through");
}
