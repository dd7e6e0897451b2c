//! The engine: the state machine's inputs (`handle_*`), outputs (`poll_*`)
//! and getters. What each command does lives in `commands.rs`, accounts in
//! `auth.rs`, deadlines in `timers.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Instant;

use crate::Config;
use crate::account::{Account, AuthRequestId};
use crate::auth::PendingAuth;
use crate::client::{Client, FloodBucket};
use crate::codec::{Codec, Rendered};
use crate::error::{Error, Rejection};
use crate::event::Event;
use crate::framer::{Frame, LineFramer};
use crate::lockout::{LoginFailures, Registrations, SourceKey};
use crate::names::NameKey;
use crate::output::{ClientId, DisconnectReason, Output};
use crate::record::Record;
use crate::room::Room;
use crate::time::Now;
use crate::timers::{Due, Timers};

/// The chat engine: a lobby, rooms and users, as a pure state machine.
///
/// Methods come in four groups, as in other sans-IO protocol engines:
///
/// * **getters** ([`config`](Self::config), [`client_count`](Self::client_count),
///   [`nick`](Self::nick), ...) read state;
/// * **`handle_*`** feed it an input that happened at `now`;
/// * **[`poll_output`](Self::poll_output)** drains what the inputs produced, in order;
/// * **[`poll_timeout`](Self::poll_timeout)** says when
///   [`handle_timeout`](Self::handle_timeout) is next due.
///
/// After every `handle_*` call, drain `poll_output` until it returns `None`,
/// then re-arm your timer from `poll_timeout`. See the crate docs for a run
/// loop.
#[derive(Debug)]
pub struct Engine {
    pub(crate) config: Config,
    pub(crate) clients: BTreeMap<ClientId, Client>,
    pub(crate) nicks: HashMap<NameKey, ClientId>,
    pub(crate) rooms: BTreeMap<NameKey, Room>,
    pub(crate) accounts: BTreeMap<NameKey, Account>,
    /// Online clients that block each name, so a room message checks one
    /// map entry for its sender instead of every recipient's block list.
    pub(crate) blockers: BTreeMap<NameKey, BTreeSet<ClientId>>,
    /// Offline messages kept across all mailboxes.
    pub(crate) offline_total: usize,
    pub(crate) pending_auth: BTreeMap<AuthRequestId, PendingAuth>,
    pub(crate) login_failures: LoginFailures,
    pub(crate) registrations: Registrations,
    pub(crate) timers: Timers,
    /// Set while the embedder's store fails; see `StorageStatus`.
    pub(crate) storage_failing: bool,
    pub(crate) output: VecDeque<Output>,
    next_client: u64,
    pub(crate) next_guest: u64,
    pub(crate) next_request: u64,
}

impl Engine {
    /// An engine with no clients, rooms or accounts.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            clients: BTreeMap::new(),
            nicks: HashMap::new(),
            rooms: BTreeMap::new(),
            accounts: BTreeMap::new(),
            blockers: BTreeMap::new(),
            offline_total: 0,
            pending_auth: BTreeMap::new(),
            login_failures: LoginFailures::default(),
            registrations: Registrations::default(),
            timers: Timers::default(),
            storage_failing: false,
            output: VecDeque::new(),
            next_client: 1,
            next_guest: 1,
            next_request: 1,
        }
    }

    // ---- getters ----

    /// The limits this engine enforces.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Clients connected now.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// Rooms that exist now.
    pub fn room_count(&self) -> usize {
        self.rooms.len()
    }

    /// Registered accounts.
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// A connected client's nickname.
    pub fn nick(&self, client: ClientId) -> Option<&str> {
        self.clients.get(&client).map(|c| &*c.nick)
    }

    /// The account a connected client is logged in to, if any.
    pub fn account_of(&self, client: ClientId) -> Option<&str> {
        let key = self.clients.get(&client)?.account.as_ref()?;
        self.accounts.get(key).map(|a| &*a.name)
    }

    /// The codec a connected client speaks.
    pub fn codec(&self, client: ClientId) -> Option<Codec> {
        self.clients.get(&client).map(|c| c.codec)
    }

    /// The rooms a connected client is in, in the order it joined them.
    pub fn rooms_of(&self, client: ClientId) -> Option<Vec<&str>> {
        let c = self.clients.get(&client)?;
        Some(c.rooms.iter().filter_map(|key| self.rooms.get(key)).map(|r| &*r.name).collect())
    }

    /// Every room's name and member count, sorted by name.
    pub fn room_summaries(&self) -> impl Iterator<Item = (&str, usize)> {
        self.rooms.values().map(|r| (&*r.name, r.members.len()))
    }

    /// Members of a room, if it exists.
    pub fn members(&self, room: &str) -> Option<impl Iterator<Item = ClientId> + '_> {
        self.rooms.get(&NameKey::of(room)).map(|r| r.members.iter().map(|(id, _)| id))
    }

    /// Messages a room keeps for replay now, if it exists.
    pub fn history_len(&self, room: &str) -> Option<usize> {
        self.rooms.get(&NameKey::of(room)).map(|r| r.history.len())
    }

    /// Whispers waiting for an offline account, if it exists.
    pub fn offline_len(&self, account: &str) -> Option<usize> {
        self.accounts.get(&NameKey::of(account)).map(|a| a.mailbox.len())
    }

    /// Every connected client, by id.
    pub fn clients(&self) -> impl Iterator<Item = ClientId> + '_ {
        self.clients.keys().copied()
    }

    // ---- inputs ----

    /// A new connection whose source address is unknown (all such
    /// connections count as one source for login and registration limits).
    /// See [`handle_connect_from`](Self::handle_connect_from).
    pub fn handle_connect(&mut self, now: Now) -> ClientId {
        self.connect(now, None)
    }

    /// A new connection from `source`. Returns its id. If `max_clients` are
    /// already connected, the output holds a one-line farewell and a
    /// [`Output::Close`] for the new id, which is then already stale.
    /// Otherwise the client is in the Lobby, as a guest, with a welcome.
    pub fn handle_connect_from(&mut self, now: Now, source: IpAddr) -> ClientId {
        self.connect(now, Some(SourceKey::of(source)))
    }

    fn connect(&mut self, now: Now, source: Option<SourceKey>) -> ClientId {
        let id = ClientId(self.next_client);
        self.next_client += 1;
        if self.clients.len() >= self.config.max_clients {
            let reason = DisconnectReason::ServerFull;
            let data = Codec::Text.render(&Event::Bye { reason: &reason });
            self.output.push_back(Output::Send { to: id, data });
            self.output.push_back(Output::Close { client: id, reason });
            return id;
        }
        let nick = self.fresh_guest_name();
        let nick_key = NameKey::of(&nick);
        let registration_timeout = self.config.registration_timeout;
        let mut client = Client {
            nick,
            nick_key: nick_key.clone(),
            codec: Codec::Text,
            codec_chosen: false,
            framer: LineFramer::default(),
            rooms: Vec::new(),
            source,
            account: None,
            blocks: BTreeMap::new(),
            auth_pending: None,
            registration_deadline: (!registration_timeout.is_zero()).then(|| now.instant + registration_timeout),
            last_activity: now.instant,
            idle_warned: false,
            timer: None,
            history_cursor: None,
            flood: FloodBucket::full(self.config.flood_burst, now.instant),
        };
        self.timers.rearm(id, &mut client, &self.config);
        let welcome = Codec::Text.render(&Event::Welcome { server: &self.config.server_name, nick: &client.nick });
        self.output.push_back(Output::Send { to: id, data: welcome });
        if self.config.announce_lobby_presence {
            let lobby: Vec<(ClientId, Codec)> = self.lobby_except(id).collect();
            self.fanout(lobby, Event::Connected { nick: &client.nick });
        }
        self.nicks.insert(nick_key, id);
        self.clients.insert(id, client);
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

    /// Bytes received from a client: any number of lines, or part of one.
    /// Each complete line is acted on in order; bad lines are answered with
    /// an error to this client only.
    pub fn handle_input(&mut self, now: Now, client: ClientId, bytes: &[u8]) -> Result<(), Error> {
        let max_line = self.config.max_line_bytes;
        let Some(state) = self.clients.get_mut(&client) else {
            return Err(Error::UnknownClient(client));
        };
        let mut framer = std::mem::take(&mut state.framer);
        framer.push(max_line, bytes, |frame| self.handle_frame(now, client, frame));
        // The client may have quit in the middle of these bytes.
        if let Some(state) = self.clients.get_mut(&client) {
            state.framer = framer;
        }
        Ok(())
    }

    /// The connection closed or failed. Those who shared a room are told.
    pub fn handle_disconnect(&mut self, now: Now, client: ClientId, reason: DisconnectReason) -> Result<(), Error> {
        if !self.clients.contains_key(&client) {
            return Err(Error::UnknownClient(client));
        }
        self.remove_client(now, client, &reason, true);
        Ok(())
    }

    /// Time has reached a deadline from [`poll_timeout`](Self::poll_timeout)
    /// (calling it early or late is harmless).
    pub fn handle_timeout(&mut self, now: Now) {
        while let Some(id) = self.timers.pop_due(now.instant) {
            let Some(client) = self.clients.get_mut(&id) else {
                continue;
            };
            client.timer = None;
            match client.next_deadline(&self.config) {
                None => {}
                Some((at, _)) if at > now.instant => self.timers.rearm(id, client, &self.config),
                Some((_, Due::Registration)) => self.close(now, id, DisconnectReason::RegistrationTimeout),
                Some((_, Due::IdleWarning)) => {
                    client.idle_warned = true;
                    self.timers.rearm(id, client, &self.config);
                    // Rounded up: a wake a moment late must not announce "0 s" or one second too few.
                    let left = client
                        .next_deadline(&self.config)
                        .map_or(0, |(at, _)| crate::auth::secs_until(now.instant, at));
                    self.tell(id, Event::IdleWarning { seconds: left });
                }
                Some((_, Due::IdleDisconnect)) => self.close(now, id, DisconnectReason::IdleTimeout),
            }
        }
    }

    /// The embedder is shutting down: every client is told and closed.
    pub fn handle_shutdown(&mut self, now: Now) {
        let ids: Vec<ClientId> = self.clients.keys().copied().collect();
        // Everyone is leaving: each is told once, not of every other departure.
        let reason = DisconnectReason::ServerShutdown;
        for id in ids {
            self.tell(id, Event::Bye { reason: &reason });
            self.remove_client(now, id, &reason, false);
            self.output.push_back(Output::Close { client: id, reason: reason.clone() });
        }
    }

    // ---- outputs ----

    /// The next thing to do, in the order produced. Drain it after every input.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.output.pop_front()
    }

    /// Outputs waiting to be drained.
    pub fn pending_output(&self) -> usize {
        self.output.len()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called,
    /// if any timer is armed. May be earlier than strictly needed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    // ---- internals shared with the command modules ----

    fn handle_frame(&mut self, now: Now, id: ClientId, frame: Frame<'_>) {
        let Some(client) = self.clients.get_mut(&id) else {
            return; // quit earlier in the same read
        };
        client.last_activity = now.instant;
        client.idle_warned = false;
        if !self.config.require_login && client.registration_deadline.take().is_some() {
            // The idle deadline that replaces it may come sooner.
            self.timers.rearm(id, client, &self.config);
        }
        let line = match frame {
            Frame::Overlong => return self.reject(id, Rejection::LineTooLong { limit: self.config.max_line_bytes }),
            Frame::Line(line) => line,
        };
        let Ok(line) = std::str::from_utf8(line) else {
            return self.reject(id, Rejection::InvalidUtf8);
        };
        if line.trim().is_empty() {
            return;
        }
        if has_control(line) {
            return self.reject(id, Rejection::ControlCharacter);
        }
        if !client.flood.try_take(now.instant, self.config.flood_burst, self.config.flood_lines_per_sec) {
            return self.reject(id, Rejection::Flood);
        }
        let mut welcome = None;
        if !client.codec_chosen {
            // The first line picks the codec; a client in no room yet has no memberships to update.
            client.codec_chosen = true;
            client.codec = Codec::detect(line);
            if client.codec != Codec::Text {
                welcome =
                    Some(client.codec.render(&Event::Welcome { server: &self.config.server_name, nick: &client.nick }));
            }
        }
        let codec = client.codec;
        if let Some(data) = welcome {
            self.send(id, data);
        }
        match codec.parse(line) {
            Ok(command) => self.execute(now, id, command),
            Err(rejection) => self.reject(id, rejection),
        }
    }

    /// Emits a durable fact, if the embedder stores them.
    pub(crate) fn persist(&mut self, record: Record) {
        if self.config.emit_records {
            self.output.push_back(Output::Persist(Box::new(record)));
        }
    }

    /// Queues bytes for one client.
    pub(crate) fn send(&mut self, to: ClientId, data: bytes::Bytes) {
        self.output.push_back(Output::Send { to, data });
    }

    /// Renders `event` for one client in its codec and queues it.
    pub(crate) fn tell(&mut self, to: ClientId, event: Event<'_>) {
        if let Some(codec) = self.clients.get(&to).map(|c| c.codec) {
            let data = codec.render(&event);
            self.send(to, data);
        }
    }

    /// Tells one client why its line was refused.
    pub(crate) fn reject(&mut self, to: ClientId, rejection: Rejection) {
        self.tell(to, Event::Error { rejection: &rejection });
    }

    /// Sends one event to many clients, rendering it once per codec.
    pub(crate) fn fanout(&mut self, recipients: impl IntoIterator<Item = (ClientId, Codec)>, event: Event<'_>) {
        let mut rendered = Rendered::new(event);
        for (to, codec) in recipients {
            self.output.push_back(Output::Send { to, data: rendered.get(codec) });
        }
    }

    /// Clients in no room, other than `except`.
    pub(crate) fn lobby_except(&self, except: ClientId) -> impl Iterator<Item = (ClientId, Codec)> + '_ {
        self.clients.iter().filter(move |(id, c)| **id != except && c.rooms.is_empty()).map(|(id, c)| (*id, c.codec))
    }

    /// Everyone who shares at least one room with `id`, each once, by id.
    pub(crate) fn roommates(&self, id: ClientId) -> BTreeMap<ClientId, Codec> {
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
    pub(crate) fn close(&mut self, now: Now, id: ClientId, reason: DisconnectReason) {
        if !self.clients.contains_key(&id) {
            return;
        }
        self.tell(id, Event::Bye { reason: &reason });
        self.remove_client(now, id, &reason, true);
        self.output.push_back(Output::Close { client: id, reason });
    }

    /// Forgets a client, telling its roommates (and the Lobby, if so
    /// configured) why it left.
    fn remove_client(&mut self, now: Now, id: ClientId, reason: &DisconnectReason, announce: bool) {
        let mut recipients = if announce { self.roommates(id) } else { BTreeMap::new() };
        if announce && self.config.announce_lobby_presence {
            recipients.extend(self.lobby_except(id));
        }
        let Some(mut client) = self.clients.remove(&id) else {
            return;
        };
        self.timers.disarm(id, &mut client);
        self.nicks.remove(&client.nick_key);
        self.unindex_blocks(id, &client);
        if let Some(account) = client.account.as_ref().and_then(|key| self.accounts.get_mut(key)) {
            account.last_seen_ms = Some(now.unix_ms);
            let record = Record::LastSeen { account: account.name.clone(), unix_ms: now.unix_ms };
            self.persist(record);
        }
        for key in &client.rooms {
            if let Some(room) = self.rooms.get_mut(key) {
                room.members.remove(id);
            }
        }
        self.fanout(recipients, Event::Disconnected { nick: &client.nick, reason });
    }
}

/// Control characters other than tab have no place in a chat line: they
/// can rewrite a reader's terminal.
pub(crate) fn has_control(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\t')
}
