//! Per-client deadlines: registration, the idle warning and the idle
//! disconnect. One entry per client; activity only updates the client's
//! `last_activity`, and an entry that fires early re-arms itself at the real
//! deadline, so the hot input path never touches the timer set.

use std::collections::BTreeSet;
use std::time::Instant;

use crate::Config;
use crate::client::Client;
use crate::output::ClientId;

/// What a client's next deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    /// The client has not registered (sent a line, or logged in when login is required).
    Registration,
    IdleWarning,
    IdleDisconnect,
}

impl Client {
    /// The client's real next deadline, if any.
    pub(crate) fn next_deadline(&self, config: &Config) -> Option<(Instant, Due)> {
        if let Some(deadline) = self.registration_deadline {
            return Some((deadline, Due::Registration));
        }
        let idle = config.idle_timeout;
        if idle.is_zero() {
            return None;
        }
        let warning = config.idle_warning;
        if !self.idle_warned && !warning.is_zero() {
            Some((self.last_activity + (idle - warning), Due::IdleWarning))
        } else {
            Some((self.last_activity + idle, Due::IdleDisconnect))
        }
    }
}

/// Armed deadlines, earliest first.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    armed: BTreeSet<(Instant, ClientId)>,
}

impl Timers {
    /// Arms the client's timer at its next deadline (replacing any armed one).
    pub(crate) fn rearm(&mut self, id: ClientId, client: &mut Client, config: &Config) {
        self.disarm(id, client);
        if let Some((at, _)) = client.next_deadline(config) {
            client.timer = Some(at);
            self.armed.insert((at, id));
        }
    }

    pub(crate) fn disarm(&mut self, id: ClientId, client: &mut Client) {
        if let Some(at) = client.timer.take() {
            self.armed.remove(&(at, id));
        }
    }

    /// The earliest armed deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.armed.first().map(|&(at, _)| at)
    }

    /// Takes the earliest entry if it is due at `now`. The caller must clear
    /// that client's `timer`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<ClientId> {
        let &(at, id) = self.armed.first()?;
        (at <= now).then(|| {
            self.armed.pop_first();
            id
        })
    }

    /// Whether `(at, id)` is armed (for invariant checks).
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn is_armed(&self, at: Instant, id: ClientId) -> bool {
        self.armed.contains(&(at, id))
    }

    /// Armed entries (for invariant checks).
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn len(&self) -> usize {
        self.armed.len()
    }
}
