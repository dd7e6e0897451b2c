//! `--config FILE`: chatd's flags written as TOML keys.
//!
//! Every key is a flag's long name, spelled as on the command line
//! (`max-line-bytes = 4096`), so that `chatd --help` documents the file
//! too. The key set is read from clap's own definition of the command
//! line rather than listed here: a flag added tomorrow is a key tomorrow,
//! and no second list can drift from the first.
//!
//! The file becomes `--key=value` arguments, checked one by one with each
//! flag's own value parser (so a bad value is reported with its key and
//! line, not as a flag the operator never typed), then parsed together
//! with the real command line. A flag given on the command line replaces
//! the file's value for that key, lists included.

use std::collections::HashSet;
use std::error::Error as _;
use std::ffi::OsString;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::builder::Resettable;
use clap::error::ContextKind;
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, CommandFactory, FromArgMatches, Id};

use crate::cli::{Cli, Seconds};

/// The `--config` flag's id; the one flag that is not a key.
const CONFIG_ARG: &str = "config";

/// The largest configuration file read: every key with a long comment is
/// a few KiB, so a larger file is something else (a device, a log).
const MAX_FILE_BYTES: u64 = 1 << 20;

/// A configuration file chatd cannot use.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigFileError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    /// The file is larger than any configuration file.
    #[error("{} is larger than {max} bytes; it cannot be a chatd configuration file", path.display())]
    TooLarge { path: PathBuf, max: u64 },
    /// The file is not TOML (toml's message says where).
    #[error("{} is not valid TOML: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
    /// A key that is no flag's long name.
    #[error("{}, line {line}: unknown key `{key}`{hint}", path.display())]
    UnknownKey { path: PathBuf, line: usize, key: String, hint: String },
    /// A value of the wrong TOML type, or one the flag refuses.
    #[error("{}, line {line}: `{key}`: {problem}", path.display())]
    BadValue { path: PathBuf, line: usize, key: String, problem: String },
    /// Every value was fine, but clap refuses the flags together.
    #[error("{}: {message}", path.display())]
    Flags { path: PathBuf, message: String },
    /// Every key was fine, but the engine refuses the limits together.
    #[error("{}: {source}", path.display())]
    Engine { path: PathBuf, source: chatcore::ConfigError },
}

/// Why the command line (with its file) cannot run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ArgsError {
    /// clap's own error (or `--help`, `--version`): printed as clap prints it.
    #[error(transparent)]
    Clap(#[from] clap::Error),
    /// The file named by `--config`.
    #[error(transparent)]
    File(#[from] ConfigFileError),
}

/// Parses `args` (the program name first) as chatd does: the file named by
/// `--config`, if any, under whatever the command line sets itself.
pub(crate) fn parse_cli<I, T>(args: I) -> Result<Cli, ArgsError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut command = Cli::command();
    command.build();
    let matches = command.clone().try_get_matches_from(&args)?;
    let Some(path) = matches.get_one::<PathBuf>(CONFIG_ARG) else {
        return Ok(cli_from(&matches)?);
    };
    let on_command_line: HashSet<&str> = command
        .get_arguments()
        .map(|arg| arg.get_id().as_str())
        .filter(|id| matches.value_source(id) == Some(ValueSource::CommandLine))
        .collect();
    let file_args = file_args(&command, path, &on_command_line)?;
    // The file's arguments come first, but none of them is a flag the
    // command line also gives, so each key has exactly one source.
    let merged = args.iter().take(1).cloned().chain(file_args).chain(args.iter().skip(1).cloned());
    let matches = command.try_get_matches_from(merged)?;
    Ok(cli_from(&matches)?)
}

/// `chatd check-config FILE`: what chatd would run with `--config FILE`
/// and nothing else, validated as the engine validates its limits.
pub(crate) fn check(path: &Path) -> Result<(), ConfigFileError> {
    let mut command = Cli::command();
    command.build();
    let file_args = file_args(&command, path, &HashSet::new())?;
    let args = std::iter::once(OsString::from("chatd")).chain(file_args);
    // Every value has passed its flag's parser already; what is left for
    // clap to refuse is a combination of flags, reported against the file.
    let cli = command
        .try_get_matches_from(args)
        .and_then(|matches| cli_from(&matches))
        .map_err(|error| ConfigFileError::Flags { path: path.to_owned(), message: clap_problem(&error) })?;
    cli.engine.config().validate().map_err(|source| ConfigFileError::Engine { path: path.to_owned(), source })
}

fn cli_from(matches: &ArgMatches) -> Result<Cli, clap::Error> {
    Cli::from_arg_matches(matches).map_err(|error| error.format(&mut Cli::command()))
}

/// The arguments the file at `path` stands for, leaving out the flags whose
/// ids are in `skip`.
fn file_args(command: &clap::Command, path: &Path, skip: &HashSet<&str>) -> Result<Vec<OsString>, ConfigFileError> {
    let text = read_capped(path)?;
    let syntax = |error: toml::de::Error| ConfigFileError::Syntax { path: path.to_owned(), message: error.to_string() };
    let table: toml::Table = toml::from_str(&text).map_err(syntax)?;
    // toml::Table keeps no positions; the spanned parse of the same text
    // says where each key is, for the error messages.
    let spanned = toml::de::DeTable::parse(&text).map_err(syntax)?;
    let line_of = |key: &str| {
        let offset = spanned.get_ref().iter().find(|(k, _)| k.get_ref() == key).map_or(0, |(k, _)| k.span().start);
        line_at(&text, offset)
    };
    let mut entries: Vec<(usize, &String, &toml::Value)> =
        table.iter().map(|(key, value)| (line_of(key), key, value)).collect();
    // Errors in the order the file is read.
    entries.sort_by_key(|(line, ..)| *line);

    let mut args = Vec::new();
    for (line, key, value) in entries {
        let arg = command.get_arguments().find(|arg| is_key(arg) && arg.get_long() == Some(key.as_str())).ok_or_else(
            || ConfigFileError::UnknownKey {
                path: path.to_owned(),
                line,
                key: key.clone(),
                hint: unknown_key_hint(command, key),
            },
        )?;
        let bad =
            |problem: String| ConfigFileError::BadValue { path: path.to_owned(), line, key: key.clone(), problem };
        let values = arg_values(arg, value).map_err(bad)?;
        for text in &values {
            check_value(arg, text).map_err(bad)?;
        }
        if skip.contains(arg.get_id().as_str()) {
            continue;
        }
        args.extend(values.into_iter().map(|text| match text {
            // A switch without a value: present when true.
            None => OsString::from(format!("--{key}")),
            // `=` keeps a value that starts with `-` from reading as a flag.
            Some(text) => OsString::from(format!("--{key}={text}")),
        }));
    }
    Ok(args)
}

/// Reads the file at `path`, refusing one larger than [`MAX_FILE_BYTES`]
/// without reading more than that (`/dev/zero` is endless), and one that is
/// not UTF-8.
fn read_capped(path: &Path) -> Result<String, ConfigFileError> {
    let read = |source| ConfigFileError::Read { path: path.to_owned(), source };
    let mut bytes = Vec::new();
    std::fs::File::open(path).and_then(|file| file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)).map_err(read)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ConfigFileError::TooLarge { path: path.to_owned(), max: MAX_FILE_BYTES });
    }
    String::from_utf8(bytes).map_err(|error| read(std::io::Error::new(std::io::ErrorKind::InvalidData, error)))
}

/// Whether `arg` may be set from the file: every flag with a long name but
/// `--config` itself, `--help` and `--version`.
pub(crate) fn is_key(arg: &Arg) -> bool {
    let id = arg.get_id().as_str();
    arg.get_long().is_some() && !matches!(id, CONFIG_ARG | "help" | "version")
}

/// The 1-based line of byte `offset` in `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

fn unknown_key_hint(command: &clap::Command, key: &str) -> String {
    let kebab = key.replace('_', "-");
    if kebab != key && command.get_arguments().any(|arg| is_key(arg) && arg.get_long() == Some(kebab.as_str())) {
        return format!(" (keys are spelled as the flags are: `{kebab}`)");
    }
    " (keys are the long names of the flags in `chatd --help`)".to_owned()
}

/// What TOML type a flag takes, from the type its value parser produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A switch (`--ephemeral`): `true` or `false`.
    Switch,
    /// A flag with a `true`/`false` value (`--require-login=true`).
    Bool,
    Integer,
    /// Seconds: an integer, or a float for fractions.
    Seconds,
    /// Everything else (addresses, names, paths, modes) is text.
    String,
}

fn kind(arg: &Arg) -> Kind {
    use std::any::TypeId;
    if !arg.get_action().takes_values() {
        return Kind::Switch;
    }
    let produced = arg.get_value_parser().type_id();
    if produced == TypeId::of::<bool>() {
        Kind::Bool
    } else if [TypeId::of::<usize>(), TypeId::of::<u32>(), TypeId::of::<u64>()].into_iter().any(|t| produced == t) {
        Kind::Integer
    } else if produced == TypeId::of::<Seconds>() {
        Kind::Seconds
    } else {
        Kind::String
    }
}

/// The values `value` gives `arg`, as they would be written after `--key=`
/// (`None`: the switch alone; no values at all: a switch set to false).
fn arg_values(arg: &Arg, value: &toml::Value) -> Result<Vec<Option<String>>, String> {
    let kind = kind(arg);
    let repeatable = matches!(arg.get_action(), ArgAction::Append);
    match value {
        toml::Value::Array(items) if repeatable => items.iter().map(|item| scalar(kind, item).map(Some)).collect(),
        toml::Value::Array(_) => Err("takes one value, not an array".to_owned()),
        toml::Value::Boolean(on) if kind == Kind::Switch => Ok(if *on { vec![None] } else { Vec::new() }),
        _ if repeatable => Err(format!("takes an array of {}s, not {}", kind.name(), article(value.type_str()))),
        _ => scalar(kind, value).map(|text| vec![Some(text)]),
    }
}

fn scalar(kind: Kind, value: &toml::Value) -> Result<String, String> {
    match (kind, value) {
        (Kind::Bool, toml::Value::Boolean(on)) => Ok(on.to_string()),
        (Kind::Integer | Kind::Seconds, toml::Value::Integer(n)) => Ok(n.to_string()),
        (Kind::Seconds, toml::Value::Float(secs)) => Ok(secs.to_string()),
        (Kind::String, toml::Value::String(text)) => Ok(text.clone()),
        _ => Err(format!("expects {}, not {}", article(kind.name()), article(value.type_str()))),
    }
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Switch | Kind::Bool => "boolean (true or false)",
            Kind::Integer => "integer",
            Kind::Seconds => "number of seconds",
            Kind::String => "string",
        }
    }
}

fn article(noun: &str) -> String {
    let an = noun.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {noun}", if an { "an" } else { "a" })
}

/// Runs `arg`'s own value parser on `text`, for its message. clap keeps
/// its parsers' entry point to itself, so the check is a command line of
/// that one flag.
fn check_value(arg: &Arg, text: &Option<String>) -> Result<(), String> {
    let Some(text) = text else { return Ok(()) };
    let long = arg.get_long().unwrap_or_default();
    // Alone in its command, the flag cannot name the flags it conflicts
    // with or needs (clap asserts that every name it gives exists); how
    // flags go together is checked once the whole file is parsed.
    let alone = arg.clone().conflicts_with(Resettable::<Id>::Reset).requires(Resettable::<Id>::Reset);
    clap::Command::new("chatd")
        .arg(alone)
        .try_get_matches_from([OsString::from("chatd"), OsString::from(format!("--{long}={text}"))])
        .map(drop)
        .map_err(|error| clap_problem(&error))
}

/// The part of a clap error that says what is wrong with a value, without
/// the flag's spelling on the command line or the usage lines.
fn clap_problem(error: &clap::Error) -> String {
    if let Some(source) = error.source() {
        return source.to_string();
    }
    let rendered = error.to_string();
    let first = rendered.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // The file has no `--sync <MODE>`: its key is already in the message.
    let mut problem = first.split(" for '--").next().unwrap_or(first).to_owned();
    if let Some(valid) = error.get(ContextKind::ValidValue) {
        problem.push_str(&format!(" (possible values: {valid})"));
    }
    problem
}

#[cfg(test)]
mod tests;
