//! Room streams: one Redis Stream per room, `room:{room}`, whose entry ids
//! are the messages' `seq`s from PostgreSQL (`{seq}-1`: `0-0` is not a
//! valid id, so the sequence part alone carries the seq). Redis refuses an
//! id not above the stream's top: two nodes commit consecutive numbers of
//! a room and the higher one's `XADD` may come first. The lower one is
//! then added *late*, right after the top (`{top}-{n+1}`), with its seq in
//! a field of its own (`s`), so that readers get it a moment after the
//! higher one instead of waiting for a gap to be backfilled. A reader may
//! so see a seq twice (a message published again): the engine drops
//! repeats, and a stream's ids still only grow.

use std::sync::LazyLock;

use bytes::Bytes;
use redis::streams::{StreamId, StreamRangeReply};
use redis::{Cmd, Connection, RedisResult, Script, Value};

use super::Keys;

/// The payload's field in an entry.
pub(crate) const PAYLOAD: &str = "p";
/// The field that holds the seq of an entry added late.
pub(crate) const LATE_SEQ: &str = "s";

/// What became of a publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// The entry is on the stream.
    Added,
    /// The stream already holds this seq or a later one: not published
    /// at its own id (see [`publish_late`]).
    Refused,
}

/// Adds message `seq` right after the top of a stream that holds a later
/// one, with its seq in [`LATE_SEQ`]: the top's id with its sequence
/// part one higher. One script, so that nothing comes between reading
/// the top and adding after it.
static LATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
        local id = '0-1'
        if top then
            local ms, n = string.match(top[1], '^(%d+)-(%d+)$')
            id = ms .. '-' .. string.format('%d', tonumber(n) + 1)
        end
        return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], id, 'p', ARGV[2], 's', ARGV[3])",
    )
});

/// Adds message `seq` of `room` after the stream's top: for one that
/// [`publish`] refused because a later message got there first.
///
/// # Errors
///
/// When Redis fails or does not answer.
pub fn publish_late(
    conn: &mut Connection,
    keys: &Keys,
    room: &str,
    seq: u64,
    payload: &[u8],
    stream_len: usize,
) -> RedisResult<()> {
    LATE.key(keys.room(room)).arg(stream_len).arg(payload).arg(seq).invoke::<Value>(conn).map(drop)
}

/// The seq an entry carries: its [`LATE_SEQ`] field if it was added late,
/// else its id's; `None` for an entry chatd did not add.
pub(crate) fn entry_seq(entry: &mut StreamId) -> Option<u64> {
    match field(entry, LATE_SEQ) {
        Some(seq) => std::str::from_utf8(&seq).ok()?.parse().ok(),
        None => seq_of(&entry.id),
    }
}

/// The entry id of message `seq`.
#[must_use]
pub fn entry_id(seq: u64) -> String {
    format!("{seq}-1")
}

/// The seq of an entry id made by [`entry_id`]; `None` for any other id
/// (an entry that chatd did not add).
#[must_use]
pub fn seq_of(id: &str) -> Option<u64> {
    let (seq, rest) = id.split_once('-')?;
    (rest == "1").then(|| seq.parse().ok()).flatten()
}

/// Adds message `seq` of `room` with `payload`, trimming the stream to
/// about `stream_len` entries.
///
/// # Errors
///
/// When Redis fails or does not answer. Redis refusing the id is
/// [`Published::Refused`], not an error.
pub fn publish(
    conn: &mut Connection,
    keys: &Keys,
    room: &str,
    seq: u64,
    payload: &[u8],
    stream_len: usize,
) -> RedisResult<Published> {
    published(xadd(keys, room, seq, payload, stream_len).query::<Value>(conn))
}

/// The `XADD` of [`publish`], to send in a pipeline.
pub(crate) fn xadd(keys: &Keys, room: &str, seq: u64, payload: &[u8], stream_len: usize) -> Cmd {
    let mut xadd = redis::cmd("XADD");
    xadd.arg(keys.room(room)).arg("MAXLEN").arg("~").arg(stream_len).arg(entry_id(seq)).arg(PAYLOAD).arg(payload);
    xadd
}

/// What Redis' reply to an [`xadd`] means.
pub(crate) fn published(reply: RedisResult<Value>) -> RedisResult<Published> {
    match reply {
        Ok(_) => Ok(Published::Added),
        Err(error) if id_too_small(&error) => Ok(Published::Refused),
        Err(error) => Err(error),
    }
}

/// Redis' answer to an `XADD` whose id is not above the stream's top:
/// "ERR The ID specified in XADD is equal or smaller than the target
/// stream top item".
fn id_too_small(error: &redis::RedisError) -> bool {
    error.code() == Some("ERR") && error.detail().is_some_and(|detail| detail.contains("equal or smaller"))
}

/// The seq of the oldest message `room`'s stream still holds, if any.
///
/// # Errors
///
/// When Redis fails or does not answer.
pub fn first_seq(conn: &mut Connection, keys: &Keys, room: &str) -> RedisResult<Option<u64>> {
    let range: StreamRangeReply =
        redis::cmd("XRANGE").arg(keys.room(room)).arg("-").arg("+").arg("COUNT").arg(1).query(conn)?;
    Ok(range.ids.first().and_then(|entry| seq_of(&entry.id)))
}

/// The id of the newest entry of the stream at `key`, or `0-0` when it is
/// empty or missing: reading after it gives only what comes later.
///
/// # Errors
///
/// When Redis fails or does not answer.
pub fn top_id(conn: &mut Connection, key: &str) -> RedisResult<String> {
    let range: StreamRangeReply = redis::cmd("XREVRANGE").arg(key).arg("+").arg("-").arg("COUNT").arg(1).query(conn)?;
    Ok(range.ids.into_iter().next().map_or_else(|| "0-0".to_owned(), |entry| entry.id))
}

/// The bytes of `field` in `entry`, if it holds bytes.
pub(crate) fn field(entry: &mut StreamId, field: &str) -> Option<Bytes> {
    match entry.map.remove(field)? {
        Value::BulkString(bytes) => Some(Bytes::from(bytes)),
        Value::SimpleString(text) => Some(Bytes::from(text)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{entry_id, seq_of};

    #[test]
    fn an_entry_id_gives_back_its_seq_and_no_other_id_does() {
        for seq in [0, 1, 42, u64::MAX] {
            assert_eq!(seq_of(&entry_id(seq)), Some(seq));
        }
        for foreign in ["1700000000000-0", "5-2", "x-1", "5", "-1", ""] {
            assert_eq!(seq_of(foreign), None, "{foreign}");
        }
    }
}
