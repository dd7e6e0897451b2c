//! Room messages and presence changes on their way to Redis: what is
//! waiting goes in one pipeline (a busy node pays one round trip per batch,
//! not per message), and what Redis could not be reached for waits, up to
//! [`MAX_UNSENT`], for the connection to come back.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use redis::{Connection, RedisResult, Value};

use super::presence::{self, Presence};
use super::shared::Shared;
use super::streams::{self, Published};

/// Publishes and presence changes kept while Redis is out of reach, to be
/// sent when it is back; beyond it, the oldest are dropped.
pub const MAX_UNSENT: usize = 10_000;

/// At most this many go in one pipeline.
pub(super) const BATCH: usize = 512;

/// One thing to add to Redis.
#[derive(Debug)]
pub(super) enum Outgoing {
    Publish {
        room: String,
        seq: u64,
        payload: Bytes,
    },
    Presence {
        user: String,
        payload: Bytes,
        presence: Presence,
    },
    /// For the presence stream only, kept in no snapshot (a whisper).
    Bulletin {
        payload: Bytes,
    },
    /// A room was dropped: its stream goes, so that the room made again
    /// numbers its stream's entries from 1.
    DropRoom {
        room: String,
    },
    /// Message `seq` of `room` was deleted: its entry goes, so that its
    /// text leaves Redis too (a reader that had not read it yet finds a
    /// gap, and backfills the tombstone from the store).
    Erase {
        room: String,
        seq: u64,
    },
}

/// What waits to be sent, oldest first.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    waiting: VecDeque<Outgoing>,
}

impl Outbox {
    /// Queues `outgoing` behind what waits.
    pub(super) fn push(&mut self, shared: &Shared, outgoing: Outgoing) {
        if self.waiting.len() >= MAX_UNSENT {
            self.waiting.pop_front();
            shared.counts.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.waiting.push_back(outgoing);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Gives up the batch [`Self::send_some`] would send.
    pub(super) fn drop_some(&mut self, shared: &Shared) {
        let count = self.waiting.len().min(BATCH);
        self.waiting.drain(..count);
        shared.counts.dropped.fetch_add(count as u64, Ordering::Relaxed);
    }

    /// Sends the oldest [`BATCH`] waiting in one pipeline and counts what
    /// became of each; they stay waiting if the connection failed.
    pub(super) fn send_some(&mut self, shared: &Shared, conn: &mut Connection) -> RedisResult<()> {
        let count = self.waiting.len().min(BATCH);
        let batch = &self.waiting.make_contiguous()[..count];
        let mut pipe = redis::pipe();
        // Each command's own error, so that one refused XADD spoils nothing else.
        pipe.ignore_errors();
        let config = &shared.config;
        for outgoing in batch {
            match outgoing {
                Outgoing::Publish { room, seq, payload } => {
                    pipe.add_command(streams::xadd(&shared.keys, room, *seq, payload, config.room_stream_len));
                }
                Outgoing::Presence { user, payload, presence } => {
                    let stream_len = config.presence_stream_len;
                    let node = &config.node;
                    for command in
                        presence::commands(&shared.keys, node, user, payload, *presence, stream_len, config.lease)
                    {
                        pipe.add_command(command);
                    }
                }
                Outgoing::Bulletin { payload } => {
                    pipe.add_command(presence::bulletin(
                        &shared.keys,
                        &config.node,
                        payload,
                        config.presence_stream_len,
                    ));
                }
                Outgoing::DropRoom { room } => {
                    pipe.add_command(redis::cmd("DEL").arg(shared.keys.room(room)).to_owned());
                }
                Outgoing::Erase { room, seq } => {
                    let entry = streams::entry_id(*seq);
                    pipe.add_command(redis::cmd("XDEL").arg(shared.keys.room(room)).arg(entry).to_owned());
                }
            }
        }
        let replies: Vec<RedisResult<Value>> = pipe.query(conn)?;
        let mut replies = replies.into_iter();
        let mut late = Vec::new();
        for outgoing in self.waiting.drain(..count) {
            match outgoing {
                Outgoing::Publish { room, seq, payload } => {
                    let counter = match streams::published(replies.next().unwrap_or(Ok(Value::Nil))) {
                        Ok(Published::Added) => &shared.counts.published,
                        Ok(Published::Refused) => {
                            late.push((room, seq, payload));
                            &shared.counts.refused
                        }
                        Err(error) => {
                            tracing::warn!(%error, %room, seq, "Redis refused a room message; readers will backfill it");
                            &shared.counts.dropped
                        }
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Outgoing::Presence { user, .. } => {
                    if let Some(Err(error)) = replies.by_ref().take(3).find(Result::is_err) {
                        tracing::warn!(%error, %user, "Redis refused a presence change");
                        shared.counts.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Outgoing::Bulletin { .. } | Outgoing::DropRoom { .. } | Outgoing::Erase { .. } => {
                    if let Some(Err(error)) = replies.next() {
                        tracing::warn!(%error, "Redis refused a bulletin, a room's removal or a deleted message's");
                        shared.counts.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        // A later message of the room got there first: added after it, so
        // that readers need not wait for a backfill. Rare (two nodes
        // publishing to one room at once), so one call each.
        for (room, seq, payload) in late {
            if let Err(error) = streams::publish_late(conn, &shared.keys, &room, seq, &payload, config.room_stream_len)
            {
                tracing::warn!(%error, %room, seq, "Redis refused a late room message; readers will backfill it");
                shared.counts.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }
}
