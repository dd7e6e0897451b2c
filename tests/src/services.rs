//! A PostgreSQL database and a Redis key prefix of a test's own, removed
//! when the test is done, so that tests never touch data they did not
//! create, and many test binaries can share one server at once.
//!
//! The guards talk to the servers through `psql` and `redis-cli`, the
//! servers' own command-line clients (Debian brings them with `postgresql`
//! and `redis-server`), not through a Rust client crate. Setting up and
//! tearing down a test's data is a handful of statements; the `postgres`
//! and `redis` crates would add over a hundred crates (tokio among them) to
//! every build of the tests for that. And the store chooses its own client
//! by measuring it: the tests must not decide that choice for it.
//!
//! Where the servers are:
//! - PostgreSQL: `PGHOST` (a host name or IPv4 address) and `PGPORT`, else
//!   127.0.0.1:5432, as the user `PGUSER`, else the one running the tests;
//! - Redis: the URL in `CHATD_TEST_REDIS_URL`, else `redis://127.0.0.1:6379`.
//!
//! Whether they answer is the rule of [`crate::outside`]: a test checks
//! [`crate::outside::POSTGRES`] or [`crate::outside::REDIS`] first.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The environment variable naming the Redis server the tests use.
pub const REDIS_URL_VAR: &str = "CHATD_TEST_REDIS_URL";

/// A database of the calling test's own, dropped with everything in it
/// when this guard is dropped.
pub struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates a database with a name no other test, binary or run uses.
    ///
    /// # Panics
    ///
    /// When PostgreSQL refuses: the test has begun using it, so an error
    /// is a failure, never a skip.
    #[must_use]
    pub fn create() -> Self {
        let name = format!("chatd_test_{}", unique_suffix('_'));
        psql(&postgres_url("postgres"), &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|error| panic!("cannot create the test database {name}: {error}"));
        let url = postgres_url(&name);
        Self { name, url }
    }

    /// Its name (letters, digits and `_` only).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where it is: `postgres://USER@HOST:PORT/NAME`.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's address, for a relay put in front of it
    /// ([`crate::relay`]).
    ///
    /// # Panics
    ///
    /// When the server's host name does not resolve.
    #[must_use]
    pub fn server_addr(&self) -> SocketAddr {
        let authority = self.url.trim_start_matches("postgres://");
        let authority = authority.split_once('@').map_or(authority, |(_, rest)| rest);
        let host_port = authority.split('/').next().unwrap_or_default();
        host_port.to_socket_addrs().ok().and_then(|mut addrs| addrs.next()).expect("the PostgreSQL server's address")
    }

    /// This database's URL, reached through `addr` (a relay) instead of
    /// the server's own address.
    #[must_use]
    pub fn url_through(&self, addr: SocketAddr) -> String {
        let user = postgres_user();
        format!("postgres://{user}@{addr}/{}", self.name)
    }

    /// Ends every other session on this database, as a restarted server
    /// or an operator's `pg_terminate_backend` would, and waits until they
    /// are gone; returns how many there were.
    ///
    /// # Panics
    ///
    /// When PostgreSQL refuses, or the sessions outlive 10 s.
    #[must_use]
    pub fn end_other_sessions(&self) -> usize {
        let others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()";
        let ended = self.sql(&format!("SELECT count(pg_terminate_backend(pid)) {others}"));
        let ended = ended.parse().unwrap_or_else(|_| panic!("pg_terminate_backend answered {ended:?}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.sql(&format!("SELECT count(*) {others}")) != "0" {
            assert!(Instant::now() < deadline, "the ended sessions of {} lingered", self.name);
            std::thread::sleep(Duration::from_millis(20));
        }
        ended
    }

    /// Runs `sql` in this database and returns what it printed, one row a
    /// line, columns separated by `|`.
    ///
    /// # Panics
    ///
    /// When the statement fails.
    #[must_use]
    pub fn sql(&self, sql: &str) -> String {
        psql(&self.url, sql).unwrap_or_else(|error| panic!("{sql} in {}: {error}", self.name))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // FORCE: a chatd the test left running, or a connection it leaked,
        // must not keep the database alive.
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(error) = psql(&postgres_url("postgres"), &drop) {
            // Not a panic: this may run while the test is already failing.
            eprintln!("cannot drop the test database {}: {error}", self.name);
        }
    }
}

/// Whether a database of this name exists on the tests' server.
///
/// # Panics
///
/// When PostgreSQL does not answer.
#[must_use]
pub fn database_exists(name: &str) -> bool {
    let query = format!("SELECT count(*) FROM pg_database WHERE datname = '{}'", name.replace('\'', "''"));
    let count = psql(&postgres_url("postgres"), &query).unwrap_or_else(|error| panic!("{query}: {error}"));
    count != "0"
}

/// A Redis key prefix of the calling test's own: the keys under it are
/// deleted when this guard is dropped, and no others.
pub struct RedisPrefix {
    prefix: String,
}

impl RedisPrefix {
    /// A prefix no other test, binary or run uses, ending in `:`.
    #[must_use]
    pub fn new() -> Self {
        // Letters, digits, `-` and `:` only: no glob character, so that
        // `SCAN MATCH prefix*` matches exactly the keys under it.
        Self { prefix: format!("chatd-test:{}:", unique_suffix('-')) }
    }

    /// The prefix itself.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The key `name` under this prefix.
    #[must_use]
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The server's URL, for a program under test.
    #[must_use]
    pub fn url(&self) -> String {
        redis_url()
    }

    /// The server's address, for a relay put in front of it
    /// ([`crate::relay`]).
    ///
    /// # Panics
    ///
    /// When the server's host name does not resolve.
    #[must_use]
    pub fn server_addr(&self) -> SocketAddr {
        let url = self.url();
        let host_port = url.trim_start_matches("redis://").split('/').next().unwrap_or_default().to_owned();
        host_port.to_socket_addrs().ok().and_then(|mut addrs| addrs.next()).expect("the Redis server's address")
    }
}

impl Default for RedisPrefix {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        let pattern = format!("{}*", self.prefix);
        let keys = match redis_cli(&["--scan", "--pattern", &pattern]) {
            Ok(keys) => keys,
            Err(error) => {
                eprintln!("cannot list the test's Redis keys under {}: {error}", self.prefix);
                return;
            }
        };
        let keys: Vec<&str> = keys.lines().filter(|key| key.starts_with(&self.prefix)).collect();
        for batch in keys.chunks(100) {
            let mut args = vec!["UNLINK"];
            args.extend(batch);
            if let Err(error) = redis_cli(&args) {
                eprintln!("cannot delete the test's Redis keys under {}: {error}", self.prefix);
            }
        }
    }
}

/// Runs one Redis command (`["SET", key, value]`) on the tests' server and
/// returns its reply as `redis-cli` prints it.
///
/// # Panics
///
/// When Redis does not answer or replies with an error.
#[must_use]
pub fn redis(args: &[&str]) -> String {
    redis_cli(args).unwrap_or_else(|error| panic!("redis-cli {}: {error}", args.join(" ")))
}

/// `pid-counter-random`, with `separator` between: the pid and counter keep
/// this process's names apart, the random part those of an earlier run
/// whose pid was the same and whose data outlived it.
#[must_use]
pub fn unique_suffix(separator: char) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    // Each RandomState is seeded afresh by the OS's randomness.
    let random = RandomState::new().hash_one(count) as u32;
    format!("{}{separator}{count}{separator}{random:08x}", std::process::id())
}

/// Whether PostgreSQL answers a query, or why not.
pub(crate) fn postgres_answers() -> Result<(), String> {
    which::which("psql").map_err(|_| "no psql on PATH".to_owned())?;
    let answer = psql(&postgres_url("postgres"), "SELECT 1")?;
    if answer == "1" { Ok(()) } else { Err(format!("PostgreSQL answered {answer:?} to SELECT 1")) }
}

/// Whether Redis answers a `PING`, or why not.
pub(crate) fn redis_answers() -> Result<(), String> {
    which::which("redis-cli").map_err(|_| "no redis-cli on PATH".to_owned())?;
    let answer = redis_cli(&["PING"])?;
    if answer == "PONG" { Ok(()) } else { Err(format!("Redis at {} answered {answer:?} to PING", redis_url())) }
}

fn postgres_url(database: &str) -> String {
    let host = std::env::var("PGHOST").ok().filter(|host| !host.is_empty() && !host.starts_with('/'));
    let host = host.unwrap_or_else(|| "127.0.0.1".to_owned());
    let port = std::env::var("PGPORT").ok().filter(|port| !port.is_empty()).unwrap_or_else(|| "5432".to_owned());
    format!("postgres://{}@{host}:{port}/{database}", postgres_user())
}

/// `PGUSER`, else the user running the tests, as `psql` itself would
/// choose.
fn postgres_user() -> String {
    if let Some(user) = std::env::var("PGUSER").ok().filter(|user| !user.is_empty()) {
        return user;
    }
    Command::new("id")
        .arg("-un")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .filter(|user| !user.is_empty())
        .unwrap_or_else(|| "postgres".to_owned())
}

fn redis_url() -> String {
    std::env::var(REDIS_URL_VAR)
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned())
}

/// Runs `sql` against the database at `url`, unattended: never a password
/// prompt, a bounded wait for the connection, and no `~/.psqlrc`.
fn psql(url: &str, sql: &str) -> Result<String, String> {
    let output = Command::new("psql")
        .args(["-X", "-w", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .env("PGCONNECT_TIMEOUT", "5")
        .output();
    answer("psql", output)
}

fn redis_cli(args: &[&str]) -> Result<String, String> {
    let output = Command::new("redis-cli").args(["-u", &redis_url()]).args(args).output();
    let reply = answer("redis-cli", output)?;
    // redis-cli exits 0 on an error reply when its output is not a
    // terminal; the reply says so.
    if reply.starts_with("ERR") || reply.starts_with("WRONGTYPE") || reply.starts_with("Could not connect") {
        return Err(reply);
    }
    Ok(reply)
}

fn answer(program: &str, output: std::io::Result<Output>) -> Result<String, String> {
    let output = output.map_err(|error| format!("cannot run {program}: {error}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!("{program} failed ({}): {}{}", output.status, stderr.trim(), stdout))
    }
}
