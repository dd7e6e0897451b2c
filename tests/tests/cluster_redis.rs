//! chatd's cluster bus against the real Redis: name leases, room streams
//! and their reader, the presence bus, node liveness, the epoch and the
//! connection's health. Each test has a key prefix of its own, and node
//! names of its own (Redis' client names are shared by every test).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chatd::cluster::leases::{self, Claim};
use chatd::cluster::presence::{self, Presence};
use chatd::cluster::streams::{self, Published};
use chatd::cluster::{Bus, BusConfig, Claimed, Connection, Health, Keys, Report, Resync, nodes};
use chatd_tests::READ_TIMEOUT;
use chatd_tests::outside::REDIS;
use chatd_tests::services::{RedisPrefix, redis, unique_suffix};

/// Short, so that expiry is seen within a test; renewed every 100 ms.
const LEASE: Duration = Duration::from_millis(300);
/// For tests that need a name kept while renewed: a renewal late by up
/// to a second (a loaded machine) must not let it lapse.
const KEPT_LEASE: Duration = Duration::from_millis(1500);

/// A running node and what it reported.
struct Node {
    name: String,
    bus: Bus,
    reports: Receiver<Report>,
}

impl Node {
    fn start(prefix: &RedisPrefix, name: &str) -> Node {
        Node::start_with(prefix, name, |_| {})
    }

    fn start_with(prefix: &RedisPrefix, name: &str, configure: impl FnOnce(&mut BusConfig)) -> Node {
        let name = format!("{name}-{}", unique_suffix('-'));
        let mut config = BusConfig::new(prefix.url());
        config.prefix = prefix.prefix().to_owned();
        config.node.clone_from(&name);
        config.lease = LEASE;
        configure(&mut config);
        let (sender, reports) = mpsc::channel();
        let bus = Bus::start(config, move |report| {
            let _ = sender.send(report);
        })
        .expect("the bus starts");
        Node { name, bus, reports }
    }

    /// The next report that `wanted` picks, skipping the others; fails
    /// after [`READ_TIMEOUT`], listing what came.
    fn expect<T>(&self, what: &str, wanted: impl Fn(&Report) -> Option<T>) -> T {
        let deadline = Instant::now() + READ_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.reports.recv_timeout(left) {
                Ok(report) => match wanted(&report) {
                    Some(found) => return found,
                    None => seen.push(report),
                },
                Err(_) => panic!("{} never reported {what}; it reported {seen:?}", self.name),
            }
        }
    }

    /// The next entry read from any room.
    fn next_entry(&self) -> (String, u64, Bytes) {
        self.expect("an entry", |report| match report {
            Report::Entry { room, seq, payload } => Some((room.clone(), *seq, payload.clone())),
            _ => None,
        })
    }

    fn claim(&self, name: &str) -> Claimed {
        self.bus.claim(name);
        self.expect("a claim's answer", |report| match report {
            Report::Claimed { name: claimed, outcome } if claimed == name => Some(*outcome),
            _ => None,
        })
    }

    fn wait_until_up(&self) {
        self.expect("Redis answering", |report| (*report == Report::Connection(Health::Up)).then_some(()));
    }
}

fn connect(prefix: &RedisPrefix) -> (Connection, Keys) {
    (chatd::cluster::connect(&prefix.url()).expect("connect to Redis"), Keys::new(prefix.prefix()))
}

/// Waits for `condition`, for at most [`READ_TIMEOUT`], failing with `what`.
fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + READ_TIMEOUT;
    while !condition() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_name_claimed_by_one_node_is_refused_to_another_until_released() {
    if !REDIS.present() {
        return;
    }
    let prefix = RedisPrefix::new();
    let (mut conn, keys) = connect(&prefix);
    assert_eq!(leases::claim(&mut conn, &keys, "alice", "a", LEASE).unwrap(), Claim::Granted);
    assert_eq!(leases::claim(&mut conn, &keys, "alice", "b", LEASE).unwrap(), Claim::Taken);
    // Claiming one's own name again is granted: a node re-claiming after a resync.
    assert_eq!(leases::claim(&mut conn, &keys, "alice", "a", LEASE).unwrap(), Claim::Granted);
    assert_eq!(leases::holder(&mut conn, &keys, "alice").unwrap().as_deref(), Some("a"));
    let ttl: i64 = redis(&["PTTL", &keys.name("alice")]).parse().unwrap();
    assert!(0 < ttl && ttl <= 300, "the name's lease is {ttl} ms, not at most 300");

    // Compare-and-delete: b cannot release a's name, nor renew it.
    assert!(!leases::release(&mut conn, &keys, "alice", "b").unwrap());
    assert_eq!(leases::renew_all(&mut conn, &keys, "b", &["alice".to_owned()], LEASE).unwrap(), ["alice"]);
    assert_eq!(leases::holder(&mut conn, &keys, "alice").unwrap().as_deref(), Some("a"));

    assert!(leases::release(&mut conn, &keys, "alice", "a").unwrap());
    assert_eq!(leases::holder(&mut conn, &keys, "alice").unwrap(), None);
    assert_eq!(leases::claim(&mut conn, &keys, "alice", "b", LEASE).unwrap(), Claim::Granted);
}

#[test]
fn a_name_stays_taken_while_renewed_and_is_free_within_the_lease_once_renewal_stops() {
    if !REDIS.present() {
        return;
    }
    let prefix = RedisPrefix::new();
    let (mut conn, keys) = connect(&prefix);
    let names = ["alice".to_owned(), "bob".to_owned()];
    for name in &names {
        assert_eq!(leases::claim(&mut conn, &keys, name, "a", KEPT_LEASE).unwrap(), Claim::Granted);
    }
    // Renewed every third of the lease for two leases: never free.
    for _ in 0..6 {
        std::thread::sleep(KEPT_LEASE / 3);
        assert!(leases::renew_all(&mut conn, &keys, "a", &names, KEPT_LEASE).unwrap().is_empty());
        assert_eq!(leases::claim(&mut conn, &keys, "alice", "b", LEASE).unwrap(), Claim::Taken);
    }
    // a stops renewing, as a dead node does: each key dies with its lease.
    let ttl: i64 = redis(&["PTTL", &keys.name("bob")]).parse().unwrap();
    assert!(0 < ttl && ttl <= 1500, "bob's lease is {ttl} ms, not at most 1500");
    eventually("alice is free for b", || {
        leases::claim(&mut conn, &keys, "alice", "b", LEASE).unwrap() == Claim::Granted
    });
    // a, back, loses alice to b, and takes back bob, whom nobody took.
    assert_eq!(leases::renew_all(&mut conn, &keys, "a", &names, LEASE).unwrap(), ["alice"]);
    assert_eq!(leases::holder(&mut conn, &keys, "bob").unwrap().as_deref(), Some("a"));
}

#[test]
fn the_bus_renews_its_names_and_releases_them_when_it_finishes() {
    if !REDIS.present() {
        return;
    }
    let prefix = RedisPrefix::new();
    let a = Node::start_with(&prefix, "a", |config| config.lease = KEPT_LEASE);
    let b = Node::start(&prefix, "b");
    assert_eq!(a.claim("alice"), Claimed::Granted);
    assert_eq!(b.claim("alice"), Claimed::Taken);
    // Two leases later, a's renewals have kept it.
    std::thread::sleep(KEPT_LEASE * 2);
    assert_eq!(b.claim("alice"), Claimed::Taken);
    let (mut conn, keys) = connect(&prefix);
    a.bus.release("alice");
    // A release has no answer: its effect is seen in Redis.
    eventually("a releases alice", || leases::holder(&mut conn, &keys, "alice").unwrap().is_none());
    assert_eq!(b.claim("alice"), Claimed::Granted);
    assert_eq!(a.claim("alice"), Claimed::Taken);
    assert_eq!(a.claim("carol"), Claimed::Granted);
    a.bus.finish();
    assert_eq!(leases::holder(&mut conn, &keys, "carol").unwrap(), None, "finishing did not release carol");
    assert_eq!(redis(&["EXISTS", &keys.node(&a.name)]), "0", "a's node key outlived it");
}

#[test]
fn published_messages_are_read_in_order_and_a_lower_seq_comes_late_and_counted() {
    if !REDIS.present() {
        return;
    }
    let prefix = RedisPrefix::new();
    let (mut conn, keys) = connect(&prefix);
    assert_eq!(streams::publish(&mut conn, &keys, "lobby", 5, b"five", 100).unwrap(), Published::Added);
    assert_eq!(streams::publish(&mut conn, &keys, "lobby", 3, b"three", 100).unwrap(), Published::Refused);
    assert_eq!(streams::publish(&mut conn, &keys, "lobby", 5, b"again", 100).unwrap(), Published::Refused);
    assert_eq!(redis(&["XLEN", &keys.room("lobby")]), "1");

    let a = Node::start(&prefix, "a");
    let b = Node::start(&prefix, "b");
    b.bus.follow("rust", 0);
    for seq in 1..=4 {
        a.bus.publish("rust", seq, Bytes::from(format!("message {seq}")));
    }
    // A lower seq after a higher one (two nodes committing at once) is
    // added late, after the top, with its own seq: readers get it at once.
    a.bus.publish("rust", 2, Bytes::from_static(b"late"));
    // Sent in one pipeline with it, 6 would come first and 2 after it.
    eventually("the late publish is counted", || a.bus.counts().refused == 1);
    a.bus.publish("rust", 6, Bytes::from_static(b"message 6"));
    for seq in [1, 2, 3, 4] {
        assert_eq!(b.next_entry(), ("rust".to_owned(), seq, Bytes::from(format!("message {seq}"))));
    }
    assert_eq!(b.next_entry(), ("rust".to_owned(), 2, Bytes::from_static(b"late")));
    assert_eq!(b.next_entry(), ("rust".to_owned(), 6, Bytes::from_static(b"message 6")));
    assert_eq!(redis(&["XLEN", &keys.room("rust")]), "6");
    // The publisher reads its own room too, from where it says.
    a.bus.follow("rust", 3);
    assert_eq!(a.next_entry().1, 4);
    assert_eq!(a.next_entry().1, 2);
    assert_eq!(a.next_entry().1, 6);
    eventually("the publishes are counted", || a.bus.counts().published + a.bus.counts().refused == 6);
    let counts = a.bus.counts();
    assert_eq!((counts.published, counts.refused, counts.dropped), (5, 1, 0), "{counts:?}");
    assert!(counts.connected);
    assert_eq!(b.bus.counts().entries_read, 6);
}

/// The reader blocks in `XREAD` for an hour here: an entry of a room
/// followed while it blocks arrives only if following woke it.
#[test]
fn the_reader_wakes_when_a_room_is_followed_or_unfollowed() {
    if !REDIS.present() {
        return;
    }
    let prefix = RedisPrefix::new();
    let a = Node::start(&prefix, "a");
    let b = Node::start_with(&prefix, "b", |config| config.reader_block = Duration::from_secs(3600));
    let reader = format!("name=chatd-reader:{} ", b.name);
    let blocked = || {
        redis(&["CLIENT", "LIST"])
            .lines()
            .any(|line| line.contains(&reader) && line.contains(" cmd=xread") && line.contains(" flags=b "))
    };
    eventually("b's reader blocks in XREAD", blocked);
    b.bus.follow("rust", 0);
    a.bus.publish("rust", 1, Bytes::from_static(b"one"));
    assert_eq!(b.next_entry(), ("rust".to_owned(), 1, Bytes::from_static(b"one")));

    eventually("b's reader blocks again", blocked);
    b.bus.unfollow("rust");
    b.bus.follow("go", 0);
    a.bus.publish("rust", 2, Bytes::from_static(b"two"));
    a.bus.publish("go", 1, Bytes::from_static(b"uno"));
    // Published after rust's 2: had b still followed rust, 2 would come first.
    assert_eq!(b.next_entry(), ("go".to_owned(), 1, Bytes::from_static(b"uno")));
}

#[test]
fn a_stream_trimmed_past_the_readers_position_is_reported_before_its_entries() {
    if !REDIS.present() {
        return;
    }
    let prefix = RedisPrefix::new();
    let (mut conn, keys) = connect(&prefix);
    for seq in 1..=10 {
        assert_eq!(streams::publish(&mut conn, &keys, "lobby", seq, b"x", 1000).unwrap(), Published::Added);
    }
    let _ = redis(&["XTRIM", &keys.room("lobby"), "MAXLEN", "3"]);
    assert_eq!(streams::first_seq(&mut conn, &keys, "lobby").unwrap(), Some(8));
    // Seqs that were never published (refused, or lost) are a gap, not trimming.
    for seq in [1, 3] {
        assert_eq!(streams::publish(&mut conn, &keys, "gaps", seq, b"x", 1000).unwrap(), Published::Added);
    }

    let b = Node::start(&prefix, "b");
    b.bus.follow("lobby", 2);
    let trimmed = b.expect("the trimmed stream", |report| match report {
        Report::Trimmed { room, after, first } => Some((room.clone(), *after, *first)),
        Report::Entry { .. } => panic!("an entry came before Trimmed: {report:?}"),
        _ => None,
    });
    assert_eq!(trimmed, ("lobby".to_owned(), 2, 8));
    for seq in 8..=10 {
        assert_eq!(b.next_entry().1, seq);
    }
    b.bus.follow("gaps", 0);
    let read: Vec<u64> = (0..2).map(|_| b.next_entry().1).collect();
    assert_eq!(read, [1, 3]);
    // Following from inside what the stream holds: nothing is missing.
    b.bus.follow("lobby", 8);
    assert_eq!(b.next_entry(), ("lobby".to_owned(), 9, Bytes::from_static(b"x")));
    assert_eq!(b.bus.counts().trimmed, 1);
}

#[test]
fn a_wiped_redis_is_a_new_epoch_and_the_node_puts_its_names_back() {
    if !REDIS.present() {
        return;
    }
    let prefix = RedisPrefix::new();
    let keys = Keys::new(prefix.prefix());
    let a = Node::start(&prefix, "a");
    assert_eq!(a.claim("alice"), Claimed::Granted);
    let before = redis(&["GET", &keys.epoch()]);
    assert_eq!(before.len(), 32, "not an epoch: {before:?}");

    // A wipe of this test's own keys at once, as FLUSHALL would do to all.
    let all = redis(&["--scan", "--pattern", &format!("{}*", prefix.prefix())]);
    let mut wipe = vec!["DEL"];
    wipe.extend(all.lines());
    let _ = redis(&wipe);
    let resync = a.expect("a resync", |report| match report {
        Report::Resync(why) => Some(*why),
        _ => None,
    });
    assert_eq!(resync, Resync::EpochChanged);
    let after = redis(&["GET", &keys.epoch()]);
    assert_eq!(after.len(), 32, "no new epoch: {after:?}");
    assert_ne!(after, before);
    eventually("a's names are back", || redis(&["GET", &keys.name("alice")]) == a.name);
    eventually("a's node key is back", || redis(&["EXISTS", &keys.node(&a.name)]) == "1");
    // Deleting the epoch alone is a new epoch too.
    let _ = redis(&["DEL", &keys.epoch()]);
    assert_eq!(
        a.expect("a resync", |report| match report {
            Report::Resync(why) => Some(*why),
            _ => None,
        }),
        Resync::EpochChanged
    );
}

#[test]
fn a_node_that_stops_renewing_or_finishes_is_reported_gone() {
    if !REDIS.present() {
        return;
    }
    let prefix = RedisPrefix::new();
    let (mut conn, keys) = connect(&prefix);
    let b = Node::start(&prefix, "b");
    b.wait_until_up();
    // A node that renews for a while, seen live by b, then dies.
    let ghost = format!("ghost-{}", unique_suffix('-'));
    for _ in 0..6 {
        std::thread::sleep(LEASE / 3);
        nodes::heartbeat(&mut conn, &keys, &ghost, LEASE).unwrap();
    }
    assert!(nodes::live(&mut conn, &keys).unwrap().contains(&ghost));
    let gone = b.expect("a node gone", |report| match report {
        Report::NodeGone(node) => Some(node.clone()),
        _ => None,
    });
    assert_eq!(gone, ghost);
    assert!(!nodes::live(&mut conn, &keys).unwrap().contains(&ghost));

    let a = Node::start(&prefix, "a");
    eventually("a is live", || nodes::live(&mut conn, &keys).unwrap().contains(&a.name));
    // Three of b's checks, so that b has seen a live.
    std::thread::sleep(LEASE);
    let a_name = a.name.clone();
    a.bus.finish();
    let gone = b.expect("a node gone", |report| match report {
        Report::NodeGone(node) => Some(node.clone()),
        _ => None,
    });
    assert_eq!(gone, a_name);
}

#[test]
fn presence_changes_reach_the_other_nodes_and_a_starting_node_loads_the_snapshots() {
    if !REDIS.present() {
        return;
    }
    let prefix = RedisPrefix::new();
    let keys = Keys::new(prefix.prefix());
    let a = Node::start(&prefix, "a");
    let b = Node::start(&prefix, "b");
    let empty = b.expect("the snapshot", |report| match report {
        Report::PresenceSnapshot(nodes) => Some(nodes.clone()),
        _ => None,
    });
    assert!(empty.iter().all(|node| node.users.is_empty()), "{empty:?}");
    a.bus.presence("alice", Bytes::from_static(b"alice online"), Presence::Here);
    a.bus.presence("bob", Bytes::from_static(b"bob online"), Presence::Here);
    a.bus.presence("bob", Bytes::from_static(b"bob offline"), Presence::Gone);
    for expected in ["alice online", "bob online", "bob offline"] {
        let (node, payload) = b.expect("a presence change", |report| match report {
            Report::Presence { node, payload } => Some((node.clone(), payload.clone())),
            _ => None,
        });
        assert_eq!((node.as_str(), &payload[..]), (a.name.as_str(), expected.as_bytes()));
    }

    let c = Node::start(&prefix, "c");
    let snapshot = c.expect("the snapshot", |report| match report {
        Report::PresenceSnapshot(nodes) => Some(nodes.clone()),
        _ => None,
    });
    let of_a = snapshot.iter().find(|node| node.node == a.name).expect("a's snapshot");
    assert_eq!(of_a.users, [("alice".to_owned(), Bytes::from_static(b"alice online"))]);
    assert!(snapshot.iter().all(|node| node.node != c.name), "c loaded its own snapshot");

    let snapshot_key = keys.snapshot(&a.name);
    let ttl: i64 = redis(&["PTTL", &snapshot_key]).parse().unwrap();
    assert!(0 < ttl && ttl <= 300, "a's snapshot expires in {ttl} ms, not with its lease");
    a.bus.finish();
    assert_eq!(redis(&["EXISTS", &snapshot_key]), "0", "a's snapshot outlived its clean stop");
}

#[test]
fn a_snapshot_not_renewed_expires_with_the_lease() {
    if !REDIS.present() {
        return;
    }
    let prefix = RedisPrefix::new();
    let (mut conn, keys) = connect(&prefix);
    presence::announce(&mut conn, &keys, "ghost", "alice", b"online", Presence::Here, 100, LEASE).unwrap();
    assert_eq!(
        presence::snapshot(&mut conn, &keys, "ghost").unwrap(),
        [("alice".to_owned(), Bytes::from_static(b"online"))]
    );
    eventually("the snapshot expires", || presence::snapshot(&mut conn, &keys, "ghost").unwrap().is_empty());
}

/// A TCP proxy in front of Redis that the test can cut.
struct Proxy {
    open: Arc<Mutex<Vec<TcpStream>>>,
    accepting: Option<std::thread::JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    fn start(addr: SocketAddr, upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind(addr).expect("bind the proxy");
        listener.set_nonblocking(true).unwrap();
        let open = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_open, thread_stop) = (open.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !thread_stop.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                client.set_nonblocking(false).unwrap();
                let Ok(server) = TcpStream::connect(upstream) else { continue };
                let mut streams = thread_open.lock().unwrap();
                streams.extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                drop(streams);
                pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                pipe(server, client);
            }
        });
        Proxy { open, accepting: Some(thread), stop }
    }

    /// Closes the listener and every connection through it.
    fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.accepting.take().unwrap().join();
        for stream in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        while let Ok(read @ 1..) = from.read(&mut buffer) {
            if to.write_all(&buffer[..read]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

#[test]
fn a_lost_connection_is_reported_and_so_is_its_return() {
    if !REDIS.present() {
        return;
    }
    let prefix = RedisPrefix::new();
    // A port nothing listens on, until the proxy opens it.
    let free = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let a = Node::start_with(&prefix, "a", |config| config.url = format!("redis://{free}"));
    a.expect("Redis out of reach", |report| (*report == Report::Connection(Health::Down)).then_some(()));
    assert_eq!(a.claim("alice"), Claimed::Unreachable);
    assert!(!a.bus.counts().connected);

    let proxy = Proxy::start(free, prefix.server_addr());
    a.wait_until_up();
    assert_eq!(a.claim("alice"), Claimed::Granted);
    proxy.stop();
    a.expect("Redis out of reach", |report| (*report == Report::Connection(Health::Down)).then_some(()));
    // What is published meanwhile waits, and goes once Redis is back.
    a.bus.publish("lobby", 1, Bytes::from_static(b"while down"));
    let _proxy = Proxy::start(free, prefix.server_addr());
    a.wait_until_up();
    let keys = Keys::new(prefix.prefix());
    eventually("the message waiting is published", || redis(&["XLEN", &keys.room("lobby")]) == "1");
    assert_eq!(redis(&["GET", &keys.name("alice")]), a.name);
}
