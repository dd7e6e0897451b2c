//! The JSON Lines protocol: a client picks it by sending a JSON object as
//! its first line, and talks with text clients in the same rooms.

use chatd_tests::{Server, chatd};
use serde_json::json;

#[test]
fn a_json_client_chats_with_a_text_client() {
    let server = Server::start(chatd!(), &[]);
    let mut bot = server.connect();
    // The greeting goes out before the client has said which protocol it speaks.
    bot.expect_prefix("* Welcome to chatd, Guest1!");
    bot.send(r#"{"type":"nick","nick":"bot"}"#);
    assert_eq!(bot.json(), json!({"type": "welcome", "server": "chatd", "nick": "Guest1"}));
    assert_eq!(bot.json(), json!({"type": "nick", "old": "Guest1", "new": "bot"}));

    bot.send(r#"{"type":"create","room":"ops"}"#);
    assert_eq!(bot.json(), json!({"type": "created", "room": "ops"}));
    assert_eq!(bot.json(), json!({"type": "joined", "room": "ops", "nick": "bot", "members": 1}));

    let mut alice = server.login("alice");
    alice.send("/join ops");
    alice.expect("* you are now in ops (2 here)");
    assert_eq!(bot.json(), json!({"type": "joined", "room": "ops", "nick": "alice", "members": 2}));

    alice.send("deploy?");
    let message = bot.json();
    assert_eq!(message["type"], "message");
    assert_eq!(message["room"], "ops");
    assert_eq!(message["from"], "alice");
    assert_eq!(message["text"], "deploy?");
    assert_eq!(message["history"], false);
    assert!(message["ts"].as_u64().is_some_and(|ts| ts > 1_600_000_000_000), "{message}");

    bot.send(r#"{"type":"say","room":"ops","text":"deploying \"main\""}"#);
    alice.expect(r#"[ops] bot: deploying "main""#);
    // The sender's own copy, numbered after alice's.
    let own = bot.json();
    assert_eq!(
        (own["type"].as_str(), own["seq"].as_u64(), own["from"].as_str()),
        (Some("message"), Some(2), Some("bot"))
    );

    bot.send(r#"{"type":"msg","to":"alice","text":"done"}"#);
    let echo = bot.json();
    assert_eq!(
        (echo["type"].as_str(), echo["to"].as_str(), echo["text"].as_str()),
        (Some("whisper"), Some("alice"), Some("done"))
    );
    let whisper = alice.expect_prefix("[whisper from bot ");
    assert!(whisper.ends_with("] done"), "{whisper:?}");

    bot.send(r#"{"type":"list"}"#);
    assert_eq!(
        bot.json(),
        json!({"type": "rooms", "rooms": [{"name": "ops", "members": 2}], "total": 1, "next": null})
    );
}

#[test]
fn json_errors_carry_a_stable_code() {
    let server = Server::start(chatd!(), &[]);
    let mut bot = server.connect();
    bot.expect_prefix("* Welcome");
    bot.send(r#"{"type":"users"}"#);
    assert_eq!(bot.json()["type"], "welcome");
    assert_eq!(bot.json(), json!({"type": "users", "users": ["Guest1"], "total": 1, "next": null}));

    for (line, code) in [
        (r#"{"type":"frobnicate"}"#, "unknown_command"),
        (r#"{"type":"join"}"#, "usage"),
        (r#"{"type":"join","room":"nowhere"}"#, "no_such_room"),
        (r#"{"type":"say","text":"hello?"}"#, "in_lobby"),
        ("{not json", "bad_json"),
        ("plain text", "bad_json"),
    ] {
        bot.send(line);
        let error = bot.json();
        assert_eq!(error["type"], "error", "{line}: {error}");
        assert_eq!(error["code"], code, "{line}: {error}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{error}");
    }

    bot.send(r#"{"type":"quit"}"#);
    assert_eq!(bot.json(), json!({"type": "bye", "code": "quit", "reason": "quit"}));
    bot.expect_eof();
}

/// Request ids over a real socket: every answer names its request, a
/// request that causes nothing else gets `ok`, a refusal names the
/// request it refused, and the sender's own message comes back with the
/// `seq` it was stored under.
#[test]
fn replies_name_the_request_and_own_messages_come_back_numbered() {
    let server = Server::start(chatd!(), &[]);
    let mut bot = server.connect();
    bot.expect_prefix("* Welcome");
    bot.send(r#"{"type":"nick","nick":"bot","id":"n1"}"#);
    assert_eq!(bot.json()["type"], "welcome");
    assert_eq!(bot.json(), json!({"type": "nick", "old": "Guest1", "new": "bot", "id": "n1"}));
    bot.send(r#"{"type":"create","room":"ops","id":2}"#);
    assert_eq!(bot.json(), json!({"type": "created", "room": "ops", "id": 2}));
    assert_eq!(bot.json(), json!({"type": "joined", "room": "ops", "nick": "bot", "members": 1, "id": 2}));

    let mut alice = server.login("alice");
    alice.send("/join ops");
    alice.expect("* you are now in ops (2 here)");
    assert_eq!(bot.json(), json!({"type": "joined", "room": "ops", "nick": "alice", "members": 2}), "no id: not ours");
    alice.send("first");
    assert_eq!(bot.json()["seq"], 1);

    // Two requests at once: the first accepted, the second refused; each
    // answer names its own request.
    bot.send("{\"type\":\"say\",\"text\":\"second\",\"id\":\"s\"}\n{\"type\":\"say\",\"text\":\"\u{202e}third\",\"id\":\"t\"}");
    let own = bot.json();
    assert_eq!(
        (own["type"].as_str(), own["seq"].as_u64(), own["text"].as_str(), own["id"].as_str()),
        (Some("message"), Some(2), Some("second"), Some("s"))
    );
    let refused = bot.json();
    assert_eq!((refused["code"].as_str(), refused["id"].as_str()), (Some("layout_character"), Some("t")));
    alice.expect("[ops] bot: second");

    bot.send(r#"{"type":"mode","room":"ops","modes":"+n","id":"m"}"#);
    assert_eq!(bot.json(), json!({"type": "ok", "id": "m"}));
    bot.send(r#"{"type":"list","id":[1]}"#);
    let bad = bot.json();
    assert_eq!((bad["code"].as_str(), bad.get("id")), (Some("bad_id"), None));
    bot.send(r#"{"type":"quit","id":"q"}"#);
    assert_eq!(bot.json(), json!({"type": "bye", "code": "quit", "reason": "quit", "id": "q"}));
}

/// A client that comes back (after its server was killed, to another node
/// of a cluster) pages forward from the last message it saw: memory keeps
/// only the newest few, so the first pages come from the store, the last
/// from memory, and every later message arrives once, in order.
#[test]
fn a_returning_client_pages_forward_from_the_last_message_it_saw() {
    let args = ["--flood-lines-per-sec", "0", "--history-len", "3", "--history-page-len", "4"];
    let server = Server::start(chatd!(), &args);
    let mut alice = server.login("alice");
    alice.send("/create r");
    alice.expect("* room r created");
    alice.expect("* you are now in r (1 here)");
    for n in 1..=20 {
        alice.send(&format!("message {n}"));
    }
    alice.sync();

    let mut reader = server.connect();
    reader.expect_prefix("* Welcome to ");
    reader.send(r#"{"type":"join","room":"r"}"#);
    let mut seen = Vec::new();
    let mut after = 5;
    let mut pages = 0;
    loop {
        reader.send(&json!({"type": "history", "room": "r", "after": after}).to_string());
        let page = loop {
            let value = reader.json();
            if value["type"] == "history" || value["type"] == "error" {
                break value;
            }
        };
        assert_eq!(page["type"], "history", "{page}");
        let messages = page["messages"].as_array().expect("messages");
        assert!(messages.len() <= 4, "{page}");
        for m in messages {
            let seq = m["seq"].as_u64().expect("seq");
            assert_eq!(m["text"], format!("message {seq}"), "{page}");
            seen.push(seq);
        }
        after = page["newest"].as_u64().expect("newest");
        pages += 1;
        if page["more"] == false {
            break;
        }
        assert!(pages < 10, "paging does not end: {page}");
    }
    assert_eq!(seen, (6..=20).collect::<Vec<u64>>());
    assert_eq!(pages, 4);

    // `before` and `after` at once asks for two pages: refused.
    reader.send(r#"{"type":"history","room":"r","before":9,"after":5}"#);
    let refusal = reader.json();
    assert_eq!((refusal["type"].as_str(), refusal["code"].as_str()), (Some("error"), Some("usage")), "{refusal}");
}
