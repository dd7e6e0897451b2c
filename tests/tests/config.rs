//! `--config FILE`, `chatd check-config` and `--log-format json`, as an
//! operator meets them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use chatd_tests::{READ_TIMEOUT, Server, chatd};

/// The example configuration shipped with chatd.
fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../contrib/chatd.toml")
}

/// A directory holding `chatd.toml` with `text`, and the file's path.
fn config_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chatd.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn run(args: &[&str]) -> Output {
    Command::new(chatd!()).args(args).output().unwrap()
}

fn stderr_text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_limit_set_in_the_file_takes_effect() {
    let (_dir, path) = config_file("# lines of at most 64 bytes\nmax-line-bytes = 64\n");
    let server = Server::start(chatd!(), &["--config", path.to_str().unwrap()]);
    let mut client = server.connect();
    client.expect_prefix("* Welcome to chatd");
    client.send(&"x".repeat(65));
    client.expect("! line too long (over 64 bytes); it was discarded");
}

#[test]
fn a_flag_on_the_command_line_overrides_the_file() {
    let (_dir, path) = config_file("max-line-bytes = 64\n");
    let server = Server::start(chatd!(), &["--config", path.to_str().unwrap(), "--max-line-bytes", "200"]);
    let mut client = server.connect();
    client.expect_prefix("* Welcome to chatd");
    client.send(&"x".repeat(100));
    client.send("/users");
    let before = client.read_until_prefix("* online (");
    assert!(before.iter().all(|line| !line.contains("line too long")), "{before:?}");
}

#[test]
fn an_unknown_key_is_refused_with_its_line() {
    let (_dir, path) = config_file("max-line-bytes = 64\n\n# typo below\nmax-line-byte = 64\n");
    let output = run(&["--config", path.to_str().unwrap(), "--ephemeral"]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "nothing should claim to be listening");
    let stderr = stderr_text(&output);
    assert!(stderr.contains("line 4: unknown key `max-line-byte`"), "{stderr}");
}

#[test]
fn a_value_of_the_wrong_type_is_refused_with_its_key_and_line() {
    let (_dir, path) = config_file("listen = \"127.0.0.1:0\"\nmax-line-bytes = \"4096\"\n");
    let output = run(&["--config", path.to_str().unwrap(), "--ephemeral"]);
    assert!(!output.status.success());
    let stderr = stderr_text(&output);
    assert!(stderr.contains("line 2: `max-line-bytes`: expects an integer, not a string"), "{stderr}");

    // A value of the right type that the flag refuses is named the same way.
    let (_dir, path) = config_file("\nlisten = \"localhost\"\n");
    let output = run(&["check-config", path.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = stderr_text(&output);
    assert!(stderr.contains("line 2: `listen`"), "{stderr}");
}

#[test]
fn check_config_says_ok_or_what_is_wrong() {
    let (_dir, path) = config_file("max-line-bytes = 4096\nallowed-origin = [\"https://chat.example.com\"]\n");
    let output = run(&["check-config", path.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr_text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.trim(), format!("{}: ok", path.display()));

    // Each key is fine alone; the engine refuses them together.
    let (_dir, path) = config_file("idle-timeout = 10\nidle-warning = 20\n");
    let output = run(&["check-config", path.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = stderr_text(&output);
    assert!(stderr.contains("must be shorter than idle_timeout"), "{stderr}");

    let output = run(&["check-config", "no-such-file.toml"]);
    assert!(!output.status.success());
    assert!(stderr_text(&output).contains("cannot read no-such-file.toml"));
}

#[test]
fn the_example_file_loads_and_has_every_flag() {
    let example_path = example();
    let output = run(&["check-config", example_path.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr_text(&output));

    let text = std::fs::read_to_string(&example_path).unwrap();
    let help = String::from_utf8(run(&["--help"]).stdout).unwrap();
    let flags: Vec<&str> = help
        .lines()
        .filter_map(|line| line.strip_prefix("      --"))
        .map(|rest| rest.split([' ', '=']).next().unwrap())
        .filter(|flag| !["config", "help", "version"].contains(flag))
        .collect();
    assert!(flags.len() > 40, "--help should list chatd's flags: {flags:?}");
    for flag in flags {
        let set = format!("{flag} = ");
        let shown = format!("# {flag} = ");
        assert!(
            text.lines().any(|line| line.starts_with(&set) || line.starts_with(&shown)),
            "{flag} is missing from contrib/chatd.toml"
        );
    }
}

/// Every line of `logs` is a JSON object with a level and a message.
fn assert_json_lines(logs: &str) {
    assert!(!logs.trim().is_empty(), "no logs at all");
    for line in logs.lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}\n{logs}"));
        assert!(value["level"].is_string(), "{line}");
        assert!(value["fields"]["message"].is_string(), "{line}");
    }
}

#[test]
fn json_logs_are_one_object_per_line() {
    let mut server = Server::start(chatd!(), &["--log-format", "json"]);
    let mut client = server.connect();
    client.expect_prefix("* Welcome to chatd");
    server.wait_for_log("\"listening\"");
    server.terminate();
    assert!(server.wait_exit(READ_TIMEOUT).success());
    // The stderr reader finishes once the pipe closes.
    std::thread::sleep(Duration::from_millis(100));
    let logs = server.logs();
    assert!(logs.contains("\"stopped\""), "{logs}");
    assert_json_lines(&logs);
}

#[test]
fn json_logs_stay_json_when_chatd_cannot_start() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output =
        run(&["--log-format=json", "--ephemeral", "--listen", &addr, "--irc-listen=none", "--http-listen=none"]);
    assert!(!output.status.success());
    let logs = stderr_text(&output);
    assert!(logs.contains(&format!("cannot listen on {addr}")), "{logs}");
    assert_json_lines(&logs);
}

#[test]
fn the_log_format_may_come_from_the_file() {
    let (_dir, path) = config_file("log-format = \"json\"\nephemeral = true\n");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output =
        run(&["--config", path.to_str().unwrap(), "--listen", &addr, "--irc-listen=none", "--http-listen=none"]);
    assert!(!output.status.success());
    assert_json_lines(&stderr_text(&output));
}

/// Values an operator would never mean, or that someone else's file could
/// use against the machine: each is refused by `check-config` and at start,
/// with its line and the range it must be in.
#[test]
fn nonsense_and_dangerous_values_are_refused_with_their_range() {
    let cases = [
        ("max-line-bytes = 4294967296000", "must be between 8 and 1048576"),
        ("hash-threads = 100000", "must be between 1 and 64"),
        ("ws-ping-interval = 0.0001", "must be 0 (off) or between 0.1 and 86400 seconds"),
        ("registration-timeout = 1e-9", "must be 0 (off) or between 0.1 and 86400 seconds"),
        ("max-per-ip = 20000000", "must be 0 (off) or between 1 and 10000000"),
        // A line break would write a line of its own into every IRC welcome.
        ("server-name = \"chatd\\r\\n:evil 001 you :injected\"", "holds '\\r', which is not allowed"),
        ("server-name = \"chat server\"", "holds ' ', which is not allowed"),
    ];
    for (line, wanted) in cases {
        let (dir, path) = config_file(&format!("{line}\n"));
        let output = run(&["check-config", path.to_str().unwrap()]);
        let stderr = stderr_text(&output);
        assert_eq!(output.status.code(), Some(1), "{line} was accepted: {stderr}");
        assert!(stderr.contains("line 1") && stderr.contains(wanted), "{line}: {stderr}");
        let (status, stderr) = Server::fail_to_start(chatd!(), dir.path(), &["--config", path.to_str().unwrap()]);
        assert!(!status.success() && stderr.contains(wanted), "{line}: {stderr}");
    }
    let long = format!("server-name = \"{}\"\n", "a".repeat(200));
    let (_dir, path) = config_file(&long);
    let stderr = stderr_text(&run(&["check-config", path.to_str().unwrap()]));
    assert!(stderr.contains("is 200 bytes long, more than 63"), "{stderr}");
}

#[test]
fn a_file_larger_than_any_configuration_is_not_read() {
    // 2 MiB of comments: valid TOML, but no configuration is that large.
    let (_dir, path) = config_file(&"# a comment line of some length, repeated\n".repeat(50_000));
    let output = run(&["check-config", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr_text(&output).contains("is larger than 1048576 bytes"), "{}", stderr_text(&output));
    // An endless file is read only up to the cap.
    let output = run(&["check-config", "/dev/zero"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr_text(&output).contains("/dev/zero is larger than 1048576 bytes"), "{}", stderr_text(&output));
}
