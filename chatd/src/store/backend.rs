//! The one interface the storage thread drives a store through, with an
//! implementation for each database: embedded SQLite ([`Store`]) and
//! PostgreSQL ([`PgStore`]).
//!
//! A trait rather than an enum of the two: the storage thread, `storebench`
//! and the store test suite are each written once against it, and each
//! store keeps its own connection, SQL and damage handling in its own
//! module instead of a `match` in every method. It is called through a
//! `Box<dyn Backend>`, one indirect call per transaction, nothing beside a
//! commit's round trip to the disk or the server.
//!
//! The durability contract is the thread's, not the backend's: a batch's
//! sends are released only once [`Backend::commit`] returned `Ok`, and
//! every batch waiting is written in one call (group commit).
//!
//! [`PgStore`]: super::postgres::PgStore

use chatcore::{HistoryTarget, Publication, Record, RoomMessage, StoredMessage};

use super::{Retention, Store};

/// A failed store operation, as the database reported it.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// SQLite's error.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL's error (a lost connection among them).
    #[error("PostgreSQL: {}", with_causes(.0))]
    Postgres(#[from] postgres::Error),
    /// A commit whose connection was lost is still being settled by the
    /// server: whether it was made is not known yet.
    #[error("an earlier commit, whose connection was lost, is still being settled by PostgreSQL")]
    Unsettled,
    /// A cluster operation on a store that does not take part in a
    /// cluster (SQLite: one chatd per data directory).
    #[error("this store does not run in a cluster")]
    NotClustered,
}

/// `error` with what caused it: the `postgres` client's own words are
/// only the kind of failure ("error connecting to server", "db error"),
/// the server's message or the system's is its source.
pub(crate) fn with_causes(error: &postgres::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(error) = cause {
        text.push_str(": ");
        text.push_str(&error.to_string());
        cause = error.source();
    }
    text
}

/// A page of stored history: the messages that could be read, oldest
/// first, and how many rows among them could not.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// The readable messages, oldest first.
    pub messages: Vec<StoredMessage>,
    /// Rows skipped because they could not be read (a damaged database).
    pub unreadable: usize,
}

/// One entry of the cluster's change feed: a record a node stored, for
/// the other nodes to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    /// Its place in the feed: entries become visible in increasing `id`
    /// order, so a follower reads on from the last id it saw. Ids may
    /// skip numbers (a transaction rolled back), never go back.
    pub id: i64,
    /// The node that stored it.
    pub node: String,
    /// What it stored.
    pub record: Record,
}

/// A durable store of the engine's records.
pub trait Backend: Send {
    /// Writes every record, in order, in one transaction: all or none.
    ///
    /// After an `Err` the storage thread calls it again with the same
    /// records, and with no other records in between, until it succeeds;
    /// a store may rely on that (PostgreSQL does, to tell whether a commit
    /// whose answer was lost with its connection was made).
    fn commit(&mut self, records: &[Record]) -> Result<(), BackendError>;

    /// Everything the engine needs on start, as records in a valid restore
    /// order: rooms with the last `history_len` messages of each (at least
    /// one, so message numbers carry on) and their topics, modes and
    /// vacancy, accounts with their last-seen times, known sources,
    /// blocks, the newest whisper (so whisper numbers carry on), kept
    /// whispers.
    fn load(&mut self, history_len: usize) -> Result<Vec<Record>, BackendError>;

    /// Up to `limit` messages of `target` (a room, or the whispers between
    /// two accounts) numbered below `before`, the newest of them.
    fn history(&mut self, target: &HistoryTarget, before: u64, limit: usize) -> Result<Page, BackendError>;

    /// Up to `limit` messages of `target` numbered above `after`, the
    /// oldest of them: a page forward, for a reader that resumes after the
    /// last message it saw.
    fn history_after(&mut self, target: &HistoryTarget, after: u64, limit: usize) -> Result<Page, BackendError>;

    /// Deletes up to one chunk of messages that `retention` no longer
    /// keeps (the time being `now_ms`); returns how many. The newest
    /// message of each room always stays, so numbering carries on.
    fn prune(&mut self, retention: Retention, now_ms: u64) -> Result<u64, BackendError>;

    /// Bounds each conversation to its newest `per_conversation` whispers
    /// as each new one is written (`None`: keep all).
    fn keep_whispers(&mut self, per_conversation: Option<u64>);

    /// Work a store wants done a little after writes (SQLite: moving the
    /// WAL into the database file). Nothing by default.
    fn checkpoint(&mut self) -> Result<(), BackendError> {
        Ok(())
    }

    /// Cluster mode: [`commit`](Self::commit), and in the same
    /// transaction store each publication under its room's next number,
    /// and append every record but room messages to the change feed under
    /// `node`. One entry per publication: its number, or `None` when its
    /// room no longer exists in the store (dropped by another node).
    ///
    /// Retried as `commit` is, with the same arguments; a retry after a
    /// commit whose outcome was lost answers the numbers that commit gave.
    fn commit_cluster(
        &mut self,
        node: &str,
        records: &[Record],
        publications: &[Publication],
    ) -> Result<Vec<Option<u64>>, BackendError> {
        let _ = (node, records, publications);
        Err(BackendError::NotClustered)
    }

    /// Stored messages of `room` numbered after `after` and up to `upto`
    /// (`None`: no bound), oldest first, at most `limit`; each with its
    /// ticket when it was published by `node`.
    fn room_messages(
        &mut self,
        node: &str,
        room: &str,
        after: u64,
        upto: Option<u64>,
        limit: usize,
    ) -> Result<Vec<RoomMessage>, BackendError> {
        let _ = (node, room, after, upto, limit);
        Err(BackendError::NotClustered)
    }

    /// The highest number stored for each of `rooms` (0 when none, or the
    /// room is unknown), in the same order.
    fn room_heads(&mut self, rooms: &[&str]) -> Result<Vec<u64>, BackendError> {
        let _ = rooms;
        Err(BackendError::NotClustered)
    }

    /// Change-feed entries with an id above `after`, oldest first, at most
    /// `limit`. One that cannot be decoded is logged and skipped.
    fn changes_after(&mut self, after: i64, limit: usize) -> Result<Vec<FeedEntry>, BackendError> {
        let _ = (after, limit);
        Err(BackendError::NotClustered)
    }

    /// The id of the newest feed entry (0 when none): where a starting
    /// node begins following. Read it before [`load`](Self::load), so
    /// that nothing stored between the two is missed.
    fn feed_head(&mut self) -> Result<i64, BackendError> {
        Err(BackendError::NotClustered)
    }

    /// Deletes change-feed entries older than the feed keeps (the time
    /// being `now_ms`); returns how many. The storage thread of a cluster
    /// node calls it as it prunes.
    fn prune_changes(&mut self, now_ms: u64) -> Result<u64, BackendError> {
        let _ = now_ms;
        Err(BackendError::NotClustered)
    }
}

impl Backend for Store {
    fn commit(&mut self, records: &[Record]) -> Result<(), BackendError> {
        Ok(Store::commit(self, records)?)
    }

    fn load(&mut self, history_len: usize) -> Result<Vec<Record>, BackendError> {
        Ok(Store::load(self, history_len)?)
    }

    fn history(&mut self, target: &HistoryTarget, before: u64, limit: usize) -> Result<Page, BackendError> {
        Ok(Store::history(self, target, before, limit)?)
    }

    fn history_after(&mut self, target: &HistoryTarget, after: u64, limit: usize) -> Result<Page, BackendError> {
        Ok(Store::history_after(self, target, after, limit)?)
    }

    fn prune(&mut self, retention: Retention, now_ms: u64) -> Result<u64, BackendError> {
        Ok(Store::prune(self, retention, now_ms)?)
    }

    fn keep_whispers(&mut self, per_conversation: Option<u64>) {
        self.whispers_kept = per_conversation;
    }

    fn checkpoint(&mut self) -> Result<(), BackendError> {
        Ok(Store::checkpoint(self)?)
    }
}
