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
use redis::{Cmd, Connection, RedisResult};

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
    for command in commands(keys, node, user, payload, presence, stream_len, lease) {
        pipe.add_command(command).ignore();
    }
    pipe.query(conn)
}

/// The commands of [`announce`], to send in a pipeline: three, whose
/// replies say nothing but whether they failed.
pub(crate) fn commands(
    keys: &Keys,
    node: &str,
    user: &str,
    payload: &[u8],
    presence: Presence,
    stream_len: usize,
    lease: Duration,
) -> [Cmd; 3] {
    let xadd = bulletin(keys, node, payload, stream_len);
    let snapshot = keys.snapshot(node);
    let mut record = match presence {
        Presence::Here => redis::cmd("HSET"),
        Presence::Gone => redis::cmd("HDEL"),
    };
    record.arg(&snapshot).arg(user);
    if presence == Presence::Here {
        record.arg(payload);
    }
    let mut expire = redis::cmd("PEXPIRE");
    expire.arg(&snapshot).arg(millis(lease));
    [xadd, record, expire]
}

/// The command that adds `payload` to the presence stream as `node`'s,
/// without keeping it in the node's snapshot: something every node reads
/// once (a whisper on its way), not a user's state.
pub(crate) fn bulletin(keys: &Keys, node: &str, payload: &[u8], stream_len: usize) -> Cmd {
    let mut xadd = redis::cmd("XADD");
    xadd.arg(keys.presence()).arg("MAXLEN").arg("~").arg(stream_len).arg("*").arg("n").arg(node).arg("p").arg(payload);
    xadd
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
