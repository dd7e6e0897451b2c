//! Every row read as chatd reads it. SQLite's integrity check looks at the
//! file's structure, not at what a row holds: a message whose bytes were
//! flipped passes it, and chatd then skips that message when it serves
//! history (or, for a room or an account, cannot start). So each column of
//! each row is read as the type chatd's layout gives it: text as UTF-8,
//! integers as numbers of zero or more, NULL only where the layout allows.

use std::collections::BTreeSet;

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use super::CheckReport;

/// Unreadable rows named per table; the count says how many more.
const MAX_NAMED: usize = 5;

/// Columns that say which row it is, for a person: the room and number of
/// a message, the account of a block.
const NAMING_COLUMNS: [&str; 6] = ["room_key", "pair_key", "to_key", "account_key", "key", "seq"];

/// One column of a table as chatd's layout declares it.
struct Column {
    name: String,
    kind: Kind,
    not_null: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Text,
    Other,
}

/// Reads every row of every table in `want` (the layout `expected` has)
/// from `conn`, and reports those chatd could not read.
pub(super) fn unreadable(
    conn: &Connection,
    expected: &Connection,
    want: &BTreeSet<(String, String)>,
    report: &mut CheckReport,
) -> rusqlite::Result<()> {
    for (_, table) in want.iter().filter(|(kind, _)| kind == "table") {
        let columns = declared(expected, table)?;
        let naming: Vec<usize> = (0..columns.len()).filter(|&i| NAMING_COLUMNS.contains(&&*columns[i].name)).collect();
        let list: Vec<String> = columns.iter().map(|c| format!("\"{}\"", c.name)).collect();
        let mut statement = conn.prepare(&format!("SELECT {} FROM \"{table}\"", list.join(", ")))?;
        let mut rows = statement.query([])?;
        let (mut count, mut named) = (0u64, Vec::new());
        while let Some(row) = rows.next()? {
            let readable = columns.iter().enumerate().all(|(i, column)| row.get_ref(i).is_ok_and(|v| fits(column, v)));
            if readable {
                continue;
            }
            count += 1;
            if named.len() < MAX_NAMED {
                let parts: Vec<String> =
                    naming.iter().map(|&i| format!("{} {}", columns[i].name, shown(row.get_ref(i).ok()))).collect();
                named.push(if parts.is_empty() { format!("row {count}") } else { parts.join(", ") });
            }
        }
        if count > 0 {
            let more = if count > named.len() as u64 {
                format!(", and {} more", count - named.len() as u64)
            } else {
                String::new()
            };
            report.problems.push(format!(
                "{count} row(s) of the table `{table}` cannot be read (damaged bytes): {}{more}; chatd skips such a \
                 message when serving history, and cannot restore such a room or account",
                named.join("; ")
            ));
        }
    }
    Ok(())
}

/// The columns of `table` in the layout `expected` has, with their types.
fn declared(expected: &Connection, table: &str) -> rusqlite::Result<Vec<Column>> {
    let mut statement = expected.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1)")?;
    statement
        .query_map([table], |row| {
            let declared: String = row.get(1)?;
            let declared = declared.to_ascii_uppercase();
            let kind = if declared.contains("INT") {
                Kind::Integer
            } else if declared.contains("TEXT") {
                Kind::Text
            } else {
                Kind::Other
            };
            // An INTEGER PRIMARY KEY is the rowid: never NULL, whatever it says.
            let not_null = row.get::<_, bool>(2)? || row.get::<_, i64>(3)? > 0;
            Ok(Column { name: row.get(0)?, kind, not_null })
        })?
        .collect()
}

/// Whether chatd reads `value` as `column`'s type.
fn fits(column: &Column, value: ValueRef<'_>) -> bool {
    match (column.kind, value) {
        (_, ValueRef::Null) => !column.not_null,
        (Kind::Integer, ValueRef::Integer(n)) => n >= 0,
        (Kind::Text, ValueRef::Text(bytes)) => std::str::from_utf8(bytes).is_ok(),
        (Kind::Other, _) => true,
        _ => false,
    }
}

/// A value for a person: what is not UTF-8 as U+FFFD, cut short.
fn shown(value: Option<ValueRef<'_>>) -> String {
    let text = match value {
        Some(ValueRef::Integer(n)) => n.to_string(),
        Some(ValueRef::Text(bytes) | ValueRef::Blob(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        Some(ValueRef::Real(x)) => x.to_string(),
        Some(ValueRef::Null) | None => "NULL".to_owned(),
    };
    let short: String = text.chars().take(40).map(|c| if c.is_control() { '\u{FFFD}' } else { c }).collect();
    if short.len() < text.len() { format!("{short}…") } else { short }
}
