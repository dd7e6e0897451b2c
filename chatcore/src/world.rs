//! The world: every client, nickname, room and account, and the counters
//! around them. Handlers in the concept files (`commands.rs`, `auth.rs`,
//! `social.rs`, `replay.rs`) are methods on [`World`] that take the
//! [`Outbox`] beside it, so they can walk the world and queue output at
//! the same time.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::Config;
use crate::account::{Account, AuthRequestId};
use crate::client::{Client, FloodBucket};
use crate::codec::{Codec, Wire};
use crate::error::Rejection;
use crate::event::Event;
use crate::framer::{Frame, LineFramer};
use crate::irc::session::IrcSession;
use crate::lockout::{AccountFailures, LoginFailures, Registrations, RoomCreations};
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::{ClientId, DisconnectReason, Output};
use crate::password_check::PendingAuth;
use crate::record::Record;
use crate::room::Room;
use crate::source::SourceKey;
use crate::stats::Counters;
use crate::time::Now;
use crate::timers::{Due, Timers};

/// The engine's state, apart from its output queue.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) config: Config,
    /// Boxed, so the table's nodes stay small: a B-tree filled in id order
    /// leaves its nodes about half full, and each empty slot would
    /// otherwise cost a whole `Client`.
    pub(crate) clients: BTreeMap<ClientId, Box<Client>>,
    /// Every client by nickname, in name order, so `/users` reads a page
    /// of it without sorting everyone.
    pub(crate) nicks: BTreeMap<NameKey, ClientId>,
    /// Clients in no room (the Lobby) by nickname, in name order, kept as
    /// memberships and nicknames change so that the Lobby's `/who` reads a
    /// range of it and its announcements need not scan every client.
    pub(crate) lobby: BTreeMap<NameKey, ClientId>,
    pub(crate) rooms: BTreeMap<NameKey, Room>,
    pub(crate) accounts: BTreeMap<NameKey, Account>,
    /// Accounts not logged in that have been seen, most recently seen
    /// first, for `/since`.
    pub(crate) offline_seen: BTreeSet<(Reverse<u64>, NameKey)>,
    /// Online clients that block each name, so a room message checks one
    /// map entry for its sender instead of every recipient's block list.
    pub(crate) blockers: BTreeMap<NameKey, BTreeSet<ClientId>>,
    /// Blocks that follow a connection across its renames (see
    /// `social.rs`): for a client that had a name someone blocked, each
    /// such blocker with the name it blocked. Holds only renamed clients.
    pub(crate) carried_blocks: BTreeMap<ClientId, Vec<(ClientId, NameKey)>>,
    /// Offline messages kept across all mailboxes.
    pub(crate) offline_total: usize,
    /// The number the next whisper kept in a conversation gets; whispers
    /// are numbered across the server (see `conversation.rs`).
    pub(crate) next_whisper_seq: u64,
    pub(crate) pending_auth: BTreeMap<AuthRequestId, PendingAuth>,
    pub(crate) login_failures: LoginFailures,
    /// Failed logins per account, from every source together.
    pub(crate) account_failures: AccountFailures,
    pub(crate) registrations: Registrations,
    /// Rooms created, per source and per account.
    pub(crate) room_creations: RoomCreations,
    /// When empty rooms are next checked for expiry, while any may expire.
    pub(crate) next_sweep: Option<Instant>,
    pub(crate) timers: Timers,
    /// Set while the embedder's store fails; see `StorageStatus`.
    pub(crate) storage_failing: bool,
    /// The id the next connection gets. Ids below it were issued, so an id
    /// below it that is no longer connected was closed, not invented.
    pub(crate) next_client: u64,
    pub(crate) next_guest: u64,
    pub(crate) next_request: u64,
    /// IRC clients connected and not yet welcomed, for LUSERS.
    pub(crate) irc_unregistered: usize,
    /// The most users online at once, for LUSERS.
    pub(crate) peak_users: usize,
    /// Who recently left, for IRC's WHOWAS.
    pub(crate) departed: crate::whowas::Departed,
    /// What `Engine::stats` reports beyond the tables' lengths.
    pub(crate) counts: Counters,
}

impl World {
    pub(crate) fn new(config: Config) -> Self {
        Self {
            config,
            clients: BTreeMap::new(),
            nicks: BTreeMap::new(),
            lobby: BTreeMap::new(),
            rooms: BTreeMap::new(),
            accounts: BTreeMap::new(),
            offline_seen: BTreeSet::new(),
            blockers: BTreeMap::new(),
            carried_blocks: BTreeMap::new(),
            offline_total: 0,
            next_whisper_seq: 1,
            pending_auth: BTreeMap::new(),
            login_failures: LoginFailures::default(),
            account_failures: AccountFailures::default(),
            registrations: Registrations::default(),
            room_creations: RoomCreations::default(),
            next_sweep: None,
            timers: Timers::default(),
            storage_failing: false,
            next_client: 1,
            next_guest: 1,
            next_request: 1,
            irc_unregistered: 0,
            peak_users: 0,
            departed: crate::whowas::Departed::default(),
            counts: Counters::default(),
        }
    }

    /// The account a connected client is logged in to, if any.
    pub(crate) fn account_of(&self, client: ClientId) -> Option<&str> {
        let key = self.clients.get(&client)?.account.as_ref()?;
        self.accounts.get(key).map(|a| &*a.name)
    }

    /// A new connection speaking `codec`: text clients may switch to JSON
    /// with their first line; JSON clients (a transport that carries only
    /// JSON, such as chatd's WebSocket) are JSON from the welcome on; IRC
    /// clients are IRC from the start and are welcomed once they register.
    pub(crate) fn connect(
        &mut self,
        out: &mut Outbox,
        now: Now,
        source: Option<SourceKey>,
        codec: Codec,
        refuse_passwords: Option<Box<str>>,
        irc_password: Option<Box<str>>,
    ) -> ClientId {
        let id = ClientId(self.next_client);
        self.next_client += 1;
        let irc = codec == Codec::Irc;
        if self.clients.len() >= self.config.max_clients {
            let reason = DisconnectReason::ServerFull;
            out.tell(id, codec, &Event::Bye { reason: &reason });
            out.push(Output::Close { client: id, reason });
            return id;
        }
        let nick = self.fresh_guest_name();
        let nick_key = NameKey::of(&nick);
        let registration_timeout = self.config.registration_timeout;
        let session = irc.then(|| {
            Box::new(IrcSession { server_password: irc_password, ..IrcSession::new(&self.config.server_name) })
        });
        let mut client = Client {
            nick,
            nick_key: nick_key.clone(),
            codec,
            codec_chosen: irc,
            framer: LineFramer::default(),
            rooms: Vec::new(),
            source,
            host: self.config.hosts.host_of(source),
            account: None,
            blocks: BTreeMap::new(),
            auth_pending: None,
            registration_deadline: (!registration_timeout.is_zero()).then(|| now.instant + registration_timeout),
            last_activity: now.instant,
            idle_warned: false,
            timer: None,
            history_cursor: None,
            page_replies: std::collections::VecDeque::new(),
            flood: FloodBucket::full(self.config.flood_burst, now.instant),
            irc: session,
            refuse_passwords,
        };
        self.timers.rearm(id, &mut client, &self.config);
        if !irc {
            out.tell(id, codec, &Event::Welcome { server: &self.config.server_name, nick: &client.nick });
        }
        if self.config.announce_lobby_presence {
            out.fanout(self.lobby_except(id), &Event::Connected { nick: &client.nick });
        }
        self.nicks.insert(nick_key.clone(), id);
        self.lobby.insert(nick_key, id);
        self.clients.insert(id, Box::new(client));
        self.counts.connected(codec);
        if irc {
            self.irc_unregistered += 1;
        }
        self.peak_users = self.peak_users.max(self.clients.len() - self.irc_unregistered);
        // Rooms restored empty start counting towards expiry once time is known.
        self.schedule_sweep(now);
        id
    }

    /// A `Guest<N>` name nobody holds.
    pub(crate) fn fresh_guest_name(&mut self) -> Box<str> {
        loop {
            let name = format!("Guest{}", self.next_guest);
            self.next_guest += 1;
            if !self.nicks.contains_key(&NameKey::of(&name)) {
                return name.into();
            }
        }
    }

    /// Acts on every complete line in `bytes` from a connected client.
    pub(crate) fn input(&mut self, out: &mut Outbox, now: Now, id: ClientId, bytes: &[u8]) {
        let Some(state) = self.clients.get_mut(&id) else {
            return;
        };
        // An IRC line may carry 4,096 bytes of tags before its 510.
        let max_line = match state.codec {
            Codec::Irc => self.config.max_line_bytes.max(IRC_MAX_LINE),
            _ => self.config.max_line_bytes,
        };
        let mut framer = std::mem::take(&mut state.framer);
        framer.push(max_line, bytes, |frame| self.handle_frame(out, now, id, frame));
        // The client may have quit in the middle of these bytes.
        if let Some(state) = self.clients.get_mut(&id) {
            state.framer = framer;
        }
    }

    fn handle_frame(&mut self, out: &mut Outbox, now: Now, id: ClientId, frame: Frame<'_>) {
        let Some(client) = self.clients.get_mut(&id) else {
            return; // quit earlier in the same read
        };
        client.last_activity = now.instant;
        self.counts.lines_in += 1;
        let was_warned = std::mem::take(&mut client.idle_warned);
        // An IRC client registers with NICK and USER, not with any line.
        let registered_now =
            !self.config.require_login && client.irc.is_none() && client.registration_deadline.take().is_some();
        // Activity moves the next deadline later, so the armed timer is
        // early and re-arms itself when it fires; except that a warned
        // client's next deadline goes back to the warning, and a registered
        // one's to its idle deadline, which may come sooner than the armed one.
        if was_warned || registered_now {
            self.timers.rearm(id, client, &self.config);
        }
        let line = match frame {
            Frame::Overlong => {
                let rejection = Rejection::LineTooLong { limit: self.config.max_line_bytes };
                return out.send(id, client.render(&Event::Error { rejection: &rejection }));
            }
            Frame::Line(line) => line,
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        if client.codec == Codec::Irc {
            // Refused for flooding once its label is known, to name it.
            let allowance = self.take_line_allowance(now, id);
            return self.irc_line(out, now, id, line, allowance);
        }
        if !client.codec_chosen {
            // The first line picks the codec, from its bytes, so a JSON line
            // that is not valid UTF-8 is answered in JSON too. A client in
            // no room yet has no memberships to update.
            client.codec_chosen = true;
            // Only a text client may switch: one connected as JSON stays JSON.
            if client.codec == Codec::Text {
                client.codec = Codec::detect(line);
                self.counts.switched(Codec::Text, client.codec);
                if client.codec != Codec::Text {
                    let welcome = Event::Welcome { server: &self.config.server_name, nick: &client.nick };
                    out.send(id, client.render(&welcome));
                }
            }
        }
        let codec = client.codec;
        let Ok(line) = std::str::from_utf8(line) else {
            return out.tell(id, codec, &Event::Error { rejection: &Rejection::InvalidUtf8 });
        };
        if line.trim().is_empty() {
            return;
        }
        // The id comes off first, so that every answer names it, a refusal
        // of the raw line or for flooding too.
        let request = codec.read(line);
        let tagged = request.tag.is_some();
        if let Some(tag) = request.tag {
            out.begin_reply(id, tag);
        }
        if let Some(rejection) = unsafe_text(line) {
            out.tell(id, codec, &Event::Error { rejection: &rejection });
        } else if !client.flood.try_take(now.instant, self.config.flood_burst, self.config.flood_lines_per_sec) {
            self.counts.refused(&Rejection::Flood);
            out.tell(id, codec, &Event::Error { rejection: &Rejection::Flood });
        } else {
            match request.command {
                Ok(command) => self.execute(out, now, id, command),
                Err(rejection) => out.tell(id, codec, &Event::Error { rejection: &rejection }),
            }
        }
        if tagged {
            out.end_reply(true);
        }
    }

    /// Handles every deadline due by `now`.
    pub(crate) fn timeout(&mut self, out: &mut Outbox, now: Now) {
        if self.next_sweep.is_some_and(|at| at <= now.instant) {
            self.expire_rooms(out, now);
        }
        while let Some(id) = self.timers.pop_due(now.instant) {
            let Some(client) = self.clients.get_mut(&id) else {
                continue;
            };
            client.timer = None;
            match client.next_deadline(&self.config) {
                None => {}
                Some((at, _)) if at > now.instant => self.timers.rearm(id, client, &self.config),
                Some((_, Due::Registration)) => self.close(out, now, id, DisconnectReason::RegistrationTimeout),
                Some((_, Due::IdleWarning)) => {
                    client.idle_warned = true;
                    self.timers.rearm(id, client, &self.config);
                    // Rounded up: a wake a moment late must not announce "0 s" or one second too few.
                    let left = client
                        .next_deadline(&self.config)
                        .map_or(0, |(at, _)| crate::time::secs_until(now.instant, at));
                    out.send(id, client.render(&Event::IdleWarning { seconds: left }));
                }
                Some((_, Due::IdleDisconnect)) => self.close(out, now, id, DisconnectReason::IdleTimeout),
            }
        }
    }

    /// Every client is told and closed, each once.
    pub(crate) fn shutdown(&mut self, out: &mut Outbox, now: Now) {
        let ids: Vec<ClientId> = self.clients.keys().copied().collect();
        let reason = DisconnectReason::ServerShutdown;
        for id in ids {
            self.tell(out, id, Event::Bye { reason: &reason });
            self.remove_client(out, now, id, &reason, false);
            out.push(Output::Close { client: id, reason: reason.clone() });
        }
    }

    /// Renders `event` for one client in its codec and queues it.
    pub(crate) fn tell(&self, out: &mut Outbox, to: ClientId, event: Event<'_>) {
        if let Some(client) = self.clients.get(&to) {
            out.send(to, client.render(&event));
        }
    }

    /// Takes one line's worth of `id`'s flood allowance, or refuses with
    /// `Flood` when it has none left.
    pub(crate) fn take_line_allowance(&mut self, now: Now, id: ClientId) -> Result<(), Rejection> {
        let (burst, per_sec) = (self.config.flood_burst, self.config.flood_lines_per_sec);
        let allowed = self.clients.get_mut(&id).is_none_or(|c| c.flood.try_take(now.instant, burst, per_sec));
        if allowed { Ok(()) } else { Err(Rejection::Flood) }
    }

    /// Tells one client why its line was refused.
    pub(crate) fn reject(&mut self, out: &mut Outbox, to: ClientId, rejection: Rejection) {
        self.counts.refused(&rejection);
        self.tell(out, to, Event::Error { rejection: &rejection });
    }

    /// Clients in no room, other than `except`: a walk of the Lobby, not
    /// of every client.
    pub(crate) fn lobby_except(&self, except: ClientId) -> impl Iterator<Item = (ClientId, Wire)> + '_ {
        self.lobby
            .values()
            .filter(move |id| **id != except)
            .filter_map(|id| self.clients.get(id).map(|c| (*id, c.wire())))
    }

    /// Notes that `id` joined `key`: it is no longer in the Lobby.
    pub(crate) fn add_membership(&mut self, id: ClientId, key: NameKey) {
        if let Some(client) = self.clients.get_mut(&id) {
            if client.rooms.is_empty() && self.lobby.get(&client.nick_key) == Some(&id) {
                self.lobby.remove(&client.nick_key);
            }
            // Most clients are in one room: room for one, not the usual four.
            if client.rooms.capacity() == 0 {
                client.rooms.reserve_exact(1);
            }
            client.rooms.push(key);
        }
    }

    /// Notes that `id` is out of `key`: back in the Lobby if that was its last room.
    pub(crate) fn remove_membership(&mut self, id: ClientId, key: &NameKey) {
        if let Some(client) = self.clients.get_mut(&id) {
            let was_in_rooms = !client.rooms.is_empty();
            client.rooms.retain(|r| r != key);
            if was_in_rooms && client.rooms.is_empty() {
                self.lobby.insert(client.nick_key.clone(), id);
            }
        }
    }

    /// Notes that an account was last seen at `unix_ms` and is offline.
    pub(crate) fn note_offline(&mut self, key: &NameKey, unix_ms: u64) {
        if let Some(account) = self.accounts.get_mut(key) {
            if let Some(before) = account.last_seen_ms.replace(unix_ms) {
                self.offline_seen.remove(&(Reverse(before), key.clone()));
            }
            self.offline_seen.insert((Reverse(unix_ms), key.clone()));
        }
    }

    /// Notes that an account logged in at `unix_ms`: it is online.
    pub(crate) fn note_online(&mut self, key: &NameKey, unix_ms: u64) {
        if let Some(account) = self.accounts.get_mut(key)
            && let Some(before) = account.last_seen_ms.replace(unix_ms)
        {
            self.offline_seen.remove(&(Reverse(before), key.clone()));
        }
    }

    /// Everyone who shares at least one room with `id`, each once, by id.
    pub(crate) fn roommates(&self, id: ClientId) -> BTreeMap<ClientId, Wire> {
        let mut mates = BTreeMap::new();
        if let Some(client) = self.clients.get(&id) {
            for key in &client.rooms {
                if let Some(room) = self.rooms.get(key) {
                    mates.extend(room.members.iter().filter(|(m, _)| *m != id));
                }
            }
        }
        mates
    }

    /// Says goodbye to a client and forgets it.
    pub(crate) fn close(&mut self, out: &mut Outbox, now: Now, id: ClientId, reason: DisconnectReason) {
        if !self.clients.contains_key(&id) {
            return;
        }
        self.tell(out, id, Event::Bye { reason: &reason });
        self.remove_client(out, now, id, &reason, true);
        out.push(Output::Close { client: id, reason });
    }

    /// Forgets a client, telling its roommates (and the Lobby, if so
    /// configured) why it left, if `announce`.
    pub(crate) fn remove_client(
        &mut self,
        out: &mut Outbox,
        now: Now,
        id: ClientId,
        reason: &DisconnectReason,
        announce: bool,
    ) {
        let mut recipients = if announce { self.roommates(id) } else { BTreeMap::new() };
        if announce && self.config.announce_lobby_presence {
            recipients.extend(self.lobby_except(id));
        }
        let Some(mut client) = self.clients.remove(&id) else {
            return;
        };
        self.timers.disarm(id, &mut client);
        self.counts.disconnected(client.codec);
        self.nicks.remove(&client.nick_key);
        if self.lobby.get(&client.nick_key) == Some(&id) {
            self.lobby.remove(&client.nick_key);
        }
        self.departed.record(&client, now.unix_ms);
        if client.irc.as_ref().is_some_and(|session| !session.registered) {
            self.irc_unregistered -= 1;
        }
        self.unindex_blocks(id, &client);
        self.carried_blocks.remove(&id);
        if let Some(key) = &client.account {
            self.note_offline(key, now.unix_ms);
            if let Some(account) = self.accounts.get(key) {
                out.persist(Record::LastSeen { account: account.name.clone(), unix_ms: now.unix_ms });
            }
        }
        for key in &client.rooms {
            if let Some(room) = self.rooms.get_mut(key) {
                room.members.remove(id);
            }
            self.note_if_vacated(out, now, key);
        }
        out.fanout(recipients, &Event::Disconnected { nick: &client.nick, host: &client.host, reason });
    }
}

/// The longest line an IRC client may send: 4,096 bytes of tags and 510
/// of message (IRCv3's limits for what a client sends).
const IRC_MAX_LINE: usize = 4096 + 510;

/// Control characters other than tab have no place in a chat line: they
/// can rewrite a reader's terminal.
pub(crate) fn has_control(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\t')
}

/// Characters that change the layout of what follows them on a line:
/// bidirectional embeddings, overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069), and the line and paragraph separators U+2028 and U+2029,
/// which some terminals and pages break lines at. With them a message
/// could reorder or restart the line it is shown on and pass for another
/// sender's. Directional marks (U+200E, U+200F, U+061C), zero-width
/// joiners (emoji, Persian) and right-to-left letters stay allowed: they
/// affect only the message's own text.
pub(crate) fn has_layout_control(text: &str) -> bool {
    text.chars().any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}'))
}

/// Why `text` may not be shown to others, if it may not.
pub(crate) fn unsafe_text(text: &str) -> Option<Rejection> {
    if has_control(text) {
        Some(Rejection::ControlCharacter)
    } else if has_layout_control(text) {
        Some(Rejection::LayoutCharacter)
    } else {
        None
    }
}
