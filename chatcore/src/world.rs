//! The world: parts that each keep their state private and their rules
//! by their methods: the client table ([`Clients`], under `client/`, as
//! only it may change a client's codec), [`Names`] (nicknames and the
//! Lobby), [`Rooms`], [`Accounts`], [`Blocks`], [`Logins`], `Timers`,
//! on IRC's side `Visitors` (LUSERS's counts and WHOWAS), and in cluster
//! mode [`ClusterNode`] (publications and gaps), `Claims` and `Remote`,
//! each in its own file. What spans parts is here: connecting, input, a client's
//! memberships and the Lobby, departures.
//! Command handlers run in a [`Turn`](crate::turn::Turn), which holds the
//! world and the [`Outbox`] beside it, so they can walk the world and
//! queue output at the same time.

use std::collections::BTreeMap;

use crate::Config;
use crate::client::{Client, Clients, FloodBucket};
use crate::cluster::PresenceChange;
use crate::codec::{Codec, LineReader, Wire};
use crate::command::Verb;
use crate::error::Rejection;
use crate::event::Event;
use crate::framer::Frame;
use crate::irc::session::IrcSession;
use crate::irc::visitors::{Departure, Visitors};
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::{ClientId, DisconnectReason, Output};
use crate::record::Record;
use crate::source::SourceKey;
use crate::stats::Counters;
use crate::time::Now;
use crate::timers::{Due, Timers};

mod accounts;
mod blocks;
mod claims;
mod cluster;
mod logins;
mod names;
mod operators;
mod remote;
mod rooms;
mod sessions;
mod tokens;

pub(crate) use accounts::{Account, Accounts, OfflineMessage};
pub(crate) use blocks::Blocks;
pub(crate) use claims::{ClaimFor, Claims, PendingClaim};
pub(crate) use cluster::{ClusterNode, Held, PendingPublish};
pub(crate) use logins::Logins;
pub(crate) use names::Names;
pub(crate) use operators::Operators;
pub(crate) use remote::Remote;
pub(crate) use rooms::Rooms;
pub(crate) use sessions::Sessions;
pub(crate) use tokens::{Token, Tokens};

/// The engine's state, apart from its output queue.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) config: Config,
    /// Every connected client, the ids issued, and the clients per codec.
    pub(crate) clients: Clients,
    /// Every client by nickname, and the Lobby's clients, in name order.
    pub(crate) names: Names,
    /// Every room, with its creation counts and expiry.
    pub(crate) rooms: Rooms,
    /// Every account, with offline whispers and last-seen times counted across them.
    pub(crate) accounts: Accounts,
    /// The connections logged in to each account.
    pub(crate) sessions: Sessions,
    /// Session tokens by id and by account (their hashes only).
    pub(crate) tokens: Tokens,
    /// Who blocks each name, and blocks carried across renames.
    pub(crate) blocks: Blocks,
    /// Password checks under way, failed logins and registrations counted.
    pub(crate) logins: Logins,
    pub(crate) timers: Timers,
    /// Set while the embedder's store fails; see `StorageStatus`.
    pub(crate) storage_failing: bool,
    /// Users and IRC clients still registering counted for LUSERS, and
    /// who recently left, for WHOWAS.
    pub(crate) visitors: Visitors,
    /// What `Engine::stats` reports beyond the tables' lengths.
    pub(crate) counts: Counters,
    /// The last id given to a message that is not kept (a TAGMSG's).
    pub(crate) ephemeral_ids: u64,
    /// With `Config::cluster`: publications under way, and rooms waiting
    /// for a missing message.
    pub(crate) cluster: ClusterNode,
    /// In a cluster: name claims under way.
    pub(crate) claims: Claims,
    /// In a cluster: other nodes' users in a room here.
    pub(crate) remote: Remote,
    /// The server operators' accounts and their broadcast allowances.
    pub(crate) operators: Operators,
}

impl World {
    pub(crate) fn new(config: Config) -> Self {
        Self {
            operators: Operators::new(&config.operators),
            config,
            clients: Clients::default(),
            names: Names::default(),
            rooms: Rooms::default(),
            accounts: Accounts::default(),
            sessions: Sessions::default(),
            tokens: Tokens::default(),
            blocks: Blocks::default(),
            logins: Logins::default(),
            timers: Timers::default(),
            storage_failing: false,
            visitors: Visitors::default(),
            counts: Counters::default(),
            ephemeral_ids: 0,
            cluster: ClusterNode::default(),
            claims: Claims::default(),
            remote: Remote::default(),
        }
    }

    /// The account a connected client is logged in to, if any.
    pub(crate) fn account_of(&self, client: ClientId) -> Option<&str> {
        let key = self.clients.get(&client)?.account.as_ref()?;
        self.accounts.get(key).map(|a| &*a.name)
    }

    /// Whether a connected client is a server operator: logged in to an
    /// account `Config::operators` names or the store granted. A guest,
    /// or an id not connected, is not.
    pub(crate) fn is_server_operator(&self, client: ClientId) -> bool {
        let account = self.clients.get(&client).and_then(|c| c.account.as_ref());
        account.is_some_and(|key| self.operators.contains(key))
    }

    /// The connections logged in to `account`, oldest first.
    pub(crate) fn sessions_of(&self, account: &NameKey) -> &[ClientId] {
        self.sessions.of(account)
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
        let id = self.clients.issue();
        let irc = codec == Codec::Irc;
        if self.clients.len() >= self.config.max_clients {
            let reason = DisconnectReason::ServerFull;
            out.tell(id, codec, &Event::Bye { reason: &reason });
            out.push(Output::Close { client: id, reason });
            return id;
        }
        let nick = if self.config.cluster { self.fresh_guest_name() } else { self.names.fresh_guest_name(|_| false) };
        let nick_key = NameKey::of(&nick);
        let registration_timeout = self.config.registration_timeout;
        let session = irc.then(|| {
            Box::new(IrcSession { server_password: irc_password, ..IrcSession::new(&self.config.server_name) })
        });
        let flood = FloodBucket::full(self.config.flood_burst, now.instant);
        let mut client = Client::new(nick, codec, flood, now.instant);
        client.source = source;
        client.host = self.config.hosts.host_of(source);
        client.registration_deadline = (!registration_timeout.is_zero()).then(|| now.instant + registration_timeout);
        client.irc = session;
        client.refuse_passwords = refuse_passwords;
        self.timers.rearm(id, &mut client, &self.config);
        // In a cluster, greeted once the other nodes grant its name.
        let claiming = self.config.cluster.then(|| client.nick.clone());
        client.name_pending = claiming.is_some();
        if claiming.is_none() {
            self.greet(out, id, &client);
        }
        self.names.arrive(nick_key, id);
        self.clients.insert(id, Box::new(client));
        self.visitors.arrive(irc);
        if let Some(name) = claiming {
            self.claim_first_name(out, now, id, &name);
        }
        // Rooms restored empty start counting towards expiry once time is known.
        self.rooms.schedule_sweep(now, &self.config);
        id
    }

    /// Welcomes a new client (an IRC client: once it registers) and tells
    /// the Lobby, if so configured.
    pub(crate) fn greet(&self, out: &mut Outbox, id: ClientId, client: &Client) {
        if client.irc.is_none() {
            out.tell(id, client.codec(), &Event::Welcome { server: &self.config.server_name, nick: &client.nick });
        }
        if self.config.announce_lobby_presence {
            out.fanout(self.lobby_except(id), &Event::Connected { nick: &client.nick });
        }
    }

    /// Acts on every complete line in `bytes` from a connected client.
    pub(crate) fn input(&mut self, out: &mut Outbox, now: Now, id: ClientId, bytes: &[u8]) {
        let Some(state) = self.clients.get_mut(&id) else {
            return;
        };
        // An IRC line may carry 4,096 bytes of tags before its 510.
        let max_line = match state.codec() {
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

    pub(crate) fn handle_frame(&mut self, out: &mut Outbox, now: Now, id: ClientId, frame: Frame<'_>) {
        if self.config.cluster && self.hold_if_claiming(out, now, id, &frame) {
            return;
        }
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
                return out.send(id, client.render(&Event::Error { rejection: &rejection, verb: None }));
            }
            Frame::Line(line) => line,
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let Some(reader) = LineReader::of(client.codec()) else {
            // Refused for flooding once its label is known, to name it.
            let allowance = self.take_line_allowance(now, id);
            return self.irc_line(out, now, id, line, allowance);
        };
        // The first line picks the codec, from its bytes, so a JSON line
        // that is not valid UTF-8 is answered in JSON too. Only a text
        // client may switch: one connected as JSON stays JSON. A client in
        // no room yet has no memberships to update.
        let (client, reader) = if client.codec_chosen() {
            (client, reader)
        } else {
            let detected = LineReader::detect(line);
            let switched = self.clients.choose_codec(id, detected.codec());
            if switched {
                let welcome = Event::Welcome { server: &self.config.server_name, nick: &self.clients[&id].nick };
                self.tell(out, id, welcome);
            }
            let Some(client) = self.clients.get_mut(&id) else { return };
            (client, if switched { detected } else { reader })
        };
        let codec = client.codec();
        let Ok(line) = std::str::from_utf8(line) else {
            return out.tell(id, codec, &Event::Error { rejection: &Rejection::InvalidUtf8, verb: None });
        };
        if line.trim().is_empty() {
            return;
        }
        // The id comes off first, so that every answer names it, a refusal
        // of the raw line or for flooding too.
        let request = reader.read(line);
        let tagged = request.tag.is_some();
        if let Some(tag) = request.tag {
            out.begin_reply(id, tag);
        }
        if let Some(rejection) = unsafe_text(line) {
            out.tell(id, codec, &Event::Error { rejection: &rejection, verb: None });
        } else if !client.flood.try_take(now.instant, self.config.flood_burst, self.config.flood_lines_per_sec) {
            self.counts.refused(&Rejection::Flood);
            out.tell(id, codec, &Event::Error { rejection: &Rejection::Flood, verb: None });
        } else {
            match request.command {
                Ok(command) => self.execute(out, now, id, command),
                Err(rejection) => out.tell(id, codec, &Event::Error { rejection: &rejection, verb: None }),
            }
        }
        if tagged {
            out.end_reply(true);
        }
    }

    /// Handles every deadline due by `now`.
    pub(crate) fn timeout(&mut self, out: &mut Outbox, now: Now) {
        self.rooms.expire_due(out, now, &self.config);
        self.backfill_due(out, now);
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
        self.reject_command(out, to, None, rejection);
    }

    /// Tells one client why its line, a command of `verb` if it was read
    /// as one, was refused.
    pub(crate) fn reject_command(&mut self, out: &mut Outbox, to: ClientId, verb: Option<Verb>, rejection: Rejection) {
        self.counts.refused(&rejection);
        self.tell(out, to, Event::Error { rejection: &rejection, verb });
    }

    /// Clients in no room, other than `except`: a walk of the Lobby, not
    /// of every client.
    pub(crate) fn lobby_except(&self, except: ClientId) -> impl Iterator<Item = (ClientId, Wire)> + '_ {
        self.names
            .lobby()
            .filter(move |id| *id != except)
            .filter_map(|id| self.clients.get(&id).map(|c| (id, c.wire())))
    }

    /// Notes that `id` joined `key`: it is no longer in the Lobby.
    pub(crate) fn add_membership(&mut self, id: ClientId, key: NameKey) {
        if let Some(client) = self.clients.get_mut(&id) {
            if client.rooms.is_empty() {
                self.names.leave_lobby(&client.nick_key, id);
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
                self.names.enter_lobby(&client.nick_key, id);
            }
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

    /// Who shares a room with `id` where no other connection of its
    /// account is: those who see it go when it leaves, each once.
    pub(crate) fn roommates_left_alone(&self, id: ClientId) -> BTreeMap<ClientId, Wire> {
        let mut mates = BTreeMap::new();
        if let Some(client) = self.clients.get(&id) {
            for key in client.rooms.iter().filter(|key| self.devices_in(id, key).is_empty()) {
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
        // While another connection of its account stays, the account is
        // still here: its roommates hear of nothing.
        let others = self.other_devices(id);
        // An always-on account stays where no other connection of it is,
        // absent: nobody hears of it.
        let account = self.clients.get(&id).and_then(|c| c.account.clone());
        let stays = account.as_ref().is_some_and(|key| self.always_on(key));
        let announce = announce && !stays;
        let mut recipients = if announce { self.roommates_left_alone(id) } else { BTreeMap::new() };
        if announce && self.config.announce_lobby_presence && others.is_empty() {
            recipients.extend(self.lobby_except(id));
        }
        let staying: Vec<(NameKey, Option<ClientId>)> = self
            .clients
            .get(&id)
            .map(|c| c.rooms.iter().map(|key| (key.clone(), self.devices_in(id, key).first().copied())).collect())
            .unwrap_or_default();
        let Some(mut client) = self.clients.remove(id) else {
            return;
        };
        self.timers.disarm(id, &mut client);
        self.names.depart(&client.nick_key, id);
        self.pass_name(&client.nick_key, others.first().copied());
        let registering = client.irc.as_ref().is_some_and(|session| !session.registered);
        self.visitors.depart(registering, Departure::of(&client, now.unix_ms));
        self.blocks.depart(id, client.blocks.keys());
        if let Some(key) = &client.account {
            self.sessions.remove(key, id);
            if others.is_empty() {
                self.accounts.note_offline(key, now.unix_ms);
                if let Some(account) = self.accounts.get(key) {
                    out.persist(Record::LastSeen { account: account.name.clone(), unix_ms: now.unix_ms });
                }
            }
        }
        for (key, next) in &staying {
            if let Some(room) = self.rooms.get_mut(key) {
                let was_presence = !room.members.is_extra(id);
                room.members.remove(id);
                if let Some(next) = next.filter(|_| was_presence) {
                    room.members.promote(next);
                }
            }
            if let Some(account) = account.as_ref().filter(|_| stays && next.is_none()) {
                self.stay_absent(account, key);
            }
            self.vacated(out, now, key);
        }
        out.fanout(recipients, &Event::Disconnected { nick: &client.nick, host: &client.host, reason });
        if self.config.cluster {
            if others.is_empty() {
                if !client.rooms.is_empty() {
                    self.announce(out, || PresenceChange::Quit { nick: client.nick.clone(), reason: reason.clone() });
                }
            } else {
                // The account stays on through its other connections; it
                // leaves only the rooms none of them is in.
                for (key, _) in staying.iter().filter(|(_, next)| next.is_none()) {
                    let room = self.rooms.get(key).map_or_else(|| key.as_str().into(), |r| r.name.clone());
                    let (nick, reason) = (client.nick.clone(), None);
                    out.push(Output::Cluster(crate::cluster::ClusterRequest::Presence(PresenceChange::Left {
                        room,
                        nick,
                        reason,
                    })));
                }
            }
            if !client.name_pending {
                self.release_if_unused(out, &client.nick);
            }
        }
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
