//! Durable state in PostgreSQL (`--database-url`): the same records,
//! tables and contract as the SQLite store, on a server that several
//! chatds can reach.
//!
//! One connection, driven by the storage thread with the synchronous
//! `postgres` client, as the SQLite store is driven through rusqlite
//! (benches/README.md has the measurements that chose it). A connection
//! that breaks is made again at the next call: one lost while idle is
//! replaced at once, unseen; while the server stays away every commit
//! fails, and the storage thread reports storage as failing until one
//! works.
//!
//! A commit whose answer was lost with its connection may or may not have
//! been made. Its transaction id was read at its start, and the retry asks
//! the server what became of it (`txid_status`) before writing anything
//! again, so that a batch is never written twice nor lost.
//!
//! In a cluster ([`cluster`]), several chatds write this one database as
//! its nodes: each numbers its room messages in the transaction that
//! stores them and appends its other records to a change feed the others
//! follow, and no row another node wrote can fail its commit. A retried
//! cluster commit that turns out to have been made answers the numbers it
//! gave, kept from the attempt, rather than numbering again.

pub mod check;
pub mod cluster;
mod records;
pub mod schema;

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chatcore::{CloakKey, HistoryRange, HistoryTarget, Publication, Record, RoomMessage};
use postgres::config::Host;
use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, Row, Statement};

use super::backend::{Backend, BackendError, FeedEntry, Page};
use super::cloak_key::{self, CloakKeyError};
use super::{Retention, StoreError};

/// How long connecting may take when the URL does not say
/// (`connect_timeout`): a server that does not answer stops chatd's start,
/// or one retry of a commit, after this long rather than never.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the PostgreSQL store is: `--database-url`'s value, parsed. Shown
/// (in logs and errors) without its password.
#[derive(Clone)]
pub struct DatabaseUrl {
    config: Config,
}

impl FromStr for DatabaseUrl {
    type Err = postgres::Error;

    /// Parses `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?PARAM=VALUE…]`
    /// (or the `key=value` form); its error never repeats the text.
    fn from_str(url: &str) -> Result<DatabaseUrl, postgres::Error> {
        let mut config = Config::from_str(url)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("chatd");
        }
        Ok(DatabaseUrl { config })
    }
}

impl fmt::Display for DatabaseUrl {
    /// `postgres://USER@HOST:PORT/DATABASE`: what an operator needs to
    /// tell which database is meant, and never the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "postgres://")?;
        if let Some(user) = self.config.get_user() {
            write!(f, "{user}@")?;
        }
        let ports = self.config.get_ports();
        for (i, host) in self.config.get_hosts().iter().enumerate() {
            if i > 0 {
                write!(f, ",")?;
            }
            match host {
                Host::Tcp(name) if name.contains(':') => write!(f, "[{name}]")?,
                Host::Tcp(name) => write!(f, "{name}")?,
                // Written as a URL holds it, so that it can be pasted back.
                Host::Unix(path) => {
                    write!(f, "{}", path.display().to_string().replace('%', "%25").replace('/', "%2F"))?
                }
            }
            // No port given is PostgreSQL's own.
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            write!(f, ":{port}")?;
        }
        write!(f, "/{}", self.config.get_dbname().unwrap_or_default())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// An open, migrated PostgreSQL store.
pub struct PgStore {
    url: DatabaseUrl,
    conn: Connection,
    /// Whispers kept per conversation (`None`: all).
    whispers_kept: Option<u64>,
    /// A commit whose connection was lost before its answer came: whether
    /// it was made is asked before the retry writes.
    unsure: Option<Unsure>,
}

/// A commit whose outcome is not known.
struct Unsure {
    /// Its transaction id, for `txid_status`.
    txid: i64,
    /// The numbers it gave its publications (cluster mode): the retry's
    /// answer, if it was made.
    numbers: Vec<Option<u64>>,
}

/// A connection and the statements prepared on it (which die with it).
struct Connection {
    client: Client,
    statements: HashMap<&'static str, Statement>,
    /// Left inside a transaction it could not roll back: of no more use.
    spoilt: bool,
}

impl Connection {
    fn open(url: &DatabaseUrl) -> Result<Connection, postgres::Error> {
        Ok(Connection { client: url.config.connect(NoTls)?, statements: HashMap::new(), spoilt: false })
    }

    /// Whether a new connection is needed.
    fn is_gone(&self) -> bool {
        self.spoilt || self.client.is_closed()
    }

    /// `sql`, prepared once per connection.
    fn statement(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    fn execute(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.execute(&statement, params)
    }

    fn query(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.query(&statement, params)
    }
}

impl PgStore {
    /// Connects to `url` and brings its schema up to this chatd's.
    pub fn open(url: &DatabaseUrl) -> Result<PgStore, StoreError> {
        let failed = |source| StoreError::Postgres { url: url.to_string(), source };
        let mut conn = Connection::open(url).map_err(failed)?;
        let found = schema::migrate(&mut conn.client).map_err(failed)?;
        if found > schema::CURRENT {
            return Err(StoreError::NewerSchema { found, supported: schema::CURRENT });
        }
        Ok(PgStore { url: url.clone(), conn, whispers_kept: None, unsure: None })
    }

    /// Where this store is, without the password.
    #[must_use]
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The key chatd cloaks hosts with, kept in the database so that every
    /// chatd on it shows a user's host alike: made by whichever chatd
    /// comes first, and read back by all.
    pub fn cloak_key(&mut self) -> Result<CloakKey, CloakKeyError> {
        let made = cloak_key::hex(&cloak_key::random_bytes()?);
        let conn = self.connection().map_err(CloakKeyError::Database)?;
        conn.execute("INSERT INTO cloak_key (key) VALUES ($1) ON CONFLICT DO NOTHING", &[&made])
            .map_err(CloakKeyError::Database)?;
        let rows = conn.query("SELECT key FROM cloak_key", &[]).map_err(CloakKeyError::Database)?;
        let kept: Option<String> = rows.first().and_then(|row| row.try_get(0).ok());
        kept.as_deref().and_then(cloak_key::parse).map(CloakKey::new).ok_or(CloakKeyError::MalformedInDatabase)
    }

    /// The connection, made again first if the last one broke.
    fn connection(&mut self) -> Result<&mut Connection, postgres::Error> {
        if self.conn.is_gone() {
            self.conn = Connection::open(&self.url)?;
            tracing::info!(url = %self.url, "connected to PostgreSQL again");
        }
        Ok(&mut self.conn)
    }

    /// Runs `read` on the connection; if the connection turns out to have
    /// broken (while idle, say), once more on a new one: a read can always
    /// be repeated.
    fn reading<T>(
        &mut self,
        mut read: impl FnMut(&mut Connection) -> Result<T, postgres::Error>,
    ) -> Result<T, BackendError> {
        match read(self.connection()?) {
            Err(_) if self.conn.client.is_closed() => Ok(read(self.connection()?)?),
            result => Ok(result?),
        }
    }

    /// Whether the commit whose answer was lost was made: `Some(true)`
    /// made, `Some(false)` not, `None` not settled yet (its old session
    /// is still ending).
    fn settle(&mut self, txid: i64) -> Result<Option<bool>, postgres::Error> {
        let rows = self.connection()?.query("SELECT txid_status($1)", &[&txid])?;
        let status: Option<String> = rows.first().and_then(|row| row.get(0));
        Ok(match status.as_deref() {
            Some("committed") => Some(true),
            Some("in progress") => None,
            // Aborted, or so old the server forgot it: never a commit this
            // store just made.
            _ => Some(false),
        })
    }

    /// What became of a commit whose answer was lost: `Some(numbers)` if
    /// it was made (the numbers it gave), `None` if it was not or there
    /// was none; an error while the server has not settled it yet.
    fn settled(&mut self) -> Result<Option<Vec<Option<u64>>>, BackendError> {
        let Some(txid) = self.unsure.as_ref().map(|unsure| unsure.txid) else { return Ok(None) };
        match self.settle(txid)? {
            Some(true) => {
                tracing::info!("a commit whose answer was lost with its connection had been made");
                Ok(self.unsure.take().map(|unsure| unsure.numbers))
            }
            Some(false) => {
                self.unsure = None;
                Ok(None)
            }
            None => Err(BackendError::Unsettled),
        }
    }

    /// One attempt at a write transaction: `BEGIN`, `write`, `COMMIT`;
    /// returns what `write` did (the numbers it gave publications).
    fn try_commit(
        &mut self,
        write: impl FnOnce(&mut Connection) -> Result<Vec<Option<u64>>, postgres::Error>,
    ) -> Result<Vec<Option<u64>>, postgres::Error> {
        let conn = self.connection()?;
        // The transaction id comes with BEGIN, in the same round trip.
        let txid = match begin(conn) {
            Ok(txid) => txid,
            // A connection lost while idle: nothing was sent, so a new one
            // can begin at once.
            Err(_) if conn.client.is_closed() => begin(self.connection()?)?,
            Err(error) => return Err(error),
        };
        let conn = &mut self.conn;
        let numbers = match write(conn) {
            Ok(numbers) => numbers,
            Err(error) => {
                // Nothing was committed; a broken connection rolled it back.
                // A live one that cannot roll back would fail every later
                // transaction: it is replaced instead.
                if !conn.client.is_closed() && conn.client.batch_execute("ROLLBACK").is_err() {
                    conn.spoilt = true;
                }
                return Err(error);
            }
        };
        if let Err(error) = conn.client.batch_execute("COMMIT") {
            // An answer from the server is an answer: not committed. No
            // answer at all leaves the outcome for the retry to ask about.
            if conn.client.is_closed() {
                self.unsure = Some(Unsure { txid, numbers });
            }
            return Err(error);
        }
        Ok(numbers)
    }
}

/// Begins a transaction and returns its id.
fn begin(conn: &mut Connection) -> Result<i64, postgres::Error> {
    use postgres::SimpleQueryMessage;
    let messages = conn.client.simple_query("BEGIN; SELECT txid_current()")?;
    let txid = messages.iter().find_map(|message| match message {
        SimpleQueryMessage::Row(row) => row.get(0).and_then(|id| id.parse().ok()),
        _ => None,
    });
    Ok(txid.expect("txid_current() answers a number"))
}

impl Backend for PgStore {
    fn commit(&mut self, records: &[Record]) -> Result<(), BackendError> {
        if self.settled()?.is_some() {
            return Ok(());
        }
        let whispers_kept = self.whispers_kept;
        self.try_commit(|conn| {
            records::write_all(conn, records, whispers_kept, records::Writers::One)?;
            Ok(Vec::new())
        })?;
        Ok(())
    }

    fn load(&mut self, history_len: usize) -> Result<Vec<Record>, BackendError> {
        self.reading(|conn| records::load(conn, history_len))
    }

    fn history(&mut self, target: &HistoryTarget, before: u64, limit: usize) -> Result<Page, BackendError> {
        self.reading(|conn| records::history(conn, target, HistoryRange::Before(before), limit))
    }

    fn history_after(&mut self, target: &HistoryTarget, after: u64, limit: usize) -> Result<Page, BackendError> {
        self.reading(|conn| records::history(conn, target, HistoryRange::After(after), limit))
    }

    fn prune(&mut self, retention: Retention, now_ms: u64) -> Result<u64, BackendError> {
        self.reading(|conn| records::prune(conn, retention, now_ms))
    }

    fn keep_whispers(&mut self, per_conversation: Option<u64>) {
        self.whispers_kept = per_conversation;
    }

    fn commit_cluster(
        &mut self,
        node: &str,
        records: &[Record],
        publications: &[Publication],
    ) -> Result<Vec<Option<u64>>, BackendError> {
        // The retry of a commit that was made: numbering again would give
        // each publication a second number.
        if let Some(numbers) = self.settled()? {
            return Ok(numbers);
        }
        let whispers_kept = self.whispers_kept;
        Ok(self.try_commit(|conn| cluster::write(conn, node, records, publications, whispers_kept))?)
    }

    fn room_messages(
        &mut self,
        node: &str,
        room: &str,
        after: u64,
        upto: Option<u64>,
        limit: usize,
    ) -> Result<Vec<RoomMessage>, BackendError> {
        self.reading(|conn| cluster::room_messages(conn, node, room, after, upto, limit))
    }

    fn room_heads(&mut self, rooms: &[&str]) -> Result<Vec<u64>, BackendError> {
        self.reading(|conn| cluster::room_heads(conn, rooms))
    }

    fn changes_after(&mut self, after: i64, limit: usize) -> Result<Vec<FeedEntry>, BackendError> {
        self.reading(|conn| cluster::changes_after(conn, after, limit))
    }

    fn feed_head(&mut self) -> Result<i64, BackendError> {
        self.reading(cluster::feed_head)
    }

    fn prune_changes(&mut self, now_ms: u64) -> Result<u64, BackendError> {
        self.reading(|conn| cluster::prune_changes(conn, now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::DatabaseUrl;

    fn shown(url: &str) -> String {
        url.parse::<DatabaseUrl>().unwrap().to_string()
    }

    #[test]
    fn a_url_is_shown_as_given_without_its_password() {
        assert_eq!(shown("postgres://chatd:hunter2@db.example:6543/chat"), "postgres://chatd@db.example:6543/chat");
        assert_eq!(shown("postgres://chatd@[2001:db8::7]:5432/chat"), "postgres://chatd@[2001:db8::7]:5432/chat");
        assert_eq!(shown("postgres://chatd@a,b:5433/chat"), "postgres://chatd@a:5432,b:5433/chat");
        assert_eq!(
            shown("postgres://chatd@%2Frun%2Fpostgresql/chat"),
            "postgres://chatd@%2Frun%2Fpostgresql:5432/chat"
        );
        assert_eq!(
            shown("host=db.example user=chatd password=hunter2 dbname=chat"),
            "postgres://chatd@db.example:5432/chat"
        );
    }
}
