//! The storage thread. The engine task sends it each batch's records; it
//! writes every batch that is waiting in one transaction (group commit) and
//! answers with the newest batch now durable, so the engine task can
//! release the sends it held back. A failed write is retried until it
//! succeeds, with the engine told meanwhile that storage is failing.
//!
//! The thread drives either store, SQLite or PostgreSQL, through
//! [`Backend`]: batching, retrying and reporting are the same for both,
//! and are done here only.
//!
//! A cluster node's thread ([`StoreHandle::spawn_cluster`]) commits with
//! [`Backend::commit_cluster`] instead: each batch also carries the room
//! messages the engine published, which the store numbers in the same
//! transaction, and the reply gives each its number. Group commit merges
//! them as it merges records, in the order sent. Its pruning passes also
//! bound the cluster's change feed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chatcore::{ClientId, HistoryRange, HistoryTarget, Publication, Record, StorageStatus, StoredMessage};

use super::Retention;
use super::backend::{Backend, Page};

/// Work for the storage thread, done in the order sent.
#[derive(Debug)]
pub enum Job {
    /// Make these records durable; `batch` numbers increase.
    Commit {
        /// The batch's number, reported back in [`Reply::Committed`].
        batch: u64,
        /// The records, in the order the engine made them.
        records: Vec<Record>,
        /// Room messages to number and store (cluster mode only; empty
        /// otherwise), after the records, in the order published.
        publications: Vec<Publication>,
    },
    /// Read a page of history for a client.
    Fetch {
        /// Who asked; the page goes back to them.
        client: ClientId,
        /// The room or conversation, as the engine named it.
        target: HistoryTarget,
        /// Which page: the newest messages below a number, or the oldest
        /// above one.
        range: HistoryRange,
        /// At most this many messages.
        limit: usize,
    },
}

/// What the storage thread reports back.
#[derive(Debug)]
pub enum Reply {
    /// Every batch up to and including `upto` is durable.
    Committed {
        /// The newest batch now on disk.
        upto: u64,
        /// Every publication of those batches, in the order sent, with
        /// the number the store gave it, or `None` if its room no longer
        /// exists there (or the thread is not a cluster node's, which
        /// numbers nothing). Empty when no batch had any.
        published: Vec<(Publication, Option<u64>)>,
    },
    /// Writes started or stopped failing.
    Status(StorageStatus),
    /// The page asked for by a [`Job::Fetch`].
    History {
        /// Who asked for it.
        client: ClientId,
        /// The room or conversation, as the engine named it.
        target: HistoryTarget,
        /// The messages, oldest first.
        messages: Vec<StoredMessage>,
        /// Rows of the page that could not be read.
        unreadable: usize,
    },
}

/// How often retention runs when it is on.
const PRUNE_EVERY: Duration = Duration::from_secs(10);
/// How long after a write [`Backend::checkpoint`] runs: for SQLite, how
/// long a write may stay only in the WAL before it is checkpointed
/// into the database file. SQLite checkpoints by itself only once the WAL
/// holds 1,000 pages, which a quiet server may take hours to write; a WAL
/// deleted by mistake while chatd runs loses what it alone holds.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(5);
/// The first wait before retrying a failed write; it doubles up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(100);
const MAX_RETRY: Duration = Duration::from_secs(2);
/// Once chatd is stopping, how long a failing write is still retried
/// before its records are given up (and logged as lost).
const RETRY_WHEN_STOPPING: Duration = Duration::from_secs(3);

/// How the thread commits: as the one chatd on its store, or as the
/// cluster node named `node` ([`Backend::commit_cluster`]).
#[derive(Debug, Clone)]
enum Mode {
    Single,
    Cluster { node: String },
}

/// The engine task's handle on the storage thread.
pub struct StoreHandle {
    jobs: Sender<Job>,
    stopping: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl StoreHandle {
    /// Starts the thread; it hands each reply to `report`.
    pub fn spawn(
        store: Box<dyn Backend>,
        retention: Retention,
        report: impl Fn(Reply) + Send + 'static,
    ) -> StoreHandle {
        StoreHandle::start(store, retention, CHECKPOINT_EVERY, Mode::Single, report)
    }

    /// Starts the thread of cluster node `node`: each commit numbers its
    /// batches' publications and feeds its records to the other nodes
    /// ([`Backend::commit_cluster`]), and the change feed is pruned with
    /// the messages.
    pub fn spawn_cluster(
        store: Box<dyn Backend>,
        retention: Retention,
        node: String,
        report: impl Fn(Reply) + Send + 'static,
    ) -> StoreHandle {
        StoreHandle::start(store, retention, CHECKPOINT_EVERY, Mode::Cluster { node }, report)
    }

    /// [`spawn`](Self::spawn), checkpointing what was written after `checkpoint_every`.
    #[cfg(test)]
    pub(crate) fn spawn_checkpointing(
        store: Box<dyn Backend>,
        retention: Retention,
        checkpoint_every: Duration,
        report: impl Fn(Reply) + Send + 'static,
    ) -> StoreHandle {
        StoreHandle::start(store, retention, checkpoint_every, Mode::Single, report)
    }

    fn start(
        store: Box<dyn Backend>,
        retention: Retention,
        checkpoint_every: Duration,
        mode: Mode,
        report: impl Fn(Reply) + Send + 'static,
    ) -> StoreHandle {
        let (jobs, inbox) = mpsc::channel();
        let stopping = Arc::new(AtomicBool::new(false));
        let thread_stopping = stopping.clone();
        let thread = std::thread::Builder::new()
            .name("chatd-store".into())
            .spawn(move || run(store, retention, checkpoint_every, &mode, &inbox, &report, &thread_stopping))
            .expect("the storage thread starts");
        StoreHandle { jobs, stopping, thread }
    }

    /// Queues a job. Never blocks: the engine task bounds what it holds back.
    pub fn send(&self, job: Job) {
        // The thread only ends when this handle is dropped.
        let _ = self.jobs.send(job);
    }

    /// Waits until every queued job is done, then stops the thread.
    pub fn finish(self) {
        self.stopping.store(true, Ordering::Relaxed);
        drop(self.jobs);
        let _ = self.thread.join();
    }
}

fn run(
    mut store: Box<dyn Backend>,
    retention: Retention,
    checkpoint_every: Duration,
    mode: &Mode,
    inbox: &Receiver<Job>,
    report: &impl Fn(Reply),
    stopping: &AtomicBool,
) {
    // Conversations are bounded as each whisper is written, not by the pruning passes.
    store.keep_whispers(retention.max_per_conversation);
    // A cluster node always prunes: the change feed is bounded whatever
    // the messages' retention.
    let clustered = matches!(mode, Mode::Cluster { .. });
    let pruning = clustered || retention.max_age_days.is_some() || retention.max_per_room.is_some();
    let mut next_prune = pruning.then(Instant::now);
    // When what was written since the last checkpoint must be checkpointed.
    let mut checkpoint_due: Option<Instant> = None;
    loop {
        let wake = [next_prune, checkpoint_due].into_iter().flatten().min();
        let wait = wake.map_or(Duration::from_secs(3600), |at| at.saturating_duration_since(Instant::now()));
        let first = match inbox.recv_timeout(wait) {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) => {
                housekeeping(&mut *store, retention, clustered, checkpoint_every, &mut next_prune, &mut checkpoint_due);
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        // Group commit: every commit already waiting joins this transaction.
        let mut records = Vec::new();
        let mut publications = Vec::new();
        let mut upto = None;
        let mut fetches = Vec::new();
        for job in std::iter::once(first).chain(inbox.try_iter()) {
            match job {
                Job::Commit { batch, records: mut batch_records, publications: mut batch_publications } => {
                    records.append(&mut batch_records);
                    publications.append(&mut batch_publications);
                    upto = Some(batch);
                }
                fetch @ Job::Fetch { .. } => fetches.push(fetch),
            }
        }
        debug_assert!(clustered || publications.is_empty(), "publications for a single chatd's store");
        // Batches given up at shutdown are never reported: their output stays held.
        if let Some(upto) = upto
            && let Some(numbers) =
                commit_until_it_succeeds(&mut *store, mode, &records, &publications, report, stopping)
        {
            checkpoint_due.get_or_insert_with(|| Instant::now() + checkpoint_every);
            let published = publications.into_iter().zip(numbers).collect();
            report(Reply::Committed { upto, published });
        }
        // Fetches run after the commits sent before them, so a page never
        // misses a message its reader has already seen.
        for fetch in fetches {
            if let Job::Fetch { client, target, range, limit } = fetch {
                let page = match range {
                    HistoryRange::Before(before) => store.history(&target, before, limit),
                    HistoryRange::After(after) => store.history_after(&target, after, limit),
                };
                let page = page.unwrap_or_else(|error| {
                    tracing::error!(%error, ?target, "could not read history");
                    // The reader learns there is a gap rather than that there is nothing.
                    Page { messages: Vec::new(), unreadable: 1 }
                });
                report(Reply::History { client, target, messages: page.messages, unreadable: page.unreadable });
            }
        }
        housekeeping(&mut *store, retention, clustered, checkpoint_every, &mut next_prune, &mut checkpoint_due);
    }
}

/// Runs a pruning pass and a checkpoint if either is due.
fn housekeeping(
    store: &mut dyn Backend,
    retention: Retention,
    clustered: bool,
    checkpoint_every: Duration,
    next_prune: &mut Option<Instant>,
    checkpoint_due: &mut Option<Instant>,
) {
    let now = Instant::now();
    if next_prune.is_some_and(|at| now >= at) {
        let (next, deleted) = prune(store, retention, clustered);
        *next_prune = Some(next);
        if deleted {
            checkpoint_due.get_or_insert(now + checkpoint_every);
        }
    }
    if checkpoint_due.is_some_and(|at| now >= at) {
        *checkpoint_due = None;
        if let Err(error) = store.checkpoint() {
            tracing::warn!(%error, "could not checkpoint the database; trying again later");
            *checkpoint_due = Some(now + checkpoint_every);
        }
    }
}

/// Commits `records` and `publications`, retrying a failed write until it
/// works; returns each publication's number (none outside a cluster), or
/// `None` if chatd is stopping and they were given up. A storage failure lasts
/// exactly as long as this loop, so the thread keeps no health state of
/// its own: it reports `Failing` when the loop starts failing and `Healthy`
/// when a retry works, and the engine task keeps the one flag.
fn commit_until_it_succeeds(
    store: &mut dyn Backend,
    mode: &Mode,
    records: &[Record],
    publications: &[Publication],
    report: &impl Fn(Reply),
    stopping: &AtomicBool,
) -> Option<Vec<Option<u64>>> {
    let mut retry = FIRST_RETRY;
    let mut given_up_at = None;
    let mut reported_failing = false;
    let numbers = loop {
        let result = match mode {
            // A single chatd numbers nothing: a publication sent to it
            // anyway is answered as one whose room is gone, not lost.
            Mode::Single => store.commit(records).map(|()| vec![None; publications.len()]),
            Mode::Cluster { node } => store.commit_cluster(node, records, publications),
        };
        match result {
            Ok(numbers) => break numbers,
            Err(error) if stopping.load(Ordering::Relaxed) => {
                let deadline = *given_up_at.get_or_insert_with(|| Instant::now() + RETRY_WHEN_STOPPING);
                if Instant::now() >= deadline {
                    tracing::error!(
                        %error,
                        records = records.len(),
                        publications = publications.len(),
                        "stopping with records that could not be stored"
                    );
                    return None;
                }
                std::thread::sleep(FIRST_RETRY);
            }
            Err(error) => {
                if !reported_failing {
                    reported_failing = true;
                    tracing::error!(%error, records = records.len(), "storage write failed; refusing new messages until it works again");
                    report(Reply::Status(StorageStatus::Failing));
                }
                std::thread::sleep(retry);
                retry = (retry * 2).min(MAX_RETRY);
            }
        }
    };
    if reported_failing {
        tracing::info!("storage writes work again");
        report(Reply::Status(StorageStatus::Healthy));
    }
    Some(numbers)
}

/// Runs one pruning pass (with the change feed's, in a cluster); returns
/// when the next is due (soon, if this one was cut short at its chunk
/// size), and whether it deleted anything.
fn prune(store: &mut dyn Backend, retention: Retention, clustered: bool) -> (Instant, bool) {
    let now_ms = chatcore::Now::system().unix_ms;
    let changes = if clustered {
        store.prune_changes(now_ms).unwrap_or_else(|error| {
            tracing::warn!(%error, "could not prune old changes of the cluster feed");
            0
        })
    } else {
        0
    };
    if changes > 0 {
        tracing::debug!(deleted = changes, "pruned old changes of the cluster feed");
    }
    match store.prune(retention, now_ms) {
        Ok(0) if changes == 0 => (Instant::now() + PRUNE_EVERY, false),
        Ok(deleted) => {
            if deleted > 0 {
                tracing::debug!(deleted, "pruned old messages");
            }
            (Instant::now() + Duration::from_millis(50), true)
        }
        Err(error) => {
            tracing::warn!(%error, "could not prune old messages");
            (Instant::now() + PRUNE_EVERY, changes > 0)
        }
    }
}
