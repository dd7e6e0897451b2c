use std::time::Duration;

use super::*;

/// The example shipped for operators; it must keep up with the flags.
const EXAMPLE: &str = include_str!("../../../contrib/chatd.toml");

fn built() -> clap::Command {
    let mut command = Cli::command();
    command.build();
    command
}

fn with_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chatd.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn parse(file: &Path, flags: &[&str]) -> Result<Cli, ArgsError> {
    let config = ["chatd", "--config", file.to_str().unwrap()];
    parse_cli(config.iter().chain(flags))
}

#[test]
fn the_example_has_every_key_set_to_its_default() {
    let command = built();
    let table: toml::Table = toml::from_str(EXAMPLE).unwrap();
    for arg in command.get_arguments().filter(|arg| is_key(arg)) {
        let key = arg.get_long().unwrap();
        let Some(value) = table.get(key) else {
            // Flags without a default are shown commented out.
            let commented = format!("# {key} = ");
            assert!(arg.get_default_values().is_empty(), "{key} has a default: set it in the example");
            assert!(EXAMPLE.lines().any(|line| line.starts_with(&commented)), "{key} missing from the example");
            continue;
        };
        let defaults: Vec<String> = arg.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect();
        let given: Vec<String> = match (kind(arg), value) {
            (Kind::Switch, toml::Value::Boolean(on)) => vec![on.to_string()],
            _ => arg_values(arg, value).unwrap().into_iter().map(Option::unwrap).collect(),
        };
        assert_eq!(given, defaults, "{key} in the example is not its default");
    }
    for key in table.keys() {
        assert!(command.get_arguments().any(|arg| is_key(arg) && arg.get_long() == Some(key)), "{key} is no flag");
    }
}

#[test]
fn the_file_sets_flags_and_the_command_line_overrides_it() {
    let (_dir, path) = with_file(
        "max-line-bytes = 100\nregistration-timeout = 0.5\nrequire-login = true\nephemeral = true\n\
         allowed-origin = [\"https://a.example\", \"https://b.example\"]\nserver-name = \"from-file\"\n",
    );
    let cli = parse(&path, &[]).unwrap();
    let config = cli.engine.config();
    assert_eq!(config.max_line_bytes(), 100);
    assert_eq!(config.registration_timeout(), Duration::from_millis(500));
    assert!(config.require_login());
    assert!(cli.storage.ephemeral);
    assert_eq!(cli.allowed_origins, ["https://a.example", "https://b.example"]);

    let cli = parse(&path, &["--max-line-bytes", "200", "--allowed-origin=https://c.example", "--require-login=false"])
        .unwrap();
    let config = cli.engine.config();
    assert_eq!(config.max_line_bytes(), 200);
    assert!(!config.require_login());
    // A list on the command line replaces the file's, rather than adding to it.
    assert_eq!(cli.allowed_origins, ["https://c.example"]);
    assert_eq!(config.server_name(), "from-file");
}

#[test]
fn a_switch_set_false_stays_off() {
    let (_dir, path) = with_file("ephemeral = false\n");
    assert!(!parse(&path, &[]).unwrap().storage.ephemeral);
}

fn file_error(text: &str) -> ConfigFileError {
    let (_dir, path) = with_file(text);
    match parse(&path, &[]) {
        Err(ArgsError::File(error)) => error,
        other => panic!("expected a file error, got {other:?}"),
    }
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    let error = file_error("max-line-bytes = 100\n\n# a comment\nmax-lines = 3\n");
    assert!(matches!(&error, ConfigFileError::UnknownKey { line: 4, key, .. } if key == "max-lines"), "{error:?}");
    // The flag's long name is the only spelling, and the error says so.
    let error = file_error("max_line_bytes = 100\n");
    assert!(error.to_string().contains("`max-line-bytes`"), "{error}");
    // `--config` cannot name another file from inside one.
    assert!(matches!(file_error("config = \"other.toml\"\n"), ConfigFileError::UnknownKey { line: 1, .. }));
}

#[test]
fn a_value_of_the_wrong_type_is_named_with_its_key_and_line() {
    for (text, key, line) in [
        ("listen = \"127.0.0.1:0\"\nmax-line-bytes = \"lots\"\n", "max-line-bytes", 2),
        ("\n\nmax-line-bytes = -1\n", "max-line-bytes", 3),
        ("require-login = \"yes\"\n", "require-login", 1),
        ("ephemeral = 1\n", "ephemeral", 1),
        ("listen = 7878\n", "listen", 1),
        ("allowed-origin = \"https://a.example\"\n", "allowed-origin", 1),
        ("allowed-origin = [\"not an origin\"]\n", "allowed-origin", 1),
        ("server-name = [\"a\", \"b\"]\n", "server-name", 1),
        ("sync = \"sometimes\"\n", "sync", 1),
        ("retain-days = 0\n", "retain-days", 1),
        ("commit-timeout = -0.5\n", "commit-timeout", 1),
    ] {
        let error = file_error(text);
        assert!(
            matches!(&error, ConfigFileError::BadValue { line: l, key: k, .. } if k == key && *l == line),
            "{text:?}: {error:?}"
        );
    }
}

#[test]
fn not_toml_is_an_error() {
    assert!(matches!(file_error("max-line-bytes = \n"), ConfigFileError::Syntax { .. }));
}

#[test]
fn check_validates_the_engine_limits() {
    let (_dir, path) = with_file("idle-timeout = 10\nidle-warning = 20\n");
    assert!(matches!(check(&path), Err(ConfigFileError::Engine { .. })));
    let (_dir, path) = with_file("idle-timeout = 100\nidle-warning = 20\n");
    check(&path).unwrap();
}

#[test]
fn lines_count_from_one() {
    assert_eq!(line_at("a\nb\nc", 0), 1);
    assert_eq!(line_at("a\nb\nc", 2), 2);
    assert_eq!(line_at("a\nb\nc", 4), 3);
}

/// Every flag that takes a number has a range, so that no value is taken
/// merely because it parses: a flag added without one fails here.
#[test]
fn every_numeric_flag_refuses_values_outside_its_range() {
    let command = built();
    let numeric: Vec<&clap::Arg> = command
        .get_arguments()
        .filter(|arg| is_key(arg) && matches!(kind(arg), Kind::Integer | Kind::Seconds))
        .collect();
    assert!(numeric.len() >= 45, "only {} numeric flags found", numeric.len());
    for arg in numeric {
        let key = arg.get_long().unwrap();
        // Far beyond any range (a trillion, or 31,000 years), and below any
        // minimum but zero.
        let problem =
            check_value(arg, &Some("1000000000000".to_owned())).expect_err(&format!("--{key} takes a trillion"));
        assert!(problem.contains("out of range: it must be"), "--{key}: {problem}");
        if kind(arg) == Kind::Seconds {
            assert!(check_value(arg, &Some("0.00001".to_owned())).is_err(), "--{key} takes 10 µs");
        }
        // Each default is within its own range.
        for default in arg.get_default_values() {
            let default = default.to_string_lossy().into_owned();
            assert_eq!(check_value(arg, &Some(default.clone())), Ok(()), "--{key}'s default {default}");
        }
    }
}

#[test]
fn names_are_printable_and_bounded_on_the_command_line_too() {
    let long = "n".repeat(10 * 1024 * 1024);
    for (name, wanted) in [(long.as_str(), "more than 63"), ("a\r\nb", "holds '\\r'"), ("", "is empty")] {
        let error = parse_cli(["chatd", "--server-name", name]).unwrap_err().to_string();
        assert!(error.contains(wanted), "{error}");
    }
    let error = parse_cli(["chatd", "--irc-password", "pass\nword"]).unwrap_err().to_string();
    assert!(error.contains("holds '\\n'"), "{error}");
    assert!(parse_cli(["chatd", "--irc-password", "correct horse battery"]).is_ok());
}

#[test]
fn a_database_url_in_the_file_is_checked_without_repeating_it_and_stands_alone() {
    let (_dir, path) = with_file("database-url = \"postgres://chatd:hunter2@db.example:5432/chat\"\n");
    let cli = parse(&path, &[]).unwrap();
    assert_eq!(cli.storage.database_url.unwrap().to_string(), "postgres://chatd@db.example:5432/chat");
    let (_dir, path) = with_file("database-url = \"postgres://chatd:hunter2@db.example:port/chat\"\n");
    let error = check(&path).unwrap_err();
    assert!(matches!(&error, ConfigFileError::BadValue { line: 1, key, .. } if key == "database-url"), "{error}");
    assert!(!error.to_string().contains("hunter2"), "{error}");
    // Beside the example's `data-dir`, it is refused, not one of them ignored.
    let (_dir, path) = with_file("data-dir = \"chatd-data\"\ndatabase-url = \"postgres://chatd@db.example/chat\"\n");
    assert!(parse(&path, &[]).is_err());
}
