//! Engine-level tests, driven through the [`Sim`](crate::sim::Sim) harness.
//! Tests of logic assert on the JSON objects clients receive (types,
//! fields, refusal codes), so a change of wording moves no logic test; the
//! exact text and IRC lines are asserted in each file's tests of those
//! forms, and in `lines.rs`, `irc.rs` and the codecs' own tests.

mod accounts;
mod always_on; // accounts that stay in their rooms with no connection
mod bad_input;
mod ban_evasion;
mod cluster; // names and presence across simulated nodes
mod cluster_deletion; // a deletion published, numbered by the store and made in order
mod cluster_messages; // one node publishing and delivering room messages
mod cluster_sim; // room messages across simulated nodes and a lossy notifier
mod connect;
mod conversations;
#[cfg(feature = "json")]
mod deletion; // a room message deleted: tombstones, who is told, catching up
mod devices; // one account on several connections at once
mod hardening;
mod history;
mod history_after; // paging forward: resuming after the last message seen
mod invariants;
mod irc;
#[cfg(feature = "json")]
mod json;
mod labeled;
mod lines;
mod lists;
mod markers; // read markers, unread counts, catching up since the marker
mod messages;
mod moderation;
mod modes;
mod nick;
mod operators;
mod paging;
mod presence;
mod private_rooms;
mod proptest;
#[cfg(feature = "json")]
mod replies;
mod reserved;
mod restore;
mod rooms;
mod server_time;
mod stats;
mod support;
mod targets;
mod timeouts;
mod tls_required;
mod tokens;
mod topics;

use std::fmt::Write;
use std::time::Duration;

use crate::sim::Sim;
use crate::{ClientId, Config, Engine, Output};

/// Default limits, but no flood control (so tests may send many lines at
/// one instant) and no idle timeout (so they may let hours pass).
pub(crate) fn relaxed() -> Config {
    Config::default().with_flood_lines_per_sec(0).with_idle_timeout(Duration::ZERO)
}

/// A sim with [`relaxed`] limits.
pub(crate) fn sim() -> Sim {
    Sim::new(relaxed())
}

/// The engine's state as text: clients, nicknames, rooms, members,
/// history, accounts, blocks and deadlines. Two equal digests mean the same
/// state, apart from flood allowances, half-received lines and the time of
/// last activity.
pub(crate) fn digest(engine: &Engine) -> String {
    let mut out = String::new();
    for (id, c) in &engine.world.clients {
        let rooms: Vec<&str> = c.rooms.iter().map(|k| k.as_str()).collect();
        let _ = writeln!(
            out,
            "client {id} {} {} {:?} chosen={} rooms={rooms:?} account={:?} blocks={:?} auth={:?} reg={:?}",
            c.nick,
            c.nick_key,
            c.codec(),
            c.codec_chosen(),
            c.account,
            c.blocks,
            c.auth_pending,
            c.registration_deadline
        );
    }
    let mut nicks: Vec<_> = engine.world.names.entries().collect();
    nicks.sort();
    let _ = writeln!(out, "nicks {nicks:?}");
    for (key, room) in &engine.world.rooms {
        let members: Vec<_> = room.members.iter().collect();
        let history: Vec<_> = room.history.iter().collect();
        let _ = writeln!(out, "room {key} {} {members:?} {history:?}", room.name);
    }
    for (key, a) in &engine.world.accounts {
        let _ = writeln!(out, "account {key} {} {:?} {:?} {:?}", a.name, a.last_seen_ms(), a.mailbox(), a.blocks);
    }
    let _ = writeln!(
        out,
        "blockers {:?} offline {}",
        engine.world.blocks.blockers(),
        engine.world.accounts.offline_total()
    );
    out
}

/// Sends `line` from `client`, asserts that the state did not change and
/// that nobody else was told anything, and returns what `client` got.
pub(crate) fn rejected(sim: &mut Sim, client: ClientId, line: &str) -> Vec<String> {
    sim.take_transcript();
    let before = digest(sim.engine());
    sim.send(client, line);
    assert_eq!(digest(sim.engine()), before, "{line:?} changed the state");
    for output in sim.take_transcript() {
        assert!(matches!(output, Output::Send { to, .. } if to == client), "{line:?} produced {output:?}");
    }
    assert_eq!(sim.engine().check_invariants(), Ok(()));
    sim.take(client)
}

/// `rejected`, for raw bytes.
pub(crate) fn rejected_bytes(sim: &mut Sim, client: ClientId, bytes: &[u8]) -> Vec<String> {
    sim.take_transcript();
    let before = digest(sim.engine());
    sim.input(client, bytes).expect("client is connected");
    assert_eq!(digest(sim.engine()), before, "{bytes:?} changed the state");
    for output in sim.take_transcript() {
        assert!(matches!(output, Output::Send { to, .. } if to == client), "{bytes:?} produced {output:?}");
    }
    sim.take(client)
}
