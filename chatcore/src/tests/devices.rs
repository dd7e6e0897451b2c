//! One account on several connections ("devices") at once, on any codec:
//! they share the account's rooms and whispers, and the others in a room
//! see the account once.
#![cfg(feature = "json")]

use serde_json::{Value, json};

use super::accounts::auto;
use super::irc::irc;
use super::relaxed;
use super::support::refused;
use crate::names::NameKey;
use crate::sim::Sim;
use crate::{ClientId, Codec, Config, ConnectInfo};

const TS: u64 = Sim::BASE_UNIX_MS;

/// A JSON client, its welcome read.
pub(super) fn json_client(sim: &mut Sim) -> ClientId {
    let id = sim.connect_with(ConnectInfo::new(Codec::Json));
    sim.take(id);
    id
}

fn login(name: &str) -> Value {
    json!({"type": "login", "name": name, "password": "hunter22"})
}

/// An IRC client logged in to `alice` with SASL before its welcome; what
/// it was told after the welcome is returned.
fn irc_alice(sim: &mut Sim) -> (ClientId, Vec<String>) {
    let id = irc(sim);
    sim.send(id, "CAP REQ :sasl");
    sim.send(id, "NICK somebody");
    sim.send(id, "USER alice 0 * :Alice");
    sim.send(id, "AUTHENTICATE PLAIN");
    // "\0alice\0hunter22"
    sim.send(id, "AUTHENTICATE AGFsaWNlAGh1bnRlcjIy");
    sim.take(id);
    sim.send(id, "CAP END");
    let lines = sim.take(id);
    assert!(lines.iter().any(|l| l.starts_with(":chatd 001 alice ")), "{lines:?}");
    (id, lines)
}

/// bob (a JSON guest) in `#rust`; alice registered on a JSON connection
/// in `#rust` too, and logged in on a text and an IRC connection, which
/// followed her in. Returns (sim, bob, [json, text, irc]).
fn alice_on_three(config: Config) -> (Sim, ClientId, [ClientId; 3]) {
    let mut sim = auto(config);
    let bob = sim.connect_json_as("bob");
    sim.send_json(bob, &json!({"type": "create", "room": "rust"}));
    let j = json_client(&mut sim);
    sim.send_json(j, &json!({"type": "register", "name": "alice", "password": "hunter22", "confirm": "hunter22"}));
    sim.send_json(j, &json!({"type": "join", "room": "rust"}));
    sim.clear();
    let t = sim.connect();
    sim.send(t, "/login alice hunter22");
    let (i, _) = irc_alice(&mut sim);
    sim.clear();
    (sim, bob, [j, t, i])
}

fn types(values: &[Value]) -> Vec<&str> {
    values.iter().map(|v| v["type"].as_str().unwrap_or("?")).collect()
}

#[test]
fn a_connection_that_logs_in_joins_the_accounts_rooms_quietly() {
    let mut sim = auto(relaxed());
    let bob = sim.connect_json_as("bob");
    sim.send_json(bob, &json!({"type": "create", "room": "rust"}));
    sim.send_json(bob, &json!({"type": "say", "room": "rust", "text": "before"}));
    let j = json_client(&mut sim);
    sim.send_json(j, &json!({"type": "register", "name": "alice", "password": "hunter22", "confirm": "hunter22"}));
    sim.send_json(j, &json!({"type": "join", "room": "rust"}));
    sim.clear();
    // Text: told it joined, with the room's history.
    let t = sim.connect();
    sim.take(t);
    sim.send(t, "/login alice hunter22");
    let text = sim.take(t);
    assert!(text.iter().any(|l| l.contains("logged in as alice")), "{text:?}");
    assert!(text.iter().any(|l| l.contains("rust")), "{text:?}");
    assert!(text.iter().any(|l| l.contains("before")), "the replay: {text:?}");
    // IRC: JOIN, then NAMES listing alice once.
    let (i, lines) = irc_alice(&mut sim);
    assert!(lines.iter().any(|l| l.starts_with(":alice!") && l.contains(" JOIN #rust")), "{lines:?}");
    let names: Vec<&String> = lines.iter().filter(|l| l.starts_with(":chatd 353 ")).collect();
    assert_eq!(names.len(), 1, "{lines:?}");
    let listed = names[0].rsplit(" :").next().unwrap_or_default();
    assert_eq!(listed.matches("alice").count(), 1, "alice listed once: {names:?}");
    // Nobody else heard of either.
    assert_eq!(sim.take_json(bob), Vec::<Value>::new());
    assert_eq!(sim.take_json(j), Vec::<Value>::new());
    for id in [j, t, i] {
        assert_eq!(sim.engine().nick(id), Some("alice"));
        assert!(sim.engine().world.clients[&id].is_in(&NameKey::of("rust")));
    }
    assert_eq!(sim.engine().world.sessions_of(&NameKey::of("alice")), [j, t, i]);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn a_line_from_one_device_reaches_the_others_as_the_accounts_own() {
    let (mut sim, bob, [j, t, i]) = alice_on_three(relaxed());
    sim.send(t, "hello from the terminal");
    let said = json!({"type": "message", "room": "rust", "seq": 1, "from": "alice",
        "text": "hello from the terminal", "ts": TS, "history": false});
    assert_eq!(sim.take_json(bob), std::slice::from_ref(&said));
    // JSON gets it as its own echo would be, with the seq.
    assert_eq!(sim.take_json(j), [said]);
    // IRC: a PRIVMSG from its own nick, as echo-message writes it.
    let irc_lines = sim.take(i);
    assert_eq!(irc_lines.len(), 1, "{irc_lines:?}");
    assert!(irc_lines[0].starts_with(":alice!") && irc_lines[0].ends_with("PRIVMSG #rust :hello from the terminal\r"));
    // A terminal does not echo what its user typed.
    assert_eq!(sim.take(t), Vec::<String>::new());
    sim.send(i, "PRIVMSG #rust :and from irc");
    assert_eq!(sim.take(t), ["[rust] alice: and from irc"]);
    assert_eq!(sim.take_json(j)[0]["seq"], 2);
    assert_eq!(sim.take_json(bob)[0]["seq"], 2);
}

#[test]
fn whispers_to_the_account_reach_every_device_and_its_own_are_copied() {
    let (mut sim, bob, [j, t, i]) = alice_on_three(relaxed());
    sim.send_json(bob, &json!({"type": "msg", "to": "alice", "text": "psst"}));
    let whisper = |from: &str, to: &str, text: &str| json!({"type": "whisper", "from": from, "to": to, "text": text, "ts": TS, "offline": false});
    assert_eq!(sim.take_json(j), [whisper("bob", "alice", "psst")]);
    let text = sim.take(t);
    assert!(text.len() == 1 && text[0].starts_with("[whisper from bob") && text[0].ends_with("psst"), "{text:?}");
    let lines = sim.take(i);
    assert!(
        lines.len() == 1 && lines[0].starts_with(":bob!") && lines[0].ends_with("PRIVMSG alice psst\r"),
        "{lines:?}"
    );
    assert_eq!(sim.take_json(bob), [whisper("bob", "alice", "psst")]);
    // One device answers: bob gets it once, the others a copy as sent.
    sim.send(i, "PRIVMSG bob :hi bob");
    assert_eq!(sim.take_json(bob), [whisper("alice", "bob", "hi bob")]);
    assert_eq!(sim.take_json(j), [whisper("alice", "bob", "hi bob")]);
    let text = sim.take(t);
    assert!(text.len() == 1 && text[0].starts_with("[whisper to bob") && text[0].ends_with("hi bob"), "{text:?}");
}

#[test]
fn a_join_or_part_by_one_device_is_the_accounts_and_is_told_once() {
    let (mut sim, bob, [j, t, i]) = alice_on_three(relaxed());
    sim.send_json(j, &json!({"type": "leave", "room": "rust"}));
    let parts = sim.take_json(bob);
    assert_eq!(types(&parts), ["left"], "one part: {parts:?}");
    assert_eq!(parts[0]["nick"], "alice");
    assert_eq!(types(&sim.take_json(j)), ["left"]);
    assert!(sim.take(t).iter().any(|l| l.contains("rust")));
    assert!(sim.take(i).iter().any(|l| l.starts_with(":alice!") && l.contains(" PART #rust")));
    for id in [j, t, i] {
        assert!(sim.engine().world.clients[&id].rooms.is_empty());
    }
    assert_eq!(sim.engine().check_invariants(), Ok(()));
    // Back in from IRC: bob sees one join, counting alice once.
    sim.send(i, "JOIN #rust");
    let joins = sim.take_json(bob);
    assert_eq!(types(&joins), ["joined"], "{joins:?}");
    assert_eq!(joins[0]["members"], 2);
    assert_eq!(types(&sim.take_json(j))[0], "joined");
    assert!(!sim.take(t).is_empty());
    sim.take(i);
    // Listed once wherever the list is asked for.
    sim.send_json(bob, &json!({"type": "who", "room": "rust"}));
    let who = sim.take_json(bob);
    assert_eq!(who[0]["members"], json!(["alice", "bob"]), "{who:?}");
    sim.send_json(bob, &json!({"type": "list"}));
    let list = sim.take_json(bob);
    assert_eq!(list[0]["rooms"][0]["members"], 2, "{list:?}");
    sim.send_json(bob, &json!({"type": "users"}));
    let users = sim.take_json(bob);
    assert_eq!(users[0]["users"], json!(["alice", "bob"]), "{users:?}");
    sim.send(i, "NAMES #rust");
    let names = sim.take(i);
    let listed = names[0].rsplit(" :").next().unwrap_or_default();
    assert_eq!(listed.matches("alice").count(), 1, "{names:?}");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn presence_changes_only_when_the_last_device_leaves() {
    let (mut sim, bob, [j, t, i]) = alice_on_three(relaxed());
    sim.send(t, "/quit");
    sim.send(j, r#"{"type":"quit"}"#);
    assert_eq!(sim.take_json(bob), Vec::<Value>::new(), "alice is still here");
    assert_eq!(sim.engine().nick(i), Some("alice"));
    // The name passed to the last connection, which holds it now.
    assert_eq!(sim.engine().world.names.holder(&NameKey::of("alice")), Some(i));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
    // A guest still cannot take the name.
    let guest = sim.connect_json_as("dave");
    assert_eq!(refused(&mut sim, guest, &json!({"type": "nick", "nick": "alice"})), "nick_taken");
    sim.send(i, "QUIT :bye");
    let gone = sim.take_json(bob);
    assert_eq!(types(&gone), ["disconnected"], "{gone:?}");
    assert_eq!(gone[0]["nick"], "alice");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn operator_status_belongs_to_the_account_and_a_kick_removes_every_device() {
    let (mut sim, bob, [j, t, i]) = alice_on_three(relaxed());
    // bob created #rust, so he is its operator; he makes alice one.
    sim.send(i, "MODE #rust +o alice");
    sim.take(i);
    sim.send_json(bob, &json!({"type": "mode", "room": "rust", "modes": "+v", "args": ["alice"]}));
    let rust = NameKey::of("rust");
    let status = |sim: &Sim, id| sim.engine().world.rooms.get(&rust).expect("room").members.status(id);
    for id in [j, t, i] {
        assert!(status(&sim, id).voice, "{id} is voiced with its account");
    }
    sim.send_json(bob, &json!({"type": "kick", "room": "rust", "nick": "alice"}));
    for id in [j, t, i] {
        assert!(sim.engine().world.clients[&id].rooms.is_empty(), "{id} was kicked with its account");
    }
    assert_eq!(sim.engine().world.rooms.get(&rust).expect("room").member_count(), 1);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn a_login_past_the_session_limit_is_refused_and_nothing_else_is_disturbed() {
    let (mut sim, bob, [j, t, i]) = alice_on_three(relaxed().with_max_sessions_per_account(3));
    let extra = json_client(&mut sim);
    sim.send_json(extra, &login("alice"));
    let reply = sim.take_json(extra);
    assert_eq!(types(&reply), ["error"], "{reply:?}");
    assert_eq!(reply[0]["code"], "session_limit");
    assert_ne!(sim.engine().nick(extra), Some("alice"));
    assert_eq!(sim.engine().account_of(extra), None);
    for id in [j, t, i] {
        assert!(sim.is_connected(id));
        assert_eq!(sim.take(id), Vec::<String>::new());
    }
    assert_eq!(sim.take_json(bob), Vec::<Value>::new());
    // IRC hears the same refusal, as SASL's 904.
    let late = irc(&mut sim);
    sim.send(late, "CAP REQ :sasl");
    sim.send(late, "NICK late");
    sim.send(late, "USER late 0 * :Late");
    sim.send(late, "AUTHENTICATE PLAIN");
    sim.send(late, "AUTHENTICATE AGFsaWNlAGh1bnRlcjIy");
    let lines = sim.take(late);
    assert!(lines.iter().any(|l| l.contains("logged in on 3 connections already")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains(" 904 ")), "{lines:?}");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn guests_keep_one_connection_per_name() {
    let mut sim = auto(relaxed());
    let a = sim.connect_json_as("carol");
    let b = sim.connect_json_as("dave");
    assert_eq!(refused(&mut sim, b, &json!({"type": "nick", "nick": "carol"})), "nick_taken");
    assert_eq!(sim.engine().nick(a), Some("carol"));
    assert_eq!(sim.engine().world.sessions_of(&NameKey::of("carol")), &[] as &[ClientId]);
}

#[test]
fn a_text_device_switching_rooms_moves_the_account() {
    let (mut sim, bob, [j, t, i]) = alice_on_three(relaxed());
    sim.send_json(bob, &json!({"type": "create", "room": "go"}));
    sim.clear();
    // A terminal is in one room at a time: its join moves the account.
    sim.send(t, "/join go");
    let seen = sim.take_json(bob);
    assert_eq!(types(&seen), ["left", "joined"], "{seen:?}");
    let go = NameKey::of("go");
    for id in [j, t, i] {
        assert_eq!(sim.engine().world.clients[&id].rooms, std::slice::from_ref(&go), "{id}");
    }
    // A JSON device joining another room takes the terminal with it, but
    // the account stays where its other devices are.
    sim.send_json(bob, &json!({"type": "create", "room": "c"}));
    sim.send_json(j, &json!({"type": "join", "room": "c"}));
    sim.clear();
    assert_eq!(sim.engine().world.clients[&t].rooms, [NameKey::of("c")]);
    assert!(sim.engine().world.clients[&j].is_in(&go));
    sim.send_json(bob, &json!({"type": "who", "room": "go"}));
    assert_eq!(sim.take_json(bob)[0]["members"], json!(["alice", "bob"]));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn an_irc_client_asking_for_the_accounts_nick_with_sasl_gets_it() {
    let (mut sim, _bob, [j, _, _]) = alice_on_three(relaxed());
    let id = irc(&mut sim);
    sim.send(id, "CAP REQ :sasl");
    sim.send(id, "NICK alice");
    sim.send(id, "USER alice 0 * :Alice");
    sim.send(id, "AUTHENTICATE PLAIN");
    sim.send(id, "AUTHENTICATE AGFsaWNlAGh1bnRlcjIy");
    sim.send(id, "CAP END");
    let lines = sim.take(id);
    assert!(lines.iter().any(|l| l.starts_with(":chatd 001 alice ")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with(":alice!") && l.contains(" JOIN #rust")), "{lines:?}");
    assert_eq!(sim.engine().world.sessions_of(&NameKey::of("alice")).len(), 4);
    assert_eq!(sim.engine().world.names.holder(&NameKey::of("alice")), Some(j));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn whois_lists_the_rooms_of_every_connection_of_the_account() {
    let mut sim = auto(relaxed());
    let bob = sim.connect_json_as("bob");
    sim.send_json(bob, &json!({"type": "create", "room": "rust"}));
    sim.send_json(bob, &json!({"type": "create", "room": "go"}));
    // The terminal holds the name; JSON takes the account into two rooms,
    // and the terminal, in one room at a time, follows it into the last.
    let t = sim.connect();
    sim.send(t, "/register alice hunter22 hunter22");
    let j = json_client(&mut sim);
    sim.send_json(j, &login("alice"));
    sim.send_json(j, &json!({"type": "join", "room": "rust"}));
    sim.send_json(j, &json!({"type": "join", "room": "go"}));
    assert_eq!(sim.engine().world.names.holder(&NameKey::of("alice")), Some(t));
    assert_eq!(sim.engine().world.clients[&t].rooms, [NameKey::of("go")]);
    let carol = irc(&mut sim);
    sim.send(carol, "NICK carol");
    sim.send(carol, "USER carol 0 * :Carol");
    sim.take(carol);
    sim.send(carol, "WHOIS alice");
    let lines = sim.take(carol);
    let channels = lines.iter().find(|l| l.starts_with(":chatd 319 ")).expect("319");
    assert!(channels.contains("#rust") && channels.contains("#go"), "{lines:?}");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn an_invitation_or_a_full_room_holds_for_the_account_not_one_connection() {
    let mut sim = auto(relaxed());
    let bob = sim.connect_json_as("bob");
    sim.send_json(bob, &json!({"type": "create", "room": "club"}));
    sim.send_json(bob, &json!({"type": "mode", "room": "club", "modes": "+il", "args": ["2"]}));
    let j = json_client(&mut sim);
    sim.send_json(j, &json!({"type": "register", "name": "alice", "password": "hunter22", "confirm": "hunter22"}));
    let j2 = json_client(&mut sim);
    sim.send_json(j2, &login("alice"));
    // bob invites alice (her oldest connection); the other one walks in.
    sim.send_json(bob, &json!({"type": "invite", "nick": "alice", "room": "club"}));
    sim.send_json(j2, &json!({"type": "join", "room": "club"}));
    let club = NameKey::of("club");
    assert!(sim.engine().world.clients[&j].is_in(&club) && sim.engine().world.clients[&j2].is_in(&club));
    assert!(sim.engine().world.rooms.get(&club).expect("club").modes.invited().is_empty(), "used up");
    // The room is full (+l 2: bob and alice), but a third connection of alice is alice.
    let t = sim.connect();
    sim.send(t, "/login alice hunter22");
    assert!(sim.engine().world.clients[&t].is_in(&club));
    // The terminal follows the account into another room, then comes back
    // on its own: the room is full, but not to alice.
    sim.send_json(bob, &json!({"type": "create", "room": "other"}));
    sim.send_json(j, &json!({"type": "join", "room": "other"}));
    assert_eq!(sim.engine().world.clients[&t].rooms, [NameKey::of("other")]);
    sim.clear();
    sim.send(t, "/join club");
    assert!(sim.engine().world.clients[&t].is_in(&club), "{:?}", sim.take(t));
    // The terminal's switch takes the account out of other; club sees nothing.
    let seen = sim.take_json(bob);
    assert_eq!(seen, [json!({"type": "left", "room": "other", "nick": "alice"})]);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}
