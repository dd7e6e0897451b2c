//! A randomized run: JSON users on random nodes of three say numbered
//! messages in two rooms, nodes are killed (SIGKILL) and restarted between
//! rounds, users of a killed node miss a round and then come back on a
//! live one and resume from the last message they got, and
//! at the end the history checker runs over everything they got, every
//! acknowledgement and the rooms' stored history.
//!
//! The seed is printed with every failure; `CHATD_CLUSTER_SEED=N` runs
//! one seed again.

use std::collections::HashMap;
use std::time::Duration;

use chatd_tests::chatd;
use chatd_tests::cluster::{Cluster, LEASE, LEASE_MARGIN};
use chatd_tests::history_check::{Message, Observations};
use chatd_tests::outside::POSTGRES;

use super::json_user::{Bound, JsonUser, Read};
use super::services;

/// Users, rounds and messages: small enough for well under a minute with
/// a few kills (each costs up to a lease before its users' names free).
const USERS: usize = 4;
const ROUNDS: usize = 12;
const MAX_SAID_PER_ROUND: u64 = 3;
const ROOMS: [&str; 2] = ["alpha", "beta"];
/// Rooms keep few messages in memory and page few at a time, so that
/// resuming and reading back walk several pages from the store.
const HISTORY_LEN: &str = "2";
const PAGE: u64 = 3;

/// A small generator of our own (splitmix64): the run depends on the
/// seed alone.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[usize::try_from(self.below(items.len() as u64)).expect("a small index")]
    }

    /// True with probability `percent` %.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn seed() -> u64 {
    std::env::var("CHATD_CLUSTER_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        u64::from(now.subsec_nanos()) ^ now.as_secs()
    })
}

/// Prints the seed if the test fails (a panic unwinds through it).
struct SeedOnFailure(u64);

impl Drop for SeedOnFailure {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("the randomized cluster run failed with seed {0}: CHATD_CLUSTER_SEED={0} runs it again", self.0);
        }
    }
}

#[test]
fn random_kills_and_restarts_lose_reorder_or_repeat_no_acknowledged_message() {
    if !services() {
        return;
    }
    run(|args| Cluster::start(chatd!(), 3, args));
}

/// The same run on one plain chatd on PostgreSQL, killed and started
/// again at random: what a cluster must keep, a lone node keeps already,
/// and the run's own machinery (resuming, reading back, checking) is
/// checked against it.
#[test]
fn random_kills_and_restarts_of_a_lone_node_on_postgres_lose_reorder_or_repeat_nothing() {
    if !POSTGRES.present() {
        return;
    }
    run(|args| Cluster::start_without_redis(chatd!(), 1, args));
}

/// Rounds of messages and upsets on the nodes `start` gives, then the
/// checker.
fn run(start: impl FnOnce(&[&str]) -> Cluster) {
    let seed = seed();
    let _report = SeedOnFailure(seed);
    eprintln!("seed {seed}");
    let mut rng = Rng(seed);
    let page = PAGE.to_string();
    let args = ["--flood-lines-per-sec", "0", "--history-len", HISTORY_LEN, "--history-page-len", &page];
    let mut cluster = start(&args);
    let nodes = cluster.len();

    // An account's rooms keep their history however often they empty.
    let mut owner = cluster.node(1).register("owner", "owner-password");
    for room in ROOMS {
        owner.send(&format!("/create {room}"));
        owner.expect(&format!("* room {room} created"));
        owner.read_until_prefix(&format!("* you are now in {room} "));
    }
    owner.send("/quit");
    drop(owner);
    for node in 1..=nodes {
        for room in ROOMS {
            cluster.wait_for_room(node, room);
        }
    }

    let mut users: Vec<JsonUser> = (0..USERS).map(|i| JsonUser::new(&format!("u{i}"))).collect();
    for user in &mut users {
        let node = rng.pick(&cluster.alive_nodes());
        user.connect(&cluster, node, LEASE + LEASE_MARGIN);
        let rooms: Vec<&str> = match rng.below(3) {
            0 => vec![ROOMS[0]],
            1 => vec![ROOMS[1]],
            _ => ROOMS.to_vec(),
        };
        for room in rooms {
            user.join(room, &cluster);
        }
    }

    let mut said = 0_u64;
    for round in 0..ROUNDS {
        for user in users.iter_mut().filter(|user| user.connected()) {
            for _ in 0..=rng.below(MAX_SAID_PER_ROUND) {
                let room = rng.pick(&user.rooms.iter().map(String::as_str).collect::<Vec<_>>()).to_owned();
                said += 1;
                user.say(&room, &format!("{} says {said} in round {round}", user.name));
            }
        }
        for user in &mut users {
            user.await_acks(&cluster);
        }
        upset(&mut cluster, &mut rng, &mut users, round);
    }
    come_back(&cluster, &mut rng, &mut users, ROUNDS);

    // Everything said is answered. History is what the store holds; a
    // live node, once its reader has caught up, pages back the same.
    let mut observations = Observations::new();
    let mut heads = HashMap::new();
    let mut history = HashMap::new();
    for room in ROOMS {
        let stored = stored(&cluster, room);
        heads.insert(room.to_owned(), stored.iter().map(|m| m.seq).max().unwrap_or(0));
        history.insert(room, stored.clone());
        for message in stored {
            observations.stored(message);
        }
    }
    let reader_node = cluster.alive_nodes()[0];
    let mut reader = JsonUser::new("reader");
    reader.connect(&cluster, reader_node, LEASE + LEASE_MARGIN);
    for room in ROOMS {
        reader.join(room, &cluster);
    }
    reader.catch_up(&heads, super::PATIENCE);
    for room in ROOMS {
        let paged = read_back(&mut reader, room, &cluster);
        assert_eq!(
            paged, history[room],
            "seed {seed}: node{reader_node} pages {room} otherwise than the store holds it"
        );
    }
    let mut acknowledged = 0;
    let mut traces = String::new();
    for mut user in users {
        user.catch_up(&heads, super::PATIENCE);
        acknowledged += user.acks.len();
        for ack in user.acks.drain(..) {
            observations.acknowledged(ack);
        }
        traces.push_str(&user.trace());
        let at_end = user.connected();
        for log in user.records(at_end) {
            observations.client(log);
        }
    }
    assert!(acknowledged > 0, "nothing was acknowledged at all; logs:\n{}", cluster.logs());
    let violations = observations.check();
    assert!(
        violations.is_empty(),
        "seed {seed}: {} violation(s):\n{}\nwhat each user did and got:\n{traces}\nlogs:\n{}",
        violations.len(),
        violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
        cluster.logs()
    );
}

/// Between rounds: users a kill cut off a round ago come back on a live
/// node and resume (they missed that round); then maybe a node is
/// killed, its users staying away for the next round, and maybe a dead
/// one restarts (at once if none is left).
fn upset(cluster: &mut Cluster, rng: &mut Rng, users: &mut [JsonUser], round: usize) {
    come_back(cluster, rng, users, round);
    let alive = cluster.alive_nodes();
    // A cluster keeps one node running; a lone node comes back at once.
    if (alive.len() > 1 || cluster.len() == 1) && rng.chance(40) {
        let victim = rng.pick(&alive);
        eprintln!("round {round}: kill -9 node{victim}");
        cluster.kill9(victim);
        for user in users.iter_mut().filter(|user| user.node == victim) {
            user.lose_connection();
        }
    }
    let dead: Vec<usize> = (1..=cluster.len()).filter(|&i| !cluster.is_alive(i)).collect();
    if !dead.is_empty() && (dead.len() == cluster.len() || rng.chance(50)) {
        let back = rng.pick(&dead);
        eprintln!("round {round}: restart node{back}");
        cluster.restart(back);
    }
}

/// Every user without a connection connects to a live node and resumes.
fn come_back(cluster: &Cluster, rng: &mut Rng, users: &mut [JsonUser], round: usize) {
    let alive = cluster.alive_nodes();
    for user in users.iter_mut().filter(|user| !user.connected()) {
        let node = rng.pick(&alive);
        eprintln!("round {round}: {} comes back on node{node}", user.name);
        user.connect(cluster, node, LEASE + LEASE_MARGIN);
        // Only the test kills a node, and not while this runs.
        assert!(user.resume(cluster), "{} lost node{node} while resuming; logs:\n{}", user.name, cluster.logs());
    }
}

/// `room`'s messages as the store holds them, in order.
pub(crate) fn stored(cluster: &Cluster, room: &str) -> Vec<Message> {
    let rows =
        cluster.database().sql(&format!("SELECT seq, text FROM messages WHERE room_key = '{room}' ORDER BY seq"));
    rows.lines()
        .map(|row| {
            let (seq, text) = row.split_once('|').expect("seq|text");
            Message::new(room, seq.parse().expect("a seq"), text)
        })
        .collect()
}

/// The whole history of `room`, newest page first, walking back with
/// `before` until a page says there is no more.
pub(crate) fn read_back(reader: &mut JsonUser, room: &str, cluster: &Cluster) -> Vec<Message> {
    let mut pages = Vec::new();
    let mut bound = Bound::Newest;
    loop {
        let Some(page) = reader.history_page(room, bound, cluster) else {
            panic!("the reader's node died; logs:\n{}", cluster.logs());
        };
        pages.push(page.messages);
        match page.oldest {
            Some(oldest) if page.more => bound = Bound::Before(oldest),
            _ => break,
        }
    }
    // Drain whatever the join brought, so that nothing is left unread.
    while let Read::Object(_) = reader.read(Duration::from_millis(100)) {}
    pages.into_iter().rev().flatten().collect()
}
