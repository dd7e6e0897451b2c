//! The last messages of a room, replayed to members who join.

use std::collections::VecDeque;

/// One remembered room message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) from: Box<str>,
    pub(crate) text: Box<str>,
    pub(crate) unix_ms: u64,
}

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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u64) -> Entry {
        Entry { from: "a".into(), text: n.to_string().into(), unix_ms: n }
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
    fn zero_cap_keeps_nothing() {
        let mut h = History::default();
        h.push(0, entry(1));
        assert_eq!(h.len(), 0);
    }
}
