//! Cluster mode on PostgreSQL, the one source of truth of every node:
//! room messages numbered in the transaction that stores them, and the
//! change feed that carries every other record to the other nodes.
//!
//! Numbering: a publication's room row is locked (`FOR UPDATE`, every
//! room of a batch at once, in key order, so that two nodes never wait on
//! each other), then its next number is the highest stored plus one.
//! Retention always keeps a room's newest message, so numbering carries
//! on; a dropped room loses its messages and starts again at 1. A
//! publication whose room row is gone (dropped by another node) gets no
//! number and is not stored.
//!
//! A deletion is numbered as a message is, in the same transaction that
//! erases its message's text and marks it deleted; only a message stored
//! as said can be (under the room's lock, so two nodes deleting the same
//! message at once store one deletion): a deletion of one deleted
//! already, or gone, gets no number either, and its deleter is told so.
//! A deletion stored is also a feed row (`Record::MessageDeleted`), for
//! the nodes that do not follow its room and still hold the message's
//! text in memory.
//!
//! The feed (`cluster_changes`): a follower polls for ids above the last
//! it saw, so ids must become visible in increasing order, which a plain
//! identity column does not promise (a transaction that took id 7 may
//! commit after one that took id 8, and a poll between sees 8 alone). So
//! the feed rows are inserted as the last work of the transaction, under
//! an advisory transaction lock (`FEED_LOCK`) that is held until its
//! commit is visible: feed inserts, and so their commits, take turns.
//! Only a batch with feed rows takes it; a batch of messages alone does
//! not wait for anyone's feed.
//!
//! The feed keeps [`FEED_KEEP_MS`] of changes and at most
//! [`FEED_KEEP_ENTRIES`] (`Backend::prune_changes`); a node that falls further
//! behind than that has missed changes, and must restore from the store
//! (`load`) and follow on from the feed's head.

use std::collections::HashMap;

use chatcore::{MessageKind, Publication, PublishTicket, Record, RoomMessage};

use super::super::backend::FeedEntry;
use super::super::record_json;
use super::super::records::PRUNE_CHUNK;
use super::Connection;
use super::records::{self, Writers, int, key, room_message};

/// The advisory lock feed inserts take turns under: any number, the same
/// in every chatd, not [the migration's](super::schema) (the bytes of
/// "chatdfed").
const FEED_LOCK: i64 = 0x6368_6174_6466_6564;

/// How long the feed keeps a change: a node that stops following for
/// longer restores from the store instead.
pub const FEED_KEEP_MS: u64 = 24 * 60 * 60 * 1000;

/// The most changes the feed keeps, however young: a bound on the table
/// when a storm of changes comes.
pub const FEED_KEEP_ENTRIES: u64 = 100_000;

/// The host of a message stored without one (by a single chatd, before
/// cluster mode): what chatcore shows for a restored message's sender.
const NO_HOST: &str = "chatd";

/// Writes one cluster batch inside the caller's transaction: the records
/// (tolerating what other nodes wrote), the publications under their
/// rooms' next numbers, then the feed rows. Returns each publication's
/// number, `None` for one whose room is gone.
pub(super) fn write(
    conn: &mut Connection,
    node: &str,
    records: &[Record],
    publications: &[Publication],
    whispers_kept: Option<u64>,
) -> Result<Vec<Option<u64>>, postgres::Error> {
    // Records first: a room created in this batch takes its first message.
    records::write_all(conn, records, whispers_kept, Writers::Many)?;
    let numbers = publish(conn, node, publications)?;
    // Last: the feed lock is held from here to the commit. A deletion
    // stored goes to the feed too, so that a node not following its room
    // erases the message from memory at once.
    let deletions = stored_deletions(publications, &numbers);
    if deletions.is_empty() {
        append_changes(conn, node, records)?;
    } else {
        append_changes(conn, node, &[records, &deletions].concat())?;
    }
    Ok(numbers)
}

/// Numbers and stores `publications`, in order: several to one room get
/// consecutive numbers. Three statements however many there are.
fn publish(
    conn: &mut Connection,
    node: &str,
    publications: &[Publication],
) -> Result<Vec<Option<u64>>, postgres::Error> {
    if publications.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = publications.iter().map(|publication| key(&publication.room)).collect();
    let mut rooms = keys.clone();
    rooms.sort_unstable();
    rooms.dedup();
    // Locked in key order (locks are taken after the sort), so two nodes
    // publishing to the same rooms queue rather than deadlock.
    let present: Vec<String> = conn
        .query("SELECT key FROM rooms WHERE key = ANY($1) ORDER BY key FOR UPDATE", &[&rooms])?
        .iter()
        .map(|row| row.get(0))
        .collect();
    // A new statement: it sees every message committed before the locks
    // were granted (READ COMMITTED), which one statement taking the lock
    // and reading the highest number would not.
    let mut heads: HashMap<String, i64> = conn
        .query(
            "SELECT k, coalesce((SELECT max(seq) FROM messages WHERE room_key = k), 0)
             FROM unnest($1::text[]) AS k",
            &[&present],
        )?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let mut numbers = Vec::with_capacity(publications.len());
    let mut rows = MessageRows::default();
    for (publication, room) in publications.iter().zip(keys) {
        let Some(head) = heads.get_mut(&room) else {
            numbers.push(None);
            continue;
        };
        if let MessageKind::Deletion { of, by } = &publication.kind
            && !erase(conn, &room, *of, by, publication.unix_ms)?
        {
            numbers.push(None);
            continue;
        }
        *head += 1;
        numbers.push(u64::try_from(*head).ok());
        rows.push(room, *head, publication);
    }
    if !rows.rooms.is_empty() {
        let MessageRows { rooms, seqs, senders, hosts, texts, times, notices, tickets, deleters, deletes } = &rows;
        conn.execute(
            "INSERT INTO messages (room_key, seq, sender, host, text, ts_ms, notice, node, ticket, deleted_by, deletes)
             SELECT r, s, f, h, t, ts, n, $8, tk, b, d
             FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                         $7::bool[], $9::bigint[], $10::text[], $11::bigint[]) AS u(r, s, f, h, t, ts, n, tk, b, d)",
            &[rooms, seqs, senders, hosts, texts, times, notices, &node, tickets, deleters, deletes],
        )?;
    }
    Ok(numbers)
}

/// The deletions among `publications` that were stored (numbered), as
/// records for the feed.
fn stored_deletions(publications: &[Publication], numbers: &[Option<u64>]) -> Vec<Record> {
    let stored = publications.iter().zip(numbers).filter_map(|(publication, number)| Some((publication, (*number)?)));
    stored
        .filter_map(|(publication, event)| match &publication.kind {
            MessageKind::Deletion { of, by } => Some(Record::MessageDeleted {
                room: publication.room.clone(),
                seq: *of,
                from: publication.from.clone(),
                by: by.clone(),
                unix_ms: publication.unix_ms,
                event,
            }),
            _ => None,
        })
        .collect()
}

/// Erases message `seq` of `room` as deleted by `by` at `unix_ms`, if it
/// is stored as said; whether it was.
fn erase(conn: &mut Connection, room: &str, seq: u64, by: &str, unix_ms: u64) -> Result<bool, postgres::Error> {
    let erased = conn.execute(
        "UPDATE messages SET text = '', deleted_by = $3, deleted_ms = $4
         WHERE room_key = $1 AND seq = $2 AND deleted_by IS NULL AND deletes IS NULL",
        &[&room, &int(seq), &by, &int(unix_ms)],
    )?;
    Ok(erased > 0)
}

/// The columns of the messages one batch stores (a deletion's `deleted_by`
/// and `deletes` too; its reason is told, not kept).
#[derive(Default)]
struct MessageRows<'a> {
    rooms: Vec<String>,
    seqs: Vec<i64>,
    senders: Vec<&'a str>,
    hosts: Vec<&'a str>,
    texts: Vec<&'a str>,
    times: Vec<i64>,
    notices: Vec<bool>,
    tickets: Vec<i64>,
    deleters: Vec<Option<&'a str>>,
    deletes: Vec<Option<i64>>,
}

impl<'a> MessageRows<'a> {
    fn push(&mut self, room: String, seq: i64, publication: &'a Publication) {
        let (text, deleter, deletes) = match &publication.kind {
            MessageKind::Deletion { of, by } => ("", Some(&**by), Some(int(*of))),
            // The engine publishes nothing else.
            MessageKind::Said | MessageKind::Deleted { .. } => (&*publication.text, None, None),
        };
        self.rooms.push(room);
        self.seqs.push(seq);
        self.senders.push(&publication.from);
        self.hosts.push(&publication.host);
        self.texts.push(text);
        self.times.push(int(publication.unix_ms));
        self.notices.push(publication.notice);
        self.tickets.push(ticket_column(publication.ticket));
        self.deleters.push(deleter);
        self.deletes.push(deletes);
    }
}

/// A ticket as a `BIGINT`, bit for bit, so it reads back as it was.
fn ticket_column(ticket: PublishTicket) -> i64 {
    i64::from_ne_bytes(ticket.as_u64().to_ne_bytes())
}

fn ticket_from_column(column: i64) -> PublishTicket {
    PublishTicket::from_u64(u64::from_ne_bytes(column.to_ne_bytes()))
}

/// Appends every record but room messages (which travel as publications)
/// to the feed, under the feed lock; nothing when there is none.
fn append_changes(conn: &mut Connection, node: &str, records: &[Record]) -> Result<(), postgres::Error> {
    let changes: Vec<String> = records
        .iter()
        .filter(|record| !matches!(record, Record::Message { .. }))
        .map(|record| record_json::encode(record).to_string())
        .collect();
    if changes.is_empty() {
        return Ok(());
    }
    conn.query("SELECT pg_advisory_xact_lock($1)", &[&FEED_LOCK])?;
    let now_ms = int(chatcore::Now::system().unix_ms);
    conn.execute(
        "INSERT INTO cluster_changes (node, record, ts_ms)
         SELECT $1, c::jsonb, $3 FROM unnest($2::text[]) WITH ORDINALITY AS u(c, n) ORDER BY n",
        &[&node, &changes, &now_ms],
    )?;
    Ok(())
}

/// The stored messages of `room` numbered in `after + 1 ..= upto`, oldest
/// first, at most `limit`, each with its ticket if `node` published it:
/// deletions, and messages deleted since as their tombstones.
pub(super) fn room_messages(
    conn: &mut Connection,
    node: &str,
    room: &str,
    after: u64,
    upto: Option<u64>,
    limit: usize,
) -> Result<Vec<RoomMessage>, postgres::Error> {
    let upto = upto.map_or(i64::MAX, int);
    let rows = conn.query(
        "SELECT seq, sender, text, ts_ms, deleted_by, deleted_ms, deletes, host, notice, node, ticket FROM messages
         WHERE room_key = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4",
        &[&key(room), &int(after), &upto, &int(limit as u64)],
    )?;
    let mut messages = Vec::with_capacity(rows.len());
    for row in &rows {
        let Some(message) = room_message(row) else {
            tracing::warn!(room, "skipped a stored message with a number out of range");
            continue;
        };
        let host: Option<String> = row.get(7);
        let publisher: Option<String> = row.get(9);
        let ticket: Option<i64> = row.get(10);
        messages.push(RoomMessage {
            room: room.into(),
            seq: message.seq,
            from: message.from,
            host: host.as_deref().unwrap_or(NO_HOST).into(),
            text: message.text,
            unix_ms: message.unix_ms,
            notice: row.get(8),
            kind: message.kind,
            ticket: ticket.filter(|_| publisher.as_deref() == Some(node)).map(ticket_from_column),
        });
    }
    Ok(messages)
}

/// The highest number stored in each of `rooms` (0: none), in order.
pub(super) fn room_heads(conn: &mut Connection, rooms: &[&str]) -> Result<Vec<u64>, postgres::Error> {
    let keys: Vec<String> = rooms.iter().map(|room| key(room)).collect();
    let rows = conn.query(
        "SELECT coalesce((SELECT max(seq) FROM messages WHERE room_key = k), 0)
         FROM unnest($1::text[]) WITH ORDINALITY AS u(k, n) ORDER BY n",
        &[&keys],
    )?;
    Ok(rows.iter().map(|row| u64::try_from(row.get::<_, i64>(0)).unwrap_or(0)).collect())
}

/// Feed entries above `after`, oldest first, at most `limit`; one that
/// cannot be read is logged and skipped.
pub(super) fn changes_after(
    conn: &mut Connection,
    after: i64,
    limit: usize,
) -> Result<Vec<FeedEntry>, postgres::Error> {
    let rows = conn.query(
        "SELECT id, node, record::text FROM cluster_changes WHERE id > $1 ORDER BY id LIMIT $2",
        &[&after, &int(limit as u64)],
    )?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in &rows {
        let (id, node, text): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
        let decoded = serde_json::from_str(&text)
            .map_err(|error| error.to_string())
            .and_then(|value| record_json::decode(&value).map_err(|error| error.to_string()));
        match decoded {
            Ok(record) => entries.push(FeedEntry { id, node, record }),
            Err(error) => tracing::warn!(id, %node, %error, "skipped a change in the feed that cannot be read"),
        }
    }
    Ok(entries)
}

/// The newest feed entry's id, 0 when there is none.
pub(super) fn feed_head(conn: &mut Connection) -> Result<i64, postgres::Error> {
    let rows = conn.query("SELECT coalesce(max(id), 0) FROM cluster_changes", &[])?;
    Ok(rows.first().map_or(0, |row| row.get(0)))
}

/// Deletes up to one chunk of feed entries older than [`FEED_KEEP_MS`]
/// or beyond the newest [`FEED_KEEP_ENTRIES`]; returns how many.
pub(super) fn prune_changes(conn: &mut Connection, now_ms: u64) -> Result<u64, postgres::Error> {
    let cutoff = int(now_ms.saturating_sub(FEED_KEEP_MS));
    // Entries lie in id order, which is roughly time order: everything
    // before the oldest young entry goes, as do all but the newest
    // FEED_KEEP_ENTRIES ids (fewer entries, if ids skipped some).
    conn.execute(
        "DELETE FROM cluster_changes WHERE id IN (
             SELECT id FROM cluster_changes
             WHERE id < greatest(
                     coalesce((SELECT id FROM cluster_changes WHERE ts_ms >= $1 ORDER BY id LIMIT 1),
                              (SELECT max(id) + 1 FROM cluster_changes)),
                     (SELECT max(id) FROM cluster_changes) - $2 + 1)
             ORDER BY id
             LIMIT $3)",
        &[&cutoff, &int(FEED_KEEP_ENTRIES), &int(PRUNE_CHUNK)],
    )
}
