//! One client's send queue: the engine task pushes without ever waiting,
//! and the writes ([`writer`](super::writer)) take everything queued at
//! once. Bounds are in bytes, because one entry may be a 9-byte notice or a
//! 200 KiB history replay.
//!
//! A client is cut for falling behind, never for what one moment produced
//! ([`SendLimit`]): the queue remembers when its bytes were queued (in a
//! few coarse marks, not per entry), and only bytes still unwritten a grace
//! period after they were queued count against
//! [`behind_bytes`](SendLimit::behind_bytes). A burst that a reader drains
//! within the grace period never cuts it, however large the batch that
//! produced it; a reader that stopped is cut at the first push after its
//! unread bytes have waited that long. [`max_bytes`](SendLimit::max_bytes)
//! caps what one client can pin meanwhile.
//!
//! The queue also says who writes: the engine task, unless the socket was
//! full, in which case the connection's task owns the writes until the
//! queue is empty again (see `blocked`).
//!
//! An idle queue holds no buffer: an empty `VecDeque` does not allocate,
//! and one that grew is given back when it runs dry.
//!
//! [`OutQueue`] is all of it, its state private to this file: pushing (the
//! engine task), writing to a TCP socket (`flush` for the engine task,
//! `write_queued` for the connection's task, both one `writev` of
//! everything queued), and a WebSocket's hand-over (`hand_to_task`, then
//! `take` and `written` on the connection's task, which makes the frames).

use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};
use std::net::TcpStream;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};

/// A queue that grew past this many entries is given back when it runs
/// dry, so an idle client holds no large buffer.
const KEEP_CAPACITY: usize = 16;

/// Most queued messages handed to one `writev` (Linux's `IOV_MAX` is 1024).
const MAX_IOV: usize = 1024;

/// Buffers gathered on the stack for one `writev`; more than this (a
/// client that fell behind) are gathered in a short-lived `Vec`.
const STACK_IOV: usize = 32;

/// How far behind a client may fall before it is cut ("send queue
/// exceeded").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SendLimit {
    /// Bytes a client may leave unread once `grace` has passed since they
    /// were queued (`--send-queue-bytes`).
    pub(crate) behind_bytes: usize,
    /// How long queued bytes are given to reach the kernel before they
    /// count as left unread (`--send-queue-grace`).
    pub(crate) grace: Duration,
    /// Bytes queued at most, however recent: what one client can pin while
    /// its grace period runs (`--send-queue-max-bytes`). One message larger
    /// than this still goes to an empty queue.
    pub(crate) max_bytes: usize,
}

/// Marks are opened at most this often per grace period, so a queue holds
/// at most about this many (plus one), however many pushes it takes.
const MARKS_PER_GRACE: u32 = 8;

/// By `last`, the client's queue had taken `upto` bytes in all.
#[derive(Debug, Clone, Copy)]
struct Mark {
    /// When the first push of this mark's window happened.
    opened: Instant,
    /// When its last push happened: every byte up to `upto` was queued by then.
    last: Instant,
    upto: u64,
}

/// A client's send queue, shared by the engine task and the connection's
/// task.
#[derive(Debug, Default)]
pub(super) struct OutQueue {
    state: Mutex<State>,
}

/// Everything about the queue, under one lock: what is queued, and whose
/// turn it is to write.
#[derive(Debug, Default)]
struct State {
    /// Buffers not yet (fully) written, oldest first.
    items: VecDeque<Bytes>,
    /// Bytes queued and not yet taken by the kernel.
    bytes: usize,
    /// Bytes ever queued, and ever written: the positions marks refer to.
    pushed: u64,
    written: u64,
    /// When the bytes not yet written were queued, oldest first, coarsely.
    marks: VecDeque<Mark>,
    /// No more data will come: flush what is queued, then end the stream.
    closed: bool,
    /// The socket failed; nothing more is written and pushes are dropped.
    failed: bool,
    /// The socket took less than was queued: the connection's task is (or
    /// is about to be) waiting for it to become writable, and only it writes.
    /// A WebSocket's task always writes, so for it this means "handed over"
    /// (see [`ws`](super::ws)).
    blocked: bool,
    /// The connection's task, while it waits for work.
    waker: Option<Waker>,
}

/// The client fell further behind than its [`SendLimit`] allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exceeded {
    /// Bytes waiting when the push was refused.
    pub(crate) queued: usize,
    /// Of those, bytes queued longer than the grace period ago.
    pub(crate) overdue: u64,
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

/// What a write attempt achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flushed {
    /// Nothing is left queued (or nothing was there to write).
    All,
    /// The socket is full; the connection's task takes over.
    Blocked,
}

impl OutQueue {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `data` at `now`, or refuses it if the client has left more
    /// than `limit.behind_bytes` unread for longer than `limit.grace`, or
    /// would hold more than `limit.max_bytes`. Never waits. `Ok(true)` when
    /// the caller should [`flush`] this queue once it has queued everything
    /// for now.
    ///
    /// [`flush`]: Self::flush
    pub(super) fn push(&self, data: Bytes, now: Instant, limit: &SendLimit) -> Result<bool, Exceeded> {
        if data.is_empty() {
            return Ok(false);
        }
        let mut state = self.lock();
        if state.failed || state.closed {
            return Ok(false);
        }
        let overdue = state.overdue(now, limit.grace);
        let too_big = state.bytes > 0 && state.bytes + data.len() > limit.max_bytes;
        if overdue > limit.behind_bytes as u64 || too_big {
            return Err(Exceeded { queued: state.bytes, overdue });
        }
        let first = state.items.is_empty();
        // Room for one buffer at first, not the usual four: most of a
        // million idle connections never hold more than their welcome.
        if state.items.capacity() == 0 {
            state.items.reserve_exact(1);
        }
        state.bytes += data.len();
        state.pushed += data.len() as u64;
        state.items.push_back(data);
        state.mark(now, limit.grace);
        Ok(first && !state.blocked)
    }

    /// The engine task: writes as much as `stream` takes now, without
    /// waiting, unless the connection's task is already doing so. When the
    /// socket is full, wakes that task to finish.
    pub(super) fn flush(&self, stream: &TcpStream) -> io::Result<Flushed> {
        let mut state = self.lock();
        if state.blocked || state.failed {
            return Ok(Flushed::Blocked);
        }
        let flushed = state.write(stream);
        match flushed {
            Ok(Flushed::All) => {}
            Ok(Flushed::Blocked) => {
                state.blocked = true;
                state.wake();
            }
            Err(_) => state.fail(),
        }
        flushed
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

    /// The connection's task: writes what the socket takes now. Once the
    /// queue is empty, the engine task writes again.
    pub(super) fn write_queued(&self, stream: &TcpStream) -> io::Result<Flushed> {
        let mut state = self.lock();
        if state.failed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let flushed = state.write(stream);
        match flushed {
            Ok(Flushed::All) => state.blocked = false,
            Ok(Flushed::Blocked) => state.blocked = true,
            Err(_) => state.fail(),
        }
        flushed
    }

    /// The engine task, at the end of a batch: the connection's task writes
    /// what is queued (only it can make frames). Until the queue is empty
    /// again, pushes do not ask for another hand-over.
    pub(super) fn hand_to_task(&self) {
        let mut state = self.lock();
        if !state.failed {
            state.blocked = true;
            state.wake();
        }
    }

    /// Takes the oldest queued buffers out, at most `max_items` of them and
    /// about `max_bytes`, and their total size. Moved, not cloned: a
    /// broadcast buffer's reference count is shared by every recipient on
    /// every thread, so each clone would be a contended atomic. Their
    /// bytes stay counted as queued until [`written`](Self::written).
    pub(super) fn take(&self, max_items: usize, max_bytes: usize) -> (Vec<Bytes>, usize) {
        let mut state = self.lock();
        let mut bytes = 0;
        let mut batch = Vec::new();
        while batch.len() < max_items {
            match state.items.front() {
                Some(item) if bytes == 0 || bytes + item.len() <= max_bytes => bytes += item.len(),
                _ => break,
            }
            batch.extend(state.items.pop_front());
        }
        (batch, bytes)
    }

    /// `bytes` taken with [`take`](Self::take) reached the kernel. Once
    /// nothing is queued the engine task hands the queue over again at its
    /// next push.
    pub(super) fn written(&self, bytes: usize) {
        let mut state = self.lock();
        // A queue failed meanwhile (its client fell behind) was emptied.
        if state.failed {
            return;
        }
        state.count_written(bytes);
        if state.items.is_empty() {
            state.blocked = false;
            state.shrink_when_empty();
        }
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
    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    fn fail(&mut self) {
        self.failed = true;
        self.items = VecDeque::new();
        self.marks = VecDeque::new();
        self.bytes = 0;
        self.wake();
    }

    /// Bytes queued at least `grace` before `now` and still unwritten.
    fn overdue(&self, now: Instant, grace: Duration) -> u64 {
        let Some(due) = now.checked_sub(grace) else { return 0 };
        let upto = self.marks.iter().take_while(|m| m.last <= due).last().map_or(0, |m| m.upto);
        upto.saturating_sub(self.written)
    }

    /// Notes that everything pushed so far was queued by `now`, in the
    /// newest mark while it is young, else in a new one.
    fn mark(&mut self, now: Instant, grace: Duration) {
        let (upto, window) = (self.pushed, grace / MARKS_PER_GRACE);
        match self.marks.back_mut() {
            Some(mark) if now.saturating_duration_since(mark.opened) < window => {
                mark.last = now;
                mark.upto = upto;
            }
            _ => self.marks.push_back(Mark { opened: now, last: now, upto }),
        }
    }

    /// Writes queued buffers until the queue is empty or the socket is full.
    fn write(&mut self, stream: &TcpStream) -> io::Result<Flushed> {
        while !self.items.is_empty() {
            let (result, offered) = writev(stream, &self.items);
            let written = match result {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Flushed::Blocked),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.consume(written);
            if written < offered {
                // The socket's buffer is full; another try would only fail.
                return Ok(Flushed::Blocked);
            }
        }
        self.shrink_when_empty();
        Ok(Flushed::All)
    }

    /// Drops what the kernel took. Bytes leave the count as they are
    /// written, so a client that keeps up never looks further behind than
    /// it is.
    fn consume(&mut self, mut written: usize) {
        self.count_written(written);
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

    /// Counts `written` more bytes as taken by the kernel, without touching
    /// the buffers (a WebSocket's task took them out already, see `ws`).
    fn count_written(&mut self, written: usize) {
        self.bytes -= written;
        self.written += written as u64;
        crate::metrics::wrote(written);
        while self.marks.front().is_some_and(|m| m.upto <= self.written) {
            self.marks.pop_front();
        }
    }

    /// Gives back the memory of a queue that grew, once it has run dry.
    fn shrink_when_empty(&mut self) {
        if self.items.is_empty() && self.items.capacity() > KEEP_CAPACITY {
            self.items = VecDeque::new();
        }
        // Everything is written, so no mark is left; an idle client keeps no buffer for them.
        if self.items.is_empty() {
            self.marks = VecDeque::new();
        }
    }
}

/// One `writev` of the first [`MAX_IOV`] buffers of `items`, and how many
/// bytes were offered.
fn writev(mut stream: &TcpStream, items: &VecDeque<Bytes>) -> (io::Result<usize>, usize) {
    let mut offered = 0;
    if items.len() <= STACK_IOV {
        let mut slices = [IoSlice::new(&[]); STACK_IOV];
        for (slot, item) in slices.iter_mut().zip(items) {
            *slot = IoSlice::new(item);
            offered += item.len();
        }
        (stream.write_vectored(&slices[..items.len()]), offered)
    } else {
        let slices: Vec<IoSlice<'_>> = items
            .iter()
            .take(MAX_IOV)
            .map(|item| {
                offered += item.len();
                IoSlice::new(item)
            })
            .collect();
        (stream.write_vectored(&slices), offered)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A limit of `behind` overdue bytes after one second, `max` at most.
    pub(crate) fn limit(behind: usize, max: usize) -> SendLimit {
        SendLimit { behind_bytes: behind, grace: Duration::from_secs(1), max_bytes: max }
    }

    #[test]
    fn a_burst_is_judged_by_what_is_left_after_the_grace_not_by_its_size() {
        let queue = OutQueue::default();
        let t0 = Instant::now();
        let limit = limit(10, 1000);
        // Far more than `behind_bytes` at once: fine, nobody had time to read it.
        for _ in 0..50 {
            queue.push(Bytes::from_static(b"0123456789"), t0, &limit).unwrap();
        }
        // Half a second later: still within the grace period.
        let half = t0 + Duration::from_millis(500);
        assert!(queue.push(Bytes::from_static(b"x"), half, &limit).is_ok());
        // The reader took all but 10 of the first burst: 10 overdue bytes are allowed.
        queue.lock().consume(490);
        let later = t0 + Duration::from_millis(1200);
        assert!(queue.push(Bytes::from_static(b"y"), later, &limit).is_ok());
        // One more overdue byte is one too many once its grace is over too.
        let much_later = half + Duration::from_millis(1100);
        assert_eq!(
            queue.push(Bytes::from_static(b"z"), much_later, &limit),
            Err(Exceeded { queued: 12, overdue: 11 }),
            "the first burst's 10 bytes and the half-second push's byte are overdue"
        );
    }

    #[test]
    fn a_reader_that_drains_is_never_behind() {
        let queue = OutQueue::default();
        let t0 = Instant::now();
        let limit = limit(100, 1_000_000);
        for step in 0..10_000u64 {
            let now = t0 + Duration::from_millis(step);
            queue.push(Bytes::from(vec![b'.'; 500]), now, &limit).unwrap();
            // Drains everything but the newest push each millisecond.
            let keep = 500;
            let take = queue.lock().bytes - keep;
            queue.lock().consume(take);
        }
        assert!(queue.lock().marks.len() <= MARKS_PER_GRACE as usize + 1, "marks stay few");
    }

    #[test]
    fn the_hard_cap_bounds_even_recent_bytes() {
        let queue = OutQueue::default();
        let now = Instant::now();
        let limit = limit(1_000_000, 20);
        queue.push(Bytes::from_static(b"0123456789"), now, &limit).unwrap();
        queue.push(Bytes::from_static(b"0123456789"), now, &limit).unwrap();
        assert_eq!(queue.push(Bytes::from_static(b"x"), now, &limit), Err(Exceeded { queued: 20, overdue: 0 }));
    }

    #[test]
    fn one_oversized_message_fits_an_empty_queue_only() {
        let queue = OutQueue::default();
        let now = Instant::now();
        assert!(queue.push(Bytes::from_static(b"a long history replay"), now, &limit(4, 4)).is_ok());
        assert!(queue.push(Bytes::from_static(b"a long history replay"), now, &limit(4, 4)).is_err());
    }

    #[test]
    fn empty_messages_are_not_queued() {
        let queue = OutQueue::default();
        assert_eq!(queue.push(Bytes::new(), Instant::now(), &limit(1, 1)), Ok(false));
        assert_eq!(queue.queued(), 0);
    }

    #[test]
    fn closing_lets_the_writer_flush_first() {
        let queue = OutQueue::default();
        queue.push(Bytes::from_static(b"bye\n"), Instant::now(), &limit(100, 100)).unwrap();
        queue.close();
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(queue.poll_job(&mut cx), Poll::Ready(WriterJob::Write));
        assert_eq!(queue.push(Bytes::from_static(b"late\n"), Instant::now(), &limit(100, 100)), Ok(false));
        assert_eq!(queue.queued(), 4, "nothing is queued after the close");
    }

    #[test]
    fn a_failed_socket_drops_everything() {
        let queue = OutQueue::default();
        queue.push(Bytes::from_static(b"lost"), Instant::now(), &limit(100, 100)).unwrap();
        queue.fail();
        assert_eq!(queue.queued(), 0);
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(queue.poll_job(&mut cx), Poll::Ready(WriterJob::Stop));
    }
}
