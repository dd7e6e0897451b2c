//! WebSocket clients on chatd's HTTP port: the JSON Lines protocol one
//! object per text frame, shared rooms with TCP users, the Origin check,
//! the per-IP cap shared with TCP, and every way a peer can break the
//! WebSocket protocol, each closing that connection alone with its code.
//!
//! Well-formed traffic goes through tungstenite's client; malformed frames
//! are written as raw bytes after a handshake done by hand.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use chatd_tests::{READ_TIMEOUT, Server, chatd};
use serde_json::{Value, json};
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::HandshakeError;
use tungstenite::{Message, WebSocket};

type Ws = WebSocket<TcpStream>;

/// A WebSocket to `addr`'s `/ws`, sending `origin` as a browser would.
fn try_connect(addr: SocketAddr, origin: Option<&str>) -> Result<Ws, tungstenite::Error> {
    let stream = TcpStream::connect(addr).expect("connect to chatd's HTTP port");
    stream.set_read_timeout(Some(READ_TIMEOUT)).expect("set read timeout");
    let mut request = format!("ws://{addr}/ws").into_client_request().expect("a request");
    if let Some(origin) = origin {
        request.headers_mut().insert("Origin", origin.parse().expect("an origin header"));
    }
    tungstenite::client(request, stream).map(|(ws, _)| ws).map_err(|error| match error {
        HandshakeError::Failure(error) => error,
        HandshakeError::Interrupted(_) => panic!("a blocking handshake was interrupted"),
    })
}

/// A WebSocket from chatd's own page (same origin), past its welcome.
fn connect(server: &Server) -> Ws {
    let addr = server.http_addr();
    let mut ws = try_connect(addr, Some(&format!("http://{addr}"))).expect("a WebSocket");
    let welcome = json(&mut ws);
    assert!(welcome_ok(&welcome), "{welcome}");
    ws
}

/// The next text frame as JSON, skipping pings.
fn json(ws: &mut Ws) -> Value {
    loop {
        match ws.read().expect("a message from chatd") {
            Message::Text(text) => {
                assert!(!text.contains('\n'), "one line per frame: {text:?}");
                return serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
            }
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

fn send(ws: &mut Ws, value: &Value) {
    ws.send(Message::text(value.to_string())).expect("send to chatd");
}

/// Reads until the close frame; checks its code; returns the JSON before it.
fn expect_close(ws: &mut Ws, code: u16) -> Vec<Value> {
    let mut before = Vec::new();
    loop {
        match ws.read() {
            Ok(Message::Text(text)) => before.push(serde_json::from_str(&text).expect("JSON")),
            Ok(Message::Close(frame)) => {
                let frame = frame.expect("a close frame with a code");
                assert_eq!(u16::from(frame.code), code, "closed with {frame:?} after {before:?}");
                return before;
            }
            Ok(_) => {}
            Err(error) => panic!("expected a close frame with {code}, got {error} after {before:?}"),
        }
    }
}

/// The JSON welcome, naming some guest.
fn welcome_ok(value: &Value) -> bool {
    value["type"] == "welcome" && value["nick"].as_str().is_some_and(|n| n.starts_with("Guest"))
}

/// A WebSocket with its welcome read, by the raw-bytes route: the
/// handshake written by hand, the socket returned for raw frames.
fn raw(server: &Server) -> TcpStream {
    let addr = server.http_addr();
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(READ_TIMEOUT)).expect("set read timeout");
    write!(
        stream,
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .expect("write the handshake");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        stream.read_exact(&mut byte).expect("read the handshake answer");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).expect("a text head");
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), "{head}");
    let (opcode, welcome) = read_frame(&mut stream).expect("the welcome frame");
    assert_eq!(opcode, 1);
    assert!(welcome_ok(&serde_json::from_slice(&welcome).expect("JSON")), "{welcome:?}");
    stream
}

/// One frame as a client must send it: masked (unless `mask` is false).
fn frame(fin: bool, opcode: u8, payload: &[u8], mask: bool) -> Vec<u8> {
    let mut out = vec![u8::from(fin) << 7 | opcode];
    let mask_bit = u8::from(mask) << 7;
    match payload.len() {
        n @ 0..=125 => out.push(mask_bit | n as u8),
        n @ 126..=65535 => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let key = [0x37, 0xfa, 0x21, 0x3d];
    if mask {
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// One frame from the server (never masked): its opcode and payload;
/// `None` at end of stream.
fn read_frame(stream: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut head = [0; 2];
    match stream.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if matches!(e.kind(), ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset) => return None,
        Err(e) => panic!("reading a frame: {e}"),
    }
    assert_eq!(head[1] & 0x80, 0, "a server frame is never masked");
    let len = match head[1] & 0x7f {
        126 => {
            let mut len = [0; 2];
            stream.read_exact(&mut len).expect("length");
            u64::from(u16::from_be_bytes(len))
        }
        127 => {
            let mut len = [0; 8];
            stream.read_exact(&mut len).expect("length");
            u64::from_be_bytes(len)
        }
        n => u64::from(n),
    };
    let mut payload = vec![0; usize::try_from(len).expect("a sane length")];
    stream.read_exact(&mut payload).expect("payload");
    Some((head[0] & 0x0f, payload))
}

/// Reads raw frames until the close frame, and returns its code.
fn raw_close_code(stream: &mut TcpStream) -> u16 {
    loop {
        match read_frame(stream) {
            Some((8, payload)) => return u16::from_be_bytes([payload[0], payload[1]]),
            Some(_) => {}
            None => panic!("the connection ended without a close frame"),
        }
    }
}

/// A text user and a WebSocket user in room `room`, both past the join.
fn text_and_ws_in_room(server: &Server, room: &str) -> (chatd_tests::Client, Ws) {
    let mut text = server.login("alice");
    text.send(&format!("/create {room}"));
    text.expect(&format!("* room {room} created"));
    text.expect(&format!("* you are now in {room} (1 here)"));
    let mut ws = connect(server);
    send(&mut ws, &json!({"type": "nick", "nick": "webby"}));
    assert_eq!(json(&mut ws)["new"], "webby");
    send(&mut ws, &json!({"type": "join", "room": room}));
    assert_eq!(json(&mut ws), json!({"type": "joined", "room": room, "nick": "webby", "members": 2}));
    text.expect(&format!("* webby joined {room}"));
    (text, ws)
}

/// The bystander still chats: a bad peer disturbed nobody else.
fn still_chatting(text: &mut chatd_tests::Client, ws: &mut Ws) {
    text.send("still here?");
    let message = json(ws);
    assert_eq!((message["from"].as_str(), message["text"].as_str()), (Some("alice"), Some("still here?")));
    send(ws, &json!({"type": "say", "room": "r", "text": "yes"}));
    text.expect("[r] webby: yes");
}

/// Per-connection lines (a protocol breach, a missed ping) are logged at
/// `debug` only, so that churn cannot flood the log.
const DEBUG: &str = "info,chatd=debug";

#[test]
fn a_websocket_user_chats_with_a_text_user() {
    let server = Server::start(chatd!(), &[]);
    let addr = server.http_addr();
    let mut ws = try_connect(addr, Some(&format!("http://{addr}"))).expect("a WebSocket");
    // JSON from the first frame: no text welcome, no JSON line needed first.
    assert_eq!(json(&mut ws), json!({"type": "welcome", "server": "chatd", "nick": "Guest1"}));
    send(&mut ws, &json!({"type": "nick", "nick": "webby"}));
    assert_eq!(json(&mut ws), json!({"type": "nick", "old": "Guest1", "new": "webby"}));
    send(&mut ws, &json!({"type": "create", "room": "ops"}));
    assert_eq!(json(&mut ws), json!({"type": "created", "room": "ops"}));
    assert_eq!(json(&mut ws), json!({"type": "joined", "room": "ops", "nick": "webby", "members": 1}));

    let mut text = server.login("alice");
    text.send("/join ops");
    text.expect("* you are now in ops (2 here)");
    assert_eq!(json(&mut ws), json!({"type": "joined", "room": "ops", "nick": "alice", "members": 2}));

    send(&mut ws, &json!({"type": "say", "room": "ops", "text": "hello from the browser"}));
    text.expect("[ops] webby: hello from the browser");
    // The sender's own copy, with the seq it was stored under.
    let own = json(&mut ws);
    assert_eq!((own["from"].as_str(), own["seq"].as_u64()), (Some("webby"), Some(1)));
    text.send("hello from nc");
    let message = json(&mut ws);
    assert_eq!(
        (message["type"].as_str(), message["from"].as_str(), message["text"].as_str()),
        (Some("message"), Some("alice"), Some("hello from nc"))
    );

    send(&mut ws, &json!({"type": "msg", "to": "alice", "text": "psst"}));
    assert_eq!(json(&mut ws)["type"], "whisper");
    assert!(text.expect_prefix("[whisper from webby ").ends_with("] psst"));
    text.send("/msg webby back at you");
    text.expect_prefix("[whisper to webby ");
    let whisper = json(&mut ws);
    assert_eq!((whisper["from"].as_str(), whisper["text"].as_str()), (Some("alice"), Some("back at you")));

    // Not JSON: a JSON error, and the connection stays.
    ws.send(Message::text("/nick text-style")).unwrap();
    assert_eq!(json(&mut ws)["code"], "bad_json");

    send(&mut ws, &json!({"type": "quit", "reason": "tab closed"}));
    let before = expect_close(&mut ws, 1000);
    assert_eq!(before, [json!({"type": "bye", "code": "quit", "reason": "quit: tab closed"})]);
    text.expect("* webby disconnected (quit: tab closed)");
}

#[test]
fn pages_from_other_sites_are_refused_unless_allowed() {
    let server = Server::start(chatd!(), &[]);
    let addr = server.http_addr();
    let mut foreign = try_connect(addr, Some("http://evil.example")).expect("the handshake itself succeeds");
    assert_eq!(expect_close(&mut foreign, 1008), Vec::<Value>::new(), "no welcome: it never reached the engine");
    server.wait_for_log("refused a WebSocket from another site's page");
    // Same host, another port: another origin.
    let other_port = format!("http://127.0.0.1:{}", addr.port() + 1);
    expect_close(&mut try_connect(addr, Some(&other_port)).unwrap(), 1008);
    // chatd's own page, and a program that sends no Origin at all, get in.
    connect(&server);
    let mut program = try_connect(addr, None).expect("a WebSocket");
    assert!(welcome_ok(&json(&mut program)));

    let server = Server::start(chatd!(), &["--allowed-origin", "http://evil.example"]);
    let mut allowed = try_connect(server.http_addr(), Some("http://evil.example")).expect("a WebSocket");
    assert!(welcome_ok(&json(&mut allowed)));
    let mut other = try_connect(server.http_addr(), Some("https://evil.example")).unwrap();
    expect_close(&mut other, 1008);
}

#[test]
fn messages_up_to_the_line_cap_pass_and_a_larger_one_closes_with_1009() {
    let server = Server::start(chatd!(), &["--max-line-bytes", "64"]);
    let (mut text, mut bystander) = text_and_ws_in_room(&server, "r");
    let mut ws = connect(&server);
    // Exactly 64 bytes: accepted (and answered: this guest is in no room).
    let fits = r#"{"type":"say","room":"r","text":"01234567890123456789012345678"}"#;
    assert_eq!(fits.len(), 64);
    ws.send(Message::text(fits)).unwrap();
    assert_eq!(json(&mut ws)["code"], "not_in_room");
    ws.send(Message::text(format!("{fits} "))).unwrap();
    expect_close(&mut ws, 1009);
    still_chatting(&mut text, &mut bystander);
}

#[test]
fn a_binary_message_closes_with_1003() {
    let server = Server::start(chatd!(), &[]);
    let (mut text, mut bystander) = text_and_ws_in_room(&server, "r");
    let mut ws = connect(&server);
    ws.send(Message::binary(br#"{"type":"list"}"#.to_vec())).unwrap();
    expect_close(&mut ws, 1003);
    still_chatting(&mut text, &mut bystander);
}

#[test]
fn invalid_utf8_closes_with_1007() {
    let server = Server::start(chatd!(), &[]);
    let (mut text, mut bystander) = text_and_ws_in_room(&server, "r");
    let mut stream = raw(&server);
    stream.write_all(&frame(true, 1, b"{\"type\":\"list\xff\"}", true)).unwrap();
    assert_eq!(raw_close_code(&mut stream), 1007);
    // Split across fragments, the bad byte is found too.
    let mut stream = raw(&server);
    stream.write_all(&frame(false, 1, b"{\"type\":\"l", true)).unwrap();
    stream.write_all(&frame(true, 0, b"\xc3\x28\"}", true)).unwrap();
    assert_eq!(raw_close_code(&mut stream), 1007);
    still_chatting(&mut text, &mut bystander);
}

#[test]
fn protocol_errors_close_with_1002() {
    let server = Server::start(chatd!(), &[]);
    let (mut text, mut bystander) = text_and_ws_in_room(&server, "r");
    let cases: [(&str, Vec<u8>); 4] = [
        ("an unmasked client frame", frame(true, 1, br#"{"type":"list"}"#, false)),
        ("a continuation with nothing to continue", frame(true, 0, b"orphan", true)),
        ("a new message inside a fragmented one", [frame(false, 1, b"{", true), frame(true, 1, b"{}", true)].concat()),
        ("a fragmented ping", frame(false, 9, b"ping", true)),
    ];
    for (what, bytes) in cases {
        let mut stream = raw(&server);
        stream.write_all(&bytes).unwrap();
        assert_eq!(raw_close_code(&mut stream), 1002, "{what}");
    }
    still_chatting(&mut text, &mut bystander);
}

#[test]
fn a_flood_of_fragments_is_bounded_by_the_message_cap() {
    let server = Server::start_logging(chatd!(), &["--max-line-bytes", "1024"], DEBUG);
    let (mut text, mut bystander) = text_and_ws_in_room(&server, "r");
    let mut stream = raw(&server);
    // 64 KiB in 16-byte fragments of one message that never ends: the
    // server must give up once the message passes 1 KiB, not hold it all.
    let mut flood = frame(false, 1, b"[", true);
    for _ in 0..4096 {
        flood.extend_from_slice(&frame(false, 0, b"0123456789abcdef", true));
    }
    // The server may close (and stop reading) before all of it is written.
    let _ = stream.write_all(&flood);
    assert_eq!(raw_close_code(&mut stream), 1009);
    server.wait_for_log("closing a WebSocket that broke the protocol");
    still_chatting(&mut text, &mut bystander);
}

#[test]
fn pings_and_empty_fragments_past_the_budget_close_with_1008_and_disturb_nobody() {
    let server = Server::start_logging(chatd!(), &["--flood-lines-per-sec", "0"], DEBUG);
    let (mut text, mut bystander) = text_and_ws_in_room(&server, "r");
    // Frames that never become a line: two peers ping, two send empty
    // fragments of a message that never ends, as fast as they can.
    let ping = frame(true, 9, b"", true);
    let fragment = frame(false, 0, b"", true);
    let flooders: Vec<_> = [&ping, &ping, &fragment, &fragment]
        .into_iter()
        .map(|unit| {
            let mut stream = raw(&server);
            if *unit == fragment {
                stream.write_all(&frame(false, 1, b"[", true)).expect("open the message");
            }
            let flood = unit.repeat(64 * 1024 / unit.len());
            let mut writer = stream.try_clone().expect("clone the socket");
            let done = Arc::new(AtomicBool::new(false));
            let stop = done.clone();
            // 256 KiB each, far past any budget but finite: chatd reads
            // what is left after its close, so it never resets the
            // connection before the close frame is read.
            let writing = thread::spawn(move || {
                for _ in 0..4 {
                    if stop.load(Ordering::Relaxed) || writer.write_all(&flood).is_err() {
                        break;
                    }
                }
            });
            thread::spawn(move || {
                let code = raw_close_code(&mut stream);
                done.store(true, Ordering::Relaxed);
                let _ = writing.join();
                code
            })
        })
        .collect();
    // Meanwhile the room goes on: every message arrives, in order.
    for i in 0..50 {
        text.send(&format!("message {i}"));
    }
    for i in 0..50 {
        let message = json(&mut bystander);
        assert_eq!(message["text"].as_str(), Some(format!("message {i}").as_str()), "{message}");
    }
    for flooder in flooders {
        assert_eq!(flooder.join().expect("a flooder's reader"), 1008);
    }
    server.wait_for_log("too many frames that carry no message");
    still_chatting(&mut text, &mut bystander);
}

#[test]
fn the_per_ip_cap_counts_websockets_and_tcp_together() {
    let server = Server::start(chatd!(), &["--max-per-ip", "2"]);
    let mut text = server.connect();
    text.expect_prefix("* Welcome");
    let ws = connect(&server);
    match try_connect(server.http_addr(), None) {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 503),
        Err(other) => panic!("expected a 503 answer, got {other}"),
        Ok(_) => panic!("a third connection from one address was let in"),
    }
    let mut refused = server.connect();
    refused.expect("* bye: too many connections from your address (at most 2); try again later");
    refused.expect_eof();
    // A WebSocket's slot is freed once chatd has seen it close.
    drop(ws);
    let deadline = Instant::now() + READ_TIMEOUT;
    loop {
        let line = server.connect().line();
        if line.starts_with("* Welcome") {
            break;
        }
        assert!(line.starts_with("* bye: too many connections"), "{line}");
        assert!(Instant::now() < deadline, "the WebSocket's slot was never freed");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn shutdown_says_bye_then_closes_with_1012_service_restart() {
    let mut server = Server::start(chatd!(), &[]);
    let mut ws = connect(&server);
    send(&mut ws, &json!({"type": "nick", "nick": "webby"}));
    assert_eq!(json(&mut ws)["type"], "nick");
    server.terminate();
    assert_eq!(
        expect_close(&mut ws, 1012),
        [json!({"type": "bye", "code": "shutdown", "reason": "server is shutting down; reconnect", "reconnect": true})]
    );
    let status = server.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "chatd exited with {status}; logs:\n{}", server.logs());
}

#[test]
fn a_quiet_websocket_is_pinged_and_cut_if_it_never_answers() {
    let server = Server::start_logging(chatd!(), &["--ws-ping-interval", "0.2"], DEBUG);
    // A peer that reads raw bytes and answers nothing: pinged, then cut.
    let mut silent = raw(&server);
    assert_eq!(read_frame(&mut silent).map(|(opcode, _)| opcode), Some(9), "a ping");
    while let Some((opcode, _)) = read_frame(&mut silent) {
        assert_eq!(opcode, 9, "only pings, then the end");
    }
    server.wait_for_log("did not answer a ping");
    // tungstenite answers each ping as it reads on: pinged again and
    // again, this one stays.
    let mut alive = connect(&server);
    for _ in 0..3 {
        match alive.read().expect("a message") {
            Message::Ping(_) => {}
            other => panic!("expected a ping, got {other:?}"),
        }
    }
    send(&mut alive, &json!({"type": "list"}));
    assert_eq!(json(&mut alive)["type"], "rooms");
}

#[test]
fn a_websocket_that_stops_reading_is_cut_as_a_tcp_client_would_be() {
    let server = Server::start(
        chatd!(),
        &["--flood-lines-per-sec", "0", "--send-queue-bytes", "4096", "--send-queue-grace", "0.2"],
    );
    let (mut text, ws) = text_and_ws_in_room(&server, "r");
    // Fill the WebSocket's socket buffers; it never reads again.
    let padding = "x".repeat(1000);
    let mut cut = false;
    for i in 0..20_000 {
        text.send(&format!("{i} {padding}"));
        if i % 500 == 499 {
            text.send("/who");
            let lines = text.read_until_prefix("* in r (");
            if lines.iter().any(|l| l == "* webby disconnected (send queue exceeded)") {
                cut = true;
                break;
            }
        }
    }
    assert!(cut, "the deaf WebSocket was never cut; logs:\n{}", server.logs());
    server.wait_for_log("send queue exceeded; disconnecting");
    drop(ws);
}

#[test]
fn a_full_server_says_so_in_json_then_closes_with_1013() {
    let server = Server::start(chatd!(), &["--max-clients", "1"]);
    let _first = connect(&server);
    let mut second = try_connect(server.http_addr(), None).expect("the handshake itself succeeds");
    let before = expect_close(&mut second, 1013);
    assert_eq!(before, [json!({"type": "bye", "code": "server_full", "reason": "server is full; try again later"})]);
}
