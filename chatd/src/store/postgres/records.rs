//! The engine's records in PostgreSQL: writing them, reading them back on
//! start, paging history and pruning, as the SQLite store does it
//! (store/records.rs) and with the same results.
//!
//! PostgreSQL checks every value against its column's type, and text for
//! valid UTF-8, as it is written: a row cannot hold the wrong type or
//! broken text as a damaged SQLite file can. What can still be unreadable
//! is a number out of chatd's range (a negative `seq`, written by hand);
//! such a row is skipped and counted, as in SQLite.

use chatcore::{
    HistoryRange, HistoryTarget, MessageKind, NameKey, PasswordHash, Record, StoredMessage, TokenHash, TokenId,
};
use postgres::Row;

use super::super::backend::Page;
use super::super::records::{PRUNE_CHUNK, marker_key, marker_target, message_kind, pair_key};
use super::super::{Retention, room_modes};
use super::Connection;

/// A number as a `BIGINT`: chatd's numbers and times are far below its
/// top, which a larger one is kept as.
pub(super) fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn key(name: &str) -> String {
    NameKey::of(name).as_str().to_owned()
}

/// Whether another writer may have written the same rows: what a record
/// meets that is already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Writers {
    /// This chatd alone writes the database: a row already there is a
    /// fault, and fails the commit, as in SQLite.
    One,
    /// Cluster mode: every node applies the others' records too, and may
    /// create the same room or account, or number a whisper alike, at the
    /// same moment. A row already there is kept as it is (the first
    /// writer's), and a room's modes are written under its row lock, so
    /// nothing another node writes can fail this node's commit; the
    /// storage thread would retry a failing one for ever.
    Many,
}

/// Writes every record, in order, inside the caller's transaction. A run of
/// room messages is one statement (`UNNEST` of their columns): a group
/// commit of 64 rows then costs one round trip, not 64 (benches/README.md).
pub(super) fn write_all(
    conn: &mut Connection,
    records: &[Record],
    whispers_kept: Option<u64>,
    writers: Writers,
) -> Result<(), postgres::Error> {
    let mut rest = records;
    while let Some(first) = rest.first() {
        let run = rest.iter().take_while(|record| matches!(record, Record::Message { .. })).count();
        if run > 1 {
            insert_messages(conn, &rest[..run], writers)?;
            rest = &rest[run..];
        } else {
            write(conn, first, whispers_kept, writers)?;
            rest = &rest[1..];
        }
    }
    Ok(())
}

/// `one` for a single chatd, `many` in a cluster.
fn by(writers: Writers, one: &'static str, many: &'static str) -> &'static str {
    match writers {
        Writers::One => one,
        Writers::Many => many,
    }
}

fn insert_messages(conn: &mut Connection, messages: &[Record], writers: Writers) -> Result<(), postgres::Error> {
    let (mut rooms, mut seqs, mut senders, mut texts, mut times) = (vec![], vec![], vec![], vec![], vec![]);
    let (mut deleted_by, mut deleted_ms, mut deletes) = (vec![], vec![], vec![]);
    for record in messages {
        if let Record::Message { room, message } = record {
            rooms.push(key(room));
            seqs.push(int(message.seq));
            senders.push(&*message.from);
            texts.push(&*message.text);
            times.push(int(message.unix_ms));
            let (by, when, of) = match &message.kind {
                MessageKind::Said => (None, None, None),
                MessageKind::Deleted { by, unix_ms } => (Some(&**by), Some(int(*unix_ms)), None),
                MessageKind::Deletion { of, by } => (Some(&**by), None, Some(int(*of))),
            };
            deleted_by.push(by);
            deleted_ms.push(when);
            deletes.push(of);
        }
    }
    let sql = by(
        writers,
        "INSERT INTO messages (room_key, seq, sender, text, ts_ms, deleted_by, deleted_ms, deletes)
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[],
                              $6::text[], $7::bigint[], $8::bigint[])",
        "INSERT INTO messages (room_key, seq, sender, text, ts_ms, deleted_by, deleted_ms, deletes)
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[],
                              $6::text[], $7::bigint[], $8::bigint[])
         ON CONFLICT DO NOTHING",
    );
    conn.execute(sql, &[&rooms, &seqs, &senders, &texts, &times, &deleted_by, &deleted_ms, &deletes])?;
    Ok(())
}

/// Writes one record; `whispers_kept` bounds each conversation (`None`: no bound).
fn write(
    conn: &mut Connection,
    record: &Record,
    whispers_kept: Option<u64>,
    writers: Writers,
) -> Result<(), postgres::Error> {
    match record {
        Record::RoomCreated { room, unix_ms, owner } => {
            let owner = owner.as_deref();
            let sql = by(
                writers,
                "INSERT INTO rooms (key, name, created_ms, owner) VALUES ($1, $2, $3, $4)",
                "INSERT INTO rooms (key, name, created_ms, owner) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            );
            conn.execute(sql, &[&key(room), &&**room, &int(*unix_ms), &owner])?;
        }
        Record::RoomVacated { room, unix_ms } => {
            conn.execute("UPDATE rooms SET vacated_ms = $2 WHERE key = $1", &[&key(room), &int(*unix_ms)])?;
        }
        Record::TopicSet { room, topic, by, unix_ms } => {
            conn.execute(
                "UPDATE rooms SET topic = $2, topic_by = $3, topic_ms = $4 WHERE key = $1",
                &[&key(room), &topic.as_deref(), &&**by, &int(*unix_ms)],
            )?;
        }
        Record::RoomModesSet { room, modes } => {
            let room = key(room);
            // Two nodes replacing one room's lists at once would each keep
            // what the other inserted: the room's row lock makes them take
            // turns. A room that is gone has no lists to write.
            if writers == Writers::Many
                && conn.query("SELECT 1 FROM rooms WHERE key = $1 FOR UPDATE", &[&room])?.is_empty()
            {
                return Ok(());
            }
            let limit = modes.limit.map(i64::from);
            conn.execute(
                "UPDATE rooms SET modes = $2, join_key = $3, member_limit = $4 WHERE key = $1",
                &[&room, &room_modes::letters(modes), &modes.key.as_deref(), &limit],
            )?;
            forget_lists(conn, &room)?;
            for mask in &modes.bans {
                conn.execute("INSERT INTO room_bans (room_key, mask) VALUES ($1, $2)", &[&room, &&**mask])?;
            }
            for account in &modes.operators {
                conn.execute("INSERT INTO room_operators (room_key, account) VALUES ($1, $2)", &[&room, &&**account])?;
            }
        }
        Record::RoomDropped { room } => {
            let room = key(room);
            // The room's row first: in a cluster, a node numbering a
            // message in it holds the row's lock, and this waits for that
            // message to commit, so that the next statement deletes it too.
            conn.execute("DELETE FROM rooms WHERE key = $1", &[&room])?;
            forget_lists(conn, &room)?;
            conn.execute("DELETE FROM read_markers WHERE target_key = $1", &[&room])?;
            conn.execute("DELETE FROM messages WHERE room_key = $1", &[&room])?;
            conn.execute("DELETE FROM account_rooms WHERE room_key = $1", &[&room])?;
        }
        Record::KnownSource { account, source } => {
            conn.execute(
                "INSERT INTO known_sources (account_key, source) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&key(account), &source.to_string()],
            )?;
        }
        Record::Message { .. } => insert_messages(conn, std::slice::from_ref(record), writers)?,
        // The text is erased from the row, not hidden.
        Record::MessageDeleted { room, seq, from, by: deleter, unix_ms, event } => {
            let room = key(room);
            conn.execute(
                "UPDATE messages SET text = '', deleted_by = $3, deleted_ms = $4 WHERE room_key = $1 AND seq = $2",
                &[&room, &int(*seq), &&**deleter, &int(*unix_ms)],
            )?;
            let sql = by(
                writers,
                "INSERT INTO messages (room_key, seq, sender, text, ts_ms, deleted_by, deletes)
                 VALUES ($1, $2, $3, '', $4, $5, $6)",
                "INSERT INTO messages (room_key, seq, sender, text, ts_ms, deleted_by, deletes)
                 VALUES ($1, $2, $3, '', $4, $5, $6) ON CONFLICT DO NOTHING",
            );
            conn.execute(sql, &[&room, &int(*event), &&**from, &int(*unix_ms), &&**deleter, &int(*seq)])?;
        }
        Record::AccountCreated { name, hash, unix_ms } => {
            let sql = by(
                writers,
                "INSERT INTO accounts (key, name, hash, created_ms) VALUES ($1, $2, $3, $4)",
                "INSERT INTO accounts (key, name, hash, created_ms) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            );
            conn.execute(sql, &[&key(name), &&**name, &hash.expose(), &int(*unix_ms)])?;
        }
        Record::LastSeen { account, unix_ms } => {
            conn.execute("UPDATE accounts SET last_seen_ms = $2 WHERE key = $1", &[&key(account), &int(*unix_ms)])?;
        }
        Record::Whisper { to, message: StoredMessage { seq, from, text, unix_ms, .. } } => {
            let pair = pair_key(from, to);
            let sql = by(
                writers,
                "INSERT INTO whispers (seq, pair_key, sender, recipient, text, ts_ms) VALUES ($1, $2, $3, $4, $5, $6)",
                "INSERT INTO whispers (seq, pair_key, sender, recipient, text, ts_ms) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT DO NOTHING",
            );
            conn.execute(sql, &[&int(*seq), &pair, &&**from, &&**to, &&**text, &int(*unix_ms)])?;
            // Forget what is older than the newest `kept` of this conversation.
            if let Some(kept) = whispers_kept {
                conn.execute(
                    "DELETE FROM whispers WHERE pair_key = $1 AND seq < (
                         SELECT seq FROM whispers WHERE pair_key = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2)",
                    &[&pair, &int(kept.max(1) - 1)],
                )?;
            }
        }
        Record::OfflineKept { to, from, text, unix_ms, seq } => {
            conn.execute(
                "INSERT INTO offline (to_key, sender, text, ts_ms, seq) VALUES ($1, $2, $3, $4, $5)",
                &[&key(to), &&**from, &&**text, &int(*unix_ms), &seq.map(int)],
            )?;
        }
        Record::OfflineDelivered { to } => {
            conn.execute("DELETE FROM offline WHERE to_key = $1", &[&key(to)])?;
        }
        Record::Blocked { account, name } => {
            conn.execute(
                "INSERT INTO blocks (account_key, blocked_key, name) VALUES ($1, $2, $3)
                 ON CONFLICT (account_key, blocked_key) DO UPDATE SET name = excluded.name",
                &[&key(account), &key(name), &&**name],
            )?;
        }
        Record::Unblocked { account, name } => {
            conn.execute(
                "DELETE FROM blocks WHERE account_key = $1 AND blocked_key = $2",
                &[&key(account), &key(name)],
            )?;
        }
        Record::PasswordChanged { account, hash } => {
            conn.execute("UPDATE accounts SET hash = $2 WHERE key = $1", &[&key(account), &hash.expose()])?;
        }
        Record::TokenIssued { account, id, hash, created_ms, expires_ms } => {
            conn.execute(
                "INSERT INTO session_tokens (id, account_key, hash, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET account_key = excluded.account_key, hash = excluded.hash,
                     created_ms = excluded.created_ms, expires_ms = excluded.expires_ms",
                &[&(id.as_u64() as i64), &key(account), &&hash.as_bytes()[..], &int(*created_ms), &int(*expires_ms)],
            )?;
            // The account's expired tokens go now: the table holds live ones and a few stale.
            conn.execute(
                "DELETE FROM session_tokens WHERE account_key = $1 AND expires_ms <= $2",
                &[&key(account), &int(*created_ms)],
            )?;
        }
        Record::TokenRevoked { id, .. } => {
            conn.execute("DELETE FROM session_tokens WHERE id = $1", &[&(id.as_u64() as i64)])?;
        }
        Record::TokensRevoked { account } => {
            conn.execute("DELETE FROM session_tokens WHERE account_key = $1", &[&key(account)])?;
        }
        Record::OperatorGranted { account } => {
            conn.execute(
                "INSERT INTO server_operators (key, name) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET name = excluded.name",
                &[&key(account), &&**account],
            )?;
        }
        Record::OperatorRevoked { account } => {
            conn.execute("DELETE FROM server_operators WHERE key = $1", &[&key(account)])?;
        }
        // A marker never moves back, whichever node's record comes first.
        Record::ReadMarker { account, target, seq, unix_ms } => {
            conn.execute(
                "INSERT INTO read_markers (account_key, target_key, target, seq, ts_ms) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (account_key, target_key) DO UPDATE SET seq = excluded.seq, ts_ms = excluded.ts_ms
                 WHERE (excluded.seq, excluded.ts_ms) > (read_markers.seq, read_markers.ts_ms)",
                &[&key(account), &marker_key(target), &target.name(), &int(*seq), &int(*unix_ms)],
            )?;
        }
        Record::AlwaysOn { account, on } => {
            conn.execute("UPDATE accounts SET always_on = $2 WHERE key = $1", &[&key(account), on])?;
        }
        Record::AccountRoom { account, room, joined: true } => {
            conn.execute(
                "INSERT INTO account_rooms (account_key, room_key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&key(account), &key(room)],
            )?;
        }
        Record::AccountRoom { account, room, joined: false } => {
            conn.execute(
                "DELETE FROM account_rooms WHERE account_key = $1 AND room_key = $2",
                &[&key(account), &key(room)],
            )?;
        }
    }
    Ok(())
}

/// Deletes a room's bans and operators (its row holds the rest).
fn forget_lists(conn: &mut Connection, room: &String) -> Result<(), postgres::Error> {
    conn.execute("DELETE FROM room_bans WHERE room_key = $1", &[room])?;
    conn.execute("DELETE FROM room_operators WHERE room_key = $1", &[room])?;
    Ok(())
}

/// A message row (`seq, sender, text, ts_ms`), or `None` if a number in it
/// is out of chatd's range.
pub(super) fn stored_message(row: &Row) -> Option<StoredMessage> {
    Some(StoredMessage {
        seq: u64::try_from(row.get::<_, i64>(0)).ok()?,
        from: row.get::<_, String>(1).into(),
        text: row.get::<_, String>(2).into(),
        unix_ms: u64::try_from(row.get::<_, i64>(3)).ok()?,
        kind: MessageKind::Said,
    })
}

/// A room's message row, [`stored_message`]'s columns then `deleted_by,
/// deleted_ms, deletes`: a message as said, deleted, or a deletion.
pub(super) fn room_message(row: &Row) -> Option<StoredMessage> {
    let deletes = row.get::<_, Option<i64>>(6).map(u64::try_from).transpose().ok()?;
    let kind = message_kind(row.get(4), number(row.get(5)), deletes);
    Some(StoredMessage { kind, ..stored_message(row)? })
}

/// A number read back: out of range (negative, written by hand) as 0.
fn number(n: Option<i64>) -> Option<u64> {
    n.map(|n| u64::try_from(n).unwrap_or(0))
}

/// What the engine needs on start, in the order the SQLite store gives it.
pub(super) fn load(conn: &mut Connection, history_len: usize) -> Result<Vec<Record>, postgres::Error> {
    let mut records = Vec::new();
    let rooms = conn.query(
        "SELECT key, name, created_ms, owner, vacated_ms, topic, topic_by, topic_ms, modes, join_key, member_limit
         FROM rooms ORDER BY created_ms, key",
        &[],
    )?;
    let newest = int(history_len.max(1) as u64);
    for row in rooms {
        let (room_key, name): (String, String) = (row.get(0), row.get(1));
        let owner: Option<String> = row.get(3);
        let created_ms = number(Some(row.get(2))).unwrap_or(0);
        records.push(Record::RoomCreated {
            room: name.as_str().into(),
            unix_ms: created_ms,
            owner: owner.map(Into::into),
        });
        let messages = conn.query(
            "SELECT seq, sender, text, ts_ms, deleted_by, deleted_ms, deletes FROM messages
             WHERE room_key = $1 ORDER BY seq DESC LIMIT $2",
            &[&room_key, &newest],
        )?;
        let mut kept: Vec<StoredMessage> = Vec::new();
        for (i, row) in messages.iter().enumerate() {
            match room_message(row) {
                Some(message) => kept.push(message),
                // The room's newest message carries its numbering on: kept
                // with its time as 0, as long as its number can be read.
                None if i == 0 => match u64::try_from(row.get::<_, i64>(0)) {
                    Ok(seq) => {
                        tracing::warn!(room = %name, seq, "the room's newest stored message is damaged; restored with time 0");
                        let (from, text) = (row.get::<_, String>(1).into(), row.get::<_, String>(2).into());
                        kept.push(StoredMessage { seq, from, text, unix_ms: 0, kind: chatcore::MessageKind::Said });
                    }
                    Err(_) => tracing::warn!(room = %name, "skipped a stored message numbered out of range"),
                },
                None => tracing::warn!(room = %name, "skipped a stored message with a number out of range"),
            }
        }
        kept.reverse();
        records.extend(kept.into_iter().map(|message| Record::Message { room: name.as_str().into(), message }));
        if let (Some(text), Some(by), Some(unix_ms)) =
            (row.get::<_, Option<String>>(5), row.get::<_, Option<String>>(6), number(row.get(7)))
        {
            let topic = Some(text.into_boxed_str());
            records.push(Record::TopicSet { room: name.as_str().into(), topic, by: by.into(), unix_ms });
        }
        if let Some(letters) = row.get::<_, Option<String>>(8) {
            let limit = row.get::<_, Option<i64>>(10).and_then(|limit| u32::try_from(limit).ok());
            let list = |rows: Vec<Row>| rows.iter().map(|row| row.get::<_, String>(0).into_boxed_str()).collect();
            let bans = list(conn.query("SELECT mask FROM room_bans WHERE room_key = $1 ORDER BY id", &[&room_key])?);
            let operators =
                list(conn.query("SELECT account FROM room_operators WHERE room_key = $1 ORDER BY id", &[&room_key])?);
            let modes = room_modes::from_letters(&letters, row.get::<_, Option<String>>(9), limit, bans, operators);
            records.push(Record::RoomModesSet { room: name.as_str().into(), modes });
        }
        if let Some(unix_ms) = number(row.get(4)) {
            records.push(Record::RoomVacated { room: name.into(), unix_ms });
        }
    }
    for row in conn.query("SELECT name, hash, created_ms, last_seen_ms, always_on FROM accounts ORDER BY key", &[])? {
        let name: String = row.get(0);
        let hash: String = row.get(1);
        let unix_ms = number(Some(row.get(2))).unwrap_or(0);
        records.push(Record::AccountCreated { name: name.as_str().into(), hash: PasswordHash::new(hash), unix_ms });
        if let Some(unix_ms) = number(row.get(3)) {
            records.push(Record::LastSeen { account: name.as_str().into(), unix_ms });
        }
        if row.get::<_, bool>(4) {
            records.push(Record::AlwaysOn { account: name.into(), on: true });
        }
    }
    // After the rooms and the accounts they name.
    let account_rooms = conn.query(
        "SELECT a.name, r.name FROM account_rooms m JOIN accounts a ON a.key = m.account_key
         JOIN rooms r ON r.key = m.room_key ORDER BY m.account_key, m.room_key",
        &[],
    )?;
    for row in account_rooms {
        let (account, room): (String, String) = (row.get(0), row.get(1));
        records.push(Record::AccountRoom { account: account.into(), room: room.into(), joined: true });
    }
    let sources = conn.query(
        "SELECT a.name, k.source FROM known_sources k JOIN accounts a ON a.key = k.account_key ORDER BY k.id",
        &[],
    )?;
    for row in sources {
        let (account, source): (String, String) = (row.get(0), row.get(1));
        match source.parse() {
            Ok(source) => records.push(Record::KnownSource { account: account.into(), source }),
            Err(_) => tracing::warn!(%account, %source, "skipping an unreadable known source"),
        }
    }
    let blocks = conn.query(
        "SELECT a.name, b.name FROM blocks b JOIN accounts a ON a.key = b.account_key ORDER BY a.key, b.blocked_key",
        &[],
    )?;
    for row in blocks {
        records.push(Record::Blocked { account: row.get::<_, String>(0).into(), name: row.get::<_, String>(1).into() });
    }
    let tokens = conn.query(
        "SELECT a.name, t.id, t.hash, t.created_ms, t.expires_ms
         FROM session_tokens t JOIN accounts a ON a.key = t.account_key ORDER BY t.created_ms, t.id",
        &[],
    )?;
    for row in tokens {
        let (account, id, hash): (String, i64, Vec<u8>) = (row.get(0), row.get(1), row.get(2));
        // A damaged hash only logs its holder out.
        let Ok(hash) = <[u8; 32]>::try_from(hash) else {
            tracing::warn!(%account, "skipping a session token with an unreadable hash");
            continue;
        };
        let (created_ms, expires_ms) = (number(Some(row.get(3))).unwrap_or(0), number(Some(row.get(4))).unwrap_or(0));
        records.push(Record::TokenIssued {
            account: account.into(),
            id: TokenId::new(id as u64),
            hash: TokenHash::new(hash),
            created_ms,
            expires_ms,
        });
    }
    for row in conn.query("SELECT name FROM server_operators ORDER BY key", &[])? {
        records.push(Record::OperatorGranted { account: row.get::<_, String>(0).into() });
    }
    let newest_whisper =
        conn.query("SELECT seq, sender, text, ts_ms, recipient FROM whispers ORDER BY seq DESC LIMIT 1", &[])?;
    if let Some(row) = newest_whisper.first() {
        match stored_message(row) {
            Some(message) => records.push(Record::Whisper { to: row.get::<_, String>(4).into(), message }),
            None => tracing::warn!("the newest stored whisper has a number out of range; whisper numbers start over"),
        }
    }
    let offline = conn.query(
        "SELECT a.name, o.sender, o.text, o.ts_ms, o.seq FROM offline o JOIN accounts a ON a.key = o.to_key ORDER BY o.id",
        &[],
    )?;
    for row in offline {
        records.push(Record::OfflineKept {
            to: row.get::<_, String>(0).into(),
            from: row.get::<_, String>(1).into(),
            text: row.get::<_, String>(2).into(),
            unix_ms: number(Some(row.get(3))).unwrap_or(0),
            seq: number(row.get(4)),
        });
    }
    // Last, and only those whose account and room (or other account) were
    // restored above: a marker is never a reason to refuse to start.
    let markers = conn.query(
        "SELECT a.name, m.target_key, m.target, m.seq, m.ts_ms FROM read_markers m
         JOIN accounts a ON a.key = m.account_key
         WHERE (left(m.target_key, 1) = '@' AND substr(m.target_key, 2) IN (SELECT key FROM accounts))
            OR m.target_key IN (SELECT key FROM rooms)
         ORDER BY m.account_key, m.target_key",
        &[],
    )?;
    for row in markers {
        let (Some(seq), Some(unix_ms)) = (number(Some(row.get(3))), number(Some(row.get(4)))) else {
            tracing::warn!("skipped a read marker with a number out of range");
            continue;
        };
        let target = marker_target(&row.get::<_, String>(1), row.get(2));
        records.push(Record::ReadMarker { account: row.get::<_, String>(0).into(), target, seq, unix_ms });
    }
    Ok(records)
}

/// The page of `target` that `range` names, up to `limit` messages (the
/// newest below a number, or the oldest above one), oldest first; a row
/// whose numbers are out of range is skipped and counted.
pub(super) fn history(
    conn: &mut Connection,
    target: &HistoryTarget,
    range: HistoryRange,
    limit: usize,
) -> Result<Page, postgres::Error> {
    let (HistoryRange::Before(from) | HistoryRange::After(from)) = range;
    let (from, limit) = (int(from), int(limit as u64));
    let sql = match (target, range) {
        (HistoryTarget::Room(_), HistoryRange::Before(_)) => {
            "SELECT seq, sender, text, ts_ms, deleted_by, deleted_ms, deletes FROM messages
             WHERE room_key = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
        }
        (HistoryTarget::Room(_), HistoryRange::After(_)) => {
            "SELECT seq, sender, text, ts_ms, deleted_by, deleted_ms, deletes FROM messages
             WHERE room_key = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        }
        (HistoryTarget::Conversation { .. }, HistoryRange::Before(_)) => {
            "SELECT seq, sender, text, ts_ms FROM whispers WHERE pair_key = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
        }
        (HistoryTarget::Conversation { .. }, HistoryRange::After(_)) => {
            "SELECT seq, sender, text, ts_ms FROM whispers WHERE pair_key = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        }
    };
    let of = match target {
        HistoryTarget::Room(room) => key(room),
        HistoryTarget::Conversation { account, with } => pair_key(account, with),
    };
    let mut rows = conn.query(sql, &[&of, &from, &limit])?;
    if let HistoryRange::Before(_) = range {
        rows.reverse();
    }
    let mut page = Page::default();
    let read = match target {
        HistoryTarget::Room(_) => room_message,
        HistoryTarget::Conversation { .. } => stored_message,
    };
    for row in &rows {
        match read(row) {
            Some(message) => page.messages.push(message),
            None => page.unreadable += 1,
        }
    }
    Ok(page)
}

/// Deletes up to one chunk of messages that retention no longer keeps, by
/// the same rules and queries as the SQLite store.
pub(super) fn prune(conn: &mut Connection, retention: Retention, now_ms: u64) -> Result<u64, postgres::Error> {
    let mut deleted = 0;
    let chunk = int(PRUNE_CHUNK);
    if let Some(days) = retention.max_age_days {
        let cutoff = int(now_ms.saturating_sub(days.saturating_mul(86_400_000)));
        // Rows lie in the order they were said: every row before the
        // oldest one young enough is old (see the SQLite store).
        deleted += conn.execute(
            "DELETE FROM messages WHERE id IN (
                 SELECT m.id FROM messages m
                 WHERE m.id < coalesce(
                         (SELECT id FROM messages WHERE ts_ms >= $1 ORDER BY id LIMIT 1),
                         (SELECT max(id) + 1 FROM messages),
                         0)
                   AND m.seq < (SELECT max(seq) FROM messages n WHERE n.room_key = m.room_key)
                 ORDER BY m.id
                 LIMIT $2)",
            &[&cutoff, &chunk],
        )?;
    }
    if let Some(keep) = retention.max_per_room.map(|k| k.max(1)) {
        deleted += conn.execute(
            "DELETE FROM messages WHERE id IN (
                 SELECT m.id FROM messages m
                 JOIN (SELECT room_key, max(seq) AS top FROM messages GROUP BY room_key) t
                   ON t.room_key = m.room_key
                 WHERE m.seq <= t.top - $1
                 LIMIT $2)",
            &[&int(keep), &chunk],
        )?;
    }
    Ok(deleted)
}
