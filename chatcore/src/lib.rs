//! An embeddable chat-room engine: a Lobby, Rooms and Users as a pure state
//! machine. Events go in, outbound messages come out. There is no I/O, no
//! clock, no thread and no runtime inside, so a game server, a support desk
//! or a MUD can embed it over whatever transport it has, and tests can drive
//! it with simulated clients and simulated time.
//!
//! # What it does
//!
//! Clients connect into the Lobby as `Guest<N>`, choose a nickname
//! (`/nick`, unique without regard to case), create, list, join and leave
//! rooms, talk to a room, whisper to one user (`/msg` or `@nick`), and ask
//! who is around (`/who`, `/users`). Each room keeps its last
//! [`Config::history_len`] messages and replays them to whoever joins. Joins,
//! leaves, nickname changes and disconnects are told to everyone who shares
//! a room. Two wire formats are built in: human text for `nc`/telnet and,
//! with the default `json` feature, JSON Lines for programs; a client picks
//! JSON by sending a JSON object as its first line.
//!
//! # The run loop
//!
//! 1. Feed each event to the matching `handle_*` method with the current
//!    [`Now`]: [`Engine::handle_connect`], [`Engine::handle_input`] (raw bytes;
//!    the engine frames lines), [`Engine::handle_disconnect`],
//!    [`Engine::handle_timeout`], [`Engine::handle_shutdown`].
//! 2. After each call, drain [`Engine::poll_output`] until it returns `None`,
//!    carrying out each [`Output`] in order: write [`Output::Send`] bytes to
//!    that client; on [`Output::Close`], flush what was queued for the
//!    client, then close it.
//! 3. Then re-arm your single timer from [`Engine::poll_timeout`] and call
//!    [`Engine::handle_timeout`] when it fires.
//!
//! # Errors and panics
//!
//! Bad input from a peer is never an `Err`: it becomes an error line to that
//! peer (a [`Rejection`], with a stable [`Rejection::code`] for JSON
//! clients) and the state does not change. `Err` ([`Error`]) means the
//! embedder misused the engine, such as passing a client id that was never
//! issued or has been closed. The engine should never panic on any input; a
//! panic is a bug.
//!
//! # Example
//!
//! Two clients, a room and a message, with no I/O at all:
//!
//! ```
//! use chatcore::{Config, Engine, Now, Output};
//! use std::time::{Duration, Instant};
//!
//! let mut engine = Engine::new(Config::default());
//! let mut now = Now::new(Instant::now(), 1_700_000_000_000);
//!
//! let alice = engine.handle_connect(now);
//! let bob = engine.handle_connect(now);
//! engine.handle_input(now, alice, b"/nick alice\n/create rust\n")?;
//! engine.handle_input(now, bob, b"/nick bob\n/join rust\n")?;
//! while engine.poll_output().is_some() {} // welcomes, confirmations, the join notice
//!
//! now = now.advance(Duration::from_secs(1));
//! engine.handle_input(now, alice, b"hello, bob\n")?;
//! let mut to_bob = Vec::new();
//! while let Some(output) = engine.poll_output() {
//!     if let Output::Send { to, data } = output {
//!         assert_eq!(to, bob); // the sender does not get its own line back
//!         to_bob.extend_from_slice(&data);
//!     }
//! }
//! assert_eq!(to_bob, b"[rust] alice: hello, bob\n");
//! # Ok::<(), chatcore::Error>(())
//! ```
//!
//! # Limits
//!
//! Everything is bounded: see [`Config`] for each limit, its default and
//! what it bounds.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod account;
mod auth;
mod client;
mod codec;
mod command;
mod commands;
mod config;
mod engine;
mod error;
mod event;
mod framer;
mod history;
#[cfg(any(test, feature = "testing"))]
mod invariants;
mod lockout;
mod names;
mod output;
mod record;
mod replay;
mod restore;
mod room;
#[cfg(any(test, feature = "testing"))]
pub mod sim;
mod social;
#[cfg(test)]
mod tests;
mod time;
mod timers;

pub use account::{AuthRequestId, Password, PasswordHash};
pub use codec::Codec;
pub use command::{COMMANDS, Command, CommandHelp};
pub use config::Config;
pub use engine::Engine;
pub use error::{Error, Rejection};
#[cfg(any(test, feature = "testing"))]
pub use invariants::InvariantViolation;
pub use names::{NameError, NameKey, validate_nick, validate_room};
pub use output::{ClientId, DisconnectReason, Output};
pub use record::{Record, RestoreError, StoredMessage};
pub use restore::StorageStatus;
pub use time::Now;
