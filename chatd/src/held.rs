//! Client-visible output held back until the records it depends on are
//! durable. A batch of engine events that produced records is committed as
//! one storage batch; its sends and closes wait here until the storage
//! thread says that batch is on disk. Later batches wait behind it, even
//! those without records, so that every client sees its output in order.
//! This is what makes "whatever a client has seen survives a crash" true.

use std::collections::VecDeque;

use bytes::Bytes;
use chatcore::{ClientId, DisconnectReason};

/// Something for a client's connection, in engine order.
#[derive(Debug)]
pub(crate) enum ClientOp {
    /// Queue bytes for the client.
    Send(ClientId, Bytes),
    /// Queue the same bytes for each of these clients.
    Broadcast(Vec<ClientId>, Bytes),
    /// The engine closed the client: flush, then close.
    Close(ClientId, DisconnectReason),
    /// The client's connection ended on its own; let what is queued go out.
    Departed(ClientId, DisconnectReason),
}

/// Batches of ops waiting for their storage batch to commit.
#[derive(Debug, Default)]
pub(crate) struct Held {
    /// `(storage batch it waits for, whether its own batch made records,
    /// its ops)`, oldest first.
    batches: VecDeque<(u64, bool, Vec<ClientOp>)>,
    /// Bytes of the sends held, to bound this queue.
    bytes: usize,
    /// The number of the newest storage batch handed out.
    last_batch: u64,
}

impl Held {
    /// Whether anything is waiting (then new ops must wait too, to keep order).
    pub(crate) fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// Bytes of sends waiting.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Numbers a new storage batch whose records the caller sends to the
    /// store, and holds `ops` until it commits.
    pub(crate) fn hold_for_new_batch(&mut self, ops: Vec<ClientOp>) -> u64 {
        self.last_batch += 1;
        self.push(self.last_batch, true, ops);
        self.last_batch
    }

    /// Holds `ops` (which made no records) behind everything already held.
    pub(crate) fn hold_behind(&mut self, ops: Vec<ClientOp>) {
        if !ops.is_empty() {
            self.push(self.last_batch, false, ops);
        }
    }

    fn push(&mut self, batch: u64, recorded: bool, ops: Vec<ClientOp>) {
        self.bytes += send_bytes(&ops);
        self.batches.push_back((batch, recorded, ops));
    }

    /// The ops held only to keep their order behind a commit (their own
    /// batch made no records), in order, for when storage starts failing:
    /// then they go out rather than wait for the disk with the rest.
    pub(crate) fn take_unrecorded(&mut self) -> Vec<ClientOp> {
        let mut ready = Vec::new();
        self.batches.retain_mut(|(_, recorded, ops)| {
            if !*recorded {
                ready.append(ops);
            }
            *recorded
        });
        self.bytes -= send_bytes(&ready);
        ready
    }

    /// The ops that may go now that every batch up to `upto` is durable, in order.
    pub(crate) fn release(&mut self, upto: u64) -> Vec<ClientOp> {
        let mut ready = Vec::new();
        while self.batches.front().is_some_and(|(batch, ..)| *batch <= upto) {
            let (.., ops) = self.batches.pop_front().expect("just checked");
            ready.extend(ops);
        }
        self.bytes -= send_bytes(&ready);
        ready
    }

    /// Everything still held, for shutdown once the store has finished.
    pub(crate) fn release_all(&mut self) -> Vec<ClientOp> {
        self.release(u64::MAX)
    }
}

/// Bytes of the sends among `ops`.
fn send_bytes(ops: &[ClientOp]) -> usize {
    ops.iter()
        .map(|op| match op {
            ClientOp::Send(_, data) => data.len(),
            ClientOp::Broadcast(to, data) => data.len() * to.len(),
            ClientOp::Close(..) | ClientOp::Departed(..) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(n: u8) -> ClientOp {
        ClientOp::Send(first_client(), Bytes::from(vec![n; usize::from(n)]))
    }

    fn first_client() -> ClientId {
        let mut engine = chatcore::Engine::new(chatcore::Config::default()).expect("the defaults are valid");
        engine.handle_connect(chatcore::Now::system(), chatcore::ConnectInfo::default())
    }

    fn tags(ops: &[ClientOp]) -> Vec<usize> {
        ops.iter().map(|op| if let ClientOp::Send(_, d) = op { d.len() } else { 0 }).collect()
    }

    #[test]
    fn ops_wait_for_their_batch_and_keep_their_order() {
        let mut held = Held::default();
        let one = held.hold_for_new_batch(vec![send(1)]);
        held.hold_behind(vec![send(2)]);
        let two = held.hold_for_new_batch(vec![send(3)]);
        assert_eq!(held.bytes(), 6);
        assert!(held.release(one - 1).is_empty());
        assert_eq!(tags(&held.release(one)), [1, 2], "ops without records wait only for the batch before them");
        assert_eq!(held.bytes(), 3);
        assert_eq!(tags(&held.release(two)), [3]);
        assert!(held.is_empty());
        assert_eq!(held.bytes(), 0);
    }

    #[test]
    fn ops_held_only_for_their_order_can_be_taken_out() {
        let mut held = Held::default();
        let one = held.hold_for_new_batch(vec![send(1)]);
        held.hold_behind(vec![send(2)]);
        let two = held.hold_for_new_batch(vec![send(3)]);
        held.hold_behind(vec![send(4)]);
        assert_eq!(tags(&held.take_unrecorded()), [2, 4]);
        assert_eq!(held.bytes(), 4);
        assert_eq!(tags(&held.release(one)), [1]);
        assert_eq!(tags(&held.release(two)), [3]);
        assert!(held.is_empty());
    }

    #[test]
    fn a_group_commit_releases_every_batch_it_covers() {
        let mut held = Held::default();
        held.hold_for_new_batch(vec![send(1)]);
        let last = held.hold_for_new_batch(vec![send(2)]);
        assert_eq!(tags(&held.release(last)), [1, 2]);
    }
}
