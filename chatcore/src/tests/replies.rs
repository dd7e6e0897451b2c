//! Replies a client can match to its request: a JSON request's `id`
//! echoed on every answer (an `ok` when there is none), a sender's own
//! messages echoed with their `seq`, and the stable codes of `bye`.

use std::time::Duration;

use serde_json::{Value, json};

use super::{relaxed, sim};
use crate::sim::Sim;
use crate::{ClientId, Config, DisconnectReason, HistoryTarget, StoredMessage};

/// A JSON client `nick` in a room `r` it created, and a second member `bob`,
/// both with empty inboxes.
fn in_room(sim: &mut Sim) -> (ClientId, ClientId) {
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    sim.send_json(a, &json!({"type":"create","room":"r"}));
    sim.send_json(b, &json!({"type":"join","room":"r"}));
    sim.clear();
    (a, b)
}

#[test]
fn every_reply_to_a_request_names_its_id() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    let before = sim.engine().stats().deliveries;
    sim.send_json(a, &json!({"type":"create","room":"r","id":"c1"}));
    assert_eq!(sim.engine().stats().deliveries, before + 2, "written at once, counted per line");
    assert_eq!(
        sim.take_json(a),
        [
            json!({"type":"created","room":"r","id":"c1"}),
            json!({"type":"joined","room":"r","nick":"alice","members":1,"id":"c1"}),
        ]
    );
    // A broadcast the request caused: the sender's copy names the id, the
    // others' do not.
    sim.send_json(b, &json!({"type":"join","room":"r","id":7}));
    assert_eq!(sim.take_json(b)[0], json!({"type":"joined","room":"r","nick":"bob","members":2,"id":7}));
    assert_eq!(sim.take_json(a), [json!({"type":"joined","room":"r","nick":"bob","members":2})]);
    // An error names it too, whatever its command.
    sim.send_json(a, &json!({"type":"join","room":"nowhere","id":"j"}));
    let reply = sim.take_json(a);
    assert_eq!((reply.len(), &reply[0]["code"], &reply[0]["id"]), (1, &json!("no_such_room"), &json!("j")));
    sim.send_json(a, &json!({"type":"frobnicate","id":-1.5}));
    let reply = sim.take_json(a);
    assert_eq!((&reply[0]["code"], &reply[0]["id"]), (&json!("unknown_command"), &json!(-1.5)));
    sim.send_json(a, &json!({"type":"say","id":"u"}));
    let reply = sim.take_json(a);
    assert_eq!((&reply[0]["code"], &reply[0]["id"]), (&json!("usage"), &json!("u")));
}

#[test]
fn a_request_that_causes_no_reply_gets_ok_only_with_an_id() {
    let mut sim = sim();
    let (a, b) = in_room(&mut sim);
    // Setting a mode the room has already changes nothing and tells nobody.
    sim.send_json(a, &json!({"type":"mode","room":"r","modes":"+n"}));
    assert_eq!(sim.take_json(a), Vec::<Value>::new(), "no id: nothing new");
    sim.send_json(a, &json!({"type":"mode","room":"r","modes":"+n","id":"m"}));
    assert_eq!(sim.take_json(a), [json!({"type":"ok","id":"m"})]);
    assert_eq!(sim.take_json(b), Vec::<Value>::new());
}

#[test]
fn lines_without_an_id_carry_none() {
    let mut sim = sim();
    let (a, _) = in_room(&mut sim);
    sim.send_json(a, &json!({"type":"say","text":"hi"}));
    sim.send_json(a, &json!({"type":"join","room":"nowhere"}));
    for reply in sim.take_json(a) {
        assert!(reply.get("id").is_none(), "{reply}");
    }
}

#[test]
fn a_bad_id_refuses_the_request_and_echoes_nothing() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let long = "x".repeat(63); // 65 bytes with its quotes
    for id in [json!({"a":1}), json!([1]), json!(null), json!(true), json!(long)] {
        sim.send_json(a, &json!({"type":"create","room":"r","id":id}));
        let reply = sim.take_json(a);
        assert_eq!(reply.len(), 1, "{id}: {reply:?}");
        assert_eq!(reply[0]["code"], "bad_id", "{id}");
        assert!(reply[0].get("id").is_none(), "{id}: {reply:?}");
        assert!(reply[0]["message"].as_str().unwrap().contains("at most 64 bytes"));
    }
    assert_eq!(sim.engine().room_count(), 0, "no refused request was carried out");
    // 64 bytes written out is still fine.
    let longest = "x".repeat(62);
    sim.send_json(a, &json!({"type":"create","room":"r","id":longest}));
    assert_eq!(sim.take_json(a)[0]["id"], json!(longest));
}

#[test]
fn a_refusal_of_the_raw_line_names_its_id() {
    let mut sim = sim();
    let (a, b) = in_room(&mut sim);
    // A bidirectional override, sent as it is (JSON needs no escape for it).
    sim.send(a, "{\"type\":\"say\",\"text\":\"\u{202e}evil\",\"id\":\"l\"}");
    let reply = sim.take_json(a);
    assert_eq!((reply.len(), &reply[0]["code"], &reply[0]["id"]), (1, &json!("layout_character"), &json!("l")));
    assert_eq!(sim.take_json(b), Vec::<Value>::new());
}

#[test]
fn a_flood_refusal_names_the_request_it_refused() {
    let mut sim = Sim::new(Config { flood_burst: 2, flood_lines_per_sec: 1, ..relaxed() });
    let (a, _) = in_room(&mut sim);
    sim.advance(Duration::from_secs(5));
    sim.send_json(a, &json!({"type":"say","text":"one","id":"s1"}));
    sim.send_json(a, &json!({"type":"say","text":"two","id":"s2"}));
    sim.send_json(a, &json!({"type":"say","text":"three","id":"s3"}));
    let replies = sim.take_json(a);
    assert_eq!(replies.len(), 3, "{replies:?}");
    assert_eq!(
        (&replies[0]["type"], &replies[0]["text"], &replies[0]["id"]),
        (&json!("message"), &json!("one"), &json!("s1"))
    );
    assert_eq!(
        (&replies[1]["type"], &replies[1]["text"], &replies[1]["id"]),
        (&json!("message"), &json!("two"), &json!("s2"))
    );
    assert_eq!((&replies[2]["code"], &replies[2]["id"]), (&json!("flood"), &json!("s3")));
}

#[test]
fn a_json_sender_gets_its_message_back_with_its_seq() {
    let mut sim = sim();
    let (a, b) = in_room(&mut sim);
    sim.send_json(b, &json!({"type":"say","text":"first"}));
    sim.send_json(a, &json!({"type":"say","room":"r","text":"second","id":"x"}));
    let ts = Sim::BASE_UNIX_MS;
    let second = json!({"type":"message","room":"r","seq":2,"from":"alice","text":"second","ts":ts,"history":false});
    let mut own = second.clone();
    own["id"] = json!("x");
    assert_eq!(sim.take_json(a)[1], own);
    assert_eq!(sim.take_json(b)[1], second);
    assert_eq!(sim.engine().history_len("r"), Some(2));
}

#[test]
fn a_text_sender_gets_no_echo() {
    let mut sim = sim();
    let t = sim.connect_as("tom");
    let j = sim.connect_json_as("jo");
    sim.send(t, "/create r");
    sim.send_json(j, &json!({"type":"join","room":"r"}));
    sim.clear();
    sim.send(t, "hello");
    assert_eq!(sim.take(t), Vec::<String>::new());
    assert_eq!(sim.take_json(j)[0]["text"], "hello");
}

/// Registers `name` from a JSON client, answering the password check.
fn account(sim: &mut Sim, name: &str) -> ClientId {
    let id = sim.connect_json_as(&format!("{name}_"));
    let password = format!("Pw-{name}-1");
    sim.send_json(id, &json!({"type":"register","name":name,"password":password,"confirm":password}));
    sim.answer_auth();
    sim.clear();
    id
}

#[test]
fn a_whisper_between_accounts_comes_back_with_its_seq_and_id() {
    // Whispers between accounts are numbered where a store keeps them.
    let mut sim = Sim::new(Config { emit_records: true, ..relaxed() });
    let a = account(&mut sim, "alice");
    let b = account(&mut sim, "bob");
    sim.send_json(a, &json!({"type":"msg","to":"bob","text":"psst","id":"w"}));
    let own = sim.take_json(a);
    let got = sim.take_json(b);
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!((&own[0]["type"], &own[0]["from"], &own[0]["to"]), (&json!("whisper"), &json!("alice"), &json!("bob")));
    assert_eq!(own[0]["id"], "w");
    assert!(own[0]["seq"].as_u64().is_some(), "kept whispers have a seq: {own:?}");
    assert_eq!(own[0]["seq"], got[0]["seq"]);
    assert!(got[0].get("id").is_none());
}

#[test]
fn a_password_check_answers_later_with_the_id_of_its_request() {
    let mut sim = sim();
    let a = sim.connect_json_as("guest");
    sim.send_json(a, &json!({"type":"register","name":"ann","password":"Pw-ann-11","confirm":"Pw-ann-11","id":"r1"}));
    assert_eq!(sim.take_json(a), Vec::<Value>::new(), "no ok while the check is in flight");
    sim.send_json(a, &json!({"type":"users","id":"u1"}));
    assert_eq!(sim.take_json(a)[0]["id"], "u1");
    sim.answer_auth();
    let replies = sim.take_json(a);
    assert!(!replies.is_empty());
    assert!(replies.iter().all(|r| r["id"] == "r1"), "{replies:?}");
    assert_eq!(replies[0], json!({"type":"registered","name":"ann","id":"r1"}));
}

#[test]
fn a_page_read_from_the_store_names_its_request() {
    let config = Config { history_len: 2, history_page_len: 2, emit_records: true, ..relaxed() };
    let mut sim = Sim::new(config);
    let (a, _) = in_room(&mut sim);
    for text in ["one", "two", "three", "four"] {
        sim.send_json(a, &json!({"type":"say","text":text}));
    }
    sim.clear();
    sim.send_json(a, &json!({"type":"history","room":"r","before":3,"id":"h"}));
    assert_eq!(sim.take_json(a), Vec::<Value>::new(), "answered when the page is read");
    let stored = |seq: u64, text: &str| StoredMessage {
        seq,
        from: "alice".into(),
        text: text.into(),
        unix_ms: 0,
        kind: crate::MessageKind::Said,
    };
    let target = HistoryTarget::Room("r".into());
    sim.engine_mut().handle_history_page(a, &target, vec![stored(1, "one"), stored(2, "two")], 0).unwrap();
    sim.drain();
    let page = sim.take_json(a);
    assert_eq!((page.len(), &page[0]["type"], &page[0]["id"]), (1, &json!("history"), &json!("h")));
}

#[test]
fn bye_carries_a_stable_code() {
    let mut sim = Sim::new(Config { max_clients: 2, idle_timeout: Duration::from_secs(60), ..relaxed() });
    let a = sim.connect_json_as("alice");
    sim.send_json(a, &json!({"type":"quit","id":"q"}));
    assert_eq!(sim.take_json(a), [json!({"type":"bye","code":"quit","reason":"quit","id":"q"})]);
    assert_eq!(sim.closed(a), Some(&DisconnectReason::Quit(None)));
    let b = sim.connect_json_as("bob");
    sim.advance(Duration::from_secs(61));
    let said = sim.take_json(b);
    assert_eq!(said.last().unwrap()["code"], "idle", "{said:?}");
    let c = sim.connect_json_as("carol");
    sim.shutdown();
    assert_eq!(sim.take_json(c).last().unwrap()["code"], "shutdown");
    let codes = [
        (DisconnectReason::Quit(Some("x".into())), "quit"),
        (DisconnectReason::ConnectionClosed, "connection_closed"),
        (DisconnectReason::ConnectionError, "connection_error"),
        (DisconnectReason::SendQueueExceeded, "send_queue_full"),
        (DisconnectReason::ServerFull, "server_full"),
        (DisconnectReason::RegistrationTimeout, "registration_timeout"),
        (DisconnectReason::ServerShutdown, "shutdown"),
        (DisconnectReason::IdleTimeout, "idle"),
        (DisconnectReason::LoggedInElsewhere, "logged_in_elsewhere"),
        (DisconnectReason::WrongServerPassword, "wrong_server_password"),
        (DisconnectReason::NameUnavailable, "name_unavailable"),
        (DisconnectReason::LoggedOut, "logged_out"),
        (DisconnectReason::Killed { by: "alice".into(), reason: None }, "killed"),
    ];
    for (reason, code) in &codes {
        assert_eq!(reason.code(), *code, "{reason}");
    }
    // The public list holds each of those codes once, and nothing else.
    let mut listed: Vec<_> = crate::BYE_CODES.iter().map(|bye| bye.code).collect();
    listed.sort_unstable();
    let mut expected: Vec<_> = codes.iter().map(|(_, code)| *code).collect();
    expected.sort_unstable();
    assert_eq!(listed, expected, "BYE_CODES is every reason's code");
    for bye in crate::BYE_CODES {
        assert!(bye.code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{bye:?}");
    }
}
