//! `chatd`: the reference chat server. It wires the [`chatcore`] engine to
//! TCP sockets on the smol runtime; everything a client can do is the
//! engine's, everything about sockets, time and signals is here.
//!
//! See `ARCHITECTURE.md` for the tasks and the data flow, and `chatd --help`
//! for every limit.

#![forbid(unsafe_code)]

mod cli;
mod connection;
mod engine_task;
mod held;
mod ip_limit;
mod outbound;
mod passwords;
mod runtime;
mod server;
mod shutdown;
mod store;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // Logs go to stderr so that stdout stays a clean channel for scripts
    // (its first line is the bound address).
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::stderr().is_terminal();
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(ansi).with_env_filter(filter).init();
    raise_open_file_limit();

    let threads = cli.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    match runtime::block_on(threads, server::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "chatd stopped");
            eprintln!("chatd: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Each client is one file descriptor, and the usual soft limit (1024) is
/// far below what the server is meant to hold; the hard limit is the real
/// ceiling the administrator chose.
fn raise_open_file_limit() {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let mut limit = getrlimit(Resource::Nofile);
        if let (Some(current), Some(maximum)) = (limit.current, limit.maximum) {
            if current >= maximum {
                return;
            }
            limit.current = Some(maximum);
            if let Err(error) = setrlimit(Resource::Nofile, limit) {
                tracing::warn!(%error, "could not raise the open-file limit");
            }
        }
    }
}
