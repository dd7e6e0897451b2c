//! Writing the engine's records, reading them back, paging history and
//! pruning old messages.

use chatcore::{NameKey, PasswordHash, Record, StoredMessage};
use rusqlite::params;

use super::Store;

/// How much history the store keeps on disk. The engine's in-memory replay
/// cap is separate; this bounds the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Drop messages older than this many days.
    pub(crate) max_age_days: Option<u64>,
    /// Keep at most this many messages per room.
    pub(crate) max_per_room: Option<u64>,
}

/// Rows one pruning pass deletes at most, so that a large backlog never
/// holds up the commits queued behind it for long.
const PRUNE_CHUNK: u64 = 5_000;

impl Store {
    /// Writes every record in one transaction.
    pub(crate) fn commit(&mut self, records: &[Record]) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        for record in records {
            write(&tx, record)?;
        }
        tx.commit()
    }

    /// Everything the engine needs on start, as records in a valid restore
    /// order: rooms, the last `history_len` messages of each (at least one,
    /// so message numbers carry on), accounts, blocks, kept whispers.
    pub(crate) fn load(&self, history_len: usize) -> rusqlite::Result<Vec<Record>> {
        let mut records = Vec::new();
        let mut rooms =
            self.conn.prepare("SELECT key, name, created_ms, owner, vacated_ms FROM rooms ORDER BY created_ms, key")?;
        type RoomRow = (String, String, u64, Option<String>, Option<u64>);
        let rooms: Vec<RoomRow> = rooms
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
            .collect::<Result<_, _>>()?;
        let mut messages = self
            .conn
            .prepare("SELECT seq, sender, text, ts_ms FROM messages WHERE room_key = ?1 ORDER BY seq DESC LIMIT ?2")?;
        for (key, name, created_ms, owner, vacated_ms) in rooms {
            let owner = owner.map(String::into_boxed_str);
            records.push(Record::RoomCreated { room: name.clone().into(), unix_ms: created_ms, owner });
            let newest = history_len.max(1) as u64;
            let mut kept: Vec<StoredMessage> =
                messages.query_map(params![key, newest], stored_message)?.collect::<Result<_, _>>()?;
            kept.reverse();
            records.extend(kept.into_iter().map(|message| Record::Message { room: name.clone().into(), message }));
            if let Some(unix_ms) = vacated_ms {
                records.push(Record::RoomVacated { room: name.into(), unix_ms });
            }
        }
        let mut accounts =
            self.conn.prepare("SELECT name, hash, created_ms, last_seen_ms FROM accounts ORDER BY key")?;
        let mut rows = accounts.query([])?;
        while let Some(row) = rows.next()? {
            let name: String = row.get(0)?;
            let hash: String = row.get(1)?;
            records.push(Record::AccountCreated {
                name: name.clone().into(),
                hash: PasswordHash::new(hash),
                unix_ms: row.get(2)?,
            });
            if let Some(unix_ms) = row.get::<_, Option<u64>>(3)? {
                records.push(Record::LastSeen { account: name.into(), unix_ms });
            }
        }
        let mut sources = self.conn.prepare(
            "SELECT a.name, k.source FROM known_sources k JOIN accounts a ON a.key = k.account_key ORDER BY k.id",
        )?;
        for known in sources.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (account, source) = known?;
            // A source this build cannot read is only a lost exemption, not a reason to stop.
            match source.parse() {
                Ok(source) => records.push(Record::KnownSource { account: account.into(), source }),
                Err(_) => tracing::warn!(%account, %source, "skipping an unreadable known source"),
            }
        }
        let mut blocks = self.conn.prepare(
            "SELECT a.name, b.name FROM blocks b JOIN accounts a ON a.key = b.account_key ORDER BY a.key, b.blocked_key",
        )?;
        for block in blocks.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (account, name) = block?;
            records.push(Record::Blocked { account: account.into(), name: name.into() });
        }
        let mut offline = self.conn.prepare(
            "SELECT a.name, o.sender, o.text, o.ts_ms FROM offline o JOIN accounts a ON a.key = o.to_key ORDER BY o.id",
        )?;
        let kept = offline.query_map([], |r| {
            Ok(Record::OfflineKept {
                to: r.get::<_, String>(0)?.into(),
                from: r.get::<_, String>(1)?.into(),
                text: r.get::<_, String>(2)?.into(),
                unix_ms: r.get(3)?,
            })
        })?;
        for record in kept {
            records.push(record?);
        }
        Ok(records)
    }

    /// Up to `limit` messages of `room` numbered below `before`, newest of them.
    pub(crate) fn history(&self, room: &str, before: u64, limit: usize) -> rusqlite::Result<Vec<StoredMessage>> {
        let mut query = self.conn.prepare_cached(
            "SELECT seq, sender, text, ts_ms FROM messages WHERE room_key = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
        )?;
        let key = NameKey::of(room);
        let mut page: Vec<StoredMessage> =
            query.query_map(params![key.as_str(), before, limit as u64], stored_message)?.collect::<Result<_, _>>()?;
        page.reverse();
        Ok(page)
    }

    /// Deletes up to one chunk of messages that retention no longer keeps;
    /// returns how many. The newest message of each room always stays, so
    /// message numbers carry on after a restart.
    pub(crate) fn prune(&mut self, retention: Retention, now_ms: u64) -> rusqlite::Result<u64> {
        let mut deleted = 0;
        if let Some(days) = retention.max_age_days {
            let cutoff = now_ms.saturating_sub(days.saturating_mul(86_400_000));
            deleted += self.conn.execute(
                "DELETE FROM messages WHERE (room_key, seq) IN (
                     SELECT m.room_key, m.seq FROM messages m
                     WHERE m.ts_ms < ?1
                       AND m.seq < (SELECT max(seq) FROM messages n WHERE n.room_key = m.room_key)
                     LIMIT ?2)",
                params![cutoff, PRUNE_CHUNK],
            )? as u64;
        }
        if let Some(keep) = retention.max_per_room.map(|k| k.max(1)) {
            deleted += self.conn.execute(
                "DELETE FROM messages WHERE (room_key, seq) IN (
                     SELECT m.room_key, m.seq FROM messages m
                     JOIN (SELECT room_key, max(seq) AS top FROM messages GROUP BY room_key) t
                       ON t.room_key = m.room_key
                     WHERE m.seq <= t.top - ?1
                     LIMIT ?2)",
                params![keep, PRUNE_CHUNK],
            )? as u64;
        }
        Ok(deleted)
    }

    /// Messages of a room on disk (for tests and tools).
    #[cfg(test)]
    pub(crate) fn message_count(&self, room: &str) -> rusqlite::Result<u64> {
        let key = NameKey::of(room);
        self.conn.query_row("SELECT count(*) FROM messages WHERE room_key = ?1", [key.as_str()], |r| r.get(0))
    }
}

fn stored_message(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredMessage> {
    Ok(StoredMessage {
        seq: row.get(0)?,
        from: row.get::<_, String>(1)?.into(),
        text: row.get::<_, String>(2)?.into(),
        unix_ms: row.get(3)?,
    })
}

fn write(tx: &rusqlite::Transaction<'_>, record: &Record) -> rusqlite::Result<()> {
    let key = |name: &str| NameKey::of(name).as_str().to_owned();
    match record {
        Record::RoomCreated { room, unix_ms, owner } => {
            tx.prepare_cached("INSERT INTO rooms (key, name, created_ms, owner) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![key(room), room, unix_ms, owner])?;
        }
        Record::RoomVacated { room, unix_ms } => {
            tx.prepare_cached("UPDATE rooms SET vacated_ms = ?2 WHERE key = ?1")?
                .execute(params![key(room), unix_ms])?;
        }
        Record::RoomDropped { room } => {
            tx.prepare_cached("DELETE FROM messages WHERE room_key = ?1")?.execute([key(room)])?;
            tx.prepare_cached("DELETE FROM rooms WHERE key = ?1")?.execute([key(room)])?;
        }
        Record::KnownSource { account, source } => {
            tx.prepare_cached("INSERT OR IGNORE INTO known_sources (account_key, source) VALUES (?1, ?2)")?
                .execute(params![key(account), source.to_string()])?;
        }
        Record::Message { room, message: StoredMessage { seq, from, text, unix_ms } } => {
            tx.prepare_cached("INSERT INTO messages (room_key, seq, sender, text, ts_ms) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(params![key(room), seq, from, text, unix_ms])?;
        }
        Record::AccountCreated { name, hash, unix_ms } => {
            tx.prepare_cached("INSERT INTO accounts (key, name, hash, created_ms) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![key(name), name, hash.expose(), unix_ms])?;
        }
        Record::LastSeen { account, unix_ms } => {
            tx.prepare_cached("UPDATE accounts SET last_seen_ms = ?2 WHERE key = ?1")?
                .execute(params![key(account), unix_ms])?;
        }
        Record::OfflineKept { to, from, text, unix_ms } => {
            tx.prepare_cached("INSERT INTO offline (to_key, sender, text, ts_ms) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![key(to), from, text, unix_ms])?;
        }
        Record::OfflineDelivered { to } => {
            tx.prepare_cached("DELETE FROM offline WHERE to_key = ?1")?.execute([key(to)])?;
        }
        Record::Blocked { account, name } => {
            tx.prepare_cached("INSERT OR REPLACE INTO blocks (account_key, blocked_key, name) VALUES (?1, ?2, ?3)")?
                .execute(params![key(account), key(name), name])?;
        }
        Record::Unblocked { account, name } => {
            tx.prepare_cached("DELETE FROM blocks WHERE account_key = ?1 AND blocked_key = ?2")?
                .execute(params![key(account), key(name)])?;
        }
    }
    Ok(())
}
