//! chatd's HTTP port as a browser or a health checker meets it: the page
//! and its files with their headers, `/healthz`, and the answers to
//! requests it does not serve. Requests are written by hand over TCP.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use chatd_tests::{READ_TIMEOUT, Server, chatd};

/// One HTTP answer: status code, headers (names lowercase) and body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Sends `request` as it is and reads the answer to the end (chatd closes
/// after each answer).
fn exchange(addr: SocketAddr, request: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("connect to chatd's HTTP port");
    stream.set_read_timeout(Some(READ_TIMEOUT)).expect("set read timeout");
    stream.write_all(request).expect("send the request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the answer to its end");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head");
    let head = String::from_utf8(raw[..split].to_vec()).expect("a text head");
    let body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("a status line");
    let status = status_line.strip_prefix("HTTP/1.1 ").and_then(|s| s[..3].parse().ok()).expect(status_line);
    let headers = lines
        .map(|l| {
            let (name, value) = l.split_once(':').expect("a header");
            (name.to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    let answer = Answer { status, headers, body };
    if let Some(length) = answer.header("content-length") {
        assert_eq!(length.parse::<usize>().unwrap(), answer.body.len(), "Content-Length matches the body");
    }
    answer
}

fn get(addr: SocketAddr, path: &str) -> Answer {
    exchange(addr, format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
}

#[test]
fn the_page_and_its_files_come_with_their_types_and_security_headers() {
    let server = Server::start(chatd!(), &[]);
    for (path, content_type, file) in [
        ("/", "text/html; charset=utf-8", include_bytes!("../../chatd/web/index.html").as_slice()),
        ("/app.js", "text/javascript; charset=utf-8", include_bytes!("../../chatd/web/app.js").as_slice()),
        ("/style.css", "text/css; charset=utf-8", include_bytes!("../../chatd/web/style.css").as_slice()),
    ] {
        let answer = get(server.http_addr(), path);
        assert_served_as_page_file(&answer, path, content_type);
        assert_eq!(answer.body, file, "{path} is the file under chatd/web/");
    }
    // A query string does not change what is served.
    assert_eq!(get(server.http_addr(), "/?v=2").status, 200);
}

/// `answer` is a file of the page, of `content_type`, with the headers
/// every one of them has.
fn assert_served_as_page_file(answer: &Answer, path: &str, content_type: &str) {
    assert_eq!(answer.status, 200, "{path}");
    assert_eq!(answer.header("content-type"), Some(content_type), "{path}");
    assert_eq!(answer.header("cache-control"), Some("no-cache"), "{path}");
    assert_eq!(answer.header("x-content-type-options"), Some("nosniff"), "{path}");
    let csp = answer.header("content-security-policy").expect("a Content-Security-Policy");
    assert!(csp.starts_with("default-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe") && !csp.contains('*') && !csp.contains("http"), "only 'self': {csp}");
    assert_eq!(answer.header("connection"), Some("close"));
}

#[test]
fn codes_js_holds_every_code_chatcore_defines_and_marks_the_busy_ones() {
    let server = Server::start(chatd!(), &[]);
    let answer = get(server.http_addr(), "/codes.js");
    assert_served_as_page_file(&answer, "/codes.js", "text/javascript; charset=utf-8");
    let module = String::from_utf8(answer.body).expect("a module in UTF-8");
    // The array of codes an export is made from.
    let export = |name: &str| {
        let start = format!("export const {name} = ");
        let line = module.lines().find(|line| line.starts_with(&start));
        let line = line.unwrap_or_else(|| panic!("codes.js exports no {name}:\n{module}"));
        line[line.find('[').expect("an array")..=line.rfind(']').expect("an array")].to_owned()
    };
    let (errors, busy, byes) = (export("errors"), export("busyErrors"), export("byes"));
    for error in chatcore::ERROR_CODES {
        let quoted = format!("'{}'", error.code);
        assert!(errors.contains(&quoted), "{} is in errors: {errors}", error.code);
        assert_eq!(busy.contains(&quoted), error.busy, "{} in busyErrors: {busy}", error.code);
    }
    for bye in chatcore::BYE_CODES {
        assert!(byes.contains(&format!("'{}'", bye.code)), "{} is in byes: {byes}", bye.code);
    }
    // Codes a client meets, spelled as it meets them.
    assert!(errors.contains("'nick_taken'") && busy.contains("'server_busy'") && byes.contains("'shutdown'"));
    assert_eq!(errors.matches('\'').count(), 2 * chatcore::ERROR_CODES.len(), "nothing else: {errors}");
    assert_eq!(byes.matches('\'').count(), 2 * chatcore::BYE_CODES.len(), "nothing else: {byes}");
}

#[test]
fn healthz_answers_ok() {
    let server = Server::start(chatd!(), &[]);
    let answer = get(server.http_addr(), "/healthz");
    assert_eq!((answer.status, answer.body.as_slice()), (200, b"ok\n".as_slice()));
    assert_eq!(answer.header("content-type"), Some("text/plain; charset=utf-8"));
}

#[test]
fn other_paths_are_404_and_other_methods_405() {
    let server = Server::start(chatd!(), &[]);
    let addr = server.http_addr();
    for path in ["/index.html", "/../Cargo.toml", "/web/app.js", "/healthz/", "/wss"] {
        assert_eq!(get(addr, path).status, 404, "{path}");
    }
    for method in ["POST", "HEAD", "PUT", "DELETE", "OPTIONS"] {
        let answer =
            exchange(addr, format!("{method} / HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n").as_bytes());
        assert_eq!(answer.status, 405, "{method}");
        assert_eq!(answer.header("allow"), Some("GET"), "{method}");
    }
}

#[test]
fn malformed_and_oversized_heads_are_refused() {
    let server = Server::start(chatd!(), &[]);
    let addr = server.http_addr();
    assert_eq!(exchange(addr, b"\x16\x03\x01\x02\x00 not http\r\n\r\n").status, 400, "TLS or junk");
    assert_eq!(exchange(addr, b"GET / HTTP/2.0\r\n\r\n").status, 400);
    let two_hosts = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nHost: example.com\r\n\r\n");
    assert_eq!(exchange(addr, two_hosts.as_bytes()).status, 400);
    let huge = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nX-Padding: {}\r\n\r\n", "x".repeat(9000));
    assert_eq!(exchange(addr, huge.as_bytes()).status, 431);
    // A head that never ends is cut at the cap, not buffered further.
    let endless = format!("GET / HTTP/1.1\r\nX-Padding: {}", "x".repeat(50_000));
    assert_eq!(exchange(addr, endless.as_bytes()).status, 431);
    // The server still serves.
    assert_eq!(get(addr, "/healthz").status, 200);
}

#[test]
fn a_malformed_websocket_upgrade_is_refused_with_the_reason() {
    let server = Server::start(chatd!(), &[]);
    let addr = server.http_addr();
    let plain = get(addr, "/ws");
    assert_eq!(plain.status, 400);
    assert!(String::from_utf8_lossy(&plain.body).contains("Upgrade: websocket"));
    let old = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"
    );
    let answer = exchange(addr, old.as_bytes());
    assert_eq!(answer.status, 426);
    assert_eq!(answer.header("sec-websocket-version"), Some("13"));
    let keyless = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    assert_eq!(exchange(addr, keyless.as_bytes()).status, 400);
}

#[test]
fn the_per_ip_cap_answers_http_with_503() {
    let server = Server::start(chatd!(), &["--max-per-ip", "1"]);
    let mut text = server.connect();
    text.expect_prefix("* Welcome");
    let answer = get(server.http_addr(), "/healthz");
    assert_eq!(answer.status, 503);
    assert!(String::from_utf8_lossy(&answer.body).contains("too many connections from your address (at most 1)"));
}

#[test]
fn http_none_serves_no_http() {
    let server = Server::start(chatd!(), &["--http-listen", "none"]);
    let mut text = server.login("alice");
    text.send("/users");
    text.expect("* online (1): alice");
}

#[test]
fn a_request_for_another_host_name_is_refused_page_websocket_and_metrics_alike() {
    // A page on another site that rebound its own name to chatd's address
    // reaches it with that name in Host.
    let server = Server::start(chatd!(), &[]);
    let addr = server.http_addr();
    let port = addr.port();
    for path in ["/", "/metrics", "/healthz"] {
        let answer = exchange(addr, format!("GET {path} HTTP/1.1\r\nHost: rebound.example:{port}\r\n\r\n").as_bytes());
        assert_eq!(answer.status, 421, "{path}");
        assert_eq!(answer.body, b"this server does not answer to that host name\n");
    }
    let upgrade = format!(
        "GET /ws HTTP/1.1\r\nHost: rebound.example:{port}\r\nOrigin: http://rebound.example:{port}\r\n\
         Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    );
    assert_eq!(exchange(addr, upgrade.as_bytes()).status, 421);
    // The metrics port, on loopback too, is no easier to reach that way.
    let metrics = server.metrics_addr();
    for path in ["/metrics", "/healthz"] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: rebound.example:{}\r\n\r\n", metrics.port());
        assert_eq!(exchange(metrics, request.as_bytes()).status, 421, "metrics port {path}");
    }
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {metrics}\r\n\r\n");
    assert_eq!(exchange(metrics, request.as_bytes()).status, 200);
    // Its own address, localhost, and no Host at all (not a browser) are served.
    for host in [format!("Host: {addr}\r\n"), format!("Host: localhost:{port}\r\n"), String::new()] {
        assert_eq!(exchange(addr, format!("GET /healthz HTTP/1.1\r\n{host}\r\n").as_bytes()).status, 200, "{host}");
    }

    let named = Server::start(chatd!(), &["--server-host", "chat.example.com"]);
    let request = "GET /healthz HTTP/1.1\r\nHost: chat.example.com\r\n\r\n";
    assert_eq!(exchange(named.http_addr(), request.as_bytes()).status, 200);
}

#[test]
fn a_wildcard_bind_answers_to_the_address_the_client_used() {
    let server = Server::start(chatd!(), &["--http-listen", "0.0.0.0:0"]);
    let addr: SocketAddr = format!("127.0.0.1:{}", server.http_addr().port()).parse().unwrap();
    assert_eq!(get(addr, "/healthz").status, 200, "Host: 127.0.0.1, the address this connection reached");
    let request = format!("GET /healthz HTTP/1.1\r\nHost: 0.0.0.0:{}\r\n\r\n", addr.port());
    assert_eq!(exchange(addr, request.as_bytes()).status, 421, "the wildcard itself is not an address one reaches");
}
