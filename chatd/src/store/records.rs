//! Writing the engine's records, reading them back, paging history and
//! pruning old messages.

use chatcore::{
    HistoryRange, HistoryTarget, MessageKind, NameKey, PasswordHash, ReadTarget, Record, StoredMessage, TokenHash,
    TokenId,
};
use rusqlite::params;
use rusqlite::types::ValueRef;

use super::Store;
use super::backend::Page;

/// How much history the store keeps on disk. The engine's in-memory replay
/// cap is separate; this bounds the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Drop messages older than this many days.
    pub max_age_days: Option<u64>,
    /// Keep at most this many messages per room.
    pub max_per_room: Option<u64>,
    /// Keep at most this many whispers per conversation (chatd: the
    /// engine's `conversation_history_len`); older ones are deleted as each
    /// new one is written.
    pub max_per_conversation: Option<u64>,
}

/// Rows one pruning pass deletes at most, so that a large backlog never
/// holds up the commits queued behind it for long.
pub(super) const PRUNE_CHUNK: u64 = 5_000;

/// Rows a history page reads beyond its length to step over unreadable
/// ones. Bounds the work of one page in a badly damaged room; past it a
/// page is cut short (and a room of nothing but unreadable rows ends there).
const MAX_UNREADABLE_PER_PAGE: usize = 1_000;

/// Unreadable rows remembered as already logged. When full it is emptied:
/// memory stays bounded, and a row may then be logged once more.
pub(super) const MAX_LOGGED_UNREADABLE: usize = 4_096;

impl Store {
    /// Writes every record in one transaction.
    pub(crate) fn commit(&mut self, records: &[Record]) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        for record in records {
            write(&tx, record, self.whispers_kept)?;
        }
        tx.commit()
    }

    /// Everything the engine needs on start, as records in a valid restore
    /// order: rooms, the last `history_len` messages of each (at least one,
    /// so message numbers carry on), accounts, blocks, the newest whisper
    /// (so whisper numbers carry on), kept whispers, read markers.
    pub(crate) fn load(&self, history_len: usize) -> rusqlite::Result<Vec<Record>> {
        let mut records = Vec::new();
        let mut rooms = self.conn.prepare(
            "SELECT key, name, created_ms, owner, vacated_ms, topic, topic_by, topic_ms, modes, join_key, member_limit
             FROM rooms ORDER BY created_ms, key",
        )?;
        let rooms: Vec<RoomRow> = rooms
            .query_map([], |r| {
                let topic = match (r.get(5)?, r.get(6)?, r.get(7)?) {
                    (Some(text), Some(by), Some(unix_ms)) => Some((text, by, unix_ms)),
                    _ => None,
                };
                Ok(RoomRow {
                    key: r.get(0)?,
                    name: r.get(1)?,
                    created_ms: r.get(2)?,
                    owner: r.get(3)?,
                    vacated_ms: r.get(4)?,
                    topic,
                    modes: match r.get::<_, Option<String>>(8)? {
                        Some(letters) => Some((letters, r.get(9)?, r.get(10)?)),
                        None => None,
                    },
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut messages = self.conn.prepare(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE room_key = ?1 ORDER BY seq DESC LIMIT ?2"
        ))?;
        for RoomRow { key, name, created_ms, owner, vacated_ms, topic, modes } in rooms {
            let owner = owner.map(String::into_boxed_str);
            records.push(Record::RoomCreated { room: name.clone().into(), unix_ms: created_ms, owner });
            let newest = history_len.max(1) as u64;
            let mut kept: Vec<StoredMessage> = Vec::new();
            let mut rows = messages.query(params![key, newest])?;
            while let Some(row) = rows.next()? {
                match stored_message(row) {
                    Ok(message) => kept.push(message),
                    // The room's newest message carries its numbering on: a
                    // new message must not reuse its number. It is kept with
                    // what cannot be read shown as U+FFFD.
                    Err(error) if kept.is_empty() => match damaged_message(row) {
                        Some(message) => {
                            tracing::warn!(room = %name, seq = message.seq, %error,
                                "the room's newest stored message is damaged; restored with its unreadable parts replaced");
                            kept.push(message);
                        }
                        None => tracing::warn!(room = %name, seq = ?row.get_ref(0)?, %error,
                            "skipped an unreadable stored message"),
                    },
                    Err(error) => {
                        tracing::warn!(room = %name, seq = ?row.get_ref(0)?, %error, "skipped an unreadable stored message");
                    }
                }
            }
            kept.reverse();
            records.extend(kept.into_iter().map(|message| Record::Message { room: name.clone().into(), message }));
            if let Some((text, by, unix_ms)) = topic {
                let topic = Some(String::into_boxed_str(text));
                records.push(Record::TopicSet {
                    room: name.clone().into(),
                    topic,
                    by: String::into_boxed_str(by),
                    unix_ms,
                });
            }
            if let Some((letters, join_key, limit)) = modes {
                let modes = super::room_modes::read(&self.conn, &key, &letters, join_key, limit)?;
                records.push(Record::RoomModesSet { room: name.clone().into(), modes });
            }
            if let Some(unix_ms) = vacated_ms {
                records.push(Record::RoomVacated { room: name.into(), unix_ms });
            }
        }
        let mut accounts =
            self.conn.prepare("SELECT name, hash, created_ms, last_seen_ms, always_on FROM accounts ORDER BY key")?;
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
                records.push(Record::LastSeen { account: name.clone().into(), unix_ms });
            }
            if row.get::<_, bool>(4)? {
                records.push(Record::AlwaysOn { account: name.into(), on: true });
            }
        }
        // After the rooms and the accounts they name.
        let mut account_rooms = self.conn.prepare(
            "SELECT a.name, r.name FROM account_rooms m JOIN accounts a ON a.key = m.account_key \
             JOIN rooms r ON r.key = m.room_key ORDER BY m.account_key, m.room_key",
        )?;
        for membership in account_rooms.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (account, room) = membership?;
            records.push(Record::AccountRoom { account: account.into(), room: room.into(), joined: true });
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
        let mut tokens = self.conn.prepare(
            "SELECT a.name, t.id, t.hash, t.created_ms, t.expires_ms
             FROM session_tokens t JOIN accounts a ON a.key = t.account_key ORDER BY t.created_ms, t.id",
        )?;
        let mut rows = tokens.query([])?;
        while let Some(row) = rows.next()? {
            let (account, id, hash): (String, i64, Vec<u8>) = (row.get(0)?, row.get(1)?, row.get(2)?);
            // A damaged hash only logs its holder out.
            let Ok(hash) = <[u8; 32]>::try_from(hash) else {
                tracing::warn!(%account, "skipping a session token with an unreadable hash");
                continue;
            };
            records.push(Record::TokenIssued {
                account: account.into(),
                id: TokenId::new(id as u64),
                hash: TokenHash::new(hash),
                created_ms: row.get(3)?,
                expires_ms: row.get(4)?,
            });
        }
        let mut operators = self.conn.prepare("SELECT name FROM server_operators ORDER BY key")?;
        for name in operators.query_map([], |r| r.get::<_, String>(0))? {
            records.push(Record::OperatorGranted { account: name?.into() });
        }
        records.extend(self.newest_whisper()?);
        let mut offline = self.conn.prepare(
            "SELECT a.name, o.sender, o.text, o.ts_ms, o.seq FROM offline o JOIN accounts a ON a.key = o.to_key ORDER BY o.id",
        )?;
        let mut rows = offline.query([])?;
        while let Some(r) = rows.next()? {
            let kept = (|| {
                Ok::<_, rusqlite::Error>(Record::OfflineKept {
                    to: r.get::<_, String>(0)?.into(),
                    from: r.get::<_, String>(1)?.into(),
                    text: r.get::<_, String>(2)?.into(),
                    unix_ms: r.get(3)?,
                    seq: r.get(4)?,
                })
            })();
            // A kept whisper is independent of everything else: one that
            // cannot be read is skipped, not a reason to refuse to start.
            match kept {
                Ok(record) => records.push(record),
                Err(error) => tracing::warn!(%error, "skipped an unreadable kept whisper"),
            }
        }
        // Last: a marker names an account and a room (or a second account)
        // restored above. A marker of an account or conversation partner
        // no longer stored would stop the restore; none is written.
        let mut markers = self.conn.prepare(
            "SELECT a.name, m.target_key, m.target, m.seq, m.ts_ms FROM read_markers m
             JOIN accounts a ON a.key = m.account_key
             WHERE (substr(m.target_key, 1, 1) = '@' AND substr(m.target_key, 2) IN (SELECT key FROM accounts))
                OR m.target_key IN (SELECT key FROM rooms)
             ORDER BY m.account_key, m.target_key",
        )?;
        let mut rows = markers.query([])?;
        while let Some(r) = rows.next()? {
            let marker = (|| {
                Ok::<_, rusqlite::Error>(Record::ReadMarker {
                    account: r.get::<_, String>(0)?.into(),
                    target: marker_target(&r.get::<_, String>(1)?, r.get(2)?),
                    seq: r.get(3)?,
                    unix_ms: r.get(4)?,
                })
            })();
            // A marker is only a convenience: one that cannot be read is skipped.
            match marker {
                Ok(record) => records.push(record),
                Err(error) => tracing::warn!(%error, "skipped an unreadable read marker"),
            }
        }
        Ok(records)
    }

    /// The newest whisper, which whisper numbers carry on from; one that
    /// cannot be read is restored with its unreadable parts as U+FFFD, as
    /// a room's newest message is: only its number matters to the engine.
    fn newest_whisper(&self) -> rusqlite::Result<Option<Record>> {
        let mut newest = self.conn.prepare(
            "SELECT seq, sender, text, ts_ms, NULL, NULL, NULL, recipient FROM whispers ORDER BY seq DESC LIMIT 1",
        )?;
        let mut rows = newest.query([])?;
        let Some(row) = rows.next()? else { return Ok(None) };
        let read = stored_message(row).and_then(|message| Ok((message, row.get::<_, String>(7)?.into())));
        let (message, to) = match read {
            Ok(read) => read,
            Err(error) => {
                let Some(message) = damaged_message(row) else {
                    tracing::warn!(%error, "the newest stored whisper cannot be read, not even its number");
                    return Ok(None);
                };
                tracing::warn!(seq = message.seq, %error,
                    "the newest stored whisper is damaged; restored with its unreadable parts replaced");
                (message, lossy_text(row, 7))
            }
        };
        Ok(Some(Record::Whisper { to, message }))
    }

    /// Up to `limit` messages of `target` (a room, or the whispers between
    /// two accounts) numbered below `before`, newest of them. A row that
    /// cannot be read (text that is not UTF-8, a column of the wrong type)
    /// is skipped, logged once and counted in [`Page::unreadable`], so that
    /// paging goes on past it.
    ///
    /// A row is counted in the page that shows the messages around it: the
    /// reader's next page starts below the oldest message returned, so
    /// unreadable rows below that are left for it to count.
    pub(crate) fn history(&mut self, target: &HistoryTarget, before: u64, limit: usize) -> rusqlite::Result<Page> {
        self.page(target, HistoryRange::Before(before), limit)
    }

    /// Up to `limit` messages of `target` numbered above `after`, the
    /// oldest of them: a page forward, for a reader that resumes after the
    /// last message it saw. Unreadable rows are skipped and counted as in
    /// [`Store::history`], mirrored: a page counts those below its newest
    /// message, and those above it unless the next page will meet them.
    pub(crate) fn history_after(&mut self, target: &HistoryTarget, after: u64, limit: usize) -> rusqlite::Result<Page> {
        self.page(target, HistoryRange::After(after), limit)
    }

    /// A page either way: rows are read walking away from the number
    /// given, so that the page is the run of messages nearest it.
    fn page(&mut self, target: &HistoryTarget, range: HistoryRange, limit: usize) -> rusqlite::Result<Page> {
        let key = match target {
            HistoryTarget::Room(room) => NameKey::of(room).as_str().to_owned(),
            HistoryTarget::Conversation { account, with } => pair_key(account, with),
        };
        let sql = match (target, range) {
            (HistoryTarget::Room(_), HistoryRange::Before(_)) => {
                "SELECT seq, sender, text, ts_ms, deleted_by, deleted_ms, deletes FROM messages
                 WHERE room_key = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3"
            }
            (HistoryTarget::Room(_), HistoryRange::After(_)) => {
                "SELECT seq, sender, text, ts_ms, deleted_by, deleted_ms, deletes FROM messages
                 WHERE room_key = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
            }
            (HistoryTarget::Conversation { .. }, HistoryRange::Before(_)) => {
                "SELECT seq, sender, text, ts_ms, NULL, NULL, NULL FROM whispers
                 WHERE pair_key = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3"
            }
            (HistoryTarget::Conversation { .. }, HistoryRange::After(_)) => {
                "SELECT seq, sender, text, ts_ms, NULL, NULL, NULL FROM whispers
                 WHERE pair_key = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
            }
        };
        let (HistoryRange::Before(from) | HistoryRange::After(from)) = range;
        // Numbers are stored as SQLite integers: one past their range matches every row.
        let from = i64::try_from(from).unwrap_or(i64::MAX);
        let mut query = self.conn.prepare_cached(sql)?;
        let scan = limit.saturating_add(MAX_UNREADABLE_PER_PAGE);
        let mut rows = query.query(params![key, from, scan as u64])?;
        let mut page = Page::default();
        // Unreadable rows since the last readable one (beyond every message
        // so far, walking away from the number given).
        let mut beyond_last = 0;
        let mut scanned = 0;
        while page.messages.len() < limit {
            let row = match rows.next() {
                Ok(Some(row)) => row,
                Ok(None) => break,
                // A damaged page of the table: what comes after it cannot be
                // reached this way. Show what was read, and that there is a gap.
                Err(error) => {
                    match target {
                        HistoryTarget::Room(room) => {
                            tracing::error!(%error, %room, ?range, "could not read further in a room's history");
                        }
                        HistoryTarget::Conversation { .. } => tracing::error!(%error, conversation = %key, ?range,
                            "could not read further in a conversation"),
                    }
                    beyond_last += 1;
                    scanned = 0;
                    break;
                }
            };
            scanned += 1;
            match stored_message(row) {
                Ok(message) => {
                    page.unreadable += std::mem::take(&mut beyond_last);
                    page.messages.push(message);
                }
                Err(error) => {
                    beyond_last += 1;
                    let seq = row.get_ref(0).ok().and_then(|seq| seq.as_i64().ok());
                    if self.logged_unreadable.len() >= MAX_LOGGED_UNREADABLE {
                        self.logged_unreadable.clear();
                    }
                    if self.logged_unreadable.insert((key.as_str().into(), seq)) {
                        match target {
                            HistoryTarget::Room(room) => {
                                tracing::error!(%room, ?seq, %error, "skipped a stored message that cannot be read");
                            }
                            HistoryTarget::Conversation { .. } => tracing::error!(conversation = %key, ?seq, %error,
                                "skipped a stored whisper that cannot be read"),
                        }
                    }
                }
            }
        }
        // Unreadable rows beyond the last message read (below the oldest of
        // a page back, above the newest of a page forward) are this page's
        // to count unless the page was cut short with messages to show:
        // then the reader's next page starts at the last of them and meets
        // those rows again.
        let cut_short = scanned == scan && page.messages.len() < limit;
        if !cut_short || page.messages.is_empty() {
            page.unreadable += beyond_last;
        }
        if let HistoryRange::Before(_) = range {
            page.messages.reverse();
        }
        Ok(page)
    }

    /// Deletes up to one chunk of messages that retention no longer keeps;
    /// returns how many. The newest message of each room always stays, so
    /// message numbers carry on after a restart.
    pub(crate) fn prune(&mut self, retention: Retention, now_ms: u64) -> rusqlite::Result<u64> {
        let mut deleted = 0;
        if let Some(days) = retention.max_age_days {
            let cutoff = now_ms.saturating_sub(days.saturating_mul(86_400_000));
            // Rows are numbered in the order they were said: every row
            // before the oldest one that is young enough is old. Finding it
            // reads only the old rows, from the start of the table. (A row
            // said after the clock was set back waits for the rows before
            // it: a message is never deleted early, at worst late.)
            let young: i64 = self.conn.query_row(
                "SELECT coalesce(
                     (SELECT id FROM messages WHERE ts_ms >= ?1 ORDER BY id LIMIT 1),
                     (SELECT max(id) + 1 FROM messages),
                     0)",
                [cutoff],
                |row| row.get(0),
            )?;
            deleted += self.conn.execute(
                "DELETE FROM messages WHERE id IN (
                     SELECT m.id FROM messages m
                     WHERE m.id < ?1
                       AND m.seq < (SELECT max(seq) FROM messages n WHERE n.room_key = m.room_key)
                     ORDER BY m.id
                     LIMIT ?2)",
                params![young, PRUNE_CHUNK],
            )? as u64;
        }
        if let Some(keep) = retention.max_per_room.map(|k| k.max(1)) {
            deleted += self.conn.execute(
                "DELETE FROM messages WHERE id IN (
                     SELECT m.id FROM messages m
                     JOIN (SELECT room_key, max(seq) AS top FROM messages GROUP BY room_key) t
                       ON t.room_key = m.room_key
                     WHERE m.seq <= t.top - ?1
                     LIMIT ?2)",
                params![keep, PRUNE_CHUNK],
            )? as u64;
        }
        Ok(deleted)
    }

    /// Copies what the WAL holds into the database file, as far as no
    /// reader stops it (`PASSIVE`: it never waits).
    pub(crate) fn checkpoint(&mut self) -> rusqlite::Result<()> {
        let (busy, frames, copied): (i64, i64, i64) =
            self.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        tracing::debug!(busy, frames, copied, "checkpointed the database");
        Ok(())
    }

    /// Messages of a room on disk (for tests and tools).
    #[cfg(test)]
    pub(crate) fn message_count(&self, room: &str) -> rusqlite::Result<u64> {
        let key = NameKey::of(room);
        self.conn.query_row("SELECT count(*) FROM messages WHERE room_key = ?1", [key.as_str()], |r| r.get(0))
    }
}

/// The columns [`stored_message`] reads, in its order.
const MESSAGE_COLUMNS: &str = "seq, sender, text, ts_ms, deleted_by, deleted_ms, deletes";

/// A row of [`MESSAGE_COLUMNS`] (a whisper's with NULLs for the last three).
fn stored_message(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredMessage> {
    Ok(StoredMessage {
        seq: row.get(0)?,
        from: row.get::<_, String>(1)?.into(),
        text: row.get::<_, String>(2)?.into(),
        unix_ms: row.get(3)?,
        kind: message_kind(row.get(4)?, row.get(5)?, row.get(6)?),
    })
}

/// What a message row is, from its deletion columns: a deletion names the
/// message it deleted; a deleted message, who deleted it.
pub(super) fn message_kind(by: Option<String>, deleted_ms: Option<u64>, deletes: Option<u64>) -> MessageKind {
    match (by, deletes) {
        (Some(by), Some(of)) => MessageKind::Deletion { of, by: by.into() },
        (Some(by), None) => MessageKind::Deleted { by: by.into(), unix_ms: deleted_ms.unwrap_or(0) },
        (None, _) => MessageKind::Said,
    }
}

/// What can be made of a message row that [`stored_message`] cannot read:
/// text that is not UTF-8, or not text, shown with U+FFFD (control
/// characters too), a missing time as 0. `None` if even its number cannot
/// be read.
fn damaged_message(row: &rusqlite::Row<'_>) -> Option<StoredMessage> {
    let seq = u64::try_from(row.get_ref(0).ok()?.as_i64().ok()?).ok()?;
    let unix_ms = row.get_ref(3).ok().and_then(|t| t.as_i64().ok()).and_then(|t| u64::try_from(t).ok());
    let (by, deleted_ms, deletes) = (row.get(4).ok().flatten(), row.get(5).ok().flatten(), row.get(6).ok().flatten());
    Some(StoredMessage {
        seq,
        from: lossy_text(row, 1),
        text: lossy_text(row, 2),
        unix_ms: unix_ms.unwrap_or(0),
        kind: message_kind(by, deleted_ms, deletes),
    })
}

/// Column `i` of a damaged row as text, whatever it holds: what is not
/// UTF-8 (and any control character) as U+FFFD.
fn lossy_text(row: &rusqlite::Row<'_>, i: usize) -> Box<str> {
    let raw = match row.get_ref(i) {
        Ok(ValueRef::Text(bytes) | ValueRef::Blob(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        Ok(ValueRef::Integer(n)) => n.to_string(),
        Ok(ValueRef::Real(x)) => x.to_string(),
        Ok(ValueRef::Null) | Err(_) => String::new(),
    };
    raw.chars().map(|c| if c.is_control() { char::REPLACEMENT_CHARACTER } else { c }).collect()
}

/// The key of the conversation between two accounts, the same whichever
/// of them is named first: their case-folded names, the lesser first,
/// joined by a space (which no name holds).
pub(crate) fn pair_key(one: &str, other: &str) -> String {
    let (one, other) = (NameKey::of(one), NameKey::of(other));
    let (low, high) = if one <= other { (one, other) } else { (other, one) };
    format!("{} {}", low.as_str(), high.as_str())
}

/// How a read marker's target is keyed: a room's key, or `@` and the
/// other account's key for a conversation (no room name starts with `@`).
pub(crate) fn marker_key(target: &ReadTarget) -> String {
    match target {
        ReadTarget::Room(room) => NameKey::of(room).as_str().to_owned(),
        ReadTarget::Conversation(with) => format!("@{}", NameKey::of(with).as_str()),
    }
}

/// A read marker's target from its key and the name stored beside it.
pub(crate) fn marker_target(target_key: &str, target: String) -> ReadTarget {
    if target_key.starts_with('@') { ReadTarget::Conversation(target.into()) } else { ReadTarget::Room(target.into()) }
}

/// Writes one record; `whispers_kept` bounds each conversation (`None`: no bound).
fn write(tx: &rusqlite::Transaction<'_>, record: &Record, whispers_kept: Option<u64>) -> rusqlite::Result<()> {
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
        Record::TopicSet { room, topic, by, unix_ms } => {
            tx.prepare_cached("UPDATE rooms SET topic = ?2, topic_by = ?3, topic_ms = ?4 WHERE key = ?1")?
                .execute(params![key(room), topic, by, unix_ms])?;
        }
        Record::RoomModesSet { room, modes } => super::room_modes::write(tx, room, modes)?,
        Record::RoomDropped { room } => {
            super::room_modes::forget_lists(tx, &NameKey::of(room))?;
            tx.prepare_cached("DELETE FROM read_markers WHERE target_key = ?1")?.execute([key(room)])?;
            tx.prepare_cached("DELETE FROM messages WHERE room_key = ?1")?.execute([key(room)])?;
            tx.prepare_cached("DELETE FROM account_rooms WHERE room_key = ?1")?.execute([key(room)])?;
            tx.prepare_cached("DELETE FROM rooms WHERE key = ?1")?.execute([key(room)])?;
        }
        Record::KnownSource { account, source } => {
            tx.prepare_cached("INSERT OR IGNORE INTO known_sources (account_key, source) VALUES (?1, ?2)")?
                .execute(params![key(account), source.to_string()])?;
        }
        Record::Message { room, message: StoredMessage { seq, from, text, unix_ms, kind } } => {
            let (by, deleted_ms, deletes) = match kind {
                MessageKind::Said => (None, None, None),
                MessageKind::Deleted { by, unix_ms } => (Some(by), Some(unix_ms), None),
                MessageKind::Deletion { of, by } => (Some(by), None, Some(of)),
            };
            tx.prepare_cached(
                "INSERT INTO messages (room_key, seq, sender, text, ts_ms, deleted_by, deleted_ms, deletes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![key(room), seq, from, text, unix_ms, by, deleted_ms, deletes])?;
        }
        // The text is erased from the row, not hidden: what was said is
        // gone from the database (see `docs/OPERATIONS.md` on what the
        // file may still hold until SQLite reuses the space).
        Record::MessageDeleted { room, seq, from, by, unix_ms, event } => {
            tx.prepare_cached(
                "UPDATE messages SET text = '', deleted_by = ?3, deleted_ms = ?4 WHERE room_key = ?1 AND seq = ?2",
            )?
            .execute(params![key(room), seq, by, unix_ms])?;
            tx.prepare_cached(
                "INSERT INTO messages (room_key, seq, sender, text, ts_ms, deleted_by, deletes)
                 VALUES (?1, ?2, ?3, '', ?4, ?5, ?6)",
            )?
            .execute(params![key(room), event, from, unix_ms, by, seq])?;
        }
        Record::AccountCreated { name, hash, unix_ms } => {
            tx.prepare_cached("INSERT INTO accounts (key, name, hash, created_ms) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![key(name), name, hash.expose(), unix_ms])?;
        }
        Record::LastSeen { account, unix_ms } => {
            tx.prepare_cached("UPDATE accounts SET last_seen_ms = ?2 WHERE key = ?1")?
                .execute(params![key(account), unix_ms])?;
        }
        Record::Whisper { to, message: StoredMessage { seq, from, text, unix_ms, .. } } => {
            let pair = pair_key(from, to);
            tx.prepare_cached(
                "INSERT INTO whispers (seq, pair_key, sender, recipient, text, ts_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![seq, pair, from, to, text, unix_ms])?;
            // Forget what is older than the newest `kept` of this conversation
            // (none yet while it holds fewer): one short walk down its index.
            if let Some(kept) = whispers_kept {
                tx.prepare_cached(
                    "DELETE FROM whispers WHERE pair_key = ?1 AND seq < (
                         SELECT seq FROM whispers WHERE pair_key = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)",
                )?
                .execute(params![pair, kept.max(1) - 1])?;
            }
        }
        Record::OfflineKept { to, from, text, unix_ms, seq } => {
            tx.prepare_cached("INSERT INTO offline (to_key, sender, text, ts_ms, seq) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(params![key(to), from, text, unix_ms, seq])?;
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
        Record::PasswordChanged { account, hash } => {
            tx.prepare_cached("UPDATE accounts SET hash = ?2 WHERE key = ?1")?
                .execute(params![key(account), hash.expose()])?;
        }
        Record::TokenIssued { account, id, hash, created_ms, expires_ms } => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO session_tokens (id, account_key, hash, created_ms, expires_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                id.as_u64() as i64,
                key(account),
                &hash.as_bytes()[..],
                created_ms,
                expires_ms
            ])?;
            // The account's expired tokens go now: the table holds live ones and a few stale.
            tx.prepare_cached("DELETE FROM session_tokens WHERE account_key = ?1 AND expires_ms <= ?2")?
                .execute(params![key(account), created_ms])?;
        }
        Record::TokenRevoked { id, .. } => {
            tx.prepare_cached("DELETE FROM session_tokens WHERE id = ?1")?.execute([id.as_u64() as i64])?;
        }
        Record::TokensRevoked { account } => {
            tx.prepare_cached("DELETE FROM session_tokens WHERE account_key = ?1")?.execute([key(account)])?;
        }
        Record::OperatorGranted { account } => {
            tx.prepare_cached("INSERT OR REPLACE INTO server_operators (key, name) VALUES (?1, ?2)")?
                .execute(params![key(account), account])?;
        }
        Record::OperatorRevoked { account } => {
            tx.prepare_cached("DELETE FROM server_operators WHERE key = ?1")?.execute([key(account)])?;
        }
        // A marker never moves back, whichever order its records come in:
        // forward by number, then by time (an IRC time with the same number).
        Record::ReadMarker { account, target, seq, unix_ms } => {
            tx.prepare_cached(
                "INSERT INTO read_markers (account_key, target_key, target, seq, ts_ms) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (account_key, target_key) DO UPDATE SET seq = excluded.seq, ts_ms = excluded.ts_ms
                 WHERE (excluded.seq, excluded.ts_ms) > (read_markers.seq, read_markers.ts_ms)",
            )?
            .execute(params![key(account), marker_key(target), target.name(), seq, unix_ms])?;
        }
        Record::AlwaysOn { account, on } => {
            tx.prepare_cached("UPDATE accounts SET always_on = ?2 WHERE key = ?1")?
                .execute(params![key(account), on])?;
        }
        Record::AccountRoom { account, room, joined: true } => {
            tx.prepare_cached("INSERT OR IGNORE INTO account_rooms (account_key, room_key) VALUES (?1, ?2)")?
                .execute(params![key(account), key(room)])?;
        }
        Record::AccountRoom { account, room, joined: false } => {
            tx.prepare_cached("DELETE FROM account_rooms WHERE account_key = ?1 AND room_key = ?2")?
                .execute(params![key(account), key(room)])?;
        }
    }
    Ok(())
}

/// One row of the rooms table, as loaded at start.
struct RoomRow {
    key: String,
    name: String,
    created_ms: u64,
    owner: Option<String>,
    vacated_ms: Option<u64>,
    /// Text, who set it, when.
    topic: Option<(String, String, u64)>,
    /// Its flags' letters, key and limit, once its modes were ever set.
    modes: Option<(String, Option<String>, Option<u32>)>,
}
