//! Connections that are not clients yet: an HTTP request head being read,
//! a WebSocket handshake, a TLS handshake, an IRC client that has not
//! registered. None of them is bounded by `--max-clients` (the engine has
//! not taken them, or has not welcomed them), and `--max-per-ip` bounds
//! them only per address; so from many addresses they could take every
//! file descriptor, and each holds up to a request head's 8 KiB.
//!
//! [`Newcomers`] is one count of them across every port, capped at
//! `--max-pending-connections`. When it is full, the **oldest** is dropped
//! to make room: a slow head from a wave that started earlier goes first,
//! and whoever completes a handshake promptly is never in the way for long.
//! A dropped connection is closed without an answer (it sent nothing
//! worth one yet) and counted in the refusal log.
//!
//! Dropping is a signal: the connection's task frees its socket and its
//! memory when it next runs. So that a wave accepted faster than those
//! tasks run cannot pile up anyway, at most twice the cap may be alive,
//! counted or on their way out; past that, the accept loops wait (and the
//! kernel's backlog holds the rest) until one is gone.
//!
//! When such a wave is over (some were dropped, and the count has fallen
//! back to a few), the memory its connections used is given back to the
//! system ([`memory::give_back`]): the allocator would otherwise keep it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use async_channel::{Receiver, Sender};
use futures_lite::future;
use smol::lock::{Semaphore, SemaphoreGuardArc};

use crate::memory;
use crate::server::refusals::{self, Refusal};

/// The default `--max-pending-connections`: thousands of handshakes at once
/// is far beyond what legitimate clients make (each lasts milliseconds),
/// and at most 8 KiB each it holds 8 MiB.
pub(crate) const DEFAULT_MAX: usize = 1024;

/// Every connection that is not a client yet, oldest first.
#[derive(Debug, Clone)]
pub(crate) struct Newcomers {
    state: Arc<Mutex<State>>,
    /// Twice the cap: held by every newcomer until its task lets go.
    alive: Arc<Semaphore>,
}

#[derive(Debug)]
struct State {
    max: usize,
    /// The number the next newcomer gets: admission order.
    next: u64,
    waiting: BTreeMap<u64, Waiting>,
    /// Whether some were dropped as the oldest since memory was last
    /// given back: a wave is under way.
    in_a_wave: bool,
    /// How many times a wave's end gave memory back.
    waves_ended: u64,
}

/// How a newcomer is dropped when it is the oldest of too many.
#[derive(Debug)]
enum Waiting {
    /// Its task waits on the other end ([`Newcomer::until_dropped`]):
    /// dropping this ends that wait.
    Task(Sender<()>),
    /// An engine client (IRC, not registered): its socket is cut, and the
    /// engine hears of it as of any connection that ends.
    Client(Weak<dyn Cut>),
}

/// A connection that can be cut: what a newcomer that became an engine
/// client is dropped by. The connection's socket is one; this count needs
/// nothing else of it.
pub(crate) trait Cut: Send + Sync {
    /// Cuts the connection both ways, so that its task ends promptly.
    fn cut(&self);
}

/// One connection counted as not a client yet; it stops counting when
/// this is dropped.
#[derive(Debug)]
pub(crate) struct Newcomer {
    number: u64,
    dropped: Receiver<()>,
    state: Arc<Mutex<State>>,
    /// Given back after `Drop` has taken this out of the count.
    _alive: SemaphoreGuardArc,
}

impl Newcomers {
    /// At most `max` at once (at least one).
    pub(crate) fn new(max: usize) -> Self {
        let max = max.max(1);
        let state = State { max, next: 0, waiting: BTreeMap::new(), in_a_wave: false, waves_ended: 0 };
        Self { state: Arc::new(Mutex::new(state)), alive: Arc::new(Semaphore::new(max.saturating_mul(2))) }
    }

    /// Counts a new connection, dropping the oldest if there are too many;
    /// first waits while twice the cap are still alive.
    pub(crate) async fn admit(&self) -> Newcomer {
        let alive = self.alive.acquire_arc().await;
        let (tell, dropped) = async_channel::bounded(1);
        let oldest = {
            let mut state = self.lock();
            let oldest = (state.waiting.len() >= state.max).then(|| state.waiting.pop_first()).flatten();
            state.in_a_wave |= oldest.is_some();
            let number = state.next;
            state.next += 1;
            state.waiting.insert(number, Waiting::Task(tell));
            (oldest, number)
        };
        let (oldest, number) = oldest;
        if let Some((_, oldest)) = oldest {
            if refusals::note(Refusal::NewcomerDropped) {
                let max = self.lock().max;
                tracing::warn!(
                    max_pending_connections = max,
                    "too many connections that are not clients yet (request heads, handshakes, IRC \
                     registrations): dropping the oldest"
                );
            }
            oldest.drop_now();
        }
        Newcomer { number, dropped, state: self.state.clone(), _alive: alive }
    }

    /// How many are counted now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().waiting.len()
    }

    /// How many waves have ended (and given their memory back).
    #[cfg(test)]
    fn waves_ended(&self) -> u64 {
        self.lock().waves_ended
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Waiting {
    fn drop_now(self) {
        match self {
            // Nothing is sent: dropping the sender ends the task's wait.
            Waiting::Task(tell) => drop(tell),
            Waiting::Client(socket) => {
                if let Some(socket) = socket.upgrade() {
                    socket.cut();
                }
            }
        }
    }
}

impl Newcomer {
    /// `work`'s result, or `None` if this connection was dropped first
    /// (then `work` is dropped with whatever socket it holds).
    pub(crate) async fn unless_dropped<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        future::or(async { Some(work.await) }, async {
            // Nothing is ever sent: the wait ends when the sender is dropped.
            let _ = self.dropped.recv().await;
            None
        })
        .await
    }

    /// The connection is now an engine client that has not registered:
    /// dropping it cuts `socket`. It keeps its place in the order.
    pub(crate) fn became_client<S: Cut + 'static>(&self, socket: &Arc<S>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(waiting) = state.waiting.get_mut(&self.number) {
            *waiting = Waiting::Client(Arc::downgrade(socket) as Weak<dyn Cut>);
        }
    }
}

impl Drop for Newcomer {
    fn drop(&mut self) {
        let wave_over = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.waiting.remove(&self.number);
            let over = state.in_a_wave && state.waiting.len() <= state.max / WAVE_OVER_FRACTION;
            if over {
                state.in_a_wave = false;
                state.waves_ended += 1;
            }
            over
        };
        if wave_over {
            memory::give_back();
        }
    }
}

/// A wave is over when the count has fallen to this fraction of the cap.
const WAVE_OVER_FRACTION: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_is_dropped_when_full_and_the_count_follows_the_guards() {
        let newcomers = Newcomers::new(2);
        let first = future::block_on(newcomers.admit());
        let second = future::block_on(newcomers.admit());
        assert_eq!(newcomers.len(), 2);
        assert!(!first.dropped.is_closed() && !second.dropped.is_closed());
        let third = future::block_on(newcomers.admit());
        assert!(first.dropped.is_closed(), "the oldest made room");
        assert!(!second.dropped.is_closed() && !third.dropped.is_closed());
        assert_eq!(newcomers.len(), 2);
        drop(second);
        assert_eq!(newcomers.len(), 1, "a newcomer that became a client, or left, stops counting");
        let fourth = future::block_on(newcomers.admit());
        assert!(!third.dropped.is_closed(), "room was free: nobody dropped");
        drop((first, third, fourth));
        assert_eq!(newcomers.len(), 0);
    }

    #[test]
    fn a_wave_ends_when_the_count_falls_back_to_a_few_and_only_then() {
        let newcomers = Newcomers::new(8);
        // No one dropped: the count going up and down is no wave.
        let calm: Vec<_> = (0..8).map(|_| future::block_on(newcomers.admit())).collect();
        drop(calm);
        assert_eq!(newcomers.waves_ended(), 0);
        // Twice the cap: the oldest eight make room, and a wave is on.
        let mut wave: Vec<_> = (0..8).map(|_| future::block_on(newcomers.admit())).collect();
        let later: Vec<_> = (0..8).map(|_| future::block_on(newcomers.admit())).collect();
        wave.extend(later);
        assert_eq!(newcomers.len(), 8);
        // Six of the eight counted leave; two are still counted, more
        // than an eighth of the cap.
        let stays = wave.pop();
        wave.truncate(9);
        assert_eq!(newcomers.len(), 2);
        assert_eq!(newcomers.waves_ended(), 0, "two still counted: not over");
        drop(wave);
        assert_eq!(newcomers.len(), 1);
        assert_eq!(newcomers.waves_ended(), 1, "down to a few: over, and memory given back once");
        drop(stays);
        assert_eq!(newcomers.waves_ended(), 1);
    }

    #[test]
    fn admission_waits_while_twice_the_cap_are_alive() {
        let newcomers = Newcomers::new(1);
        let first = future::block_on(newcomers.admit());
        let second = future::block_on(newcomers.admit());
        assert!(first.dropped.is_closed(), "counted no more, but its task has not let go");
        let mut third = Box::pin(newcomers.admit());
        assert!(future::block_on(future::poll_once(&mut third)).is_none(), "two alive: the door waits");
        drop(first);
        assert!(future::block_on(future::poll_once(&mut third)).is_some(), "one gone: the next comes in");
        drop(second);
    }

    #[test]
    fn a_dropped_newcomer_stops_waiting() {
        let newcomers = Newcomers::new(1);
        let first = future::block_on(newcomers.admit());
        let work = first.unless_dropped(future::pending::<()>());
        let second = future::block_on(newcomers.admit());
        assert_eq!(future::block_on(work), None);
        drop((first, second));
        let third = future::block_on(newcomers.admit());
        assert_eq!(future::block_on(third.unless_dropped(async { 7 })), Some(7));
    }
}
