//! The values each setting of [`Config`](crate::Config) accepts.
//!
//! A limit far outside its range is a typo or an attack on the operator
//! (a config file written by someone else): `max_line_bytes` of 4 TB lets
//! one client pin that much memory, a timeout of a nanosecond closes every
//! connection before it can speak, and a server name holding a line break
//! writes a line of its choosing into every welcome. Every range here is
//! wide enough for any real deployment (a million clients, a day-long
//! timeout) and narrow enough that `now + timeout` cannot overflow and no
//! one setting can exhaust memory alone.
//!
//! [`Config::validate`](crate::Config::validate) checks every field against
//! these, and chatd's flag parsers use the same constants, so a bad value
//! is refused with the same range whether it comes from the command line,
//! a configuration file or an embedder's code.

use std::fmt;
use std::time::Duration;

/// The values a numeric setting accepts: `min..=max`, and `0` too when
/// `zero_is_off` (a setting that `0` turns off, like a timeout).
///
/// ```
/// use chatcore::ranges::{self, Range};
///
/// assert!(ranges::MAX_LINE_BYTES.contains(2048));
/// assert!(!ranges::MAX_LINE_BYTES.contains(4_294_967_296_000));
/// assert_eq!(ranges::MAX_LINE_BYTES.to_string(), "between 8 and 1048576");
/// let timeout = ranges::REGISTRATION_TIMEOUT;
/// assert!(timeout.contains(std::time::Duration::ZERO));
/// assert!(!timeout.contains(std::time::Duration::from_nanos(1)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range<T> {
    /// The smallest value accepted (besides `0` when `zero_is_off`).
    pub min: T,
    /// The largest value accepted.
    pub max: T,
    /// Whether `0` is accepted too, meaning "off".
    pub zero_is_off: bool,
}

impl<T: PartialOrd + Default> Range<T> {
    /// Whether `value` is accepted.
    pub fn contains(&self, value: T) -> bool {
        (self.zero_is_off && value == T::default()) || (self.min <= value && value <= self.max)
    }
}

impl fmt::Display for Range<u64> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.zero_is_off {
            write!(f, "0 (off) or ")?;
        }
        write!(f, "between {} and {}", self.min, self.max)
    }
}

impl fmt::Display for Range<Duration> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.zero_is_off {
            write!(f, "0 (off) or ")?;
        }
        write!(f, "between {} and {} seconds", self.min.as_secs_f64(), self.max.as_secs_f64())
    }
}

/// What a name or password setting accepts: `1..=max_bytes` bytes, each
/// character printable (`ascii_graphic`: visible ASCII, no spaces; else
/// anything but control characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    /// The longest value accepted, in bytes.
    pub max_bytes: usize,
    /// Whether only visible ASCII (`!` to `~`) is accepted.
    pub ascii_graphic: bool,
}

/// Why a text setting was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextProblem {
    /// It is empty.
    #[error("is empty")]
    Empty,
    /// It is longer than the rule allows.
    #[error("is {len} bytes long, more than {max}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The most allowed.
        max: usize,
    },
    /// It holds a character the rule refuses (a control character, a line
    /// break, or for ASCII-only settings a space or a non-ASCII letter).
    #[error("holds {character:?}, which is not allowed (only {allowed})")]
    Character {
        /// The first character refused.
        character: char,
        /// What is allowed, in words.
        allowed: &'static str,
    },
}

impl TextRule {
    /// Checks `text` against the rule.
    ///
    /// ```
    /// use chatcore::ranges::{SERVER_NAME, TextProblem};
    ///
    /// assert_eq!(SERVER_NAME.check("chat.example.com"), Ok(()));
    /// assert!(matches!(SERVER_NAME.check("chatd\r\n001 x :evil"), Err(TextProblem::Character { character: '\r', .. })));
    /// ```
    pub fn check(&self, text: &str) -> Result<(), TextProblem> {
        if text.is_empty() {
            return Err(TextProblem::Empty);
        }
        if text.len() > self.max_bytes {
            return Err(TextProblem::TooLong { len: text.len(), max: self.max_bytes });
        }
        let (allowed, ok): (&'static str, fn(&char) -> bool) = if self.ascii_graphic {
            ("visible ASCII characters, no spaces", char::is_ascii_graphic)
        } else {
            ("printable characters", |c: &char| !c.is_control())
        };
        match text.chars().find(|c| !ok(c)) {
            Some(character) => Err(TextProblem::Character { character, allowed }),
            None => Ok(()),
        }
    }
}

const fn count(min: u64, max: u64) -> Range<u64> {
    Range { min, max, zero_is_off: false }
}

const fn secs(min_millis: u64, max_secs: u64, zero_is_off: bool) -> Range<Duration> {
    Range { min: Duration::from_millis(min_millis), max: Duration::from_secs(max_secs), zero_is_off }
}

const DAY: u64 = 86_400;

/// `max_clients`: 1 to 10 million (a million idle connections have been measured).
pub const MAX_CLIENTS: Range<u64> = count(1, 10_000_000);
/// `max_line_bytes`: 8 bytes (`/nick ab`) to 1 MiB; one line is held per
/// client, and in each history entry.
pub const MAX_LINE_BYTES: Range<u64> = count(8, 1 << 20);
/// `max_nick_len`: 1 to 255 bytes.
pub const MAX_NICK_LEN: Range<u64> = count(1, 255);
/// `max_room_name_len`: 1 to 255 bytes.
pub const MAX_ROOM_NAME_LEN: Range<u64> = count(1, 255);
/// `max_rooms`: 0 (only the Lobby) to 1 million.
pub const MAX_ROOMS: Range<u64> = count(0, 1_000_000);
/// `history_len`: 0 to 100,000 messages per room.
pub const HISTORY_LEN: Range<u64> = count(0, 100_000);
/// `max_rooms_per_client`: 1 to 1,024.
pub const MAX_ROOMS_PER_CLIENT: Range<u64> = count(1, 1_024);
/// `flood_burst`: 0 to 10,000 lines (0 only with flood control off).
pub const FLOOD_BURST: Range<u64> = count(0, 10_000);
/// `flood_lines_per_sec`: 0 (flood control off) to 10,000 lines a second.
pub const FLOOD_LINES_PER_SEC: Range<u64> = count(0, 10_000);
/// `registration_timeout`: 0 (off) or 0.1 s to a day.
pub const REGISTRATION_TIMEOUT: Range<Duration> = secs(100, DAY, true);
/// `idle_timeout`: 0 (off) or 0.1 s to a week.
pub const IDLE_TIMEOUT: Range<Duration> = secs(100, 7 * DAY, true);
/// `idle_warning`: 0 (no warning) or 0.1 s to a week (and shorter than
/// `idle_timeout`).
pub const IDLE_WARNING: Range<Duration> = secs(100, 7 * DAY, true);
/// `max_accounts`: 0 (no registration) to 100 million.
pub const MAX_ACCOUNTS: Range<u64> = count(0, 100_000_000);
/// `min_password_len`: 1 to 1,024 bytes (and less than `max_line_bytes`).
pub const MIN_PASSWORD_LEN: Range<u64> = count(1, 1_024);
/// `max_login_failures`: 1 to 1 million.
pub const MAX_LOGIN_FAILURES: Range<u64> = count(1, 1_000_000);
/// `login_failure_window`: 1 s to 30 days.
pub const LOGIN_FAILURE_WINDOW: Range<Duration> = secs(1_000, 30 * DAY, false);
/// `block_duration`: 0 (no block) or 1 s to 30 days.
pub const BLOCK_DURATION: Range<Duration> = secs(1_000, 30 * DAY, true);
/// `max_registrations_per_source`: 1 to 1 million.
pub const MAX_REGISTRATIONS_PER_SOURCE: Range<u64> = count(1, 1_000_000);
/// `registration_window`: 1 s to 30 days.
pub const REGISTRATION_WINDOW: Range<Duration> = secs(1_000, 30 * DAY, false);
/// `max_tracked_sources`: 1 to 10 million.
pub const MAX_TRACKED_SOURCES: Range<u64> = count(1, 10_000_000);
/// `max_offline_messages`: 0 (none kept) to 100,000 per account.
pub const MAX_OFFLINE_MESSAGES: Range<u64> = count(0, 100_000);
/// `max_offline_total`: 0 to 10 million.
pub const MAX_OFFLINE_TOTAL: Range<u64> = count(0, 10_000_000);
/// `max_blocks`: 0 to 10,000 names per user.
pub const MAX_BLOCKS: Range<u64> = count(0, 10_000);
/// `max_read_markers`: 0 (none kept) to 100,000 per account.
pub const MAX_READ_MARKERS: Range<u64> = count(0, 100_000);
/// `max_sessions_per_account`: 1 to 1,000 connections per account.
pub const MAX_SESSIONS_PER_ACCOUNT: Range<u64> = count(1, 1_000);
/// `history_page_len`: 1 to 10,000 messages.
pub const HISTORY_PAGE_LEN: Range<u64> = count(1, 10_000);
/// `list_page_len`: 1 to 10,000 names.
pub const LIST_PAGE_LEN: Range<u64> = count(1, 10_000);
/// `conversation_history_len`: 0 (none kept) to 10 million whispers.
pub const CONVERSATION_HISTORY_LEN: Range<u64> = count(0, 10_000_000);
/// `max_topic_len`: 0 (no topics) to 8,192 bytes.
pub const MAX_TOPIC_LEN: Range<u64> = count(0, 8_192);
/// `room_idle_expiry`: 0 (never) or 1 s to 10 years.
pub const ROOM_IDLE_EXPIRY: Range<Duration> = secs(1_000, 3_650 * DAY, true);
/// `guest_room_idle_expiry`: 0 (never) or 1 s to 10 years.
pub const GUEST_ROOM_IDLE_EXPIRY: Range<Duration> = secs(1_000, 3_650 * DAY, true);
/// `max_rooms_created_per_source`: 1 to 1 million.
pub const MAX_ROOMS_CREATED_PER_SOURCE: Range<u64> = count(1, 1_000_000);
/// `room_creation_window`: 1 s to 30 days.
pub const ROOM_CREATION_WINDOW: Range<Duration> = secs(1_000, 30 * DAY, false);
/// `max_account_failures`: 1 to 1 million.
pub const MAX_ACCOUNT_FAILURES: Range<u64> = count(1, 1_000_000);
/// `account_block_duration`: 0 (no block) or 1 s to 30 days.
pub const ACCOUNT_BLOCK_DURATION: Range<Duration> = secs(1_000, 30 * DAY, true);
/// `max_known_sources`: 0 to 1,024 per account.
pub const MAX_KNOWN_SOURCES: Range<u64> = count(0, 1_024);
/// `session_token_days`: 0 (no tokens) to 10 years.
pub const SESSION_TOKEN_DAYS: Range<u64> = count(0, 3_650);
/// `max_session_tokens`: 1 to 1,000 per account.
pub const MAX_SESSION_TOKENS: Range<u64> = count(1, 1_000);
/// `operator_broadcasts_per_minute`: 1 to 600 (ten a second).
pub const OPERATOR_BROADCASTS_PER_MINUTE: Range<u64> = count(1, 600);
/// `operators`: 0 to 1,024 names.
pub const OPERATORS: Range<u64> = count(0, 1_024);

/// `cluster_gap_wait`: 1 ms to a minute: a store answers a backfill in
/// milliseconds, and a room should not wait longer than people notice.
pub const CLUSTER_GAP_WAIT: Range<Duration> = secs(1, 60, false);
/// `cluster_max_held`: 1 to 100,000 messages per room.
pub const CLUSTER_MAX_HELD: Range<u64> = count(1, 100_000);

/// `server_name`: 1 to 63 visible ASCII characters (it is the prefix of
/// IRC lines, where a space or line break would end it).
pub const SERVER_NAME: TextRule = TextRule { max_bytes: 63, ascii_graphic: true };
/// An IRC port's server password
/// ([`ConnectInfo::irc_password`](crate::ConnectInfo::irc_password), chatd's
/// `--irc-password`): 1 to 255 bytes of printable characters.
pub const IRC_PASSWORD: TextRule = TextRule { max_bytes: 255, ascii_graphic: false };
