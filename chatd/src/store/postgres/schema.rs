//! The PostgreSQL layout and its forward migrations. The table
//! `chatd_schema` holds the version in its one row; the migrations run in
//! one transaction under an advisory lock, so that of two chatds starting
//! at once on a new database one migrates and the other then finds the
//! work done, and a failure leaves the old version intact.
//!
//! The tables are SQLite's (store/schema.rs), in PostgreSQL's types: times
//! and numbers in `BIGINT`, and every key `COLLATE "C"`, so that keys
//! compare and sort by their bytes as in SQLite, whatever the database's
//! locale.

use postgres::Client;

/// Migration `i` takes a database from version `i` to `i + 1`. Public so
/// that tests can lay out a database as an older chatd left it.
pub const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the layout of SQLite's version 6. Messages and whispers lie in
    // the order they were said (`id`), which retention by age walks.
    r#"
    CREATE TABLE rooms (
        key          TEXT COLLATE "C" PRIMARY KEY,
        name         TEXT NOT NULL,
        created_ms   BIGINT NOT NULL,
        owner        TEXT,
        vacated_ms   BIGINT,
        topic        TEXT,
        topic_by     TEXT,
        topic_ms     BIGINT,
        modes        TEXT,
        join_key     TEXT,
        member_limit BIGINT
    );
    CREATE TABLE messages (
        id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        room_key TEXT COLLATE "C" NOT NULL,
        seq      BIGINT NOT NULL,
        sender   TEXT NOT NULL,
        text     TEXT NOT NULL,
        ts_ms    BIGINT NOT NULL,
        UNIQUE (room_key, seq)
    );
    CREATE TABLE accounts (
        key          TEXT COLLATE "C" PRIMARY KEY,
        name         TEXT NOT NULL,
        hash         TEXT NOT NULL,
        created_ms   BIGINT NOT NULL,
        last_seen_ms BIGINT
    );
    CREATE TABLE known_sources (
        id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_key TEXT COLLATE "C" NOT NULL,
        source      TEXT NOT NULL,
        UNIQUE (account_key, source)
    );
    CREATE TABLE offline (
        id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        to_key TEXT COLLATE "C" NOT NULL,
        sender TEXT NOT NULL,
        text   TEXT NOT NULL,
        ts_ms  BIGINT NOT NULL,
        seq    BIGINT
    );
    CREATE INDEX offline_by_recipient ON offline (to_key, id);
    CREATE TABLE blocks (
        account_key TEXT COLLATE "C" NOT NULL,
        blocked_key TEXT COLLATE "C" NOT NULL,
        name        TEXT NOT NULL,
        PRIMARY KEY (account_key, blocked_key)
    );
    CREATE TABLE whispers (
        seq       BIGINT PRIMARY KEY,
        pair_key  TEXT COLLATE "C" NOT NULL,
        sender    TEXT NOT NULL,
        recipient TEXT NOT NULL,
        text      TEXT NOT NULL,
        ts_ms     BIGINT NOT NULL
    );
    CREATE INDEX whispers_by_conversation ON whispers (pair_key, seq);
    CREATE TABLE room_bans (
        id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        room_key TEXT COLLATE "C" NOT NULL,
        mask     TEXT NOT NULL
    );
    CREATE INDEX room_bans_by_room ON room_bans (room_key, id);
    CREATE TABLE room_operators (
        id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        room_key TEXT COLLATE "C" NOT NULL,
        account  TEXT NOT NULL
    );
    CREATE INDEX room_operators_by_room ON room_operators (room_key, id);
    CREATE TABLE cloak_key (
        only_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
        key      TEXT NOT NULL
    );
    "#,
    // 1 -> 2: cluster mode. A message keeps what a node needs to show it
    // (host, notice) and who published it with which ticket, so that a
    // backfill on the publishing node hands the ticket back; the change
    // feed carries every other record from node to node. Whispers are
    // numbered per node, so two nodes may give one number alike: only a
    // conversation's own numbers must differ.
    r#"
    ALTER TABLE messages
        ADD COLUMN host   TEXT,
        ADD COLUMN notice BOOLEAN NOT NULL DEFAULT false,
        ADD COLUMN node   TEXT,
        ADD COLUMN ticket BIGINT;
    CREATE TABLE cluster_changes (
        id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        node   TEXT NOT NULL,
        record JSONB NOT NULL,
        ts_ms  BIGINT NOT NULL
    );
    ALTER TABLE whispers DROP CONSTRAINT whispers_pkey;
    ALTER TABLE whispers ADD PRIMARY KEY (pair_key, seq);
    DROP INDEX whispers_by_conversation;
    CREATE INDEX whispers_by_seq ON whispers (seq);
    "#,
    // 2 -> 3: deleted messages, as SQLite's version 7: a deleted message
    // keeps its row with its text erased and who deleted it and when; the
    // deletion is a row of its own, the room's next number, naming the
    // message it deleted (`deletes`) and who deleted it (`deleted_by`).
    r#"
    ALTER TABLE messages
        ADD COLUMN deleted_by TEXT,
        ADD COLUMN deleted_ms BIGINT,
        ADD COLUMN deletes    BIGINT;
    "#,
    // 3 -> 4: session tokens, by their id (the first 64 of their random
    // bits, as a signed integer); only a BLAKE2s hash of each token is
    // kept. Rows past `expires_ms` are deleted when their account is
    // issued another.
    r#"
    CREATE TABLE session_tokens (
        id          BIGINT PRIMARY KEY,
        account_key TEXT COLLATE "C" NOT NULL,
        hash        BYTEA NOT NULL,
        created_ms  BIGINT NOT NULL,
        expires_ms  BIGINT NOT NULL
    );
    CREATE INDEX session_tokens_by_account ON session_tokens (account_key, expires_ms);
    "#,
    // 4 -> 5: the accounts granted server operator (`chatd op grant`), besides
    // those the configuration names; by key, as typed.
    r#"
    CREATE TABLE server_operators (
        key  TEXT PRIMARY KEY,
        name TEXT NOT NULL
    );
    "#,
    // 5 -> 6: read markers, as SQLite's version 10 keeps them: one row per
    // account and target (a room's key, or `@` and the other account's
    // key), only ever moved forward, and a room's rows go with it.
    r#"
    CREATE TABLE read_markers (
        account_key TEXT COLLATE "C" NOT NULL,
        target_key  TEXT COLLATE "C" NOT NULL,
        target      TEXT NOT NULL,
        seq         BIGINT NOT NULL,
        ts_ms       BIGINT NOT NULL,
        PRIMARY KEY (account_key, target_key)
    );
    CREATE INDEX read_markers_by_target ON read_markers (target_key);
    "#,
    // 6 -> 7: always-on accounts, and the rooms each stays in while none
    // of its connections is (restored after a restart).
    r#"
    ALTER TABLE accounts ADD COLUMN always_on BOOLEAN NOT NULL DEFAULT false;
    CREATE TABLE account_rooms (
        account_key TEXT NOT NULL,
        room_key    TEXT NOT NULL,
        PRIMARY KEY (account_key, room_key)
    );
    CREATE INDEX account_rooms_by_room ON account_rooms (room_key);
    "#,
];

/// The version this build writes.
pub const CURRENT: u32 = MIGRATIONS.len() as u32;

/// The tables chatd keeps at [`CURRENT`], which `chatd check` looks for.
pub(crate) const TABLES: &[&str] = &[
    "account_rooms",
    "accounts",
    "blocks",
    "chatd_schema",
    "cloak_key",
    "cluster_changes",
    "known_sources",
    "messages",
    "offline",
    "read_markers",
    "room_bans",
    "room_operators",
    "rooms",
    "session_tokens",
    "server_operators",
    "whispers",
];

/// The advisory lock the migration transaction holds: any number, the
/// same in every chatd (the bytes of "chatdsch").
const MIGRATION_LOCK: i64 = 0x6368_6174_6473_6368;

/// Brings the database up to [`CURRENT`] and returns the version it
/// found; one newer than [`CURRENT`] (a newer chatd's) is left untouched.
pub(crate) fn migrate(client: &mut Client) -> Result<u32, postgres::Error> {
    let mut tx = client.transaction()?;
    // Taken before anything is looked at: a second chatd waits here until
    // the first has committed, then finds the version it wrote.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS chatd_schema (version INTEGER NOT NULL)")?;
    let found = match tx.query_opt("SELECT version FROM chatd_schema", &[])? {
        Some(row) => u32::try_from(row.get::<_, i32>(0)).unwrap_or(u32::MAX),
        None => {
            tx.execute("INSERT INTO chatd_schema (version) VALUES (0)", &[])?;
            0
        }
    };
    if found > CURRENT {
        return Ok(found);
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.batch_execute(sql)?;
        let next = i32::try_from(version + 1).expect("few migrations");
        tx.execute("UPDATE chatd_schema SET version = $1", &[&next])?;
        tracing::info!(from = version, to = version + 1, "migrated the PostgreSQL database");
    }
    tx.commit()?;
    Ok(found)
}
