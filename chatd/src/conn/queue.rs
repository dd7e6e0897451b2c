//! One client's send queue: the engine task pushes without ever waiting,
//! and the writes ([`writer`](super::writer)) take everything queued at
//! once. The bound is in bytes, because one entry may be a 9-byte notice
//! or a 200 KiB history replay.
//!
//! The queue also says who writes: the engine task, unless the socket was
//! full, in which case the connection's task owns the writes until the
//! queue is empty again (see `blocked`).
//!
//! An idle queue holds no buffer: an empty `VecDeque` does not allocate,
//! and one that grew is given back when it runs dry.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::{Buf, Bytes};

/// A queue that grew past this many entries is given back when it runs
/// dry, so an idle client holds no large buffer.
const KEEP_CAPACITY: usize = 16;

/// A client's send queue, shared by the engine task and the connection's
/// task.
#[derive(Debug, Default)]
pub(super) struct OutQueue {
    state: Mutex<State>,
}

/// Everything about the queue, under one lock: what is queued, and whose
/// turn it is to write.
#[derive(Debug, Default)]
pub(super) struct State {
    /// Buffers not yet (fully) written, oldest first.
    pub(super) items: VecDeque<Bytes>,
    /// Bytes queued and not yet taken by the kernel.
    bytes: usize,
    /// No more data will come: flush what is queued, then end the stream.
    closed: bool,
    /// The socket failed; nothing more is written and pushes are dropped.
    pub(super) failed: bool,
    /// The socket took less than was queued: the connection's task is (or
    /// is about to be) waiting for it to become writable, and only it writes.
    pub(super) blocked: bool,
    /// The connection's task, while it waits for work.
    waker: Option<Waker>,
}

/// The client has more unwritten bytes than its limit allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exceeded {
    /// Bytes waiting when the push was refused.
    pub(crate) queued: usize,
}

/// What the connection's task should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WriterJob {
    /// Write what is queued, waiting for the socket as needed.
    Write,
    /// Closed and flushed: end the stream.
    Finish,
    /// The socket failed: stop.
    Stop,
}

impl OutQueue {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `data`, or refuses it if the client is already more than
    /// `limit` bytes behind (one message bigger than the limit still goes
    /// into an empty queue, so a large replay reaches a client that keeps
    /// up). Never waits. `Ok(true)` when the caller should [`flush`] this
    /// queue once it has queued everything for now.
    ///
    /// [`flush`]: Self::flush
    pub(super) fn push(&self, data: Bytes, limit: usize) -> Result<bool, Exceeded> {
        if data.is_empty() {
            return Ok(false);
        }
        let mut state = self.lock();
        if state.failed || state.closed {
            return Ok(false);
        }
        if state.bytes > 0 && state.bytes + data.len() > limit {
            return Err(Exceeded { queued: state.bytes });
        }
        let first = state.items.is_empty();
        state.bytes += data.len();
        state.items.push_back(data);
        Ok(first && !state.blocked)
    }

    /// The connection's task: waits until there is something for it to do.
    pub(super) fn poll_job(&self, cx: &mut Context<'_>) -> Poll<WriterJob> {
        let mut state = self.lock();
        if state.failed {
            return Poll::Ready(WriterJob::Stop);
        }
        if state.blocked || (state.closed && !state.items.is_empty()) {
            return Poll::Ready(WriterJob::Write);
        }
        if state.closed {
            return Poll::Ready(WriterJob::Finish);
        }
        if !state.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            state.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// No more data will come: the connection's task flushes what is
    /// queued, then closes its side of the connection.
    pub(super) fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.wake();
    }

    /// The socket failed: drop what is queued and refuse nothing, silently.
    pub(super) fn fail(&self) {
        self.lock().fail();
    }

    /// Bytes queued and not yet written.
    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.lock().bytes
    }
}

impl State {
    /// Wakes the connection's task, if it waits for work.
    pub(super) fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    pub(super) fn fail(&mut self) {
        self.failed = true;
        self.items = VecDeque::new();
        self.bytes = 0;
        self.wake();
    }

    /// Drops what the kernel took. Bytes leave the count as they are
    /// written, so a client that keeps up never looks further behind than
    /// it is.
    pub(super) fn consume(&mut self, mut written: usize) {
        self.bytes -= written;
        while written > 0 {
            let Some(first) = self.items.front_mut() else { break };
            if written >= first.len() {
                written -= first.len();
                self.items.pop_front();
            } else {
                first.advance(written);
                written = 0;
            }
        }
    }

    /// Gives back the memory of a queue that grew, once it has run dry.
    pub(super) fn shrink_when_empty(&mut self) {
        if self.items.is_empty() && self.items.capacity() > KEEP_CAPACITY {
            self.items = VecDeque::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_oversized_message_fits_an_empty_queue_only() {
        let queue = OutQueue::default();
        assert!(queue.push(Bytes::from_static(b"a long history replay"), 4).is_ok());
        assert!(queue.push(Bytes::from_static(b"a long history replay"), 4).is_err());
    }

    #[test]
    fn empty_messages_are_not_queued() {
        let queue = OutQueue::default();
        assert_eq!(queue.push(Bytes::new(), 1), Ok(false));
        assert_eq!(queue.queued(), 0);
    }

    #[test]
    fn closing_lets_the_writer_flush_first() {
        let queue = OutQueue::default();
        queue.push(Bytes::from_static(b"bye\n"), 100).unwrap();
        queue.close();
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(queue.poll_job(&mut cx), Poll::Ready(WriterJob::Write));
        assert_eq!(queue.push(Bytes::from_static(b"late\n"), 100), Ok(false));
        assert_eq!(queue.queued(), 4, "nothing is queued after the close");
    }

    #[test]
    fn a_failed_socket_drops_everything() {
        let queue = OutQueue::default();
        queue.push(Bytes::from_static(b"lost"), 100).unwrap();
        queue.fail();
        assert_eq!(queue.queued(), 0);
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(queue.poll_job(&mut cx), Poll::Ready(WriterJob::Stop));
    }
}
