//! The engine's whole public interface, in one place: constructors, getters,
//! `handle_*` inputs and `poll_*` outputs. Each method delegates to the
//! crate-private code of its concept (`world.rs`, `commands.rs`, `auth.rs`,
//! `replay.rs`, `restore.rs`).

use std::time::Instant;

use crate::account::{AuthRequestId, PasswordHash};
use crate::cluster::{ClaimAnswer, ClaimId, PresenceChange, PublishTicket, RemoteWhisper, RoomMessage};
use crate::codec::Codec;
use crate::config::{Config, ConfigError};
use crate::connect_info::ConnectInfo;
use crate::error::Error;
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::{ClientId, DisconnectReason, HistoryTarget, Output};
use crate::record::{Record, RestoreError, StoredMessage};
use crate::restore::StorageStatus;
use crate::source::SourceKey;
use crate::stats::Stats;
use crate::time::Now;
use crate::token::TokenSecret;
use crate::world::World;

/// The chat engine: a lobby, rooms and users, as a pure state machine.
///
/// Methods come in four groups, as in other sans-IO protocol engines:
///
/// * **constructors**: [`new`](Self::new) for an empty engine,
///   [`restore`](Self::restore) to rebuild one from stored records;
/// * **getters** ([`config`](Self::config), [`client_count`](Self::client_count),
///   [`nick`](Self::nick), [`stats`](Self::stats), ...) read state;
/// * **`handle_*`** feed it an input that happened at `now`;
/// * **`poll_*`**: [`poll_output`](Self::poll_output) drains what the
///   inputs produced, in order; [`poll_timeout`](Self::poll_timeout) says
///   when [`handle_timeout`](Self::handle_timeout) is next due.
///
/// After every `handle_*` call (or a batch of them), drain `poll_output`
/// until it returns `None`, then re-arm your timer from `poll_timeout`.
/// See the crate docs for a run loop.
#[derive(Debug)]
pub struct Engine {
    pub(crate) world: World,
    pub(crate) out: Outbox,
}

impl Engine {
    // ---- constructors ----

    /// An engine with no clients, rooms or accounts, or the first setting
    /// of `config` that makes no sense (see [`Config::validate`]).
    ///
    /// ```
    /// use chatcore::{Config, Engine};
    /// let engine = Engine::new(Config::default())?;
    /// assert_eq!(engine.client_count(), 0);
    /// assert!(Engine::new(Config::default().with_max_clients(0)).is_err());
    /// # Ok::<(), chatcore::ConfigError>(())
    /// ```
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        config.validate()?;
        let out = Outbox::new(config.emit_records);
        Ok(Self { world: World::new(config), out })
    }

    /// An engine rebuilt from stored records, fed in the order they were
    /// emitted, before any client can connect. For history, the last
    /// `history_len` messages of each room are enough (and faster), but at
    /// least its last one even when `history_len` is 0: numbering continues
    /// from the last message fed.
    ///
    /// The first record that cannot be applied stops the restore with its
    /// reason; so does a `config` that [`Config::validate`] refuses.
    ///
    /// ```
    /// use chatcore::{Config, Engine, Record};
    /// let records = [Record::RoomCreated { room: "rust".into(), unix_ms: 0, owner: None }];
    /// let engine = Engine::restore(Config::default(), records)?;
    /// assert_eq!(engine.room_count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn restore(config: Config, records: impl IntoIterator<Item = Record>) -> Result<Self, RestoreError> {
        let mut engine = Self::new(config)?;
        for record in records {
            engine.world.restore(record)?;
        }
        Ok(engine)
    }

    // ---- getters ----

    /// The limits this engine enforces.
    pub fn config(&self) -> &Config {
        &self.world.config
    }

    /// Clients connected now.
    pub fn client_count(&self) -> usize {
        self.world.clients.len()
    }

    /// Rooms that exist now.
    pub fn room_count(&self) -> usize {
        self.world.rooms.len()
    }

    /// Registered accounts.
    pub fn account_count(&self) -> usize {
        self.world.accounts.len()
    }

    /// A connected client's nickname.
    pub fn nick(&self, client: ClientId) -> Option<&str> {
        self.world.clients.get(&client).map(|c| &*c.nick)
    }

    /// The account a connected client is logged in to, if any.
    pub fn account_of(&self, client: ClientId) -> Option<&str> {
        self.world.account_of(client)
    }

    /// The codec a connected client speaks.
    pub fn codec(&self, client: ClientId) -> Option<Codec> {
        self.world.clients.get(&client).map(|c| c.codec())
    }

    /// Whether a connected client has yet to register: it has not sent
    /// its first line within `Config::registration_timeout` (IRC: not
    /// completed `NICK` and `USER`; with `require_login`: not logged in).
    /// An embedder that bounds connections which are not clients yet
    /// asks this after feeding a client's input. `false` for an unknown
    /// client.
    ///
    /// ```
    /// use chatcore::{Codec, Config, ConnectInfo, Engine, Now};
    /// let mut engine = Engine::new(Config::default())?;
    /// let irc = engine.handle_connect(Now::system(), ConnectInfo::new(Codec::Irc));
    /// assert!(engine.awaiting_registration(irc));
    /// engine.handle_input(Now::system(), irc, b"NICK alice\r\nUSER alice 0 * :Alice\r\n")?;
    /// assert!(!engine.awaiting_registration(irc));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn awaiting_registration(&self, client: ClientId) -> bool {
        self.world.clients.get(&client).is_some_and(|c| {
            c.registration_deadline.is_some() || c.irc.as_ref().is_some_and(|session| !session.registered)
        })
    }

    /// Whether a connected client's name waits for the other nodes of a
    /// cluster: a guest's first name (or the next, after a refusal), or
    /// its guest name after its account's owner took its name back. Its
    /// lines wait meanwhile. Always `false` on a single node.
    pub fn awaiting_name(&self, client: ClientId) -> bool {
        self.world.clients.get(&client).is_some_and(|c| c.name_pending)
    }

    /// Whether a connected client is a server operator: logged in to an
    /// account [`Config::operators`] names or the store granted
    /// ([`Record::OperatorGranted`](crate::Record::OperatorGranted)).
    pub fn is_server_operator(&self, client: ClientId) -> bool {
        self.world.is_server_operator(client)
    }

    /// The rooms a connected client is in, in the order it joined them.
    pub fn rooms_of(&self, client: ClientId) -> Option<Vec<&str>> {
        let c = self.world.clients.get(&client)?;
        Some(c.rooms.iter().filter_map(|key| self.world.rooms.get(key)).map(|r| &*r.name).collect())
    }

    /// Every room's name and member count (in a cluster, other nodes'
    /// members too), sorted by name.
    pub fn room_summaries(&self) -> impl Iterator<Item = (&str, usize)> {
        self.world.rooms.values().map(|r| (&*r.name, r.member_count()))
    }

    /// Members of a room, if it exists.
    pub fn members(&self, room: &str) -> Option<impl Iterator<Item = ClientId> + '_> {
        self.world.rooms.get(&NameKey::of(room)).map(|r| r.members.iter().map(|(id, _)| id))
    }

    /// Messages a room keeps for replay now, if it exists.
    pub fn history_len(&self, room: &str) -> Option<usize> {
        self.world.rooms.get(&NameKey::of(room)).map(|r| r.history.len())
    }

    /// Whispers waiting for an offline account, if it exists.
    pub fn offline_len(&self, account: &str) -> Option<usize> {
        self.world.accounts.get(&NameKey::of(account)).map(|a| a.mailbox().len())
    }

    /// Every connected client, by id.
    pub fn clients(&self) -> impl Iterator<Item = ClientId> + '_ {
        self.world.clients.keys().copied()
    }

    /// Counters and gauges for monitoring: clients by codec, rooms,
    /// accounts, and what has happened since the engine was made (lines,
    /// messages, deliveries, refusals). Kept as events happen, so this
    /// only copies them: cheap however many clients there are.
    ///
    /// ```
    /// use chatcore::{Config, ConnectInfo, Engine, Now};
    /// let mut engine = Engine::new(Config::default())?;
    /// let client = engine.handle_connect(Now::system(), ConnectInfo::default());
    /// engine.handle_input(Now::system(), client, b"/nick alice\n")?;
    /// let stats = engine.stats();
    /// assert_eq!((stats.clients, stats.text_clients, stats.lines_in), (1, 1, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stats(&self) -> Stats {
        let counts = &self.world.counts;
        Stats {
            clients: self.world.clients.len(),
            text_clients: self.world.clients.speaking(Codec::Text),
            #[cfg(feature = "json")]
            json_clients: self.world.clients.speaking(Codec::Json),
            #[cfg(not(feature = "json"))]
            json_clients: 0,
            irc_clients: self.world.clients.speaking(Codec::Irc),
            rooms: self.world.rooms.len(),
            accounts: self.world.accounts.len(),
            lines_in: counts.lines_in,
            messages: counts.messages,
            deliveries: self.out.deliveries(),
            flood_refusals: counts.flood_refusals,
            login_failures: counts.login_failures,
            lockouts: counts.lockouts,
            registration_refusals: counts.registration_refusals,
            cluster_duplicates: counts.cluster_duplicates,
            cluster_ignored: counts.cluster_ignored,
            cluster_held_dropped: counts.cluster_held_dropped,
            cluster_backfills: counts.cluster_backfills,
            remote_users: self.world.remote.len(),
            remote_presence_ignored: counts.remote_presence_ignored,
            remote_whispers_dropped: counts.remote_whispers_dropped,
            remote_records_ignored: counts.remote_records_ignored,
        }
    }

    // ---- inputs ----

    /// A new connection described by `info`: what it speaks, where it
    /// comes from and the rules of its port (see [`ConnectInfo`]).
    /// Returns its id. If `max_clients` are already connected, the output
    /// holds a one-line farewell and an [`Output::Close`] for the new id,
    /// which is then already closed. Otherwise the client is in the Lobby,
    /// as a guest, with a welcome (an IRC client: once it registers).
    ///
    /// ```
    /// use chatcore::{Codec, Config, ConnectInfo, Engine, Now, Output};
    /// let mut engine = Engine::new(Config::default())?;
    /// let text = engine.handle_connect(Now::system(), ConnectInfo::new(Codec::Text));
    /// let from = engine.handle_connect(Now::system(), ConnectInfo::new(Codec::Text).from([192, 0, 2, 7].into()));
    /// assert!(matches!(engine.poll_output(), Some(Output::Send { to, .. }) if to == text)); // its welcome
    /// assert!(matches!(engine.poll_output(), Some(Output::Send { to, .. }) if to == from));
    /// let irc = engine.handle_connect(Now::system(), ConnectInfo::new(Codec::Irc).with_irc_password("sesame"));
    /// assert_eq!(engine.poll_output(), None); // welcomed once it has registered, with the password
    /// assert_eq!(engine.codec(irc), Some(Codec::Irc));
    /// # Ok::<(), chatcore::ConfigError>(())
    /// ```
    #[must_use = "the id names the connection in every later call"]
    pub fn handle_connect(&mut self, now: Now, info: ConnectInfo) -> ClientId {
        let ConnectInfo { source, codec, refuse_passwords, irc_password } = info;
        let source = source.map(SourceKey::of);
        self.world.connect(&mut self.out, now, source, codec, refuse_passwords, irc_password)
    }

    /// Bytes received from a client: any number of lines, or part of one.
    /// Each complete line is acted on in order; bad lines are answered with
    /// an error to this client only.
    ///
    /// Bytes for a client the engine has closed (an [`Output::Close`] the
    /// embedder has not carried out yet) are ignored: that race is normal.
    /// `Err` means the id was never issued.
    pub fn handle_input(&mut self, now: Now, client: ClientId, bytes: &[u8]) -> Result<(), Error> {
        self.check_issued(client)?;
        self.world.input(&mut self.out, now, client, bytes);
        Ok(())
    }

    /// The connection closed or failed. Those who shared a room are told.
    ///
    /// A client the engine has closed already (its own close racing the
    /// peer's) is `Ok` and changes nothing; `Err` means the id was never
    /// issued.
    pub fn handle_disconnect(&mut self, now: Now, client: ClientId, reason: DisconnectReason) -> Result<(), Error> {
        self.check_issued(client)?;
        self.world.remove_client(&mut self.out, now, client, &reason, true);
        Ok(())
    }

    /// Time has reached a deadline from [`poll_timeout`](Self::poll_timeout)
    /// (calling it early or late is harmless).
    pub fn handle_timeout(&mut self, now: Now) {
        self.world.timeout(&mut self.out, now);
    }

    /// The embedder is shutting down: every client is told and closed.
    pub fn handle_shutdown(&mut self, now: Now) {
        self.world.shutdown(&mut self.out, now);
    }

    /// The answer to an [`Output::HashPassword`]: the hash, or `None` if
    /// hashing failed (the client is told to try again). If the client left
    /// meanwhile, nothing is registered; if the store is failing
    /// ([`StorageStatus`]), the client is told so and nothing is registered.
    pub fn handle_password_hashed(
        &mut self,
        now: Now,
        request: AuthRequestId,
        hash: Option<PasswordHash>,
    ) -> Result<(), Error> {
        let result = self.world.password_hashed(&mut self.out, now, request, hash);
        self.out.end_reply(true);
        result
    }

    /// The answer to an [`Output::VerifyPassword`]: whether the password
    /// matched, for a login or for IRC's `OPER` (a server operator's
    /// password checked again). A mismatch counts towards the lockout even
    /// if the client has left meanwhile.
    pub fn handle_password_verified(&mut self, now: Now, request: AuthRequestId, matches: bool) -> Result<(), Error> {
        let result = self.world.password_verified(&mut self.out, now, request, matches);
        self.out.end_reply(true);
        result
    }

    /// The embedder cannot take an [`Output::HashPassword`] or
    /// [`Output::VerifyPassword`] now (say, too many are waiting): the client
    /// is told the server is busy (the `server_busy` error) and may try
    /// again; it does not count as a failed login.
    ///
    /// Takes no `now`: nothing is counted and no deadline moves.
    pub fn handle_password_busy(&mut self, request: AuthRequestId) -> Result<(), Error> {
        let result = self.world.password_busy(&mut self.out, request);
        self.out.end_reply(true);
        result
    }

    /// The answer to an [`Output::NewToken`]: 32 bytes from a CSPRNG. The
    /// client that asked is given its session token, which the engine
    /// keeps only as a hash (and, with `Config::emit_records`, persists as
    /// a [`Record::TokenIssued`](crate::Record::TokenIssued)). If the client
    /// left or logged out meanwhile, nothing is issued.
    pub fn handle_token_secret(&mut self, now: Now, request: AuthRequestId, secret: TokenSecret) -> Result<(), Error> {
        let result = self.world.token_secret(&mut self.out, now, request, secret);
        self.out.end_reply(true);
        result
    }

    /// The answer to an [`Output::FetchHistory`]: its `target`, the stored
    /// messages that were asked for, in any order, and how many of the rows
    /// asked for could not be read (a damaged store); the reader is told of
    /// that gap. If the client has left meanwhile, nothing happens; if the
    /// room was dropped or expired meanwhile, the client is told it is gone.
    ///
    /// Answer each client's fetches in the order they were asked (chatd's
    /// one store thread does): a page is tied to the oldest request of its
    /// client still waiting, so that it carries that request's JSON `id`
    /// or IRC `label`, and is placed as that request's
    /// [`HistoryRange`](crate::HistoryRange) asked (the newest messages
    /// below a number, or the oldest above it), which the engine keeps.
    ///
    /// Takes no `now`: a page shows when each message was said, and
    /// answering it changes no deadline.
    pub fn handle_history_page(
        &mut self,
        client: ClientId,
        target: &HistoryTarget,
        messages: Vec<StoredMessage>,
        unreadable: usize,
    ) -> Result<(), Error> {
        self.check_issued(client)?;
        self.world.history_page(&mut self.out, client, target, messages, unreadable);
        self.out.end_reply(true);
        Ok(())
    }

    /// The answer to a [`ClusterRequest::ClaimName`](crate::ClusterRequest::ClaimName)
    /// (cluster mode): whether the other nodes let this one have the name.
    /// Granted, what the claim was for is done (a rename, a welcome, a
    /// login); refused, the client is told the name is taken (a guest
    /// tries its next number). Then the lines the client sent meanwhile
    /// are acted on. An answer for a client that left meanwhile releases
    /// the name again if it was granted.
    ///
    /// `Err` ([`Error::UnknownClaim`]) for a claim never issued or
    /// answered already. See the [`cluster`](crate::cluster) module.
    ///
    /// ```
    /// use chatcore::{ClaimAnswer, ClusterRequest, Config, ConnectInfo, Engine, Now, Output};
    /// let mut engine = Engine::new(Config::default().with_cluster(true))?;
    /// let guest = engine.handle_connect(Now::system(), ConnectInfo::default());
    /// let Some(Output::Cluster(ClusterRequest::ClaimName { claim, name })) = engine.poll_output() else { panic!() };
    /// assert_eq!(&*name, "Guest1");
    /// assert_eq!(engine.poll_output(), None, "welcomed once the name is granted");
    /// engine.handle_name_claim(Now::system(), claim, ClaimAnswer::Granted)?;
    /// assert!(matches!(engine.poll_output(), Some(Output::Send { to, .. }) if to == guest));
    /// assert!(engine.handle_name_claim(Now::system(), claim, ClaimAnswer::Granted).is_err(), "answered once");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn handle_name_claim(&mut self, now: Now, claim: ClaimId, answer: ClaimAnswer) -> Result<(), Error> {
        let result = self.world.name_claimed(&mut self.out, now, claim, answer);
        self.out.end_reply(true);
        result
    }

    /// Another node's [`ClusterRequest::Presence`](crate::ClusterRequest::Presence),
    /// delivered in the order the [`cluster`](crate::cluster) module
    /// requires: local clients who share the room hear of it as of a
    /// local user (a join to a room not known here yet waits for the
    /// room's record). A change this node cannot apply (a user it does
    /// not know, past its limits) is ignored and counted in
    /// [`Stats::remote_presence_ignored`](crate::Stats::remote_presence_ignored):
    /// it is not misuse. Ignored on a single node.
    pub fn handle_remote_presence(&mut self, now: Now, change: PresenceChange) {
        if self.world.config.cluster {
            self.world.remote_presence(&mut self.out, now, change);
        }
    }

    /// Another node's [`ClusterRequest::Whisper`](crate::ClusterRequest::Whisper)
    /// to a user of this one: delivered as a local whisper, or dropped and
    /// counted if nobody here holds the name or its holder blocks the
    /// sender (see the [`cluster`](crate::cluster) module). Ignored on a
    /// single node.
    ///
    /// Takes no `now`: the whisper carries when it was said.
    pub fn handle_remote_whisper(&mut self, whisper: &RemoteWhisper) {
        if self.world.config.cluster {
            self.world.remote_whisper(&mut self.out, whisper);
        }
    }

    /// Another node's [`ClusterRequest::Broadcast`](crate::ClusterRequest::Broadcast):
    /// every user of this node gets it, as if its operator were here.
    /// Ignored on a single node, and if its text holds what no line may
    /// (a control or layout character).
    ///
    /// Takes no `now`: the broadcast carries when it was said.
    pub fn handle_remote_broadcast(&mut self, broadcast: &crate::RemoteBroadcast) {
        if self.world.config.cluster {
            self.world.remote_broadcast(&mut self.out, broadcast);
        }
    }

    /// A durable change another node of the cluster made and stored (an
    /// [`Output::Persist`] of its own), carried here by the embedder: the
    /// room or account changes here as there, and local clients are told
    /// as of the same change made here (a topic, modes, a dropped room).
    /// A whisper kept for an account logged in here is delivered at once,
    /// as at login (and its delivery is this node's own record). A
    /// [`Record::MessageDeleted`] only erases the message from memory:
    /// the deletion's numbered entry comes as a [`RoomMessage`]. No
    /// record of the change itself is emitted: it is stored already.
    ///
    /// A record that does not apply here (a room or account this node
    /// does not have, one it has already, a table at its limit, or a
    /// [`Record::Message`], which comes as a [`RoomMessage`]) is ignored
    /// and counted in
    /// [`Stats::remote_records_ignored`](crate::Stats::remote_records_ignored):
    /// it is not misuse. A cluster input (see the [`cluster`](crate::cluster)
    /// module), though it applies on a single node too.
    ///
    /// ```
    /// use chatcore::{Config, Engine, Now, Record};
    /// let mut engine = Engine::new(Config::default().with_cluster(true))?;
    /// let created = Record::RoomCreated { room: "rust".into(), unix_ms: 0, owner: None };
    /// engine.handle_remote_record(Now::system(), created.clone());
    /// assert_eq!(engine.room_count(), 1);
    /// engine.handle_remote_record(Now::system(), created);
    /// assert_eq!(engine.stats().remote_records_ignored, 1, "created already");
    /// assert_eq!(engine.poll_output(), None, "nothing to store: it is stored already");
    /// # Ok::<(), chatcore::ConfigError>(())
    /// ```
    pub fn handle_remote_record(&mut self, now: Now, record: Record) {
        self.world.remote_record(&mut self.out, now, record);
    }

    /// The store started or stopped failing. See [`StorageStatus`].
    ///
    /// Takes no `now`: it changes what is accepted from now on, not when
    /// anything is due.
    pub fn handle_storage_status(&mut self, status: StorageStatus) {
        self.world.storage_failing = status == StorageStatus::Failing;
    }

    /// A room message the cluster's store has numbered, from the store or
    /// the notifier, in any order and any number of times (with
    /// [`Config::cluster`]; see [`cluster`](crate::cluster)). The room's
    /// local members hear each number once, in order: the next is
    /// delivered (and any it held after it), one after a gap is held, one
    /// heard already is dropped. On the node that published it, its first
    /// copy carries its [`PublishTicket`], and the sender's request is
    /// answered with its echo or acknowledgement. A message for a room with
    /// no local members, or unknown here, is ignored.
    ///
    /// `Err` (and nothing changes) if the message is new here and its
    /// ticket was never issued, was answered already or is another room's.
    ///
    /// ```
    /// use chatcore::{ClaimAnswer, ClusterRequest, Config, Engine, Now, Output, Record, RoomMessage};
    /// let rooms = [Record::RoomCreated { room: "rust".into(), unix_ms: 0, owner: None }];
    /// let mut engine = Engine::restore(Config::default().with_cluster(true), rooms)?;
    /// let alice = engine.handle_connect(Now::system(), chatcore::ConnectInfo::default());
    /// engine.handle_input(Now::system(), alice, b"/nick alice\n/join rust\n")?;
    /// // The only node of its cluster: every name it claims (the guest name,
    /// // then alice) is granted; the rooms to follow are kept.
    /// let mut follows = Vec::new();
    /// while let Some(output) = engine.poll_output() {
    ///     match output {
    ///         Output::Cluster(ClusterRequest::ClaimName { claim, .. }) => {
    ///             engine.handle_name_claim(Now::system(), claim, ClaimAnswer::Granted)?
    ///         }
    ///         Output::Cluster(follow @ ClusterRequest::Follow { .. }) => follows.push(follow),
    ///         _ => {} // the welcome, the join; Guest1 released, alice's presence
    ///     }
    /// }
    /// assert_eq!(follows, [ClusterRequest::Follow { room: "rust".into(), after: 0 }]);
    /// let said = |seq| RoomMessage {
    ///     room: "rust".into(),
    ///     seq,
    ///     from: "bob".into(),
    ///     host: "chatd".into(),
    ///     text: format!("number {seq}").into(),
    ///     unix_ms: 0,
    ///     notice: false,
    ///     kind: chatcore::MessageKind::Said,
    ///     ticket: None,
    /// };
    /// engine.handle_room_message(Now::system(), said(2))?; // held: 1 is missing
    /// assert_eq!(engine.poll_output(), None);
    /// engine.handle_room_message(Now::system(), said(1))?; // 1, then 2
    /// assert!(matches!(engine.poll_output(), Some(Output::Send { to, data }) if to == alice && data.starts_with(b"[rust] bob: number 1")));
    /// assert!(matches!(engine.poll_output(), Some(Output::Send { to, data }) if to == alice && data.starts_with(b"[rust] bob: number 2")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn handle_room_message(&mut self, now: Now, message: RoomMessage) -> Result<(), Error> {
        let result = self.world.room_message(&mut self.out, now, message);
        self.out.end_reply(true);
        result
    }

    /// The store has numbered a room's messages up to `seq` (with
    /// [`Config::cluster`]): a notifier that may lose the last message of
    /// a room says so now and then (say, with a heartbeat of each room's
    /// newest number, or after it reconnects), or a lost last message goes
    /// unnoticed until the next one. If this engine has delivered less,
    /// the missing messages are waited for and then asked for with a
    /// [`ClusterRequest::Backfill`](crate::ClusterRequest::Backfill), as after any gap. A room with no
    /// local members, or unknown here, is ignored.
    ///
    /// Takes `now`: the wait for the missing messages starts then.
    pub fn handle_room_head(&mut self, now: Now, room: &str, seq: u64) {
        self.world.room_head(now, room, seq);
    }

    /// The answer to a [`ClusterRequest::Publish`](crate::ClusterRequest::Publish) the store could not keep
    /// (with [`Config::cluster`]): the sender is refused as a failing store
    /// refuses it on a single node (`storage_unavailable`, naming its
    /// command), and may try again. Nothing else changes: nothing was
    /// numbered or delivered. `Err` if the ticket was never issued or was
    /// answered already.
    ///
    /// Takes no `now`: nothing is counted and no deadline moves.
    pub fn handle_publish_failed(&mut self, ticket: PublishTicket) -> Result<(), Error> {
        let result = self.world.publish_failed(&mut self.out, ticket);
        self.out.end_reply(true);
        result
    }

    // ---- outputs ----

    /// The next thing to do, in the order produced. Drain it after every
    /// input; every variant of [`Output`] is something the embedder must
    /// carry out.
    #[must_use = "every output is an instruction the embedder must carry out"]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop()
    }

    /// Outputs waiting to be drained.
    pub fn pending_output(&self) -> usize {
        self.out.len()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called,
    /// if any timer is armed. May be earlier than strictly needed.
    #[must_use = "re-arm the timer from it, or deadlines are missed"]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let world = &self.world;
        [world.timers.next(), world.rooms.next_sweep(), world.cluster.next_backfill()].into_iter().flatten().min()
    }

    /// Checks every structural invariant of the engine's state; `Ok` after
    /// any sequence of inputs, or the engine has a bug.
    ///
    /// Checked: every limit in [`Config`](crate::Config) that bounds a
    /// table (clients, rooms, accounts, tracked sources, history, rooms per
    /// client, blocks, offline messages); nicknames unique after case
    /// folding, with the nickname index matching the clients exactly;
    /// memberships recorded the same way by clients and rooms (so member
    /// counts equal memberships), in existing rooms only, text clients in at
    /// most one; history numbered in order; logged-in clients named after
    /// their account; the timer set matching the clients' timers, none
    /// later than its real deadline; the blockers index, the offline total
    /// and outstanding auth requests matching what they summarise; kept
    /// whispers numbered below the next whisper's number.
    ///
    /// ```
    /// let mut sim = chatcore::sim::Sim::new(chatcore::Config::default());
    /// let alice = sim.connect_as("alice");
    /// sim.send(alice, "/create rust");
    /// assert_eq!(sim.engine().check_invariants(), Ok(()));
    /// ```
    #[cfg(any(test, feature = "testing"))]
    pub fn check_invariants(&self) -> Result<(), crate::InvariantViolation> {
        self.world.check_invariants()
    }

    // ---- internals ----

    /// `Ok` for a live client or one the engine closed; `Err` for an id it
    /// never issued.
    fn check_issued(&self, client: ClientId) -> Result<(), Error> {
        if self.world.clients.issued(client) { Ok(()) } else { Err(Error::UnknownClient(client)) }
    }
}
