//! The fuzz driver, shared by the cargo-fuzz targets (the repository's
//! `fuzz/fuzz_targets/*.rs`) and by the stable replay test of the committed
//! corpus. It turns arbitrary bytes into a sequence of engine inputs and
//! checks, after every step, the engine's own invariants
//! ([`Engine::check_invariants`]) and what the embedder can see from
//! outside:
//!
//! * `Ok` for live ids and for ids the engine has closed (input racing a
//!   close changes nothing and produces nothing), `Err(UnknownClient)` only
//!   for ids never issued;
//! * every `Send` and every recipient of a `Broadcast` is a client issued
//!   and not yet closed (a broadcast names each once), and the bytes are
//!   whole lines of UTF-8 with no control characters but tab; a line that
//!   starts with `{` is valid JSON;
//! * every `Close` names a live client, which the engine has then forgotten;
//! * the engine's clients are exactly those issued and not closed.
//!
//! Any panic, in the engine or in a check here, is a finding.
//!
//! [`run_irc_message`] is different: it drives the IRC message grammar on
//! its own, checking what it writes against what it reads.

mod cluster;

pub use cluster::run_cluster_ops;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use crate::{
    AlwaysOn, AuthRequestId, ClientId, ClusterRequest, Codec, Config, ConnectInfo, DisconnectReason, Engine, Error,
    HistoryRange, HistoryTarget, Now, Output, PasswordHash, Record, StorageStatus, StoredMessage,
};

/// Reads the fuzz input a byte at a time; zeros once it runs out.
struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// Names the dictionary lines use, so commands meet each other.
const NAMES: [&str; 6] = ["ann", "Bob", "r", "#R", "guest1", "x-y"];

/// Lines the engine understands, with `{}` for a name: they take the
/// engine into deep states much faster than random bytes would.
const LINES: [&str; 89] = [
    "/nick {}",
    "/create {}",
    "/join {}",
    "/leave",
    "/leave {}",
    "/list",
    "/who",
    "/who {}",
    "/users",
    "/help",
    "/quit",
    "/quit gone {}",
    "hello {}",
    "//not a command",
    "/msg {} hi there",
    "@{} psst",
    "/register {} password1 password1",
    "/register {} password1 password2",
    "/login {} password1",
    "/login {} wrong-password",
    "/seen {}",
    "/since 60",
    "/block {}",
    "/unblock {}",
    "/blocked",
    "/history",
    "/history {}",
    "{\"type\":\"nick\",\"nick\":\"{}\"}",
    "{\"type\":\"create\",\"room\":\"{}\"}",
    "{\"type\":\"join\",\"room\":\"{}\"}",
    "{\"type\":\"leave\"}",
    "{\"type\":\"leave\",\"room\":\"{}\"}",
    "{\"type\":\"say\",\"text\":\"hi {}\"}",
    "{\"type\":\"say\",\"room\":\"{}\",\"text\":\"hi\"}",
    "{\"type\":\"msg\",\"to\":\"{}\",\"text\":\"hi\"}",
    "{\"type\":\"who\",\"room\":\"{}\"}",
    "{\"type\":\"register\",\"name\":\"{}\",\"password\":\"password1\",\"confirm\":\"password1\"}",
    "{\"type\":\"login\",\"name\":\"{}\",\"password\":\"password1\"}",
    "{\"type\":\"history\",\"room\":\"{}\",\"before\":3}",
    "{\"type\":\"since\",\"seconds\":5}",
    "{\"type\":\"block\",\"nick\":\"{}\"}",
    "{\"type\":\"quit\",\"reason\":\"{}\"}",
    "/drop {}",
    "/topic {}",
    "{\"type\":\"drop\",\"room\":\"{}\"}",
    "\u{202E}{}",
    "{\"type\":\"help\"}",
    "{\"type\":\"say\",\"text\":\"\\u0007\"}",
    "/history @{}",
    "{\"type\":\"history\",\"with\":\"{}\",\"before\":2}",
    "NICK {}",
    "USER {} 0 * :real name",
    "CAP LS 302",
    "CAP REQ :batch draft/chathistory echo-message message-tags sasl server-time",
    "CAP REQ :-server-time",
    "CAP END",
    "JOIN #{}",
    "JOIN 0",
    "PART #{}",
    "PRIVMSG #{} :hi there",
    "PRIVMSG {} :\u{1}ACTION waves\u{1}",
    "NOTICE {} :\u{3}4red\u{3}",
    "AUTHENTICATE PLAIN",
    "AUTHENTICATE AGFubgBwYXNzd29yZDE=",
    "PRIVMSG NickServ :REGISTER password1",
    "PRIVMSG NickServ :IDENTIFY {} password1",
    "CHATHISTORY BEFORE #{} msgid=3 10",
    "CHATHISTORY LATEST #{} * 10",
    "WHOIS {}",
    "NAMES #{}",
    "MODE #{} b",
    "TOPIC #{} :a topic",
    "{\"type\":\"history\",\"room\":\"{}\",\"after\":1}",
    "{\"type\":\"history\",\"with\":\"{}\",\"after\":0}",
    "CHATHISTORY AFTER #{} msgid=1 10",
    "/history {} after 1",
    "/history @{} after 0",
    "/delete",
    "/delete {} 2",
    "{\"type\":\"delete\",\"room\":\"{}\",\"seq\":1}",
    "CAP REQ :draft/message-redaction",
    "REDACT #{} 1-{} :why",
    "/read",
    "/read {} 2",
    "{\"type\":\"read\",\"room\":\"{}\",\"seq\":2}",
    "MARKREAD #{} timestamp=2023-11-14T22:13:21.000Z",
    "/history {} since",
    "/always-on on",
    "/always-on off",
];

/// An engine, its clock, and what the driver knows from outside.
struct Driver {
    engine: Engine,
    now: Now,
    /// Issued and not closed, in connect order.
    live: Vec<ClientId>,
    /// Closed by the engine or disconnected by us.
    gone: BTreeSet<ClientId>,
    /// Password checks asked for and not yet answered.
    auth: Vec<Output>,
    /// History pages asked for and not yet answered.
    fetches: Vec<(ClientId, HistoryTarget, HistoryRange, usize)>,
    /// Every request id the engine has handed out, answered or not.
    answered: Vec<AuthRequestId>,
    /// In cluster mode, what the cluster around the engine must carry
    /// out: its requests, its records, and what its clients were sent.
    cluster: Vec<ClusterRequest>,
    records: Vec<Record>,
    sent: Vec<(ClientId, Vec<u8>)>,
}

impl Driver {
    /// A driver around an engine with `config`.
    fn new(config: Config) -> Self {
        Self::from_engine(Engine::new(config).expect("config_from makes valid configs"))
    }

    /// A driver around an engine built elsewhere (a restored one).
    fn from_engine(engine: Engine) -> Self {
        let mut driver = Self {
            engine,
            now: Now::new(Instant::now(), 1_700_000_000_000),
            live: Vec::new(),
            gone: BTreeSet::new(),
            auth: Vec::new(),
            fetches: Vec::new(),
            answered: Vec::new(),
            cluster: Vec::new(),
            records: Vec::new(),
            sent: Vec::new(),
        };
        driver.check();
        driver
    }

    /// Connects a client (from an address chosen by `source`, if any)
    /// speaking `codec` from the start (text clients may switch to JSON).
    fn connect(&mut self, source: Option<u8>, codec: Codec) -> ClientId {
        let ip = source.map(|b| IpAddr::V4(Ipv4Addr::new(127, 0, 0, b % 4)));
        let id = self.engine.handle_connect(self.now, ConnectInfo { source: ip, ..ConnectInfo::new(codec) });
        assert!(!self.live.contains(&id) && !self.gone.contains(&id), "{id} was issued twice");
        self.live.push(id);
        self.check();
        id
    }

    /// Feeds bytes from a live client (`which` picks it) or, if there is
    /// none, from a closed one, which must change nothing; then from an id
    /// never issued, which must be refused.
    fn input(&mut self, which: u8, bytes: &[u8]) {
        if let Some(&id) = pick(&self.live, which) {
            let result = self.engine.handle_input(self.now, id, bytes);
            assert_eq!(result, Ok(()), "input from live {id}");
        } else if let Some(&id) = self.gone.iter().nth(usize::from(which) % self.gone.len().max(1)) {
            assert_eq!(self.engine.handle_input(self.now, id, bytes), Ok(()), "input racing the close of {id}");
            assert_eq!(self.engine.pending_output(), 0, "input from closed {id} produced output");
        }
        let never = ClientId(u64::MAX);
        assert_eq!(self.engine.handle_input(self.now, never, bytes), Err(Error::UnknownClient(never)));
        self.check();
    }

    /// The connection of a client ends.
    fn disconnect(&mut self, which: u8, how: u8) {
        let Some(&id) = pick(&self.live, which) else { return };
        let reason = match how % 4 {
            0 => DisconnectReason::ConnectionClosed,
            1 => DisconnectReason::ConnectionError,
            2 => DisconnectReason::SendQueueExceeded,
            _ => DisconnectReason::Quit(Some("bye".into())),
        };
        assert_eq!(self.engine.handle_disconnect(self.now, id, reason.clone()), Ok(()));
        self.live.retain(|c| *c != id);
        self.gone.insert(id);
        self.check();
        // The same end reported again (racing a close): accepted, and nothing happens.
        assert_eq!(self.engine.handle_disconnect(self.now, id, reason), Ok(()));
        assert_eq!(self.engine.pending_output(), 0, "a second disconnect of {id} produced output");
    }

    /// Time passes; due timers fire, and none is left overdue.
    fn advance(&mut self, by: Duration) {
        self.now = self.now.advance(by);
        self.engine.handle_timeout(self.now);
        self.check();
        if let Some(due) = self.engine.poll_timeout() {
            assert!(due > self.now.instant, "a timer is still due after handle_timeout");
        }
    }

    /// The server shuts down: everyone is closed.
    fn shutdown(&mut self) {
        self.engine.handle_shutdown(self.now);
        self.check();
        assert!(self.live.is_empty(), "clients left after shutdown: {:?}", self.live);
    }

    /// Answers an outstanding password check (or a stale one, which must be refused).
    fn answer_auth(&mut self, which: u8, how: u8) {
        if self.auth.is_empty() {
            if let Some(&stale) = pick(&self.answered, which) {
                let result = self.engine.handle_password_verified(self.now, stale, how.is_multiple_of(2));
                assert_eq!(result, Err(Error::UnknownRequest(stale)));
            }
            return;
        }
        let request = self.auth.remove(usize::from(which) % self.auth.len());
        let result = match request {
            // The embedder's hashing pool is full: either kind may be refused.
            Output::HashPassword { request, .. } | Output::VerifyPassword { request, .. } if how % 16 == 5 => {
                self.answered.push(request);
                self.engine.handle_password_busy(request)
            }
            Output::HashPassword { request, password } => {
                self.answered.push(request);
                let hash = (!how.is_multiple_of(4)).then(|| PasswordHash::new(format!("fz:{}", password.expose())));
                self.engine.handle_password_hashed(self.now, request, hash)
            }
            Output::VerifyPassword { request, password, hash } => {
                self.answered.push(request);
                // A check against no account is answered either way: the engine must not be fooled.
                let matches = hash.as_ref().is_none_or(|h| h.expose().strip_prefix("fz:") == Some(password.expose()))
                    && !how.is_multiple_of(8);
                self.engine.handle_password_verified(self.now, request, matches)
            }
            Output::NewToken { request } => {
                self.answered.push(request);
                // Repeated bytes make colliding ids, which the engine must refuse.
                self.engine.handle_token_secret(self.now, request, crate::TokenSecret::new([how; 32]))
            }
            _ => unreachable!("only auth requests are kept"),
        };
        assert_eq!(result, Ok(()));
        self.check();
    }

    /// Answers an outstanding history fetch with made-up stored messages.
    fn answer_fetch(&mut self, which: u8, input: &mut Input<'_>) {
        if self.fetches.is_empty() {
            return;
        }
        let (client, target, range, limit) = self.fetches.remove(usize::from(which) % self.fetches.len());
        let count = usize::from(input.byte() % 8).min(limit + 2);
        let messages = (0..count)
            .map(|k| {
                // Near the page asked for, sometimes past its edge.
                let step = u64::from(input.byte() % 4) + k as u64;
                let seq = match range {
                    HistoryRange::Before(before) => before.saturating_sub(1 + step),
                    HistoryRange::After(after) => after.saturating_add(step),
                };
                let from = NAMES[usize::from(input.byte()) % NAMES.len()].into();
                let len = usize::from(input.byte() % 16);
                let text = String::from_utf8_lossy(input.take(len)).into();
                StoredMessage { seq, from, text, unix_ms: 1_700_000_000_000, kind: crate::MessageKind::Said }
            })
            .collect();
        // A page for a client that left, or a room that is gone, is fine.
        let unreadable = usize::from(input.byte() % 3);
        assert_eq!(self.engine.handle_history_page(client, &target, messages, unreadable), Ok(()));
        self.check();
    }

    /// The store starts or stops failing.
    fn storage(&mut self, failing: bool) {
        self.engine.handle_storage_status(if failing { StorageStatus::Failing } else { StorageStatus::Healthy });
        self.check();
    }

    /// Drains the output, checking each item, then the engine's invariants.
    fn check(&mut self) {
        while let Some(output) = self.engine.poll_output() {
            match output {
                Output::Send { to, data } => {
                    assert!(self.live.contains(&to), "send to {to}, which is not live");
                    check_lines(&data);
                    if self.engine.config().cluster() {
                        self.sent.push((to, data.to_vec()));
                    }
                }
                Output::Broadcast { to, data } => {
                    assert!(to.len() >= 2, "a broadcast to {to:?} should be a send");
                    assert!(to.windows(2).all(|w| w[0] < w[1]), "broadcast recipients not sorted and unique: {to:?}");
                    assert!(to.iter().all(|id| self.live.contains(id)), "broadcast to {to:?}, not all live");
                    check_lines(&data);
                    if self.engine.config().cluster() {
                        self.sent.extend(to.iter().map(|&id| (id, data.to_vec())));
                    }
                }
                Output::Close { client, .. } => {
                    assert!(self.live.contains(&client), "close of {client}, which is not live");
                    assert_eq!(self.engine.nick(client), None, "closed {client} is still known");
                    self.live.retain(|c| *c != client);
                    self.gone.insert(client);
                }
                request @ (Output::HashPassword { .. } | Output::VerifyPassword { .. } | Output::NewToken { .. }) => {
                    self.auth.push(request)
                }
                Output::FetchHistory { client, target, range, limit } => {
                    self.fetches.push((client, target, range, limit))
                }
                Output::Persist(record) => {
                    if self.engine.config().cluster() {
                        self.records.push(*record);
                    }
                }
                Output::Cluster(request) => {
                    assert!(self.engine.config().cluster(), "{request:?} from an engine not in a cluster");
                    self.cluster.push(request);
                }
                // Only a log line; fuzzed configs name no operators.
                Output::OperatorAction(_) => {}
            }
        }
        if let Err(violation) = self.engine.check_invariants() {
            panic!("invariant broken: {violation}");
        }
        let known: BTreeSet<ClientId> = self.engine.clients().collect();
        let live: BTreeSet<ClientId> = self.live.iter().copied().collect();
        assert_eq!(known, live, "the engine's clients differ from those issued and not closed");
    }
}

fn pick<T>(items: &[T], which: u8) -> Option<&T> {
    (!items.is_empty()).then(|| &items[usize::from(which) % items.len()])
}

/// Output bytes are whole UTF-8 lines without control characters (tab
/// aside); lines that look like JSON are JSON.
fn check_lines(data: &[u8]) {
    assert!(data.ends_with(b"\n"), "output is not whole lines: {:?}", String::from_utf8_lossy(data));
    let text = std::str::from_utf8(data).expect("output is UTF-8");
    for line in text.lines() {
        assert!(!line.chars().any(|c| c.is_control() && c != '\t'), "control character in output line {line:?}");
        #[cfg(feature = "json")]
        if line.starts_with('{') {
            let parsed: Result<serde_json::Value, _> = serde_json::from_str(line);
            assert!(parsed.is_ok(), "invalid JSON output {line:?}");
        }
    }
}

/// Small limits, chosen by the input, so that every edge is near; always
/// one [`Config::validate`] accepts.
fn config_from(input: &mut Input<'_>) -> Config {
    let mut b = || input.byte();
    let config = Config::default()
        .with_max_clients(1 + usize::from(b() % 6))
        .with_max_line_bytes(8 + usize::from(b() % 120))
        .with_max_nick_len(1 + usize::from(b() % 12))
        .with_max_room_name_len(1 + usize::from(b() % 12))
        .with_max_rooms(1 + usize::from(b() % 4))
        .with_history_len(usize::from(b() % 5))
        .with_max_rooms_per_client(1 + usize::from(b() % 3))
        .with_flood_burst(1 + u32::from(b() % 4))
        .with_flood_lines_per_sec(u32::from(b() % 3))
        .with_registration_timeout(Duration::from_millis(u64::from(b() % 4) * 700))
        .with_announce_lobby_presence(b() % 2 == 0)
        .with_require_login(b() % 4 == 0)
        .with_idle_timeout(Duration::from_millis(u64::from(b() % 4) * 900))
        .with_idle_warning(Duration::from_millis(u64::from(b() % 3) * 300))
        .with_max_accounts(usize::from(b() % 4))
        .with_min_password_len(1 + usize::from(b() % 9))
        .with_max_login_failures(1 + u32::from(b() % 3))
        .with_max_offline_messages(usize::from(b() % 3))
        .with_max_offline_total(usize::from(b() % 5))
        .with_max_blocks(usize::from(b() % 3))
        .with_history_page_len(1 + usize::from(b() % 4))
        .with_list_page_len(1 + usize::from(b() % 4))
        .with_emit_records(b() % 2 == 0)
        .with_max_sessions_per_account(1 + usize::from(b() % 3))
        .with_always_on([AlwaysOn::Optional, AlwaysOn::ForcedOn, AlwaysOn::ForcedOff][usize::from(b() % 3)]);
    let idle_warning = if config.idle_warning < config.idle_timeout { config.idle_warning } else { Duration::ZERO };
    let max_accounts = if config.require_login { config.max_accounts.max(1) } else { config.max_accounts };
    let min_password_len = config.min_password_len.min(config.max_line_bytes - 1);
    config.with_idle_warning(idle_warning).with_max_accounts(max_accounts).with_min_password_len(min_password_len)
}

/// One dictionary line with a name filled in, and its line ending.
fn dictionary_line(input: &mut Input<'_>) -> Vec<u8> {
    let template = LINES[usize::from(input.byte()) % LINES.len()];
    let name = NAMES[usize::from(input.byte()) % NAMES.len()];
    let mut line = template.replacen("{}", name, 1).into_bytes();
    line.extend_from_slice(if input.byte().is_multiple_of(4) { b"\r\n" } else { b"\n" });
    line
}

/// Target `engine_ops`: an arbitrary sequence of connects, inputs (raw
/// bytes and dictionary lines), disconnects, time steps, password and
/// history answers, storage failures and a shutdown.
///
/// # Panics
///
/// On any finding: a panic in the engine, a broken invariant, or output
/// an embedder must never see.
pub fn run_ops(data: &[u8]) {
    let mut input = Input { data };
    let config = config_from(&mut input);
    let mut driver = Driver::new(config);
    let mut steps = 0;
    while !input.is_empty() && steps < 512 {
        steps += 1;
        match input.byte() % 12 {
            0 | 1 => {
                let source = input.byte();
                let codec = if source.is_multiple_of(3) { Codec::Irc } else { Codec::Text };
                driver.connect((source.is_multiple_of(2)).then_some(source / 2), codec);
            }
            2..=4 => {
                let which = input.byte();
                let line = dictionary_line(&mut input);
                driver.input(which, &line);
            }
            5 | 6 => {
                let which = input.byte();
                let len = usize::from(input.byte() % 64);
                let bytes = input.take(len);
                driver.input(which, bytes);
            }
            7 => {
                let (which, how) = (input.byte(), input.byte());
                driver.disconnect(which, how);
            }
            8 => {
                let step = input.byte();
                let by = if step < 128 { u64::from(step) * 10 } else { u64::from(step - 128) * 1000 };
                driver.advance(Duration::from_millis(by));
            }
            9 => {
                let (which, how) = (input.byte(), input.byte());
                driver.answer_auth(which, how);
            }
            10 => {
                let which = input.byte();
                driver.answer_fetch(which, &mut input);
            }
            _ => match input.byte() % 8 {
                0 => driver.shutdown(),
                b => driver.storage(b % 2 == 0),
            },
        }
    }
}

/// Target `text_lines`: the line framer and the text codec. Two text
/// clients share a room; the input is fed from one of them in chunks cut
/// where the input says, so lines split across reads, overlong lines,
/// CRs, invalid UTF-8 and control characters all come up.
///
/// # Panics
///
/// On any finding, like [`run_ops`].
pub fn run_text(data: &[u8]) {
    run_codec(data, Codec::Text, b"/nick alice\n/create lobby\n", b"/nick bob\n/join lobby\n");
}

/// Target `irc_lines`: the IRC codec, the same way: two registered IRC
/// clients that negotiated every capability share a channel, and the
/// input follows from one of them in chunks.
///
/// # Panics
///
/// On any finding, like the other targets.
pub fn run_irc(data: &[u8]) {
    const CAPS: &[u8] = b"CAP REQ :batch draft/chathistory echo-message message-tags sasl server-time\r\n";
    run_codec(
        data,
        Codec::Irc,
        &[CAPS, b"NICK alice\r\nUSER a 0 * :A\r\nCAP END\r\nJOIN #lobby\r\n"].concat(),
        &[CAPS, b"NICK bob\r\nUSER b 0 * :B\r\nCAP END\r\nJOIN #lobby\r\n"].concat(),
    );
}

/// Target `json_lines`: the JSON Lines codec, the same way: the speaker's
/// first line picks JSON, then the input follows in chunks.
///
/// # Panics
///
/// On any finding, like the other targets.
#[cfg(feature = "json")]
pub fn run_json(data: &[u8]) {
    run_codec(
        data,
        Codec::Text,
        b"{\"type\":\"nick\",\"nick\":\"alice\"}\n{\"type\":\"create\",\"room\":\"lobby\"}\n",
        b"{\"type\":\"nick\",\"nick\":\"bob\"}\n{\"type\":\"join\",\"room\":\"lobby\"}\n",
    );
}

fn run_codec(data: &[u8], codec: Codec, speaker_hello: &[u8], listener_hello: &[u8]) {
    let mut input = Input { data };
    let max_line_bytes = 16 + usize::from(input.byte());
    let config = Config::default().with_max_line_bytes(max_line_bytes).with_flood_lines_per_sec(0);
    let mut driver = Driver::new(config);
    driver.connect(None, codec);
    driver.connect(None, codec);
    driver.input(0, speaker_hello);
    driver.input(1, listener_hello);
    while !input.is_empty() {
        let chunk = usize::from(input.byte() % 64) + 1;
        let bytes = input.take(chunk);
        driver.input(0, bytes);
    }
    driver.input(0, b"\n");
    driver.advance(Duration::from_secs(1));
}

/// Target `irc_message`: the IRC message grammar alone. The input is one
/// line without its ending. When it parses, the message is written back
/// and the written line must parse into the same parts (tags compared by
/// unescaped value) and write back to the same bytes. Whether or not it
/// parses, the input as text is also cut into PRIVMSG pieces for a prefix
/// whose length the first byte picks; the pieces must join into the text
/// and each make a line that fits and parses back to that piece.
///
/// # Panics
///
/// On any finding: a panic in the grammar, a parsed message that cannot be
/// written, a written line that does not parse back to the same parts, or
/// a piece that is lost, altered or too long.
pub fn run_irc_message(data: &[u8]) {
    use crate::codec::irc::message::{MAX_BODY, Message, Outgoing};

    if let Ok(message) = Message::parse(data) {
        let mut line = Vec::new();
        message.write(&mut line).unwrap_or_else(|e| panic!("{message:?} cannot be written: {e}"));
        let body = line.strip_suffix(b"\r\n").expect("a written line ends in CR LF");
        let again = Message::parse(body).unwrap_or_else(|e| panic!("written {body:?} does not parse: {e}"));
        assert_eq!(again, message, "written as {:?}", String::from_utf8_lossy(body));
        let mut twice = Vec::new();
        again.write(&mut twice).expect("a message written once can be written again");
        assert_eq!(twice, line, "writing is not stable");
        // The accessors a codec will call must not panic either.
        let _ = (message.command().upper(), message.command().numeric());
        for tag in message.tags().iter() {
            let _ = (tag.value_str(), tag.is_client_only());
        }
    }

    // Chat text never holds NUL, CR or LF (the engine refuses control characters).
    let text: String =
        String::from_utf8_lossy(data).chars().map(|c| if matches!(c, '\0' | '\r' | '\n') { ' ' } else { c }).collect();
    let target = format!("#{}", "r".repeat(usize::from(data.first().copied().unwrap_or(0))));
    let privmsg = Outgoing { tags: &[], source: Some("nick!user@host"), command: "PRIVMSG", params: &[&target] };
    let room = privmsg.room_for_trailing();
    let pieces: Vec<&str> = privmsg.split_trailing(&text).expect("a 256-byte target leaves room").collect();
    assert_eq!(pieces.concat(), text, "pieces lost or changed text");
    for piece in pieces {
        assert!(piece.len() <= room, "a piece of {} bytes where {room} fit", piece.len());
        let mut line = Vec::new();
        Outgoing { params: &[&target, piece], ..privmsg }.write(&mut line).expect("a piece makes a line");
        assert!(line.len() <= MAX_BODY + 2);
        let parsed = Message::parse(&line[..line.len() - 2]).expect("a piece's line parses");
        assert_eq!(parsed.param(1).map(|p| p.as_str()), Some(Ok(piece)));
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// What the irc_message target checks holds for bytes made of the
        /// characters IRC's grammar turns on.
        #[test]
        fn any_bytes_pass_the_irc_message_checks(
            data in prop::collection::vec(prop::sample::select(b"@:;= \\+/aZ9#\x00\r\n\xc3\xa9\xff".to_vec()), 0..80),
        ) {
            super::run_irc_message(&data);
        }
    }
}
