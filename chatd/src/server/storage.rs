//! Opening the store chatd was told to use, before any port opens.

use std::io;

use chatcore::{CloakKey, Record};

use crate::cli::Cli;
use crate::store::cloak_key::{self, CloakKeyError};
use crate::store::{Backend, BackendError, DatabaseUrl, PgStore, Store};

/// The cloak key a store keeps, if hosts are cloaked.
pub(super) type StoredKey = Option<Result<CloakKey, CloakKeyError>>;

/// A store opened, with what it holds.
pub(super) struct Opened {
    pub(super) store: Box<dyn Backend>,
    pub(super) key: StoredKey,
    pub(super) records: Vec<Record>,
    /// A cluster node's position in the change feed.
    pub(super) feed_from: Option<i64>,
}

/// A second connection to the PostgreSQL database at `url`, for a
/// cluster node's follower.
pub(super) async fn open_follower(url: DatabaseUrl) -> io::Result<Box<dyn Backend>> {
    smol::unblock(move || Ok(Box::new(PgStore::open(&url).map_err(io::Error::other)?) as Box<dyn Backend>)).await
}

/// Opens the store `cli` names (PostgreSQL with `--database-url`, else
/// SQLite in `--data-dir`), with the cloak key it keeps (read only once the
/// store is chatd's: a locked directory, a migrated database, so two
/// chatds never race to make it) and the records to restore.
///
/// A cluster node also gets where the change feed stood before the
/// records were read: following it from there, the node misses no change
/// another node made meanwhile.
pub(super) async fn open(cli: &Cli, history_len: usize) -> io::Result<Opened> {
    let storage = &cli.storage;
    let cloak = cli.engine.cloak_hosts;
    let cluster = cli.cluster.redis_url.is_some();
    let read_failed = |e: BackendError| io::Error::other(format!("cannot read the database: {e}"));
    if let Some(url) = storage.database_url.clone() {
        return smol::unblock(move || {
            let mut store = PgStore::open(&url).map_err(io::Error::other)?;
            let key = cloak.then(|| store.cloak_key());
            let feed_from = if cluster { Some(store.feed_head().map_err(read_failed)?) } else { None };
            let records = store.load(history_len).map_err(read_failed)?;
            Ok(Opened { store: Box::new(store), key, records, feed_from })
        })
        .await;
    }
    let (dir, sync) = (storage.data_dir.clone(), storage.sync);
    smol::unblock(move || {
        let mut store = Store::open(&dir, sync).map_err(io::Error::other)?;
        let key = cloak.then(|| cloak_key::load_or_create(&dir));
        let records = Backend::load(&mut store, history_len).map_err(read_failed)?;
        Ok(Opened { store: Box::new(store), key, records, feed_from: None })
    })
    .await
}
