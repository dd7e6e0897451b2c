//! A deterministic test harness: simulated clients and simulated time
//! around one [`Engine`].
//!
//! Available with the `testing` cargo feature (off by default) so that
//! fuzz targets, benches and other crates' tests can reuse it.
//!
//! A [`Sim`] owns an engine and a clock that only moves when told to. Every
//! call drains the engine's output at once: bytes sent to a client pile up
//! in that client's inbox until [`Sim::take`] reads them as lines, and a
//! closed client is remembered with its reason ([`Sim::closed`]). Every
//! output is also appended to a transcript ([`Sim::take_transcript`]) for
//! tests that care about order across clients.
//!
//! Wall-clock time starts at [`Sim::BASE_UNIX_MS`], so rendered timestamps
//! are the same on every run; the monotonic clock starts at whatever
//! `Instant` the sim was created with and only its offsets matter.
//!
//! ```
//! use chatcore::{Config, sim::Sim};
//!
//! let mut sim = Sim::new(Config::default());
//! let alice = sim.connect_as("alice");
//! let bob = sim.connect_as("bob");
//! sim.send(alice, "/create rust");
//! sim.send(bob, "/join rust");
//! sim.send(bob, "hi alice");
//! assert_eq!(sim.take(alice).last().map(String::as_str), Some("[rust] bob: hi alice"));
//! ```

pub mod fuzz;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::{
    ClaimAnswer, ClientId, ClusterRequest, Config, ConnectInfo, DisconnectReason, Engine, Error, Now, Output,
    PasswordHash,
};

/// An engine driven by simulated clients and simulated time.
#[derive(Debug)]
pub struct Sim {
    engine: Engine,
    base: Now,
    now: Now,
    inbox: BTreeMap<ClientId, Vec<u8>>,
    closed: BTreeMap<ClientId, DisconnectReason>,
    transcript: Vec<Output>,
    auth: Vec<Output>,
    auto_auth: bool,
    cluster: Vec<ClusterRequest>,
    sole_node: bool,
}

impl Sim {
    /// The wall-clock time (ms since the Unix epoch) at which every sim
    /// starts: 2023-11-14T22:13:20Z.
    pub const BASE_UNIX_MS: u64 = 1_700_000_000_000;

    /// A sim whose clock starts now (monotonic) and at
    /// [`BASE_UNIX_MS`](Self::BASE_UNIX_MS) (wall clock).
    pub fn new(config: Config) -> Self {
        Self::with_base(config, Now::new(Instant::now(), Self::BASE_UNIX_MS))
    }

    /// A sim whose clock starts at `base`.
    ///
    /// # Panics
    ///
    /// If [`Engine::new`] refuses `config`.
    pub fn with_base(config: Config, base: Now) -> Self {
        let engine = Engine::new(config).unwrap_or_else(|e| panic!("Sim::with_base: {e}"));
        Self::from_engine(engine, base)
    }

    /// A sim around an engine built elsewhere (for example with
    /// [`Engine::restore`]), whose clock starts at `base`.
    pub fn from_engine(engine: Engine, base: Now) -> Self {
        Self {
            engine,
            base,
            now: base,
            inbox: BTreeMap::new(),
            closed: BTreeMap::new(),
            transcript: Vec::new(),
            auth: Vec::new(),
            auto_auth: false,
            cluster: Vec::new(),
            sole_node: false,
        }
    }

    /// The engine, to read its state.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The engine, to call it directly. Call [`drain`](Self::drain)
    /// afterwards so its output reaches the inboxes.
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// The simulated time now.
    pub fn now(&self) -> Now {
        self.now
    }

    /// Simulated time since the sim started.
    pub fn elapsed(&self) -> Duration {
        self.now.instant - self.base.instant
    }

    /// Moves the clock forward by `by`. Each registration (or other)
    /// deadline from [`Engine::poll_timeout`] that falls within is handled
    /// at its own time, in order.
    pub fn advance(&mut self, by: Duration) {
        let target = self.now.advance(by);
        while let Some(due) = self.engine.poll_timeout() {
            if due > target.instant {
                break;
            }
            if due > self.now.instant {
                self.now = self.now.advance(due - self.now.instant);
            }
            self.engine.handle_timeout(self.now);
            self.drain();
        }
        self.now = target;
    }

    /// A new connection. Its welcome (or farewell, if the server is full)
    /// waits in its inbox.
    pub fn connect(&mut self) -> ClientId {
        let id = self.engine.handle_connect(self.now, ConnectInfo::default());
        self.drain();
        id
    }

    /// A new connection described by `info` (see
    /// [`Engine::handle_connect`]).
    pub fn connect_with(&mut self, info: ConnectInfo) -> ClientId {
        let id = self.engine.handle_connect(self.now, info);
        self.drain();
        id
    }

    /// Connects, sets the nickname and empties the inbox.
    ///
    /// # Panics
    ///
    /// If the server refuses the connection or the nickname.
    pub fn connect_as(&mut self, nick: &str) -> ClientId {
        let id = self.connect();
        self.send(id, &format!("/nick {nick}"));
        let got = self.take(id);
        assert_eq!(self.engine.nick(id), Some(nick), "connect_as({nick:?}): {got:?}");
        id
    }

    /// Sends `line` and a newline from `client`.
    ///
    /// # Panics
    ///
    /// If `client` is not connected (use [`input`](Self::input) to test
    /// what happens then).
    pub fn send(&mut self, client: ClientId, line: &str) {
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        assert!(self.is_connected(client), "send({client}, {line:?}): not connected");
        if let Err(e) = self.input(client, &bytes) {
            panic!("send({client}, {line:?}): {e}");
        }
    }

    /// Raw bytes from `client`: any number of lines, or part of one.
    pub fn input(&mut self, client: ClientId, bytes: &[u8]) -> Result<(), Error> {
        let result = self.engine.handle_input(self.now, client, bytes);
        self.drain();
        result
    }

    /// The connection of `client` closed with `reason`.
    pub fn disconnect(&mut self, client: ClientId, reason: DisconnectReason) -> Result<(), Error> {
        let result = self.engine.handle_disconnect(self.now, client, reason);
        self.drain();
        result
    }

    /// The server shuts down.
    pub fn shutdown(&mut self) {
        self.engine.handle_shutdown(self.now);
        self.drain();
    }

    /// Moves every pending output into the inboxes, the closed set and the
    /// transcript. Every other method calls it; call it yourself only after
    /// using [`engine_mut`](Self::engine_mut).
    ///
    /// The transcript shows an [`Output::Broadcast`] as the
    /// [`Output::Send`]s it stands for, one per recipient, in its place.
    pub fn drain(&mut self) {
        let mut claims = Vec::new();
        while let Some(output) = self.engine.poll_output() {
            match output {
                Output::Send { to, ref data } => self.inbox.entry(to).or_default().extend_from_slice(data),
                Output::Broadcast { to, data } => {
                    // What `Broadcast` promises an embedder, checked on
                    // every one a test sees.
                    assert!(to.windows(2).all(|w| w[0] < w[1]), "broadcast recipients not sorted and unique: {to:?}");
                    for to in to {
                        self.inbox.entry(to).or_default().extend_from_slice(&data);
                        self.transcript.push(Output::Send { to, data: data.clone() });
                    }
                    continue;
                }
                Output::Close { client, ref reason } => {
                    self.closed.insert(client, reason.clone());
                }
                Output::HashPassword { .. } | Output::VerifyPassword { .. } | Output::NewToken { .. } => {
                    self.auth.push(output.clone())
                }
                Output::Persist(_) | Output::FetchHistory { .. } | Output::OperatorAction(_) => {}
                Output::Cluster(ClusterRequest::ClaimName { claim, .. }) if self.sole_node => claims.push(claim),
                Output::Cluster(
                    ClusterRequest::ReleaseName { .. }
                    | ClusterRequest::Presence(_)
                    | ClusterRequest::Whisper(_)
                    | ClusterRequest::Broadcast(_),
                ) if self.sole_node => {}
                Output::Cluster(ref request) => self.cluster.push(request.clone()),
            }
            self.transcript.push(output);
        }
        if !claims.is_empty() {
            let now = self.now;
            for claim in claims {
                self.engine.handle_name_claim(now, claim, ClaimAnswer::Granted).expect("the claim was just made");
            }
            self.drain();
        }
        if self.auto_auth && !self.auth.is_empty() {
            self.answer_auth();
        }
    }

    /// Whether the engine is the only node of its cluster, as a test of
    /// room messages wants it: every name claim is granted at once, and
    /// releases, presence and whispers to other nodes go nowhere, so that
    /// [`take_cluster_requests`](Self::take_cluster_requests) shows only
    /// what room messages ask. Off by default.
    pub fn set_sole_node(&mut self, on: bool) {
        self.sole_node = on;
        self.drain();
    }

    /// Whether password requests are answered as soon as they are made
    /// (as by [`answer_auth`](Self::answer_auth)). Off by default, so a test
    /// can look at the engine while a check is in flight.
    pub fn set_auto_auth(&mut self, on: bool) {
        self.auto_auth = on;
        self.drain();
    }

    /// Answers every outstanding [`Output::HashPassword`] and
    /// [`Output::VerifyPassword`] with a stand-in for a real password hash
    /// (the "hash" of `pw` is `sim:pw`), and every [`Output::NewToken`]
    /// with bytes made from its request's number, in the order asked. Returns how
    /// many were answered.
    pub fn answer_auth(&mut self) -> usize {
        let pending = std::mem::take(&mut self.auth);
        for request in &pending {
            let result = match request {
                Output::HashPassword { request, password } => {
                    let hash = PasswordHash::new(format!("sim:{}", password.expose()));
                    self.engine.handle_password_hashed(self.now, *request, Some(hash))
                }
                Output::VerifyPassword { request, password, hash } => {
                    let matches =
                        hash.as_ref().is_some_and(|h| h.expose().strip_prefix("sim:") == Some(password.expose()));
                    self.engine.handle_password_verified(self.now, *request, matches)
                }
                // Not random, but distinct per request: a test's tokens are reproducible.
                Output::NewToken { request } => {
                    let mut bytes = [0x5a; 32];
                    bytes[..8].copy_from_slice(&request.as_u64().to_be_bytes());
                    bytes[24..].copy_from_slice(&request.as_u64().to_be_bytes());
                    self.engine.handle_token_secret(self.now, *request, crate::TokenSecret::new(bytes))
                }
                _ => Ok(()),
            };
            result.expect("the request was outstanding");
        }
        self.drain();
        pending.len()
    }

    /// Takes the cluster requests made since the last call (only with
    /// [`Config::cluster`]), in order, to answer them through
    /// [`engine_mut`](Self::engine_mut).
    pub fn take_cluster_requests(&mut self) -> Vec<ClusterRequest> {
        std::mem::take(&mut self.cluster)
    }

    /// Takes the outstanding password requests without answering them, to
    /// answer them by hand through [`engine_mut`](Self::engine_mut).
    pub fn take_auth_requests(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.auth)
    }

    /// The lines `client` has received since the last `take`, without
    /// their newlines.
    ///
    /// # Panics
    ///
    /// If the engine sent bytes that are not UTF-8 or not whole lines.
    pub fn take(&mut self, client: ClientId) -> Vec<String> {
        let bytes = self.inbox.remove(&client).unwrap_or_default();
        let text = String::from_utf8(bytes).expect("the engine sends UTF-8");
        if text.is_empty() {
            return Vec::new();
        }
        let body = text.strip_suffix('\n').unwrap_or_else(|| panic!("{client} got a partial line: {text:?}"));
        body.split('\n').map(str::to_owned).collect()
    }

    /// The raw bytes `client` has received since the last `take`.
    pub fn take_bytes(&mut self, client: ClientId) -> Vec<u8> {
        self.inbox.remove(&client).unwrap_or_default()
    }

    /// Empties every inbox.
    pub fn clear(&mut self) {
        self.inbox.clear();
    }

    /// Why the engine closed `client`, if it did (a disconnect reported with
    /// [`disconnect`](Self::disconnect) is not a close by the engine).
    pub fn closed(&self, client: ClientId) -> Option<&DisconnectReason> {
        self.closed.get(&client)
    }

    /// Whether the engine still knows `client`.
    pub fn is_connected(&self, client: ClientId) -> bool {
        self.engine.nick(client).is_some()
    }

    /// Every output since the last call, in the order produced.
    pub fn take_transcript(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.transcript)
    }
}

#[cfg(feature = "json")]
impl Sim {
    /// Connects and switches to JSON Lines with a `nick` request, then
    /// empties the inbox.
    ///
    /// # Panics
    ///
    /// If the server refuses the connection or the nickname.
    pub fn connect_json_as(&mut self, nick: &str) -> ClientId {
        let id = self.connect();
        self.send_json(id, &serde_json::json!({"type": "nick", "nick": nick}));
        let got = self.take(id);
        assert_eq!(self.engine.nick(id), Some(nick), "connect_json_as({nick:?}): {got:?}");
        id
    }

    /// Sends one JSON object (as one line) from `client`.
    ///
    /// # Panics
    ///
    /// If `client` is not connected.
    pub fn send_json(&mut self, client: ClientId, value: &serde_json::Value) {
        self.send(client, &value.to_string());
    }

    /// The lines `client` has received since the last `take`, each parsed
    /// as JSON.
    ///
    /// # Panics
    ///
    /// If a line is not JSON (for example the text greeting sent before the
    /// client switched: take it with [`take`](Self::take) first).
    pub fn take_json(&mut self, client: ClientId) -> Vec<serde_json::Value> {
        self.take(client)
            .iter()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{client} got non-JSON {line:?}: {e}")))
            .collect()
    }

    /// The `type` of each object `client` has received since the last
    /// `take`, in order: what kinds of reply arrived, without their fields.
    ///
    /// # Panics
    ///
    /// As [`take_json`](Self::take_json), or if an object has no `type`.
    pub fn take_types(&mut self, client: ClientId) -> Vec<String> {
        self.take_json(client)
            .iter()
            .map(|value| match value.get("type").and_then(serde_json::Value::as_str) {
                Some(kind) => kind.to_owned(),
                None => panic!("{client} got an object with no type: {value}"),
            })
            .collect()
    }
}
