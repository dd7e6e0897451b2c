//! Session tokens against the real chatd: issued over JSON, presented
//! instead of the password on a new connection and after a restart,
//! revoked by `/logout-all` and by a password change, and across the
//! nodes of a cluster. Expiry is tested in the engine, with simulated time.

use std::time::{Duration, Instant};

use chatd_tests::cluster::Cluster;
use chatd_tests::outside::{POSTGRES, REDIS};
use chatd_tests::{Client, Server, chatd};
use serde_json::{Value, json};

const PASSWORD: &str = "Zq8-open-sesame";

/// Reads JSON objects until one of `kind`, which it returns.
fn until(client: &mut Client, kind: &str) -> Value {
    loop {
        let value = client.json();
        if value["type"] == kind {
            return value;
        }
        assert_ne!(value["type"], "error", "waiting for {kind}: {value}");
    }
}

/// A JSON client whose first line is `request`.
fn json_client(server: &Server, request: &Value) -> Client {
    let mut client = server.connect();
    client.first_json(&request.to_string());
    client
}

/// Registers `name` over JSON and asks for a token; returns the client and the token.
fn registered_with_token(server: &Server, name: &str) -> (Client, String) {
    let register = json!({"type": "register", "name": name, "password": PASSWORD, "confirm": PASSWORD});
    let mut client = json_client(server, &register);
    until(&mut client, "logged_in");
    client.send(&json!({"type": "token"}).to_string());
    let token = until(&mut client, "token");
    let text = token["token"].as_str().expect("a token").to_owned();
    assert!(text.starts_with("tok_"), "{token}");
    (client, text)
}

fn resume(token: &str) -> Value {
    json!({"type": "resume", "token": token})
}

#[test]
fn a_token_logs_in_again_after_a_restart_until_logout_all_revokes_it() {
    let data = tempfile::tempdir().expect("a temporary data directory");
    let token = {
        let server = Server::start_in(chatd!(), data.path(), &[]);
        let (mut alice, token) = registered_with_token(&server, "alice");
        alice.send(r#"{"type":"sessions"}"#);
        let sessions = until(&mut alice, "sessions");
        assert_eq!(sessions["sessions"].as_array().map(Vec::len), Some(1), "{sessions}");
        assert!(!sessions.to_string().contains(&token[21..]), "never the secret: {sessions}");
        alice.send(r#"{"type":"quit"}"#);
        until(&mut alice, "bye");
        let mut again = json_client(&server, &resume(&token));
        assert_eq!(until(&mut again, "logged_in")["name"], "alice");
        token
        // Dropping the server kills it: what a client was told is on disk.
    };
    let server = Server::start_in(chatd!(), data.path(), &[]);
    let mut alice = json_client(&server, &resume(&token));
    assert_eq!(until(&mut alice, "logged_in")["name"], "alice");
    // The text protocol spells it too.
    let mut text = server.connect();
    text.expect_prefix("* Welcome");
    text.send(&format!("/resume {token}"));
    text.read_until("* logged in as alice");
    text.send("/logout-all");
    text.expect("* 1 session token revoked; your other connections are closed");
    let mut late = json_client(&server, &resume(&token));
    late.json_error("token_refused");
}

#[test]
fn a_password_change_revokes_every_token_and_the_old_password() {
    let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0"]);
    let (mut alice, token) = registered_with_token(&server, "alice");
    let new = "Zq8-second-sesame";
    let change = json!({"type": "password", "old": "Zq8-wrong-one", "new": new, "confirm": new});
    alice.send(&change.to_string());
    alice.json_error("login_failed");
    let change = json!({"type": "password", "old": PASSWORD, "new": new, "confirm": new});
    alice.send(&change.to_string());
    assert_eq!(until(&mut alice, "password_changed")["name"], "alice");
    let mut stolen = json_client(&server, &resume(&token));
    stolen.json_error("token_refused");
    let mut old = json_client(&server, &json!({"type": "login", "name": "alice", "password": PASSWORD}));
    old.json_error("login_failed");
    let mut owner = json_client(&server, &json!({"type": "login", "name": "alice", "password": new}));
    assert_eq!(until(&mut owner, "logged_in")["name"], "alice");
}

/// In a cluster, a token issued on one node logs in on another once the
/// change feed brings its record there, and a revocation travels back.
#[test]
fn a_token_issued_on_one_node_works_on_another_until_revoked_there() {
    if !(POSTGRES.present() && REDIS.present()) {
        return;
    }
    // Resumes tried before the record arrives count as failures: allow many.
    let cluster = Cluster::start(chatd!(), 2, &["--flood-lines-per-sec", "0", "--max-login-failures", "1000"]);
    let (mut alice, token) = registered_with_token(cluster.node(1), "alice");
    alice.send(r#"{"type":"quit"}"#);
    until(&mut alice, "bye");
    let mut there = resume_eventually(cluster.node(2), &token, "logged_in");
    there.send(r#"{"type":"logout_all"}"#);
    assert_eq!(until(&mut there, "revoked")["count"], 1);
    resume_eventually(cluster.node(1), &token, "error");
}

/// Presents `token` on new connections to `server` until the answer is of
/// `kind` (`logged_in`, or `error` for a refusal).
fn resume_eventually(server: &Server, token: &str, kind: &str) -> Client {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut client = json_client(server, &resume(token));
        let answer = loop {
            let value = client.json();
            if value["type"] == "logged_in" || value["type"] == "error" {
                break value;
            }
        };
        // Until the revocation arrives, the token is good but the name is
        // still the other node's session's (`nick_taken`).
        if answer["type"] == kind && (kind != "error" || answer["code"] == "token_refused") {
            return client;
        }
        assert!(Instant::now() < deadline, "still {answer} after 20 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}
