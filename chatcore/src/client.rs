//! One connected client: who it is, what it speaks, where it sits.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use crate::account::AuthRequestId;
use crate::cluster::ClaimId;
use crate::codec::{Codec, Wire};
use crate::framer::LineFramer;
use crate::names::NameKey;
use crate::source::SourceKey;

mod table;

pub(crate) use table::Clients;

/// Per-client state. Its size is bounded by the limits in
/// [`Config`](crate::Config): the framer holds at most one line, `rooms` at
/// most `max_rooms_per_client` keys.
#[derive(Debug)]
pub(crate) struct Client {
    pub(crate) nick: Box<str>,
    pub(crate) nick_key: NameKey,
    /// Changed only by the client table, which counts clients per codec.
    codec: Codec,
    /// Set by the first non-blank line, which may switch the codec.
    codec_chosen: bool,
    pub(crate) framer: LineFramer,
    /// Rooms in the order joined; the last is the current room.
    pub(crate) rooms: Vec<NameKey>,
    /// Where it connected from, if the embedder said.
    pub(crate) source: Option<SourceKey>,
    /// Its host as others see it and bans match it (`Config::hosts`).
    pub(crate) host: Box<str>,
    /// The account it is logged in to; its nickname is then the account name.
    pub(crate) account: Option<NameKey>,
    /// Names it blocks, with the spelling it used (kept in its account too
    /// when logged in). At most `max_blocks`.
    pub(crate) blocks: BTreeMap<NameKey, Box<str>>,
    /// A hash or verify request is outstanding; one at a time.
    pub(crate) auth_pending: Option<AuthRequestId>,
    /// In a cluster: a claim of a name for it is under way; its lines wait
    /// in `held` until the answer.
    pub(crate) claim_pending: Option<ClaimId>,
    /// Lines that arrived while a claim was under way, in order (`None`: an
    /// overlong one); at most `flood_burst`.
    pub(crate) held: VecDeque<Option<Box<[u8]>>>,
    /// In a cluster: its name is a guest's not yet granted by the other
    /// nodes, so it is not this node's to release.
    pub(crate) name_pending: bool,
    /// Until it registers (sends a line, or logs in when login is required):
    /// when it will be closed.
    pub(crate) registration_deadline: Option<Instant>,
    pub(crate) last_activity: Instant,
    pub(crate) idle_warned: bool,
    /// Where its entry in the engine's timer set is, if armed.
    pub(crate) timer: Option<Instant>,
    /// The oldest message of a room or conversation shown to it, where a
    /// text client's `/history` goes on from.
    pub(crate) history_cursor: Option<(HistoryKey, u64)>,
    /// What ties each page still being read from the store to the request
    /// that asked for it, and which page it asked for, oldest first (pages
    /// are answered in order).
    pub(crate) page_replies: std::collections::VecDeque<(Option<crate::codec::ReplyTag>, crate::HistoryRange)>,
    pub(crate) flood: FloodBucket,
    /// IRC clients only: registration and negotiated capabilities.
    pub(crate) irc: Option<Box<crate::irc::session::IrcSession>>,
    /// Set when passwords must not travel over this connection: where the
    /// user should connect instead (see `ConnectInfo::refuse_passwords`).
    pub(crate) refuse_passwords: Option<Box<str>>,
    /// Read markers of a connection not logged in (an account's are the
    /// account's): in memory only, for this connection.
    pub(crate) guest_markers: crate::read_marker::GuestMarkers,
}

impl Client {
    /// A client just connected as `nick`, speaking `codec`, with a full
    /// flood allowance, in no room, not logged in, with no deadline set.
    /// An IRC client's codec is chosen from the start; another's by its
    /// first line.
    pub(crate) fn new(nick: Box<str>, codec: Codec, flood: FloodBucket, now: Instant) -> Self {
        Self {
            nick_key: NameKey::of(&nick),
            nick,
            codec,
            codec_chosen: codec == Codec::Irc,
            framer: LineFramer::default(),
            rooms: Vec::new(),
            source: None,
            host: Box::default(),
            account: None,
            blocks: BTreeMap::new(),
            auth_pending: None,
            claim_pending: None,
            held: VecDeque::new(),
            name_pending: false,
            registration_deadline: None,
            last_activity: now,
            idle_warned: false,
            timer: None,
            history_cursor: None,
            page_replies: std::collections::VecDeque::new(),
            flood,
            irc: None,
            refuse_passwords: None,
            guest_markers: Default::default(),
        }
    }

    /// The codec it speaks.
    pub(crate) fn codec(&self) -> Codec {
        self.codec
    }

    /// Whether its codec is settled: an IRC client's from the start,
    /// another's by its first line.
    pub(crate) fn codec_chosen(&self) -> bool {
        self.codec_chosen
    }

    /// `event` in this client's codec, addressed to it: replies that name
    /// their recipient (IRC numerics do) carry its nickname.
    pub(crate) fn render(&self, event: &crate::event::Event<'_>) -> bytes::Bytes {
        match &self.irc {
            Some(session) => Wire::Irc(session.tagging()).render_for(event, session.recipient(&self.nick, &self.host)),
            None => self.codec.render(event),
        }
    }

    /// Whether its own room messages come back to it: always in JSON
    /// (programs match the echo's `seq` and `id` to what they sent), in IRC
    /// with `echo-message`, never in text (a terminal already shows what
    /// its user typed). Its whispers come back as they did, in every codec.
    pub(crate) fn echoes(&self) -> bool {
        match &self.irc {
            Some(session) => session.echoes(),
            #[cfg(feature = "json")]
            None if self.codec == Codec::Json => true,
            None => false,
        }
    }

    /// How broadcasts are written for it.
    pub(crate) fn wire(&self) -> Wire {
        match (&self.irc, self.codec) {
            (Some(session), _) => Wire::Irc(session.tagging()),
            (None, Codec::Text | Codec::Irc) => Wire::Text,
            #[cfg(feature = "json")]
            (None, Codec::Json) => Wire::Json,
        }
    }

    pub(crate) fn current_room(&self) -> Option<&NameKey> {
        self.rooms.last()
    }

    pub(crate) fn is_in(&self, room: &NameKey) -> bool {
        self.rooms.contains(room)
    }

    /// Where a text client's `/history` of `key` goes on from: the oldest
    /// message of it shown to the client. JSON clients page with `before`.
    pub(crate) fn text_cursor(&self, key: &HistoryKey) -> Option<u64> {
        match &self.history_cursor {
            Some((at, seq)) if at == key && self.codec == Codec::Text => Some(*seq),
            _ => None,
        }
    }

    /// Whether this client wants to see what `from` says: not if it blocks
    /// that name. Replays and history pages filter with it.
    pub(crate) fn hears(&self, from: &str) -> bool {
        self.blocks.is_empty() || !self.blocks.contains_key(&NameKey::of(from))
    }
}

/// What a `/history` cursor pages through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HistoryKey {
    /// A room, by its key.
    Room(NameKey),
    /// The client's whispers with an account, by the account's key.
    Conversation(NameKey),
}

/// A token bucket: `burst` lines at once, refilled at `per_sec` lines per
/// second. Counted in thousandths of a line to stay exact with integers.
#[derive(Debug)]
pub(crate) struct FloodBucket {
    millilines: u64,
    refilled_at: Instant,
}

impl FloodBucket {
    pub(crate) fn full(burst: u32, now: Instant) -> Self {
        Self { millilines: u64::from(burst) * 1000, refilled_at: now }
    }

    /// Takes one line's worth if there is one.
    pub(crate) fn try_take(&mut self, now: Instant, burst: u32, per_sec: u32) -> bool {
        if per_sec == 0 {
            return true;
        }
        let elapsed_ms = u64::try_from(now.saturating_duration_since(self.refilled_at).as_millis()).unwrap_or(u64::MAX);
        let cap = u64::from(burst.max(1)) * 1000;
        self.millilines = self.millilines.saturating_add(elapsed_ms.saturating_mul(u64::from(per_sec))).min(cap);
        self.refilled_at = now;
        if self.millilines >= 1000 {
            self.millilines -= 1000;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_allows_burst_then_rate() {
        let t0 = Instant::now();
        let mut bucket = FloodBucket::full(3, t0);
        assert!((0..3).all(|_| bucket.try_take(t0, 3, 2)));
        assert!(!bucket.try_take(t0, 3, 2));
        // Two lines per second: one more after 500 ms, not before.
        assert!(!bucket.try_take(t0 + Duration::from_millis(499), 3, 2));
        assert!(bucket.try_take(t0 + Duration::from_millis(500), 3, 2));
        // A long pause refills only up to the burst.
        let later = t0 + Duration::from_secs(3600);
        assert_eq!((0..10).filter(|_| bucket.try_take(later, 3, 2)).count(), 3);
    }

    #[test]
    fn zero_rate_disables() {
        let t0 = Instant::now();
        let mut bucket = FloodBucket::full(1, t0);
        assert!((0..100).all(|_| bucket.try_take(t0, 1, 0)));
    }
}
