//! Bounded counters per source: failed logins (which lock a source out of
//! one account for a while) and registrations (capped per window).
//!
//! Counting per account *and* source means an attacker elsewhere cannot
//! lock the real owner out. Sources are [`SourceKey`]s: IPv6 counted per
//! /64.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::names::NameKey;
use crate::source::SourceKey;

#[derive(Debug, Clone, Copy)]
struct Window {
    count: u32,
    ends: Instant,
    locked_until: Option<Instant>,
}

/// Counts per key within a window, holding at most `cap` keys. When full,
/// a stale entry makes room first, then the one with the fewest events;
/// an entry locked out is never dropped, so an attacker cannot erase its
/// own record by making cheap entries elsewhere.
#[derive(Debug)]
pub(crate) struct Counter<K> {
    entries: BTreeMap<K, Window>,
}

impl<K: Ord + Clone> Default for Counter<K> {
    fn default() -> Self {
        Self { entries: BTreeMap::new() }
    }
}

impl<K: Ord + Clone> Counter<K> {
    /// If `key` is locked out at `now`, until when.
    pub(crate) fn locked_until(&self, key: &K, now: Instant) -> Option<Instant> {
        self.entries.get(key).and_then(|w| w.locked_until).filter(|&until| until > now)
    }

    /// Counts one event. When the count within `window` reaches `max`, the key
    /// is locked for `lock` and the count starts over. Returns the lock's end
    /// if this event caused one, else the events still allowed.
    pub(crate) fn record(
        &mut self,
        key: &K,
        now: Instant,
        cap: usize,
        max: u32,
        window: Duration,
        lock: Duration,
    ) -> Result<u32, Instant> {
        let Some(entry) = self.entry(key, now, cap, window) else {
            // Every entry is locked out: this key goes uncounted (the
            // per-account count still bounds guessing).
            return Ok(max.saturating_sub(1));
        };
        entry.count += 1;
        if entry.count >= max {
            let until = now + lock;
            entry.count = 0;
            entry.locked_until = Some(until);
            entry.ends = now + window;
            return Err(until);
        }
        Ok(max - entry.count)
    }

    /// Takes one of `max` events per `window`, or says when the window ends.
    pub(crate) fn take(
        &mut self,
        key: &K,
        now: Instant,
        cap: usize,
        max: u32,
        window: Duration,
    ) -> Result<(), Instant> {
        let Some(entry) = self.entry(key, now, cap, window) else {
            return Err(now + window);
        };
        if entry.count >= max {
            return Err(entry.ends);
        }
        entry.count += 1;
        Ok(())
    }

    /// The count of `key`'s window running at `now`, and when it ends.
    pub(crate) fn window(&self, key: &K, now: Instant) -> Option<(u32, Instant)> {
        self.entries.get(key).filter(|w| w.ends > now).map(|w| (w.count, w.ends))
    }

    /// Gives back one event taken for `key` (work that was refused, not done).
    pub(crate) fn give_back(&mut self, key: &K) {
        if let Some(entry) = self.entries.get_mut(key) {
            entry.count = entry.count.saturating_sub(1);
        }
    }

    pub(crate) fn forget(&mut self, key: &K) {
        self.entries.remove(key);
    }

    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The live window for `key`, started afresh if the old one ended;
    /// `None` if the table is full of locked entries.
    fn entry(&mut self, key: &K, now: Instant, cap: usize, window: Duration) -> Option<&mut Window> {
        if !self.entries.contains_key(key) && self.entries.len() >= cap.max(1) && !self.evict_one(now) {
            return None;
        }
        let entry =
            self.entries.entry(key.clone()).or_insert(Window { count: 0, ends: now + window, locked_until: None });
        if entry.ends <= now {
            entry.count = 0;
            entry.ends = now + window;
        }
        Some(entry)
    }

    /// Drops the entry that matters least: one whose window has ended, else
    /// the one with the fewest events (the oldest of those); never one
    /// locked at `now`. `false` if every entry is locked.
    fn evict_one(&mut self, now: Instant) -> bool {
        let victim = self
            .entries
            .iter()
            .filter(|(_, w)| w.locked_until.is_none_or(|until| until <= now))
            .min_by_key(|(_, w)| (w.ends > now, w.count, w.ends))
            .map(|(k, _)| k.clone());
        victim.is_some_and(|key| self.entries.remove(&key).is_some())
    }
}

/// Failed logins are counted per account and source.
pub(crate) type LoginFailures = Counter<(NameKey, SourceKey)>;
/// Registrations are counted per source.
pub(crate) type Registrations = Counter<SourceKey>;
/// Failed logins are also counted per account, from every source.
pub(crate) type AccountFailures = Counter<NameKey>;
/// Room creations are counted per source and per account.
pub(crate) type RoomCreations = Counter<Creator>;

/// Who created a room, for the creation limit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Creator {
    Source(SourceKey),
    Account(NameKey),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn three_failures_lock_then_lock_expires() {
        let t0 = Instant::now();
        let mut c = Counter::<u8>::default();
        assert_eq!(c.record(&1, t0, 10, 3, 5 * MIN, MIN), Ok(2));
        assert_eq!(c.record(&1, t0, 10, 3, 5 * MIN, MIN), Ok(1));
        assert_eq!(c.record(&1, t0, 10, 3, 5 * MIN, MIN), Err(t0 + MIN));
        assert_eq!(c.locked_until(&1, t0 + MIN / 2), Some(t0 + MIN));
        assert_eq!(c.locked_until(&1, t0 + MIN), None);
        assert_eq!(c.locked_until(&2, t0), None, "another key is not locked");
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let t0 = Instant::now();
        let mut c = Counter::<u8>::default();
        c.record(&1, t0, 10, 3, MIN, MIN).unwrap();
        c.record(&1, t0, 10, 3, MIN, MIN).unwrap();
        assert_eq!(c.record(&1, t0 + MIN, 10, 3, MIN, MIN), Ok(2));
    }

    #[test]
    fn take_caps_per_window() {
        let t0 = Instant::now();
        let mut c = Counter::<u8>::default();
        assert!(c.take(&1, t0, 10, 2, MIN).is_ok());
        assert!(c.take(&1, t0, 10, 2, MIN).is_ok());
        assert_eq!(c.take(&1, t0, 10, 2, MIN), Err(t0 + MIN));
        assert!(c.take(&1, t0 + MIN, 10, 2, MIN).is_ok());
    }

    #[test]
    fn table_is_bounded() {
        let t0 = Instant::now();
        let mut c = Counter::<u32>::default();
        for k in 0..100 {
            let _ = c.take(&k, t0 + Duration::from_secs(u64::from(k)), 8, 1, MIN);
            assert!(c.len() <= 8);
        }
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_v4_as_v4() {
        let a: Ipv6Addr = "2001:db8:1:2::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: Ipv6Addr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(SourceKey::of(a.into()), SourceKey::of(b.into()));
        assert_ne!(SourceKey::of(a.into()), SourceKey::of(c.into()));
        let v4 = Ipv4Addr::new(192, 0, 2, 1);
        assert_eq!(SourceKey::of(v4.to_ipv6_mapped().into()), SourceKey::of(v4.into()));
    }
}
