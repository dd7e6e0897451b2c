//! One client's send queue: the engine task pushes without ever waiting,
//! the client's writer drains it. The bound is in bytes, because one entry
//! may be a 9-byte notice or a 200 KiB history replay.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_channel::{Receiver, Sender, TryRecvError};
use bytes::Bytes;

/// The engine task's end of a client's queue.
#[derive(Debug)]
pub(crate) struct OutQueue {
    tx: Sender<Bytes>,
    queued: Arc<AtomicUsize>,
    limit: usize,
}

/// The writer's end of a client's queue.
#[derive(Debug)]
pub(crate) struct Outbox {
    rx: Receiver<Bytes>,
    queued: Arc<AtomicUsize>,
}

/// The client has more unwritten bytes than its limit allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exceeded {
    /// Bytes waiting when the push was refused.
    pub(crate) queued: usize,
}

/// A queue that holds at most `limit` bytes (plus one message, so that a
/// message bigger than the limit still reaches a client that keeps up).
pub(crate) fn queue(limit: usize) -> (OutQueue, Outbox) {
    // Unbounded in count, bounded in bytes by `push`: entries are never
    // empty, so the count can never exceed the byte limit either, and an
    // idle client's queue costs nothing (a bounded channel would allocate
    // its full capacity up front).
    let (tx, rx) = async_channel::unbounded();
    let queued = Arc::new(AtomicUsize::new(0));
    (OutQueue { tx, queued: queued.clone(), limit }, Outbox { rx, queued })
}

impl OutQueue {
    /// Queues `data` for the writer, or refuses it if the client is too far
    /// behind. Never waits.
    pub(crate) fn push(&self, data: Bytes) -> Result<(), Exceeded> {
        if data.is_empty() {
            return Ok(());
        }
        let queued = self.queued.load(Ordering::Acquire);
        if queued > 0 && queued + data.len() > self.limit {
            return Err(Exceeded { queued });
        }
        self.queued.fetch_add(data.len(), Ordering::AcqRel);
        // This fails only when the writer has stopped because the socket
        // failed; its reader reports that, so the bytes can be dropped.
        let _ = self.tx.try_send(data);
        Ok(())
    }

    /// No more data will come: the writer flushes what is queued, then
    /// closes its side of the connection.
    pub(crate) fn close(&self) {
        self.tx.close();
    }
}

impl Outbox {
    /// Waits for data, then takes everything queued, up to `max` entries,
    /// into `batch`. `false` once the queue is closed and empty.
    pub(crate) async fn recv_batch(&self, batch: &mut Vec<Bytes>, max: usize) -> bool {
        let Ok(first) = self.rx.recv().await else {
            return false;
        };
        batch.push(first);
        while batch.len() < max {
            match self.rx.try_recv() {
                Ok(data) => batch.push(data),
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        true
    }

    /// `bytes` have left the queue (written, or given up on).
    pub(crate) fn written(&self, bytes: usize) {
        self.queued.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// Whether nothing is waiting right now.
    pub(crate) fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// The writer has stopped: later pushes are dropped.
    pub(crate) fn close(&self) {
        self.rx.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recv_all(outbox: &Outbox) -> Vec<Bytes> {
        let mut batch = Vec::new();
        assert!(smol::block_on(outbox.recv_batch(&mut batch, usize::MAX)));
        batch
    }

    #[test]
    fn refuses_past_the_byte_limit_and_accepts_again_once_written() {
        let (queue, outbox) = queue(10);
        queue.push(Bytes::from_static(b"12345")).unwrap();
        queue.push(Bytes::from_static(b"67890")).unwrap();
        assert_eq!(queue.push(Bytes::from_static(b"x")), Err(Exceeded { queued: 10 }));
        let batch = recv_all(&outbox);
        assert_eq!(batch.len(), 2);
        outbox.written(10);
        queue.push(Bytes::from_static(b"x")).unwrap();
    }

    #[test]
    fn one_oversized_message_fits_an_empty_queue_only() {
        let (queue, _outbox) = queue(4);
        queue.push(Bytes::from_static(b"a long history replay")).unwrap();
        assert!(queue.push(Bytes::from_static(b"a long history replay")).is_err());
    }

    #[test]
    fn batches_are_capped_and_closing_drains_first() {
        let (queue, outbox) = queue(1000);
        for _ in 0..5 {
            queue.push(Bytes::from_static(b"line\n")).unwrap();
        }
        queue.close();
        let mut batch = Vec::new();
        assert!(smol::block_on(outbox.recv_batch(&mut batch, 3)));
        assert_eq!(batch.len(), 3);
        batch.clear();
        assert!(smol::block_on(outbox.recv_batch(&mut batch, 3)));
        assert_eq!(batch.len(), 2);
        batch.clear();
        assert!(!smol::block_on(outbox.recv_batch(&mut batch, 3)));
    }

    #[test]
    fn empty_messages_are_not_queued() {
        let (queue, outbox) = queue(1);
        queue.push(Bytes::new()).unwrap();
        assert!(outbox.is_empty());
    }
}
