//! Command-line options.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// Open-loop load generator for chatd (loopback only).
///
/// Opens N TCP clients, spreads them over R rooms and sends messages at a
/// fixed total rate from a schedule; each message carries its sequence
/// number and intended send time, so latency is measured from when it was
/// due and every lost, duplicated or misdelivered delivery is counted.
/// Exits 1 on any lost, duplicated or misdelivered delivery or any client
/// cut by the server, 2 if the run could not be set up.
#[derive(Debug, Clone, Parser)]
#[command(name = "loadgen", version)]
pub struct Args {
    /// Server address; only loopback addresses are accepted.
    #[arg(long, default_value = "127.0.0.1:7000")]
    pub addr: SocketAddr,
    /// What to run.
    #[arg(long, value_enum, default_value_t = Mode::Chat)]
    pub mode: Mode,
    /// Clients to connect.
    #[arg(long, short = 'n', default_value_t = 1000)]
    pub clients: usize,
    /// Rooms to spread the clients over (client i joins room i % rooms).
    #[arg(long, short = 'r', default_value_t = 1)]
    pub rooms: usize,
    /// Messages per second, all clients together (deliveries per second are
    /// this times the other members of each sender's room).
    #[arg(long, default_value_t = 1500.0)]
    pub rate: f64,
    /// Bytes of message text (a message is never shorter than its header).
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Seconds of measurement, after the warm-up.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds of warm-up: sent and checked for loss but not timed.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Seconds to wait after the last send for deliveries still in flight.
    #[arg(long, default_value_t = 5.0)]
    pub drain: f64,
    /// Seconds allowed for connecting and joining everyone.
    #[arg(long, default_value_t = 60.0)]
    pub setup_timeout: f64,
    /// Capacity mode: seconds to hold the idle connections while sampling memory.
    #[arg(long, default_value_t = 3.0)]
    pub hold: f64,
    /// Threads driving the clients.
    #[arg(long, short = 't', default_value_t = 1)]
    pub threads: usize,
    /// Connections being opened at once, per thread.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
    /// Nickname prefix (chat mode); the client index is appended.
    #[arg(long)]
    pub nick_prefix: Option<String>,
    /// Room name prefix (chat mode); the room index is appended.
    #[arg(long, default_value = "load")]
    pub room_prefix: String,
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
}

impl Args {
    /// Checks what clap cannot: loopback only, sane numbers.
    pub fn validate(&self) -> Result<(), String> {
        if !self.addr.ip().is_loopback() {
            return Err(format!("{} is not a loopback address; loadgen only targets this machine", self.addr));
        }
        if self.clients == 0 || self.rooms == 0 || self.threads == 0 || self.connect_concurrency == 0 {
            return Err("--clients, --rooms, --threads and --connect-concurrency must be at least 1".into());
        }
        for (name, secs) in [
            ("--duration", self.duration),
            ("--warmup", self.warmup),
            ("--drain", self.drain),
            ("--setup-timeout", self.setup_timeout),
            ("--hold", self.hold),
        ] {
            if !(0.0..=3600.0).contains(&secs) {
                return Err(format!("{name} must be between 0 and 3600 seconds"));
            }
        }
        if !(0.0..=1e8).contains(&self.rate) {
            return Err("--rate must be between 0 and 100000000".into());
        }
        if let Some(prefix) = &self.nick_prefix
            && (prefix.is_empty() || !prefix.starts_with(|c: char| c.is_ascii_alphabetic()))
        {
            return Err("--nick-prefix must start with a letter".into());
        }
        Ok(())
    }

    /// Rooms actually used: plain servers have one.
    pub fn effective_rooms(&self) -> usize {
        match self.mode {
            Mode::Plain => 1,
            _ => self.rooms.min(self.clients),
        }
    }

    /// The nickname prefix, unique per run by default so runs can follow
    /// one another against the same server.
    pub fn nick_prefix(&self) -> String {
        self.nick_prefix.clone().unwrap_or_else(|| format!("lg{}n", std::process::id() % 100_000))
    }

    /// Seconds as a `Duration`.
    pub fn secs(secs: f64) -> Duration {
        Duration::from_secs_f64(secs)
    }

    /// The measurement window in nanoseconds.
    pub fn duration_ns(&self) -> u64 {
        Self::secs(self.duration).as_nanos() as u64
    }

    /// The longest this run may take; past it loadgen exits by itself.
    pub fn hard_limit(&self) -> Duration {
        Self::secs(self.setup_timeout + self.warmup + self.duration + self.drain + self.hold + 15.0)
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
    }
}
