//! Bounded counters per source: failed logins (which lock a source out of
//! one account for a while) and registrations (capped per window).
//!
//! Counting per account *and* source means an attacker elsewhere cannot
//! lock the real owner out. Sources are [`SourceKey`]s: IPv6 counted per
//! /64.

use std::collections::{BTreeMap, BTreeSet};
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
/// an entry whose lock has run out makes room first, else the unlocked
/// entry whose window ends first (a stale one, if any); an entry locked out
/// is never dropped, so an attacker cannot erase its own record by making
/// cheap entries elsewhere. Both orders are kept as indexes, so making
/// room costs a lookup, not a walk of the table, however large `cap` is.
#[derive(Debug)]
pub(crate) struct Counter<K> {
    entries: BTreeMap<K, Window>,
    /// Entries not locked, by when their window ends.
    unlocked: BTreeSet<(Instant, K)>,
    /// Locked entries, by when the lock ends (an entry stays here after its
    /// lock ran out, until it is dropped or locked again).
    locked: BTreeSet<(Instant, K)>,
}

impl<K: Ord + Clone> Default for Counter<K> {
    fn default() -> Self {
        Self { entries: BTreeMap::new(), unlocked: BTreeSet::new(), locked: BTreeSet::new() }
    }
}

impl Window {
    /// Where the entry sits in the indexes: which one, and by what time.
    fn slot(&self) -> (bool, Instant) {
        match self.locked_until {
            Some(until) => (true, until),
            None => (false, self.ends),
        }
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
        let counted = self.update(key, now, cap, window, |entry| {
            entry.count += 1;
            if entry.count >= max {
                let until = now + lock;
                entry.count = 0;
                entry.locked_until = Some(until);
                entry.ends = now + window;
                return Err(until);
            }
            Ok(max - entry.count)
        });
        // `None`: every entry is locked out, so this key goes uncounted
        // (the per-account count still bounds guessing).
        counted.unwrap_or(Ok(max.saturating_sub(1)))
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
        let taken = self.update(key, now, cap, window, |entry| {
            if entry.count >= max {
                return Err(entry.ends);
            }
            entry.count += 1;
            Ok(())
        });
        taken.unwrap_or(Err(now + window))
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
        if let Some(window) = self.entries.remove(key) {
            self.unindex(key, &window);
        }
    }

    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Applies `change` to the live window for `key` (started afresh if the
    /// old one ended, made room for if the table is full) and keeps the
    /// indexes in step; `None` if the table is full of locked entries.
    fn update<R>(
        &mut self,
        key: &K,
        now: Instant,
        cap: usize,
        window: Duration,
        change: impl FnOnce(&mut Window) -> R,
    ) -> Option<R> {
        let old = self.entries.get(key).copied();
        if old.is_none() && self.entries.len() >= cap.max(1) && !self.evict_one(now) {
            return None;
        }
        let mut entry = old.unwrap_or(Window { count: 0, ends: now + window, locked_until: None });
        if entry.ends <= now {
            entry.count = 0;
            entry.ends = now + window;
        }
        let result = change(&mut entry);
        // Most events only count: the entry stays where it is indexed.
        if old.map(|old| old.slot()) != Some(entry.slot()) {
            if let Some(old) = old {
                self.unindex(key, &old);
            }
            self.index(key, &entry);
        }
        self.entries.insert(key.clone(), entry);
        Some(result)
    }

    fn index(&mut self, key: &K, window: &Window) {
        match window.slot() {
            (true, at) => self.locked.insert((at, key.clone())),
            (false, at) => self.unlocked.insert((at, key.clone())),
        };
    }

    fn unindex(&mut self, key: &K, window: &Window) {
        match window.slot() {
            (true, at) => self.locked.remove(&(at, key.clone())),
            (false, at) => self.unlocked.remove(&(at, key.clone())),
        };
    }

    /// Drops the entry that matters least: one whose lock has run out, else
    /// the unlocked one whose window ends first; never one locked at `now`.
    /// `false` if every entry is locked.
    fn evict_one(&mut self, now: Instant) -> bool {
        let victim = match self.locked.first() {
            Some((until, key)) if *until <= now => Some(key.clone()),
            _ => self.unlocked.first().map(|(_, key)| key.clone()),
        };
        victim.is_some_and(|key| {
            self.forget(&key);
            true
        })
    }

    /// Every entry is in exactly one index, at its own time (for tests).
    #[cfg(test)]
    fn indexes_agree(&self) -> bool {
        self.unlocked.len() + self.locked.len() == self.entries.len()
            && self.entries.iter().all(|(key, window)| match window.slot() {
                (true, at) => self.locked.contains(&(at, key.clone())),
                (false, at) => self.unlocked.contains(&(at, key.clone())),
            })
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
            assert!(c.indexes_agree());
        }
    }

    #[test]
    fn a_full_table_drops_the_window_that_ends_first_and_never_a_live_lock() {
        let t0 = Instant::now();
        let sec = Duration::from_secs(1);
        let mut c = Counter::<u32>::default();
        // Key 1 is locked for ten minutes; keys 2 and 3 have windows ending at 62 s and 63 s.
        c.record(&1, t0, 3, 1, MIN, 10 * MIN).unwrap_err();
        c.take(&2, t0 + 2 * sec, 3, 5, MIN).unwrap();
        c.take(&3, t0 + 3 * sec, 3, 5, MIN).unwrap();
        c.take(&4, t0 + 4 * sec, 3, 5, MIN).unwrap();
        assert_eq!(c.window(&2, t0 + 4 * sec), None, "2's window ended first: it made room");
        assert!(c.window(&3, t0 + 4 * sec).is_some());
        assert_eq!(c.locked_until(&1, t0 + 4 * sec), Some(t0 + 10 * MIN), "a live lock stays");
        // Once the lock has run out, it is what makes room.
        c.take(&5, t0 + 11 * MIN, 3, 5, MIN).unwrap();
        assert_eq!(c.locked_until(&1, t0 + 11 * MIN), None);
        assert_eq!(c.len(), 3);
        assert!(c.indexes_agree());
    }

    #[test]
    fn a_table_full_of_locks_counts_nothing_new() {
        let t0 = Instant::now();
        let mut c = Counter::<u32>::default();
        c.record(&1, t0, 2, 1, MIN, MIN).unwrap_err();
        c.record(&2, t0, 2, 1, MIN, MIN).unwrap_err();
        assert_eq!(c.take(&3, t0, 2, 5, MIN), Err(t0 + MIN));
        assert_eq!(c.record(&3, t0, 2, 3, MIN, MIN), Ok(2), "uncounted");
        assert_eq!((c.len(), c.indexes_agree()), (2, true));
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
