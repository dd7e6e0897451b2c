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
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
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
    held: Mutex<Option<Reserve>>,
}

/// What holds the reserve's place in the descriptor table: at first the
/// null device, later the number of the last connection answered from it.
type Reserve = Box<dyn std::fmt::Debug + Send>;

/// The reserve descriptor, given up while this lives: room for one
/// connection, to be answered and handed back with [`Loan::repay`].
#[derive(Debug)]
pub(crate) struct Loan(Arc<Spare>);

impl Spare {
    /// Opens the reserve descriptor (the null device).
    pub(crate) fn open() -> Arc<Self> {
        Arc::new(Spare { held: Mutex::new(null_device()) })
    }

    /// Accepts a connection waiting on `listener`. Every port accepts
    /// under the lock that lending takes, so none can take the number the
    /// reserve has just given up for another port's connection. A reserve
    /// that could not be taken back is opened again once one is free.
    pub(crate) fn accept(&self, listener: &TcpListener) -> io::Result<(TcpStream, SocketAddr)> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let accepted = listener.accept()?;
        if held.is_none() {
            *held = null_device();
        }
        Ok(accepted)
    }

    /// Gives the reserve descriptor up to accept the connection waiting on
    /// `listener`, until the loan is repaid; `None` when it is lent
    /// already, or when no connection was there after all.
    pub(crate) fn lend_to(self: &Arc<Self>, listener: &TcpListener) -> Option<(Loan, TcpStream)> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.take()?;
        match listener.accept() {
            Ok((stream, _)) => Some((Loan(self.clone()), stream)),
            Err(_) => {
                *held = null_device();
                None
            }
        }
    }
}

impl Loan {
    /// Closes the connection the loan let in and takes its descriptor
    /// number back as the reserve in the same step. Closing first and
    /// reopening after would leave a moment in which another port's
    /// accept takes the freed number, and the reserve would be lost for
    /// good.
    #[cfg(unix)]
    pub(crate) fn repay(self, connection: TcpStream) {
        let mut number = std::os::fd::OwnedFd::from(connection);
        // dup2 closes the socket and makes the number a copy of standard
        // error at once; any open file would do to hold the place.
        let held: Option<Reserve> = match rustix::io::dup2(std::io::stderr(), &mut number) {
            Ok(()) => Some(Box::new(number)),
            Err(_) => {
                drop(number);
                null_device()
            }
        };
        self.restore(held);
    }

    /// Closes the connection and reopens the null device as the reserve.
    #[cfg(not(unix))]
    pub(crate) fn repay(self, connection: TcpStream) {
        drop(connection);
        self.restore(null_device());
    }

    fn restore(&self, reserve: Option<Reserve>) {
        let mut held = self.0.held.lock().unwrap_or_else(PoisonError::into_inner);
        if held.is_none() {
            *held = reserve;
        }
    }
}

impl Drop for Loan {
    /// A loan not repaid (its connection failed before it could be
    /// answered) is taken back by reopening the null device, if it can be.
    fn drop(&mut self) {
        let mut held = self.0.held.lock().unwrap_or_else(PoisonError::into_inner);
        if held.is_none() {
            *held = null_device();
        }
    }
}

/// Whether a completed connection waits on `listener`. Linux takes the new
/// descriptor before it looks for a connection, so `accept` fails for want
/// of one with no one waiting too; the reserve is lent only for someone.
#[cfg(unix)]
pub(crate) fn connection_waiting(listener: &TcpListener) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let mut fds = [PollFd::new(listener, PollFlags::IN)];
    let now = Timespec { tv_sec: 0, tv_nsec: 0 };
    // An error says nothing either way; lending then is what chatd did before.
    poll(&mut fds, Some(&now)).map_or(true, |ready| ready > 0)
}

/// Whether a completed connection waits on `listener` (assumed so).
#[cfg(not(unix))]
pub(crate) fn connection_waiting(_listener: &TcpListener) -> bool {
    true
}

fn null_device() -> Option<Reserve> {
    let file = File::open(if cfg!(windows) { "NUL" } else { "/dev/null" }).ok()?;
    Some(Box::new(file))
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

    /// A listener with `n` connections waiting, and their client ends.
    fn waiting(n: usize) -> (TcpListener, Vec<TcpStream>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        let clients = (0..n).map(|_| TcpStream::connect(address).expect("connect")).collect();
        (listener, clients)
    }

    #[test]
    fn the_spare_is_lent_once_at_a_time_and_taken_back() {
        let (listener, _clients) = waiting(3);
        let spare = Spare::open();
        let (loan, _first) = spare.lend_to(&listener).expect("the spare is there");
        assert!(spare.lend_to(&listener).is_none(), "lent already");
        drop(loan);
        assert!(spare.lend_to(&listener).is_some(), "taken back: it can be lent again");
    }

    #[test]
    fn a_repaid_loan_closes_its_connection_and_is_lent_again() {
        use std::io::Read;
        let (listener, mut clients) = waiting(2);
        let spare = Spare::open();
        let (loan, accepted) = spare.lend_to(&listener).expect("the spare is there");
        loan.repay(accepted);
        let mut rest = Vec::new();
        assert_eq!(clients[0].read_to_end(&mut rest).expect("the connection is closed"), 0);
        assert!(spare.lend_to(&listener).is_some(), "the connection's number is the reserve now");
    }

    #[test]
    fn with_no_one_waiting_the_reserve_stays_and_none_is_said_to_wait() {
        let (listener, _) = waiting(0);
        listener.set_nonblocking(true).expect("non-blocking");
        assert!(!connection_waiting(&listener));
        let spare = Spare::open();
        assert!(spare.lend_to(&listener).is_none(), "no one to lend it to");
        let _client = TcpStream::connect(listener.local_addr().expect("address")).expect("connect");
        assert!(connection_waiting(&listener));
        assert!(spare.lend_to(&listener).is_some(), "the reserve was taken back at once");
    }

    #[test]
    fn reading_counts_this_process_descriptors() {
        let files = read();
        assert!(files.in_use >= 3, "stdin, stdout and stderr at least: {files:?}");
    }
}
