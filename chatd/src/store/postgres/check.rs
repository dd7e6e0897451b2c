//! `chatd check --database-url`: does the database answer, is it
//! chatd's, and at which schema version? PostgreSQL checks its own pages
//! as it reads them (and `amcheck` or `pg_dump` read every one); chatd's
//! part is what only chatd knows: the version, and that every table it
//! needs is there and can be read. Everything runs in a read-only
//! transaction, so it may run while chatd does.

use std::collections::BTreeSet;

use super::super::backend::with_causes;
use super::{DatabaseUrl, schema};

/// What a check of a PostgreSQL database found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgCheckReport {
    /// Its schema version, if it could be read.
    pub schema_version: Option<u32>,
    /// What is wrong, in words; empty when healthy.
    pub problems: Vec<String>,
    /// What is worth knowing but not wrong (an older schema chatd will
    /// migrate, a table chatd does not use).
    pub notes: Vec<String>,
}

impl PgCheckReport {
    /// True when nothing is wrong: chatd can start on this database.
    #[must_use]
    pub fn healthy(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the database at `url`; never writes to it.
#[must_use]
pub fn check(url: &DatabaseUrl) -> PgCheckReport {
    let mut report = PgCheckReport { schema_version: None, problems: Vec::new(), notes: Vec::new() };
    if let Err(error) = inspect(url, &mut report) {
        report.problems.push(format!("{url}: {}", with_causes(&error)));
    }
    report
}

fn inspect(url: &DatabaseUrl, report: &mut PgCheckReport) -> Result<(), postgres::Error> {
    let mut client = url.config.connect(postgres::NoTls)?;
    let mut tx = client.build_transaction().read_only(true).start()?;
    let found: BTreeSet<String> = tx
        .query(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            &[],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect();
    if !found.contains("chatd_schema") {
        report.problems.push(format!(
            "{url} has no table chatd_schema: it is not a chatd database, or chatd never started on it \
             (chatd makes its tables when it first starts; is --database-url right?)"
        ));
        return Ok(());
    }
    let version = tx.query("SELECT version FROM chatd_schema", &[])?;
    let Some(version) = version.first().and_then(|row| u32::try_from(row.get::<_, i32>(0)).ok()) else {
        report.problems.push("table chatd_schema holds no version".to_owned());
        return Ok(());
    };
    report.schema_version = Some(version);
    if version > schema::CURRENT {
        report.problems.push(format!(
            "schema version {version} is newer than this chatd knows ({}); check it with the chatd that wrote it",
            schema::CURRENT
        ));
        return Ok(());
    }
    if version < schema::CURRENT {
        report
            .notes
            .push(format!("schema version {version} is older than {}; chatd migrates it at start", schema::CURRENT));
        return Ok(());
    }
    for table in schema::TABLES {
        if !found.contains(*table) {
            report.problems.push(format!("table {table} is missing"));
        }
    }
    for table in found.iter().filter(|table| !schema::TABLES.contains(&table.as_str())) {
        report.notes.push(format!("table {table} is not chatd's; chatd leaves it alone"));
    }
    // Each table is read through once: one PostgreSQL cannot read says so.
    for table in schema::TABLES.iter().filter(|table| found.contains(**table)) {
        let sql = format!("SELECT count(*) FROM {table}");
        if let Err(error) = tx.query_one(sql.as_str(), &[]) {
            report.problems.push(format!("table {table} cannot be read: {}", with_causes(&error)));
            return Ok(());
        }
    }
    Ok(())
}
