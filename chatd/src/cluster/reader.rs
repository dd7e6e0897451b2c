//! The reader thread: one `XREAD BLOCK` over the node's control stream,
//! the presence stream and every followed room, each from its own
//! position, reporting what it reads. Following or unfollowing a room
//! adds to the control stream (the worker does), which ends the block at
//! once, so the next read covers the new set of rooms.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use redis::streams::{StreamId, StreamReadReply};
use redis::{Client, Connection, RedisResult};

use super::link::Link;
use super::report::{NodeSnapshot, Report};
use super::shared::{Follow, Shared};
use super::streams::{self, PAYLOAD};
use super::{REPLY_TIMEOUT, nodes, presence};

/// Entries read from one stream in one `XREAD`.
const READ_COUNT: usize = 512;

/// The reader's own positions (the rooms' are shared with [`super::Bus::follow`]).
struct Positions {
    control: String,
    /// `None` until the presence snapshot is loaded.
    presence: Option<String>,
    /// The epochs the worker had seen when the positions were last checked.
    epochs: u64,
}

pub(super) fn read(shared: &Arc<Shared>, client: Client) {
    let name = format!("chatd-reader:{}", shared.config.node);
    let mut link = Link::new(client, name, shared.config.reader_block + REPLY_TIMEOUT);
    // The control stream from the start: an entry left by an earlier life
    // of this node costs one read, a wake missed would cost a block.
    let mut positions = Positions { control: "0-0".to_owned(), presence: None, epochs: 0 };
    while !shared.stopping.load(Ordering::Acquire) {
        let conn = match link.get() {
            Ok(conn) => conn,
            Err(error) => {
                // The worker reports the health; this thread only waits.
                if let Some(error) = error {
                    tracing::debug!(%error, "the bus reader cannot connect to Redis");
                }
                // Unparked at once when the bus finishes.
                std::thread::park_timeout(link.wait().max(Duration::from_millis(1)));
                continue;
            }
        };
        if let Err(error) = read_once(shared, conn, &mut positions)
            && !link.failed(&error)
        {
            tracing::warn!(%error, "Redis refused the bus reader's command");
            std::thread::park_timeout(Duration::from_millis(100));
        }
    }
}

/// One `XREAD`, after loading the presence snapshot if not yet done.
fn read_once(shared: &Shared, conn: &mut Connection, positions: &mut Positions) -> RedisResult<()> {
    let keys = &shared.keys;
    let control = keys.control(&shared.config.node);
    let presence_key = keys.presence();
    if positions.presence.is_none() {
        // The position first: a change made while the snapshot is read
        // comes again on the stream, and a payload is a whole state.
        let position = streams::top_id(conn, &presence_key)?;
        let snapshots = load_snapshots(shared, conn)?;
        shared.report(Report::PresenceSnapshot(snapshots));
        positions.presence = Some(position);
    }
    let epochs = shared.epochs.load(Ordering::Relaxed);
    if epochs != positions.epochs {
        // A stream made again after a wipe may have ids below a position
        // from before it: reading from there would wait for nothing.
        positions.epochs = epochs;
        let presence_position = positions.presence.get_or_insert_with(|| "0-0".to_owned());
        for (key, position) in [(&control, &mut positions.control), (&presence_key, presence_position)] {
            if id_order(&streams::top_id(conn, key)?) < id_order(position) {
                *position = "0-0".to_owned();
            }
        }
    }
    let follows: Vec<(String, Follow)> =
        shared.follows().iter().map(|(room, follow)| (room.clone(), follow.clone())).collect();
    let mut command = redis::cmd("XREAD");
    command.arg("COUNT").arg(READ_COUNT).arg("BLOCK").arg(block_millis(shared.config.reader_block));
    command.arg("STREAMS").arg(&control).arg(&presence_key);
    for (room, _) in &follows {
        command.arg(keys.room(room));
    }
    command.arg(&positions.control).arg(positions.presence.as_deref().unwrap_or("0-0"));
    for (_, follow) in &follows {
        command.arg(&follow.cursor);
    }
    // Stopping is set before the wake that follows it: seen here, or woken.
    if shared.stopping.load(Ordering::Acquire) {
        return Ok(());
    }
    let Some(reply) = command.query::<Option<StreamReadReply>>(conn)? else {
        return Ok(());
    };
    for stream in reply.keys {
        let Some(last) = stream.ids.last() else { continue };
        if stream.key == control {
            positions.control.clone_from(&last.id);
        } else if stream.key == presence_key {
            positions.presence = Some(last.id.clone());
            report_presence(shared, stream.ids);
        } else if let Some(room) = keys.room_of(&stream.key)
            && let Some((_, follow)) = follows.iter().find(|(followed, _)| followed == room)
        {
            read_room(shared, conn, room, follow, stream.ids)?;
        }
    }
    Ok(())
}

/// Every live node's snapshot but this node's.
fn load_snapshots(shared: &Shared, conn: &mut Connection) -> RedisResult<Vec<NodeSnapshot>> {
    let mut snapshots = Vec::new();
    for node in nodes::live(conn, &shared.keys)? {
        if node != shared.config.node {
            let users = presence::snapshot(conn, &shared.keys, &node)?;
            snapshots.push(NodeSnapshot { node, users });
        }
    }
    Ok(snapshots)
}

fn report_presence(shared: &Shared, entries: Vec<StreamId>) {
    for mut entry in entries {
        let node = streams::field(&mut entry, "n").map(|node| String::from_utf8_lossy(&node).into_owned());
        let (Some(node), Some(payload)) = (node, streams::field(&mut entry, PAYLOAD)) else {
            tracing::warn!(id = %entry.id, "a presence entry without a node or payload; skipped");
            continue;
        };
        if node != shared.config.node {
            shared.report(Report::Presence { node, payload });
        }
    }
}

/// Reports a room's entries, first [`Report::Trimmed`] if Redis no longer
/// holds what follows the position, and moves the position past them
/// unless the room was followed again (or unfollowed) meanwhile.
fn read_room(
    shared: &Shared,
    conn: &mut Connection,
    room: &str,
    follow: &Follow,
    entries: Vec<StreamId>,
) -> RedisResult<()> {
    let Some(last_id) = entries.last().map(|entry| entry.id.clone()) else { return Ok(()) };
    let mut read = Vec::with_capacity(entries.len());
    for mut entry in entries {
        match (streams::entry_seq(&mut entry), streams::field(&mut entry, PAYLOAD)) {
            (Some(seq), Some(payload)) => read.push((seq, payload)),
            _ => tracing::warn!(%room, id = %entry.id, "a room entry chatd did not add; skipped"),
        }
    }
    let trimmed = match read.first() {
        // A gap at the start is trimming only if the stream holds nothing
        // before it; else the missing seqs were never published.
        Some(&(first, _)) if first > follow.after + 1 => {
            streams::first_seq(conn, &shared.keys, room)?.filter(|&oldest| oldest > follow.after + 1)
        }
        _ => None,
    };
    {
        let mut follows = shared.follows();
        match follows.get_mut(room) {
            Some(current) if current.generation == follow.generation => {
                // A late entry carries a lower seq than those before it.
                current.after = read.iter().map(|&(seq, _)| seq).fold(current.after, u64::max);
                current.cursor = last_id;
            }
            _ => return Ok(()),
        }
    }
    if let Some(first) = trimmed {
        shared.counts.trimmed.fetch_add(1, Ordering::Relaxed);
        shared.report(Report::Trimmed { room: room.to_owned(), after: follow.after, first });
    }
    shared.counts.entries_read.fetch_add(read.len() as u64, Ordering::Relaxed);
    for (seq, payload) in read {
        shared.report(Report::Entry { room: room.to_owned(), seq, payload });
    }
    Ok(())
}

/// A stream id's two numbers, to compare ids as Redis orders them.
fn id_order(id: &str) -> (u64, u64) {
    let (millis, sequence) = id.split_once('-').unwrap_or((id, "0"));
    (millis.parse().unwrap_or(0), sequence.parse().unwrap_or(0))
}

/// `BLOCK`'s milliseconds; never 0, which would block forever.
fn block_millis(block: Duration) -> u64 {
    u64::try_from(block.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::id_order;

    #[test]
    fn stream_ids_compare_as_redis_orders_them() {
        assert!(id_order("9-1") < id_order("10-0"));
        assert!(id_order("10-2") < id_order("10-10"));
        assert!(id_order("0-0") < id_order("0-1"));
        assert_eq!(id_order("1700000000000-3"), (1_700_000_000_000, 3));
    }
}
