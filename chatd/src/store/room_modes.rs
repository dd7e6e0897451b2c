//! A room's modes on disk: its flags, key and limit in the room's row, its
//! bans and the accounts it makes operators in tables of their own.

use chatcore::{NameKey, StoredModes};
use rusqlite::{Connection, Transaction, params};

/// The flags, as the `modes` column holds them: IRC's letter for each
/// flag, and whether it is on for these modes.
fn flags(modes: &StoredModes) -> [(char, bool); 5] {
    [
        ('i', modes.invite_only),
        ('m', modes.moderated),
        ('n', !modes.external_messages),
        ('s', modes.secret),
        ('t', modes.topic_locked),
    ]
}

/// The flags that are on, as the `modes` column holds them (`imnst`).
pub(super) fn letters(modes: &StoredModes) -> String {
    flags(modes).into_iter().filter(|&(_, on)| on).map(|(letter, _)| letter).collect()
}

/// Writes `modes` as the room's whole set, replacing what it had.
pub(super) fn write(tx: &Transaction<'_>, room: &str, modes: &StoredModes) -> rusqlite::Result<()> {
    let key = NameKey::of(room);
    let letters = letters(modes);
    tx.prepare_cached("UPDATE rooms SET modes = ?2, join_key = ?3, member_limit = ?4 WHERE key = ?1")?
        .execute(params![key.as_str(), letters, modes.key, modes.limit])?;
    forget_lists(tx, &key)?;
    let mut ban = tx.prepare_cached("INSERT INTO room_bans (room_key, mask) VALUES (?1, ?2)")?;
    for mask in &modes.bans {
        ban.execute(params![key.as_str(), mask])?;
    }
    let mut operator = tx.prepare_cached("INSERT INTO room_operators (room_key, account) VALUES (?1, ?2)")?;
    for account in &modes.operators {
        operator.execute(params![key.as_str(), account])?;
    }
    Ok(())
}

/// Deletes a room's bans and operators (its row holds the rest).
pub(super) fn forget_lists(tx: &Transaction<'_>, key: &NameKey) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM room_bans WHERE room_key = ?1")?.execute([key.as_str()])?;
    tx.prepare_cached("DELETE FROM room_operators WHERE room_key = ?1")?.execute([key.as_str()])?;
    Ok(())
}

/// The room's modes from its row's `modes`, `join_key` and `member_limit`
/// and its lists.
pub(super) fn read(
    conn: &Connection,
    key: &str,
    letters: &str,
    join_key: Option<String>,
    limit: Option<u32>,
) -> rusqlite::Result<StoredModes> {
    let list = |sql: &str| -> rusqlite::Result<Vec<Box<str>>> {
        let mut query = conn.prepare_cached(sql)?;
        query.query_map([key], |row| Ok(row.get::<_, String>(0)?.into_boxed_str()))?.collect()
    };
    Ok(from_letters(
        letters,
        join_key,
        limit,
        list("SELECT mask FROM room_bans WHERE room_key = ?1 ORDER BY id")?,
        list("SELECT account FROM room_operators WHERE room_key = ?1 ORDER BY id")?,
    ))
}

/// The modes a room's `modes` letters, key, limit and lists stand for.
pub(super) fn from_letters(
    letters: &str,
    join_key: Option<String>,
    limit: Option<u32>,
    bans: Vec<Box<str>>,
    operators: Vec<Box<str>>,
) -> StoredModes {
    let on = |letter| letters.contains(letter);
    StoredModes {
        invite_only: on('i'),
        moderated: on('m'),
        secret: on('s'),
        topic_locked: on('t'),
        external_messages: !on('n'),
        key: join_key.map(String::into_boxed_str),
        limit,
        bans,
        operators,
    }
}

#[cfg(test)]
mod tests {
    use chatcore::{Record, StoredModes};

    use super::super::{Store, SyncMode, schema};

    /// A private room's modes: invitation only, with a key.
    fn private() -> StoredModes {
        StoredModes {
            invite_only: true,
            moderated: false,
            secret: true,
            topic_locked: false,
            external_messages: false,
            key: Some("sesame".into()),
            limit: None,
            bans: vec![],
            operators: vec![],
        }
    }

    #[test]
    fn a_database_from_before_modes_opens_and_its_rooms_have_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        {
            // What chatd wrote before rooms kept their modes (version 5).
            let mut conn = rusqlite::Connection::open(dir.path().join("chatd.db")).unwrap();
            let tx = conn.transaction().unwrap();
            for sql in &schema::MIGRATIONS[..5] {
                tx.execute_batch(sql).unwrap();
            }
            tx.pragma_update(None, "user_version", 5).unwrap();
            tx.execute_batch(
                "INSERT INTO rooms (key, name, created_ms, owner, vacated_ms) VALUES ('vault', 'Vault', 1, 'alice', 4);
                 INSERT INTO messages (room_key, seq, sender, text, ts_ms) VALUES ('vault', 1, 'alice', 'hi', 3);",
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let mut store = Store::open(dir.path(), SyncMode::Normal).unwrap();
        let version: u32 = store.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, schema::CURRENT);
        let loaded = store.load(100).unwrap();
        assert!(!loaded.iter().any(|r| matches!(r, Record::RoomModesSet { .. })), "{loaded:?}");
        assert_eq!(loaded.len(), 3, "{loaded:?}");
        store.commit(&[Record::RoomModesSet { room: "vault".into(), modes: private() }]).unwrap();
        let loaded = store.load(100).unwrap();
        assert!(loaded.contains(&Record::RoomModesSet { room: "Vault".into(), modes: private() }));
        assert_eq!(store.integrity_check().unwrap(), "ok");
    }
}
