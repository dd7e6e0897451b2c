//! Opening the store chatd was told to use, before any port opens.

use std::io;

use chatcore::{CloakKey, Record};

use crate::cli::Cli;
use crate::store::cloak_key::{self, CloakKeyError};
use crate::store::{Backend, BackendError, PgStore, Store};

/// The cloak key a store keeps, if hosts are cloaked.
pub(super) type StoredKey = Option<Result<CloakKey, CloakKeyError>>;

/// Opens the store `cli` names (PostgreSQL with `--database-url`, else
/// SQLite in `--data-dir`), with the cloak key it keeps (read only once the
/// store is chatd's: a locked directory, a migrated database, so two
/// chatds never race to make it) and the records to restore.
pub(super) async fn open(cli: &Cli, history_len: usize) -> io::Result<(Box<dyn Backend>, StoredKey, Vec<Record>)> {
    let storage = &cli.storage;
    let cloak = cli.engine.cloak_hosts;
    let read_failed = |e: BackendError| io::Error::other(format!("cannot read the database: {e}"));
    if let Some(url) = storage.database_url.clone() {
        return smol::unblock(move || {
            let mut store = PgStore::open(&url).map_err(io::Error::other)?;
            let key = cloak.then(|| store.cloak_key());
            let records = store.load(history_len).map_err(read_failed)?;
            Ok((Box::new(store) as Box<dyn Backend>, key, records))
        })
        .await;
    }
    let (dir, sync) = (storage.data_dir.clone(), storage.sync);
    smol::unblock(move || {
        let mut store = Store::open(&dir, sync).map_err(io::Error::other)?;
        let key = cloak.then(|| cloak_key::load_or_create(&dir));
        let records = Backend::load(&mut store, history_len).map_err(read_failed)?;
        Ok((Box::new(store) as Box<dyn Backend>, key, records))
    })
    .await
}
