//! The engine's deadlines, rounded up onto a grid, so that a million
//! clients' idle timers cost a handful of wakeups a second rather than one
//! each: the engine keeps one deadline per client, spread over time, and
//! waking for each would keep a core busy on an idle server. Every
//! deadline the engine has (registration, the idle warning and cut, room
//! expiry) is measured in seconds, so firing up to one grain late changes
//! nothing anyone sees; one wakeup then handles everything due by then.

use std::time::{Duration, Instant};

/// The grid's spacing: at most ten engine wakeups a second.
pub(super) const GRAIN: Duration = Duration::from_millis(100);

/// A grid of instants `GRAIN` apart from a fixed origin.
#[derive(Debug, Clone, Copy)]
pub(super) struct Grid {
    origin: Instant,
}

impl Grid {
    pub(super) fn new(origin: Instant) -> Self {
        Self { origin }
    }

    /// The first grid instant at or after `at` (`at` itself before the origin).
    pub(super) fn round_up(&self, at: Instant) -> Instant {
        let Some(since) = at.checked_duration_since(self.origin) else {
            return at;
        };
        let grain = GRAIN.as_nanos();
        let steps = since.as_nanos().div_ceil(grain);
        // Past u64 nanoseconds (584 years) there is no grid worth keeping.
        match u64::try_from(steps * grain) {
            Ok(nanos) => self.origin + Duration::from_nanos(nanos),
            Err(_) => at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_to_the_next_grid_instant_and_never_earlier() {
        let origin = Instant::now();
        let grid = Grid::new(origin);
        assert_eq!(grid.round_up(origin), origin);
        assert_eq!(grid.round_up(origin + Duration::from_millis(1)), origin + GRAIN);
        assert_eq!(grid.round_up(origin + GRAIN), origin + GRAIN);
        assert_eq!(grid.round_up(origin + Duration::from_millis(250)), origin + Duration::from_millis(300));
        for ms in [0, 1, 99, 100, 101, 12_345, 86_400_000] {
            let at = origin + Duration::from_millis(ms);
            let rounded = grid.round_up(at);
            assert!(rounded >= at && rounded - at < GRAIN, "{ms} ms -> {:?}", rounded - origin);
        }
    }

    #[test]
    fn deadlines_spread_over_a_second_share_at_most_ten_instants() {
        let origin = Instant::now();
        let grid = Grid::new(origin);
        let instants: std::collections::BTreeSet<Instant> =
            (0..1_000_000u64).map(|i| grid.round_up(origin + Duration::from_micros(i))).collect();
        assert_eq!(instants.len(), 11, "0, then 100 ms, 200 ms, ... 1 s");
    }
}
