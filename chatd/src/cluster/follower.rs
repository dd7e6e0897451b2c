//! The node's reader of PostgreSQL, the cluster's source of truth: a
//! thread with a connection of its own that backfills room messages the
//! bus did not bring, tells the engine the newest number of each room the
//! node follows (so a lost last message is noticed), and follows the
//! change feed, where every node's durable changes (rooms, topics, modes,
//! accounts, blocks, offline messages) come to the others.
//!
//! It never writes: the storage thread does, and a slow read here never
//! holds up a commit there.

use std::collections::{BTreeSet, VecDeque};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chatcore::RoomMessage;

use crate::store::{Backend, FeedEntry};

/// How often the change feed is read: how long a room created on one node
/// takes, at most, to be known on the others (plus a commit).
pub(crate) const FEED_EVERY: Duration = Duration::from_millis(100);
/// How often the newest number of each followed room is read: how long a
/// message whose notification was lost takes, at most, to be noticed.
pub(crate) const HEADS_EVERY: Duration = Duration::from_secs(1);
/// Messages read per query of a backfill, and feed entries per read.
const PAGE: usize = 1000;
/// How long a failed read waits before it is tried again.
const RETRY: Duration = Duration::from_millis(500);

/// What the engine task asks of the follower.
#[derive(Debug)]
pub(crate) enum FollowJob {
    /// Read `room`'s messages numbered after `after`, up to `upto` (all
    /// stored so far when `None`).
    Backfill { room: Box<str>, after: u64, upto: Option<u64> },
    /// Read `room`'s newest number now and then.
    Watch(Box<str>),
    /// No longer.
    Unwatch(Box<str>),
}

/// What the follower reports.
#[derive(Debug)]
pub(crate) enum Followed {
    /// Stored room messages, in order, from a backfill.
    Messages(Vec<RoomMessage>),
    /// The newest number stored for a watched room.
    Head { room: Box<str>, seq: u64 },
    /// Durable changes other nodes made, in the order they were stored.
    Changes(Vec<FeedEntry>),
}

/// The engine task's handle on the follower thread.
pub(crate) struct Follower {
    jobs: Sender<FollowJob>,
    thread: Option<JoinHandle<()>>,
}

impl Follower {
    /// Starts the thread on `store` (a connection of its own), following
    /// the feed from entry `feed_after` on and skipping `node`'s own entries.
    pub(crate) fn start(
        store: Box<dyn Backend>,
        node: String,
        feed_after: i64,
        report: impl Fn(Followed) + Send + 'static,
    ) -> Follower {
        let (jobs, inbox) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("chatd-follower".into())
            .spawn(move || {
                let mut state = State { store, node, feed_after, watched: BTreeSet::new(), waiting: VecDeque::new() };
                state.run(&inbox, &report);
            })
            .expect("the follower thread starts");
        Follower { jobs, thread: Some(thread) }
    }

    pub(crate) fn send(&self, job: FollowJob) {
        // The thread only ends when this handle is dropped.
        let _ = self.jobs.send(job);
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        drop(std::mem::replace(&mut self.jobs, mpsc::channel().0));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct State {
    store: Box<dyn Backend>,
    node: String,
    feed_after: i64,
    watched: BTreeSet<Box<str>>,
    /// Backfills not done yet (a read failed), oldest first.
    waiting: VecDeque<FollowJob>,
}

impl State {
    fn run(&mut self, inbox: &Receiver<FollowJob>, report: &impl Fn(Followed)) {
        let mut next_feed = Instant::now();
        let mut next_heads = Instant::now() + HEADS_EVERY;
        loop {
            let wake = next_feed.min(next_heads);
            match inbox.recv_timeout(wake.saturating_duration_since(Instant::now())) {
                Ok(job) => self.take(job),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            while let Ok(job) = inbox.try_recv() {
                self.take(job);
            }
            self.backfill(report);
            let now = Instant::now();
            if now >= next_feed {
                next_feed = now + if self.read_feed(report) { FEED_EVERY } else { RETRY };
            }
            if now >= next_heads {
                next_heads = now + if self.read_heads(report) { HEADS_EVERY } else { RETRY };
            }
        }
    }

    fn take(&mut self, job: FollowJob) {
        match job {
            FollowJob::Watch(room) => {
                self.watched.insert(room);
            }
            FollowJob::Unwatch(room) => {
                self.watched.remove(&room);
            }
            backfill @ FollowJob::Backfill { .. } => self.waiting.push_back(backfill),
        }
    }

    /// Does the waiting backfills, page by page; one that fails stays
    /// waiting, with those after it, for the next turn.
    fn backfill(&mut self, report: &impl Fn(Followed)) {
        while let Some(FollowJob::Backfill { room, after, upto }) = self.waiting.front_mut() {
            match self.store.room_messages(&self.node, room, *after, *upto, PAGE) {
                Ok(messages) => {
                    let last = messages.last().map(|message| message.seq);
                    let full = messages.len() == PAGE;
                    if !messages.is_empty() {
                        report(Followed::Messages(messages));
                    }
                    match last {
                        Some(last) if full && upto.is_none_or(|upto| last < upto) => *after = last,
                        _ => {
                            self.waiting.pop_front();
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, %room, "could not backfill a room from the database; retrying");
                    return;
                }
            }
        }
    }

    /// `false` when the read failed.
    fn read_feed(&mut self, report: &impl Fn(Followed)) -> bool {
        loop {
            match self.store.changes_after(self.feed_after, PAGE) {
                Ok(entries) => {
                    let Some(last) = entries.last().map(|entry| entry.id) else { return true };
                    self.feed_after = last;
                    let full = entries.len() == PAGE;
                    let others: Vec<FeedEntry> = entries.into_iter().filter(|entry| entry.node != self.node).collect();
                    if !others.is_empty() {
                        report(Followed::Changes(others));
                    }
                    if !full {
                        return true;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "could not read the change feed; retrying");
                    return false;
                }
            }
        }
    }

    fn read_heads(&mut self, report: &impl Fn(Followed)) -> bool {
        if self.watched.is_empty() {
            return true;
        }
        let rooms: Vec<&str> = self.watched.iter().map(|room| &**room).collect();
        match self.store.room_heads(&rooms) {
            Ok(heads) => {
                for (room, seq) in self.watched.iter().zip(heads) {
                    if seq > 0 {
                        report(Followed::Head { room: room.clone(), seq });
                    }
                }
                true
            }
            Err(error) => {
                tracing::warn!(%error, "could not read the rooms' newest messages; retrying");
                false
            }
        }
    }
}
