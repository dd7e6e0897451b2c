//! No password or password hash ever leaves chatd: not in any line a
//! client receives (text or JSON, on success or on any refusal) and not in
//! chatd's logs at trace level, before and after a restart.

#![cfg(unix)]

use chatd_tests::{Client, Server, chatd};

/// Every line a client got, kept for a scan at the end.
struct Recorder<'a> {
    client: Client,
    seen: &'a mut Vec<String>,
}

impl Recorder<'_> {
    fn send(&mut self, line: &str) {
        self.client.send(line);
    }

    fn line(&mut self) -> String {
        let line = self.client.line();
        self.seen.push(line.clone());
        line
    }

    fn expect_prefix(&mut self, prefix: &str) {
        let line = self.line();
        assert!(line.starts_with(prefix), "expected {prefix:?}, got {line:?}");
    }
}

/// Everything the secrets test does on one server; returns nothing but
/// the lines it recorded.
fn exercise_every_password_path(server: &Server, seen: &mut Vec<String>) {
    let mut text = Recorder { client: server.connect(), seen };
    text.expect_prefix("* Welcome");
    text.send("/register carol Zq8-first Zq8-second");
    text.expect_prefix("! the passwords do not match");
    text.send("/register carol Zq8-sh Zq8-sh");
    text.expect_prefix("! the password must be at least");
    text.send("/register carol Zq8-carol-pw Zq8-carol-pw");
    text.expect_prefix("* account carol registered");
    text.expect_prefix("* you are now known as carol");
    text.expect_prefix("* logged in as carol");
    text.send("/login carol Zq8-carol-pw");
    text.expect_prefix("! you are logged in as carol already");
    text.send("/quit");
    text.expect_prefix("* bye");
    let seen = text.seen;

    let mut json = Recorder { client: server.connect(), seen };
    json.expect_prefix("* Welcome");
    json.send(r#"{"type":"register","name":"dan","password":"Zq8-dan-pw","confirm":"Zq8-dan-pw"}"#);
    for _ in 0..4 {
        json.line(); // welcome, registered, nick, logged_in
    }
    json.send(r#"{"type":"register","name":"dan","password":"Zq8-dan-pw","confirm":"Zq8-dan-pw"}"#);
    json.expect_prefix(r#"{"type":"error","code":"already_logged_in""#);
    json.send(r#"{"type":"login","name":"dan","password":"Zq8-dan-pw"}"#);
    json.expect_prefix(r#"{"type":"error","code":"already_logged_in""#);
    let seen = json.seen;

    let mut guesser = Recorder { client: server.connect(), seen };
    guesser.expect_prefix("* Welcome");
    for guess in ["Zq8-guess-1", "Zq8-guess-2", "Zq8-guess-3", "Zq8-carol-pw"] {
        guesser.send(&format!("/login carol {guess}"));
        guesser.expect_prefix("! ");
    }
    guesser.send("/login carol Zq8 with spaces");
    guesser.expect_prefix("! usage:");
    guesser.send(&format!("/login dan {}", "Zq8-long".repeat(300)));
    guesser.expect_prefix("! line too long");
    guesser.send("/login dan Zq8-dan-pw");
    guesser.expect_prefix("* you are now known as dan");
    guesser.expect_prefix("* logged in as dan");
    guesser.send("/quit");
    guesser.expect_prefix("* bye");
}

/// Stops chatd gracefully and returns everything it logged.
fn stop(mut server: Server) -> String {
    server.terminate();
    assert!(server.wait_exit(std::time::Duration::from_secs(10)).success());
    server.wait_for_log("stopped");
    server.logs()
}

#[test]
fn no_password_or_hash_appears_in_any_line_or_log_even_at_trace_level() {
    let data = tempfile::tempdir().expect("a temporary data directory");
    let args = ["--flood-lines-per-sec", "0"];
    let mut seen = Vec::new();
    let mut logs = String::new();
    {
        let server = Server::start_in_logging(chatd!(), data.path(), &args, "trace");
        exercise_every_password_path(&server, &mut seen);
        logs.push_str(&stop(server));
    }
    // Again after a restart, when the hashes come from the database.
    {
        let server = Server::start_in_logging(chatd!(), data.path(), &args, "trace");
        let mut client = Recorder { client: server.connect(), seen: &mut seen };
        client.expect_prefix("* Welcome");
        client.send("/login carol Zq8-wrong-after-restart");
        client.expect_prefix("! wrong name or password");
        client.send("/login carol Zq8-carol-pw");
        client.expect_prefix("* you are now known as carol");
        client.expect_prefix("* logged in as carol");
        client.send("/quit");
        client.expect_prefix("* bye");
        // Hung up, so that shutdown need not wait for this connection to linger out.
        drop(client);
        logs.push_str(&stop(server));
    }
    assert!(logs.contains("migrated the database"), "chatd's logs should have been read:\n{logs}");
    // Every password above starts with Zq8; argon2 hashes are PHC strings.
    for secret in ["Zq8", "argon2", "$v=19$", "m=19456"] {
        for line in &seen {
            assert!(!line.contains(secret), "a client got {secret:?}: {line}");
        }
        assert!(!logs.contains(secret), "chatd logged {secret:?}:\n{logs}");
    }
}
