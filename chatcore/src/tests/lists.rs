//! Lists that grow with the server come a page at a time: `/users`,
//! `/who` (a room's and the Lobby's), `/list` and `/since`, in text, JSON
//! and IRC, with pages of 3 so a handful of clients makes several pages.

use std::time::Duration;

use super::relaxed;
use crate::sim::Sim;
use crate::{ClientId, Codec, Config, ConnectInfo};

const PAGE: usize = 3;

fn paged() -> Config {
    relaxed().with_list_page_len(PAGE)
}

/// Names that sort differently with and without regard to case.
const NICKS: [&str; 8] = ["bob", "Alice", "dave", "Carol", "eve", "Frank", "gina", "Hal"];

/// `NICKS` in the order lists use: without regard to case.
fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    names.sort_by_key(|n| n.to_ascii_lowercase());
    names
}

/// A one-line text answer `PREFIX (K of N): A, B; more: COMMAND` taken
/// apart: its names and the command for the next page.
fn names_and_more(line: &str, prefix: &str) -> (Vec<String>, Option<String>) {
    let rest = line.strip_prefix(prefix).unwrap_or_else(|| panic!("{line:?} does not start with {prefix:?}"));
    let (list, more) = match rest.split_once("; more: ") {
        Some((list, more)) => (list, Some(more.to_owned())),
        None => (rest, None),
    };
    let list = list.split_once("): ").map_or("", |(_, names)| names);
    let names = list.split(", ").filter(|n| !n.is_empty()).map(str::to_owned).collect();
    (names, more)
}

/// Follows a text list from `command` page by page, checking each page
/// holds at most `PAGE` names; returns every name in the order shown.
fn walk(sim: &mut Sim, id: ClientId, command: &str, prefix: &str) -> Vec<String> {
    let mut all = Vec::new();
    let mut next = Some(command.to_owned());
    let mut pages = 0;
    while let Some(command) = next {
        sim.send(id, &command);
        let lines = sim.take(id);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let (names, more) = names_and_more(&lines[0], prefix);
        assert!(names.len() <= PAGE, "{lines:?}");
        all.extend(names);
        next = more;
        pages += 1;
        assert!(pages < 20, "the pages never end");
    }
    all
}

fn connect_all(sim: &mut Sim) -> Vec<ClientId> {
    NICKS.iter().map(|n| sim.connect_as(n)).collect()
}

#[test]
fn users_walks_everyone_once_in_order() {
    let mut sim = Sim::new(paged());
    let ids = connect_all(&mut sim);
    sim.clear();
    sim.send(ids[0], "/users");
    assert_eq!(sim.take(ids[0]), ["* online (3 of 8): Alice, bob, Carol; more: /users dave"]);
    assert_eq!(walk(&mut sim, ids[0], "/users", "* online "), sorted(&NICKS));
    // A cursor need not be anyone's name, nor spelt as one is.
    sim.send(ids[0], "/users BZ");
    assert_eq!(sim.take(ids[0]), ["* online (3 of 8): Carol, dave, eve; more: /users Frank"]);
    sim.send(ids[0], "/users zz");
    assert_eq!(sim.take(ids[0]), ["* online (0 of 8)"]);
    // The last page says nothing more.
    sim.send(ids[0], "/users gina");
    assert_eq!(sim.take(ids[0]), ["* online (2 of 8): gina, Hal"]);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn who_pages_a_room_and_the_lobby() {
    let mut sim = Sim::new(paged());
    let ids = connect_all(&mut sim);
    for &id in &ids[..6] {
        sim.send(id, "/join r");
        sim.send(id, "/create r");
    }
    sim.clear();
    let members = sorted(&NICKS[..6]);
    sim.send(ids[0], "/who");
    assert_eq!(sim.take(ids[0]), ["* in r (3 of 6): Alice, bob, Carol; more: /who r dave"]);
    assert_eq!(walk(&mut sim, ids[0], "/who", "* in r "), members);
    // Anyone may page through a room by name, from anywhere.
    assert_eq!(walk(&mut sim, ids[7], "/who R", "* in r "), members);
    // The Lobby: `/who` there, or `*` from anywhere.
    let lobby = sorted(&NICKS[6..]);
    assert_eq!(walk(&mut sim, ids[7], "/who", "* in the Lobby "), lobby);
    assert_eq!(walk(&mut sim, ids[0], "/who *", "* in the Lobby "), lobby);
    let guests: Vec<ClientId> = (0..3).map(|_| sim.connect()).collect();
    sim.clear();
    sim.send(ids[0], "/who *");
    assert_eq!(sim.take(ids[0]), ["* in the Lobby (3 of 5): gina, Guest10, Guest11; more: /who * Guest9"]);
    // Leaving a room puts a client back in the Lobby's list, and joining takes it out.
    sim.send(ids[0], "/leave");
    sim.send(guests[0], "/join r");
    sim.clear();
    let lobby = sorted(&["bob", "gina", "Hal", "Guest10", "Guest11"]);
    assert_eq!(walk(&mut sim, ids[0], "/who", "* in the Lobby "), lobby);
    // A new name moves its holder to its place in the Lobby's order.
    sim.send(ids[6], "/nick Ann");
    sim.clear();
    let lobby = sorted(&["Ann", "bob", "Hal", "Guest10", "Guest11"]);
    assert_eq!(walk(&mut sim, ids[0], "/who", "* in the Lobby "), lobby);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[cfg(feature = "json")]
#[test]
fn lobby_announcements_reach_the_lobby_only() {
    use serde_json::{Value, json};

    let mut sim = Sim::new(paged().with_announce_lobby_presence(true));
    let a = sim.connect_json_as("alice");
    let b = sim.connect_json_as("bob");
    sim.send_json(b, &json!({"type": "create", "room": "r"}));
    sim.clear();
    let c = sim.connect_with(ConnectInfo::new(Codec::Json));
    assert_eq!(sim.take_json(a), [json!({"type": "connected", "nick": "Guest3"})]);
    assert_eq!(sim.take_json(b), Vec::<Value>::new());
    sim.send_json(b, &json!({"type": "leave", "room": "r"}));
    sim.clear();
    sim.send_json(c, &json!({"type": "quit"}));
    let gone = || json!({"type": "disconnected", "nick": "Guest3", "reason": "quit"});
    assert_eq!(sim.take_json(a), [gone()]);
    assert_eq!(sim.take_json(b), [gone()]);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn list_pages_the_rooms_and_hides_secret_ones() {
    let mut sim = Sim::new(paged());
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    for room in ["e", "B", "d", "a", "C"] {
        sim.send(a, &format!("/create {room}"));
    }
    // A guest's room keeps its modes while someone is in it.
    sim.send(a, "/mode C +s");
    sim.clear();
    sim.send(b, "/list");
    assert_eq!(
        sim.take(b),
        ["* 3 of 4 rooms:", "*   a (0 here)", "*   B (0 here)", "*   d (0 here)", "* more: /list e"]
    );
    sim.send(b, "/list e");
    assert_eq!(sim.take(b), ["* 1 of 4 rooms:", "*   e (0 here)"]);
    // A member sees its secret room in its place.
    sim.send(a, "/list b");
    assert_eq!(
        sim.take(a),
        ["* 3 of 5 rooms:", "*   B (0 here)", "*   C (1 here)", "*   d (0 here)", "* more: /list e"]
    );
}

#[test]
fn since_pages_online_users_then_accounts_by_last_seen() {
    let mut sim = Sim::new(paged());
    sim.set_auto_auth(true);
    for (name, wait) in [("old", 10), ("mid", 10), ("new", 10), ("last", 0)] {
        let id = sim.connect();
        sim.send(id, &format!("/register {name} hunter22 hunter22"));
        sim.send(id, "/quit");
        sim.advance(Duration::from_secs(wait));
    }
    let ids: Vec<ClientId> = ["zed", "amy", "Kim"].iter().map(|n| sim.connect_as(n)).collect();
    sim.clear();
    let prefix = "* online within the last 3600 s ";
    sim.send(ids[0], "/since 3600");
    assert_eq!(
        sim.take(ids[0]),
        [format!("{prefix}(3 of 7): amy (online), Kim (online), zed (online); more: /since 3600 last")]
    );
    sim.send(ids[0], "/since 3600 last");
    let line = sim.take(ids[0]).remove(0);
    assert!(line.starts_with(&format!("{prefix}(3 of 7): last (last seen ")), "{line}");
    assert!(line.contains(", new (last seen ") && line.ends_with("; more: /since 3600 old"), "{line}");
    sim.send(ids[0], "/since 3600 old");
    let line = sim.take(ids[0]).remove(0);
    assert!(line.starts_with(&format!("{prefix}(1 of 7): old (last seen ")) && !line.contains("more"), "{line}");
    // Within 15 s only the two seen last are counted.
    sim.send(ids[0], "/since 15 new");
    let line = sim.take(ids[0]).remove(0);
    assert!(
        line.starts_with("* online within the last 15 s (1 of 5): new (last seen ") && !line.contains("more"),
        "{line}"
    );
    // Logging in takes an account out of the offline part.
    sim.send(ids[1], "/login mid hunter22");
    sim.clear();
    sim.send(ids[0], "/since 3600 zed");
    let line = sim.take(ids[0]).remove(0);
    assert!(line.starts_with(&format!("{prefix}(3 of 6): zed (online), last (last seen ")), "{line}");
    assert!(line.ends_with("; more: /since 3600 old"), "{line}");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn the_default_page_holds_a_small_server_whole() {
    let mut sim = Sim::new(relaxed());
    let ids = connect_all(&mut sim);
    sim.clear();
    sim.send(ids[0], "/users");
    assert_eq!(sim.take(ids[0]), [format!("* online (8): {}", sorted(&NICKS).join(", "))]);
}

#[cfg(feature = "json")]
#[test]
fn json_pages_carry_total_and_next() {
    use serde_json::json;
    let mut sim = Sim::new(paged());
    connect_all(&mut sim);
    let j = sim.connect_json_as("json");
    sim.send_json(j, &json!({"type":"users"}));
    assert_eq!(sim.take_json(j), [json!({"type":"users","users":["Alice","bob","Carol"],"total":9,"next":"dave"})]);
    let mut seen = Vec::new();
    let mut from = serde_json::Value::Null;
    loop {
        sim.send_json(j, &json!({"type":"users","from":from}));
        let page = sim.take_json(j).remove(0);
        seen.extend(page["users"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_owned()));
        if page["next"].is_null() {
            break;
        }
        from = page["next"].clone();
    }
    let mut all = NICKS.to_vec();
    all.push("json");
    assert_eq!(seen, sorted(&all));
    sim.send_json(j, &json!({"type":"who","room":"*","from":"h"}));
    assert_eq!(sim.take_json(j), [json!({"type":"who","room":null,"members":["Hal","json"],"total":9,"next":null})]);
    sim.send_json(j, &json!({"type":"list","from":"a"}));
    assert_eq!(sim.take_json(j), [json!({"type":"rooms","rooms":[],"total":0,"next":null})]);
    sim.send_json(j, &json!({"type":"since","seconds":60,"from":"eve"}));
    let since = sim.take_json(j).remove(0);
    assert_eq!((since["total"].clone(), since["next"].clone()), (json!(9), json!("Hal")));
    assert_eq!(since["users"][0], json!({"nick":"eve","online":true,"last_seen":null}));
}

fn irc(sim: &mut Sim, nick: &str) -> ClientId {
    let now = sim.now();
    let id = sim.engine_mut().handle_connect(now, ConnectInfo::new(Codec::Irc));
    sim.drain();
    sim.send(id, &format!("NICK {nick}"));
    sim.send(id, &format!("USER {nick} 0 * :{nick}"));
    sim.take(id);
    id
}

fn trimmed(lines: Vec<String>) -> Vec<String> {
    lines.into_iter().map(|l| l.trim_end_matches('\r').to_owned()).collect()
}

#[test]
fn irc_names_who_list_and_users_are_paged() {
    let mut sim = Sim::new(paged());
    let ids = connect_all(&mut sim);
    for &id in &ids[..5] {
        sim.send(id, "/join r");
        sim.send(id, "/create r");
    }
    let i = irc(&mut sim, "ian");
    sim.send(i, "JOIN #r");
    let joined = trimmed(sim.take(i));
    let names: Vec<&String> = joined.iter().filter(|l| l.contains(" 353 ") || l.contains(" 366 ")).collect();
    assert_eq!(names, [":chatd 353 ian = #r :Alice @bob Carol", ":chatd 366 ian #r :End of /NAMES list"]);
    assert!(joined.contains(&":chatd NOTICE ian :#r has 3 more members; WHO #r from=dave lists them".to_owned()));
    sim.send(i, "NAMES #r");
    assert_eq!(trimmed(sim.take(i)).len(), 3);
    sim.send(i, "WHO #r from=dave");
    assert_eq!(
        trimmed(sim.take(i)),
        [
            ":chatd 352 ian #r dave chatd chatd dave H :0 dave",
            ":chatd 352 ian #r eve chatd chatd eve H :0 eve",
            ":chatd 352 ian #r ian chatd chatd ian H :0 ian",
            ":chatd 315 ian #r :End of /WHO list",
        ]
    );
    // A standard WHO flag is no cursor.
    sim.send(i, "WHO #r o");
    let who = trimmed(sim.take(i));
    assert_eq!(who[0], ":chatd 352 ian #r Alice chatd chatd Alice H :0 Alice");
    assert_eq!(who[3], ":chatd NOTICE ian :3 of 6 shown; more: WHO #r from=dave");
    sim.send(ids[0], "/create s");
    sim.send(ids[0], "/create t");
    sim.send(ids[0], "/create u");
    sim.send(ids[0], "/create v");
    sim.take(i);
    sim.send(i, "LIST");
    let list = trimmed(sim.take(i));
    assert_eq!(list.len(), 6, "{list:?}");
    assert_eq!(list[4], ":chatd NOTICE ian :3 of 5 shown; more: LIST from=u");
    sim.send(i, "LIST from=u");
    let list = trimmed(sim.take(i));
    assert_eq!(list[1..3], [":chatd 322 ian #u 0 :", ":chatd 322 ian #v 1 :"]);
    sim.send(i, "USERS");
    assert_eq!(trimmed(sim.take(i)), [":chatd NOTICE ian :* online (3 of 9): Alice, bob, Carol; more: USERS dave"]);
    sim.send(i, "USERS gina");
    assert_eq!(trimmed(sim.take(i)), [":chatd NOTICE ian :* online (3 of 9): gina, Hal, ian"]);
    sim.send(i, "SINCE 60 Hal");
    assert_eq!(
        trimmed(sim.take(i)),
        [":chatd NOTICE ian :* online within the last 60 s (2 of 9): Hal (online), ian (online)"]
    );
}
