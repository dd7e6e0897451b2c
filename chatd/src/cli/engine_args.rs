//! The engine's limits as flags: one per [`Config`] setting, each taking
//! its default from [`Config::default`], and the server password of the
//! IRC ports.

use chatcore::{AlwaysOn, Config, ranges};
use clap::Args;

use super::values::{Seconds, count, seconds, text};

/// The engine's limits, one flag per [`Config`] setting.
#[derive(Debug, Args)]
#[command(next_help_heading = "Engine limits")]
pub(crate) struct EngineArgs {
    /// Most clients connected at once.
    ///
    /// One more gets a one-line refusal and is closed. Bounds the engine's
    /// per-client state (line buffer, nickname, memberships).
    #[arg(long, value_name = "N", default_value_t = Config::default().max_clients(),
          value_parser = count::<usize>(ranges::MAX_CLIENTS))]
    max_clients: usize,

    /// Longest input line in bytes, not counting the line ending.
    ///
    /// A longer line is discarded and its sender gets an error; reading
    /// resumes at the next newline. Bounds each client's input buffer.
    #[arg(long, value_name = "BYTES", default_value_t = Config::default().max_line_bytes(),
          value_parser = count::<usize>(ranges::MAX_LINE_BYTES))]
    pub(super) max_line_bytes: usize,

    /// Longest nickname in bytes (nicknames are ASCII).
    #[arg(long, value_name = "BYTES", default_value_t = Config::default().max_nick_len(),
          value_parser = count::<usize>(ranges::MAX_NICK_LEN))]
    max_nick_len: usize,

    /// Longest room name in bytes (room names are ASCII).
    #[arg(long, value_name = "BYTES", default_value_t = Config::default().max_room_name_len(),
          value_parser = count::<usize>(ranges::MAX_ROOM_NAME_LEN))]
    max_room_name_len: usize,

    /// Most rooms that may exist.
    ///
    /// /create beyond it is refused. Bounds the room table and, with
    /// --history-len, the history kept in memory.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_rooms(),
          value_parser = count::<usize>(ranges::MAX_ROOMS))]
    max_rooms: usize,

    /// Messages each room keeps and replays to whoever joins.
    ///
    /// Bounds the history memory per room and what a newcomer must receive.
    #[arg(long, value_name = "N", default_value_t = Config::default().history_len(),
          value_parser = count::<usize>(ranges::HISTORY_LEN))]
    history_len: usize,

    /// Rooms one client may be a member of at once.
    ///
    /// JSON clients may sit in several rooms; text clients switch rooms on
    /// /join, so they are in one.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_rooms_per_client(),
          value_parser = count::<usize>(ranges::MAX_ROOMS_PER_CLIENT))]
    max_rooms_per_client: usize,

    /// Lines a client may send in a burst before flood control applies.
    #[arg(long, value_name = "LINES", default_value_t = Config::default().flood_burst(),
          value_parser = count::<u32>(ranges::FLOOD_BURST))]
    flood_burst: u32,

    /// Lines per second a client may send on average; 0 turns flood control off.
    ///
    /// A line beyond the allowance is refused with an error and not acted on.
    #[arg(long, value_name = "LINES", default_value_t = Config::default().flood_lines_per_sec(),
          value_parser = count::<u32>(ranges::FLOOD_LINES_PER_SEC))]
    flood_lines_per_sec: u32,

    /// Seconds a new connection may stay silent before it is closed; 0 disables.
    ///
    /// A connection that sends no complete line in time is told why and
    /// closed. Bounds how long a silent connection holds a client slot.
    /// Fractions are allowed (0.5).
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().registration_timeout()),
          value_parser = seconds(ranges::REGISTRATION_TIMEOUT))]
    registration_timeout: Seconds,

    /// Announce connects and disconnects to everyone in the Lobby, too.
    ///
    /// Without it, only those who share a room with a user hear of it.
    #[arg(long, value_name = "BOOL", default_value_t = Config::default().announce_lobby_presence(), action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true")]
    announce_lobby_presence: bool,

    /// The server name shown in the welcome line.
    #[arg(long, value_name = "NAME", default_value_t = Config::default().server_name().to_owned(),
          value_parser = text(ranges::SERVER_NAME))]
    server_name: String,

    /// Show users' hosts as a keyed hash of their address (a cloak).
    ///
    /// A cloak is the same for every connection from one IPv4 address or
    /// IPv6 /64, so bans on hosts hold across nicknames, but it does not
    /// show the address. Its key is made once and kept in the data
    /// directory (cloak.key). false: hosts are the addresses themselves,
    /// for anyone to see in WHO, WHOIS and IRC prefixes.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true")]
    pub(crate) cloak_hosts: bool,

    /// A password IRC clients must give with PASS before they register, for
    /// a private server (it travels in the clear); none by default.
    #[arg(long, value_name = "PASSWORD",
          value_parser = text(ranges::IRC_PASSWORD))]
    pub(crate) irc_password: Option<String>,

    /// Only logged-in users may chat.
    ///
    /// Others may only /register, /login, /help and /quit, and
    /// --registration-timeout runs until the client logs in. Without it,
    /// guests may chat.
    #[arg(long, value_name = "BOOL", default_value_t = Config::default().require_login(), action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true")]
    require_login: bool,

    /// Seconds a client may stay silent before it is disconnected; 0 disables.
    ///
    /// The client is warned --idle-warning seconds before. Bounds how long an
    /// abandoned or half-open connection holds a slot.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().idle_timeout()),
          value_parser = seconds(ranges::IDLE_TIMEOUT))]
    idle_timeout: Seconds,

    /// Seconds before the idle disconnect that the client is warned.
    ///
    /// Capped at half of --idle-timeout.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().idle_warning()),
          value_parser = seconds(ranges::IDLE_WARNING))]
    idle_warning: Seconds,

    /// Most accounts that may exist. Bounds the account table.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_accounts(),
          value_parser = count::<usize>(ranges::MAX_ACCOUNTS))]
    max_accounts: usize,

    /// Shortest accepted password, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Config::default().min_password_len(),
          value_parser = count::<usize>(ranges::MIN_PASSWORD_LEN))]
    min_password_len: usize,

    /// Failed logins for one account from one address before that address is refused.
    ///
    /// Counted within --login-failure-window; the refusal lasts
    /// --block-duration. Counted per account and address, so an attacker
    /// elsewhere cannot lock the owner out.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_login_failures(),
          value_parser = count::<u32>(ranges::MAX_LOGIN_FAILURES))]
    max_login_failures: u32,

    /// Seconds in which failed logins are counted.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().login_failure_window()),
          value_parser = seconds(ranges::LOGIN_FAILURE_WINDOW))]
    login_failure_window: Seconds,

    /// Seconds an address is refused for an account after too many failed logins.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().block_duration()),
          value_parser = seconds(ranges::BLOCK_DURATION))]
    block_duration: Seconds,

    /// Accounts one address may register per --registration-window.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_registrations_per_source(),
          value_parser = count::<u32>(ranges::MAX_REGISTRATIONS_PER_SOURCE))]
    max_registrations_per_source: u32,

    /// Seconds over which --max-registrations-per-source is counted.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().registration_window()),
          value_parser = seconds(ranges::REGISTRATION_WINDOW))]
    registration_window: Seconds,

    /// Addresses tracked for failed logins, registrations and room creations.
    ///
    /// When full, a stale entry is dropped first, then the one with the
    /// fewest events; never one locked out. Bounds that table.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_tracked_sources(),
          value_parser = count::<usize>(ranges::MAX_TRACKED_SOURCES))]
    max_tracked_sources: usize,

    /// Whispers kept for one offline account until it logs in.
    ///
    /// One more is refused with an error to its sender. Bounds each mailbox.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_offline_messages(),
          value_parser = count::<usize>(ranges::MAX_OFFLINE_MESSAGES))]
    max_offline_messages: usize,

    /// Whispers kept for all offline accounts together.
    ///
    /// Bounds the memory of every mailbox at once.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_offline_total(),
          value_parser = count::<usize>(ranges::MAX_OFFLINE_TOTAL))]
    max_offline_total: usize,

    /// Names one user may block.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_blocks(),
          value_parser = count::<usize>(ranges::MAX_BLOCKS))]
    max_blocks: usize,

    /// Read markers one account keeps: rooms and conversations it marked read.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_read_markers(),
          value_parser = count::<usize>(ranges::MAX_READ_MARKERS))]
    max_read_markers: usize,

    /// Connections one account may have logged in at once, on any protocol.
    ///
    /// A login past it is refused.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_sessions_per_account(),
          value_parser = count::<usize>(ranges::MAX_SESSIONS_PER_ACCOUNT))]
    max_sessions_per_account: usize,

    /// Whether accounts stay in their rooms while none of their connections is.
    ///
    /// optional: each user chooses with /always-on (off until then);
    /// forced_on or forced_off: the same for every account. Ignored with
    /// --cluster.
    #[arg(long, value_name = "POLICY", default_value_t = Config::default().always_on())]
    always_on: AlwaysOn,

    /// Messages per /history page. Bounds one answer.
    #[arg(long, value_name = "N", default_value_t = Config::default().history_page_len(),
          value_parser = count::<usize>(ranges::HISTORY_PAGE_LEN))]
    history_page_len: usize,

    /// Names or rooms per answer to /users, /who, /list, /since and IRC
    /// NAMES; a longer list comes a page at a time.
    ///
    /// Each page gives the total and the command for the next page. Bounds
    /// one answer, however many users or rooms there are.
    #[arg(long, value_name = "N", default_value_t = Config::default().list_page_len(),
          value_parser = count::<usize>(ranges::LIST_PAGE_LEN))]
    list_page_len: usize,

    /// Whispers kept on disk per conversation between two accounts; 0 keeps none.
    ///
    /// `/history @NICK` pages back through them; older ones are deleted as
    /// new ones are written. Guests' whispers are never kept.
    #[arg(long, value_name = "N", default_value_t = Config::default().conversation_history_len(),
          value_parser = count::<usize>(ranges::CONVERSATION_HISTORY_LEN))]
    conversation_history_len: usize,

    /// Longest room topic in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Config::default().max_topic_len(),
          value_parser = count::<usize>(ranges::MAX_TOPIC_LEN))]
    max_topic_len: usize,

    /// Seconds a room created by an account may stay empty before it is
    /// removed with its history; 0 keeps it for good.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().room_idle_expiry()),
          value_parser = seconds(ranges::ROOM_IDLE_EXPIRY))]
    room_idle_expiry: Seconds,

    /// Seconds a room created by a guest may stay empty before it is
    /// removed with its history; 0 keeps it for good.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().guest_room_idle_expiry()),
          value_parser = seconds(ranges::GUEST_ROOM_IDLE_EXPIRY))]
    guest_room_idle_expiry: Seconds,

    /// Rooms one address, and one account, may create per
    /// --room-creation-window.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_rooms_created_per_source(),
          value_parser = count::<u32>(ranges::MAX_ROOMS_CREATED_PER_SOURCE))]
    max_rooms_created_per_source: u32,

    /// Seconds over which --max-rooms-created-per-source is counted.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().room_creation_window()),
          value_parser = seconds(ranges::ROOM_CREATION_WINDOW))]
    room_creation_window: Seconds,

    /// Failed logins to one account, from all addresses together within
    /// --login-failure-window, after which it refuses addresses it never
    /// logged in from, for --account-block-duration.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_account_failures(),
          value_parser = count::<u32>(ranges::MAX_ACCOUNT_FAILURES))]
    max_account_failures: u32,

    /// Seconds an account refuses unknown addresses after
    /// --max-account-failures.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().account_block_duration()),
          value_parser = seconds(ranges::ACCOUNT_BLOCK_DURATION))]
    account_block_duration: Seconds,

    /// Addresses remembered per account as its own (it logged in from
    /// them); they are exempt from the per-account throttle.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_known_sources(),
          value_parser = count::<usize>(ranges::MAX_KNOWN_SOURCES))]
    max_known_sources: usize,

    /// Days a session token (`/token`) logs its holder in without a
    /// password; 0 issues none.
    #[arg(long, value_name = "DAYS", default_value_t = Config::default().session_token_days(),
          value_parser = count::<u32>(ranges::SESSION_TOKEN_DAYS))]
    session_token_days: u32,

    /// Live session tokens per account; issuing one more revokes the oldest.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_session_tokens(),
          value_parser = count::<usize>(ranges::MAX_SESSION_TOKENS))]
    max_session_tokens: usize,

    /// An account that is a server operator while a client is logged in
    /// to it; may be given several times. None by default.
    ///
    /// Operators may /broadcast to every user, /kill a connection, drop
    /// any room and see more in IRC's INFO; chatd logs each such action
    /// with who did it. `chatd op grant NAME` makes one in the database
    /// instead (docs/OPERATIONS.md).
    #[arg(long = "operator", value_name = "NAME")]
    operators: Vec<String>,

    /// Broadcasts one server operator may send per minute; one more is
    /// refused until the minute is over.
    #[arg(long, value_name = "N", default_value_t = Config::default().operator_broadcasts_per_minute(),
          value_parser = count::<u32>(ranges::OPERATOR_BROADCASTS_PER_MINUTE))]
    operator_broadcasts_per_minute: u32,
}

impl EngineArgs {
    /// The engine configuration these flags describe. A setting that has
    /// no flag yet keeps its default.
    pub(crate) fn config(&self) -> Config {
        Config::default()
            .with_max_clients(self.max_clients)
            .with_max_line_bytes(self.max_line_bytes)
            .with_max_nick_len(self.max_nick_len)
            .with_max_room_name_len(self.max_room_name_len)
            .with_max_rooms(self.max_rooms)
            .with_history_len(self.history_len)
            .with_max_rooms_per_client(self.max_rooms_per_client)
            .with_flood_burst(self.flood_burst)
            .with_flood_lines_per_sec(self.flood_lines_per_sec)
            .with_registration_timeout(self.registration_timeout.0)
            .with_announce_lobby_presence(self.announce_lobby_presence)
            .with_server_name(self.server_name.clone())
            .with_require_login(self.require_login)
            .with_idle_timeout(self.idle_timeout.0)
            .with_idle_warning(self.idle_warning.0)
            .with_max_accounts(self.max_accounts)
            .with_min_password_len(self.min_password_len)
            .with_max_login_failures(self.max_login_failures)
            .with_login_failure_window(self.login_failure_window.0)
            .with_block_duration(self.block_duration.0)
            .with_max_registrations_per_source(self.max_registrations_per_source)
            .with_registration_window(self.registration_window.0)
            .with_max_tracked_sources(self.max_tracked_sources)
            .with_max_offline_messages(self.max_offline_messages)
            .with_max_offline_total(self.max_offline_total)
            .with_max_blocks(self.max_blocks)
            .with_max_read_markers(self.max_read_markers)
            .with_max_sessions_per_account(self.max_sessions_per_account)
            .with_always_on(self.always_on)
            .with_history_page_len(self.history_page_len)
            .with_list_page_len(self.list_page_len)
            .with_conversation_history_len(self.conversation_history_len)
            .with_max_topic_len(self.max_topic_len)
            .with_room_idle_expiry(self.room_idle_expiry.0)
            .with_guest_room_idle_expiry(self.guest_room_idle_expiry.0)
            .with_max_rooms_created_per_source(self.max_rooms_created_per_source)
            .with_room_creation_window(self.room_creation_window.0)
            .with_max_account_failures(self.max_account_failures)
            .with_account_block_duration(self.account_block_duration.0)
            .with_max_known_sources(self.max_known_sources)
            .with_session_token_days(self.session_token_days)
            .with_max_session_tokens(self.max_session_tokens)
            .with_operators(self.operators.clone())
            .with_operator_broadcasts_per_minute(self.operator_broadcasts_per_minute)
    }
}
