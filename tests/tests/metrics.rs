//! `GET /metrics` on the metrics port: scraped before and after clients
//! of every transport connect, talk, fail a login and flood, the series
//! move as they should. The public HTTP port does not serve them.

use std::net::{SocketAddr, TcpStream};

use chatd_tests::metrics::{Scrape, get, scrape, scrape_until};
use chatd_tests::{Client, READ_TIMEOUT, Server, chatd};
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

type Ws = WebSocket<TcpStream>;

/// A WebSocket from chatd's own page, past its welcome.
fn websocket(addr: SocketAddr) -> Ws {
    let stream = TcpStream::connect(addr).expect("connect to chatd's HTTP port");
    stream.set_read_timeout(Some(READ_TIMEOUT)).expect("set read timeout");
    let mut request = format!("ws://{addr}/ws").into_client_request().expect("a request");
    request.headers_mut().insert("Origin", format!("http://{addr}").parse().expect("an origin header"));
    let (mut ws, _) = tungstenite::client(request, stream).expect("a WebSocket");
    match ws.read().expect("the welcome") {
        Message::Text(text) => assert!(text.contains(r#""type":"welcome""#), "{text}"),
        other => panic!("expected the welcome, got {other:?}"),
    }
    ws
}

const TRANSPORTS: [&str; 4] = ["text", "json", "irc", "websocket"];

fn connections(scraped: &Scrape) -> [f64; 4] {
    TRANSPORTS.map(|t| scraped.get(&format!("chatd_connections{{transport=\"{t}\"}}")))
}

#[test]
fn metrics_follow_connections_messages_and_refusals() {
    let server = Server::start(chatd!(), &["--flood-burst", "3", "--flood-lines-per-sec", "1"]);
    let (http, metrics) = (server.http_addr(), server.metrics_addr());
    let before = scrape(metrics);
    assert_eq!(before.get(&format!("chatd_build_info{{version=\"{}\"}}", env!("CARGO_PKG_VERSION"))), 1.0);
    assert_eq!(connections(&before), [0.0; 4]);
    assert_eq!((before.get("chatd_clients"), before.get("chatd_rooms")), (0.0, 0.0));
    assert_eq!(before.get("chatd_store_failing"), 0.0);

    // One of each transport, and two text clients who talk.
    let (mut alice, mut bob) = server.two_in_room("alice", "bob", "rust");
    let mut json = Client::connect(server.addr());
    json.first_json(r#"{"type":"nick","nick":"dora"}"#);
    json.json();
    let _carol = server.irc("carol", "");
    let ws = websocket(http);
    alice.send("hello, bob");
    bob.expect("[rust] alice: hello, bob");

    // A failed login, for a name that has no account.
    let mut guesser = server.connect();
    guesser.expect_prefix("* Welcome to chatd, Guest");
    guesser.send("/login nobody wrong-password");
    guesser.expect("! wrong name or password (2 more tries before a pause)");

    // A flood: every line is answered, either as an unknown command or
    // refused by flood control; count the refusals as the client saw them.
    let mut flooder = server.connect();
    flooder.expect_prefix("* Welcome to chatd, Guest");
    flooder.send_bytes("/frobnicate\n".repeat(10).as_bytes());
    let refused = (0..10).filter(|_| !flooder.line().contains("unknown command")).count();
    assert!(refused >= 1, "a burst of 3 cannot take 10 lines at once");

    let after = scrape(metrics);
    // alice, bob, the guesser and the flooder on text; dora switched to JSON.
    assert_eq!(connections(&after), [4.0, 1.0, 1.0, 1.0]);
    assert_eq!((after.get("chatd_clients"), after.get("chatd_rooms")), (7.0, 1.0));
    let moved = |series: &str| after.get(series) - before.get(series);
    assert_eq!(moved("chatd_messages_total"), 1.0);
    assert_eq!(moved("chatd_login_failures_total"), 1.0);
    assert_eq!(moved("chatd_password_checks_total{params=\"chatd\"}"), 1.0, "the stand-in check");
    assert_eq!(moved("chatd_password_checks_total{params=\"other\"}"), 0.0);
    assert_eq!(moved("chatd_lockouts_total"), 0.0);
    assert_eq!(moved("chatd_flood_refusals_total"), refused as f64);
    assert_eq!(moved("chatd_send_queue_cuts_total"), 0.0);
    assert!(moved("chatd_lines_received_total") >= 16.0, "at least the flood and the guesser's line, and more");
    assert!(moved("chatd_deliveries_total") >= 20.0, "every welcome and every answer");
    assert!(moved("chatd_written_bytes_total") > 0.0);
    assert!(moved("chatd_engine_batch_events_count") >= 1.0);
    assert!(moved("chatd_engine_batch_duration_seconds_count") >= 1.0);
    // The room and the message were stored, in at least one commit.
    assert!(moved("chatd_store_commit_records_count") >= 1.0);
    assert!(moved("chatd_store_commit_records_sum") >= 2.0, "the room and the message at least");
    assert_eq!(
        after.get("chatd_store_commit_duration_seconds_count"),
        after.get("chatd_store_commit_records_count"),
        "every batch sent was committed before its sends went out"
    );
    assert!(after.get("chatd_uptime_seconds") >= before.get("chatd_uptime_seconds"));

    // Leaving takes each client off its transport.
    drop(ws);
    bob.send("/quit");
    let gone = scrape_until(metrics, "chatd_clients", 5.0);
    assert_eq!(connections(&gone), [3.0, 1.0, 1.0, 0.0]);
}

#[test]
fn an_ephemeral_server_commits_nothing() {
    let server = Server::start(chatd!(), &["--ephemeral"]);
    let (mut alice, mut bob) = server.two_in_room("alice", "bob", "rust");
    alice.send("hi");
    bob.expect("[rust] alice: hi");
    let scraped = scrape(server.metrics_addr());
    assert_eq!(scraped.get("chatd_messages_total"), 1.0);
    assert_eq!(scraped.get("chatd_store_commit_records_count"), 0.0);
    assert_eq!(scraped.get("chatd_store_held_bytes"), 0.0);
}

#[test]
fn metrics_are_served_on_their_own_port_only() {
    let server = Server::start(chatd!(), &[]);
    let (http, metrics) = (server.http_addr(), server.metrics_addr());
    let (head, _) = get(http, "/metrics");
    assert!(head.starts_with("HTTP/1.1 404 "), "the public port keeps the figures to itself: {head}");
    let (head, body) = get(metrics, "/healthz");
    assert!(head.starts_with("HTTP/1.1 200 ") && body == "ok\n", "{head}\n{body}");
    let (head, _) = get(metrics, "/");
    assert!(head.starts_with("HTTP/1.1 404 "), "nothing but metrics and health there: {head}");
    assert!(scrape(metrics).get("chatd_uptime_seconds") >= 0.0);
}
