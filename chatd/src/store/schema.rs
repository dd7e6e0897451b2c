//! The database layout and its forward migrations. `PRAGMA user_version`
//! holds the version; each migration moves it up by one inside a
//! transaction, so a crash mid-migration leaves the old version intact.

use rusqlite::Connection;

use super::StoreError;

/// Migration `i` takes a database from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the first layout. Names are stored as typed and keyed by
    // their case-folded form (chatcore's `NameKey`), as the engine compares them.
    "
    CREATE TABLE rooms (
        key        TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE messages (
        room_key TEXT NOT NULL,
        seq      INTEGER NOT NULL,
        sender   TEXT NOT NULL,
        text     TEXT NOT NULL,
        ts_ms    INTEGER NOT NULL,
        PRIMARY KEY (room_key, seq)
    ) WITHOUT ROWID;
    CREATE INDEX messages_by_time ON messages (ts_ms);
    CREATE TABLE accounts (
        key          TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        hash         TEXT NOT NULL,
        created_ms   INTEGER NOT NULL,
        last_seen_ms INTEGER
    ) WITHOUT ROWID;
    CREATE TABLE offline (
        id     INTEGER PRIMARY KEY AUTOINCREMENT,
        to_key TEXT NOT NULL,
        sender TEXT NOT NULL,
        text   TEXT NOT NULL,
        ts_ms  INTEGER NOT NULL
    );
    CREATE INDEX offline_by_recipient ON offline (to_key, id);
    CREATE TABLE blocks (
        account_key TEXT NOT NULL,
        blocked_key TEXT NOT NULL,
        name        TEXT NOT NULL,
        PRIMARY KEY (account_key, blocked_key)
    ) WITHOUT ROWID;
    ",
    // 1 -> 2: messages in a rowid table, in the order they were said, with
    // (room, seq) as a unique index. In the WITHOUT ROWID table a row of
    // more than about 1,000 bytes (a quarter of a page) kept only its first
    // ~500 bytes in the tree and the rest on an overflow page of its own, so
    // every message of 1 to 2 KB took a whole extra 4 KiB page: 4.7 KB on
    // disk each. A rowid table keeps rows of up to ~4 KB in the page, two of
    // up to ~2 KB to a page. The index on ts_ms goes: retention by age
    // walks the table from its oldest row instead (benches/README.md).
    "
    CREATE TABLE messages_by_id (
        id       INTEGER PRIMARY KEY,
        room_key TEXT NOT NULL,
        seq      INTEGER NOT NULL,
        sender   TEXT NOT NULL,
        text     TEXT NOT NULL,
        ts_ms    INTEGER NOT NULL
    );
    INSERT INTO messages_by_id (room_key, seq, sender, text, ts_ms)
        SELECT room_key, seq, sender, text, ts_ms FROM messages ORDER BY ts_ms, room_key, seq;
    DROP TABLE messages;
    ALTER TABLE messages_by_id RENAME TO messages;
    CREATE UNIQUE INDEX messages_by_room ON messages (room_key, seq);
    ",
    // 2 -> 3: rooms have an owner (the account that created it, if any)
    // and the time their last member left, for expiry; accounts remember
    // the sources they logged in from.
    "
    ALTER TABLE rooms ADD COLUMN owner TEXT;
    ALTER TABLE rooms ADD COLUMN vacated_ms INTEGER;
    CREATE TABLE known_sources (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        account_key TEXT NOT NULL,
        source      TEXT NOT NULL,
        UNIQUE (account_key, source)
    );
    ",
    // 3 -> 4: a room's topic, who set it and when.
    "
    ALTER TABLE rooms ADD COLUMN topic TEXT;
    ALTER TABLE rooms ADD COLUMN topic_by TEXT;
    ALTER TABLE rooms ADD COLUMN topic_ms INTEGER;
    ",
    // 4 -> 5: conversations, the whispers between two accounts. A whisper's
    // number is unique across the server, so it is the rowid: rows lie in
    // the order they were said, and the newest (which numbering carries on
    // from) is found without a scan. A conversation is named by its pair
    // of account keys, the lesser first, joined by a space (no name holds
    // one): `alice bob`; pages read it by (pair_key, seq). A kept whisper
    // remembers its number in the conversation.
    "
    CREATE TABLE whispers (
        seq       INTEGER PRIMARY KEY,
        pair_key  TEXT NOT NULL,
        sender    TEXT NOT NULL,
        recipient TEXT NOT NULL,
        text      TEXT NOT NULL,
        ts_ms     INTEGER NOT NULL
    );
    CREATE INDEX whispers_by_conversation ON whispers (pair_key, seq);
    ALTER TABLE offline ADD COLUMN seq INTEGER;
    ",
    // 5 -> 6: a room's modes, so a private room stays private across a
    // restart. `modes` holds the flags that are on as IRC letters (`imnst`;
    // `n` is on unless outsiders may send); NULL: never changed, a new
    // room's defaults. Bans and the accounts made operators are lists of
    // their own, oldest first.
    "
    ALTER TABLE rooms ADD COLUMN modes TEXT;
    ALTER TABLE rooms ADD COLUMN join_key TEXT;
    ALTER TABLE rooms ADD COLUMN member_limit INTEGER;
    CREATE TABLE room_bans (
        id       INTEGER PRIMARY KEY,
        room_key TEXT NOT NULL,
        mask     TEXT NOT NULL
    );
    CREATE INDEX room_bans_by_room ON room_bans (room_key, id);
    CREATE TABLE room_operators (
        id       INTEGER PRIMARY KEY,
        room_key TEXT NOT NULL,
        account  TEXT NOT NULL
    );
    CREATE INDEX room_operators_by_room ON room_operators (room_key, id);
    ",
    // 6 -> 7: deleted messages. A deleted message keeps its row with its
    // text erased (`text` empty) and who deleted it and when; the deletion
    // is a row of its own, the room's next number, naming the message it
    // deleted (`deletes`) and who deleted it (`deleted_by`), so that a
    // reader resuming after a number learns of it. NULLs: a message as said.
    "
    ALTER TABLE messages ADD COLUMN deleted_by TEXT;
    ALTER TABLE messages ADD COLUMN deleted_ms INTEGER;
    ALTER TABLE messages ADD COLUMN deletes INTEGER;
    ",
    // 7 -> 8: session tokens, by their id (the first 64 of their random
    // bits, as a signed integer); only a BLAKE2s hash of each token is
    // kept. Rows past `expires_ms` are deleted when their account is
    // issued another.
    "
    CREATE TABLE session_tokens (
        id          INTEGER PRIMARY KEY,
        account_key TEXT NOT NULL,
        hash        BLOB NOT NULL,
        created_ms  INTEGER NOT NULL,
        expires_ms  INTEGER NOT NULL
    );
    CREATE INDEX session_tokens_by_account ON session_tokens (account_key, expires_ms);
    ",
    // 8 -> 9: the accounts granted server operator (`chatd op grant`),
    // besides those the configuration names; by key, as typed.
    "
    CREATE TABLE server_operators (
        key  TEXT PRIMARY KEY,
        name TEXT NOT NULL
    ) WITHOUT ROWID;
    ",
    // 9 -> 10: read markers, how far each account has read a room or a
    // conversation: one row per account and target, only ever moved
    // forward. `target_key` is a room's key, or `@` and the other
    // account's key for a conversation (no room name starts with `@`);
    // a room's rows go with it, found by `target_key`.
    "
    CREATE TABLE read_markers (
        account_key TEXT NOT NULL,
        target_key  TEXT NOT NULL,
        target      TEXT NOT NULL,
        seq         INTEGER NOT NULL,
        ts_ms       INTEGER NOT NULL,
        PRIMARY KEY (account_key, target_key)
    ) WITHOUT ROWID;
    CREATE INDEX read_markers_by_target ON read_markers (target_key);
    ",
    // 10 -> 11: always-on accounts, and the rooms each stays in while none
    // of its connections is (restored after a restart).
    "
    ALTER TABLE accounts ADD COLUMN always_on INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE account_rooms (
        account_key TEXT NOT NULL,
        room_key    TEXT NOT NULL,
        PRIMARY KEY (account_key, room_key)
    );
    CREATE INDEX account_rooms_by_room ON account_rooms (room_key);
    ",
];

/// The version this build writes.
pub(crate) const CURRENT: u32 = MIGRATIONS.len() as u32;

/// Brings the database up to [`CURRENT`], refusing one from a newer build.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found: u32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > CURRENT {
        return Err(StoreError::NewerSchema { found, supported: CURRENT });
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version as u32 + 1)?;
        tx.commit()?;
        tracing::info!(from = version, to = version + 1, "migrated the database");
    }
    Ok(())
}
