//! The JSON Lines codec: every request, every reply object, every error code.

use std::time::Duration;

use serde_json::{Value, json};

use super::{rejected, sim};
use crate::command::COMMANDS;
use crate::sim::Sim;
use crate::{Codec, Config, ConnectInfo, DisconnectReason, Output};

const TS: u64 = Sim::BASE_UNIX_MS;

/// Sends `request` from a JSON client that must be refused with `code`
/// (and `message`), leaving the state unchanged.
fn refused(sim: &mut Sim, id: crate::ClientId, request: &str, code: &str, message: &str) {
    let reply = rejected(sim, id, request);
    let expected = json!({"type": "error", "code": code, "message": message});
    assert_eq!(reply.len(), 1, "{request}: {reply:?}");
    assert_eq!(serde_json::from_str::<Value>(&reply[0]).unwrap(), expected, "{request}");
}

#[test]
fn a_json_first_line_switches_the_codec() {
    let mut sim = sim();
    let a = sim.connect();
    assert_eq!(sim.take(a), ["* Welcome to chatd, Guest1! You are in the Lobby. Type /help for commands."]);
    sim.send(a, r#"  {"type":"nick","nick":"alice"}"#);
    assert_eq!(
        sim.take(a),
        [r#"{"type":"welcome","server":"chatd","nick":"Guest1"}"#, r#"{"type":"nick","old":"Guest1","new":"alice"}"#]
    );
    assert_eq!(sim.engine().codec(a), Some(Codec::Json));
    // A text first line fixes the codec to text: a later JSON line is just words.
    let b = sim.connect_as("bob");
    sim.send(a, r#"{"type":"create","room":"r"}"#);
    sim.send(b, "/join r");
    sim.send(b, r#"{"type":"list"}"#);
    assert_eq!(sim.engine().codec(b), Some(Codec::Text));
    assert_eq!(
        sim.take_json(a).last().unwrap(),
        &json!({"type":"message","room":"r","seq":1,"from":"bob","text":"{\"type\":\"list\"}","ts":TS,"history":false})
    );
}

#[test]
fn a_client_connected_as_json_is_welcomed_in_json_and_stays_json() {
    let mut sim = sim();
    let now = sim.now();
    let a = sim.engine_mut().handle_connect(now, ConnectInfo::new(Codec::Json));
    sim.drain();
    assert_eq!(sim.take(a), [r#"{"type":"welcome","server":"chatd","nick":"Guest1"}"#]);
    // Not JSON, but the codec was the transport's choice: a JSON error, no second welcome.
    sim.send(a, "/nick alice");
    assert_eq!(sim.take(a), [r#"{"type":"error","code":"bad_json","message":"invalid JSON at column 1"}"#]);
    assert_eq!(sim.engine().codec(a), Some(Codec::Json));
    sim.send(a, r#"{"type":"nick","nick":"alice"}"#);
    assert_eq!(sim.take(a), [r#"{"type":"nick","old":"Guest1","new":"alice"}"#]);
}

#[test]
fn a_json_connection_over_max_clients_is_refused_in_json() {
    let mut sim = Sim::new(super::relaxed().with_max_clients(1));
    let _first = sim.connect();
    let now = sim.now();
    let b = sim.engine_mut().handle_connect(now, ConnectInfo::new(Codec::Json));
    sim.drain();
    assert_eq!(sim.take(b), [r#"{"type":"bye","code":"server_full","reason":"server is full; try again later"}"#]);
    assert_eq!(sim.closed(b), Some(&DisconnectReason::ServerFull));
}

#[test]
fn a_broken_json_first_line_still_selects_json() {
    let mut sim = sim();
    let a = sim.connect();
    sim.take(a);
    sim.send(a, "{oops");
    assert_eq!(
        sim.take(a),
        [
            r#"{"type":"welcome","server":"chatd","nick":"Guest1"}"#,
            r#"{"type":"error","code":"bad_json","message":"invalid JSON at column 2"}"#
        ]
    );
    assert_eq!(sim.engine().codec(a), Some(Codec::Json));
}

#[test]
fn rooms_messages_and_presence_as_objects() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    sim.send_json(a, &json!({"type":"create","room":"rust"}));
    assert_eq!(
        sim.take(a),
        [r#"{"type":"created","room":"rust"}"#, r#"{"type":"joined","room":"rust","nick":"alice","members":1}"#]
    );
    sim.send_json(a, &json!({"type":"say","text":"first"}));
    // The sender's own copy comes back, with the seq it was stored under.
    assert_eq!(
        sim.take_json(a),
        [json!({"type":"message","room":"rust","seq":1,"from":"alice","text":"first","ts":TS,"history":false})]
    );
    sim.advance(Duration::from_secs(1));
    sim.send_json(b, &json!({"type":"join","room":"RUST"}));
    assert_eq!(
        sim.take(b),
        [
            r#"{"type":"joined","room":"rust","nick":"bob","members":2}"#,
            &format!(
                r#"{{"type":"message","room":"rust","seq":1,"from":"alice","text":"first","ts":{TS},"history":true}}"#
            ),
        ]
    );
    assert_eq!(sim.take_json(a), [json!({"type":"joined","room":"rust","nick":"bob","members":2})]);
    sim.send_json(b, &json!({"type":"say","room":"#rust","text":"hi \"alice\" ✓"}));
    assert_eq!(
        sim.take(a),
        [format!(
            r#"{{"type":"message","room":"rust","seq":2,"from":"bob","text":"hi \"alice\" ✓","ts":{},"history":false}}"#,
            TS + 1000
        )]
    );
    assert_eq!(sim.take_json(b)[0]["seq"], 2, "bob's own copy");
    sim.send_json(a, &json!({"type":"nick","nick":"alicia"}));
    assert_eq!(sim.take_json(a), [json!({"type":"nick","old":"alice","new":"alicia"})]);
    assert_eq!(sim.take_json(b), [json!({"type":"nick","old":"alice","new":"alicia"})]);
    sim.send_json(b, &json!({"type":"leave"}));
    assert_eq!(sim.take_json(b), [json!({"type":"left","room":"rust","nick":"bob"})]);
    assert_eq!(sim.take_json(a), [json!({"type":"left","room":"rust","nick":"bob"})]);
    sim.send_json(b, &json!({"type":"join","room":"rust"}));
    sim.clear();
    sim.disconnect(b, DisconnectReason::ConnectionError).unwrap();
    assert_eq!(sim.take_json(a), [json!({"type":"disconnected","nick":"bob","reason":"connection error"})]);
    sim.send_json(a, &json!({"type":"quit","reason":"done"}));
    assert_eq!(sim.take(a), [r#"{"type":"bye","code":"quit","reason":"quit: done"}"#]);
    assert_eq!(sim.closed(a), Some(&DisconnectReason::Quit(Some("done".into()))));
}

#[test]
fn list_who_users_help() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_as("bob");
    sim.send_json(a, &json!({"type":"list"}));
    assert_eq!(sim.take(a), [r#"{"type":"rooms","rooms":[],"total":0,"next":null}"#]);
    sim.send_json(a, &json!({"type":"who"}));
    assert_eq!(sim.take(a), [r#"{"type":"who","room":null,"members":["alice","bob"],"total":2,"next":null}"#]);
    sim.send_json(a, &json!({"type":"create","room":"rust"}));
    sim.send_json(a, &json!({"type":"create","room":"go"}));
    sim.take(a);
    sim.send_json(a, &json!({"type":"list"}));
    assert_eq!(
        sim.take(a),
        [r#"{"type":"rooms","rooms":[{"name":"go","members":1},{"name":"rust","members":1}],"total":2,"next":null}"#]
    );
    // Only the rooms named, in the order named; one that does not exist is left out.
    sim.send_json(a, &json!({"type":"list","rooms":["rust","nope","go"]}));
    assert_eq!(
        sim.take_json(a),
        [json!({"type":"rooms","rooms":[{"name":"rust","members":1},{"name":"go","members":1}],"total":2,"next":null})]
    );
    sim.send_json(a, &json!({"type":"who"}));
    assert_eq!(
        sim.take(a),
        [r#"{"type":"who","room":"go","members":["alice"],"total":1,"next":null}"#],
        "the last room joined"
    );
    sim.send_json(a, &json!({"type":"who","room":"rust"}));
    assert_eq!(sim.take_json(a), [json!({"type":"who","room":"rust","members":["alice"],"total":1,"next":null})]);
    sim.send_json(a, &json!({"type":"users"}));
    assert_eq!(sim.take(a), [r#"{"type":"users","users":["alice","bob"],"total":2,"next":null}"#]);
    let _ = b;
    sim.send_json(a, &json!({"type":"help"}));
    let help = sim.take_json(a);
    assert_eq!(help.len(), 1);
    let commands = help[0]["commands"].as_array().unwrap();
    assert_eq!(help[0]["type"], "help");
    // A row with no JSON type (IRC's NOTICE, and the 16 verbs only IRC
    // has) is left out.
    let json_rows: Vec<_> = COMMANDS.iter().filter(|c| !c.json_type.is_empty()).collect();
    assert_eq!(commands.len(), COMMANDS.len() - 17);
    assert_eq!(
        commands[0],
        json!({"name":"nick","usage":"{\"type\":\"nick\",\"nick\":NAME}","about":"choose your nickname"})
    );
    for (got, want) in commands.iter().zip(json_rows) {
        assert_eq!(got, &json!({"name": want.json_type, "usage": want.json_usage, "about": want.about}));
    }
}

#[test]
fn whisper_as_objects() {
    let mut sim = sim();
    let a = sim.connect_json_as("alice");
    let b = sim.connect_as("bob");
    sim.send_json(a, &json!({"type":"msg","to":"BOB","text":"psst"}));
    assert_eq!(
        sim.take(a),
        [format!(r#"{{"type":"whisper","from":"alice","to":"bob","text":"psst","ts":{TS},"offline":false}}"#)]
    );
    assert_eq!(sim.take(b), ["[whisper from alice 22:13:20] psst"]);
    sim.send(b, "@alice back");
    assert_eq!(
        sim.take_json(a),
        [json!({"type":"whisper","from":"bob","to":"alice","text":"back","ts":TS,"offline":false})]
    );
}

#[test]
fn several_rooms_at_once() {
    let mut sim = Sim::new(super::relaxed().with_max_rooms_per_client(2));
    let a = sim.connect_json_as("alice");
    let t = sim.connect_as("tom");
    let b = sim.connect_json_as("bob");
    sim.send(t, "/create go");
    sim.send_json(a, &json!({"type":"create","room":"rust"}));
    sim.send_json(a, &json!({"type":"join","room":"go"}));
    sim.send_json(b, &json!({"type":"join","room":"go"}));
    sim.send_json(b, &json!({"type":"join","room":"rust"}));
    sim.clear();
    assert_eq!(sim.engine().rooms_of(a), Some(vec!["rust", "go"]));
    refused(
        &mut sim,
        a,
        r#"{"type":"say","text":"where?"}"#,
        "room_required",
        "you are in several rooms; name the room",
    );
    refused(&mut sim, a, r#"{"type":"leave"}"#, "room_required", "you are in several rooms; name the room");
    let missing = "no room named zig; /list shows the rooms, /create makes one";
    refused(&mut sim, a, r#"{"type":"say","room":"zig","text":"x"}"#, "no_such_room", missing);
    refused(&mut sim, a, r#"{"type":"leave","room":"zig"}"#, "no_such_room", missing);
    refused(
        &mut sim,
        a,
        r#"{"type":"create","room":"zig"}"#,
        "too_many_rooms",
        "you are already in the maximum of 2 rooms; leave one first",
    );
    sim.send(t, "/create zig");
    sim.send(t, "/join go");
    sim.clear();
    refused(&mut sim, a, r#"{"type":"leave","room":"zig"}"#, "not_in_room", "you are not in zig");
    refused(
        &mut sim,
        a,
        r#"{"type":"join","room":"zig"}"#,
        "too_many_rooms",
        "you are already in the maximum of 2 rooms; leave one first",
    );
    refused(&mut sim, a, r#"{"type":"join","room":"Go"}"#, "already_in_room", "you are already in go");
    // A message to one room reaches that room only; text and JSON members
    // each get the form of their codec, rendered once per codec; the JSON
    // sender gets its own copy back.
    sim.take_transcript();
    sim.send_json(a, &json!({"type":"say","room":"go","text":"hi go"}));
    assert_eq!(
        sim.take_json(b),
        [json!({"type":"message","room":"go","seq":1,"from":"alice","text":"hi go","ts":TS,"history":false})]
    );
    assert_eq!(sim.take(t), ["[go] alice: hi go"]);
    assert_eq!(sim.take_transcript().len(), 3);
    // Someone who shares two rooms hears of a disconnect once.
    sim.disconnect(a, DisconnectReason::ConnectionClosed).unwrap();
    assert_eq!(sim.take_json(b), [json!({"type":"disconnected","nick":"alice","reason":"connection closed"})]);
    assert_eq!(sim.take(t), ["* alice disconnected (connection closed)"]);
    // Leaving one named room keeps the other.
    sim.send_json(b, &json!({"type":"leave","room":"#GO"}));
    assert_eq!(sim.take_json(b), [json!({"type":"left","room":"go","nick":"bob"})]);
    assert_eq!(sim.take(t), ["* bob left go"]);
    assert_eq!(sim.engine().rooms_of(b), Some(vec!["rust"]));
    sim.send_json(b, &json!({"type":"say","text":"alone"}));
    assert_eq!(sim.engine().history_len("rust"), Some(1));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn broadcast_bytes_are_shared_between_json_recipients() {
    let mut sim = sim();
    let ids = ["a", "b", "c"].map(|n| sim.connect_json_as(n));
    sim.send_json(ids[0], &json!({"type":"create","room":"r"}));
    sim.send_json(ids[1], &json!({"type":"join","room":"r"}));
    sim.send_json(ids[2], &json!({"type":"join","room":"r"}));
    sim.clear();
    sim.take_transcript();
    sim.send_json(ids[0], &json!({"type":"say","text":"x"}));
    let ptrs: Vec<_> = sim
        .take_transcript()
        .iter()
        .map(|o| if let Output::Send { data, .. } = o { data.as_ptr() } else { panic!("{o:?}") })
        .collect();
    // b and c share one buffer; the sender's own copy (its echo) comes after.
    assert_eq!(ptrs.len(), 3);
    assert_eq!(ptrs[0], ptrs[1]);
}

#[test]
fn every_error_code_for_json_clients() {
    let mut sim = Sim::new(super::relaxed().with_max_rooms(2).with_max_line_bytes(64));
    let a = sim.connect_json_as("alice");
    let _b = sim.connect_json_as("bob");
    let in_lobby = "you are in the Lobby, where nobody hears you; /list the rooms, then /join or /create one";
    refused(&mut sim, a, r#"{"type":"say","text":"hi"}"#, "in_lobby", in_lobby);
    refused(&mut sim, a, r#"{"type":"leave"}"#, "in_lobby", in_lobby);
    refused(&mut sim, a, "hello", "bad_json", "invalid JSON at column 1");
    refused(&mut sim, a, r#"{"type":"nick","nick":"x"} trailing"#, "bad_json", "invalid JSON at column 28");
    refused(
        &mut sim,
        a,
        r#"{"type":"dance"}"#,
        "unknown_command",
        r#"unknown command "dance"; type /help for the list"#,
    );
    let any = r#"usage: {"type":COMMAND,...} (see {"type":"help"})"#;
    refused(&mut sim, a, r#"{"nick":"x"}"#, "usage", any);
    refused(&mut sim, a, r#"{"type":5}"#, "usage", any);
    refused(&mut sim, a, "[1,2]", "usage", any);
    refused(&mut sim, a, "42", "usage", any);
    refused(&mut sim, a, r#"{"type":"nick"}"#, "usage", r#"usage: {"type":"nick","nick":NAME}"#);
    refused(&mut sim, a, r#"{"type":"nick","nick":7}"#, "usage", r#"usage: {"type":"nick","nick":NAME}"#);
    refused(
        &mut sim,
        a,
        r#"{"type":"list","all":true}"#,
        "usage",
        r#"usage: {"type":"list","from":ROOM?,"rooms":[ROOM...]?}"#,
    );
    refused(&mut sim, a, r#"{"type":"say","text":"  "}"#, "usage", r#"usage: {"type":"say","room":ROOM?,"text":TEXT}"#);
    refused(
        &mut sim,
        a,
        r#"{"type":"msg","to":"bob","text":""}"#,
        "usage",
        r#"usage: {"type":"msg","to":NICK,"text":TEXT}"#,
    );
    refused(&mut sim, a, r#"{"type":"msg","to":"zed","text":"hi"}"#, "no_such_nick", "nobody named zed is online");
    refused(&mut sim, a, r#"{"type":"nick","nick":"BOB"}"#, "nick_taken", "nickname BOB is taken");
    refused(
        &mut sim,
        a,
        r#"{"type":"nick","nick":"9"}"#,
        "nick_invalid",
        "invalid nickname: it must start with a letter",
    );
    refused(&mut sim, a, r#"{"type":"nick","nick":""}"#, "nick_invalid", "invalid nickname: it is empty");
    refused(
        &mut sim,
        a,
        r#"{"type":"nick","nick":"a\u001b"}"#,
        "nick_invalid",
        r"invalid nickname: the character '\u{1b}' is not allowed",
    );
    let control = "control characters are not allowed; line discarded";
    refused(&mut sim, a, "{\"type\":\"list\"}\x07", "control_character", control);
    refused(&mut sim, a, r#"{"type":"msg","to":"bob","text":"a\nb"}"#, "control_character", control);
    refused(&mut sim, a, r#"{"type":"quit","reason":"\u0007"}"#, "control_character", control);
    refused(
        &mut sim,
        a,
        r#"{"type":"create","room":"a b"}"#,
        "room_invalid",
        "invalid room name: the character ' ' is not allowed",
    );
    refused(&mut sim, a, r#"{"type":"join","room":""}"#, "room_invalid", "invalid room name: it is empty");
    refused(
        &mut sim,
        a,
        r#"{"type":"join","room":"nope"}"#,
        "no_such_room",
        "no room named nope; /list shows the rooms, /create makes one",
    );
    refused(
        &mut sim,
        a,
        r#"{"type":"who","room":"nope"}"#,
        "no_such_room",
        "no room named nope; /list shows the rooms, /create makes one",
    );
    sim.send_json(a, &json!({"type":"create","room":"one"}));
    sim.send_json(a, &json!({"type":"create","room":"two"}));
    sim.take(a);
    refused(&mut sim, a, r#"{"type":"create","room":"ONE"}"#, "room_exists", "room one already exists; /join it");
    refused(
        &mut sim,
        a,
        r#"{"type":"create","room":"three"}"#,
        "room_limit",
        "the server already has its maximum of 2 rooms",
    );
    refused(&mut sim, a, r#"{"type":"say","room":"one","text":"a\u0000"}"#, "control_character", control);
    let long = format!(r#"{{"type":"say","room":"one","text":"{}"}}"#, "x".repeat(64));
    refused(&mut sim, a, &long, "line_too_long", "line too long (over 64 bytes); it was discarded");
    let reply = super::rejected_bytes(&mut sim, a, b"{\"type\":\"say\",\"text\":\"\xff\"}\n");
    assert_eq!(
        reply,
        [r#"{"type":"error","code":"invalid_utf8","message":"line is not valid UTF-8; it was discarded"}"#]
    );
    // `not_in_room` for a single-room client naming another room.
    sim.send_json(a, &json!({"type":"leave","room":"one"}));
    sim.take(a);
    refused(&mut sim, a, r#"{"type":"say","room":"one","text":"x"}"#, "not_in_room", "you are not in one");
    refused(&mut sim, a, r#"{"type":"join","room":"two"}"#, "already_in_room", "you are already in two");
}

#[test]
fn flood_and_too_many_rooms_for_json() {
    let mut sim =
        Sim::new(Config::default().with_flood_burst(2).with_flood_lines_per_sec(1).with_max_rooms_per_client(1));
    let a = sim.connect();
    sim.send_json(a, &json!({"type":"create","room":"one"}));
    sim.take(a);
    sim.send_json(a, &json!({"type":"create","room":"two"}));
    assert_eq!(
        sim.take_json(a),
        [
            json!({"type":"error","code":"too_many_rooms","message":"you are already in the maximum of 1 rooms; leave one first"})
        ]
    );
    refused(
        &mut sim,
        a,
        r#"{"type":"list"}"#,
        "flood",
        "slow down: too many lines too fast; that line was not acted on",
    );
}

#[test]
fn json_lobby_presence_objects() {
    let mut sim = Sim::new(super::relaxed().with_announce_lobby_presence(true));
    let a = sim.connect_json_as("alice");
    let b = sim.connect();
    assert_eq!(sim.take(a), [r#"{"type":"connected","nick":"Guest2"}"#]);
    sim.disconnect(b, DisconnectReason::SendQueueExceeded).unwrap();
    assert_eq!(sim.take(a), [r#"{"type":"disconnected","nick":"Guest2","reason":"send queue exceeded"}"#]);
    sim.shutdown();
    assert_eq!(
        sim.take(a),
        [r#"{"type":"bye","code":"shutdown","reason":"server is shutting down; reconnect","reconnect":true}"#]
    );
}

#[test]
fn account_and_social_objects() {
    let mut sim = Sim::new(super::relaxed().with_idle_timeout(Duration::from_secs(120)));
    sim.set_auto_auth(true);
    let squatter = sim.connect_json_as("carol");
    let c = sim.connect();
    sim.send_json(c, &json!({"type":"register","name":"carol","password":"hunter22","confirm":"hunter22"}));
    assert_eq!(sim.take_json(squatter), [json!({"type":"renamed","old":"carol","new":"Guest3"})]);
    assert_eq!(
        sim.take(c)[1..],
        [
            r#"{"type":"welcome","server":"chatd","nick":"Guest2"}"#,
            r#"{"type":"registered","name":"carol"}"#,
            r#"{"type":"nick","old":"Guest2","new":"carol"}"#,
            r#"{"type":"logged_in","name":"carol","offline":0}"#,
        ]
    );
    sim.send_json(c, &json!({"type":"seen","nick":"carol"}));
    sim.send_json(c, &json!({"type":"block","nick":"robert"}));
    sim.send_json(c, &json!({"type":"blocked"}));
    sim.send_json(c, &json!({"type":"unblock","nick":"robert"}));
    sim.send_json(c, &json!({"type":"since","seconds":60}));
    assert_eq!(
        sim.take_json(c),
        [
            json!({"type":"seen","nick":"carol","online":true,"last_seen":null}),
            json!({"type":"block","nick":"robert","blocked":true}),
            json!({"type":"block_list","names":["robert"]}),
            json!({"type":"block","nick":"robert","blocked":false}),
            json!({"type":"since","seconds":60,"users":[
                {"nick":"carol","online":true,"last_seen":null},
                {"nick":"Guest3","online":true,"last_seen":null}
            ],"total":2,"next":null}),
        ]
    );
    sim.send_json(c, &json!({"type":"quit"}));
    // A guest may not leave a message for later; an account may.
    sim.send_json(squatter, &json!({"type":"msg","to":"carol","text":"later"}));
    assert_eq!(
        sim.take_json(squatter),
        [
            json!({"type":"error","code":"offline_needs_account","message":"carol is offline; log in to leave a message for them"})
        ]
    );
    sim.send_json(squatter, &json!({"type":"register","name":"dave","password":"hunter22","confirm":"hunter22"}));
    sim.take(squatter);
    sim.send_json(squatter, &json!({"type":"msg","to":"carol","text":"later"}));
    assert_eq!(sim.take_json(squatter), [json!({"type":"kept","to":"carol"})]);
    let again = sim.connect();
    sim.send_json(again, &json!({"type":"login","name":"carol","password":"hunter22"}));
    assert_eq!(
        sim.take(again)[1..],
        [
            r#"{"type":"welcome","server":"chatd","nick":"Guest4"}"#,
            r#"{"type":"nick","old":"Guest4","new":"carol"}"#,
            r#"{"type":"logged_in","name":"carol","offline":1}"#,
            &format!(r#"{{"type":"whisper","from":"dave","to":"carol","text":"later","ts":{TS},"offline":true}}"#),
        ]
    );
    sim.take(squatter);
    sim.advance(Duration::from_secs(90));
    assert_eq!(sim.take_json(again), [json!({"type":"idle_warning","seconds":30})]);
    sim.send_json(again, &json!({"type":"seen","nick":"nobody"}));
    assert_eq!(
        sim.take_json(again),
        [
            json!({"type":"error","code":"never_seen","message":"nobody has not been seen (only registered users are remembered)"})
        ]
    );
}
