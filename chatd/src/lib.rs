//! `chatd`: the reference chat server. It wires the [`chatcore`] engine to
//! TCP sockets and WebSockets on the smol runtime; everything a client can do is the
//! engine's, everything about sockets, time, signals and the disk is here.
//!
//! The `chatd` executable is one call to [`run_cli`]. The library exists so
//! that tests, benches and tools link the server's own code instead of
//! copying it or rebuilding the binary: the end-to-end tests build the same
//! program from [`run_cli`], and `storebench` drives the [`store`] directly.
//!
//! See `ARCHITECTURE.md` for the tasks and the data flow, and `chatd --help`
//! for every limit.

// No unsafe code, but for one audited call into glibc (`memory.rs`).
#![deny(unsafe_code)]
#![warn(missing_docs)]

// An accepted connection on its way to be served, and what is known of its client.
mod arrival;
// The command line: every flag, with the engine's defaults.
mod cli;
// The cluster's Redis side: name leases, nodes, room streams, presence and
// the epoch. Public for its tests and benches until chatd runs clustered.
pub mod cluster;
// `--config FILE`: the flags as TOML keys, and `chatd check-config`.
mod config_file;
// A client's connection: socket options, its byte-bounded send queue, and
// its one task, which reads and finishes the writes a full socket left.
mod conn;
// The task that owns the engine: batches, dispatch, timer, closing, shutdown.
mod engine_task;
// Client output held back until the records it depends on are durable.
mod held;
// The HTTP port: the chat page, a health check, WebSocket upgrades.
mod http;
// The per-IP connection count.
mod ip_limit;
// Freed memory given back to the system after a wave of connections.
mod memory;
// Prometheus metrics: what the engine task measures, and the /metrics text.
mod metrics;
// Connections that are not clients yet, capped across every port.
mod newcomers;
// The open-file limit: raised at start, reported, and a spare descriptor
// for refusing connections once it is reached.
mod open_files;
// `chatd backup`, `chatd check`, and what to do about a damaged database.
mod ops;
// argon2id hashing and verification on a bounded pool of its own threads.
mod passwords;
// Clients behind a trusted reverse proxy: the PROXY protocol, X-Forwarded-For.
mod proxy;
// The executor and its threads.
mod runtime;
// Bind, print the address, the accept loop, per-IP refusal.
mod server;
// SIGINT and SIGTERM.
mod shutdown;
// TLS listeners: certificates, handshakes, reloading on SIGHUP.
mod tls;
// SQLite: open, lock, check, migrate, write, load, prune, and the storage
// thread. Public for storebench.
pub mod store;

use std::io::IsTerminal;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Runs chatd as its executable does: parses the process's command line
/// (printing help or an error and exiting, as usual, on `--help` or a bad
/// flag), with the file `--config` names under it; runs a maintenance
/// command (`backup`, `check`, `check-config`) if one is given; otherwise
/// sends logs to stderr filtered by `RUST_LOG` (default `info`), as text or
/// JSON (`--log-format`), raises the open-file limit, and serves until a
/// shutdown signal has been handled.
///
/// Returns success after a graceful shutdown and failure when chatd could
/// not start or stopped on an error (which is logged and printed to
/// stderr). Call it once, from `main`: it installs the global logger.
pub fn run_cli() -> ExitCode {
    let mut cli = match config_file::parse_cli(std::env::args_os()) {
        Ok(cli) => cli,
        // Help, version and usage errors, printed and exited as clap does.
        Err(config_file::ArgsError::Clap(error)) => error.exit(),
        Err(config_file::ArgsError::File(error)) => {
            eprintln!("chatd: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(command) = cli.command.take() {
        return ops::run(command);
    }
    let log_format = cli.log_format;
    // Held to the end: dropping it writes out the lines still queued.
    let _log_writer = init_logging(log_format);
    open_files::raise();

    let threads = cli.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    match runtime::block_on(threads, server::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let steps = ops::next_steps(&error);
            match log_format {
                LogFormat::Text => {
                    tracing::error!(%error, "chatd stopped");
                    eprintln!("chatd: {error}");
                    if let Some(steps) = steps {
                        eprintln!("{steps}");
                    }
                }
                // Plain lines would break a shipper's one-object-per-line
                // stream: the steps travel in the log line instead.
                LogFormat::Json => tracing::error!(%error, next_steps = steps.as_deref(), "chatd stopped"),
            }
            ExitCode::FAILURE
        }
    }
}

/// Log lines queued for stderr, most: past this many, a line is dropped
/// rather than stall the task that logs it. About 200 bytes each.
const LOG_LINES_QUEUED: usize = 32_768;

/// Sends logs to stderr so that stdout stays a clean channel for scripts
/// (its first line is the bound address), filtered by `RUST_LOG` (default
/// `info`), as text or as one JSON object per line. The returned guard
/// writes out what is queued when dropped (waiting a second at most).
fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A reader that stops reading (a stopped pager, a stalled log shipper)
    // fills the pipe, and a write to a full pipe blocks: every task that
    // logged would stop with it, the signal task too, so chatd would not
    // stop on SIGTERM. A thread of its own writes the lines instead; while
    // it is stuck, lines past the queue are dropped.
    let (stderr, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(LOG_LINES_QUEUED)
        .thread_name("chatd-log")
        .finish(std::io::stderr());
    // A log line that cannot be written (stderr piped to a reader that has
    // gone, as `chatd | tee log` after tee exits) is dropped. Reporting it
    // would print to that same stderr, and printing to a broken pipe
    // panics: in the signal task, that left chatd deaf to Ctrl-C. The same
    // holds whatever the lines look like, so both formats keep it.
    let builder = tracing_subscriber::fmt().with_writer(stderr).with_env_filter(filter).log_internal_errors(false);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        // Colour codes would be noise inside JSON strings.
        LogFormat::Json => builder.json().with_ansi(false).init(),
    }
    guard
}
