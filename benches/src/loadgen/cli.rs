//! Command-line options.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// Open-loop load generator for chatd (loopback only).
///
/// Opens N TCP clients, spreads them over R rooms and sends messages from a
/// schedule: at a fixed total rate (steady), or in bursts where many
/// senders write many lines at the same instant (burst); each message
/// carries its sequence number and intended send time, so latency is
/// measured from when it was due and every lost, duplicated or
/// misdelivered delivery is counted.
/// Exits 1 on any lost, duplicated or misdelivered delivery or any client
/// cut by the server, 2 if the run could not be set up.
#[derive(Debug, Clone, Parser)]
#[command(name = "loadgen", version)]
pub struct Args {
    /// Server address; only loopback addresses are accepted. May be given
    /// several times (the nodes of a cluster): the members of each room
    /// take the N addresses in turn (client i, in room i % R, connects to
    /// the ((i / R) % N)-th), so every room is spread over the nodes.
    #[arg(long = "addr", value_name = "ADDR", default_value = "127.0.0.1:7000")]
    pub addrs: Vec<SocketAddr>,
    /// What to run.
    #[arg(long, value_enum, default_value_t = Mode::Chat)]
    pub mode: Mode,
    /// Clients to connect.
    #[arg(long, short = 'n', default_value_t = 1000)]
    pub clients: usize,
    /// Rooms to spread the clients over (client i joins room i % rooms).
    #[arg(long, short = 'r', default_value_t = 1)]
    pub rooms: usize,
    /// How messages are spaced in time.
    #[arg(long, value_enum, default_value_t = Pattern::Steady)]
    pub schedule: Pattern,
    /// Steady schedule: messages per second, all clients together
    /// (deliveries per second are this times the other members of each
    /// sender's room).
    #[arg(long, default_value_t = 1500.0)]
    pub rate: f64,
    /// Bytes of message text (a message is never shorter than its header).
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Steady schedule: seconds of measurement, after the warm-up.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Steady schedule: seconds of warm-up, sent and checked for loss but
    /// not timed.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Burst schedule: clients that send, clients 0 to S-1 (default: all).
    #[arg(long, value_name = "S")]
    pub burst_senders: Option<usize>,
    /// Burst schedule: lines each sender writes at once, in one write
    /// (chatd's default flood allowance is a burst of 10).
    #[arg(long, value_name = "B", default_value_t = 10)]
    pub burst_lines: u64,
    /// Burst schedule: bursts to send.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub bursts: u64,
    /// Burst schedule: seconds of quiet before each burst, the first
    /// included (chatd's default flood allowance refills at 4 lines/s,
    /// and each client spends 2 lines joining).
    #[arg(long, value_name = "SECS", default_value_t = 3.0)]
    pub burst_gap: f64,
    /// Seconds to wait after the last send for deliveries still in flight.
    #[arg(long, default_value_t = 5.0)]
    pub drain: f64,
    /// Seconds allowed for connecting and joining everyone.
    #[arg(long, default_value_t = 60.0)]
    pub setup_timeout: f64,
    /// Capacity and scale modes: seconds to hold the idle connections
    /// while sampling the server's memory (and, in scale mode, its CPU).
    #[arg(long, default_value_t = 3.0)]
    pub hold: f64,
    /// Chat and IRC modes: once every client is ready (in IRC, registered
    /// and joined), hold them idle this many seconds sampling the server's
    /// memory, as capacity mode does, before sending anything.
    #[arg(long, value_name = "SECS", default_value_t = 0.0)]
    pub idle_hold: f64,
    /// Source addresses to spread the connections over, 127.0.0.1,
    /// 127.0.0.2, ... (never a `.0` or `.255` host): client i connects
    /// from address i % N. One address reaches the server from about
    /// 28,000 ports at most. Default: one per 20,000 clients.
    #[arg(long, value_name = "N")]
    pub sources: Option<usize>,
    /// Scale mode: messages one member of room 0 sends while everyone is
    /// held, timed to every other member.
    #[arg(long, value_name = "M", default_value_t = 200)]
    pub probe_messages: u64,
    /// Scale mode: messages per second of the broadcast probe (chatd's
    /// default flood allowance is 4 lines/s after a burst of 10; run the
    /// server with `--flood-lines-per-sec 0` or keep this low).
    #[arg(long, value_name = "PER_SEC", default_value_t = 20.0)]
    pub probe_rate: f64,
    /// Threads driving the clients.
    #[arg(long, short = 't', default_value_t = 1)]
    pub threads: usize,
    /// Connections being opened at once, per thread.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
    /// Nickname prefix (chat and IRC modes); the client index is appended.
    #[arg(long)]
    pub nick_prefix: Option<String>,
    /// Room name prefix (chat and IRC modes); the room index is appended
    /// (IRC channels get a leading `#`). Default: `load` in chat mode; in
    /// IRC mode unique per run, since an IRC server may still be relaying
    /// an earlier run's flood-delayed messages to its channel.
    #[arg(long)]
    pub room_prefix: Option<String>,
    /// Server process id for memory figures (default: whoever listens on the port).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Print the summary as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// No progress line.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// How a run spaces its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Pattern {
    /// Open loop: `--rate` messages per second, evenly spaced, from every
    /// client in turn, for `--warmup` + `--duration` seconds.
    Steady,
    /// `--burst-senders` clients each write `--burst-lines` lines at the
    /// same instant, `--bursts` times, `--burst-gap` seconds apart.
    Burst,
}

/// What loadgen does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// chatd's text protocol: `/nick`, `/create` or `/join`, then chat.
    Chat,
    /// A server that broadcasts each line to every other client, with no
    /// commands; all clients form one room.
    Plain,
    /// Open idle connections (named, in chat protocol) and report the
    /// server's resident memory per connection.
    Capacity,
    /// IRC: `NICK`/`USER`, wait for `001`, `JOIN #ROOM` and wait for its
    /// `366`, then `PRIVMSG #ROOM :TEXT` (any RFC 1459/2812 server).
    Irc,
    /// chatd's WebSocket (`--addr` is its HTTP port): JSON `nick`,
    /// `create` or `join`, then `say`, one object per text frame.
    Ws,
    /// Hold many connections at once, each named and in room `i % R`:
    /// times the setup, reports the server's memory (user and kernel) and
    /// idle CPU per connection, then probes while everyone is held: a
    /// broadcast in room 0, `/who`, `/users` and `/list`, a new
    /// connection, and finally how closing them all goes.
    Scale,
}

impl Args {
    /// Checks what clap cannot: loopback only, sane numbers.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(addr) = self.addrs.iter().find(|a| !a.ip().is_loopback()) {
            return Err(format!("{addr} is not a loopback address; loadgen only targets this machine"));
        }
        if self.addrs.len() > 1 && self.mode == Mode::Scale {
            return Err("scale mode probes one server: give one --addr".into());
        }
        if self.clients == 0 || self.rooms == 0 || self.threads == 0 || self.connect_concurrency == 0 {
            return Err("--clients, --rooms, --threads and --connect-concurrency must be at least 1".into());
        }
        for (name, secs) in [
            ("--duration", self.duration),
            ("--warmup", self.warmup),
            ("--drain", self.drain),
            ("--hold", self.hold),
            ("--idle-hold", self.idle_hold),
            ("--burst-gap", self.burst_gap),
        ] {
            if !(0.0..=3600.0).contains(&secs) {
                return Err(format!("{name} must be between 0 and 3600 seconds"));
            }
        }
        if self.sources.is_some_and(|n| n == 0 || n > super::sources::MAX) {
            return Err(format!("--sources must be between 1 and {}", super::sources::MAX));
        }
        if self.sources() > 1 && !self.addrs.iter().all(SocketAddr::is_ipv4) {
            return Err("--sources above 1 binds IPv4 loopback addresses; --addr must be IPv4".into());
        }
        if self.mode == Mode::Scale && !(0.1..=10_000.0).contains(&self.probe_rate) {
            return Err("--probe-rate must be between 0.1 and 10000 messages per second".into());
        }
        if self.mode == Mode::Scale && !(1..=1_000_000).contains(&self.probe_messages) {
            return Err("--probe-messages must be between 1 and 1000000".into());
        }
        // A million connections joining rooms of a thousand takes a while.
        if !(0.0..=86_400.0).contains(&self.setup_timeout) {
            return Err("--setup-timeout must be between 0 and 86400 seconds".into());
        }
        if !(0.0..=1e8).contains(&self.rate) {
            return Err("--rate must be between 0 and 100000000".into());
        }
        if self.schedule == Pattern::Burst {
            if matches!(self.mode, Mode::Capacity | Mode::Scale) {
                return Err("--schedule burst sends messages; capacity and scale modes have their own".into());
            }
            if self.burst_senders.is_some_and(|s| s == 0 || s > self.clients) {
                return Err("--burst-senders must be between 1 and --clients".into());
            }
            if !(1..=100_000).contains(&self.burst_lines) || !(1..=10_000).contains(&self.bursts) {
                return Err("--burst-lines must be between 1 and 100000, --bursts between 1 and 10000".into());
            }
        }
        if self.mode == Mode::Irc && self.size > super::irc::MAX_SIZE {
            return Err(format!(
                "--size must be at most {} in IRC mode (an IRC line is at most {} bytes)",
                super::irc::MAX_SIZE,
                super::irc::MAX_LINE
            ));
        }
        if let Some(prefix) = &self.nick_prefix
            && (prefix.is_empty() || !prefix.starts_with(|c: char| c.is_ascii_alphabetic()))
        {
            return Err("--nick-prefix must start with a letter".into());
        }
        Ok(())
    }

    /// The server client `i` connects to (see `--addr`).
    pub fn addr_of(&self, client: usize) -> SocketAddr {
        self.addrs[client / self.effective_rooms().max(1) % self.addrs.len()]
    }

    /// The first server address, the one whose process is measured.
    pub fn first_addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Source addresses in use (see `--sources`).
    pub fn sources(&self) -> usize {
        self.sources.unwrap_or_else(|| super::sources::default_for(self.clients))
    }

    /// Rooms actually used: plain servers have one.
    pub fn effective_rooms(&self) -> usize {
        match self.mode {
            Mode::Plain => 1,
            _ => self.rooms.min(self.clients),
        }
    }

    /// The nickname prefix, unique per run by default so runs can follow
    /// one another against the same server. IRC servers often cap
    /// nicknames at 9 characters (ngIRCd's default), so IRC mode's default
    /// is shorter: `l123n` + up to 4 digits of index.
    pub fn nick_prefix(&self) -> String {
        self.nick_prefix.clone().unwrap_or_else(|| match self.mode {
            Mode::Irc => format!("l{}n", std::process::id() % 1000),
            _ => format!("lg{}n", std::process::id() % 100_000),
        })
    }

    /// The room name prefix (see `--room-prefix`).
    pub fn room_prefix(&self) -> String {
        self.room_prefix.clone().unwrap_or_else(|| match self.mode {
            Mode::Irc => format!("lg{}r", std::process::id() % 100_000),
            _ => "load".to_owned(),
        })
    }

    /// Seconds as a `Duration`.
    pub fn secs(secs: f64) -> Duration {
        Duration::from_secs_f64(secs)
    }

    /// The measurement window in nanoseconds.
    pub fn duration_ns(&self) -> u64 {
        Self::secs(self.duration).as_nanos() as u64
    }

    /// Seconds of sending the schedule asks for.
    pub fn sending_secs(&self) -> f64 {
        match (self.mode, self.schedule) {
            (Mode::Capacity, _) => 0.0,
            (Mode::Scale, _) => self.probe_messages as f64 / self.probe_rate,
            (_, Pattern::Steady) => self.warmup + self.duration,
            (_, Pattern::Burst) => self.bursts as f64 * self.burst_gap,
        }
    }

    /// The longest this run may take; past it loadgen exits by itself.
    pub fn hard_limit(&self) -> Duration {
        Self::secs(self.setup_timeout + self.sending_secs() + self.drain + self.hold + self.idle_hold + 15.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Args::command().debug_assert();
    }

    #[test]
    fn defaults_are_the_headline_workload() {
        let args = Args::parse_from(["loadgen"]);
        assert_eq!((args.clients, args.rooms, args.size, args.mode), (1000, 1, 64, Mode::Chat));
        assert_eq!(args.validate(), Ok(()));
        assert_eq!(args.addrs, ["127.0.0.1:7000".parse().expect("addr")]);
    }

    #[test]
    fn several_addresses_take_the_clients_in_turn() {
        let args = Args::parse_from(["loadgen", "--addr", "127.0.0.1:7001", "--addr", "127.0.0.1:7002"]);
        assert_eq!(args.validate(), Ok(()));
        let ports: Vec<u16> = (0..5).map(|i| args.addr_of(i).port()).collect();
        assert_eq!(ports, [7001, 7002, 7001, 7002, 7001]);
        assert_eq!(args.first_addr().port(), 7001);
        // Two rooms of three: members 0, 2, 4 and 1, 3, 5, each room on both.
        let args =
            Args::parse_from(["loadgen", "-n", "6", "-r", "2", "--addr", "127.0.0.1:1", "--addr", "127.0.0.1:2"]);
        let ports: Vec<u16> = (0..6).map(|i| args.addr_of(i).port()).collect();
        assert_eq!(ports, [1, 1, 2, 2, 1, 1]);
        let args = Args::parse_from(["loadgen", "--addr", "127.0.0.1:7001", "--addr", "10.0.0.1:7000"]);
        assert!(args.validate().is_err());
        let args = Args::parse_from(["loadgen", "--mode=scale", "--addr", "127.0.0.1:1", "--addr", "127.0.0.1:2"]);
        assert!(args.validate().is_err());
    }

    #[test]
    fn only_loopback_targets() {
        let args = Args::parse_from(["loadgen", "--addr", "10.0.0.1:7000"]);
        assert!(args.validate().is_err());
        let args = Args::parse_from(["loadgen", "--addr", "[::1]:7000"]);
        assert_eq!(args.validate(), Ok(()));
    }

    #[test]
    fn bad_numbers_are_refused() {
        assert!(Args::parse_from(["loadgen", "--clients", "0"]).validate().is_err());
        assert!(Args::parse_from(["loadgen", "--duration", "99999"]).validate().is_err());
        assert!(Args::parse_from(["loadgen", "--nick-prefix", "9x"]).validate().is_err());
        assert!(Args::parse_from(["loadgen", "--mode=irc", "--size=401"]).validate().is_err());
        assert!(Args::parse_from(["loadgen", "--idle-hold=-1"]).validate().is_err());
        assert_eq!(Args::parse_from(["loadgen", "--setup-timeout=7200"]).validate(), Ok(()));
        assert!(Args::parse_from(["loadgen", "--setup-timeout=90000"]).validate().is_err());
        assert_eq!(Args::parse_from(["loadgen", "--mode=irc", "--size=400"]).validate(), Ok(()));
        assert!(Args::parse_from(["loadgen", "--mode=irc"]).nick_prefix().len() <= 5);
        assert_eq!(Args::parse_from(["loadgen"]).room_prefix(), "load");
        assert!(Args::parse_from(["loadgen", "--mode=irc"]).room_prefix().starts_with("lg"));
    }

    #[test]
    fn sources_default_to_one_per_twenty_thousand_clients() {
        assert_eq!(Args::parse_from(["loadgen"]).sources(), 1);
        assert_eq!(Args::parse_from(["loadgen", "-n", "1000000"]).sources(), 50);
        assert_eq!(Args::parse_from(["loadgen", "-n", "10", "--sources", "3"]).sources(), 3);
        assert!(Args::parse_from(["loadgen", "--sources", "0"]).validate().is_err());
        assert!(Args::parse_from(["loadgen", "--sources", "2", "--addr", "[::1]:7000"]).validate().is_err());
        assert_eq!(Args::parse_from(["loadgen", "--sources", "2"]).validate(), Ok(()));
        let scale = Args::parse_from(["loadgen", "--mode=scale", "--probe-messages=100", "--probe-rate=20"]);
        assert_eq!((scale.validate(), scale.sending_secs()), (Ok(()), 5.0));
        assert!(Args::parse_from(["loadgen", "--mode=scale", "--probe-rate=0"]).validate().is_err());
        assert!(Args::parse_from(["loadgen", "--mode=scale", "--probe-messages=0"]).validate().is_err());
    }

    #[test]
    fn burst_options_are_checked_and_steady_stays_the_default() {
        assert_eq!(Args::parse_from(["loadgen"]).schedule, Pattern::Steady);
        let burst = |extra: &[&str]| {
            let args = ["loadgen", "--schedule", "burst", "--clients", "41"];
            Args::parse_from(args.iter().chain(extra)).validate()
        };
        assert_eq!(burst(&["--burst-senders", "40", "--burst-lines", "10", "--size", "1900"]), Ok(()));
        assert!(burst(&["--burst-senders", "42"]).is_err());
        assert!(burst(&["--burst-senders", "0"]).is_err());
        assert!(burst(&["--burst-lines", "0"]).is_err());
        assert!(burst(&["--bursts", "0"]).is_err());
        assert!(burst(&["--burst-gap=-1"]).is_err());
        assert!(burst(&["--mode", "capacity"]).is_err());
        assert!(burst(&["--mode", "scale"]).is_err());
        let args = Args::parse_from(["loadgen", "--schedule=burst", "--bursts=3", "--burst-gap=2", "--drain=1"]);
        assert_eq!(args.sending_secs(), 6.0);
        assert_eq!(args.hard_limit(), Duration::from_secs(60 + 6 + 1 + 3 + 15));
    }
}
