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
//! a room.
//!
//! Three wire formats are built in, each a [`Codec`]: human **text** for
//! `nc` and telnet; with the default `json` feature, **JSON Lines** for
//! programs (a text client picks JSON by sending a JSON object as its
//! first line, and a JSON-only transport such as a WebSocket connects its
//! clients as `Codec::Json`); and **IRC** for irssi, WeeChat and
//! HexChat, which no first line could tell, so the embedder connects such
//! a client as [`Codec::Irc`], say on a port of its own. The three share
//! the rooms, the history and the accounts.
//!
//! Users may also register accounts (`/register`, `/login`; failed logins
//! lock a source out of that account for a while), receive whispers sent
//! while they were away, ask who was here (`/seen`, `/since`), block others
//! (`/block`), page back through history (`/history`) and through their
//! whispers with another account (`/history @nick`); silent clients are
//! warned, then disconnected. An account is the person, not one
//! connection: it may be logged in from several at once (a terminal, a
//! program, an IRC client and a web page), which share its rooms and
//! whispers and are shown once; with always-on it stays in its rooms
//! while none is connected. Each account keeps read markers (`/read`),
//! told to all its connections, with unread counts at login; a session
//! token (`/token`, `/resume`) logs it in again without the password.
//! Server operators may broadcast to everyone and kill a connection, and
//! a message may be deleted by its author or an operator, leaving a
//! numbered tombstone. The full protocol is in [`protocol`].
//!
//! # The run loop
//!
//! 1. Feed each event to the matching `handle_*` method with the current
//!    [`Now`]: [`Engine::handle_connect`] (with a [`ConnectInfo`]: the
//!    codec, the source address, the rules of the port),
//!    [`Engine::handle_input`] (raw bytes; the engine frames lines),
//!    [`Engine::handle_disconnect`],
//!    [`Engine::handle_timeout`], [`Engine::handle_shutdown`].
//! 2. After each call, drain [`Engine::poll_output`] until it returns `None`,
//!    carrying out each [`Output`] in order: write [`Output::Send`] bytes to
//!    that client, and [`Output::Broadcast`] bytes to each client it lists;
//!    on [`Output::Close`], flush what was queued for the client, then close
//!    it. `Output` is exhaustive, so a `match` over it lists everything an
//!    embedder must do. Slow work is asked for, never done inline:
//!    hash or check a password ([`Output::HashPassword`],
//!    [`Output::VerifyPassword`]) off your event loop and answer with
//!    [`Engine::handle_password_hashed`] or
//!    [`Engine::handle_password_verified`]; draw 32 random bytes from the
//!    operating system for a session token ([`Output::NewToken`]) and answer
//!    with [`Engine::handle_token_secret`] (the engine has no randomness).
//! 3. Then re-arm your single timer from [`Engine::poll_timeout`] and call
//!    [`Engine::handle_timeout`] when it fires.
//!
//! # Durability
//!
//! With [`Config::emit_records`], every durable change (a room, a message,
//! an account, a whisper between accounts, a kept whisper, a block, a
//! last-seen time) also comes out as
//! [`Output::Persist`] with a [`Record`], in order. Store the records of a
//! batch of inputs before carrying out that batch's sends, and whatever a
//! client has seen survives a crash. On start, feed the stored records to
//! [`Engine::restore`], which builds the engine. History beyond memory, of
//! a room or of the whispers between two accounts ([`HistoryTarget`]), is
//! fetched from your store on request ([`Output::FetchHistory`], answered
//! with [`Engine::handle_history_page`]): a page back, or a page forward
//! from a message number for a client that reconnects and resumes after
//! the last message it saw ([`HistoryRange`]; since 0.4 `FetchHistory`
//! carries a `range` where it had `before: u64`). While your store cannot write, say so
//! with [`Engine::handle_storage_status`]: the engine then refuses what
//! would need a new record instead of accepting it and losing it.
//!
//! # Clustering
//!
//! Several engines, each serving its own connections, can serve one chat
//! through a store they all write to and a notifier that tells them of
//! it: with [`Config::cluster`] on, a room message is published
//! ([`Output::Cluster`] with a [`ClusterRequest`]) for the store to
//! number, and every node delivers it in the store's order when it is fed
//! back ([`Engine::handle_room_message`]); nicknames are unique across the
//! nodes, claimed from them before a local client takes one
//! ([`Engine::handle_name_claim`]); and each node shows its clients who is
//! in each room on the others ([`Engine::handle_remote_presence`]), and
//! delivers whispers from them ([`Engine::handle_remote_whisper`]). The
//! [`cluster`] module is the contract: which requests come when, what the
//! embedder does with each, which input answers it, and what clients are
//! promised (no gap, no duplicate, in order). Off (the default), no
//! [`Output::Cluster`] ever comes.
//!
//! # Errors and panics
//!
//! Bad input from a peer is never an `Err`: it becomes an error line to that
//! peer (with a stable code for JSON clients, described in [`protocol`] and
//! listed, for programs, in [`ERROR_CODES`]; the codes of a JSON `bye` are
//! in [`BYE_CODES`]) and the state does not change. `Err` ([`Error`]) means the embedder misused
//! the engine, such as passing a client id it never issued or answering a
//! password request twice. Input or a disconnect for a client the engine
//! has just closed is not misuse (the peer's bytes and the engine's close
//! race) and is quietly ignored. A [`Config`] that makes no sense is
//! refused by [`Engine::new`] with a [`ConfigError`] naming the field. The
//! engine should never panic on any input; a panic is a bug.
//!
//! # Example
//!
//! Two clients, a room and a message, with no I/O at all:
//!
//! ```
//! use chatcore::{ClientId, Config, ConnectInfo, Engine, Now, Output};
//! use std::collections::HashMap;
//! use std::time::{Duration, Instant};
//!
//! /// What an embedder does with outputs: here, collect each client's bytes.
//! fn carry_out(engine: &mut Engine, inboxes: &mut HashMap<ClientId, Vec<u8>>) {
//!     while let Some(output) = engine.poll_output() {
//!         match output {
//!             Output::Send { to, data } => inboxes.entry(to).or_default().extend_from_slice(&data),
//!             Output::Broadcast { to, data } => {
//!                 for id in to {
//!                     inboxes.entry(id).or_default().extend_from_slice(&data);
//!                 }
//!             }
//!             Output::Close { .. } => {} // flush, then close the connection
//!             // Without `emit_records` and accounts, these never come; a real
//!             // embedder hashes, verifies, stores and fetches here.
//!             Output::HashPassword { .. }
//!             | Output::VerifyPassword { .. }
//!             | Output::NewToken { .. }
//!             | Output::Persist(_)
//!             | Output::FetchHistory { .. }
//!             // Only with `Config::cluster`: see the `cluster` module.
//!             | Output::Cluster(_) => {}
//!             // Only with `Config::operators`: log who did what.
//!             Output::OperatorAction(action) => eprintln!("{action:?}"),
//!         }
//!     }
//! }
//!
//! let mut engine = Engine::new(Config::default())?;
//! let mut now = Now::new(Instant::now(), 1_700_000_000_000);
//! let mut inboxes = HashMap::new();
//!
//! let alice = engine.handle_connect(now, ConnectInfo::default());
//! let bob = engine.handle_connect(now, ConnectInfo::default());
//! let carol = engine.handle_connect(now, ConnectInfo::default());
//! engine.handle_input(now, alice, b"/nick alice\n/create rust\n")?;
//! engine.handle_input(now, bob, b"/nick bob\n/join rust\n")?;
//! engine.handle_input(now, carol, b"/nick carol\n/join rust\n")?;
//! carry_out(&mut engine, &mut inboxes); // welcomes, confirmations, join notices
//! inboxes.clear();
//!
//! now = now.advance(Duration::from_secs(1));
//! engine.handle_input(now, alice, b"hello, both\n")?;
//! carry_out(&mut engine, &mut inboxes); // one Broadcast: one buffer, two recipients
//! assert_eq!(inboxes[&bob], b"[rust] alice: hello, both\n");
//! assert_eq!(inboxes[&carol], b"[rust] alice: hello, both\n");
//! assert!(!inboxes.contains_key(&alice)); // the sender does not get its own line back
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # A server with std::net and threads
//!
//! [`examples/std_server.rs`](https://docs.rs/crate/chatcore/latest/source/examples/std_server.rs)
//! embeds the engine over plain `std::net` sockets with threads and no
//! async runtime, in under 150 lines: an accept thread, a reader thread per
//! client and one engine thread that runs the loop above and writes the
//! outputs to the sockets (`cargo run -p chatcore --example std_server`,
//! then `nc 127.0.0.1 7878`). chatd, in the same repository, is the full
//! server.
//!
//! # Limits
//!
//! Everything is bounded: see [`Config`] for each limit, its default and
//! what it bounds. A `Config` is built with [`Config::default`] and its
//! `with_*` setters.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

// The engine and its interface.
mod config; // every limit, with its default; validation
mod connect_info; // what the embedder knows about a new connection
mod engine; // the whole public API: constructors, getters, handle_*, poll_*
mod error; // Rejection (to peers) and Error (to the embedder)
mod outbox; // the output queue: sends, broadcasts, records
mod output; // what the embedder is asked to do
mod stats; // counters and gauges for monitoring
mod time; // Now: time is always handed in
mod turn; // one client's command being carried out: the handlers' context
mod world; // clients, nicks, rooms, accounts; connect, input, timeouts

// From bytes to commands and back.
mod codec; // text, JSON Lines and IRC
mod command; // the command table: spellings, usage, rules
mod credentials; // a password as sent, and why a SASL PLAIN response could not be read
mod event; // what a client is told
mod framer; // bytes to lines, with a cap

// What the commands do.
mod always_on; // accounts that stay in their rooms with no connection
mod client; // one connection's state, and the table of every client
mod commands; // nick, rooms, messages, whispers
mod conversation; // whispers between accounts, kept and paged back
mod deletion; // a room message taken back by its author or an operator
mod delivery; // a numbered room message to its members: the one fan-out path
mod devices; // one account on several connections: shared rooms, one presence
mod history; // the ring of a room's last messages
mod irc; // IRC's own commands and each IRC client's session: registration, CAP, SASL, WHOIS, NAMES, ...
mod lifecycle; // room owners, creation limits, expiry of empty rooms
mod listing; // /users, /who, /list, /since and NAMES, a page at a time
mod markers; // read markers: how far each account has read, unread counts, catching up
mod moderation; // room operators: modes, kicks, invitations; join and speak checks
mod modes; // room modes in IRC's letters: parsing, matching bans
mod names; // nickname and room-name rules
mod operators; // server operators: /broadcast, /kill, IRC's OPER
mod read_marker; // what a read marker is, which rooms and accounts hold
mod replay; // history on join and /history pages
mod room; // members and history of one room
mod tagmsg; // IRCv3 TAGMSG: client-only tags relayed to a channel or a user
mod timers; // registration and idle deadlines

// Accounts and the life between visits.
mod account; // password hashes and the requests that ask for them
mod auth; // register and log in
mod cloak; // the host users are shown with: a keyed hash of the source
mod lockout; // failed-login and registration counters
mod password_check; // a hash or verify request under way
mod session_tokens; // issuing, resuming with and revoking session tokens; changing a password
mod social; // /seen, /since, blocking
mod source; // where a connection comes from, as limits count it
mod token; // a session token's text, id and hash

// Durability.
mod record; // durable facts
mod restore; // rebuilding from records; a failing store

// Several engines serving one chat through the embedder's store and notifier.
pub mod cluster; // the contract, and what the embedder and the engine say to each other
mod cluster_node; // publications under way, delivery in the store's order, following rooms
mod name_claims; // names claimed from other nodes before they are taken, and released
mod remote_presence; // presence told to and taken from other nodes
mod remote_records; // rooms, accounts and mailboxes as other nodes change them
mod remote_whisper; // whispers to and from other nodes' users

// The wire protocols, as documentation only.
pub mod protocol;

// Testing aids.
#[cfg(any(test, feature = "testing"))]
mod cluster_check;
#[cfg(any(test, feature = "testing"))]
mod invariant_violation;
#[cfg(any(test, feature = "testing"))]
mod invariants;
#[cfg(any(test, feature = "testing"))]
pub mod sim;
#[cfg(test)]
mod tests;

pub use account::{AuthRequestId, PasswordHash};
pub use cloak::{CloakKey, Hosts};
pub use cluster::{
    ClaimAnswer, ClaimId, ClusterRequest, PresenceChange, Publication, PublishTicket, RemoteBroadcast, RemoteWhisper,
    RoomMessage,
};
pub use codec::Codec;
pub use config::{AlwaysOn, Config, ConfigError, ParseAlwaysOnError, ranges};
pub use connect_info::ConnectInfo;
pub use credentials::Password;
pub use engine::Engine;
pub use error::{ERROR_CODES, Error, ErrorCode};
#[cfg(any(test, feature = "testing"))]
pub use invariant_violation::InvariantViolation;
pub use names::{NameError, NameKey, validate_nick, validate_room};
pub use output::{
    BYE_CODES, ByeCode, ClientId, DisconnectReason, HistoryRange, HistoryTarget, OperatorAction, OperatorActionKind,
    Output,
};
pub use record::{MessageKind, ReadTarget, Record, RestoreError, StoredMessage, StoredModes};
pub use restore::StorageStatus;
pub use source::{ParseSourceError, SourceKey};
pub use stats::Stats;
pub use time::Now;
pub use token::{TokenHash, TokenId, TokenSecret};
