//! The engine's notion of time: always handed in, never read.

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The time at which an input happens, supplied by the embedder.
///
/// `instant` is monotonic and drives every timeout; `unix_ms` is wall-clock
/// time, used only for timestamps shown to users (history, whispers). The
/// engine never reads a clock itself, so a test can drive it with simulated
/// time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Monotonic time; deadlines from [`Engine::poll_timeout`](crate::Engine::poll_timeout) are in this clock.
    pub instant: Instant,
    /// Wall-clock time in milliseconds since the Unix epoch.
    pub unix_ms: u64,
}

impl Now {
    /// A `Now` from both clocks.
    pub fn new(instant: Instant, unix_ms: u64) -> Self {
        Self { instant, unix_ms }
    }

    /// Reads the system clocks. For embedders; the engine never calls it.
    pub fn system() -> Self {
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self::new(Instant::now(), unix_ms)
    }

    /// The same moment advanced by `by` on both clocks (for simulated time).
    pub fn advance(self, by: Duration) -> Self {
        let by_ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        Self::new(self.instant + by, self.unix_ms.saturating_add(by_ms))
    }
}

/// Shows a wall-clock time as `HH:MM:SS` in UTC, for the text protocol.
pub(crate) struct ClockUtc(pub(crate) u64);

impl fmt::Display for ClockUtc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs_of_day = (self.0 / 1000) % 86_400;
        let (h, m, s) = (secs_of_day / 3600, (secs_of_day / 60) % 60, secs_of_day % 60);
        write!(f, "{h:02}:{m:02}:{s:02}")
    }
}

/// Shows a wall-clock time as `HH:MM` in UTC: when something began, in a
/// line that only needs the minute (the first unread message).
pub(crate) struct HourMinuteUtc(pub(crate) u64);

impl fmt::Display for HourMinuteUtc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let minutes_of_day = (self.0 / 60_000) % 1440;
        write!(f, "{:02}:{:02}", minutes_of_day / 60, minutes_of_day % 60)
    }
}

/// Shows a wall-clock time as `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) struct DateTimeUtc(pub(crate) u64);

impl fmt::Display for DateTimeUtc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = civil_from_days(self.0 / 86_400_000);
        write!(f, "{year:04}-{month:02}-{day:02} {} UTC", ClockUtc(self.0))
    }
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, restricted to days on or after the epoch).
pub(crate) fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`], for dates from 1970-01-01.
pub(crate) fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y % 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Whole seconds from `now` until `until`, rounded up so that "try again in
/// N s" is never too early.
pub(crate) fn secs_until(now: Instant, until: Instant) -> u64 {
    let left = until.saturating_duration_since(now);
    left.as_secs() + u64::from(left.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_formats_utc_time_of_day() {
        // 2024-01-02T03:04:05.678Z
        assert_eq!(ClockUtc(1_704_164_645_678).to_string(), "03:04:05");
        assert_eq!(ClockUtc(0).to_string(), "00:00:00");
        assert_eq!(ClockUtc(86_399_999).to_string(), "23:59:59");
        assert_eq!(HourMinuteUtc(1_704_164_645_678).to_string(), "03:04");
        assert_eq!(HourMinuteUtc(86_399_999).to_string(), "23:59");
    }

    #[test]
    fn dates_are_gregorian_utc() {
        assert_eq!(DateTimeUtc(0).to_string(), "1970-01-01 00:00:00 UTC");
        assert_eq!(DateTimeUtc(1_704_164_645_678).to_string(), "2024-01-02 03:04:05 UTC");
        // A leap day and the turn of a century that is a leap year.
        assert_eq!(DateTimeUtc(951_782_400_000).to_string(), "2000-02-29 00:00:00 UTC");
        assert_eq!(DateTimeUtc(4_107_542_399_000).to_string(), "2100-02-28 23:59:59 UTC");
    }

    #[test]
    fn advance_moves_both_clocks() {
        let start = Now::new(Instant::now(), 1_000);
        let later = start.advance(Duration::from_millis(2_500));
        assert_eq!(later.unix_ms, 3_500);
        assert_eq!(later.instant - start.instant, Duration::from_millis(2_500));
    }
}
