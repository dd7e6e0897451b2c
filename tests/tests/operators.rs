//! Server operators end to end: `chatd op grant|revoke|list` on a stopped
//! store (SQLite, and PostgreSQL where one answers), `--operator`, a
//! broadcast reaching text, JSON, IRC and WebSocket users at once, `/kill`,
//! and the log line each operator action leaves.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use chatd_tests::cluster::Cluster;
use chatd_tests::outside::{POSTGRES, REDIS};
use chatd_tests::stores::PostgresDatabase;
use chatd_tests::{Client, READ_TIMEOUT, Server, chatd};
use serde_json::Value;
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

/// Far more than a graceful stop needs.
const EXIT_LIMIT: Duration = Duration::from_secs(15);

/// Runs `chatd ARGS...` (a maintenance command) to completion.
fn chatd_command(args: &[&str]) -> Output {
    Command::new(chatd!()).args(args).output().expect("run chatd")
}

/// Runs `chatd op ARGS... STORE...`, which must succeed; returns its stdout.
fn op(args: &[&str], store: &[&str]) -> String {
    let all: Vec<&str> = ["op"].iter().chain(args).chain(store).copied().collect();
    let output = chatd_command(&all);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "chatd {all:?}: {}\n{stderr}", output.status);
    String::from_utf8(output.stdout).expect("UTF-8")
}

fn stop(mut server: Server) {
    server.terminate();
    let status = server.wait_exit(EXIT_LIMIT);
    assert!(status.success(), "chatd exited with {status}; logs:\n{}", server.logs());
}

/// A WebSocket from chatd's own page, past its welcome, named `nick`.
fn websocket(server: &Server, nick: &str) -> WebSocket<TcpStream> {
    let addr = server.http_addr();
    let stream = TcpStream::connect(addr).expect("connect to chatd's HTTP port");
    stream.set_read_timeout(Some(READ_TIMEOUT)).expect("set read timeout");
    let mut request = format!("ws://{addr}/ws").into_client_request().expect("a request");
    request.headers_mut().insert("Origin", format!("http://{addr}").parse().expect("an origin"));
    let (mut ws, _) = tungstenite::client(request, stream).expect("a WebSocket");
    assert_eq!(ws_json(&mut ws)["type"], "welcome");
    let line = serde_json::json!({"type": "nick", "nick": nick}).to_string();
    ws.send(Message::text(line)).expect("send a frame");
    assert_eq!(ws_json(&mut ws)["type"], "nick");
    ws
}

/// The next text frame as JSON, skipping pings.
fn ws_json(ws: &mut WebSocket<TcpStream>) -> Value {
    loop {
        match ws.read().expect("a message from chatd") {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON"),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// A JSON Lines client over TCP named `nick`.
fn json_client(server: &Server, nick: &str) -> Client {
    let mut client = server.connect();
    client.first_json(&serde_json::json!({"type": "nick", "nick": nick}).to_string());
    assert_eq!(client.json()["type"], "nick");
    client
}

/// The next JSON object of type `kind` (what else comes first is skipped).
fn json_of(client: &mut Client, kind: &str) -> Value {
    loop {
        let value = client.json();
        if value["type"] == kind {
            return value;
        }
    }
}

/// Logs in `name` (registered before with `NAME-password`) on a text client.
fn log_in(server: &Server, name: &str) -> Client {
    let mut client = server.connect();
    client.expect_prefix("* Welcome to chatd, Guest");
    client.send(&format!("/login {name} {name}-password"));
    client.read_until(&format!("* logged in as {name}"));
    client
}

/// `alice`, an operator, broadcasts; a text, a JSON, an IRC and a
/// WebSocket user all get it, each in its own form, and the action is logged.
fn broadcast_reaches_every_protocol(server: &Server, mut alice: Client) {
    let mut text = server.login("tom");
    let mut json = json_client(server, "jay");
    let mut irc = server.irc("ivy", "");
    let mut ws = websocket(server, "wes");
    alice.send("/broadcast maintenance at noon");
    alice.read_until("* broadcast from alice: maintenance at noon");
    text.read_until("* broadcast from alice: maintenance at noon");
    let got = json_of(&mut json, "broadcast");
    assert_eq!((got["from"].as_str(), got["text"].as_str()), (Some("alice"), Some("maintenance at noon")), "{got}");
    assert!(got["ts"].as_u64().is_some(), "{got}");
    let line = irc.until(" NOTICE $* :maintenance at noon");
    assert!(line.starts_with(":alice!"), "{line}");
    let got = loop {
        let value = ws_json(&mut ws);
        if value["type"] == "broadcast" {
            break value;
        }
    };
    assert_eq!(got["text"], "maintenance at noon", "{got}");
    server.wait_for_log("server operator action");
    let logs = server.logs();
    let logged = logs.lines().find(|l| l.contains("server operator action")).expect("logged");
    assert!(logged.contains("operator=alice") && logged.contains("action=broadcast"), "{logged}");
    // Anyone else is refused, and nobody hears it.
    text.send("/broadcast me too");
    text.expect("! only server operators may do that");
}

#[test]
fn an_operator_granted_on_a_stopped_store_broadcasts_to_every_protocol_until_revoked() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    let store = ["--data-dir", dir.to_str().unwrap()];
    assert_eq!(op(&["grant", "Alice"], &store), "Alice is a server operator from chatd's next start\n");
    assert_eq!(op(&["list"], &store), "Alice\n");

    let server = Server::start_in(chatd!(), &dir, &[]);
    // While chatd holds the data directory, no grant is written behind its back.
    let refused = chatd_command(&["op", "grant", "bob", "--data-dir", dir.to_str().unwrap()]);
    assert!(!refused.status.success());
    let alice = server.register("alice", "alice-password");
    broadcast_reaches_every_protocol(&server, alice);
    stop(server);

    assert_eq!(op(&["revoke", "alice"], &store), "alice is no server operator from chatd's next start\n");
    assert_eq!(op(&["list"], &store), "");
    let again = chatd_command(&["op", "revoke", "alice", "--data-dir", dir.to_str().unwrap()]);
    assert!(!again.status.success(), "a revocation of nothing is an error");
    let server = Server::start_in(chatd!(), &dir, &[]);
    let mut alice = log_in(&server, "alice");
    alice.send("/broadcast still here?");
    alice.expect("! only server operators may do that");
}

#[test]
fn a_grant_name_that_no_account_can_have_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let output = chatd_command(&["op", "grant", "not a name", "--data-dir", data.path().to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not an account name"), "{output:?}");
}

#[test]
fn an_operator_named_on_the_command_line_kills_a_connection() {
    let server = Server::start(chatd!(), &["--operator", "carol"]);
    let mut carol = server.register("carol", "carol-password");
    let (mut bob, mut mate) = server.two_in_room("bob", "mate", "den");
    carol.send("/kill bob flooding");
    carol.expect("* bob was disconnected");
    bob.read_until("* bye: disconnected by a server operator carol: flooding");
    bob.expect_eof();
    mate.expect("* bob disconnected (disconnected by a server operator carol: flooding)");
    server.wait_for_log("action=kill");
}

#[test]
fn an_operator_granted_in_postgresql_broadcasts_to_every_protocol() {
    let Some(db) = PostgresDatabase::new() else { return };
    let url = db.database().url().to_owned();
    let store = ["--database-url", url.as_str()];
    op(&["grant", "alice"], &store);
    assert_eq!(op(&["list"], &store), "alice\n");
    let server = Server::start_on_database(chatd!(), &url, &[]);
    let alice = server.register("alice", "alice-password");
    broadcast_reaches_every_protocol(&server, alice);
}

#[cfg(unix)]
#[test]
fn in_a_cluster_a_broadcast_reaches_the_users_of_every_node() {
    if !(POSTGRES.present() && REDIS.present()) {
        return;
    }
    let cluster = Cluster::start(chatd!(), 2, &["--operator", "alice", "--flood-lines-per-sec", "0"]);
    let mut alice = cluster.node(1).register("alice", "alice-password");
    let mut near = cluster.node(1).login("near");
    let mut far = cluster.node(2).login("far");
    alice.send("/broadcast hello, both nodes");
    for client in [&mut alice, &mut near, &mut far] {
        client.read_until("* broadcast from alice: hello, both nodes");
    }
}

/// The store lists only grants, not `--operator` names.
#[test]
fn list_on_a_fresh_data_directory_is_empty() {
    let data = tempfile::tempdir().unwrap();
    let dir: &Path = data.path();
    assert_eq!(op(&["list"], &["--data-dir", dir.to_str().unwrap()]), "");
}
