//! Log lines for refusals (a connection over the per-IP cap or over
//! `--max-clients`, a failed `accept`, a password check refused as busy,
//! a failed TLS handshake, a bad PROXY header, an HTTP request for a name
//! chatd does not answer to, a WebSocket from another site's page, a
//! connection dropped as the oldest of too many that are not clients yet),
//! limited so that a flood of them cannot flood the log.
//!
//! The first refusal after a quiet spell is logged in full by its caller.
//! The ones after it are only counted, and at the end of each
//! [`INTERVAL`] one summary line gives the counts by reason; an interval
//! without refusals ends the spell. So a flood writes one line to start
//! with and then at most one line per interval, however fast it goes.

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How often, at most, a summary line is written while refusals go on.
pub(crate) const INTERVAL: Duration = Duration::from_secs(10);

/// How many kinds of refusal there are.
const KINDS: usize = 9;

/// Why something was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A connection over `--max-per-ip`.
    PerIpCap,
    /// A connection over `--max-clients`.
    ServerFull,
    /// `accept` failed (typically: out of file descriptors).
    AcceptFailed,
    /// A password check found the password pool's queue full.
    PasswordBusy,
    /// A TLS handshake failed or did not finish in time.
    TlsHandshake,
    /// A trusted proxy's connection without a valid PROXY header.
    ProxyHeader,
    /// An HTTP request whose `Host` is not chatd's (DNS rebinding).
    UnknownHost,
    /// A WebSocket opened by another site's page.
    Origin,
    /// A connection that was not a client yet was dropped as the oldest
    /// of more than `--max-pending-connections`.
    NewcomerDropped,
}

impl Refusal {
    const ALL: [Refusal; KINDS] = [
        Refusal::PerIpCap,
        Refusal::ServerFull,
        Refusal::AcceptFailed,
        Refusal::PasswordBusy,
        Refusal::TlsHandshake,
        Refusal::ProxyHeader,
        Refusal::UnknownHost,
        Refusal::Origin,
        Refusal::NewcomerDropped,
    ];

    fn what(self) -> &'static str {
        match self {
            Refusal::PerIpCap => "connections over the per-IP cap",
            Refusal::ServerFull => "connections over --max-clients",
            Refusal::AcceptFailed => "failed accepts",
            Refusal::PasswordBusy => "password checks (busy)",
            Refusal::TlsHandshake => "failed TLS handshakes",
            Refusal::ProxyHeader => "proxied connections without a valid PROXY header",
            Refusal::UnknownHost => "HTTP requests for another host name",
            Refusal::Origin => "WebSockets from other sites' pages",
            Refusal::NewcomerDropped => "connections not yet clients dropped (oldest first)",
        }
    }
}

/// The refusals counted since a spell's last line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Summary {
    /// What the counts cover.
    pub(crate) over: Duration,
    /// By reason, in [`Refusal::ALL`]'s order.
    counts: [u64; KINDS],
}

impl Summary {
    fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

impl fmt::Display for Summary {
    /// "refused 4,193 in the last 10 s: 4,100 connections over the per-IP cap, 93 …"
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused {} in the last {} s:", thousands(self.total()), self.over.as_secs_f64().round())?;
        let counted = Refusal::ALL.iter().zip(self.counts).filter(|(_, n)| *n > 0);
        for (i, (reason, n)) in counted.enumerate() {
            let sep = if i == 0 { "" } else { "," };
            write!(f, "{sep} {} {}", thousands(n), reason.what())?;
        }
        Ok(())
    }
}

/// `4193` as `4,193`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The limiter, with explicit times.
#[derive(Debug)]
pub(crate) struct RefusalLog {
    interval: Duration,
    /// The spell under way: when its last line was written, and what was
    /// counted since. `None` when quiet.
    spell: Option<(Instant, [u64; KINDS])>,
}

impl RefusalLog {
    pub(crate) const fn new(interval: Duration) -> Self {
        Self { interval, spell: None }
    }

    /// Counts a refusal at `now`. Returns a summary that is due (the
    /// caller logs it), and whether this refusal is the first of a spell
    /// (the caller logs it in full).
    pub(crate) fn note(&mut self, now: Instant, reason: Refusal) -> (Option<Summary>, bool) {
        let summary = self.tick(now);
        let Some((_, counts)) = &mut self.spell else {
            self.spell = Some((now, [0; KINDS]));
            return (summary, true);
        };
        counts[reason as usize] += 1;
        (summary, false)
    }

    /// Ends the interval under way if `now` is past it: returns its summary
    /// if it counted anything (and a new interval starts), else the spell
    /// is over.
    pub(crate) fn tick(&mut self, now: Instant) -> Option<Summary> {
        let (since, counts) = self.spell?;
        let over = now.checked_duration_since(since)?;
        if over < self.interval {
            return None;
        }
        let summary = Summary { over, counts };
        if summary.total() == 0 {
            self.spell = None;
            return None;
        }
        self.spell = Some((now, [0; KINDS]));
        Some(summary)
    }

    /// When [`tick`](Self::tick) next has something to do.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.spell.map(|(since, _)| since + self.interval)
    }
}

/// The one limiter of the process: refusals are made by the accept loop
/// and by the engine task.
static LOG: Mutex<RefusalLog> = Mutex::new(RefusalLog::new(INTERVAL));

fn log() -> std::sync::MutexGuard<'static, RefusalLog> {
    LOG.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Counts a refusal now, logging a summary that is due; returns whether
/// the caller should log this refusal in full.
pub(crate) fn note(reason: Refusal) -> bool {
    let (summary, first) = log().note(Instant::now(), reason);
    write(summary);
    first
}

/// Logs the summary that is due, if any.
pub(crate) fn tick() {
    let summary = log().tick(Instant::now());
    write(summary);
}

/// When [`tick`] should next be called, if a spell is under way.
pub(crate) fn deadline() -> Option<Instant> {
    log().deadline()
}

fn write(summary: Option<Summary>) {
    if let Some(summary) = summary {
        tracing::warn!(%summary, "refusals");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_one_line_then_one_summary_per_interval_then_quiet_again() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut log = RefusalLog::new(Duration::from_secs(10));
        assert_eq!(log.deadline(), None);
        assert_eq!(log.note(at(0), Refusal::PerIpCap), (None, true), "the first is logged in full");
        assert_eq!(log.deadline(), Some(at(10_000)));
        for ms in 1..=4_100 {
            assert_eq!(log.note(at(ms), Refusal::PerIpCap), (None, false));
        }
        for ms in 0..93 {
            assert_eq!(log.note(at(5_000 + ms), Refusal::ServerFull), (None, false));
        }
        assert_eq!(log.tick(at(9_999)), None, "not yet");
        let summary = log.tick(at(10_000)).expect("a summary at the end of the interval");
        assert_eq!(
            summary.to_string(),
            "refused 4,193 in the last 10 s: 4,100 connections over the per-IP cap, 93 connections over --max-clients"
        );
        assert_eq!(log.tick(at(10_001)), None, "once per interval");
        assert_eq!(log.deadline(), Some(at(20_000)));

        // Still refusing: a summary is due with the first refusal past the
        // interval, even if nothing ticked.
        assert_eq!(log.note(at(15_000), Refusal::AcceptFailed), (None, false));
        let (summary, first) = log.note(at(21_000), Refusal::PasswordBusy);
        assert!(!first);
        assert_eq!(summary.unwrap().to_string(), "refused 1 in the last 11 s: 1 failed accepts");
        // The one at 21 s is counted in the next interval.
        assert_eq!(log.tick(at(31_000)).unwrap().to_string(), "refused 1 in the last 10 s: 1 password checks (busy)");

        // An interval without refusals ends the spell; the next refusal is logged in full.
        assert_eq!(log.tick(at(41_000)), None);
        assert_eq!(log.deadline(), None);
        assert_eq!(log.note(at(50_000), Refusal::ServerFull), (None, true));
    }

    #[test]
    fn counts_are_written_with_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(4_193), "4,193");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
