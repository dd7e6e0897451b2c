//! Who is on the server as IRC counts them, and who recently left: the
//! numbers LUSERS gives (users, connections still registering, the most
//! users there have been at once) and the departures WHOWAS remembers.
//! Every client counts, whatever its codec: a text or JSON client is a
//! user from its first moment, an IRC client once it is welcomed.

use std::collections::VecDeque;

use crate::client::Client;
use crate::names::NameKey;

/// The most departures WHOWAS remembers; the oldest goes first.
const MAX_DEPARTED: usize = 128;

/// The server's users counted for LUSERS, and its recent departures for
/// WHOWAS. Its counts follow every arrival, IRC registration and
/// departure, so the most users at once is never below the users now.
#[derive(Debug, Default)]
pub(crate) struct Visitors {
    /// Connected clients that are users: every client but an IRC one not yet welcomed.
    users: usize,
    /// IRC clients connected and not yet welcomed.
    registering: usize,
    /// The most users online at once; never below `users`.
    peak: usize,
    /// Who recently left, oldest first; at most `MAX_DEPARTED`.
    departed: VecDeque<Departure>,
}

/// One departure, as WHOWAS shows it.
#[derive(Debug, Clone)]
pub(crate) struct Departure {
    pub(crate) nick: Box<str>,
    pub(crate) user: Box<str>,
    pub(crate) host: Box<str>,
    pub(crate) realname: Box<str>,
    pub(crate) unix_ms: u64,
}

impl Departure {
    /// `client` as it leaves at `unix_ms`.
    pub(crate) fn of(client: &Client, unix_ms: u64) -> Self {
        let (user, realname, _) = identity(client);
        Self {
            nick: client.nick.clone(),
            user: user.into(),
            host: client.host.clone(),
            realname: realname.into(),
            unix_ms,
        }
    }
}

impl Visitors {
    /// A client connected: an IRC client is `registering` until it is
    /// welcomed; any other is a user at once.
    pub(crate) fn arrive(&mut self, registering: bool) {
        if registering {
            self.registering += 1;
        } else {
            self.add_user();
        }
    }

    /// An IRC client that was registering was welcomed: it is a user now.
    pub(crate) fn register(&mut self) {
        self.registering = self.registering.saturating_sub(1);
        self.add_user();
    }

    /// A client left: `registering` if it was an IRC client never
    /// welcomed. WHOWAS remembers it, forgetting the oldest departure
    /// when it already remembers as many as it keeps.
    pub(crate) fn depart(&mut self, registering: bool, departure: Departure) {
        if registering {
            self.registering = self.registering.saturating_sub(1);
        } else {
            self.users = self.users.saturating_sub(1);
        }
        if self.departed.len() >= MAX_DEPARTED {
            self.departed.pop_front();
        }
        self.departed.push_back(departure);
    }

    fn add_user(&mut self) {
        self.users += 1;
        self.peak = self.peak.max(self.users);
    }

    /// Connected clients that are users.
    pub(crate) fn users(&self) -> usize {
        self.users
    }

    /// IRC clients connected and not yet welcomed.
    pub(crate) fn registering(&self) -> usize {
        self.registering
    }

    /// The most users there have been online at once.
    pub(crate) fn peak(&self) -> usize {
        self.peak
    }

    /// The remembered departures under the nickname `key`, newest first.
    pub(crate) fn departed_as<'a>(&'a self, key: &'a NameKey) -> impl Iterator<Item = &'a Departure> + 'a {
        self.departed.iter().rev().filter(move |d| NameKey::of(&d.nick) == *key)
    }

    /// Its own rules: the peak is never below the users now, and WHOWAS
    /// keeps no more than its bound. That the counts match the clients
    /// connected is the world's to check, which knows them.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn check(&self) -> Result<(), crate::invariant_violation::InvariantViolation> {
        use crate::invariant_violation::InvariantViolation as V;
        if self.peak < self.users {
            return Err(V::PeakBelowUsers { peak: self.peak, users: self.users });
        }
        if self.departed.len() > MAX_DEPARTED {
            return Err(V::WhowasOverCap { kept: self.departed.len(), max: MAX_DEPARTED });
        }
        Ok(())
    }
}

/// A client's IRC username, real name and away message, as WHOIS and
/// WHOWAS show them; a client of another protocol is its nickname
/// throughout.
pub(crate) fn identity(client: &Client) -> (String, String, Option<String>) {
    let session = client.irc.as_deref();
    let user = session.and_then(|s| s.user.as_deref()).unwrap_or(&client.nick).to_owned();
    let realname = session.and_then(|s| s.realname.as_deref()).unwrap_or(&client.nick).to_owned();
    (user, realname, session.and_then(|s| s.away.as_deref()).map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn departure(nick: &str, unix_ms: u64) -> Departure {
        Departure { nick: nick.into(), user: nick.into(), host: "h".into(), realname: nick.into(), unix_ms }
    }

    #[test]
    fn an_irc_client_is_a_user_once_welcomed_and_the_peak_stays_when_users_leave() {
        let mut visitors = Visitors::default();
        visitors.arrive(false);
        visitors.arrive(true);
        assert_eq!((visitors.users(), visitors.registering(), visitors.peak()), (1, 1, 1));
        visitors.register();
        assert_eq!((visitors.users(), visitors.registering(), visitors.peak()), (2, 0, 2));
        visitors.depart(false, departure("ann", 1));
        visitors.arrive(true);
        visitors.depart(true, departure("bob", 2));
        assert_eq!((visitors.users(), visitors.registering(), visitors.peak()), (1, 0, 2));
        assert_eq!(visitors.check(), Ok(()));
    }

    #[test]
    fn whowas_forgets_the_oldest_past_its_bound_and_answers_newest_first() {
        let mut visitors = Visitors::default();
        for ms in 0..=MAX_DEPARTED as u64 {
            visitors.arrive(false);
            visitors.depart(false, departure(if ms % 2 == 0 { "Ann" } else { "bob" }, ms));
        }
        assert_eq!(visitors.check(), Ok(()));
        let key = NameKey::of("ann");
        let times: Vec<u64> = visitors.departed_as(&key).map(|d| d.unix_ms).collect();
        // 0 was the oldest, and went when 128 came.
        assert_eq!(times.first(), Some(&(MAX_DEPARTED as u64)));
        assert_eq!(times.last(), Some(&2));
        assert_eq!(times.len(), MAX_DEPARTED / 2);
    }
}
