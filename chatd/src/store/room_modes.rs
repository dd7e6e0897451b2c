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

/// Writes `modes` as the room's whole set, replacing what it had.
pub(super) fn write(tx: &Transaction<'_>, room: &str, modes: &StoredModes) -> rusqlite::Result<()> {
    let key = NameKey::of(room);
    let letters: String = flags(modes).into_iter().filter(|&(_, on)| on).map(|(letter, _)| letter).collect();
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
    let on = |letter| letters.contains(letter);
    let list = |sql: &str| -> rusqlite::Result<Vec<Box<str>>> {
        let mut query = conn.prepare_cached(sql)?;
        query.query_map([key], |row| Ok(row.get::<_, String>(0)?.into_boxed_str()))?.collect()
    };
    Ok(StoredModes {
        invite_only: on('i'),
        moderated: on('m'),
        secret: on('s'),
        topic_locked: on('t'),
        external_messages: !on('n'),
        key: join_key.map(String::into_boxed_str),
        limit,
        bans: list("SELECT mask FROM room_bans WHERE room_key = ?1 ORDER BY id")?,
        operators: list("SELECT account FROM room_operators WHERE room_key = ?1 ORDER BY id")?,
    })
}

#[cfg(test)]
mod tests {
    use chatcore::{Config, Engine, PasswordHash, Record, StoredMessage, StoredModes};

    use super::super::{Store, SyncMode, schema};

    fn vault_modes(bans: &[&str]) -> StoredModes {
        StoredModes {
            invite_only: true,
            moderated: true,
            secret: true,
            topic_locked: true,
            external_messages: false,
            key: Some("sesame".into()),
            limit: Some(5),
            bans: bans.iter().map(|&b| b.into()).collect(),
            operators: vec!["Bob".into()],
        }
    }

    fn said(seq: u64) -> Record {
        let message = StoredMessage { seq, from: "alice".into(), text: "the launch code is 0000".into(), unix_ms: 3 };
        Record::Message { room: "vault".into(), message }
    }

    #[test]
    fn a_rooms_modes_survive_reopening_and_each_set_replaces_the_last() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut store = Store::open(dir.path(), SyncMode::Normal).unwrap();
            store
                .commit(&[
                    Record::AccountCreated { name: "alice".into(), hash: PasswordHash::new("$argon2id$x"), unix_ms: 1 },
                    Record::AccountCreated { name: "Bob".into(), hash: PasswordHash::new("$argon2id$y"), unix_ms: 1 },
                    Record::RoomCreated { room: "vault".into(), unix_ms: 2, owner: Some("alice".into()) },
                    Record::RoomModesSet { room: "vault".into(), modes: vault_modes(&["m!*@*", "e!*@*", "x!*@*"]) },
                    said(1),
                    Record::RoomModesSet { room: "VAULT".into(), modes: vault_modes(&["x!*@*", "m!*@*"]) },
                    Record::RoomVacated { room: "vault".into(), unix_ms: 4 },
                ])
                .unwrap();
        }
        let store = Store::open(dir.path(), SyncMode::Normal).unwrap();
        let loaded = store.load(100).unwrap();
        assert_eq!(
            loaded[..4],
            [
                Record::RoomCreated { room: "vault".into(), unix_ms: 2, owner: Some("alice".into()) },
                said(1),
                Record::RoomModesSet { room: "vault".into(), modes: vault_modes(&["x!*@*", "m!*@*"]) },
                Record::RoomVacated { room: "vault".into(), unix_ms: 4 },
            ]
        );
        // Outsiders may send once `-n` is set; every flag reads back as written.
        let open = StoredModes {
            invite_only: false,
            moderated: false,
            secret: false,
            topic_locked: false,
            external_messages: true,
            key: None,
            limit: None,
            bans: vec![],
            operators: vec![],
        };
        let mut store = store;
        store.commit(&[Record::RoomModesSet { room: "vault".into(), modes: open.clone() }]).unwrap();
        let loaded = store.load(100).unwrap();
        assert!(loaded.contains(&Record::RoomModesSet { room: "vault".into(), modes: open }), "{loaded:?}");
        Engine::restore(Config::default(), loaded).unwrap();
    }

    #[test]
    fn a_dropped_room_takes_its_modes_and_lists() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), SyncMode::Normal).unwrap();
        store
            .commit(&[
                Record::RoomCreated { room: "den".into(), unix_ms: 1, owner: None },
                Record::RoomModesSet { room: "den".into(), modes: vault_modes(&["m!*@*"]) },
                said(1),
                Record::RoomDropped { room: "den".into() },
                Record::RoomCreated { room: "den".into(), unix_ms: 2, owner: None },
            ])
            .unwrap();
        assert_eq!(store.load(100).unwrap(), [Record::RoomCreated { room: "den".into(), unix_ms: 2, owner: None }]);
        let rows: u64 = store
            .conn
            .query_row("SELECT (SELECT count(*) FROM room_bans) + (SELECT count(*) FROM room_operators)", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(rows, 0);
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
        store.commit(&[Record::RoomModesSet { room: "vault".into(), modes: vault_modes(&[]) }]).unwrap();
        let loaded = store.load(100).unwrap();
        assert!(loaded.contains(&Record::RoomModesSet { room: "Vault".into(), modes: vault_modes(&[]) }));
        assert_eq!(store.integrity_check().unwrap(), "ok");
    }
}
