//! The life between visits, against the real chatd: the idle timeout,
//! whispers kept for offline accounts, `/seen` and `/since`, and blocking.

use std::time::{SystemTime, UNIX_EPOCH};

use chatd_tests::{Client, Server, chatd};
use serde_json::{Value, json};

const PASSWORD: &str = "Zq8-open-sesame";

/// A new text client that has registered `name` (and so is logged in as it).
fn register(server: &Server, name: &str) -> Client {
    server.register(name, PASSWORD)
}

fn quit(client: &mut Client) {
    client.send("/quit");
    client.expect("* bye: quit");
    client.expect_eof();
}

fn unix_ms() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).expect("the clock is past 1970");
    u64::try_from(since.as_millis()).expect("milliseconds fit in u64")
}

/// Checks that `s` is a `YYYY-MM-DD HH:MM:SS UTC` time.
fn assert_utc_time(s: &str) {
    let shape: String = s.chars().map(|c| if c.is_ascii_digit() { '9' } else { c }).collect();
    assert_eq!(shape, "9999-99-99 99:99:99 UTC", "not a UTC time: {s:?}");
}

/// The text between `prefix` and `suffix` in `line`, failing if either is missing.
fn between<'a>(line: &'a str, prefix: &str, suffix: &str) -> &'a str {
    line.strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
        .unwrap_or_else(|| panic!("expected {prefix:?}...{suffix:?}, got {line:?}"))
}

#[test]
fn idle_clients_are_warned_then_disconnected_and_their_rooms_are_told() {
    let server = Server::start(chatd!(), &["--idle-timeout", "2", "--idle-warning", "1"]);
    let mut alice = server.login("alice");
    alice.send("/create r");
    alice.expect("* room r created");
    alice.expect("* you are now in r (1 here)");
    let mut dave = server.connect();
    dave.first_json(r#"{"type":"create","room":"s"}"#);
    assert_eq!(dave.json()["type"], "created");
    assert_eq!(dave.json()["type"], "joined");
    let mut bob = server.connect();
    bob.first_json(r#"{"type":"join","room":"r"}"#);
    assert_eq!(bob.json(), json!({"type": "joined", "room": "r", "nick": "Guest3", "members": 2}));
    alice.expect("* Guest3 joined r");
    let mut carol = server.login("carol");
    carol.send("/join s");
    carol.expect("* you are now in s (2 here)");
    assert_eq!(dave.json(), json!({"type": "joined", "room": "s", "nick": "carol", "members": 2}));

    std::thread::scope(|scope| {
        // The witnesses answer their own warnings, so they stay; the JSON
        // one hears of the text idler and the text one of the JSON idler.
        let json_witness = scope.spawn(|| {
            loop {
                let line = bob.json();
                if line["type"] == "idle_warning" {
                    assert_eq!(line, json!({"type": "idle_warning", "seconds": 1}));
                    bob.send("");
                    continue;
                }
                assert_eq!(line, json!({"type": "disconnected", "nick": "alice", "reason": "idle for too long"}));
                break;
            }
            bob.send(r#"{"type":"who","room":"r"}"#);
            loop {
                let line = bob.json();
                if line["type"] != "idle_warning" {
                    assert_eq!(
                        line,
                        json!({"type": "who", "room": "r", "members": ["Guest3"], "total": 1, "next": null})
                    );
                    break;
                }
            }
        });
        let text_witness = scope.spawn(|| {
            let warning = "* you have been idle; you will be disconnected in 1 s unless you send something";
            loop {
                let line = carol.line();
                if line == warning {
                    carol.send("");
                    continue;
                }
                assert_eq!(line, "* Guest2 disconnected (idle for too long)");
                break;
            }
            carol.send("/who");
            let before = carol.read_until("* in s (1): carol");
            assert!(before.iter().all(|l| l == warning), "{before:#?}");
        });

        alice.expect("* you have been idle; you will be disconnected in 1 s unless you send something");
        alice.expect("* bye: idle for too long");
        alice.expect_eof();
        assert_eq!(dave.json(), json!({"type": "idle_warning", "seconds": 1}));
        assert_eq!(dave.json(), json!({"type": "bye", "code": "idle", "reason": "idle for too long"}));
        dave.expect_eof();
        json_witness.join().expect("the JSON witness saw alice go");
        text_witness.join().expect("the text witness saw dave go");
    });
}

#[test]
fn a_whisper_to_an_offline_account_is_kept_and_delivered_with_sender_and_time_at_login() {
    let server = Server::start(chatd!(), &["--max-offline-messages", "3", "--flood-lines-per-sec", "0"]);
    let mut alice = register(&server, "alice");
    quit(&mut alice);
    let mut ann = register(&server, "ann");
    quit(&mut ann);

    let sent_from = unix_ms();
    // A guest may not leave a message for later; accounts may.
    let mut guest = server.login("guest");
    guest.send("/msg alice hello?");
    guest.expect("! alice is offline; log in to leave a message for them");
    let mut bob = register(&server, "bob");
    bob.send("/msg alice are you there?");
    bob.expect("* alice is offline; your message was kept and will be delivered when they log in");
    bob.send("@ALICE second");
    bob.expect("* alice is offline; your message was kept and will be delivered when they log in");
    bob.send("/msg ann for ann");
    bob.expect("* ann is offline; your message was kept and will be delivered when they log in");
    // A name without an account is nobody to keep messages for.
    bob.send("/msg zed hello");
    bob.expect("! nobody named zed is online");
    let mut carol = server.connect();
    carol
        .first_json(&format!(r#"{{"type":"register","name":"carol","password":"{PASSWORD}","confirm":"{PASSWORD}"}}"#));
    assert_eq!(carol.json()["type"], "registered");
    assert_eq!(carol.json()["type"], "nick");
    assert_eq!(carol.json()["type"], "logged_in");
    carol.send(r#"{"type":"msg","to":"alice","text":"third"}"#);
    assert_eq!(carol.json(), json!({"type": "kept", "to": "alice"}));
    // The mailbox holds three.
    carol.send(r#"{"type":"msg","to":"alice","text":"fourth"}"#);
    assert_eq!(carol.json_error("mailbox_full"), "alice is offline and cannot take more messages now");
    bob.send("/msg alice fifth");
    bob.expect("! alice is offline and cannot take more messages now");
    let sent_until = unix_ms();

    let mut alice = server.connect();
    alice.expect_prefix("* Welcome");
    alice.send(&format!("/login alice {PASSWORD}"));
    alice.expect("* you are now known as alice");
    alice.expect("* logged in as alice; 3 messages kept for you:");
    for (from, text) in [("bob", "are you there?"), ("bob", "second"), ("carol", "third")] {
        let line = alice.line();
        let time = between(&line, &format!("[whisper from {from} "), &format!(", while you were away] {text}"));
        assert_utc_time(time);
    }
    // Delivered once: the mailbox is empty now, and whispers go straight through.
    bob.send("/msg alice live now");
    bob.expect_prefix("[whisper to alice ");
    let live = alice.expect_prefix("[whisper from bob ");
    assert!(live.ends_with("] live now"), "{live}");
    quit(&mut alice);
    let mut alice = server.connect();
    alice.expect_prefix("* Welcome");
    alice.send(&format!("/login alice {PASSWORD}"));
    alice.expect("* you are now known as alice");
    alice.expect("* logged in as alice");

    let mut ann = server.connect();
    ann.first_json(r#"{"type":"login","name":"ann","password":"Zq8-open-sesame"}"#);
    assert_eq!(ann.json()["type"], "nick");
    assert_eq!(ann.json(), json!({"type": "logged_in", "name": "ann", "offline": 1}));
    let kept = ann.json();
    let ts = kept["ts"].as_u64().unwrap_or_default();
    assert!((sent_from..=sent_until).contains(&ts), "{kept} was not sent between {sent_from} and {sent_until}");
    // Third of the whispers between accounts here (after bob's two to alice): its number in their conversation.
    assert_eq!(
        kept,
        json!({"type": "whisper", "from": "bob", "to": "ann", "text": "for ann", "ts": ts, "offline": true, "seq": 3})
    );
}

#[test]
fn seen_and_since_tell_who_was_here_and_when() {
    let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0"]);
    let before_alice = unix_ms();
    let mut alice = register(&server, "alice");
    quit(&mut alice);
    let after_alice = unix_ms();

    let mut bob = server.login("bob");
    for asked in ["alice", "ALICE"] {
        bob.send(&format!("/seen {asked}"));
        let line = bob.line();
        assert_utc_time(between(&line, "* alice was last seen ", ""));
    }
    bob.send("/seen bob");
    bob.expect("* bob is online now");
    bob.send("/seen zed");
    bob.expect("! zed has not been seen (only registered users are remembered)");
    bob.send("/seen");
    bob.expect("! usage: /seen NICK");
    bob.send("/since 3600");
    let line = bob.line();
    assert_utc_time(between(&line, "* online within the last 3600 s (2): bob (online), alice (last seen ", ")"));
    bob.send("/since soon");
    bob.expect("! usage: /since SECONDS [FROM]");

    let mut bot = server.connect();
    bot.first_json(r#"{"type":"seen","nick":"alice"}"#);
    let seen = bot.json();
    let last_seen = seen["last_seen"].as_u64().unwrap_or_default();
    assert!(
        (before_alice..=after_alice).contains(&last_seen),
        "{seen}: alice was here from {before_alice} to {after_alice}"
    );
    assert_eq!(seen, json!({"type": "seen", "nick": "alice", "online": false, "last_seen": last_seen}));
    bot.send(r#"{"type":"seen","nick":"bob"}"#);
    assert_eq!(bot.json(), json!({"type": "seen", "nick": "bob", "online": true, "last_seen": null}));
    bot.send(r#"{"type":"seen","nick":"zed"}"#);
    bot.json_error("never_seen");
    bot.send(r#"{"type":"since","seconds":3600}"#);
    assert_eq!(
        bot.json(),
        json!({"type": "since", "seconds": 3600, "users": [
            {"nick": "bob", "online": true, "last_seen": null},
            {"nick": "Guest3", "online": true, "last_seen": null},
            {"nick": "alice", "online": false, "last_seen": last_seen},
        ], "total": 3, "next": null})
    );
    // Hashing a password takes milliseconds, so alice left more than 0 s ago.
    let _carol = register(&server, "carol");
    bot.send(r#"{"type":"since","seconds":0}"#);
    let since = bot.json();
    let nicks: Vec<&str> = since["users"].as_array().into_iter().flatten().filter_map(|u| u["nick"].as_str()).collect();
    assert_eq!(nicks, ["bob", "carol", "Guest3"], "{since}");
}

#[test]
fn blocking_refuses_whispers_hides_room_messages_and_history_and_can_be_undone() {
    let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0", "--history-len", "2"]);
    let mut alice = register(&server, "alice");
    alice.send("/create r");
    alice.expect("* room r created");
    alice.expect("* you are now in r (1 here)");
    let mut mallory = server.login("mallory");
    mallory.send("/join r");
    mallory.expect("* you are now in r (2 here)");
    alice.expect("* mallory joined r");
    let mut bob = server.login("bob");
    bob.send("/join r");
    bob.expect("* you are now in r (3 here)");
    alice.expect("* bob joined r");
    mallory.expect("* bob joined r");

    alice.send("/block mallory");
    alice.expect("* you now block mallory");
    alice.send("/block Alice");
    alice.expect("! you cannot block yourself");
    alice.send("/unblock zed");
    alice.expect("! you do not block zed");
    alice.send("/block #r");
    alice.expect_prefix("! invalid nickname: ");
    alice.send("/block carol");
    alice.expect("* you now block carol");
    alice.send("/blocked");
    alice.expect("* you block (2): carol, mallory");

    mallory.send("/msg alice let me in");
    mallory.expect("! alice does not accept messages from you");
    // Mallory and bob take turns; alice hears only bob.
    for (n, text) in ["one", "two", "three", "four", "five", "six"].iter().enumerate() {
        let (speaker, other, name) =
            if n % 2 == 0 { (&mut mallory, &mut bob, "mallory") } else { (&mut bob, &mut mallory, "bob") };
        speaker.send(text);
        other.expect(&format!("[r] {name}: {text}"));
    }
    alice.expect("[r] bob: two");
    alice.expect("[r] bob: four");
    alice.expect("[r] bob: six");

    // On joining, the kept history (five, six) skips mallory; /history
    // fetches older messages from the store and skips them too.
    alice.send("/leave");
    alice.expect("* you left r");
    alice.send("/join r");
    alice.expect("* you are now in r (3 here)");
    let replay = alice.expect_prefix("~ [r ");
    assert!(replay.ends_with("] bob: six"), "{replay}");
    alice.send("/history");
    alice.expect("* 2 earlier messages of r:");
    for text in ["two", "four"] {
        let line = alice.expect_prefix("~ [r ");
        assert!(line.ends_with(&format!("] bob: {text}")), "{line}");
    }
    alice.expect("* that is the beginning of r");

    // A JSON guest blocks too; its pages skip the blocked sender.
    let mut carol = server.connect();
    carol.first_json(r#"{"type":"nick","nick":"carol"}"#);
    assert_eq!(carol.json()["type"], "nick");
    carol.send(r#"{"type":"block","nick":"mallory"}"#);
    assert_eq!(carol.json(), json!({"type": "block", "nick": "mallory", "blocked": true}));
    carol.send(r#"{"type":"blocked"}"#);
    assert_eq!(carol.json(), json!({"type": "block_list", "names": ["mallory"]}));
    carol.send(r#"{"type":"join","room":"r"}"#);
    assert_eq!(carol.json()["type"], "joined");
    assert_eq!(carol.json()["text"], "six");
    alice.expect("* carol joined r");
    carol.send(r#"{"type":"history","room":"r"}"#);
    let page = carol.json();
    assert_eq!((page["type"].as_str(), page["more"].as_bool()), (Some("history"), Some(false)), "{page}");
    let texts: Vec<&Value> = page["messages"].as_array().into_iter().flatten().map(|m| &m["text"]).collect();
    assert_eq!(texts, ["two", "four", "six"], "{page}");
    carol.send(r#"{"type":"msg","to":"alice","text":"hi"}"#);
    assert_eq!(carol.json_error("blocked"), "alice does not accept messages from you");
    carol.send(r#"{"type":"unblock","nick":"mallory"}"#);
    assert_eq!(carol.json(), json!({"type": "block", "nick": "mallory", "blocked": false}));
    carol.send(r#"{"type":"unblock","nick":"mallory"}"#);
    carol.json_error("not_blocked");

    // Unblocked, mallory is heard again.
    alice.send("/unblock MALLORY");
    alice.expect("* you no longer block MALLORY");
    alice.send("/unblock carol");
    alice.expect("* you no longer block carol");
    alice.send("/blocked");
    alice.expect("* you block nobody");
    mallory.send("seven");
    alice.expect("[r] mallory: seven");
    mallory.send("/msg alice hello again");
    mallory.read_until_prefix("[whisper to alice ");
    let whisper = alice.expect_prefix("[whisper from mallory ");
    assert!(whisper.ends_with("] hello again"), "{whisper}");
}

#[test]
fn an_offline_account_that_blocks_the_sender_keeps_nothing_from_it() {
    let server = Server::start(chatd!(), &[]);
    let mut alice = register(&server, "alice");
    alice.send("/block mallory");
    alice.expect("* you now block mallory");
    quit(&mut alice);
    let mut mallory = server.login("mallory");
    mallory.send("/msg alice are you there?");
    mallory.expect("! alice does not accept messages from you");
    let mut alice = server.connect();
    alice.expect_prefix("* Welcome");
    alice.send(&format!("/login alice {PASSWORD}"));
    alice.expect("* you are now known as alice");
    alice.expect("* logged in as alice");
}

#[test]
fn a_json_client_pages_past_a_page_that_only_blocked_senders_wrote() {
    let server =
        Server::start(chatd!(), &["--flood-lines-per-sec", "0", "--history-len", "2", "--history-page-len", "2"]);
    let mut bob = server.login("bob");
    bob.send("/create r");
    bob.expect("* room r created");
    bob.expect("* you are now in r (1 here)");
    let mut mallory = server.login("mallory");
    mallory.send("/join r");
    mallory.expect("* you are now in r (2 here)");
    bob.expect("* mallory joined r");
    // Messages 1 to 4: bob, mallory, mallory, bob.
    bob.send("one");
    mallory.expect("[r] bob: one");
    mallory.send("two");
    bob.expect("[r] mallory: two");
    mallory.send("three");
    bob.expect("[r] mallory: three");
    bob.send("four");
    mallory.expect("[r] bob: four");

    let mut carol = server.connect();
    carol.first_json(r#"{"type":"block","nick":"mallory"}"#);
    assert_eq!(carol.json()["blocked"], true);
    carol.send(r#"{"type":"join","room":"r"}"#);
    assert_eq!(carol.json()["type"], "joined");
    assert_eq!(carol.json()["text"], "four");
    let mut before = None;
    let mut texts = Vec::new();
    // Each page says where it began, even when it shows nothing.
    for _ in 0..4 {
        let request = match before {
            None => json!({"type": "history", "room": "r"}),
            Some(seq) => json!({"type": "history", "room": "r", "before": seq}),
        };
        carol.send(&request.to_string());
        let page = carol.json();
        assert_eq!(page["type"], "history", "{page}");
        let mut shown: Vec<String> = page["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["text"].as_str().map(str::to_owned))
            .collect();
        shown.append(&mut texts);
        texts = shown;
        if page["more"] != true {
            break;
        }
        before = Some(page["oldest"].as_u64().unwrap_or_else(|| panic!("a page with more has its oldest seq: {page}")));
    }
    assert_eq!(texts, ["one", "four"]);
}
