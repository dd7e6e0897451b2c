//! The socket as tungstenite reads and writes it, and what reading may
//! cost the server.
//!
//! tungstenite answers a ping, and swallows an empty continuation
//! fragment, without the message ever reaching chatd: such frames never
//! become lines, so neither the inbound channel, nor the engine's flood
//! control, nor its idle timeout sees them, and one poll of the reader
//! would go on parsing them for as long as the socket has bytes. So every
//! byte read is judged here, where all of them pass:
//!
//! * **A budget** ([`Budget`]): bytes read count as owed; the text of each
//!   message handed to the engine pays its own bytes back, and a ping
//!   costs [`PING_COST`] more (its pong is a write). What is owed drains
//!   at [`RATE`] a second; a connection that owes more than its burst is
//!   closed with 1008. A chatting client owes next to nothing: a frame's
//!   header, a pong every `--ws-ping-interval`.
//! * **Batches**: after [`BATCH_READS`] reads in a row the reader yields
//!   to the executor, so one connection's stream of frames cannot hold a
//!   thread however fast it arrives.
//! * **Pongs coalesced**: a write the reader makes in the middle of a
//!   batch (a pong, or the answer to a close) waits for the batch's end,
//!   so every pong of a batch goes out in one write.

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_lite::{AsyncRead, AsyncWrite, Stream};

use super::super::{Socket, Transport};

/// Reads in a row (each at most the 1 KiB read buffer) before the reader
/// yields its thread.
pub(super) const BATCH_READS: u8 = 16;

/// Owed bytes forgiven per second: a few hundred pings a minute.
pub(super) const RATE: u64 = 4 * 1024;

/// Owed bytes allowed beyond the largest message (which is owed until it
/// is complete): a few dozen pings at once.
pub(super) const BURST: u64 = 16 * 1024;

/// What a ping costs on top of its bytes: its pong is a write.
pub(super) const PING_COST: u64 = 128;

/// A text message pays back its text and this much of its frame header
/// (the largest masked client header: 14 bytes).
pub(super) const HEADER_ALLOWANCE: u64 = 14;

/// A connection read more than its budget allows.
#[derive(Debug, thiserror::Error)]
#[error("too many frames that carry no message (pings, empty fragments)")]
pub(crate) struct OverBudget;

impl OverBudget {
    /// Whether reading failed because of this.
    pub(super) fn caused(error: &io::Error) -> bool {
        error.get_ref().is_some_and(|inner| inner.is::<OverBudget>())
    }
}

/// Bytes a WebSocket has read that no message has paid for yet.
#[derive(Debug)]
pub(crate) struct Budget {
    owed: u64,
    /// When `owed` was last drained.
    at: Instant,
    /// The most it may owe.
    limit: u64,
}

impl Budget {
    /// A budget for messages of at most `max_message` bytes.
    pub(super) fn new(max_message: usize, now: Instant) -> Self {
        Self { owed: 0, at: now, limit: BURST + max_message as u64 }
    }

    /// `bytes` more are owed at `now`; `false` once more is owed than allowed.
    pub(super) fn charge(&mut self, bytes: u64, now: Instant) -> bool {
        let forgiven = now.saturating_duration_since(self.at).as_millis() as u64 * RATE / 1000;
        if forgiven > 0 {
            self.at = now;
        }
        self.owed = self.owed.saturating_sub(forgiven).saturating_add(bytes);
        self.owed <= self.limit
    }

    /// A text message of `bytes` reached the engine: its bytes are paid.
    pub(super) fn pay(&mut self, bytes: usize) {
        self.owed = self.owed.saturating_sub(bytes as u64 + HEADER_ALLOWANCE);
    }
}

thread_local! {
    /// Set while this thread polls a WebSocket's reader: its writes are
    /// pongs and close answers, which may wait for the end of a batch. The
    /// writer half, on its own task, is never held back.
    static READING: Cell<bool> = const { Cell::new(false) };
}

/// The next message from `receiver`, with this thread marked as reading.
pub(super) async fn next<S: Stream + Unpin>(receiver: &mut S) -> Option<S::Item> {
    futures_lite::future::poll_fn(|cx| {
        READING.set(true);
        let next = Pin::new(&mut *receiver).poll_next(cx);
        READING.set(false);
        next
    })
    .await
}

/// The connection's own [`Socket`], which the engine task also holds (to
/// queue, and to cut), and where the reader is in its batch.
#[derive(Debug)]
pub(crate) struct Io {
    pub(super) socket: Arc<Socket>,
    /// Reads since the reader last waited.
    reads: u8,
    /// The reader held back a write in this batch: wake it when the batch ends.
    deferred: bool,
}

impl Io {
    pub(super) fn new(socket: Arc<Socket>) -> Self {
        Self { socket, reads: 0, deferred: false }
    }

    /// Ends a batch: the reader waits, after being woken again at once if
    /// it held back a write (or `yielding`).
    fn end_batch(&mut self, cx: &mut Context<'_>, yielding: bool) -> Poll<io::Result<usize>> {
        self.reads = 0;
        if std::mem::take(&mut self.deferred) || yielding {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

impl AsyncRead for Io {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if self.reads >= BATCH_READS {
            return self.end_batch(cx, true);
        }
        match Pin::new(&mut &self.socket.stream).poll_read(cx, buf) {
            Poll::Pending => self.end_batch(cx, false),
            Poll::Ready(Ok(n)) => {
                self.reads += 1;
                if let Transport::WebSocket(shared) = &self.socket.transport
                    && n > 0
                    && !shared.charge(n as u64, Instant::now())
                {
                    return Poll::Ready(Err(io::Error::other(OverBudget)));
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.reads > 0 && READING.get() {
            // tungstenite keeps the frame and tries again at its next read,
            // which the end of this batch brings about.
            self.deferred = true;
            return Poll::Pending;
        }
        Pin::new(&mut &self.socket.stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &self.socket.stream).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &self.socket.stream).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// How long a full budget takes to drain.
    fn drain_time(budget: &Budget) -> Duration {
        Duration::from_millis(budget.limit * 1000 / RATE)
    }

    #[test]
    fn messages_pay_for_themselves_and_empty_frames_run_out() {
        let t0 = Instant::now();
        let mut budget = Budget::new(2048, t0);
        // A chat: each message's bytes, a 6-byte header each, are paid back.
        for _ in 0..100_000 {
            assert!(budget.charge(6 + 500, t0));
            budget.pay(500);
        }
        // The largest message is owed until it is whole.
        assert!(budget.charge(2048 + 14, t0));
        budget.pay(2048);
        // Empty fragments (6 bytes each, paying nothing) run out in the burst.
        let frames = (0..).take_while(|_| budget.charge(6, t0)).count() as u64;
        assert_eq!(frames, (BURST + 2048) / 6, "the burst and the largest message, 6 bytes at a time");
        // What is owed drains with time.
        assert!(!budget.charge(0, t0));
        assert!(budget.charge(6, t0 + drain_time(&budget)));
    }

    #[test]
    fn pings_cost_their_pong() {
        let t0 = Instant::now();
        let mut budget = Budget::new(0, t0);
        let pings = (0..).take_while(|_| budget.charge(6 + PING_COST, t0)).count() as u64;
        assert_eq!(pings, BURST / (6 + PING_COST));
        // A pong every 30 s, or a ping a second, never runs out.
        let mut budget = Budget::new(0, t0);
        for second in 0..10_000 {
            assert!(budget.charge(6 + PING_COST, t0 + Duration::from_secs(second)));
        }
    }

    #[test]
    fn the_error_is_recognised() {
        assert!(OverBudget::caused(&io::Error::other(OverBudget)));
        assert!(!OverBudget::caused(&io::Error::other("something else")));
    }
}
