//! What this engine keeps as one node of a cluster (with
//! `Config::cluster`): publications waiting for their number, the local
//! senders of numbered messages not delivered yet, what each room holds
//! after a gap, and when each gap is next backfilled. The rules that read
//! rooms and clients are in `cluster_node/`; the ones on this state alone
//! are here.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::cluster::PublishTicket;
use crate::codec::ReplyTag;
use crate::names::NameKey;
use crate::output::ClientId;
use crate::record::StoredMessage;

/// A publication waiting for its answer: who said it, and what ties the
/// answer to the request that said it.
#[derive(Debug)]
pub(crate) struct PendingPublish {
    pub(crate) client: ClientId,
    pub(crate) room: NameKey,
    /// The request's JSON `id` or IRC `label`, if it had one.
    pub(crate) reply: Option<ReplyTag>,
    pub(crate) notice: bool,
    /// The number of the message it deletes, if it is a deletion.
    pub(crate) deletes: Option<u64>,
}

/// A numbered message waiting behind a gap.
#[derive(Debug)]
pub(crate) struct Held {
    pub(crate) message: StoredMessage,
    pub(crate) host: Box<str>,
    pub(crate) notice: bool,
}

/// What a room with a gap holds, and when it next asks for the gap.
#[derive(Debug)]
struct Reorder {
    /// Messages numbered after the missing one, by number.
    held: BTreeMap<u64, Held>,
    /// The highest number heard of, held or dropped.
    upto: u64,
    /// When the gap is next backfilled, as filed in `backfills`.
    due: Instant,
}

/// The cluster state of one node.
#[derive(Debug, Default)]
pub(crate) struct ClusterNode {
    /// Publications the embedder has not answered, by ticket.
    publishes: BTreeMap<PublishTicket, PendingPublish>,
    /// The number the last ticket got.
    last_ticket: u64,
    /// Local senders of messages that arrived with their ticket and wait
    /// behind a gap, by room and number.
    origins: BTreeMap<(NameKey, u64), PendingPublish>,
    /// Each room with a gap.
    reorders: BTreeMap<NameKey, Reorder>,
    /// When each gap is next backfilled, earliest first: one entry per
    /// room in `reorders`, at its `due`.
    backfills: BTreeSet<(Instant, NameKey)>,
}

impl ClusterNode {
    /// Files a publication, under a fresh ticket.
    pub(crate) fn start(&mut self, pending: PendingPublish) -> PublishTicket {
        self.last_ticket += 1;
        let ticket = PublishTicket(self.last_ticket);
        self.publishes.insert(ticket, pending);
        ticket
    }

    /// Takes `ticket` off file if it is outstanding (for the room `key`, if given).
    pub(crate) fn answer(&mut self, ticket: PublishTicket, key: Option<&NameKey>) -> Option<PendingPublish> {
        let pending = self.publishes.get(&ticket)?;
        if key.is_some_and(|key| pending.room != *key) {
            return None;
        }
        self.publishes.remove(&ticket)
    }

    /// The sender of the room's message `seq` waits for it; the sender
    /// filed there before, if any, is handed back.
    pub(crate) fn wait_with(&mut self, key: NameKey, seq: u64, pending: PendingPublish) -> Option<PendingPublish> {
        self.origins.insert((key, seq), pending)
    }

    /// The sender waiting for the room's message `seq`, taken off file.
    pub(crate) fn sender_of(&mut self, key: &NameKey, seq: u64) -> Option<PendingPublish> {
        self.origins.remove(&(key.clone(), seq))
    }

    /// Whether the room holds its message `seq`.
    pub(crate) fn holds(&self, key: &NameKey, seq: u64) -> bool {
        self.reorders.get(key).is_some_and(|r| r.held.contains_key(&seq))
    }

    /// Notes that the room has a message numbered `seq` after a gap; a gap
    /// just opened is backfilled after `wait`.
    pub(crate) fn gap(&mut self, now: Instant, wait: Duration, key: NameKey, seq: u64) {
        self.reorder(now, wait, key, seq);
    }

    fn reorder(&mut self, now: Instant, wait: Duration, key: NameKey, seq: u64) -> &mut Reorder {
        let backfills = &mut self.backfills;
        let reorder = self.reorders.entry(key).or_insert_with_key(|key| {
            backfills.insert((now + wait, key.clone()));
            Reorder { held: BTreeMap::new(), upto: 0, due: now + wait }
        });
        reorder.upto = reorder.upto.max(seq);
        reorder
    }

    /// Holds a message after a gap. Past `max_held`, the room drops all it
    /// holds (the backfill brings it again): how many it dropped.
    pub(crate) fn hold(&mut self, now: Instant, wait: Duration, max_held: usize, key: NameKey, held: Held) -> u64 {
        let reorder = self.reorder(now, wait, key, held.message.seq);
        if reorder.held.len() >= max_held {
            let dropped = reorder.held.len() as u64 + 1;
            reorder.held.clear();
            dropped
        } else {
            reorder.held.insert(held.message.seq, held);
            0
        }
    }

    /// The held message numbered `next`, the room's frontier, taken off.
    pub(crate) fn take_next(&mut self, key: &NameKey, next: u64) -> Option<Held> {
        let first = self.reorders.get_mut(key)?.held.first_entry()?;
        (*first.key() == next).then(|| first.remove())
    }

    /// The room's frontier moved to `next`: its gap is closed if nothing
    /// it heard of is missing, or else waited for `wait` again from now.
    pub(crate) fn progressed(&mut self, now: Instant, wait: Duration, key: &NameKey, next: u64) {
        let Some(reorder) = self.reorders.get_mut(key) else { return };
        self.backfills.remove(&(reorder.due, key.clone()));
        if reorder.upto < next {
            self.reorders.remove(key);
        } else {
            reorder.due = now + wait;
            self.backfills.insert((reorder.due, key.clone()));
        }
    }

    /// The next room whose backfill is due at `now`, waited for `wait`
    /// again from now, with the highest number it heard of.
    pub(crate) fn backfill_due(&mut self, now: Instant, wait: Duration) -> Option<(NameKey, u64)> {
        while self.backfills.first().is_some_and(|(at, _)| *at <= now) {
            let (_, key) = self.backfills.pop_first()?;
            // Every entry has its room's gap (see `check`); one without is passed over.
            let Some(reorder) = self.reorders.get_mut(&key) else { continue };
            reorder.due = now + wait;
            self.backfills.insert((reorder.due, key.clone()));
            return Some((key, reorder.upto));
        }
        None
    }

    /// When the next backfill is due, if any gap is open.
    pub(crate) fn next_backfill(&self) -> Option<Instant> {
        self.backfills.first().map(|(at, _)| *at)
    }

    /// The room is no longer followed: what it held is dropped, and the
    /// senders waiting for its messages are handed back.
    pub(crate) fn forget(&mut self, key: &NameKey) -> Vec<PendingPublish> {
        if let Some(reorder) = self.reorders.remove(key) {
            self.backfills.remove(&(reorder.due, key.clone()));
        }
        let waiting: Vec<(NameKey, u64)> =
            self.origins.range((key.clone(), 0)..=(key.clone(), u64::MAX)).map(|(at, _)| at.clone()).collect();
        waiting.iter().filter_map(|at| self.origins.remove(at)).collect()
    }

    /// What holds for the rooms with a gap, given each room's frontier and
    /// whether it has local members (`None`: no such room): each has
    /// members, holds only messages after its frontier and within
    /// `max_held`, and has exactly one backfill due.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn check(
        &self,
        max_held: usize,
        room: impl Fn(&NameKey) -> Option<(u64, bool)>,
    ) -> Result<(), crate::InvariantViolation> {
        let wrong = |key: &NameKey| crate::InvariantViolation::ClusterGap { room: key.to_string() };
        for (key, reorder) in &self.reorders {
            let (next, members) = room(key).ok_or_else(|| wrong(key))?;
            let held_after = reorder.held.keys().all(|&seq| seq > next && seq <= reorder.upto);
            if !members
                || reorder.upto < next
                || !held_after
                || reorder.held.len() > max_held
                || !self.backfills.contains(&(reorder.due, key.clone()))
            {
                return Err(wrong(key));
            }
        }
        match self.backfills.iter().find(|(at, key)| self.reorders.get(key).is_none_or(|r| r.due != *at)) {
            Some((_, key)) => Err(wrong(key)),
            None => Ok(()),
        }
    }
}
