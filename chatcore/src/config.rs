//! Every limit the engine enforces, in one place, each with its default and
//! the resource it bounds.

use std::time::Duration;

pub mod ranges;

use ranges::{Range, TextProblem};

use crate::cloak::Hosts;

/// The engine's limits and switches.
///
/// Every field bounds something; the engine's memory is at most roughly
///
/// ```text
///   max_clients × (~800 + max_line_bytes + max_rooms_per_client × 16 + max_blocks × 80)
/// + max_rooms × (~440 + max_topic_len + history_len × (max_line_bytes + max_nick_len + ~40))
/// + max_accounts × (~250 + max_blocks × 80 + max_known_sources × 24 + ~160)
/// + max_offline_total × (max_line_bytes + max_nick_len + ~48)
/// + max_tracked_sources × ~150 × 3      (failed logins, registrations, room creations)
/// ```
///
/// Measured with a counting allocator (`benches/tests/alloc.rs`): 523 bytes
/// per idle client in the Lobby and 528 in a room (a client is indexed by
/// name for paged lists: in the nickname index, and while in the Lobby in
/// the Lobby's too; names are shared, not copied, between the indexes; its
/// host is `chatd` there, and a cloak is 17 bytes longer),
/// 455 bytes per empty room, 2,116 bytes per kept history entry of a
/// 2,048-byte line. At the
/// defaults the worst case is about **590 MB**: history 217 MB (every room
/// full of the longest lines), accounts 316 MB (100,000 accounts each
/// blocking 32 names), kept whispers 43 MB, clients 6 MB, tracked sources
/// 4.5 MB. The defaults are chosen so that this fits a 1 GB VPS beside
/// chatd's own use (its per-connection state, SQLite's 64 MiB page cache
/// and its send queues): guests alone can reach only the history term, and
/// only within `max_rooms_created_per_source`; the account terms cost a
/// registration each (`max_registrations_per_source`, an argon2 hash).
///
/// plus whatever output the embedder has not yet drained with
/// [`Engine::poll_output`](crate::Engine::poll_output).
///
/// Each field accepts only a sane range, listed with its reason in
/// [`ranges`]; [`Config::validate`] refuses anything outside it.
///
/// ```
/// let config = chatcore::Config { max_clients: 50, history_len: 20, ..Default::default() };
/// assert_eq!(config.max_nick_len, 32);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Most clients connected at once. A connection beyond it gets a one-line
    /// farewell and is closed. Bounds the per-client state (line buffer,
    /// nickname, memberships). Default: 1024.
    pub max_clients: usize,
    /// Longest accepted input line in bytes, not counting the line ending.
    /// A longer line is discarded with an error and the framer resumes at the
    /// next newline. Bounds each client's input buffer. Default: 2048.
    pub max_line_bytes: usize,
    /// Longest nickname in bytes (nicknames are ASCII). Default: 32.
    pub max_nick_len: usize,
    /// Longest room name in bytes (room names are ASCII). Default: 32.
    pub max_room_name_len: usize,
    /// Most rooms that may exist. `/create` beyond it is refused. Bounds the
    /// room table and, with `history_len`, the history kept in memory.
    /// Default: 1024.
    pub max_rooms: usize,
    /// Messages each room keeps and replays to a member who joins. Bounds the
    /// history memory per room and what a newcomer must receive. Default: 100.
    pub history_len: usize,
    /// Rooms one client may be a member of at once (JSON clients may sit in
    /// several; text clients switch, so they use one). Default: 16.
    pub max_rooms_per_client: usize,
    /// Lines a client may send in a burst before flood control applies.
    /// Default: 10.
    pub flood_burst: u32,
    /// Lines per second a client may send on average; a line beyond the
    /// allowance is refused with a `flood` error and not acted on.
    /// `0` turns flood control off. Default: 4.
    pub flood_lines_per_sec: u32,
    /// How long a new connection may stay silent: one that has sent no
    /// complete line within it is closed. Bounds how long a connection that
    /// never speaks holds a client slot. `Duration::ZERO` disables.
    /// Default: 60 s.
    pub registration_timeout: Duration,
    /// Whether connects and disconnects are announced to every client in the
    /// Lobby (clients that are in no room), as well as to those who share a
    /// room with the user. Default: `false`.
    pub announce_lobby_presence: bool,
    /// The server name shown in the welcome line. Default: `"chatd"`.
    pub server_name: String,
    /// Whether only logged-in users may do more than `/register`, `/login`,
    /// `/help` and `/quit`. With it, `registration_timeout` runs until the
    /// client logs in. Default: `false` (guests may chat).
    pub require_login: bool,
    /// How long a client may stay silent before it is disconnected (after a
    /// warning `idle_warning` earlier). Bounds how long an abandoned or
    /// half-open connection holds a slot. `Duration::ZERO` disables.
    /// Default: 120 s.
    pub idle_timeout: Duration,
    /// How long before the idle disconnect the client is warned; must be
    /// shorter than `idle_timeout`. `Duration::ZERO`: no warning.
    /// Default: 30 s.
    pub idle_warning: Duration,
    /// Most accounts that may exist. Bounds the account table. Default: 100,000.
    pub max_accounts: usize,
    /// Shortest accepted password, in bytes. Default: 8 (OWASP's minimum).
    pub min_password_len: usize,
    /// Failed logins for one account from one source, within
    /// `login_failure_window`, after which that source is refused for that
    /// account for `block_duration`. Default: 3.
    pub max_login_failures: u32,
    /// The window in which failed logins are counted. Default: 5 minutes.
    pub login_failure_window: Duration,
    /// How long a source is refused for an account after too many failed
    /// logins. Default: 60 s.
    pub block_duration: Duration,
    /// Accounts one source may register per `registration_window`.
    /// Default: 5.
    pub max_registrations_per_source: u32,
    /// The window for `max_registrations_per_source`. Default: 1 hour.
    pub registration_window: Duration,
    /// Sources tracked for failed logins and registrations; when full, the
    /// entry whose window ends first is dropped. Bounds that table.
    /// Default: 10,000.
    pub max_tracked_sources: usize,
    /// Whispers kept for one offline account until it logs in; one more is
    /// refused with a clear error to its sender. Bounds each mailbox.
    /// Default: 50.
    pub max_offline_messages: usize,
    /// Whispers kept for all offline accounts together. Bounds the memory
    /// of every mailbox at once (about `max_line_bytes` + 80 bytes each).
    /// Default: 20,000.
    pub max_offline_total: usize,
    /// Names one user may block. Bounds each block list (about 80 bytes a
    /// name), which an account keeps while offline. Default: 32.
    pub max_blocks: usize,
    /// Messages per `/history` page. Bounds one answer. Default: 50.
    pub history_page_len: usize,
    /// Names or rooms per answer to `/users`, `/who`, `/list` and
    /// `/since` (and their JSON and IRC forms, NAMES included): a longer
    /// list is sent a page at a time, each page with the total and the
    /// name to ask for the next one from. Bounds one answer to about this
    /// many times `max_nick_len` (or `max_room_name_len`) bytes, whatever
    /// the number of users or rooms. Default: 100.
    pub list_page_len: usize,
    /// Whispers kept per conversation between two accounts, for
    /// `/history @NICK` (with `emit_records`): the embedder's store keeps
    /// the newest this many of each pair of accounts and forgets older
    /// ones (for rooms, chatd's `--retain-messages` does this). Bounds the
    /// store, not memory: the engine holds no conversation, only the
    /// number the next whisper gets. `0`: whispers are not kept.
    /// Default: 1,000.
    pub conversation_history_len: usize,
    /// Longest room topic in bytes; a longer one is refused. Bounds each
    /// room's topic (IRC servers commonly allow 390). Default: 390.
    pub max_topic_len: usize,
    /// How long a room created by a logged-in user may stay empty before it
    /// is removed with its history. Bounds how long the rooms of people
    /// who left keep a place under `max_rooms`. `Duration::ZERO`: never.
    /// Default: 30 days.
    pub room_idle_expiry: Duration,
    /// The same for a room a guest created: guests come and go, and their
    /// rooms should not fill `max_rooms` for good. Default: 1 hour.
    pub guest_room_idle_expiry: Duration,
    /// Rooms one source, and one account, may create per
    /// `room_creation_window`; one more is refused. Bounds how fast one
    /// machine can fill `max_rooms`. Default: 10.
    pub max_rooms_created_per_source: u32,
    /// The window for `max_rooms_created_per_source`. Default: 1 hour.
    pub room_creation_window: Duration,
    /// Failed logins to one account, from all sources together within
    /// `login_failure_window`, after which that account refuses logins from
    /// sources it has never logged in from, for `account_block_duration`.
    /// Bounds guessing spread over many addresses. Default: 10.
    pub max_account_failures: u32,
    /// How long an account refuses unknown sources after
    /// `max_account_failures`. Default: 15 minutes.
    pub account_block_duration: Duration,
    /// Sources remembered per account as known (it logged in from them);
    /// the oldest is forgotten first. Known sources are exempt from the
    /// per-account throttle, so the owner is never locked out by others.
    /// Default: 8.
    pub max_known_sources: usize,
    /// How users' hosts (the `host` of `nick!user@host`) are shown in IRC
    /// prefixes, `WHO` and `WHOIS`, and matched by bans: a keyed hash of
    /// where each connects from ([`Hosts::Cloaked`], with a key the
    /// embedder keeps), the address itself ([`Hosts::Addresses`]), or the
    /// same word for everyone ([`Hosts::Hidden`]). Bounds nothing; costs a
    /// host of at most 25 bytes per client. Default: `Hidden`.
    pub hosts: Hosts,
    /// Whether durable facts are emitted as [`Output::Persist`](crate::Output::Persist)
    /// records, and older history is fetched from the embedder's store
    /// ([`Output::FetchHistory`](crate::Output::FetchHistory)). Off, the
    /// engine keeps only what is in memory. Default: `false`.
    pub emit_records: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_clients: 1024,
            max_line_bytes: 2048,
            max_nick_len: 32,
            max_room_name_len: 32,
            max_rooms: 1024,
            history_len: 100,
            max_rooms_per_client: 16,
            flood_burst: 10,
            flood_lines_per_sec: 4,
            registration_timeout: Duration::from_secs(60),
            announce_lobby_presence: false,
            server_name: "chatd".to_owned(),
            require_login: false,
            idle_timeout: Duration::from_secs(120),
            idle_warning: Duration::from_secs(30),
            max_accounts: 100_000,
            min_password_len: 8,
            max_login_failures: 3,
            login_failure_window: Duration::from_secs(300),
            block_duration: Duration::from_secs(60),
            max_registrations_per_source: 5,
            registration_window: Duration::from_secs(3600),
            max_tracked_sources: 10_000,
            max_offline_messages: 50,
            max_offline_total: 20_000,
            max_blocks: 32,
            history_page_len: 50,
            list_page_len: 100,
            conversation_history_len: 1_000,
            max_topic_len: 390,
            room_idle_expiry: Duration::from_secs(30 * 86_400),
            guest_room_idle_expiry: Duration::from_secs(3_600),
            max_rooms_created_per_source: 10,
            room_creation_window: Duration::from_secs(3_600),
            max_account_failures: 10,
            account_block_duration: Duration::from_secs(15 * 60),
            max_known_sources: 8,
            hosts: Hosts::Hidden,
            emit_records: false,
        }
    }
}

/// A [`Config`] that makes no sense, refused by [`Config::validate`] (and
/// so by [`Engine::new`](crate::Engine::new)) with the field it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A limit is zero where zero would leave the server unable to work.
    #[error("{field} must be at least 1")]
    Zero {
        /// The field.
        field: &'static str,
    },
    /// A count outside its range (see [`ranges`]).
    #[error("{field} is {value}; it must be {range}")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u64,
        /// What it accepts.
        range: Range<u64>,
    },
    /// A duration outside its range (see [`ranges`]).
    #[error("{field} is {} seconds; it must be {range}", value.as_secs_f64())]
    DurationOutOfRange {
        /// The field.
        field: &'static str,
        /// Its value.
        value: Duration,
        /// What it accepts.
        range: Range<Duration>,
    },
    /// A name that is empty, too long or holds a character
    /// it may not (a line break would inject a line into the protocol).
    #[error("{field} {problem}")]
    Text {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        problem: TextProblem,
    },
    /// The idle warning would come at or before the start of the idle time.
    #[error("idle_warning ({warning:?}) must be shorter than idle_timeout ({timeout:?})")]
    IdleWarningTooLong {
        /// `idle_warning`.
        warning: Duration,
        /// `idle_timeout`.
        timeout: Duration,
    },
    /// `require_login` with `max_accounts` 0: nobody could ever log in.
    #[error("require_login needs max_accounts of at least 1")]
    LoginImpossible,
    /// A password could never fit in a line.
    #[error("min_password_len ({min}) must be below max_line_bytes ({max_line})")]
    PasswordTooLong {
        /// `min_password_len`.
        min: usize,
        /// `max_line_bytes`.
        max_line: usize,
    },
}

impl Config {
    /// Checks that every setting is within its range (see [`ranges`]) and
    /// that they make sense together; the first one that does not is named
    /// in the error.
    ///
    /// ```
    /// use std::time::Duration;
    /// use chatcore::{Config, ConfigError};
    ///
    /// assert_eq!(Config::default().validate(), Ok(()));
    /// let config = Config { idle_warning: Duration::from_secs(60), idle_timeout: Duration::from_secs(60), ..Config::default() };
    /// assert!(matches!(config.validate(), Err(ConfigError::IdleWarningTooLong { .. })));
    /// let config = Config { history_page_len: 0, ..Config::default() };
    /// assert_eq!(config.validate(), Err(ConfigError::Zero { field: "history_page_len" }));
    /// let config = Config { max_line_bytes: 4_294_967_296_000, ..Config::default() };
    /// assert!(matches!(config.validate(), Err(ConfigError::OutOfRange { field: "max_line_bytes", .. })));
    /// let config = Config { server_name: "chatd\r\nPRIVMSG".into(), ..Config::default() };
    /// assert!(matches!(config.validate(), Err(ConfigError::Text { field: "server_name", .. })));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, value, range) in self.counts() {
            if !range.contains(value) {
                // "At least 1" says it best when 0 is the only mistake.
                if value == 0 && range.min == 1 {
                    return Err(ConfigError::Zero { field });
                }
                return Err(ConfigError::OutOfRange { field, value, range });
            }
        }
        for (field, value, range) in self.durations() {
            if !range.contains(value) {
                return Err(ConfigError::DurationOutOfRange { field, value, range });
            }
        }
        ranges::SERVER_NAME
            .check(&self.server_name)
            .map_err(|problem| ConfigError::Text { field: "server_name", problem })?;
        // A burst of 0 with flood control on would refuse every line.
        if self.flood_lines_per_sec > 0 && self.flood_burst == 0 {
            return Err(ConfigError::Zero { field: "flood_burst" });
        }
        if !self.idle_timeout.is_zero() && self.idle_warning >= self.idle_timeout {
            return Err(ConfigError::IdleWarningTooLong { warning: self.idle_warning, timeout: self.idle_timeout });
        }
        if self.require_login && self.max_accounts == 0 {
            return Err(ConfigError::LoginImpossible);
        }
        if self.min_password_len >= self.max_line_bytes {
            return Err(ConfigError::PasswordTooLong { min: self.min_password_len, max_line: self.max_line_bytes });
        }
        Ok(())
    }

    /// Every count, with its name and range, for [`Config::validate`].
    fn counts(&self) -> [(&'static str, u64, Range<u64>); 24] {
        // usize is at most 64 bits on every target Rust supports.
        let n = |value: usize| value as u64;
        [
            ("max_clients", n(self.max_clients), ranges::MAX_CLIENTS),
            ("max_line_bytes", n(self.max_line_bytes), ranges::MAX_LINE_BYTES),
            ("max_nick_len", n(self.max_nick_len), ranges::MAX_NICK_LEN),
            ("max_room_name_len", n(self.max_room_name_len), ranges::MAX_ROOM_NAME_LEN),
            ("max_rooms", n(self.max_rooms), ranges::MAX_ROOMS),
            ("history_len", n(self.history_len), ranges::HISTORY_LEN),
            ("max_rooms_per_client", n(self.max_rooms_per_client), ranges::MAX_ROOMS_PER_CLIENT),
            ("flood_burst", self.flood_burst.into(), ranges::FLOOD_BURST),
            ("flood_lines_per_sec", self.flood_lines_per_sec.into(), ranges::FLOOD_LINES_PER_SEC),
            ("max_accounts", n(self.max_accounts), ranges::MAX_ACCOUNTS),
            ("min_password_len", n(self.min_password_len), ranges::MIN_PASSWORD_LEN),
            ("max_login_failures", self.max_login_failures.into(), ranges::MAX_LOGIN_FAILURES),
            (
                "max_registrations_per_source",
                self.max_registrations_per_source.into(),
                ranges::MAX_REGISTRATIONS_PER_SOURCE,
            ),
            ("max_tracked_sources", n(self.max_tracked_sources), ranges::MAX_TRACKED_SOURCES),
            ("max_offline_messages", n(self.max_offline_messages), ranges::MAX_OFFLINE_MESSAGES),
            ("max_offline_total", n(self.max_offline_total), ranges::MAX_OFFLINE_TOTAL),
            ("max_blocks", n(self.max_blocks), ranges::MAX_BLOCKS),
            ("history_page_len", n(self.history_page_len), ranges::HISTORY_PAGE_LEN),
            ("list_page_len", n(self.list_page_len), ranges::LIST_PAGE_LEN),
            ("conversation_history_len", n(self.conversation_history_len), ranges::CONVERSATION_HISTORY_LEN),
            ("max_topic_len", n(self.max_topic_len), ranges::MAX_TOPIC_LEN),
            (
                "max_rooms_created_per_source",
                self.max_rooms_created_per_source.into(),
                ranges::MAX_ROOMS_CREATED_PER_SOURCE,
            ),
            ("max_account_failures", self.max_account_failures.into(), ranges::MAX_ACCOUNT_FAILURES),
            ("max_known_sources", n(self.max_known_sources), ranges::MAX_KNOWN_SOURCES),
        ]
    }

    /// Every duration, with its name and range, for [`Config::validate`].
    fn durations(&self) -> [(&'static str, Duration, Range<Duration>); 10] {
        [
            ("registration_timeout", self.registration_timeout, ranges::REGISTRATION_TIMEOUT),
            ("idle_timeout", self.idle_timeout, ranges::IDLE_TIMEOUT),
            ("idle_warning", self.idle_warning, ranges::IDLE_WARNING),
            ("login_failure_window", self.login_failure_window, ranges::LOGIN_FAILURE_WINDOW),
            ("block_duration", self.block_duration, ranges::BLOCK_DURATION),
            ("registration_window", self.registration_window, ranges::REGISTRATION_WINDOW),
            ("room_idle_expiry", self.room_idle_expiry, ranges::ROOM_IDLE_EXPIRY),
            ("guest_room_idle_expiry", self.guest_room_idle_expiry, ranges::GUEST_ROOM_IDLE_EXPIRY),
            ("room_creation_window", self.room_creation_window, ranges::ROOM_CREATION_WINDOW),
            ("account_block_duration", self.account_block_duration, ranges::ACCOUNT_BLOCK_DURATION),
        ]
    }
}
