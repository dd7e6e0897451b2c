//! State shared by the control thread and the worker threads: the run's
//! phase, its clock and running totals. Everything here is an atomic
//! updated once per socket read or send, never per line.

use std::collections::BTreeMap;
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
    /// The longest any expected delivery took from its intended send time
    /// (for a burst, its release), ns.
    pub slowest_ns: AtomicU64,
    /// Second and later copies.
    pub duplicates: AtomicU64,
    /// Deliveries to a client that should not have had them.
    pub misdelivered: AtomicU64,
    /// Error lines (`!`) from the server while running.
    pub server_errors: AtomicU64,
    /// Clients cut: their connection failed or was closed by the server
    /// after setup and before the end of the run.
    pub cut: AtomicU64,
    /// Worker threads whose sender has finished.
    pub senders_done: AtomicUsize,
    /// The first thing that went wrong, for the summary.
    first_error: Mutex<Option<String>>,
    /// Who was cut and why (rare: one lock per cut or goodbye, never per line).
    farewells: Mutex<Farewells>,
}

/// The clients cut during the run, and what the server said about why.
#[derive(Debug, Default)]
struct Farewells {
    /// Clients cut, in the order their connections ended.
    cut: Vec<usize>,
    /// A reason per client: its own goodbye (`* bye: ...`) if it got one,
    /// else the first notice its roommates got (`* NICK disconnected (...)`).
    reasons: BTreeMap<usize, Reason>,
}

/// Where a reason came from: the client's own goodbye outranks a notice.
#[derive(Debug)]
struct Reason {
    text: String,
    own: bool,
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
            slowest_ns: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            misdelivered: AtomicU64::new(0),
            server_errors: AtomicU64::new(0),
            cut: AtomicU64::new(0),
            senders_done: AtomicUsize::new(0),
            first_error: Mutex::new(None),
            farewells: Mutex::default(),
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

    /// Counts `client` as cut.
    pub fn note_cut(&self, client: usize) {
        self.cut.fetch_add(1, Relaxed);
        self.farewells().cut.push(client);
    }

    /// Remembers why the server says `client` is leaving: `own` for the
    /// client's own goodbye, which replaces any notice seen by a roommate.
    pub fn note_reason(&self, client: usize, reason: &str, own: bool) {
        let mut farewells = self.farewells();
        let known = farewells.reasons.get(&client).is_some_and(|r| r.own || !own);
        if !known {
            farewells.reasons.insert(client, Reason { text: reason.to_owned(), own });
        }
    }

    /// The clients cut, each with the reason the server gave, if any.
    pub fn cuts(&self) -> Vec<(usize, Option<String>)> {
        let farewells = self.farewells();
        farewells.cut.iter().map(|c| (*c, farewells.reasons.get(c).map(|r| r.text.clone()))).collect()
    }

    fn farewells(&self) -> std::sync::MutexGuard<'_, Farewells> {
        self.farewells.lock().unwrap_or_else(|e| e.into_inner())
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

    #[test]
    fn a_clients_own_goodbye_outranks_what_its_roommates_heard() {
        let s = Shared::new();
        s.note_reason(3, "connection closed", false);
        s.note_reason(3, "send queue exceeded", true);
        s.note_reason(3, "later notice", false);
        s.note_reason(5, "send queue exceeded", false);
        s.note_reason(5, "second notice", false);
        s.note_reason(9, "never cut", true);
        s.note_cut(5);
        s.note_cut(3);
        s.note_cut(7);
        let cuts = s.cuts();
        assert_eq!(cuts, [(5, Some("send queue exceeded".into())), (3, Some("send queue exceeded".into())), (7, None)]);
        assert_eq!(s.cut.load(Relaxed), 3);
    }
}
