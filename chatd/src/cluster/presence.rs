//! The presence bus: one stream, `presence`, that every node adds its
//! users' presence changes to, and a hash per node, `snapshot:{node}`,
//! holding the latest change of each of its users, so that a node starting
//! later learns everyone's presence without replaying history.
//!
//! A payload is opaque bytes (chatd encodes its engine's presence change
//! in it). It must state a user's whole presence, not a difference from
//! the last: a reader may see a change twice, or a snapshot already
//! holding a change it reads again on the stream.

use std::time::Duration;

use bytes::Bytes;
use redis::{Connection, RedisResult};

use super::Keys;
use super::leases::millis;

/// A user's presence, as [`announce`] records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// The user is on this node: the payload is kept in its snapshot.
    Here,
    /// The user left this node: removed from its snapshot.
    Gone,
}

/// Adds `payload`, a change of `user` on `node`, to the presence stream
/// (keeping about `stream_len` entries), and records it in (or, when the
/// user is gone, removes it from) the node's snapshot, which expires with
/// the node's `lease`.
///
/// # Errors
///
/// When Redis fails or does not answer.
#[expect(clippy::too_many_arguments, reason = "one Redis step: each argument is one of its values")]
pub fn announce(
    conn: &mut Connection,
    keys: &Keys,
    node: &str,
    user: &str,
    payload: &[u8],
    presence: Presence,
    stream_len: usize,
    lease: Duration,
) -> RedisResult<()> {
    let mut pipe = redis::pipe();
    pipe.cmd("XADD")
        .arg(keys.presence())
        .arg("MAXLEN")
        .arg("~")
        .arg(stream_len)
        .arg("*")
        .arg("n")
        .arg(node)
        .arg("p")
        .arg(payload)
        .ignore();
    let snapshot = keys.snapshot(node);
    match presence {
        Presence::Here => pipe.cmd("HSET").arg(&snapshot).arg(user).arg(payload).ignore(),
        Presence::Gone => pipe.cmd("HDEL").arg(&snapshot).arg(user).ignore(),
    };
    pipe.cmd("PEXPIRE").arg(&snapshot).arg(millis(lease)).ignore();
    pipe.query(conn)
}

/// What `node`'s users are now: each user with their latest payload.
///
/// # Errors
///
/// When Redis fails or does not answer.
pub fn snapshot(conn: &mut Connection, keys: &Keys, node: &str) -> RedisResult<Vec<(String, Bytes)>> {
    let users: Vec<(String, Vec<u8>)> = redis::cmd("HGETALL").arg(keys.snapshot(node)).query(conn)?;
    Ok(users.into_iter().map(|(user, payload)| (user, Bytes::from(payload))).collect())
}
