//! The last messages of a room, replayed to members who join.

use std::collections::VecDeque;

use crate::record::{MessageKind, StoredMessage as Entry};

/// A ring of at most `cap` entries; the oldest falls out first.
#[derive(Debug, Default)]
pub(crate) struct History {
    entries: VecDeque<Entry>,
}

impl History {
    pub(crate) fn push(&mut self, cap: usize, entry: Entry) {
        if cap == 0 {
            return;
        }
        while self.entries.len() >= cap {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// Oldest first.
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = &Entry> {
        self.entries.iter()
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The number of the oldest message kept, if any.
    pub(crate) fn oldest_seq(&self) -> Option<u64> {
        self.entries.front().map(|e| e.seq)
    }

    /// The entry numbered `seq`, if still kept.
    pub(crate) fn get(&self, seq: u64) -> Option<&Entry> {
        let at = self.entries.partition_point(|e| e.seq < seq);
        self.entries.get(at).filter(|e| e.seq == seq)
    }

    /// The entry numbered `seq`, if still kept, to change.
    pub(crate) fn get_mut(&mut self, seq: u64) -> Option<&mut Entry> {
        let at = self.entries.partition_point(|e| e.seq < seq);
        self.entries.get_mut(at).filter(|e| e.seq == seq)
    }

    /// The number of the newest message kept that `said_by` (a nickname,
    /// compared without case) said and that is not deleted.
    pub(crate) fn newest_said_by(&self, said_by: &str) -> Option<u64> {
        let said = |e: &&Entry| e.kind == MessageKind::Said && crate::names::NameKey::of(&e.from).as_str() == said_by;
        self.entries.iter().rev().find(said).map(|e| e.seq)
    }

    /// Up to `limit` of the newest messages numbered below `before`, oldest
    /// first.
    pub(crate) fn page_before(&self, before: u64, limit: usize) -> impl Iterator<Item = &Entry> {
        let end = self.entries.partition_point(|e| e.seq < before);
        self.entries.range(end.saturating_sub(limit)..end)
    }

    /// Up to `limit` of the oldest messages numbered above `after`, oldest
    /// first.
    pub(crate) fn page_after(&self, after: u64, limit: usize) -> impl Iterator<Item = &Entry> {
        let start = self.entries.partition_point(|e| e.seq <= after);
        self.entries.range(start..start.saturating_add(limit).min(self.entries.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u64) -> Entry {
        Entry { seq: n, from: "a".into(), text: n.to_string().into(), unix_ms: n, kind: MessageKind::Said }
    }

    #[test]
    fn keeps_the_newest_up_to_cap() {
        let mut h = History::default();
        for n in 0..10 {
            h.push(3, entry(n));
            assert!(h.len() <= 3);
        }
        let kept: Vec<u64> = h.iter().map(|e| e.unix_ms).collect();
        assert_eq!(kept, [7, 8, 9]);
    }

    #[test]
    fn pages_go_backwards_from_a_number() {
        let mut h = History::default();
        for n in 1..=10 {
            h.push(100, entry(n));
        }
        let page: Vec<u64> = h.page_before(8, 3).map(|e| e.seq).collect();
        assert_eq!(page, [5, 6, 7]);
        let first: Vec<u64> = h.page_before(3, 5).map(|e| e.seq).collect();
        assert_eq!(first, [1, 2]);
        assert_eq!(h.page_before(1, 5).count(), 0);
        assert_eq!(h.oldest_seq(), Some(1));
    }

    #[test]
    fn pages_go_forwards_from_a_number() {
        let mut h = History::default();
        for n in 4..=10 {
            h.push(100, entry(n));
        }
        let page: Vec<u64> = h.page_after(5, 3).map(|e| e.seq).collect();
        assert_eq!(page, [6, 7, 8]);
        let last: Vec<u64> = h.page_after(8, 5).map(|e| e.seq).collect();
        assert_eq!(last, [9, 10]);
        // Below the oldest kept, the page starts at the oldest kept.
        let first: Vec<u64> = h.page_after(1, 2).map(|e| e.seq).collect();
        assert_eq!(first, [4, 5]);
        assert_eq!(h.page_after(10, 5).count(), 0);
        assert_eq!(h.page_after(u64::MAX, usize::MAX).count(), 0);
    }

    #[test]
    fn entries_are_found_by_number() {
        let mut h = History::default();
        for n in [2, 3, 5] {
            h.push(100, entry(n));
        }
        assert_eq!(h.get_mut(3).map(|e| e.seq), Some(3));
        assert_eq!(h.get(5).map(|e| e.seq), Some(5));
        assert!(h.get(4).is_none());
        assert!(h.get_mut(4).is_none() && h.get_mut(1).is_none() && h.get_mut(6).is_none());
        assert_eq!(h.newest_said_by("a"), Some(5));
        h.get_mut(5).unwrap().kind = MessageKind::Deleted { by: "a".into(), unix_ms: 9 };
        assert_eq!(h.newest_said_by("a"), Some(3), "a deleted message is not said any more");
        assert_eq!(h.newest_said_by("b"), None);
    }

    #[test]
    fn zero_cap_keeps_nothing() {
        let mut h = History::default();
        h.push(0, entry(1));
        assert_eq!(h.len(), 0);
    }
}
