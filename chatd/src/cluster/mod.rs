//! The cluster's Redis side: name leases, the node registry, a Stream per
//! room, the presence bus and the epoch that shows Redis was wiped.
//!
//! Several chatd nodes share PostgreSQL, the one source of truth (it
//! numbers each room's messages with a `seq`), and Redis, which only
//! notifies and may lose anything. Nothing here decides: a message missed
//! on the bus is backfilled from PostgreSQL, a name whose lease lapsed is
//! claimed again, a wiped Redis is noticed by its epoch and filled again.
//!
//! # Using it
//!
//! [`Bus::start`] connects with a [`BusConfig`] and runs two threads of
//! its own (as the storage thread does): a worker that does what it is
//! sent and keeps the node's leases alive, and a reader that follows the
//! rooms and the presence stream with `XREAD BLOCK`. Everything learnt
//! comes back through one callback as a [`Report`], from either thread,
//! in the order it happened on that thread. The embedder:
//!
//! - claims a name with [`Bus::claim`] and gets [`Report::Claimed`];
//!   releases it with [`Bus::release`]. Granted names are renewed every
//!   third of the lease; one that another node holds by then is reported
//!   in [`Report::NamesLost`];
//! - publishes each committed room message with [`Bus::publish`] (its
//!   `seq` from PostgreSQL); what queued meanwhile goes in one pipeline.
//!   A publish that a later `seq` of its room beat to the stream is added
//!   late, right after it, and counted (see [`streams`]). While Redis
//!   is out of reach publishes wait (up to [`MAX_UNSENT`], then the oldest
//!   are dropped and counted) and go when it is back. A message that
//!   never reaches the stream is noticed by readers only when a later one
//!   of its room does;
//! - follows a room with [`Bus::follow`] from the last `seq` it has, and
//!   gets every later entry as [`Report::Entry`] — its own among them, in
//!   the stream's order, possibly twice across a re-follow: deduplication
//!   and ordering are the engine's. [`Report::Trimmed`] says Redis no
//!   longer holds what comes right after the position: backfill it;
//! - announces its users' presence with [`Bus::presence`]; other nodes'
//!   changes come as [`Report::Presence`], their state at start as
//!   [`Report::PresenceSnapshot`], and a node whose lease lapsed as
//!   [`Report::NodeGone`] (its users are gone);
//! - on [`Report::Resync`] claims its names again, announces its users'
//!   presence again and backfills every followed room from PostgreSQL;
//! - shows [`Report::Connection`] on `/healthz`, in metrics and the log,
//!   and reads [`Bus::counts`] for metrics;
//! - calls [`Bus::finish`] when it stops: its names, node key and presence
//!   snapshot are removed at once instead of expiring with the lease.
//!
//! The functions of [`leases`], [`nodes`], [`streams`], [`epoch`] and
//! [`presence`] are the single Redis operations the threads are made of,
//! on a connection of the caller's own.
//!
//! # Keys
//!
//! Every key is under one prefix ([`BusConfig::prefix`], `chatd:` by
//! default), so that chatd shares a Redis with other data:
//!
//! | key | type | what |
//! | --- | --- | --- |
//! | `name:{name}` | string | the node holding a name, expiring with its lease |
//! | `node:{node}` | string | a live node, expiring with its lease |
//! | `nodes` | set | nodes seen live, for finding the ones whose lease lapsed |
//! | `room:{room}` | stream | a room's messages, entry id `{seq}-1`, field `p` |
//! | `presence` | stream | presence changes, fields `n` (node) and `p` |
//! | `snapshot:{node}` | hash | the node's users' presence, expiring with its lease |
//! | `control:{node}` | stream | wakes the node's reader when it follows a room |
//! | `epoch` | string | set once with a random value; changes only when Redis is wiped |
//!
//! # Its cost in crates
//!
//! The `redis` crate's synchronous API only (`default-features = false`,
//! with `streams` and `script`): no tokio, no async runtime. It brings 33
//! crates besides itself into chatd's build, 28 of them `url` and its IDNA
//! (ICU4X) tables, which `redis` parses its URLs with.

use std::time::Duration;

/// A connection to Redis, as [`connect`] makes it, for the single
/// operations of the submodules.
pub use redis::Connection;
use redis::{Client, RedisError};

mod bus;
pub mod epoch;
// The node's reader of PostgreSQL: backfills, rooms' newest numbers, the change feed.
pub(crate) mod follower;
pub mod leases;
mod link;
pub mod nodes;
mod outbox;
pub mod presence;
mod reader;
mod report;
// Who is in which room, here and on the other nodes.
pub(crate) mod roster;
mod shared;
pub mod streams;
// What nodes tell each other through Redis, as bytes.
pub(crate) mod wire;

pub use bus::Bus;
pub use outbox::MAX_UNSENT;
pub use report::{BusCounts, Claimed, Health, NodeSnapshot, Report, Resync};

/// The lease of a name or a node unless told otherwise (`--node-lease`).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);
/// The key prefix unless told otherwise.
pub const DEFAULT_PREFIX: &str = "chatd:";
/// About how many entries a room's stream keeps (`XADD MAXLEN ~`): a
/// reader further behind than this is told [`Report::Trimmed`].
pub const DEFAULT_ROOM_STREAM_LEN: usize = 1000;
/// About how many entries the presence stream keeps.
pub const DEFAULT_PRESENCE_STREAM_LEN: usize = 10_000;
/// How long one `XREAD` blocks. The reader wakes earlier for anything it
/// must do; the block only bounds how long a silently dead connection
/// goes unnoticed.
pub const DEFAULT_READER_BLOCK: Duration = Duration::from_secs(5);
/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a reply may take, but for the reader's blocking read: past
/// it, the connection is taken for broken.
const REPLY_TIMEOUT: Duration = Duration::from_secs(2);

/// What a node needs to join the cluster's Redis.
#[derive(Debug, Clone)]
pub struct BusConfig {
    /// `redis://HOST:PORT[/DB]`.
    pub url: String,
    /// Put before every key; default [`DEFAULT_PREFIX`].
    pub prefix: String,
    /// This node's name, unique among live nodes; default
    /// [`default_node_name`] (`--node-name`).
    pub node: String,
    /// How long a name or the node stays held without being renewed;
    /// renewed every third of it. Default [`DEFAULT_LEASE`].
    pub lease: Duration,
    /// Default [`DEFAULT_ROOM_STREAM_LEN`].
    pub room_stream_len: usize,
    /// Default [`DEFAULT_PRESENCE_STREAM_LEN`].
    pub presence_stream_len: usize,
    /// Default [`DEFAULT_READER_BLOCK`].
    pub reader_block: Duration,
}

impl BusConfig {
    /// The defaults, for the Redis at `url`.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            node: default_node_name(),
            lease: DEFAULT_LEASE,
            room_stream_len: DEFAULT_ROOM_STREAM_LEN,
            presence_stream_len: DEFAULT_PRESENCE_STREAM_LEN,
            reader_block: DEFAULT_READER_BLOCK,
        }
    }

    /// The Redis client for [`Self::url`], or why the configuration is unusable.
    pub(crate) fn check(&self) -> Result<Client, BusError> {
        if self.node.is_empty() {
            return Err(BusError::EmptyNodeName);
        }
        // Renewed every third: a third must still be a whole millisecond or more.
        if self.lease < Duration::from_millis(30) {
            return Err(BusError::LeaseTooShort(self.lease));
        }
        if self.reader_block < Duration::from_millis(1) {
            return Err(BusError::BlockTooShort(self.reader_block));
        }
        Client::open(self.url.as_str()).map_err(BusError::Url)
    }
}

/// Why a [`Bus`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The URL is not `redis://HOST:PORT[/DB]`.
    #[error("not a Redis URL (redis://HOST:PORT[/DB]): {0}")]
    Url(#[source] RedisError),
    /// The node has no name.
    #[error("the node name is empty")]
    EmptyNodeName,
    /// A lease under 30 ms cannot be renewed every third of it.
    #[error("a lease of {0:?} is too short: 30 ms at least")]
    LeaseTooShort(Duration),
    /// `XREAD BLOCK 0` would block forever.
    #[error("a reader block of {0:?} is too short: 1 ms at least")]
    BlockTooShort(Duration),
}

/// `hostname-pid`: unique among the nodes of one host, and says where
/// each node runs.
#[must_use]
pub fn default_node_name() -> String {
    format!("{}-{}", host_name(), std::process::id())
}

#[cfg(unix)]
fn host_name() -> String {
    let uname = rustix::system::uname();
    let name = uname.nodename().to_string_lossy();
    if name.is_empty() { "chatd".to_owned() } else { name.into_owned() }
}

#[cfg(not(unix))]
fn host_name() -> String {
    std::env::var("COMPUTERNAME").ok().filter(|name| !name.is_empty()).unwrap_or_else(|| "chatd".to_owned())
}

/// The names of the keys under one prefix (see the module docs' table).
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// Keys under `prefix`.
    #[must_use]
    pub fn new(prefix: impl Into<String>) -> Self {
        Self { prefix: prefix.into() }
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut key = self.prefix.clone();
        parts.iter().for_each(|part| key.push_str(part));
        key
    }

    /// `name:{name}`: the lease of one name.
    #[must_use]
    pub fn name(&self, name: &str) -> String {
        self.key(&["name:", name])
    }

    /// `node:{node}`: one node's liveness.
    #[must_use]
    pub fn node(&self, node: &str) -> String {
        self.key(&["node:", node])
    }

    /// `nodes`: the nodes seen live.
    #[must_use]
    pub fn nodes(&self) -> String {
        self.key(&["nodes"])
    }

    /// `room:{room}`: one room's stream.
    #[must_use]
    pub fn room(&self, room: &str) -> String {
        self.key(&["room:", room])
    }

    /// The room a [`Self::room`] key is for.
    #[must_use]
    pub fn room_of<'a>(&self, key: &'a str) -> Option<&'a str> {
        key.strip_prefix(&self.prefix)?.strip_prefix("room:")
    }

    /// `presence`: the stream of presence changes.
    #[must_use]
    pub fn presence(&self) -> String {
        self.key(&["presence"])
    }

    /// `snapshot:{node}`: the presence of one node's users.
    #[must_use]
    pub fn snapshot(&self, node: &str) -> String {
        self.key(&["snapshot:", node])
    }

    /// `control:{node}`: the stream that wakes one node's reader.
    #[must_use]
    pub fn control(&self, node: &str) -> String {
        self.key(&["control:", node])
    }

    /// `epoch`: the value that changes only when Redis loses everything.
    #[must_use]
    pub fn epoch(&self) -> String {
        self.key(&["epoch"])
    }
}

/// A connection to `url`, or why not.
///
/// # Errors
///
/// When the URL is not a Redis URL or Redis does not answer within 2 s.
pub fn connect(url: &str) -> redis::RedisResult<Connection> {
    Client::open(url)?.get_connection_with_timeout(CONNECT_TIMEOUT)
}

/// Whether `error` means the connection is unusable (as opposed to Redis
/// refusing one command): it is dropped and made again.
pub(crate) fn connection_broken(error: &RedisError) -> bool {
    error.is_io_error() || error.is_unrecoverable_error() || error.is_timeout() || error.is_connection_dropped()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{BusConfig, BusError, Keys};

    #[test]
    fn a_config_that_cannot_work_is_refused_with_its_reason() {
        assert!(BusConfig::new("redis://127.0.0.1:6379/2").check().is_ok());
        let refused = |change: fn(&mut BusConfig)| {
            let mut config = BusConfig::new("redis://127.0.0.1:6379");
            change(&mut config);
            config.check().err()
        };
        assert!(matches!(refused(|config| config.url = "http://example".into()), Some(BusError::Url(_))));
        assert!(matches!(refused(|config| config.node.clear()), Some(BusError::EmptyNodeName)));
        assert!(matches!(refused(|config| config.lease = Duration::from_millis(20)), Some(BusError::LeaseTooShort(_))));
        assert!(matches!(refused(|config| config.reader_block = Duration::ZERO), Some(BusError::BlockTooShort(_))));
    }

    #[test]
    fn keys_are_under_the_prefix_and_a_room_key_names_its_room() {
        let keys = Keys::new("chatd:");
        assert_eq!(keys.name("alice"), "chatd:name:alice");
        assert_eq!(keys.room("rust"), "chatd:room:rust");
        assert_eq!(keys.room_of("chatd:room:rust"), Some("rust"));
        assert_eq!(keys.room_of("other:room:rust"), None);
        assert_eq!(keys.room_of("chatd:presence"), None);
        let node = super::default_node_name();
        assert!(node.ends_with(&format!("-{}", std::process::id())), "{node}");
    }
}
