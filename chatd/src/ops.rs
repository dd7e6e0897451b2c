//! The maintenance commands as an operator meets them (`chatd backup`,
//! `chatd check`, `chatd check-config`, `chatd op`), and the next steps chatd prints when it cannot start on
//! a damaged database. The work itself is in [`crate::store`].

use std::path::Path;
use std::process::ExitCode;

use chatcore::{Record, ranges};

use crate::cli::{BackupArgs, CheckArgs, CheckConfigArgs, Command, OpCommand};
use crate::config_file;
use crate::store::{Backend, BackendError, Store, StoreError, SyncMode};
use crate::store::{DatabaseUrl, backup, check, postgres};

/// Runs `command`; what it prints and its exit status are the interface.
pub(crate) fn run(command: Command) -> ExitCode {
    match command {
        Command::Backup(args) => run_backup(&args),
        Command::Check(args) => run_check(&args),
        Command::CheckConfig(args) => run_check_config(&args),
        Command::Op(command) => run_op(command),
    }
}

/// `chatd op grant|revoke|list`: records written to, or read from, the
/// store as the engine stores and restores them, so both stores do it alike.
fn run_op(command: OpCommand) -> ExitCode {
    let (OpCommand::Grant { store, .. } | OpCommand::Revoke { store, .. } | OpCommand::List { store }) = &command;
    let opened: Result<Box<dyn Backend>, StoreError> = match &store.database_url {
        Some(url) => postgres::PgStore::open(url).map(|store| Box::new(store) as Box<dyn Backend>),
        None => Store::open(&store.data_dir, SyncMode::Full).map(|store| Box::new(store) as Box<dyn Backend>),
    };
    let mut backend = match opened {
        Ok(backend) => backend,
        Err(error) => {
            eprintln!("chatd op: {error}");
            return ExitCode::FAILURE;
        }
    };
    let granted = |backend: &mut Box<dyn Backend>| -> Result<Vec<Box<str>>, BackendError> {
        let records = backend.load(0)?;
        Ok(records
            .into_iter()
            .filter_map(|record| match record {
                Record::OperatorGranted { account } => Some(account),
                _ => None,
            })
            .collect())
    };
    let done = match command {
        OpCommand::Grant { name, .. } => {
            if let Err(reason) = chatcore::validate_nick(&name, ranges::MAX_NICK_LEN.max as usize) {
                eprintln!("chatd op grant: {name:?} is not an account name: {reason}");
                return ExitCode::FAILURE;
            }
            backend.commit(&[Record::OperatorGranted { account: name.as_str().into() }]).map(|()| {
                println!("{name} is a server operator from chatd's next start");
            })
        }
        OpCommand::Revoke { name, .. } => match granted(&mut backend) {
            Ok(names) if !names.iter().any(|n| n.eq_ignore_ascii_case(&name)) => {
                eprintln!("chatd op revoke: {name} was not granted (an --operator flag is changed where it is given)");
                return ExitCode::FAILURE;
            }
            Ok(_) => backend.commit(&[Record::OperatorRevoked { account: name.as_str().into() }]).map(|()| {
                println!("{name} is no server operator from chatd's next start");
            }),
            Err(error) => Err(error),
        },
        OpCommand::List { .. } => granted(&mut backend).map(|names| {
            for name in names {
                println!("{name}");
            }
        }),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("chatd op: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run_check_config(args: &CheckConfigArgs) -> ExitCode {
    match config_file::check(&args.file) {
        Ok(()) => {
            println!("{}: ok", args.file.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("chatd check-config: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run_backup(args: &BackupArgs) -> ExitCode {
    if let Some(url) = &args.database_url {
        // pg_dump takes a consistent snapshot of a running database, as
        // chatd backup does of SQLite's; chatd would only be a worse pg_dump.
        eprintln!(
            "chatd backup: chatd copies an SQLite data directory only; back up a PostgreSQL database with \
             pg_dump, which reads a consistent snapshot while chatd runs:\n  \
             pg_dump --format=custom --file={} '{url}'\n\
             and restore it into a new, empty database with pg_restore (docs/OPERATIONS.md)",
            args.to.display()
        );
        return ExitCode::from(2);
    }
    match backup::backup(&args.data_dir, &args.to, args.force) {
        Ok(summary) => {
            for path in &summary.removed {
                println!("removed {}, left by an interrupted backup", path.display());
            }
            println!(
                "backed up {} to {} ({} bytes, schema version {})",
                summary.from.display(),
                summary.to.display(),
                summary.bytes,
                summary.schema_version
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("chatd backup: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run_check_postgres(url: &DatabaseUrl) -> ExitCode {
    let report = postgres::check::check(url);
    for note in &report.notes {
        println!("note: {note}");
    }
    if report.healthy() {
        let version = report.schema_version.map_or_else(|| "unknown".to_owned(), |v| v.to_string());
        println!("{url}: healthy (connected, schema version {version}, every table chatd needs is there and readable)");
        return ExitCode::SUCCESS;
    }
    eprintln!("chatd check: {url} has problems:");
    for problem in &report.problems {
        eprintln!("  {problem}");
    }
    ExitCode::FAILURE
}

fn run_check(args: &CheckArgs) -> ExitCode {
    if let Some(url) = &args.database_url {
        return run_check_postgres(url);
    }
    let report = check::check(&args.data_dir);
    for note in &report.notes {
        println!("note: {note}");
    }
    if report.healthy() {
        let version = report.schema_version.map_or_else(|| "unknown".to_owned(), |v| v.to_string());
        println!(
            "{}: healthy (SQLite integrity check ok, schema version {version}, every table chatd needs is there, every row readable)",
            report.path.display()
        );
        return ExitCode::SUCCESS;
    }
    eprintln!("chatd check: {} has problems:", report.path.display());
    for problem in &report.problems {
        eprintln!("  {problem}");
    }
    eprintln!("{}", check::recovery_steps(&args.data_dir));
    ExitCode::FAILURE
}

/// What to run next when chatd stopped on `error`, if it is one an
/// operator can act on with a command: a damaged database.
pub(crate) fn next_steps(error: &std::io::Error) -> Option<String> {
    let store_error = error.get_ref()?.downcast_ref::<StoreError>()?;
    match store_error {
        StoreError::Corrupt { path, .. } => {
            let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            Some(check::recovery_steps(dir))
        }
        _ => None,
    }
}
