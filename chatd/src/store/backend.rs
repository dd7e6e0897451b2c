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

use chatcore::{HistoryTarget, Record, StoredMessage};

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

/// STUB
#[derive(Debug)]
pub struct FeedEntry {
    /// x
    pub id: i64,
    /// x
    pub node: String,
    /// x
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

    /// Deletes up to one chunk of messages that `retention` no longer
    /// keeps (the time being `now_ms`); returns how many. The newest
    /// message of each room always stays, so numbering carries on.
    fn prune(&mut self, retention: Retention, now_ms: u64) -> Result<u64, BackendError>;

    /// Bounds each conversation to its newest `per_conversation` whispers
    /// as each new one is written (`None`: keep all).
    fn keep_whispers(&mut self, per_conversation: Option<u64>);

    /// STUB
    fn commit_cluster(
        &mut self,
        _node: &str,
        _records: &[Record],
        _publications: &[chatcore::Publication],
    ) -> Result<Vec<Option<u64>>, BackendError> {
        unimplemented!()
    }
    /// STUB
    fn room_messages(
        &mut self,
        _node: &str,
        _room: &str,
        _after: u64,
        _upto: Option<u64>,
        _limit: usize,
    ) -> Result<Vec<chatcore::RoomMessage>, BackendError> {
        unimplemented!()
    }
    /// STUB
    fn room_heads(&mut self, _rooms: &[&str]) -> Result<Vec<u64>, BackendError> {
        unimplemented!()
    }
    /// STUB
    fn changes_after(&mut self, _after: i64, _limit: usize) -> Result<Vec<FeedEntry>, BackendError> {
        unimplemented!()
    }
    /// STUB
    fn feed_head(&mut self) -> Result<i64, BackendError> {
        unimplemented!()
    }

    /// Work a store wants done a little after writes (SQLite: moving the
    /// WAL into the database file). Nothing by default.
    fn checkpoint(&mut self) -> Result<(), BackendError> {
        Ok(())
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
