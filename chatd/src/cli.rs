//! The command line. Engine limits take their defaults from
//! [`Config::default`], so `--help` always shows what the engine really
//! uses; chatd's own limits are documented here.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use chatcore::Config;
use clap::{Args, Parser, Subcommand};

use crate::conn::{SendLimit, ws};
use crate::passwords::Limits;
use crate::store::{Retention, SyncMode};
use crate::tls::TlsArgs;

/// The address chatd listens on unless told otherwise.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:7878";

/// chatd: a chat server for `nc`, telnet and programs speaking JSON Lines.
///
/// On start it prints `listening on ADDR` (the address actually bound) as
/// its first line on stdout; logs go to stderr, filtered by `RUST_LOG`
/// (default `info`). SIGINT or SIGTERM tells every client the server is
/// stopping, flushes what is queued and exits 0. With a TLS listener,
/// SIGHUP rereads --tls-cert and --tls-key.
///
/// Without a command, chatd serves; `chatd backup` and `chatd check` look
/// after its database instead, and may run while it serves; `chatd
/// check-config FILE` checks a --config file.
// Server flags given with a command would be silently ignored: refused instead.
#[derive(Debug, Parser)]
#[command(name = "chatd", version, max_term_width = 100, args_conflicts_with_subcommands = true)]
pub(crate) struct Cli {
    /// A maintenance command to run instead of serving.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    /// Read flags from a TOML file: each key is a flag's long name,
    /// `max-line-bytes = 4096`.
    ///
    /// A flag on the command line overrides the file's key. Repeatable
    /// flags take arrays, switches `true` or `false`, seconds integers or
    /// fractions. `chatd check-config FILE` checks a file without serving;
    /// contrib/chatd.toml has every key with its default.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// How log lines are written to stderr: `text` for people, `json` (one
    /// object per line) for log shippers.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
    pub(crate) log_format: LogFormat,

    /// Address to listen on, IP:PORT.
    ///
    /// Port 0 lets the system pick a free port; the bound address is printed
    /// on stdout. Use 0.0.0.0:PORT to accept connections from other hosts.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    pub(crate) listen: SocketAddr,

    /// Address to serve IRC on (irssi, WeeChat, HexChat), IP:PORT, or
    /// `none`.
    ///
    /// IRC users share rooms with text and JSON users: room `rust` is
    /// channel `#rust`. The bound address is printed on stdout as
    /// `irc listening on ADDR`, after the first line.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:6667", value_parser = optional_addr)]
    pub(crate) irc_listen: OptionalAddr,

    /// Address to serve HTTP on, IP:PORT, or `none`: the chat page (`/`),
    /// WebSocket clients (`/ws`) and a health check (`/healthz`).
    ///
    /// A WebSocket speaks JSON Lines, one object per text frame, in the
    /// same rooms as everyone else. The bound address is printed on stdout
    /// as `http listening on ADDR`, after the IRC line.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080", value_parser = optional_addr)]
    pub(crate) http_listen: OptionalAddr,

    /// A web page's origin allowed to open a WebSocket, besides chatd's own
    /// page; may be given several times.
    ///
    /// By default only a page served from the host and port the browser
    /// connects to may (its `Origin` matches the request's `Host`), so that
    /// no other site can chat in its visitors' names. Requests without an
    /// `Origin` (programs, not browsers) are always let in. Compared whole,
    /// scheme included: `https://chat.example.com`.
    #[arg(long = "allowed-origin", value_name = "ORIGIN", value_parser = origin)]
    pub(crate) allowed_origins: Vec<String>,

    /// Seconds a WebSocket may stay silent before the server pings it; 0
    /// never pings.
    ///
    /// A peer still silent that long after the ping is disconnected, which
    /// finds vanished browsers sooner than TCP does. Pongs are not chat
    /// activity: --idle-timeout still applies.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Duration::from_secs(30)))]
    pub(crate) ws_ping_interval: Seconds,

    /// Bytes a client may leave unread once --send-queue-grace has passed.
    ///
    /// A client that still has more than this unread, of what was queued
    /// for it longer than the grace period ago, is disconnected ("send queue
    /// exceeded") and nobody else waits for it. A burst that a reader takes
    /// within the grace period never counts, however large.
    #[arg(long, value_name = "BYTES", default_value_t = 256 * 1024, value_parser = positive)]
    pub(crate) send_queue_bytes: usize,

    /// Seconds queued bytes are given to reach a client before they count
    /// as left unread.
    ///
    /// Longer forgives a reader that pauses longer, and lets a client that
    /// stopped hold what arrives meanwhile (at most --send-queue-max-bytes).
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Duration::from_secs(2)))]
    pub(crate) send_queue_grace: Seconds,

    /// Bytes one client's send queue may hold at most, however recent.
    ///
    /// Bounds the memory one client can pin during its grace period. The
    /// default holds the largest burst flood control allows in a full
    /// server's room (1,024 members × 10 lines × 2 KiB). A single message
    /// larger than this (say, a long history replay) still goes to an empty
    /// queue.
    #[arg(long, value_name = "BYTES", default_value_t = 32 * 1024 * 1024, value_parser = positive)]
    pub(crate) send_queue_max_bytes: usize,

    /// Connections one IP address may hold at once; 0 means no cap.
    ///
    /// One more gets a one-line refusal and is closed. IPv6 addresses count
    /// by their /64 prefix. Set it to 0 to let a load generator on one
    /// machine open thousands of connections.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub(crate) max_per_ip: usize,

    /// Socket events (reads, connects, disconnects) that may wait for the engine.
    ///
    /// Readers wait when it is full, so a fast sender is slowed rather than
    /// buffered. Bounds inbound memory to about this many times 4 KiB.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = positive)]
    pub(crate) inbound_capacity: usize,

    /// Worker threads [default: the number of CPUs].
    #[arg(long, value_name = "N", value_parser = positive)]
    pub(crate) threads: Option<usize>,

    /// Password hashes and checks (argon2id, 19 MiB each) that run at once
    /// [default: the number of CPUs].
    ///
    /// Each runs on a thread of its own that keeps its 19 MiB for the next,
    /// so password work never holds more than this many × 19 MiB, however
    /// many logins arrive at once.
    #[arg(long, value_name = "N", value_parser = positive)]
    pub(crate) hash_threads: Option<usize>,

    /// Password hashes and checks that may wait for a --hash-threads thread.
    ///
    /// One more is refused at once: that client is told the server is busy
    /// and may try again, and it counts as no failed login. 0 refuses
    /// whenever every thread is busy.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub(crate) hash_queue: usize,

    #[command(flatten)]
    pub(crate) tls: TlsArgs,

    #[command(flatten)]
    pub(crate) storage: StorageArgs,

    #[command(flatten)]
    pub(crate) engine: EngineArgs,
}

/// What chatd can do besides serving.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Copy the database to FILE, consistently, while chatd runs (or not).
    ///
    /// The copy holds every message chatd had committed when it began, and
    /// chatd goes on serving meanwhile. FILE gets mode 0600 and is a single
    /// database file; to restore it, see docs/OPERATIONS.md. Prints what
    /// was written; on any failure, exits non-zero and leaves FILE as it was.
    Backup(BackupArgs),
    /// Check the database: SQLite's integrity check, and whether it is a
    /// chatd database this chatd can use.
    ///
    /// Reads only, so it may run while chatd does. Prints what it found and
    /// exits 0 when healthy, 1 when not (with what to do next).
    Check(CheckArgs),
    /// Check a configuration file (see --config) without serving.
    ///
    /// Every key must be a flag's long name with a value that flag accepts,
    /// and the engine limits must make sense together. Prints an OK line
    /// and exits 0, or prints the problem (with its line) and exits 1.
    CheckConfig(CheckConfigArgs),
}

/// `chatd check-config`'s argument.
#[derive(Debug, Args)]
pub(crate) struct CheckConfigArgs {
    /// The TOML file to check.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
}

/// The formats of chatd's log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// One line per event, as people read them.
    Text,
    /// One JSON object per line.
    Json,
}

/// `chatd backup`'s flags.
#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    /// The data directory of the chatd to back up.
    #[arg(long, value_name = "DIR", default_value = "chatd-data")]
    pub(crate) data_dir: PathBuf,

    /// The file to write the backup to.
    #[arg(long, value_name = "FILE")]
    pub(crate) to: PathBuf,

    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub(crate) force: bool,
}

/// `chatd check`'s flags.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The data directory to check.
    #[arg(long, value_name = "DIR", default_value = "chatd-data")]
    pub(crate) data_dir: PathBuf,
}

/// Where and how durably state is kept.
#[derive(Debug, Args)]
#[command(next_help_heading = "Storage")]
pub(crate) struct StorageArgs {
    /// Directory holding the database (chatd.db, in SQLite's WAL mode).
    ///
    /// Created if missing; relative to where chatd runs. Rooms, every
    /// message, accounts, offline messages, blocks and last-seen times
    /// survive restarts and crashes. Only one chatd may use a directory at
    /// a time.
    #[arg(long, value_name = "DIR", default_value = "chatd-data")]
    pub(crate) data_dir: PathBuf,

    /// Keep everything in memory only; nothing survives a restart.
    #[arg(long)]
    pub(crate) ephemeral: bool,

    /// What a message any client has seen survives.
    ///
    /// normal: a crash or kill of chatd (the OS still writes it out);
    /// full: power loss and OS crashes too, at the cost of waiting for the
    /// disk on every commit.
    #[arg(long, value_enum, value_name = "MODE", default_value = "normal")]
    pub(crate) sync: SyncMode,

    /// Delete messages older than this many days from disk [default: keep all].
    ///
    /// Applied in the background in small steps; the newest message of
    /// each room is always kept.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) retain_days: Option<u64>,

    /// Keep at most this many messages per room on disk [default: keep all].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) retain_messages: Option<u64>,

    /// Seconds a commit may take before storage counts as failing; 0 never.
    ///
    /// A disk that hangs (a frozen or stalled file system) holds a commit
    /// without failing it. Past this bound chatd treats it as a failing
    /// disk: new messages, rooms, registrations and blocks are refused,
    /// and everything that needs no storage is answered at once, until the
    /// commit finishes. Fractions are allowed (0.5).
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Duration::from_secs(3)))]
    pub(crate) commit_timeout: Seconds,
}

impl StorageArgs {
    pub(crate) fn retention(&self) -> Retention {
        // Conversations are bounded by the engine's --conversation-history-len (see server.rs).
        Retention { max_age_days: self.retain_days, max_per_room: self.retain_messages, max_per_conversation: None }
    }

    /// `None` when commits may take any time.
    pub(crate) fn commit_timeout(&self) -> Option<Duration> {
        Some(self.commit_timeout.0).filter(|timeout| !timeout.is_zero())
    }
}

/// The engine's limits, one flag per [`Config`] field.
#[derive(Debug, Args)]
#[command(next_help_heading = "Engine limits")]
pub(crate) struct EngineArgs {
    /// Most clients connected at once.
    ///
    /// One more gets a one-line refusal and is closed. Bounds the engine's
    /// per-client state (line buffer, nickname, memberships).
    #[arg(long, value_name = "N", default_value_t = Config::default().max_clients)]
    max_clients: usize,

    /// Longest input line in bytes, not counting the line ending.
    ///
    /// A longer line is discarded and its sender gets an error; reading
    /// resumes at the next newline. Bounds each client's input buffer.
    #[arg(long, value_name = "BYTES", default_value_t = Config::default().max_line_bytes)]
    max_line_bytes: usize,

    /// Longest nickname in bytes (nicknames are ASCII).
    #[arg(long, value_name = "BYTES", default_value_t = Config::default().max_nick_len)]
    max_nick_len: usize,

    /// Longest room name in bytes (room names are ASCII).
    #[arg(long, value_name = "BYTES", default_value_t = Config::default().max_room_name_len)]
    max_room_name_len: usize,

    /// Most rooms that may exist.
    ///
    /// /create beyond it is refused. Bounds the room table and, with
    /// --history-len, the history kept in memory.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_rooms)]
    max_rooms: usize,

    /// Messages each room keeps and replays to whoever joins.
    ///
    /// Bounds the history memory per room and what a newcomer must receive.
    #[arg(long, value_name = "N", default_value_t = Config::default().history_len)]
    history_len: usize,

    /// Rooms one client may be a member of at once.
    ///
    /// JSON clients may sit in several rooms; text clients switch rooms on
    /// /join, so they are in one.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_rooms_per_client)]
    max_rooms_per_client: usize,

    /// Lines a client may send in a burst before flood control applies.
    #[arg(long, value_name = "LINES", default_value_t = Config::default().flood_burst)]
    flood_burst: u32,

    /// Lines per second a client may send on average; 0 turns flood control off.
    ///
    /// A line beyond the allowance is refused with an error and not acted on.
    #[arg(long, value_name = "LINES", default_value_t = Config::default().flood_lines_per_sec)]
    flood_lines_per_sec: u32,

    /// Seconds a new connection may stay silent before it is closed; 0 disables.
    ///
    /// A connection that sends no complete line in time is told why and
    /// closed. Bounds how long a silent connection holds a client slot.
    /// Fractions are allowed (0.5).
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().registration_timeout))]
    registration_timeout: Seconds,

    /// Announce connects and disconnects to everyone in the Lobby, too.
    ///
    /// Without it, only those who share a room with a user hear of it.
    #[arg(long, value_name = "BOOL", default_value_t = Config::default().announce_lobby_presence, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true")]
    announce_lobby_presence: bool,

    /// The server name shown in the welcome line.
    #[arg(long, value_name = "NAME", default_value_t = Config::default().server_name)]
    server_name: String,

    /// A password IRC clients must give with PASS before they register, for
    /// a private server (it travels in the clear); none by default.
    #[arg(long, value_name = "PASSWORD")]
    irc_password: Option<String>,

    /// Only logged-in users may chat.
    ///
    /// Others may only /register, /login, /help and /quit, and
    /// --registration-timeout runs until the client logs in. Without it,
    /// guests may chat.
    #[arg(long, value_name = "BOOL", default_value_t = Config::default().require_login, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true")]
    require_login: bool,

    /// Seconds a client may stay silent before it is disconnected; 0 disables.
    ///
    /// The client is warned --idle-warning seconds before. Bounds how long an
    /// abandoned or half-open connection holds a slot.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().idle_timeout))]
    idle_timeout: Seconds,

    /// Seconds before the idle disconnect that the client is warned.
    ///
    /// Capped at half of --idle-timeout.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().idle_warning))]
    idle_warning: Seconds,

    /// Most accounts that may exist. Bounds the account table.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_accounts)]
    max_accounts: usize,

    /// Shortest accepted password, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Config::default().min_password_len)]
    min_password_len: usize,

    /// Failed logins for one account from one address before that address is refused.
    ///
    /// Counted within --login-failure-window; the refusal lasts
    /// --block-duration. Counted per account and address, so an attacker
    /// elsewhere cannot lock the owner out.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_login_failures)]
    max_login_failures: u32,

    /// Seconds in which failed logins are counted.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().login_failure_window))]
    login_failure_window: Seconds,

    /// Seconds an address is refused for an account after too many failed logins.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().block_duration))]
    block_duration: Seconds,

    /// Accounts one address may register per --registration-window.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_registrations_per_source)]
    max_registrations_per_source: u32,

    /// Seconds over which --max-registrations-per-source is counted.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().registration_window))]
    registration_window: Seconds,

    /// Addresses tracked for failed logins, registrations and room creations.
    ///
    /// When full, a stale entry is dropped first, then the one with the
    /// fewest events; never one locked out. Bounds that table.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_tracked_sources)]
    max_tracked_sources: usize,

    /// Whispers kept for one offline account until it logs in.
    ///
    /// One more is refused with an error to its sender. Bounds each mailbox.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_offline_messages)]
    max_offline_messages: usize,

    /// Whispers kept for all offline accounts together.
    ///
    /// Bounds the memory of every mailbox at once.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_offline_total)]
    max_offline_total: usize,

    /// Names one user may block.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_blocks)]
    max_blocks: usize,

    /// Messages per /history page. Bounds one answer.
    #[arg(long, value_name = "N", default_value_t = Config::default().history_page_len)]
    history_page_len: usize,

    /// Whispers kept on disk per conversation between two accounts; 0 keeps none.
    ///
    /// `/history @NICK` pages back through them; older ones are deleted as
    /// new ones are written. Guests' whispers are never kept.
    #[arg(long, value_name = "N", default_value_t = Config::default().conversation_history_len)]
    conversation_history_len: usize,

    /// Longest room topic in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Config::default().max_topic_len)]
    max_topic_len: usize,

    /// Seconds a room created by an account may stay empty before it is
    /// removed with its history; 0 keeps it for good.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().room_idle_expiry))]
    room_idle_expiry: Seconds,

    /// Seconds a room created by a guest may stay empty before it is
    /// removed with its history; 0 keeps it for good.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().guest_room_idle_expiry))]
    guest_room_idle_expiry: Seconds,

    /// Rooms one address, and one account, may create per
    /// --room-creation-window.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_rooms_created_per_source)]
    max_rooms_created_per_source: u32,

    /// Seconds over which --max-rooms-created-per-source is counted.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().room_creation_window))]
    room_creation_window: Seconds,

    /// Failed logins to one account, from all addresses together within
    /// --login-failure-window, after which it refuses addresses it never
    /// logged in from, for --account-block-duration.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_account_failures)]
    max_account_failures: u32,

    /// Seconds an account refuses unknown addresses after
    /// --max-account-failures.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Config::default().account_block_duration))]
    account_block_duration: Seconds,

    /// Addresses remembered per account as its own (it logged in from
    /// them); they are exempt from the per-account throttle.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_known_sources)]
    max_known_sources: usize,
}

impl EngineArgs {
    /// The engine configuration these flags describe.
    // The struct update keeps chatd building when the engine gains a limit
    // before chatd gains its flag; until then it takes its default.
    #[allow(clippy::needless_update)]
    pub(crate) fn config(&self) -> Config {
        Config {
            max_clients: self.max_clients,
            max_line_bytes: self.max_line_bytes,
            max_nick_len: self.max_nick_len,
            max_room_name_len: self.max_room_name_len,
            max_rooms: self.max_rooms,
            history_len: self.history_len,
            max_rooms_per_client: self.max_rooms_per_client,
            flood_burst: self.flood_burst,
            flood_lines_per_sec: self.flood_lines_per_sec,
            registration_timeout: self.registration_timeout.0,
            announce_lobby_presence: self.announce_lobby_presence,
            server_name: self.server_name.clone(),
            irc_password: self.irc_password.clone(),
            require_login: self.require_login,
            idle_timeout: self.idle_timeout.0,
            idle_warning: self.idle_warning.0,
            max_accounts: self.max_accounts,
            min_password_len: self.min_password_len,
            max_login_failures: self.max_login_failures,
            login_failure_window: self.login_failure_window.0,
            block_duration: self.block_duration.0,
            max_registrations_per_source: self.max_registrations_per_source,
            registration_window: self.registration_window.0,
            max_tracked_sources: self.max_tracked_sources,
            max_offline_messages: self.max_offline_messages,
            max_offline_total: self.max_offline_total,
            max_blocks: self.max_blocks,
            history_page_len: self.history_page_len,
            conversation_history_len: self.conversation_history_len,
            max_topic_len: self.max_topic_len,
            room_idle_expiry: self.room_idle_expiry.0,
            guest_room_idle_expiry: self.guest_room_idle_expiry.0,
            max_rooms_created_per_source: self.max_rooms_created_per_source,
            room_creation_window: self.room_creation_window.0,
            max_account_failures: self.max_account_failures,
            account_block_duration: self.account_block_duration.0,
            max_known_sources: self.max_known_sources,
            ..Config::default()
        }
    }
}

impl Cli {
    /// How much password work may be under way, from --hash-threads and --hash-queue.
    pub(crate) fn password_limits(&self) -> Limits {
        let cpus = || std::thread::available_parallelism().map_or(1, |n| n.get());
        Limits { threads: self.hash_threads.unwrap_or_else(cpus), queue: self.hash_queue }
    }

    /// The WebSocket limits: messages as long as the engine's lines, and
    /// the ping interval.
    pub(crate) fn ws_settings(&self) -> ws::Settings {
        ws::Settings {
            max_message: self.engine.max_line_bytes,
            ping_after: Some(self.ws_ping_interval.0).filter(|every| !every.is_zero()),
        }
    }

    /// How far behind a client may fall, from the --send-queue-* flags.
    pub(crate) fn send_limit(&self) -> SendLimit {
        SendLimit {
            behind_bytes: self.send_queue_bytes,
            grace: self.send_queue_grace.0,
            max_bytes: self.send_queue_max_bytes,
        }
    }
}

/// An address to listen on, or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OptionalAddr(pub(crate) Option<SocketAddr>);

pub(crate) fn optional_addr(text: &str) -> Result<OptionalAddr, String> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(OptionalAddr(None));
    }
    text.parse().map(|addr| OptionalAddr(Some(addr))).map_err(|_| format!("{text:?} is not IP:PORT or none"))
}

/// A web origin: `http://` or `https://`, a host and maybe a port, nothing
/// after (a browser's `Origin` has no path).
fn origin(text: &str) -> Result<String, String> {
    let rest = text.strip_prefix("http://").or_else(|| text.strip_prefix("https://"));
    let authority = rest.map(|r| r.strip_suffix('/').unwrap_or(r));
    match authority {
        Some(a) if !a.is_empty() && !a.contains(['/', '?', '#', ' ', '@']) => Ok(text.to_owned()),
        _ => Err(format!("{text:?} is not an origin like https://chat.example.com or http://host:8080")),
    }
}

/// A duration given on the command line in seconds, fractions allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seconds(pub(crate) Duration);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.as_secs_f64())
    }
}

impl FromStr for Seconds {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let secs: f64 = s.trim().parse().map_err(|_| format!("{s:?} is not a number of seconds"))?;
        Duration::try_from_secs_f64(secs)
            .map(Seconds)
            .map_err(|_| format!("{s:?} is not a duration of zero or more seconds"))
    }
}

/// A count that must be at least 1 (a zero-capacity channel or queue would
/// stall or refuse everything).
fn positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a whole number")),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn defaults_are_the_engines() {
        let cli = Cli::try_parse_from(["chatd"]).unwrap();
        assert_eq!(cli.engine.config(), Config::default());
        assert_eq!(cli.listen, DEFAULT_LISTEN.parse().unwrap());
    }

    #[test]
    fn every_engine_flag_reaches_the_config() {
        let cli = Cli::try_parse_from([
            "chatd",
            "--max-clients=3",
            "--max-line-bytes=64",
            "--max-nick-len=8",
            "--max-room-name-len=9",
            "--max-rooms=5",
            "--history-len=2",
            "--max-rooms-per-client=4",
            "--flood-burst=7",
            "--flood-lines-per-sec=0",
            "--registration-timeout=0.5",
            "--announce-lobby-presence=true",
            "--server-name=test",
            "--require-login=true",
            "--idle-timeout=30",
            "--idle-warning=5",
            "--max-accounts=10",
            "--min-password-len=12",
            "--max-login-failures=2",
            "--login-failure-window=90",
            "--block-duration=15",
            "--max-registrations-per-source=1",
            "--registration-window=600",
            "--max-tracked-sources=20",
            "--max-offline-messages=3",
            "--max-offline-total=30",
            "--max-blocks=4",
            "--history-page-len=6",
            "--conversation-history-len=9",
            "--max-topic-len=100",
            "--room-idle-expiry=86400",
            "--guest-room-idle-expiry=60",
            "--max-rooms-created-per-source=2",
            "--room-creation-window=120",
            "--max-account-failures=7",
            "--account-block-duration=300",
            "--max-known-sources=3",
        ])
        .unwrap();
        #[allow(clippy::needless_update)]
        let expected = Config {
            max_clients: 3,
            max_line_bytes: 64,
            max_nick_len: 8,
            max_room_name_len: 9,
            max_rooms: 5,
            history_len: 2,
            max_rooms_per_client: 4,
            flood_burst: 7,
            flood_lines_per_sec: 0,
            registration_timeout: Duration::from_millis(500),
            announce_lobby_presence: true,
            server_name: "test".to_owned(),
            require_login: true,
            idle_timeout: Duration::from_secs(30),
            idle_warning: Duration::from_secs(5),
            max_accounts: 10,
            min_password_len: 12,
            max_login_failures: 2,
            login_failure_window: Duration::from_secs(90),
            block_duration: Duration::from_secs(15),
            max_registrations_per_source: 1,
            registration_window: Duration::from_secs(600),
            max_tracked_sources: 20,
            max_offline_messages: 3,
            max_offline_total: 30,
            max_blocks: 4,
            history_page_len: 6,
            conversation_history_len: 9,
            max_topic_len: 100,
            room_idle_expiry: Duration::from_secs(86_400),
            guest_room_idle_expiry: Duration::from_secs(60),
            max_rooms_created_per_source: 2,
            room_creation_window: Duration::from_secs(120),
            max_account_failures: 7,
            account_block_duration: Duration::from_secs(300),
            max_known_sources: 3,
            ..Config::default()
        };
        assert_eq!(cli.engine.config(), expected);
    }

    #[test]
    fn switches_given_without_a_value_are_on() {
        let cli =
            Cli::try_parse_from(["chatd", "--require-login", "--announce-lobby-presence", "--ephemeral"]).unwrap();
        assert!(cli.engine.config().require_login);
        assert!(cli.engine.config().announce_lobby_presence);
        let cli = Cli::try_parse_from(["chatd", "--require-login", "false"]).unwrap();
        assert!(!cli.engine.config().require_login);
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(Cli::try_parse_from(["chatd", "--registration-timeout=-1"]).is_err());
        assert!(Cli::try_parse_from(["chatd", "--registration-timeout=soon"]).is_err());
        assert!(Cli::try_parse_from(["chatd", "--inbound-capacity=0"]).is_err());
        assert!(Cli::try_parse_from(["chatd", "--listen=localhost"]).is_err());
    }

    #[test]
    fn password_work_defaults_to_a_thread_per_cpu_and_a_queue_of_64() {
        let cli = Cli::try_parse_from(["chatd"]).unwrap();
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(cli.password_limits(), Limits { threads: cpus, queue: 64 });
        let cli = Cli::try_parse_from(["chatd", "--hash-threads=1", "--hash-queue=0"]).unwrap();
        assert_eq!(cli.password_limits(), Limits { threads: 1, queue: 0 });
        assert!(Cli::try_parse_from(["chatd", "--hash-threads=0"]).is_err());
    }

    #[test]
    fn commit_timeout_defaults_to_three_seconds_and_zero_turns_it_off() {
        let cli = Cli::try_parse_from(["chatd"]).unwrap();
        assert_eq!(cli.storage.commit_timeout(), Some(Duration::from_secs(3)));
        let cli = Cli::try_parse_from(["chatd", "--commit-timeout=0.25"]).unwrap();
        assert_eq!(cli.storage.commit_timeout(), Some(Duration::from_millis(250)));
        let cli = Cli::try_parse_from(["chatd", "--commit-timeout=0"]).unwrap();
        assert_eq!(cli.storage.commit_timeout(), None);
    }

    #[test]
    fn the_http_port_and_websocket_limits() {
        let cli = Cli::try_parse_from(["chatd"]).unwrap();
        assert_eq!(cli.http_listen, OptionalAddr(Some("127.0.0.1:8080".parse().unwrap())));
        let max_line = Config::default().max_line_bytes;
        assert_eq!(
            cli.ws_settings(),
            ws::Settings { max_message: max_line, ping_after: Some(Duration::from_secs(30)) }
        );
        let cli = Cli::try_parse_from([
            "chatd",
            "--http-listen=none",
            "--max-line-bytes=100",
            "--ws-ping-interval=0",
            "--allowed-origin=https://chat.example.com",
            "--allowed-origin=http://localhost:3000/",
        ])
        .unwrap();
        assert_eq!(cli.http_listen, OptionalAddr(None));
        assert_eq!(cli.ws_settings(), ws::Settings { max_message: 100, ping_after: None });
        assert_eq!(cli.allowed_origins, ["https://chat.example.com", "http://localhost:3000/"]);
        for bad in ["chat.example.com", "https://", "https://x/page", "ftp://x", "*"] {
            assert!(Cli::try_parse_from(["chatd", "--allowed-origin", bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn seconds_show_as_they_are_written() {
        assert_eq!(Seconds(Duration::from_secs(60)).to_string(), "60");
        assert_eq!("1.5".parse::<Seconds>().unwrap(), Seconds(Duration::from_millis(1500)));
    }

    #[test]
    fn commands_take_their_own_flags_and_refuse_the_servers() {
        let cli = Cli::try_parse_from(["chatd", "backup", "--data-dir", "d", "--to", "b.db"]).unwrap();
        match cli.command {
            Some(Command::Backup(args)) => {
                assert_eq!((args.data_dir, args.to, args.force), ("d".into(), "b.db".into(), false));
            }
            other => panic!("expected backup, got {other:?}"),
        }
        let cli = Cli::try_parse_from(["chatd", "check"]).unwrap();
        assert!(
            matches!(cli.command, Some(Command::Check(CheckArgs { data_dir })) if data_dir == Path::new("chatd-data"))
        );
        assert!(Cli::try_parse_from(["chatd", "backup", "--data-dir", "d"]).is_err(), "--to is required");
        assert!(Cli::try_parse_from(["chatd", "--listen", "127.0.0.1:1", "check"]).is_err());
        // Serving, as before, needs no command.
        let cli = Cli::try_parse_from(["chatd", "--data-dir", "d", "--ephemeral"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.storage.data_dir, Path::new("d"));
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
