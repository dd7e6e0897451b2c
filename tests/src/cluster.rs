//! Several chatd nodes as one chat: a PostgreSQL database and a Redis key
//! prefix of the test's own, and `n` chatd processes sharing them, each
//! on free ports of its own. Nodes are numbered from 1, as their names
//! are (`node1`, `node2`, ...), so that a test reads as its scenario does
//! ("a user on node 2").
//!
//! A test checks [`crate::outside::POSTGRES`] and
//! [`crate::outside::REDIS`] before it starts a cluster (the rule of
//! [`crate::outside`]): once a cluster runs, every error is a failure.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::services::{RedisPrefix, TestDatabase};
use crate::{Client, Server};

/// Each node's `--node-lease`: short, so that a test sees a killed node's
/// names come free within seconds.
pub const LEASE: Duration = Duration::from_secs(2);

/// What a test allows beyond [`LEASE`] for something the lease bounds (a
/// dead node's users gone, its names free): the other nodes notice the
/// lease lapse on their own next look, and a loaded CI machine is slow.
/// Generous on purpose: this bounds a wait, it measures no speed.
pub const LEASE_MARGIN: Duration = Duration::from_secs(8);

/// Running chatd nodes on one database and one Redis prefix; dropping it
/// kills every node, then drops the database and the Redis keys.
pub struct Cluster {
    chatd: &'static Path,
    /// Node `i` is `nodes[i - 1]`; a killed node stays here, exited, until
    /// restarted, so that its logs can still be read.
    nodes: Vec<Server>,
    alive: Vec<bool>,
    /// Nodes replaced by a restart, kept for their logs.
    retired: Vec<(usize, Server)>,
    /// Every node's arguments after `--database-url`, but its name.
    args: Vec<String>,
    // Dropped after the nodes (see `Drop`), in this order.
    database: TestDatabase,
    redis: Option<RedisPrefix>,
}

impl Cluster {
    /// Starts `n` nodes of `chatd` (see [`crate::chatd!`]) as one cluster:
    /// each with `--database-url` of a fresh database, `--redis-url` and
    /// `--redis-prefix` of a fresh prefix, `--node-name node{i}`,
    /// `--node-lease` of [`LEASE`], free ports, and `extra_args`.
    ///
    /// # Panics
    ///
    /// When the database cannot be created or a node does not start.
    pub fn start(chatd: &'static Path, n: usize, extra_args: &[&str]) -> Cluster {
        let redis = RedisPrefix::new();
        let mut args: Vec<String> = vec![
            "--redis-url".into(),
            redis.url(),
            "--redis-prefix".into(),
            redis.prefix().to_owned(),
            "--node-lease".into(),
            LEASE.as_secs().to_string(),
        ];
        args.extend(extra_args.iter().map(|arg| (*arg).to_owned()));
        Cluster::launch(chatd, n, args, Some(redis))
    }

    /// Like [`Cluster::start`] without Redis: `n` plain chatd processes on
    /// one database, each named, with no bus between them. Only one such
    /// node is a sound deployment; this checks the harness itself (start,
    /// kill, restart, clean-up) with what single-node chatd does.
    ///
    /// # Panics
    ///
    /// As [`Cluster::start`].
    pub fn start_without_redis(chatd: &'static Path, n: usize, extra_args: &[&str]) -> Cluster {
        let args = extra_args.iter().map(|arg| (*arg).to_owned()).collect();
        Cluster::launch(chatd, n, args, None)
    }

    fn launch(chatd: &'static Path, n: usize, args: Vec<String>, redis: Option<RedisPrefix>) -> Cluster {
        let database = TestDatabase::create();
        let mut cluster =
            Cluster { chatd, nodes: Vec::new(), alive: Vec::new(), retired: Vec::new(), args, database, redis };
        for i in 1..=n {
            let server = cluster.spawn(i);
            cluster.nodes.push(server);
            cluster.alive.push(true);
        }
        cluster
    }

    fn spawn(&self, i: usize) -> Server {
        let name = format!("node{i}");
        let mut args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        // `--node-name` only where there is a cluster to name it in: a
        // plain chatd does not know the flag.
        if self.redis.is_some() {
            args.extend(["--node-name", &name]);
        }
        Server::start_on_database(self.chatd, self.database.url(), &args)
    }

    /// How many nodes there are, alive or not.
    #[must_use]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the cluster has no node at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Node `i` (from 1). A killed node's [`Server`] has exited: connecting
    /// to it fails.
    ///
    /// # Panics
    ///
    /// When there is no node `i`.
    #[must_use]
    pub fn node(&self, i: usize) -> &Server {
        &self.nodes[Cluster::index(self.nodes.len(), i)]
    }

    /// Whether node `i` runs (it was not killed, or was restarted since).
    #[must_use]
    pub fn is_alive(&self, i: usize) -> bool {
        self.alive[Cluster::index(self.nodes.len(), i)]
    }

    /// The numbers of the nodes that run.
    #[must_use]
    pub fn alive_nodes(&self) -> Vec<usize> {
        (1..=self.nodes.len()).filter(|&i| self.is_alive(i)).collect()
    }

    fn index(n: usize, i: usize) -> usize {
        assert!((1..=n).contains(&i), "there is no node {i}: nodes are numbered 1 to {n}");
        i - 1
    }

    /// Kills node `i` with SIGKILL, as a crash does, and waits until it
    /// has exited. Its clients' connections drop; its names stay claimed
    /// until its lease lapses.
    pub fn kill9(&mut self, i: usize) {
        let index = Cluster::index(self.nodes.len(), i);
        self.nodes[index].kill9();
        self.alive[index] = false;
    }

    /// Starts node `i` again (killing it first if it runs), under the same
    /// name and arguments, on new free ports.
    pub fn restart(&mut self, i: usize) {
        let index = Cluster::index(self.nodes.len(), i);
        if self.alive[index] {
            self.kill9(i);
        }
        let fresh = self.spawn(i);
        let old = std::mem::replace(&mut self.nodes[index], fresh);
        self.retired.push((i, old));
        self.alive[index] = true;
    }

    /// The database the nodes share.
    #[must_use]
    pub fn database(&self) -> &TestDatabase {
        &self.database
    }

    /// The Redis prefix the nodes share (`None` for
    /// [`Cluster::start_without_redis`]).
    #[must_use]
    pub fn redis(&self) -> Option<&RedisPrefix> {
        self.redis.as_ref()
    }

    /// Every node's logs, each under a heading, earlier runs of a
    /// restarted node first: for failure messages.
    #[must_use]
    pub fn logs(&self) -> String {
        let mut all = String::new();
        for (i, server) in &self.retired {
            all.push_str(&format!("--- node{i} (an earlier run)\n{}", server.logs()));
        }
        for (index, server) in self.nodes.iter().enumerate() {
            let state = if self.alive[index] { "" } else { " (killed)" };
            all.push_str(&format!("--- node{}{state}\n{}", index + 1, server.logs()));
        }
        all
    }

    /// Waits until node `i` lists `room` ([`Server::wait_for_room`]).
    ///
    /// # Panics
    ///
    /// When node `i` has not listed it within [`READ_TIMEOUT`](crate::READ_TIMEOUT).
    pub fn wait_for_room(&self, i: usize, room: &str) {
        self.node(i).wait_for_room(room);
    }

    /// A text client on node `i` that has taken `nick`, trying again while
    /// the cluster refuses it (`nickname NICK is taken`), until `patience`
    /// has passed: a name a dead node held comes free once its lease
    /// lapses.
    ///
    /// # Panics
    ///
    /// When the name is still refused after `patience`, or chatd answers
    /// anything else.
    pub fn login_eventually(&self, i: usize, nick: &str, patience: Duration) -> Client {
        let mut client = self.node(i).connect();
        client.expect_prefix("* Welcome to ");
        let deadline = Instant::now() + patience;
        let taken = format!("! nickname {nick} is taken");
        loop {
            client.send(&format!("/nick {nick}"));
            let answer = client.line();
            if answer == format!("* you are now known as {nick}") {
                return client;
            }
            assert_eq!(answer, taken, "node{i} answered /nick {nick} otherwise");
            assert!(Instant::now() < deadline, "{nick} was still taken after {patience:?}; logs:\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Every node gone before its data: a node still running would
        // hold the database open and write Redis keys after their removal.
        self.nodes.clear();
        self.retired.clear();
        // Then the fields: the database, then the Redis keys.
    }
}
