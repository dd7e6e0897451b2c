//! State shared by the control thread and the worker threads: the run's
//! phase, its clock and running totals. Everything here is an atomic
//! updated once per socket read or send, never per line.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Where the run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Phase {
    /// Connecting and joining.
    Setup = 0,
    /// Sending the schedule.
    Run = 1,
    /// Finished: sockets are being closed.
    Done = 2,
    /// Setup failed or time ran out: stop everything.
    Abort = 3,
}

/// Running totals and the phase, shared by every thread.
#[derive(Debug)]
pub struct Shared {
    /// The run's zero: intended send times are nanoseconds since it.
    pub epoch: Instant,
    phase: AtomicU8,
    start_ns: AtomicU64,
    /// Clients connected and in their room (or named, or just connected, by mode).
    pub ready: AtomicUsize,
    /// Rooms that exist, each created (or found) by its first client.
    pub rooms_ready: AtomicUsize,
    /// Messages written.
    pub sent: AtomicU64,
    /// Messages whose write failed.
    pub send_errors: AtomicU64,
    /// Deliveries the written messages should make.
    pub expected: AtomicU64,
    /// First copies of expected deliveries received.
    pub delivered: AtomicU64,
    /// Expected deliveries received inside the measurement window.
    pub window_delivered: AtomicU64,
    /// Second and later copies.
    pub duplicates: AtomicU64,
    /// Deliveries to a client that should not have had them.
    pub misdelivered: AtomicU64,
    /// Error lines (`!`) from the server while running.
    pub server_errors: AtomicU64,
    /// Connections that failed or were closed by the server before the end.
    pub disconnects: AtomicU64,
    /// Worker threads whose sender has finished.
    pub senders_done: AtomicUsize,
    /// The first thing that went wrong, for the summary.
    first_error: Mutex<Option<String>>,
}

impl Shared {
    /// A run starting now, in setup.
    pub fn new() -> Self {
        Self {
            epoch: Instant::now(),
            phase: AtomicU8::new(Phase::Setup as u8),
            start_ns: AtomicU64::new(0),
            ready: AtomicUsize::new(0),
            rooms_ready: AtomicUsize::new(0),
            sent: AtomicU64::new(0),
            send_errors: AtomicU64::new(0),
            expected: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            window_delivered: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            misdelivered: AtomicU64::new(0),
            server_errors: AtomicU64::new(0),
            disconnects: AtomicU64::new(0),
            senders_done: AtomicUsize::new(0),
            first_error: Mutex::new(None),
        }
    }

    /// Nanoseconds since the epoch.
    pub fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// The instant `ns` after the epoch.
    pub fn at(&self, ns: u64) -> Instant {
        self.epoch + Duration::from_nanos(ns)
    }

    /// The phase now.
    pub fn phase(&self) -> Phase {
        match self.phase.load(Relaxed) {
            0 => Phase::Setup,
            1 => Phase::Run,
            2 => Phase::Done,
            _ => Phase::Abort,
        }
    }

    /// Moves to `phase` (never back, and nothing leaves `Abort`).
    pub fn advance(&self, phase: Phase) {
        self.phase.fetch_max(phase as u8, Relaxed);
    }

    /// Starts the schedule at `start_ns` after the epoch.
    pub fn start_run(&self, start_ns: u64) {
        self.start_ns.store(start_ns, Relaxed);
        self.advance(Phase::Run);
    }

    /// When the schedule started, in ns after the epoch.
    pub fn start_ns(&self) -> u64 {
        self.start_ns.load(Relaxed)
    }

    /// Remembers `error` if it is the first.
    pub fn note_error(&self, error: impl FnOnce() -> String) {
        let mut first = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
        if first.is_none() {
            *first = Some(error());
        }
    }

    /// The first error noted, if any.
    pub fn first_error(&self) -> Option<String> {
        self.first_error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Fails the run during setup.
    pub fn abort(&self, error: impl FnOnce() -> String) {
        self.note_error(error);
        self.advance(Phase::Abort);
    }
}

impl Default for Shared {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_only_move_forward() {
        let s = Shared::new();
        assert_eq!(s.phase(), Phase::Setup);
        s.start_run(5);
        assert_eq!((s.phase(), s.start_ns()), (Phase::Run, 5));
        s.abort(|| "boom".into());
        s.advance(Phase::Done);
        assert_eq!(s.phase(), Phase::Abort);
        s.note_error(|| "later".into());
        assert_eq!(s.first_error().as_deref(), Some("boom"));
    }
}
