//! Who recently left the server, for IRC's WHOWAS, and the IRC identity
//! (username, real name) every client shows.

use std::collections::VecDeque;

use crate::client::Client;

/// A client's IRC username, real name and away message; a client of
/// another protocol is its nickname throughout.
pub(crate) fn identity(client: &Client) -> (String, String, Option<String>) {
    let session = client.irc.as_deref();
    let user = session.and_then(|s| s.user.as_deref()).unwrap_or(&client.nick).to_owned();
    let realname = session.and_then(|s| s.realname.as_deref()).unwrap_or(&client.nick).to_owned();
    (user, realname, session.and_then(|s| s.away.as_deref()).map(str::to_owned))
}

/// The most departures WHOWAS remembers; the oldest goes first.
const MAX_DEPARTED: usize = 128;

/// Who recently left the server, for WHOWAS: bounded, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Departed {
    entries: VecDeque<Departure>,
}

/// One departure.
#[derive(Debug, Clone)]
pub(crate) struct Departure {
    pub(crate) nick: Box<str>,
    pub(crate) user: Box<str>,
    pub(crate) host: Box<str>,
    pub(crate) realname: Box<str>,
    pub(crate) unix_ms: u64,
}

impl Departed {
    pub(crate) fn record(&mut self, client: &Client, unix_ms: u64) {
        if self.entries.len() >= MAX_DEPARTED {
            self.entries.pop_front();
        }
        let (user, realname, _) = identity(client);
        self.entries.push_back(Departure {
            nick: client.nick.clone(),
            user: user.into(),
            host: client.host.clone(),
            realname: realname.into(),
            unix_ms,
        });
    }

    pub(crate) fn newest_first(&self) -> impl Iterator<Item = &Departure> {
        self.entries.iter().rev()
    }
}
