//! A cluster node when what it stands on fails: Redis out of reach,
//! Redis wiped, PostgreSQL away. Each node here reaches its servers
//! through relays the test cuts, while the machine's servers serve others.

use std::time::{Duration, Instant};

use chatd_tests::metrics::{get, scrape};
use chatd_tests::outside::{POSTGRES, REDIS};
use chatd_tests::relay::Relay;
use chatd_tests::services::{RedisPrefix, TestDatabase, redis};
use chatd_tests::{Client, Server, chatd};

/// A short lease, so that a lapse shows within a test's patience.
const LEASE: &str = "2";
/// How long a node may take to notice what was done to Redis: two of its
/// lease ticks and a reconnect backoff, with room for a busy machine.
const NOTICE: Duration = Duration::from_secs(15);

fn both_servers() -> bool {
    POSTGRES.present() && REDIS.present()
}

/// The redis URL of `prefix`'s server, reached through `relay`.
fn redis_through(relay: &Relay) -> String {
    format!("redis://{}", relay.addr())
}

fn node(database_url: &str, redis_url: &str, prefix: &RedisPrefix, name: &str) -> Server {
    let args = [
        "--redis-url",
        redis_url,
        "--redis-prefix",
        prefix.prefix(),
        "--node-name",
        name,
        "--node-lease",
        LEASE,
        "--flood-lines-per-sec",
        "0",
    ];
    Server::start_on_database(chatd!(), database_url, &args)
}

/// Waits until `check` holds, or fails saying `what`.
fn eventually(what: &str, server: &Server, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + NOTICE;
    while !check() {
        assert!(Instant::now() < deadline, "{what} within {NOTICE:?}; logs:\n{}", server.logs());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `/healthz`'s status line and body.
fn health(server: &Server) -> String {
    let (head, body) = get(server.metrics_addr(), "/healthz");
    format!("{head}\n{body}")
}

/// The lines `client` reads up to and including `last`.
fn lines_through(client: &mut Client, last: &str) -> Vec<String> {
    let mut lines = client.read_until(last);
    lines.push(last.to_owned());
    lines
}

#[test]
fn a_node_cut_off_from_redis_says_so_in_healthz_metrics_and_log_and_recovers() {
    if !both_servers() {
        return;
    }
    let database = TestDatabase::create();
    let prefix = RedisPrefix::new();
    let relay = Relay::start(prefix.server_addr());
    let server = node(database.url(), &redis_through(&relay), &prefix, "cut");
    eventually("Redis answers", &server, || health(&server).contains("200"));
    assert_eq!(scrape(server.metrics_addr()).get("chatd_cluster_redis_up"), 1.0);

    relay.cut();
    eventually("/healthz says Redis is out of reach", &server, || {
        let answer = health(&server);
        answer.contains("503") && answer.contains("redis unreachable")
    });
    assert_eq!(scrape(server.metrics_addr()).get("chatd_cluster_redis_up"), 0.0);
    server.wait_for_log("Redis is out of reach; retrying");
    // No node can tell whether a name is free: a newcomer gets none.
    let mut guest = server.connect();
    let bye = guest.expect_prefix("* bye:");
    assert!(bye.contains("no guest name is free"), "{bye}");

    relay.resume();
    eventually("/healthz is ok again", &server, || health(&server).contains("200"));
    let mut guest = server.connect();
    guest.expect_prefix("* Welcome to chatd, Guest");
}

#[test]
fn a_wiped_redis_loses_no_message_and_no_name() {
    if !both_servers() {
        return;
    }
    let database = TestDatabase::create();
    let prefix = RedisPrefix::new();
    let one = node(database.url(), &prefix.url(), &prefix, "one");
    let two = node(database.url(), &prefix.url(), &prefix, "two");
    let mut alice = one.login("alice");
    alice.send("/create wiped");
    alice.read_until("* you are now in wiped (1 here)");
    let mut bob = join_when_known(&two, "bob", "wiped");
    alice.expect("* bob joined wiped");
    alice.send("before the wipe");
    bob.expect("[wiped] alice: before the wipe");

    // Every key of the cluster's, gone at once, as a Redis restarted empty.
    let keys = redis(&["--scan", "--pattern", &format!("{}*", prefix.prefix())]);
    for key in keys.lines().filter(|key| !key.is_empty()) {
        // One may lapse between the scan and its deletion: either way it is gone.
        let _deleted = redis(&["DEL", key]);
    }
    // Said at once, before the nodes noticed: nothing may be lost or reordered.
    for n in 1..=20 {
        alice.send(&format!("after {n}"));
        bob.send(&format!("reply {n}"));
    }
    let heard_by_bob = lines_through(&mut bob, "[wiped] alice: after 20");
    let alice_lines: Vec<&String> = heard_by_bob.iter().filter(|line| line.starts_with("[wiped] alice:")).collect();
    let expected: Vec<String> = (1..=20).map(|n| format!("[wiped] alice: after {n}")).collect();
    assert_eq!(alice_lines, expected.iter().collect::<Vec<_>>());
    let heard_by_alice = lines_through(&mut alice, "[wiped] bob: reply 20");
    let bob_lines: Vec<&String> = heard_by_alice.iter().filter(|line| line.starts_with("[wiped] bob:")).collect();
    let expected: Vec<String> = (1..=20).map(|n| format!("[wiped] bob: reply {n}")).collect();
    assert_eq!(bob_lines, expected.iter().collect::<Vec<_>>());

    // The nodes noticed the new epoch and claimed their names again: alice
    // is still taken on the other node.
    one.wait_for_log("Redis lost its data");
    let mut carol = two.connect();
    carol.expect_prefix("* Welcome to chatd, Guest");
    eventually("alice claimed again", &two, || redis(&["GET", &prefix.key("name:alice")]).starts_with("one#"));
    carol.send("/nick alice");
    carol.expect("! nickname alice is taken");
}

/// Logs `nick` in on `server` and joins `room`, which another node made a
/// moment ago: the room arrives with the change feed.
fn join_when_known(server: &Server, nick: &str, room: &str) -> Client {
    server.wait_for_room(room);
    let mut client = server.login(nick);
    client.send(&format!("/join {room}"));
    client.expect_prefix(&format!("* you are now in {room}"));
    client
}

#[test]
fn with_postgres_away_a_node_refuses_writes_but_serves_presence_and_recovers() {
    if !both_servers() {
        return;
    }
    let database = TestDatabase::create();
    let prefix = RedisPrefix::new();
    let relay = Relay::start(database.server_addr());
    let one = node(&database.url_through(relay.addr()), &prefix.url(), &prefix, "one");
    let two = node(database.url(), &prefix.url(), &prefix, "two");
    let mut alice = one.login("alice");
    alice.send("/create away");
    alice.read_until("* you are now in away (1 here)");
    let mut bob = join_when_known(&two, "bob", "away");
    alice.expect("* bob joined away");

    relay.cut();
    let why = || format!("PostgreSQL is away from node one; logs:\n{}", one.logs());
    let accepted = alice.send_until_refused_for_storage("", Duration::from_millis(300), Duration::from_secs(30), &why);
    // Presence needs no storage: a join on the other node is shown here.
    let mut carol = two.login("carol");
    carol.send("/join away");
    carol.read_until("* you are now in away (3 here)");
    alice.read_until("* carol joined away");
    alice.send("/who");
    alice.read_until("* in away (3): alice, bob, carol");

    relay.resume();
    one.wait_for_log("storage writes work again");
    alice.send("back again");
    // What was accepted before the refusal, then the new one, in order.
    let mut said = Vec::new();
    let heard = lines_through(&mut bob, "[away] alice: back again");
    for line in &heard {
        if let Some(text) = line.strip_prefix("[away] alice: ") {
            said.push(text.to_owned());
        }
    }
    let expected: Vec<String> = accepted.iter().cloned().chain(["back again".to_owned()]).collect();
    assert_eq!(said, expected, "bob heard alice's messages once each, in order");
}
