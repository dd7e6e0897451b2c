//! The node registry: a node is live while its key `node:{node}` lives,
//! and it renews that key (with its presence snapshot and its control
//! stream) every third of its lease. A node that dies stops renewing; the
//! others notice its key gone, announce its users as gone, and its names
//! and presence snapshot expire with the same lease.
//!
//! Nodes are also kept in the set `nodes`, so that finding the live ones
//! never scans the whole keyspace: a member whose key has expired is
//! removed by whichever node sees it first, and every node notices it by
//! comparing with the nodes it saw live before ([`Watch`]).

use std::collections::BTreeSet;
use std::time::Duration;

use redis::{Connection, RedisResult};

use super::Keys;
use super::leases::millis;

/// Marks `node` live for another `lease`, and its presence snapshot and
/// control stream with it. Returns whether it was still live: `false` the
/// first time, and when its lease lapsed since the last renewal (others
/// may have declared it gone; it must announce its users again).
///
/// # Errors
///
/// When Redis fails or does not answer.
pub fn heartbeat(conn: &mut Connection, keys: &Keys, node: &str, lease: Duration) -> RedisResult<bool> {
    let px = millis(lease);
    let (was,): (Option<String>,) = redis::pipe()
        .cmd("SET")
        .arg(keys.node(node))
        .arg(node)
        .arg("PX")
        .arg(px)
        .arg("GET")
        .cmd("SADD")
        .arg(keys.nodes())
        .arg(node)
        .ignore()
        .cmd("PEXPIRE")
        .arg(keys.snapshot(node))
        .arg(px)
        .ignore()
        .cmd("PEXPIRE")
        .arg(keys.control(node))
        .arg(px)
        .ignore()
        .query(conn)?;
    Ok(was.is_some())
}

/// Removes `node` at once, as when it stops cleanly: its key, its
/// presence snapshot and its control stream. Its names are the caller's
/// to release.
///
/// # Errors
///
/// When Redis fails or does not answer.
pub fn leave(conn: &mut Connection, keys: &Keys, node: &str) -> RedisResult<()> {
    redis::pipe()
        .cmd("DEL")
        .arg(keys.node(node))
        .arg(keys.snapshot(node))
        .arg(keys.control(node))
        .ignore()
        .cmd("SREM")
        .arg(keys.nodes())
        .arg(node)
        .ignore()
        .query(conn)
}

/// The live nodes, sorted; the set's members whose lease lapsed are
/// removed from it.
///
/// # Errors
///
/// When Redis fails or does not answer.
pub fn live(conn: &mut Connection, keys: &Keys) -> RedisResult<Vec<String>> {
    let members: Vec<String> = redis::cmd("SMEMBERS").arg(keys.nodes()).query(conn)?;
    if members.is_empty() {
        return Ok(members);
    }
    let mut exists = redis::pipe();
    for node in &members {
        exists.cmd("EXISTS").arg(keys.node(node));
    }
    let alive: Vec<bool> = exists.query(conn)?;
    let (live, dead): (Vec<_>, Vec<_>) = members.into_iter().zip(alive).partition(|(_, alive)| *alive);
    if !dead.is_empty() {
        // A node renewing right now adds itself again after its key: never lost.
        let mut remove = redis::cmd("SREM");
        remove.arg(keys.nodes());
        for (node, _) in &dead {
            remove.arg(node);
        }
        remove.query::<()>(conn)?;
    }
    let mut live: Vec<String> = live.into_iter().map(|(node, _)| node).collect();
    live.sort_unstable();
    Ok(live)
}

/// The nodes one node has seen live, to tell which have gone since.
#[derive(Debug, Default)]
pub struct Watch {
    seen: BTreeSet<String>,
}

impl Watch {
    /// Takes the nodes live now; returns the ones seen live before that
    /// are not any more.
    pub fn update(&mut self, live: Vec<String>) -> Vec<String> {
        let live: BTreeSet<String> = live.into_iter().collect();
        let gone = self.seen.difference(&live).cloned().collect();
        self.seen = live;
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::Watch;

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|&name| name.to_owned()).collect()
    }

    #[test]
    fn a_node_is_gone_once_seen_live_and_then_not() {
        let mut watch = Watch::default();
        assert!(watch.update(names(&["a", "b"])).is_empty());
        assert!(watch.update(names(&["a", "b", "c"])).is_empty());
        assert_eq!(watch.update(names(&["c"])), names(&["a", "b"]));
        // Gone once only; back, and gone again.
        assert!(watch.update(names(&["c"])).is_empty());
        assert!(watch.update(names(&["a", "c"])).is_empty());
        assert_eq!(watch.update(names(&[])), names(&["a", "c"]));
    }
}
