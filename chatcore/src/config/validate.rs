//! Whether a [`Config`] makes sense: every setting within its range (see
//! [`ranges`](super::ranges)) and the settings consistent together.

use std::time::Duration;

use super::Config;
use super::ranges::{self, Range, TextProblem};

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
    /// A count outside its range (see [`ranges`](super::ranges)).
    #[error("{field} is {value}; it must be {range}")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u64,
        /// What it accepts.
        range: Range<u64>,
    },
    /// A duration outside its range (see [`ranges`](super::ranges)).
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
    /// A name in `operators` is not a name an account could have.
    #[error("operator {name:?} is not a valid account name: {reason}")]
    Operator {
        /// The name.
        name: String,
        /// Which rule it breaks.
        reason: crate::names::NameError,
    },
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
    /// let config = Config::default().with_idle_warning(Duration::from_secs(60)).with_idle_timeout(Duration::from_secs(60));
    /// assert!(matches!(config.validate(), Err(ConfigError::IdleWarningTooLong { .. })));
    /// let config = Config::default().with_history_page_len(0);
    /// assert_eq!(config.validate(), Err(ConfigError::Zero { field: "history_page_len" }));
    /// let config = Config::default().with_max_line_bytes(4_294_967_296_000);
    /// assert!(matches!(config.validate(), Err(ConfigError::OutOfRange { field: "max_line_bytes", .. })));
    /// let config = Config::default().with_server_name("chatd\r\nPRIVMSG");
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
        // A name no account could have would make nobody an operator, silently.
        for name in &self.operators {
            crate::names::validate_nick(name, self.max_nick_len)
                .map_err(|reason| ConfigError::Operator { name: name.clone(), reason })?;
        }
        Ok(())
    }

    /// Every count, with its name and range, for [`Config::validate`].
    fn counts(&self) -> [(&'static str, u64, Range<u64>); 31] {
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
            ("max_read_markers", n(self.max_read_markers), ranges::MAX_READ_MARKERS),
            ("max_sessions_per_account", n(self.max_sessions_per_account), ranges::MAX_SESSIONS_PER_ACCOUNT),
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
            ("session_token_days", self.session_token_days.into(), ranges::SESSION_TOKEN_DAYS),
            ("max_session_tokens", n(self.max_session_tokens), ranges::MAX_SESSION_TOKENS),
            ("cluster_max_held", n(self.cluster_max_held), ranges::CLUSTER_MAX_HELD),
            (
                "operator_broadcasts_per_minute",
                self.operator_broadcasts_per_minute.into(),
                ranges::OPERATOR_BROADCASTS_PER_MINUTE,
            ),
            ("operators", n(self.operators.len()), ranges::OPERATORS),
        ]
    }

    /// Every duration, with its name and range, for [`Config::validate`].
    fn durations(&self) -> [(&'static str, Duration, Range<Duration>); 11] {
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
            ("cluster_gap_wait", self.cluster_gap_wait, ranges::CLUSTER_GAP_WAIT),
        ]
    }
}
