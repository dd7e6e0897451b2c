//! The open-file limit, the real ceiling on connections: each client is
//! one file descriptor (a TLS client three, see `tls.rs`), and the usual
//! soft limit (1,024) is far below what the server is meant to hold.
//!
//! At start chatd raises its soft limit to the hard limit, the ceiling the
//! administrator chose, and logs how many connections that leaves room
//! for, warning when `--max-clients` asks for more. When the descriptors
//! do run out anyway, [`Spare`] keeps one in reserve so that a connection
//! the kernel has already completed is told why it is refused instead of
//! waiting in the backlog for an answer that never comes, and a health
//! check or a scrape is still answered.

use std::fs::File;
use std::sync::{Arc, Mutex, PoisonError};

/// Descriptors kept free for what is not a client: the database and its
/// write-ahead log, a backup, HTTP scrapes, TLS handshakes in progress.
pub(crate) const RESERVED: u64 = 32;

/// The limit once raised, and the descriptors already open at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpenFiles {
    /// The soft limit in force; `None`: unlimited or unknown.
    pub(crate) limit: Option<u64>,
    /// Descriptors open when it was read (listeners, the database, the
    /// reactor, standard streams).
    pub(crate) in_use: u64,
}

impl OpenFiles {
    /// Plain connections the limit leaves room for, once [`RESERVED`] and
    /// what is already open are set aside; `None`: no limit applies.
    pub(crate) fn connections_allowed(&self) -> Option<u64> {
        self.limit.map(|limit| limit.saturating_sub(self.in_use).saturating_sub(RESERVED))
    }
}

/// Raises the soft open-file limit to the hard limit, logging a failure.
pub(crate) fn raise() {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let mut limit = getrlimit(Resource::Nofile);
        if let (Some(current), Some(maximum)) = (limit.current, limit.maximum) {
            if current >= maximum {
                return;
            }
            limit.current = Some(maximum);
            if let Err(error) = setrlimit(Resource::Nofile, limit) {
                tracing::warn!(%error, "could not raise the open-file limit");
            }
        }
    }
}

/// The limit in force and the descriptors open now.
pub(crate) fn read() -> OpenFiles {
    #[cfg(unix)]
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    #[cfg(not(unix))]
    let limit = None;
    // Where the count cannot be read, a generous guess at what start-up opens.
    let in_use = std::fs::read_dir("/proc/self/fd").map_or(64, |dir| dir.count() as u64);
    OpenFiles { limit, in_use }
}

/// Logs how many connections the limit allows, and warns when
/// `max_clients` asks for more than that.
pub(crate) fn report(files: OpenFiles, max_clients: usize) {
    let Some(allowed) = files.connections_allowed() else {
        tracing::info!(max_clients, "no open-file limit applies");
        return;
    };
    let limit = files.limit.unwrap_or(u64::MAX);
    tracing::info!(
        open_file_limit = limit,
        open_now = files.in_use,
        connections = allowed,
        "the open-file limit allows about {allowed} connections (a TLS connection counts as 3)"
    );
    if max_clients as u64 > allowed {
        tracing::warn!(
            max_clients,
            connections = allowed,
            "--max-clients is more than the open-file limit allows: connections past about {allowed} are \
             refused; raise the hard limit (prlimit, ulimit -Hn, LimitNOFILE=; see OPERATIONS.md, Many connections)"
        );
    }
}

/// The cap on connections that are not clients yet (`newcomers`): `asked`,
/// or half of what the limit leaves for connections if that is less, so
/// that a wave of them always leaves clients room. Logged when lowered.
pub(crate) fn newcomers_allowed(files: OpenFiles, asked: usize) -> usize {
    let Some(allowed) = files.connections_allowed() else { return asked };
    let half = usize::try_from(allowed / 2).unwrap_or(usize::MAX).max(1);
    if asked > half {
        tracing::info!(
            max_pending_connections = half,
            asked,
            "--max-pending-connections lowered to half of the connections the open-file limit allows"
        );
    }
    asked.min(half)
}

/// One descriptor held in reserve for answering a connection when the
/// process has no other left.
#[derive(Debug)]
pub(crate) struct Spare {
    file: Mutex<Option<File>>,
}

/// The reserve descriptor, given up while this lives: room for one
/// connection. Taken back when dropped.
#[derive(Debug)]
pub(crate) struct Loan(Arc<Spare>);

impl Spare {
    /// Opens the reserve descriptor (the null device).
    pub(crate) fn open() -> Arc<Self> {
        Arc::new(Spare { file: Mutex::new(null_device()) })
    }

    /// Gives the reserve descriptor up until the loan is dropped; `None`
    /// when it is lent already (or could not be taken back last time).
    pub(crate) fn lend(self: &Arc<Self>) -> Option<Loan> {
        self.file.lock().unwrap_or_else(PoisonError::into_inner).take()?;
        Some(Loan(self.clone()))
    }
}

impl Drop for Loan {
    fn drop(&mut self) {
        let mut held = self.0.file.lock().unwrap_or_else(PoisonError::into_inner);
        if held.is_none() {
            *held = null_device();
        }
    }
}

fn null_device() -> Option<File> {
    File::open(if cfg!(windows) { "NUL" } else { "/dev/null" }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_allowed_sets_aside_what_is_open_and_the_reserve() {
        let files = OpenFiles { limit: Some(20_000), in_use: 18 };
        assert_eq!(files.connections_allowed(), Some(20_000 - 18 - RESERVED));
        let tight = OpenFiles { limit: Some(40), in_use: 18 };
        assert_eq!(tight.connections_allowed(), Some(0));
        assert_eq!(OpenFiles { limit: None, in_use: 18 }.connections_allowed(), None);
    }

    #[test]
    fn newcomers_get_at_most_half_of_the_room_for_connections() {
        let files = OpenFiles { limit: Some(20_000), in_use: 18 };
        assert_eq!(newcomers_allowed(files, 1024), 1024);
        let tight = OpenFiles { limit: Some(1024), in_use: 18 };
        assert_eq!(newcomers_allowed(tight, 1024), (1024 - 18 - RESERVED as usize) / 2);
        assert_eq!(newcomers_allowed(OpenFiles { limit: Some(10), in_use: 18 }, 1024), 1);
        assert_eq!(newcomers_allowed(OpenFiles { limit: None, in_use: 18 }, 5), 5);
    }

    #[test]
    fn the_spare_is_lent_once_at_a_time_and_taken_back() {
        let spare = Spare::open();
        let loan = spare.lend().expect("the spare is there");
        assert!(spare.lend().is_none(), "lent already");
        drop(loan);
        assert!(spare.lend().is_some(), "taken back: it can be lent again");
    }

    #[test]
    fn reading_counts_this_process_descriptors() {
        let files = read();
        assert!(files.in_use >= 3, "stdin, stdout and stderr at least: {files:?}");
    }
}
