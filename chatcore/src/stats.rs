//! What the engine counts for monitoring: [`Stats`], read with
//! [`Engine::stats`](crate::Engine::stats).
//!
//! Every figure is kept up to date as events happen, at a constant cost
//! per event (an addition, never a walk over clients or rooms), so that
//! reading them is as cheap as copying a few integers however many
//! clients are connected.

use crate::error::Rejection;

/// A snapshot of the engine's gauges (what exists now) and counters (what
/// happened since the engine was made; counters restart at zero on
/// [`Engine::restore`](crate::Engine::restore), since records keep no counts).
///
/// ```
/// use chatcore::{Config, ConnectInfo, Engine, Now};
/// let mut engine = Engine::new(Config::default())?;
/// let alice = engine.handle_connect(Now::system(), ConnectInfo::default());
/// engine.handle_input(Now::system(), alice, b"/create rust\nhello\n")?;
/// let stats = engine.stats();
/// assert_eq!((stats.clients, stats.rooms, stats.messages), (1, 1, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Clients connected now, whatever their codec; IRC clients count from
    /// their connection, before they register.
    pub clients: usize,
    /// Of [`clients`](Self::clients), those speaking the text codec; a
    /// client counts as text until its first line says otherwise.
    pub text_clients: usize,
    /// Of [`clients`](Self::clients), those speaking JSON Lines (over any
    /// transport: a WebSocket client is one of them).
    pub json_clients: usize,
    /// Of [`clients`](Self::clients), those speaking IRC.
    pub irc_clients: usize,
    /// Rooms that exist now, empty ones included.
    pub rooms: usize,
    /// Registered accounts.
    pub accounts: usize,
    /// Lines received from clients, each counted once it is complete
    /// (blank and over-long lines too; a line refused by flood control too).
    pub lines_in: u64,
    /// Messages accepted: each room message once however many members read
    /// it, and each whisper, delivered or kept for an offline account.
    pub messages: u64,
    /// Lines the engine addressed to clients: a broadcast counts once per
    /// recipient. The embedder may still fail to deliver some (a client
    /// that is cut meanwhile).
    pub deliveries: u64,
    /// Lines refused because their sender exceeded flood control.
    pub flood_refusals: u64,
    /// Failed password checks (a wrong password, or a name with no account).
    pub login_failures: u64,
    /// Logins refused with "locked out": both the failure that starts a
    /// lockout (also one of [`login_failures`](Self::login_failures)) and
    /// every attempt made while it lasts.
    pub lockouts: u64,
    /// Registrations refused by a limit: too many from one source within
    /// the window, or the server's account limit reached.
    pub registration_refusals: u64,
    /// With `Config::cluster`: room messages fed again after they were
    /// delivered or while they were held (a notifier's repeats, backfills
    /// overlapping what arrived).
    pub cluster_duplicates: u64,
    /// With `Config::cluster`: room messages for a room with no local
    /// members, or one this engine does not know (a notification racing
    /// an unfollow).
    pub cluster_ignored: u64,
    /// With `Config::cluster`: held messages dropped because a room held
    /// `Config::cluster_max_held` (a backfill brings them again).
    pub cluster_held_dropped: u64,
    /// With `Config::cluster`: backfills asked for.
    pub cluster_backfills: u64,
    /// In a cluster, other nodes' users known to be in a room here (or in
    /// one whose record is still on its way).
    pub remote_users: usize,
    /// In a cluster, presence changes from other nodes that were ignored:
    /// contradicting what it knows (a part from a room it does not have),
    /// or past its limits (see the [`cluster`](crate::cluster) module).
    pub remote_presence_ignored: u64,
    /// In a cluster, whispers from other nodes that were not delivered:
    /// nobody here held the name any more, or its holder blocks the sender.
    pub remote_whispers_dropped: u64,
    /// Other nodes' durable records that did not apply here: about a room
    /// or account this node does not have, creating one it has, past its
    /// limits, or a room message (which comes by its own input). See the
    /// [`cluster`](crate::cluster) module.
    pub remote_records_ignored: u64,
}

/// The counters behind [`Stats`] that no table's length gives: kept
/// beside the world and bumped where each event happens.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) lines_in: u64,
    pub(crate) messages: u64,
    pub(crate) flood_refusals: u64,
    pub(crate) login_failures: u64,
    pub(crate) lockouts: u64,
    pub(crate) registration_refusals: u64,
    pub(crate) cluster_duplicates: u64,
    pub(crate) cluster_ignored: u64,
    pub(crate) cluster_held_dropped: u64,
    pub(crate) cluster_backfills: u64,
    pub(crate) remote_presence_ignored: u64,
    pub(crate) remote_whispers_dropped: u64,
    pub(crate) remote_records_ignored: u64,
}

impl Counters {
    /// Counts a refusal told to a client, if it is one that is counted.
    /// Every refusal of a command passes here, so each is counted once
    /// whichever handler made it.
    pub(crate) fn refused(&mut self, rejection: &Rejection) {
        match rejection {
            Rejection::Flood => self.flood_refusals += 1,
            Rejection::LockedOut { .. } => self.lockouts += 1,
            Rejection::TooManyRegistrations { .. } | Rejection::AccountLimit { .. } => {
                self.registration_refusals += 1;
            }
            _ => {}
        }
    }
}
