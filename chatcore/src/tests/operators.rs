//! Server operators: named by the config or granted in the store, they may
//! broadcast to everyone (within an allowance), kill a connection, drop
//! any room, and IRC's OPER, WHOIS, WHO and INFO show them. Everyone else
//! is refused each of these with a clear error.
#![cfg(feature = "json")]

use std::time::Duration;

use serde_json::json;

use super::accounts::auto;
use super::irc::registered;
use super::relaxed;
use super::support::refused;
use crate::record::Record;
use crate::sim::Sim;
use crate::{ClientId, Codec, Config, ConnectInfo, Engine, OperatorActionKind, Output, PasswordHash};

const TS: u64 = Sim::BASE_UNIX_MS;

fn config() -> Config {
    relaxed().with_operators(vec!["Alice".to_owned()])
}

/// A JSON client registered (and so logged in) as `name`, its replies taken.
fn account(sim: &mut Sim, name: &str) -> ClientId {
    let id = sim.connect_with(ConnectInfo::new(Codec::Json));
    sim.send_json(id, &json!({"type": "register", "name": name, "password": "hunter22", "confirm": "hunter22"}));
    let got = sim.take(id);
    assert_eq!(sim.engine().world.account_of(id), Some(name), "{got:?}");
    id
}

/// The operator actions reported since the transcript was last taken.
fn actions(sim: &mut Sim) -> Vec<OperatorActionKind> {
    let transcript = sim.take_transcript();
    transcript
        .into_iter()
        .filter_map(|output| match output {
            Output::OperatorAction(action) => Some(action.action),
            _ => None,
        })
        .collect()
}

#[test]
fn a_configured_operator_is_one_while_logged_in_to_its_account() {
    let mut sim = auto(config());
    let guest = sim.connect_json_as("alicia");
    assert!(!sim.engine().is_server_operator(guest));
    let alice = account(&mut sim, "alice");
    assert!(sim.engine().is_server_operator(alice), "names compare without regard to case");
    let bob = account(&mut sim, "bob");
    assert!(!sim.engine().is_server_operator(bob));
    sim.send_json(alice, &json!({"type": "quit"}));
    assert!(!sim.engine().is_server_operator(alice));
}

#[test]
fn a_broadcast_reaches_every_user_on_every_codec_rendered_once_per_wire() {
    let mut sim = auto(config());
    let alice = account(&mut sim, "alice");
    let text = [sim.connect_as("tom"), sim.connect_as("tim")];
    sim.send(text[0], "/create lounge");
    let json_user = sim.connect_json_as("jay");
    let irc_user = registered(&mut sim, "ivy", "");
    // Still registering: not a user yet, told nothing.
    let registering = sim.connect_with(ConnectInfo::new(Codec::Irc));
    for id in [alice, text[0], text[1], json_user, irc_user, registering] {
        sim.take(id);
    }
    // Driven by hand: the sim shows a broadcast as one send per recipient.
    let now = sim.now();
    let line = json!({"type": "broadcast", "text": "restart at noon"}).to_string() + "\n";
    sim.engine_mut().handle_input(now, alice, line.as_bytes()).expect("alice is connected");
    let mut deliveries = Vec::new();
    let mut reported = Vec::new();
    while let Some(output) = sim.engine_mut().poll_output() {
        match output {
            Output::Broadcast { to, data } => deliveries.push((to, data)),
            Output::Send { to, data } => deliveries.push((vec![to], data)),
            Output::OperatorAction(action) => reported.push(*action),
            other => panic!("{other:?}"),
        }
    }
    let lines: Vec<(Vec<ClientId>, String)> =
        deliveries.into_iter().map(|(to, data)| (to, String::from_utf8(data.to_vec()).unwrap())).collect();
    let event = r#"{"type":"broadcast","from":"alice","text":"restart at noon","ts":1700000000000}"#;
    assert_eq!(TS, 1_700_000_000_000);
    // One buffer per wire: the two text users share one, the operator gets its own copy.
    assert_eq!(
        lines,
        [
            (text.to_vec(), "* broadcast from alice: restart at noon\n".to_owned()),
            (vec![alice, json_user], format!("{event}\n")),
            (vec![irc_user], ":alice!alice@chatd NOTICE $* :restart at noon\r\n".to_owned()),
        ]
    );
    assert!(
        matches!(&reported[..], [action] if &*action.account == "alice" && action.client == alice
            && action.action == OperatorActionKind::Broadcast { text: "restart at noon".into() }),
        "{reported:?}"
    );
    let _ = registering;
}

#[test]
fn irc_operators_broadcast_with_wallops_or_a_notice_to_everyone() {
    let mut sim = auto(config());
    account(&mut sim, "alice");
    let listener = sim.connect_json_as("jay");
    let irc = registered(&mut sim, "visitor", "");
    sim.send(irc, "LOGIN alice hunter22");
    sim.take(irc);
    sim.take(listener);
    for (line, text) in [("WALLOPS :one", "one"), ("NOTICE $* :two", "two"), ("NOTICE $$* :three", "three")] {
        sim.send(irc, line);
        let got = sim.take_json(listener);
        assert_eq!(got, [json!({"type": "broadcast", "from": "alice", "text": text, "ts": TS})], "{line}");
    }
}

#[test]
fn broadcasts_are_limited_per_operator_per_minute() {
    let mut sim = auto(config().with_operator_broadcasts_per_minute(2));
    let alice = account(&mut sim, "alice");
    let say = |text: &str| json!({"type": "broadcast", "text": text});
    sim.send_json(alice, &say("one"));
    sim.send_json(alice, &say("two"));
    sim.take(alice);
    let listener = sim.connect_json_as("jay");
    assert_eq!(refused(&mut sim, alice, &say("three")), "broadcast_limit");
    assert_eq!(sim.take(listener), Vec::<String>::new());
    sim.advance(Duration::from_secs(60));
    sim.send_json(alice, &say("four"));
    assert_eq!(sim.take_types(listener), ["broadcast"]);
}

#[test]
fn non_operators_are_refused_every_operator_command() {
    let mut sim = auto(config());
    let owner = account(&mut sim, "carol");
    sim.send_json(owner, &json!({"type": "create", "room": "den"}));
    sim.take(owner);
    let bob = account(&mut sim, "bob");
    let guest = sim.connect_json_as("gus");
    for who in [bob, guest] {
        assert_eq!(refused(&mut sim, who, &json!({"type": "broadcast", "text": "hi"})), "not_server_operator");
        assert_eq!(refused(&mut sim, who, &json!({"type": "kill", "nick": "carol"})), "not_server_operator");
        assert_eq!(refused(&mut sim, who, &json!({"type": "drop", "room": "den"})), "not_room_owner");
    }
    let irc = registered(&mut sim, "ivy", "");
    for line in ["WALLOPS :hi", "NOTICE $* :hi", "KILL carol :bye"] {
        let got = super::rejected(&mut sim, irc, line);
        assert!(got.len() == 1 && got[0].starts_with(":chatd 481 ivy :"), "{line}: {got:?}");
    }
    let got = super::rejected(&mut sim, irc, "OPER ivy secret");
    assert!(got.len() == 1 && got[0].starts_with(":chatd 491 ivy :"), "{got:?}");
    let text = sim.connect_as("tom");
    assert_eq!(super::rejected(&mut sim, text, "/broadcast hi"), ["! only server operators may do that"]);
}

#[test]
fn an_operator_kills_a_connection_and_its_roommates_see_why() {
    let mut sim = auto(config());
    let alice = account(&mut sim, "alice");
    let bob = sim.connect_json_as("bob");
    let mate = sim.connect_json_as("mate");
    sim.send_json(bob, &json!({"type": "create", "room": "den"}));
    sim.send_json(mate, &json!({"type": "join", "room": "den"}));
    for id in [alice, bob, mate] {
        sim.take(id);
    }
    sim.take_transcript();
    sim.send_json(alice, &json!({"type": "kill", "nick": "BOB", "reason": "spam"}));
    assert_eq!(actions(&mut sim), [OperatorActionKind::Kill { nick: "bob".into(), reason: Some("spam".into()) }]);
    assert_eq!(sim.take_json(alice), [json!({"type": "killed", "nick": "bob"})]);
    assert!(!sim.is_connected(bob));
    let bye = sim.take_json(bob);
    assert_eq!(bye[0]["type"], "bye");
    assert_eq!(bye[0]["code"], "killed");
    assert_eq!(bye[0]["reason"], "disconnected by a server operator alice: spam");
    let seen = sim.take_json(mate);
    assert_eq!(seen[0]["type"], "disconnected", "{seen:?}");
    assert_eq!(refused(&mut sim, alice, &json!({"type": "kill", "nick": "nobody"})), "no_such_nick");
    let spoof = json!({"type": "kill", "nick": "mate", "reason": "a\u{202e}b"});
    assert_eq!(refused(&mut sim, alice, &spoof), "layout_character");
    assert!(sim.is_connected(mate));
}

#[test]
fn a_kill_closes_every_connection_of_the_account() {
    let mut sim = auto(config());
    let alice = account(&mut sim, "alice");
    let bob = account(&mut sim, "bob");
    let phone = sim.connect_with(ConnectInfo::new(Codec::Json));
    sim.send_json(phone, &json!({"type": "login", "name": "bob", "password": "hunter22"}));
    assert_eq!(sim.engine().world.account_of(phone), Some("bob"));
    let mate = sim.connect_json_as("mate");
    sim.send_json(bob, &json!({"type": "create", "room": "den"}));
    sim.send_json(mate, &json!({"type": "join", "room": "den"}));
    for id in [alice, bob, phone, mate] {
        sim.take(id);
    }
    sim.send_json(alice, &json!({"type": "kill", "nick": "bob", "reason": "spam"}));
    assert_eq!(sim.take_json(alice), [json!({"type": "killed", "nick": "bob"})]);
    for device in [bob, phone] {
        assert!(!sim.is_connected(device), "{device} still connected");
        let bye = sim.take_json(device);
        assert_eq!(bye.last().unwrap()["code"], "killed", "{bye:?}");
    }
    let seen = sim.take_json(mate);
    assert_eq!(seen.len(), 1, "one disconnect: {seen:?}");
    assert_eq!(seen[0]["type"], "disconnected", "{seen:?}");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn an_operator_drops_any_room_and_the_drop_is_reported() {
    let mut sim = auto(config());
    let carol = account(&mut sim, "carol");
    sim.send_json(carol, &json!({"type": "create", "room": "den"}));
    sim.take(carol);
    let alice = account(&mut sim, "alice");
    sim.take_transcript();
    sim.send_json(alice, &json!({"type": "drop", "room": "den"}));
    assert_eq!(actions(&mut sim), [OperatorActionKind::DropRoom { room: "den".into() }]);
    assert!(sim.engine().members("den").is_none());
    assert_eq!(sim.take_json(carol), [json!({"type": "dropped", "room": "den", "by": "alice"})]);
    // Its own room is no operator action.
    sim.send_json(alice, &json!({"type": "create", "room": "mine"}));
    sim.take_transcript();
    sim.send_json(alice, &json!({"type": "drop", "room": "mine"}));
    assert_eq!(actions(&mut sim), []);
}

#[test]
fn operators_granted_in_the_store_are_restored_and_revocations_undo_them() {
    let hash = PasswordHash::new("sim:hunter22");
    let created = |name: &str| Record::AccountCreated { name: name.into(), hash: hash.clone(), unix_ms: 1 };
    let records = [
        created("bob"),
        created("dave"),
        Record::OperatorGranted { account: "Bob".into() },
        Record::OperatorGranted { account: "dave".into() },
        Record::OperatorRevoked { account: "dave".into() },
        // A grant may name an account not registered yet.
        Record::OperatorGranted { account: "erin".into() },
    ];
    let engine = Engine::restore(relaxed(), records).expect("the records restore");
    let mut sim = Sim::from_engine(engine, crate::Now::new(std::time::Instant::now(), TS));
    sim.set_auto_auth(true);
    let login = |sim: &mut Sim, name: &str| {
        let id = sim.connect_with(ConnectInfo::new(Codec::Json));
        sim.send_json(id, &json!({"type": "login", "name": name, "password": "hunter22"}));
        sim.take(id);
        id
    };
    let bob = login(&mut sim, "bob");
    let dave = login(&mut sim, "dave");
    assert!(sim.engine().is_server_operator(bob));
    assert!(!sim.engine().is_server_operator(dave));
    let erin = account(&mut sim, "erin");
    assert!(sim.engine().is_server_operator(erin));
}

/// An IRC client logged in to `name` (registered from JSON first).
fn irc_account(sim: &mut Sim, name: &str) -> ClientId {
    let json_session = account(sim, name);
    sim.send_json(json_session, &json!({"type": "quit"}));
    irc_login(sim, name)
}

/// An IRC client logged in to the existing account `name`.
fn irc_login(sim: &mut Sim, name: &str) -> ClientId {
    let irc = registered(sim, "visitor", "");
    sim.send(irc, &format!("LOGIN {name} hunter22"));
    sim.take(irc);
    irc
}

#[test]
fn oper_answers_381_and_plus_o_for_an_operator_account_464_for_a_wrong_password() {
    let mut sim = auto(config());
    let irc = irc_account(&mut sim, "alice");
    sim.take_transcript();
    sim.send(irc, "OPER alice hunter22");
    assert_eq!(sim.take(irc), [":chatd 381 alice :You are now an IRC operator\r", ":alice MODE alice +o\r"]);
    assert_eq!(actions(&mut sim), [OperatorActionKind::Oper]);
    sim.send(irc, "OPER alice wrong");
    let got = sim.take(irc);
    assert!(got.len() == 1 && got[0].starts_with(":chatd 464 alice :"), "{got:?}");
    // Another account's name, or none logged in: 491.
    sim.send(irc, "OPER bob hunter22");
    assert!(sim.take(irc)[0].starts_with(":chatd 491 alice :"));
    let plain = irc_account(&mut sim, "bob");
    sim.send(plain, "OPER bob hunter22");
    assert!(sim.take(plain)[0].starts_with(":chatd 491 bob :"));
    sim.send(plain, "MODE bob");
    assert_eq!(sim.take(plain), [":chatd 221 bob +i\r"]);
    sim.send(irc, "MODE alice");
    assert_eq!(sim.take(irc), [":chatd 221 alice +io\r"]);
}

#[test]
fn oper_failures_count_towards_the_account_lockout() {
    let mut sim = auto(config().with_max_login_failures(2));
    let irc = irc_account(&mut sim, "alice");
    sim.send(irc, "OPER alice wrong1");
    sim.send(irc, "OPER alice wrong2");
    sim.take(irc);
    // Locked out now: refused before any check.
    sim.send(irc, "OPER alice hunter22");
    let got = sim.take(irc);
    assert!(!got.iter().any(|l| l.contains(" 381 ")), "{got:?}");
}

#[test]
fn whois_who_and_info_show_operators() {
    let mut sim = auto(config());
    let alice = account(&mut sim, "alice");
    let asker = registered(&mut sim, "ivy", "");
    sim.send(asker, "WHOIS alice");
    let whois = sim.take(asker);
    assert!(whois.contains(&":chatd 313 ivy alice :is an IRC operator\r".to_owned()), "{whois:?}");
    sim.send(asker, "WHOIS ivy");
    assert!(!sim.take(asker).iter().any(|l| l.contains(" 313 ")));
    sim.send(asker, "WHO alice");
    let who = sim.take(asker);
    assert!(who[0].contains(" alice H* :0 alice"), "{who:?}");
    sim.send_json(alice, &json!({"type": "create", "room": "den"}));
    sim.send(asker, "JOIN #den");
    sim.take(asker);
    sim.send(asker, "WHO #den");
    let who = sim.take(asker);
    assert!(who.iter().any(|l| l.contains(" #den alice ") && l.contains(" alice H* :0 alice")), "{who:?}");
    assert!(who.iter().any(|l| l.contains(" #den ivy ") && l.contains(" ivy H :0 ivy")), "{who:?}");
    sim.send(asker, "INFO");
    let info = sim.take(asker);
    assert_eq!(info.len(), 2, "a non-operator sees what the server is: {info:?}");
    sim.send_json(alice, &json!({"type": "quit"}));
    let irc = irc_login(&mut sim, "alice");
    sim.send(irc, "INFO");
    let info = sim.take(irc);
    assert!(info.iter().any(|l| l.contains(" 371 alice :rooms: 1")), "{info:?}");
    assert!(info.iter().any(|l| l.contains(" 371 alice :operator accounts: 1")), "{info:?}");
    assert!(info.last().is_some_and(|l| l.contains(" 374 ")));
}

#[test]
fn a_broadcast_with_a_control_character_is_refused() {
    let mut sim = auto(config());
    let alice = account(&mut sim, "alice");
    let code = refused(&mut sim, alice, &json!({"type": "broadcast", "text": "a\u{202e}b"}));
    assert_eq!(code, "layout_character");
}
