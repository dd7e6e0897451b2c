//! One client's send queue: the engine task pushes without ever waiting,
//! and whoever writes takes everything queued at once into one `writev`.
//! The bound is in bytes, because one entry may be a 9-byte notice or a
//! 200 KiB history replay.
//!
//! Writing happens in two places, always under the queue's lock, so the
//! bytes go out in the order they were queued whoever writes them:
//!
//! * the engine task, once per batch, writes straight to each socket it
//!   queued for (the socket is non-blocking; on an idle loopback or LAN
//!   socket the kernel takes everything at once, and no other task runs);
//! * the connection's own task, only when the socket took less than was
//!   queued: it waits until the socket is writable and finishes the job.
//!   Until it has, the engine task only queues for that client.
//!
//! An idle queue holds no buffer: an empty `VecDeque` does not allocate,
//! and one that grew is given back when it runs dry.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};
use std::net::TcpStream;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::{Buf, Bytes};

/// Most queued messages handed to one `writev` (Linux's `IOV_MAX` is 1024).
const MAX_IOV: usize = 1024;

/// Buffers gathered on the stack for one `writev`; more than this (a
/// client that fell behind) are gathered in a short-lived `Vec`.
const STACK_IOV: usize = 32;

/// A queue that grew past this many entries is given back when it runs
/// dry, so an idle client holds no large buffer.
const KEEP_CAPACITY: usize = 16;

/// A client's send queue, shared by the engine task and the connection's
/// task.
#[derive(Debug, Default)]
pub(crate) struct OutQueue {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    items: VecDeque<Bytes>,
    /// Bytes queued and not yet taken by the kernel.
    bytes: usize,
    /// No more data will come: flush what is queued, then end the stream.
    closed: bool,
    /// The socket failed; nothing more is written and pushes are dropped.
    failed: bool,
    /// The socket took less than was queued: the connection's task is (or
    /// is about to be) waiting for it to become writable, and only it writes.
    blocked: bool,
    /// The connection's task, while it waits for work.
    waker: Option<Waker>,
}

/// The client has more unwritten bytes than its limit allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exceeded {
    /// Bytes waiting when the push was refused.
    pub(crate) queued: usize,
}

/// What a write attempt achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flushed {
    /// Nothing is left queued (or nothing was there to write).
    All,
    /// The socket is full; the connection's task takes over.
    Blocked,
}

/// What the connection's task should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriterJob {
    /// Write what is queued, waiting for the socket as needed.
    Write,
    /// Closed and flushed: end the stream.
    Finish,
    /// The socket failed: stop.
    Stop,
}

impl OutQueue {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `data`, or refuses it if the client is already more than
    /// `limit` bytes behind (one message bigger than the limit still goes
    /// into an empty queue, so a large replay reaches a client that keeps
    /// up). Never waits. `Ok(true)` when the caller should [`flush`] this
    /// queue once it has queued everything for now.
    ///
    /// [`flush`]: Self::flush
    pub(crate) fn push(&self, data: Bytes, limit: usize) -> Result<bool, Exceeded> {
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

    /// Writes as much as `stream` takes now, without waiting, unless the
    /// connection's task is already doing so. When the socket is full,
    /// wakes that task to finish.
    pub(crate) fn flush(&self, stream: &TcpStream) -> io::Result<Flushed> {
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
    pub(crate) fn poll_job(&self, cx: &mut Context<'_>) -> Poll<WriterJob> {
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
    pub(crate) fn write_queued(&self, stream: &TcpStream) -> io::Result<Flushed> {
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

    /// No more data will come: the connection's task flushes what is
    /// queued, then closes its side of the connection.
    pub(crate) fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.wake();
    }

    /// The socket failed: drop what is queued and refuse nothing, silently.
    pub(crate) fn fail(&self) {
        self.lock().fail();
    }

    /// Bytes queued and not yet written.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.lock().bytes
    }
}

impl State {
    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    fn fail(&mut self) {
        self.failed = true;
        self.items = VecDeque::new();
        self.bytes = 0;
        self.wake();
    }

    /// Writes queued buffers until the queue is empty or the socket is full.
    /// Bytes leave the count as the kernel takes them, so a client that
    /// keeps up never looks further behind than it is.
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
        if self.items.capacity() > KEEP_CAPACITY {
            self.items = VecDeque::new();
        }
        Ok(Flushed::All)
    }

    fn consume(&mut self, mut written: usize) {
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
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::{Shutdown, TcpListener};

    fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        (server, client)
    }

    #[test]
    fn refuses_past_the_byte_limit_and_accepts_again_once_written() {
        let (server, _client) = pair();
        let queue = OutQueue::default();
        assert_eq!(queue.push(Bytes::from_static(b"12345"), 10), Ok(true));
        assert_eq!(queue.push(Bytes::from_static(b"67890"), 10), Ok(false), "only the first push asks for a flush");
        assert_eq!(queue.push(Bytes::from_static(b"x"), 10), Err(Exceeded { queued: 10 }));
        assert_eq!(queue.flush(&server).unwrap(), Flushed::All);
        assert_eq!(queue.queued(), 0);
        assert_eq!(queue.push(Bytes::from_static(b"x"), 10), Ok(true));
    }

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
    fn a_full_socket_hands_the_rest_to_the_writer_and_order_is_kept() {
        let (server, client) = pair();
        socket2::SockRef::from(&server).set_send_buffer_size(16 * 1024).unwrap();
        socket2::SockRef::from(&client).set_recv_buffer_size(16 * 1024).unwrap();
        let queue = OutQueue::default();
        // Far more than the socket buffers hold, in buffers of varied sizes.
        let batch: Vec<Bytes> = (0..300u32).map(|i| Bytes::from(vec![(i % 251) as u8; 10_000 + i as usize])).collect();
        let expected: Vec<u8> = batch.iter().flat_map(|b| b.iter().copied()).collect();
        for data in batch {
            queue.push(data, usize::MAX).unwrap();
        }
        assert_eq!(queue.flush(&server).unwrap(), Flushed::Blocked);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert_eq!(queue.poll_job(&mut cx), Poll::Ready(WriterJob::Write));
        assert_eq!(queue.push(Bytes::from_static(b"tail"), usize::MAX), Ok(false), "the writer owns a full socket");
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut client = client;
            client.read_to_end(&mut got).unwrap();
            got
        });
        while queue.write_queued(&server).unwrap() == Flushed::Blocked {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(queue.queued(), 0);
        queue.close();
        assert_eq!(queue.poll_job(&mut cx), Poll::Ready(WriterJob::Finish));
        server.shutdown(Shutdown::Write).unwrap();
        let mut expected = expected;
        expected.extend_from_slice(b"tail");
        assert_eq!(reader.join().unwrap(), expected);
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
