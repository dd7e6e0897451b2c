//! The command line. Engine limits take their defaults from
//! [`chatcore::Config::default`], so `--help` always shows what the engine really
//! uses; chatd's own limits are documented here.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::conn::{SendLimit, ws};
use crate::passwords::Limits;
use crate::proxy::Cidr;
use crate::store::{DatabaseUrl, Retention, SyncMode};

mod engine_args;
pub(crate) mod ranges;
mod tls_args;
mod values;

pub(crate) use engine_args::EngineArgs;
pub(crate) use tls_args::TlsArgs;
pub(crate) use values::{DatabaseUrlParser, OptionalAddr, Seconds, count, optional_addr, seconds};
use values::{host_name, origin};

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
/// check-config FILE` checks a --config file; `chatd op` grants server
/// operators while it is stopped.
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
    /// WebSocket clients (`/ws`) and a health check (`/healthz`); metrics
    /// have a port of their own (--metrics-listen).
    ///
    /// A WebSocket speaks JSON Lines, one object per text frame, in the
    /// same rooms as everyone else. The bound address is printed on stdout
    /// as `http listening on ADDR`, after the IRC line.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080", value_parser = optional_addr)]
    pub(crate) http_listen: OptionalAddr,

    /// Address to serve Prometheus metrics (`/metrics`) on, IP:PORT, or
    /// `none`.
    ///
    /// A port of its own, on loopback by default, so that what the metrics
    /// tell (clients, rooms, refusals) is not served to anyone who can
    /// reach the chat page. `/healthz` is served here too. The bound address
    /// is printed on stdout as `metrics listening on ADDR`, after the HTTP
    /// line.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9464", value_parser = optional_addr)]
    pub(crate) metrics_listen: OptionalAddr,

    /// Share the chat ports (text, IRC, HTTP and their TLS ports) with
    /// other chatd processes started with this flag (Linux only).
    ///
    /// Each process binds the same addresses and the kernel spreads new
    /// connections among them, so several chatds, each with its own
    /// --data-dir, can serve one address. Off by default, so that a second
    /// chatd started by mistake fails with "address in use" instead of
    /// quietly taking part of the clients. The metrics port is never
    /// shared: give each process its own.
    #[arg(long)]
    pub(crate) reuse_port: bool,

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

    /// A name the HTTP port answers to, besides the address it is reached
    /// on and `localhost`; may be given several times.
    ///
    /// A request whose `Host` is any other name is refused (421), page,
    /// `/ws` and `/metrics` alike: a web page can point its own name at
    /// chatd's address (DNS rebinding), and only `Host` tells it apart.
    /// Give the name people type, or that a reverse proxy passes on:
    /// `chat.example.com`.
    #[arg(long = "server-host", value_name = "NAME", value_parser = host_name)]
    pub(crate) server_hosts: Vec<String>,

    /// A reverse proxy or load balancer whose word on the client's address
    /// is taken: an address or a block, `127.0.0.1` or `10.0.0.0/8`; may be
    /// given several times. None by default.
    ///
    /// From these peers only, a text or IRC connection must begin with a
    /// PROXY protocol header (v1 or v2), and an HTTP request's client is
    /// read from `X-Forwarded-For` (or `Forwarded`), and whether it used TLS
    /// from `X-Forwarded-Proto`. Every per-address rule (--max-per-ip,
    /// failed logins, registrations, rooms, plain passwords) then applies
    /// to the client's address instead of the proxy's.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    pub(crate) trusted_proxies: Vec<Cidr>,

    /// Seconds a WebSocket may stay silent before the server pings it; 0
    /// never pings.
    ///
    /// A peer still silent that long after the ping is disconnected, which
    /// finds vanished browsers sooner than TCP does. Pongs are not chat
    /// activity: --idle-timeout still applies.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Duration::from_secs(30)),
          value_parser = seconds(ranges::WS_PING_INTERVAL))]
    pub(crate) ws_ping_interval: Seconds,

    /// Bytes a client may leave unread once --send-queue-grace has passed.
    ///
    /// A client that still has more than this unread, of what was queued
    /// for it longer than the grace period ago, is disconnected ("send queue
    /// exceeded") and nobody else waits for it. A burst that a reader takes
    /// within the grace period never counts, however large.
    #[arg(long, value_name = "BYTES", default_value_t = 256 * 1024, value_parser = count::<usize>(ranges::SEND_QUEUE_BYTES))]
    pub(crate) send_queue_bytes: usize,

    /// Seconds queued bytes are given to reach a client before they count
    /// as left unread.
    ///
    /// Longer forgives a reader that pauses longer, and lets a client that
    /// stopped hold what arrives meanwhile (at most --send-queue-max-bytes).
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Duration::from_secs(2)),
          value_parser = seconds(ranges::SEND_QUEUE_GRACE))]
    pub(crate) send_queue_grace: Seconds,

    /// Bytes one client's send queue may hold at most, however recent.
    ///
    /// Bounds the memory one client can pin during its grace period. The
    /// default holds the largest burst flood control allows in a full
    /// server's room (1,024 members × 10 lines × 2 KiB). A single message
    /// larger than this (say, a long history replay) still goes to an empty
    /// queue.
    #[arg(long, value_name = "BYTES", default_value_t = 32 * 1024 * 1024,
          value_parser = count::<usize>(ranges::SEND_QUEUE_MAX_BYTES))]
    pub(crate) send_queue_max_bytes: usize,

    /// Connections one IP address may hold at once; 0 means no cap.
    ///
    /// One more gets a one-line refusal and is closed. IPv6 addresses count
    /// by their /64 prefix. Set it to 0 to let a load generator on one
    /// machine open thousands of connections.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = count::<usize>(ranges::MAX_PER_IP))]
    pub(crate) max_per_ip: usize,

    /// Connections that are not clients yet, on every port together:
    /// request heads being read, WebSocket and TLS handshakes, IRC
    /// clients that have not registered.
    ///
    /// Neither --max-clients nor (from many addresses) --max-per-ip bounds
    /// these, and each holds a file descriptor and up to 8 KiB. When one
    /// more arrives, the oldest is closed. Lowered to half of what the
    /// open-file limit leaves for connections, if that is less.
    #[arg(long, value_name = "N", default_value_t = crate::newcomers::DEFAULT_MAX,
          value_parser = count::<usize>(ranges::MAX_PENDING_CONNECTIONS))]
    pub(crate) max_pending_connections: usize,

    /// Socket events (reads, connects, disconnects) that may wait for the engine.
    ///
    /// Readers wait when it is full, so a fast sender is slowed rather than
    /// buffered. Bounds inbound memory to about this many times 4 KiB.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = count::<usize>(ranges::INBOUND_CAPACITY))]
    pub(crate) inbound_capacity: usize,

    /// Worker threads [default: the number of CPUs].
    #[arg(long, value_name = "N", value_parser = count::<usize>(ranges::THREADS))]
    pub(crate) threads: Option<usize>,

    /// Password hashes and checks (argon2id, 19 MiB each) that run at once
    /// [default: the number of CPUs].
    ///
    /// Each runs on a thread of its own that keeps its 19 MiB for the next,
    /// so password work never holds more than this many × 19 MiB, however
    /// many logins arrive at once. At most 64, and so is the default on a
    /// machine with more CPUs.
    #[arg(long, value_name = "N", value_parser = count::<usize>(ranges::HASH_THREADS))]
    pub(crate) hash_threads: Option<usize>,

    /// Password hashes and checks that may wait for a --hash-threads thread.
    ///
    /// One more is refused at once: that client is told the server is busy
    /// and may try again, and it counts as no failed login. 0 refuses
    /// whenever every thread is busy.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = count::<usize>(ranges::HASH_QUEUE))]
    pub(crate) hash_queue: usize,

    #[command(flatten)]
    pub(crate) tls: TlsArgs,

    #[command(flatten)]
    pub(crate) storage: StorageArgs,

    #[command(flatten)]
    pub(crate) cluster: ClusterArgs,

    #[command(flatten)]
    pub(crate) engine: EngineArgs,
}

/// Several chatds serving as one (docs/CLUSTER.md).
#[derive(Debug, Args)]
#[command(next_help_heading = "Cluster")]
pub(crate) struct ClusterArgs {
    /// Make this chatd one node of a cluster, with the others on this Redis.
    ///
    /// redis://HOST:PORT[/DB]. Needs --database-url: every node shares the
    /// one PostgreSQL database, which holds everything; Redis only tells
    /// the nodes quickly of what was stored, and holds the nicknames'
    /// leases and who is in which room. A client may connect to any node.
    #[arg(long, value_name = "URL", env = "CHATD_REDIS_URL", hide_env_values = true, requires = "database_url")]
    pub(crate) redis_url: Option<String>,

    /// Put this before every Redis key, so that chatd shares a Redis with other data.
    #[arg(long, value_name = "PREFIX", default_value = crate::cluster::DEFAULT_PREFIX)]
    pub(crate) redis_prefix: String,

    /// This node's name, unique among the cluster's live nodes [default: HOST-PID].
    #[arg(long, value_name = "NAME", requires = "redis_url")]
    pub(crate) node_name: Option<String>,

    /// Seconds a dead node's nicknames stay taken, and its users shown in rooms.
    ///
    /// A live node renews its leases every third of this. Fractions are
    /// allowed (0.5).
    #[arg(long, value_name = "SECS", default_value_t = Seconds(crate::cluster::DEFAULT_LEASE),
          value_parser = seconds(ranges::NODE_LEASE))]
    pub(crate) node_lease: Seconds,
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
    /// A PostgreSQL database (--database-url) is backed up with pg_dump:
    /// given one, this prints the command and exits 2.
    Backup(BackupArgs),
    /// Check the database: SQLite's integrity check, and whether it is a
    /// chatd database this chatd can use.
    ///
    /// With --database-url: that PostgreSQL answers, its schema version,
    /// and that every table chatd needs is there and readable.
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
    /// Grant, revoke or list server operators kept in the database.
    ///
    /// Run it while chatd is stopped: chatd reads the grants when it
    /// starts (an SQLite data directory in use is refused). Accounts
    /// named with --operator are operators too, and are not listed here.
    #[command(subcommand)]
    Op(OpCommand),
}

/// `chatd op`'s commands.
#[derive(Debug, Subcommand)]
pub(crate) enum OpCommand {
    /// Make the account NAME a server operator (it need not exist yet).
    Grant {
        /// The account's name.
        #[arg(value_name = "NAME")]
        name: String,
        #[command(flatten)]
        store: OpStoreArgs,
    },
    /// Take back the grant of NAME.
    Revoke {
        /// The account's name.
        #[arg(value_name = "NAME")]
        name: String,
        #[command(flatten)]
        store: OpStoreArgs,
    },
    /// Print the accounts granted, one a line.
    List {
        #[command(flatten)]
        store: OpStoreArgs,
    },
}

/// Which database `chatd op` works on.
#[derive(Debug, Args)]
pub(crate) struct OpStoreArgs {
    /// The data directory of the (stopped) chatd.
    #[arg(long, value_name = "DIR", default_value = "chatd-data")]
    pub(crate) data_dir: PathBuf,

    /// Work on this PostgreSQL database instead of a data directory.
    #[arg(long, value_name = "URL", env = "CHATD_DATABASE_URL", hide_env_values = true,
          value_parser = DatabaseUrlParser, conflicts_with = "data_dir")]
    pub(crate) database_url: Option<DatabaseUrl>,
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

    /// A PostgreSQL database: not copied by chatd; prints the pg_dump command that does.
    #[arg(long, value_name = "URL", env = "CHATD_DATABASE_URL", hide_env_values = true,
          value_parser = DatabaseUrlParser, conflicts_with = "data_dir")]
    pub(crate) database_url: Option<DatabaseUrl>,
}

/// `chatd check`'s flags.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The data directory to check.
    #[arg(long, value_name = "DIR", default_value = "chatd-data")]
    pub(crate) data_dir: PathBuf,

    /// Check this PostgreSQL database instead of a data directory.
    #[arg(long, value_name = "URL", env = "CHATD_DATABASE_URL", hide_env_values = true,
          value_parser = DatabaseUrlParser, conflicts_with = "data_dir")]
    pub(crate) database_url: Option<DatabaseUrl>,
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

    /// Keep everything in PostgreSQL instead of a data directory.
    ///
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE; a password is
    /// better given in CHATD_DATABASE_URL or the configuration file than
    /// on the command line, which other users can see. Without TLS: reach
    /// the server over loopback, a Unix socket or a private network. The
    /// same state SQLite keeps, the cloak key among it; the tables are
    /// made, or migrated, at start. Cannot be given with --data-dir, --sync
    /// or --ephemeral: chatd refuses to start rather than pick one store.
    /// SQLite stays the default and the store for a single chatd.
    #[arg(long, value_name = "URL", env = "CHATD_DATABASE_URL", hide_env_values = true,
          value_parser = DatabaseUrlParser, conflicts_with_all = ["data_dir", "sync", "ephemeral"])]
    pub(crate) database_url: Option<DatabaseUrl>,

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
    #[arg(long, value_name = "DAYS", value_parser = count::<u64>(ranges::RETAIN_DAYS))]
    pub(crate) retain_days: Option<u64>,

    /// Keep at most this many messages per room on disk [default: keep all].
    #[arg(long, value_name = "N", value_parser = count::<u64>(ranges::RETAIN_MESSAGES))]
    pub(crate) retain_messages: Option<u64>,

    /// Seconds a commit may take before storage counts as failing; 0 never.
    ///
    /// A disk that hangs (a frozen or stalled file system) holds a commit
    /// without failing it. Past this bound chatd treats it as a failing
    /// disk: new messages, rooms, registrations and blocks are refused,
    /// and everything that needs no storage is answered at once, until the
    /// commit finishes. Fractions are allowed (0.5).
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Duration::from_secs(3)),
          value_parser = seconds(ranges::COMMIT_TIMEOUT))]
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

impl Cli {
    /// How much password work may be under way, from --hash-threads and --hash-queue.
    pub(crate) fn password_limits(&self) -> Limits {
        let cpus = || std::thread::available_parallelism().map_or(1, |n| n.get());
        // A machine with more CPUs than the range allows gets the range's top.
        let most = usize::try_from(ranges::HASH_THREADS.max).unwrap_or(usize::MAX);
        Limits { threads: self.hash_threads.unwrap_or_else(|| cpus().min(most)), queue: self.hash_queue }
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

#[cfg(test)]
mod tests;
