//! Watching the commits sent to the storage thread, to notice one that
//! hangs: a thread blocked in the kernel reports nothing itself.

use std::collections::VecDeque;
use std::time::{Duration, Instant};
/// The commits sent to the storage thread and not yet answered, to notice
/// one that hangs.
#[derive(Debug)]
pub(crate) struct CommitWatch {
    /// `None`: no commit is ever judged overdue.
    timeout: Option<Duration>,
    /// `(batch, when it was sent)`, oldest first.
    waiting: VecDeque<(u64, Instant)>,
    /// When the storage thread last answered a commit.
    last_answer: Option<Instant>,
}

impl CommitWatch {
    pub(crate) fn new(timeout: Option<Duration>) -> Self {
        Self { timeout, waiting: VecDeque::new(), last_answer: None }
    }

    pub(crate) fn sent(&mut self, batch: u64, at: Instant) {
        self.waiting.push_back((batch, at));
    }

    /// Every batch up to `upto` is durable; `took` hears how long each
    /// of them waited for that.
    pub(crate) fn committed(&mut self, upto: u64, at: Instant, mut took: impl FnMut(Duration)) {
        while let Some(&(batch, sent)) = self.waiting.front()
            && batch <= upto
        {
            took(at.saturating_duration_since(sent));
            self.waiting.pop_front();
        }
        self.last_answer = Some(at);
    }

    /// When the commit under way started, at the latest: the storage
    /// thread takes every waiting batch into its next transaction as soon
    /// as it answers the last one, so the oldest unanswered batch has been
    /// in the works since it was sent or since that answer, whichever is later.
    fn started(&self) -> Option<Instant> {
        let &(_, sent) = self.waiting.front()?;
        Some(self.last_answer.map_or(sent, |answer| answer.max(sent)))
    }

    /// When the commit under way becomes overdue.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        Some(self.started()? + self.timeout?)
    }

    /// How long the commit under way has taken, if that is past the timeout.
    pub(crate) fn overdue(&self, now: Instant) -> Option<Duration> {
        let waited = now.saturating_duration_since(self.started()?);
        (waited >= self.timeout?).then_some(waited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn a_commit_is_overdue_once_it_has_taken_the_timeout() {
        let t0 = Instant::now();
        let mut watch = CommitWatch::new(Some(3 * SEC));
        assert_eq!(watch.deadline(), None, "nothing waits");
        watch.sent(1, t0);
        watch.sent(2, t0 + SEC);
        assert_eq!(watch.deadline(), Some(t0 + 3 * SEC));
        assert_eq!(watch.overdue(t0 + 2 * SEC), None);
        assert_eq!(watch.overdue(t0 + 4 * SEC), Some(4 * SEC));
        // The hung commit returns: batch 2 goes into the next transaction,
        // which starts only now.
        let mut waits = Vec::new();
        watch.committed(1, t0 + 10 * SEC, |took| waits.push(took));
        assert_eq!(waits, [10 * SEC], "batch 1 waited from its sending to the answer");
        assert_eq!(watch.overdue(t0 + 10 * SEC), None);
        assert_eq!(watch.deadline(), Some(t0 + 13 * SEC));
        watch.committed(2, t0 + 11 * SEC, |_| {});
        assert_eq!(watch.deadline(), None);
        assert_eq!(watch.overdue(t0 + 100 * SEC), None);
        // A batch sent long after the last answer is timed from when it was sent.
        watch.sent(3, t0 + 50 * SEC);
        assert_eq!(watch.deadline(), Some(t0 + 53 * SEC));
    }

    #[test]
    fn without_a_timeout_nothing_is_overdue() {
        let t0 = Instant::now();
        let mut watch = CommitWatch::new(None);
        watch.sent(1, t0);
        assert_eq!(watch.deadline(), None);
        assert_eq!(watch.overdue(t0 + 1000 * SEC), None);
    }
}
