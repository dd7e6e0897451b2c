//! What the bus's handle, worker thread and reader thread share.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::report::{BusCounts, Report};
use super::{BusConfig, Keys};

/// Where a followed room is read from.
#[derive(Debug, Clone)]
pub(super) struct Follow {
    /// The last seq seen (or given to `Bus::follow`).
    pub(super) after: u64,
    /// The last entry id read: where the next `XREAD` starts.
    pub(super) cursor: String,
    /// Changes at each `Bus::follow`, so the reader never moves a
    /// position that was set after its read began.
    pub(super) generation: u64,
}

/// What the handle, the worker and the reader share.
pub(super) struct Shared {
    pub(super) config: BusConfig,
    pub(super) keys: Keys,
    pub(super) follows: Mutex<HashMap<String, Follow>>,
    pub(super) stopping: AtomicBool,
    /// Bumped at each new epoch: the reader checks its positions.
    pub(super) epochs: AtomicU64,
    pub(super) counts: Counts,
    report: Box<dyn Fn(Report) + Send + Sync>,
}

impl Shared {
    pub(super) fn new(config: BusConfig, report: impl Fn(Report) + Send + Sync + 'static) -> Self {
        Self {
            keys: Keys::new(config.prefix.clone()),
            config,
            follows: Mutex::new(HashMap::new()),
            stopping: AtomicBool::new(false),
            epochs: AtomicU64::new(0),
            counts: Counts::default(),
            report: Box::new(report),
        }
    }

    pub(super) fn report(&self, report: Report) {
        (self.report)(report);
    }

    pub(super) fn follows(&self) -> MutexGuard<'_, HashMap<String, Follow>> {
        self.follows.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
pub(super) struct Counts {
    pub(super) published: AtomicU64,
    pub(super) refused: AtomicU64,
    pub(super) dropped: AtomicU64,
    pub(super) entries_read: AtomicU64,
    pub(super) trimmed: AtomicU64,
    pub(super) connected: AtomicBool,
}

impl Counts {
    pub(super) fn snapshot(&self) -> BusCounts {
        BusCounts {
            published: self.published.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            entries_read: self.entries_read.load(Ordering::Relaxed),
            trimmed: self.trimmed.load(Ordering::Relaxed),
            connected: self.connected.load(Ordering::Relaxed),
        }
    }
}
