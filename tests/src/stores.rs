//! The places a store test runs in: an SQLite data directory and a
//! PostgreSQL database, each of the test's own, behind one trait, so that
//! the store suite (`tests/store_suite.rs`) is one body of tests run
//! against both.
//!
//! Each place also runs SQL with a connection of its own (not the
//! store's), as an operator's client would: to damage a row as a test
//! needs, or to count what is on disk.

use std::path::Path;

use chatd::store::{Backend, DatabaseUrl, PgStore, Store, SyncMode};

use crate::outside::POSTGRES;
use crate::services::TestDatabase;

/// Where a store lives; opened as often as a test likes, one store at a
/// time (an SQLite directory admits one chatd).
pub trait Place {
    /// Opens the store, as chatd does at start.
    fn open(&self) -> Box<dyn Backend>;

    /// Runs `statement` on the database with a connection of its own.
    fn sql(&self, statement: &str);

    /// The rows of `table`, which may be followed by a `WHERE` clause.
    fn count(&self, table: &str) -> u64;
}

/// An SQLite data directory of the test's own, removed after.
pub struct SqliteDir {
    dir: tempfile::TempDir,
}

impl SqliteDir {
    /// A new, empty directory.
    #[must_use]
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("a temporary data directory") }
    }

    /// The directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    fn connection(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.path().join("chatd.db")).expect("open chatd.db")
    }
}

impl Default for SqliteDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Place for SqliteDir {
    fn open(&self) -> Box<dyn Backend> {
        Box::new(Store::open(self.dir.path(), SyncMode::Normal).expect("open the SQLite store"))
    }

    fn sql(&self, statement: &str) {
        self.connection().execute_batch(statement).unwrap_or_else(|error| panic!("{statement}: {error}"));
    }

    fn count(&self, table: &str) -> u64 {
        self.connection().query_row(&format!("SELECT count(*) FROM {table}"), [], |row| row.get(0)).expect("count")
    }
}

/// A PostgreSQL database of the test's own, dropped after.
pub struct PostgresDatabase {
    database: TestDatabase,
    url: DatabaseUrl,
}

impl PostgresDatabase {
    /// A new, empty database, or `None` (with the `SKIPPED` line, or a
    /// failure where PostgreSQL is required) when no PostgreSQL answers:
    /// the rule of [`crate::outside`].
    #[must_use]
    pub fn new() -> Option<Self> {
        if !POSTGRES.present() {
            return None;
        }
        let database = TestDatabase::create();
        let url = database.url().parse().expect("the test database's URL");
        Some(Self { database, url })
    }

    /// The database's guard.
    #[must_use]
    pub fn database(&self) -> &TestDatabase {
        &self.database
    }

    /// Its URL, parsed as chatd parses `--database-url`.
    #[must_use]
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Opens the store as its own type, for what only PostgreSQL has.
    #[must_use]
    pub fn open_postgres(&self) -> PgStore {
        PgStore::open(&self.url).expect("open the PostgreSQL store")
    }
}

impl Place for PostgresDatabase {
    fn open(&self) -> Box<dyn Backend> {
        Box::new(self.open_postgres())
    }

    fn sql(&self, statement: &str) {
        let _ = self.database.sql(statement);
    }

    fn count(&self, table: &str) -> u64 {
        let count = self.database.sql(&format!("SELECT count(*) FROM {table}"));
        count.parse().unwrap_or_else(|_| panic!("count of {table}: {count:?}"))
    }
}

/// Defines each named test twice, `sqlite::NAME` and `postgres::NAME`,
/// calling the function `NAME(&dyn Place)` of the calling file with a
/// place of each kind; the PostgreSQL one skips by the rule of
/// [`crate::outside`].
#[macro_export]
macro_rules! against_both_stores {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $test() {
                    super::$test(&$crate::stores::SqliteDir::new());
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $test() {
                    if let Some(place) = $crate::stores::PostgresDatabase::new() {
                        super::$test(&place);
                    }
                }
            )*
        }
    };
}
