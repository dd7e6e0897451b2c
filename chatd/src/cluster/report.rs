//! What the bus tells its embedder, and what it counts.

use bytes::Bytes;

#[cfg(doc)]
use super::{Bus, MAX_UNSENT};

/// What a [`Bus`] tells its embedder. Each must be acted on as its
/// variant says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// The answer to [`Bus::claim`].
    Claimed {
        /// The name, as claimed.
        name: String,
        /// Whether it is this node's.
        outcome: Claimed,
    },
    /// Names this node held that another node holds now (its lease
    /// lapsed, and another node claimed them): their users must give them up.
    NamesLost(Vec<String>),
    /// A message on a followed room's stream.
    Entry {
        /// The room, as followed.
        room: String,
        /// Its seq from PostgreSQL.
        seq: u64,
        /// As published.
        payload: Bytes,
    },
    /// Redis no longer holds the messages of `room` after `after` and
    /// before `first` (the stream was trimmed past the reader, or lost):
    /// backfill them from PostgreSQL.
    Trimmed {
        /// The room, as followed.
        room: String,
        /// The last seq the reader had.
        after: u64,
        /// The oldest seq the stream holds.
        first: u64,
    },
    /// Another node's presence change.
    Presence {
        /// The node whose user it is.
        node: String,
        /// As announced.
        payload: Bytes,
    },
    /// The other live nodes' users' presence, read once when the reader
    /// starts; changes after it come as [`Report::Presence`].
    PresenceSnapshot(Vec<NodeSnapshot>),
    /// A node's lease lapsed (or it stopped): its users are gone.
    NodeGone(String),
    /// What this node put in Redis may be gone: claim its names again,
    /// announce its users' presence again, and backfill every followed
    /// room from PostgreSQL.
    Resync(Resync),
    /// Whether Redis answers: for `/healthz`, metrics and the log.
    Connection(Health),
}

/// The answer to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claimed {
    /// The name is this node's, renewed until released.
    Granted,
    /// Another node holds it.
    Taken,
    /// Redis could not be asked: the claim may be tried again.
    Unreachable,
}

/// Why a [`Report::Resync`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resync {
    /// Redis lost everything (restarted empty, or wiped): a new epoch.
    EpochChanged,
    /// This node's lease lapsed (Redis was out of reach, or the node
    /// stalled): the others have announced its users as gone.
    LeaseLapsed,
}

/// Whether Redis answers this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// It does (again).
    Up,
    /// It does not: claims are [`Claimed::Unreachable`], publishes wait.
    Down,
}

/// One node's users and their presence payloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSnapshot {
    /// The node.
    pub node: String,
    /// Each user and their latest payload.
    pub users: Vec<(String, Bytes)>,
}

/// What the bus counted since it started, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BusCounts {
    /// Room messages added to their streams.
    pub published: u64,
    /// Room messages whose stream already had a later seq: added late,
    /// after it (or, if that failed too, counted in `dropped`).
    pub refused: u64,
    /// Messages and presence changes given up while Redis was out of
    /// reach (the oldest, once [`MAX_UNSENT`] were waiting).
    pub dropped: u64,
    /// Room entries read.
    pub entries_read: u64,
    /// [`Report::Trimmed`]s.
    pub trimmed: u64,
    /// Whether Redis answered at the last attempt.
    pub connected: bool,
}
