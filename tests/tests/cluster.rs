//! chatd as a cluster, end to end: several nodes on one PostgreSQL
//! database and one Redis prefix (`--redis-url`), each test's own, and
//! clients of every protocol on different nodes seeing one chat: rooms,
//! messages, joins, names, topics, accounts, whispers, and what happens
//! when a node is killed. A randomized run checks every message history
//! against the store (`random.rs`). Each test skips where PostgreSQL or
//! Redis does not answer.
#![cfg(unix)]

#[path = "cluster/json_user.rs"]
mod json_user;
#[path = "cluster/random.rs"]
mod random;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use chatd_tests::cluster::{Cluster, LEASE, LEASE_MARGIN};
use chatd_tests::history_check::Observations;
use chatd_tests::outside::{POSTGRES, REDIS};
use chatd_tests::services::{database_exists, redis};
use chatd_tests::{Client, READ_TIMEOUT, chatd};
use json_user::JsonUser;
use serde_json::{Value, json};
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

/// How long a test waits for any one thing a live node should do.
const PATIENCE: Duration = READ_TIMEOUT;

/// Flood control off: tests ask again and again while the cluster
/// catches up, more lines than its burst allows.
const NO_FLOOD: &[&str] = &["--flood-lines-per-sec", "0"];

/// Whether PostgreSQL and Redis answer (the rule of `outside`).
fn services() -> bool {
    POSTGRES.present() && REDIS.present()
}

type Ws = WebSocket<TcpStream>;

/// A WebSocket on node `i`'s `/ws`, from its own page's origin, past
/// its welcome.
fn websocket(cluster: &Cluster, i: usize) -> Ws {
    let addr = cluster.node(i).http_addr();
    let stream = TcpStream::connect(addr).expect("connect to chatd's HTTP port");
    stream.set_read_timeout(Some(READ_TIMEOUT)).expect("set read timeout");
    let mut request = format!("ws://{addr}/ws").into_client_request().expect("a request");
    request.headers_mut().insert("Origin", format!("http://{addr}").parse().expect("an origin header"));
    let (mut ws, _) = tungstenite::client(request, stream).expect("a WebSocket");
    let welcome = ws_json(&mut ws);
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    ws
}

/// The next text frame as JSON, skipping pings.
fn ws_json(ws: &mut Ws) -> Value {
    loop {
        match ws.read().expect("a message from chatd") {
            Message::Text(text) => {
                return serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
            }
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// Reads frames until one `wanted` accepts; returns it.
fn ws_until(ws: &mut Ws, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    let mut seen = Vec::new();
    loop {
        let value = ws_json(ws);
        if wanted(&value) {
            return value;
        }
        seen.push(value);
        assert!(seen.len() < 100, "no {what} among {seen:?}");
    }
}

fn ws_send(ws: &mut Ws, value: &Value) {
    ws.send(Message::text(value.to_string())).expect("send to chatd");
}

/// Reads text lines until one equals `wanted`, for at most `patience`;
/// fails with `why` and the nodes' logs.
fn line_within(client: &mut Client, wanted: &[&str], patience: Duration, cluster: &Cluster) -> String {
    let deadline = Instant::now() + patience;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.line_within(left.max(Duration::from_millis(1))) {
            Some(line) if wanted.iter().any(|w| line.starts_with(w)) => return line,
            Some(line) => seen.push(line),
            None => panic!("none of {wanted:?} within {patience:?}, got {seen:?}; logs:\n{}", cluster.logs()),
        }
    }
}

/// `/nick NICK` until the cluster grants it, for at most `patience`.
fn nick_eventually(client: &mut Client, nick: &str, patience: Duration, cluster: &Cluster) {
    let deadline = Instant::now() + patience;
    loop {
        client.send(&format!("/nick {nick}"));
        let answer = client.line();
        if answer == format!("* you are now known as {nick}") {
            return;
        }
        assert_eq!(answer, format!("! nickname {nick} is taken"));
        assert!(Instant::now() < deadline, "{nick} still taken after {patience:?}; logs:\n{}", cluster.logs());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `nick`, a text client on node `i`, creates `room` and is in it.
fn creates(cluster: &Cluster, i: usize, nick: &str, room: &str) -> Client {
    let mut client = cluster.node(i).login(nick);
    client.send(&format!("/create {room}"));
    client.expect(&format!("* room {room} created"));
    client.expect(&format!("* you are now in {room} (1 here)"));
    client
}

/// A text client on node `i` named `nick` joins `room` (which another
/// node made), once node `i` knows it; `members` is how many it should
/// find there, itself included.
fn joins(cluster: &Cluster, i: usize, nick: &str, room: &str, members: usize) -> Client {
    cluster.wait_for_room(i, room);
    let mut client = cluster.node(i).login(nick);
    client.send(&format!("/join {room}"));
    client.expect(&format!("* you are now in {room} ({members} here)"));
    client
}

#[test]
fn the_harness_starts_kills_and_restarts_nodes_and_drops_their_database() {
    if !POSTGRES.present() {
        return;
    }
    // What works without the cluster: one node on the database alone.
    let mut cluster = Cluster::start_without_redis(chatd!(), 1, &[]);
    let name = cluster.database().name().to_owned();
    let mut alice = cluster.node(1).register("alice", "alice-password");
    alice.send("/create keep");
    alice.expect("* room keep created");
    alice.expect("* you are now in keep (1 here)");
    alice.send("kept across a kill");
    alice.sync();
    cluster.kill9(1);
    assert!(!cluster.is_alive(1));
    assert_eq!(cluster.alive_nodes(), Vec::<usize>::new());
    assert!(alice.try_line().map_or(true, |line| line.is_none()), "the killed node's client is cut off");
    cluster.restart(1);
    assert_eq!(cluster.alive_nodes(), [1]);
    let mut bob = cluster.node(1).login("bob");
    bob.send("/join keep");
    bob.expect("* you are now in keep (1 here)");
    assert!(bob.expect_prefix("~ [keep ").ends_with("] alice: kept across a kill"));
    assert!(cluster.logs().contains("--- node1 (an earlier run)"), "{}", cluster.logs());
    drop(bob);
    drop(cluster);
    assert!(!database_exists(&name), "the cluster's database outlived it");
}

#[test]
fn dropping_a_cluster_removes_its_database_and_redis_keys() {
    if !services() {
        return;
    }
    let cluster = Cluster::start(chatd!(), 2, NO_FLOOD);
    let name = cluster.database().name().to_owned();
    let pattern = format!("{}*", cluster.redis().expect("a Redis prefix").prefix());
    // Names claimed and a room followed put keys under the prefix.
    let _alice = creates(&cluster, 1, "alice", "den");
    let mut bob = joins(&cluster, 2, "bob", "den", 2);
    bob.send("hello");
    bob.sync();
    assert_ne!(redis(&["--scan", "--pattern", &pattern]), "", "the nodes wrote nothing under their prefix");
    drop(bob);
    drop(cluster);
    assert!(!database_exists(&name), "the cluster's database outlived it");
    assert_eq!(redis(&["--scan", "--pattern", &pattern]), "", "keys outlived the cluster");
}

#[test]
fn text_irc_and_websocket_users_on_three_nodes_share_a_room() {
    if !services() {
        return;
    }
    let cluster = Cluster::start(chatd!(), 3, NO_FLOOD);
    let mut alice = creates(&cluster, 1, "alice", "lounge");

    cluster.wait_for_room(2, "lounge");
    let mut bob = cluster.node(2).irc("bob", "");
    bob.irc("JOIN #lounge");
    bob.until(" 366 bob #lounge ");
    alice.expect("* bob joined lounge");

    cluster.wait_for_room(3, "lounge");
    let mut carol = websocket(&cluster, 3);
    ws_send(&mut carol, &json!({"type": "nick", "nick": "carol"}));
    ws_until(&mut carol, "carol's nick", |v| v["type"] == "nick" && v["new"] == "carol");
    ws_send(&mut carol, &json!({"type": "join", "room": "lounge"}));
    let joined = ws_until(&mut carol, "carol's join", |v| v["type"] == "joined" && v["nick"] == "carol");
    assert_eq!(joined["members"], 3, "alice and bob on the other nodes count: {joined}");
    alice.expect("* carol joined lounge");
    let join = bob.until(" JOIN #lounge");
    assert!(join.starts_with(":carol!"), "{join}");

    alice.send("hello from text");
    let heard = bob.until("PRIVMSG #lounge :hello from text");
    assert!(heard.starts_with(":alice!"), "{heard}");
    let message = ws_until(&mut carol, "alice's message", |v| v["type"] == "message");
    assert_eq!((message["from"].as_str(), message["text"].as_str()), (Some("alice"), Some("hello from text")));
    assert_eq!((message["seq"].as_u64(), message["history"].as_bool()), (Some(1), Some(false)), "{message}");

    bob.irc("PRIVMSG #lounge :hello from irc");
    alice.expect("[lounge] bob: hello from irc");
    let message = ws_until(&mut carol, "bob's message", |v| v["type"] == "message");
    assert_eq!((message["from"].as_str(), message["seq"].as_u64()), (Some("bob"), Some(2)), "{message}");

    ws_send(&mut carol, &json!({"type": "say", "room": "lounge", "text": "hello from json", "id": "c1"}));
    let own = ws_until(&mut carol, "carol's own copy", |v| v["type"] == "message");
    assert_eq!((own["seq"].as_u64(), own["id"].as_str()), (Some(3), Some("c1")), "{own}");
    alice.expect("[lounge] carol: hello from json");
    let heard = bob.until("PRIVMSG #lounge :hello from json");
    assert!(heard.starts_with(":carol!"), "{heard}");

    // Every node counts every member.
    alice.send("/who");
    alice.expect("* in lounge (3): alice, bob, carol");
}

#[test]
fn a_nick_taken_on_one_node_is_refused_on_another_until_its_holder_quits() {
    if !services() {
        return;
    }
    let cluster = Cluster::start(chatd!(), 2, NO_FLOOD);
    let mut alice = cluster.node(1).login("alice");
    let mut other = cluster.node(2).connect();
    other.expect_prefix("* Welcome to ");
    other.send("/nick alice");
    other.expect("! nickname alice is taken");
    // Without regard to case, as on one node.
    other.send("/nick ALICE");
    other.expect("! nickname ALICE is taken");

    alice.send("/quit");
    alice.expect("* bye: quit");
    alice.expect_eof();
    // Released at once; the other node hears of it a moment later.
    nick_eventually(&mut other, "alice", PATIENCE, &cluster);
    // And now node 1 refuses it.
    let mut again = cluster.node(1).connect();
    again.expect_prefix("* Welcome to ");
    again.send("/nick alice");
    again.expect("! nickname alice is taken");
}

#[test]
fn a_killed_node_s_users_leave_within_the_lease_and_resume_on_another_node() {
    if !services() {
        return;
    }
    let args = ["--flood-lines-per-sec", "0", "--history-len", "3", "--history-page-len", "4"];
    let mut cluster = Cluster::start(chatd!(), 3, &args);
    // An account's room: it keeps its history whoever leaves.
    let mut alice = cluster.node(1).register("alice", "alice-password");
    alice.send("/create den");
    alice.expect("* room den created");
    alice.expect("* you are now in den (1 here)");
    let mut bob = joins(&cluster, 2, "bob", "den", 2);
    alice.expect("* bob joined den");

    let mut jay = JsonUser::new("jay");
    jay.connect(&cluster, 2, PATIENCE);
    jay.join("den", &cluster);
    alice.expect("* jay joined den");
    cluster.wait_for_room(3, "den");
    let mut wes = JsonUser::new("wes");
    wes.connect(&cluster, 3, PATIENCE);
    wes.join("den", &cluster);
    alice.expect("* wes joined den");
    jay.say("den", "jay before");
    jay.await_acks(&cluster);
    assert_eq!(jay.acks.len(), 1, "jay's message: {:?}", jay.unacknowledged);
    bob.read_until("[den] jay: jay before");

    cluster.kill9(2);
    jay.lose_connection();
    // The others see node 2's users go once its lease lapses.
    let gone = LEASE + LEASE_MARGIN;
    let mut left = Vec::new();
    for _ in 0..2 {
        left.push(line_within(
            &mut alice,
            &["* bob disconnected", "* bob left den", "* jay disconnected", "* jay left den"],
            gone,
            &cluster,
        ));
    }
    left.sort();
    assert!(left[0].starts_with("* bob") && left[1].starts_with("* jay"), "{left:?}");

    // Said while jay was away, each acknowledged with its seq.
    for n in 1..=6 {
        wes.say("den", &format!("while away {n}"));
    }
    wes.await_acks(&cluster);
    assert_eq!(wes.acks.len(), 6, "wes's messages: {:?}", wes.unacknowledged);

    // bob takes his name again on node 3 within the lease.
    let mut bob = cluster.login_eventually(3, "bob", gone);
    bob.send("/join den");
    bob.read_until_prefix("* you are now in den (");

    // jay resumes on node 3 and gets everything said meanwhile, once, in order.
    let before = jay.log.last_seq("den").expect("jay got its own message");
    jay.connect(&cluster, 3, gone);
    assert!(jay.resume(&cluster), "node 3 died?");
    wes.say("den", "after the resume");
    wes.await_acks(&cluster);
    let head = wes.acks.last().expect("acknowledged").seq;
    jay.catch_up(&[("den".to_owned(), head)].into_iter().collect(), PATIENCE);

    let wanted: Vec<(u64, String)> = wes.acks.iter().map(|m| (m.seq, m.text.clone())).collect();
    let got: Vec<(u64, String)> =
        jay.log.got_in("den").into_iter().filter(|m| m.seq > before).map(|m| (m.seq, m.text.clone())).collect();
    assert_eq!(got, wanted, "jay got every message acknowledged after its last, once, in order");
    // And the store holds them so, and jay's whole record agrees with it.
    let mut reader = JsonUser::new("reader");
    reader.connect(&cluster, 1, PATIENCE);
    reader.join("den", &cluster);
    let stored = random::stored(&cluster, "den");
    assert_eq!(random::read_back(&mut reader, "den", &cluster), stored, "node 1 pages den as the store holds it");
    let after: Vec<(u64, String)> = stored.iter().filter(|m| m.seq > before).map(|m| (m.seq, m.text.clone())).collect();
    assert_eq!(after, wanted, "the store holds what was acknowledged, under the same seqs");
    let mut observations = Observations::new();
    stored.into_iter().for_each(|m| observations.stored(m));
    jay.acks.iter().chain(&wes.acks).for_each(|m| observations.acknowledged(m.clone()));
    let trace = jay.trace();
    for log in jay.records(true) {
        observations.client(log);
    }
    assert_eq!(observations.check(), [], "{trace}");
}

#[test]
fn a_topic_set_on_one_node_is_seen_by_a_member_and_a_newcomer_on_another() {
    if !services() {
        return;
    }
    let cluster = Cluster::start(chatd!(), 2, NO_FLOOD);
    let mut alice = cluster.node(1).register("alice", "alice-password");
    alice.send("/create club");
    alice.expect("* room club created");
    alice.expect("* you are now in club (1 here)");
    let mut eve = joins(&cluster, 2, "eve", "club", 2);
    alice.expect("* eve joined club");
    alice.send("/topic jazz tonight");
    alice.expect("* alice set the topic of club: jazz tonight");
    eve.read_until("* alice set the topic of club: jazz tonight");
    let mut frank = joins(&cluster, 2, "frank", "club", 3);
    frank.expect_prefix("* topic of club: jazz tonight (set by alice, ");
}

#[test]
fn an_account_registered_on_one_node_logs_in_on_another() {
    if !services() {
        return;
    }
    let cluster = Cluster::start(chatd!(), 2, NO_FLOOD);
    let mut gina = cluster.node(1).register("gina", "gina-password");
    gina.send("/quit");
    gina.expect("* bye: quit");
    gina.expect_eof();
    // The name is the account's on node 2 too, once node 2 has heard of
    // the account (a moment after it was registered).
    let mut guest = cluster.node(2).connect();
    guest.expect_prefix("* Welcome to ");
    let deadline = Instant::now() + PATIENCE;
    loop {
        guest.send("/nick gina");
        let answer = guest.line();
        if answer == "! gina is a registered name; /login to use it" {
            break;
        }
        assert_eq!(answer, "* you are now known as gina", "node 2 answered /nick gina otherwise");
        assert!(Instant::now() < deadline, "node 2 never heard of the account gina; logs:\n{}", cluster.logs());
        guest.send("/nick not-gina-yet");
        guest.expect("* you are now known as not-gina-yet");
        std::thread::sleep(Duration::from_millis(100));
    }
    guest.send("/login gina gina-password");
    guest.expect("* you are now known as gina");
    guest.read_until("* logged in as gina");
    // A wrong password is refused there as anywhere.
    let mut mallory = cluster.node(2).connect();
    mallory.expect_prefix("* Welcome to ");
    mallory.send("/login gina not-the-password");
    mallory.expect_prefix("! wrong name or password");
}

#[test]
fn a_whisper_from_one_node_reaches_a_user_in_a_room_on_another() {
    if !services() {
        return;
    }
    let cluster = Cluster::start(chatd!(), 3, NO_FLOOD);
    let mut alice = creates(&cluster, 1, "alice", "hall");
    let mut hank = joins(&cluster, 3, "hank", "hall", 2);
    // Once node 1 knows hank is in hall, it knows where to send to him.
    alice.expect("* hank joined hall");
    alice.send("/msg hank psst");
    let echo = alice.expect_prefix("[whisper to hank ");
    assert!(echo.ends_with("] psst"), "{echo}");
    let whisper = line_within(&mut hank, &["[whisper from alice "], PATIENCE, &cluster);
    assert!(whisper.ends_with("] psst"), "{whisper}");
    // And back.
    hank.send("/msg alice got it");
    hank.expect_prefix("[whisper to alice ");
    let whisper = line_within(&mut alice, &["[whisper from hank "], PATIENCE, &cluster);
    assert!(whisper.ends_with("] got it"), "{whisper}");
}
