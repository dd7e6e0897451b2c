//! Name leases: a name belongs to the node whose name is the value of
//! `name:{name}`, for as long as the key lives. The holder renews it every
//! third of the lease; a node that dies stops renewing, and its names are
//! free again within one lease.
//!
//! Each operation is one atomic step in Redis (a `SET NX PX` or a short Lua
//! script), so two nodes can never both believe they hold a name, and a
//! node can only renew or release a name whose value is its own.

use std::sync::LazyLock;
use std::time::Duration;

use redis::{Connection, RedisResult, Script};

use super::Keys;

/// The answer to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The name is this node's now, for one lease.
    Granted,
    /// Another node holds it.
    Taken,
}

/// Taken if free, or renewed if already ours: claiming a name twice (as
/// after [`super::Report::Resync`], when renewal may have taken it back
/// first) is granted both times.
static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return 1
        end
        return 0",
    )
});

/// Renews each name that is still ours; one whose lease lapsed and that no
/// node took meanwhile is taken back (nobody holds it, and our user still
/// uses it). Returns the 1-based positions of the names another node holds.
static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local lost = {}
        for i, key in ipairs(KEYS) do
            local holder = redis.call('GET', key)
            if holder == ARGV[1] then
                redis.call('PEXPIRE', key, ARGV[2])
            elseif not holder then
                redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
            else
                table.insert(lost, i)
            end
        end
        return lost",
    )
});

/// Deletes the name only if it is ours.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0",
    )
});

/// Names renewed in one script call: bounds how long Redis is busy with one.
const RENEW_CHUNK: usize = 500;

/// Claims `name` for `node` for `lease`.
///
/// # Errors
///
/// When Redis fails or does not answer.
pub fn claim(conn: &mut Connection, keys: &Keys, name: &str, node: &str, lease: Duration) -> RedisResult<Claim> {
    let granted: bool = CLAIM.key(keys.name(name)).arg(node).arg(millis(lease)).invoke(conn)?;
    Ok(if granted { Claim::Granted } else { Claim::Taken })
}

/// Renews `names` for `node` for another `lease`, and returns the ones
/// another node holds now (the node must give them up).
///
/// # Errors
///
/// When Redis fails or does not answer; some chunks may have been renewed.
pub fn renew_all(
    conn: &mut Connection,
    keys: &Keys,
    node: &str,
    names: &[String],
    lease: Duration,
) -> RedisResult<Vec<String>> {
    let mut lost = Vec::new();
    for chunk in names.chunks(RENEW_CHUNK) {
        let mut invocation = RENEW.prepare_invoke();
        for name in chunk {
            invocation.key(keys.name(name));
        }
        let positions: Vec<usize> = invocation.arg(node).arg(millis(lease)).invoke(conn)?;
        lost.extend(positions.into_iter().filter_map(|at| chunk.get(at.checked_sub(1)?).cloned()));
    }
    Ok(lost)
}

/// Releases `name` if `node` holds it; `false` if it did not (another
/// node's name is never touched).
///
/// # Errors
///
/// When Redis fails or does not answer.
pub fn release(conn: &mut Connection, keys: &Keys, name: &str, node: &str) -> RedisResult<bool> {
    let deleted: u32 = RELEASE.key(keys.name(name)).arg(node).invoke(conn)?;
    Ok(deleted == 1)
}

/// The node holding `name`, if any.
///
/// # Errors
///
/// When Redis fails or does not answer.
pub fn holder(conn: &mut Connection, keys: &Keys, name: &str) -> RedisResult<Option<String>> {
    redis::cmd("GET").arg(keys.name(name)).query(conn)
}

/// A duration as Redis' `PX` milliseconds, never 0 (which Redis refuses).
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX).max(1)
}
