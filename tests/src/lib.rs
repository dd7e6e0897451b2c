//! Helpers for the end-to-end tests: start the real chatd program on
//! `127.0.0.1:0`, and talk to it as a line-oriented TCP client.
//!
//! The program is this package's `chatd-under-test` binary, which is
//! chatd's own entry point; cargo builds it before the tests, with the
//! same profile, so the tests always run the current code. Each test names
//! it with [`chatd!`]. Set `CHATD_BIN` to test some other build instead.

pub mod browser;
pub mod cluster;
pub mod history_check;
mod irc;
mod lines;
pub mod metrics;
pub mod module_graph;
pub mod outside;
pub mod proxy;
pub mod relay;
pub mod services;
pub mod stores;
mod tls;

pub use lines::history_texts;
pub use tls::TLS_NAME;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// How long any single expected line may take to arrive. Generous, because
/// a loaded CI machine is slow; a passing test never waits this long.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The chatd executable under test, as a `&'static Path`: the one cargo
/// built for these tests, or the one `CHATD_BIN` names.
///
/// A macro because cargo tells only the integration tests where the binary
/// is (`CARGO_BIN_EXE_chatd-under-test`, at compile time), not this
/// library: it expands inside the test that uses it.
#[macro_export]
macro_rules! chatd {
    () => {
        $crate::chatd_binary(env!("CARGO_BIN_EXE_chatd-under-test"))
    };
}

/// What [`chatd!`] expands to: `CHATD_BIN` if set, else `built`.
#[doc(hidden)]
pub fn chatd_binary(built: &'static str) -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| std::env::var_os("CHATD_BIN").map_or_else(|| PathBuf::from(built), PathBuf::from))
}

/// A running chatd, killed when dropped.
pub struct Server {
    child: Child,
    addr: SocketAddr,
    /// Where it serves IRC, unless started with `--irc-listen none`.
    irc_addr: Option<SocketAddr>,
    /// Where it serves HTTP and WebSockets, unless started with
    /// `--http-listen none`.
    http_addr: Option<SocketAddr>,
    metrics_addr: Option<SocketAddr>,
    /// Where it serves text, IRC and HTTP over TLS, if it was asked to.
    tls_addrs: [Option<SocketAddr>; 3],
    logs: Arc<Mutex<String>>,
    /// The data directory of a server started with [`Server::start`],
    /// removed when the server is dropped.
    _data: Option<tempfile::TempDir>,
}

impl Server {
    /// A new text client that has registered `name` with `password` (and so
    /// is logged in as it).
    pub fn register(&self, name: &str, password: &str) -> Client {
        let mut client = self.connect();
        client.expect_prefix("* Welcome to chatd, Guest");
        client.send(&format!("/register {name} {password} {password}"));
        client.expect(&format!("* account {name} registered; you are logged in"));
        client.expect(&format!("* you are now known as {name}"));
        client.expect(&format!("* logged in as {name}"));
        client
    }

    /// Starts `chatd` (see [`chatd!`]) on `127.0.0.1:0` with extra `args`
    /// and a fresh data directory of its own, and waits for its
    /// `listening on ADDR` line.
    pub fn start(chatd: &Path, args: &[&str]) -> Server {
        let data = tempfile::tempdir().expect("a temporary data directory");
        let mut server = Server::start_in(chatd, data.path(), args);
        server._data = Some(data);
        server
    }

    /// Starts chatd with its state in the PostgreSQL database at `url`
    /// (`--database-url`) instead of a data directory, and waits for its
    /// `listening on ADDR` line. Dropping it kills it (SIGKILL), as a crash.
    pub fn start_on_database(chatd: &Path, url: &str, args: &[&str]) -> Server {
        let mut all = vec!["--database-url", url];
        all.extend(args);
        Server::launch(Command::new(chatd), Path::new("."), &all, "info")
    }

    /// Like [`Server::start`], with `RUST_LOG` set to `rust_log`: for a test
    /// that waits for a line chatd logs only at `debug`.
    pub fn start_logging(chatd: &Path, args: &[&str], rust_log: &str) -> Server {
        let data = tempfile::tempdir().expect("a temporary data directory");
        let mut server = Server::start_in_logging(chatd, data.path(), args, rust_log);
        server._data = Some(data);
        server
    }

    /// Starts chatd on `127.0.0.1:0` with its data in `dir` (to restart a
    /// server on the same data), and waits for its `listening on ADDR` line.
    pub fn start_in(chatd: &Path, dir: &Path, args: &[&str]) -> Server {
        Server::start_in_logging(chatd, dir, args, "info")
    }

    /// Like [`Server::start_in`], with `RUST_LOG` set to `rust_log`.
    pub fn start_in_logging(chatd: &Path, dir: &Path, args: &[&str], rust_log: &str) -> Server {
        Server::launch(Command::new(chatd), dir, args, rust_log)
    }

    /// Like [`Server::start`], with chatd's open-file limit, soft and
    /// hard, lowered to `limit` (by util-linux's `prlimit`, which anyone
    /// may use to lower a limit).
    pub fn start_with_open_files(chatd: &Path, limit: u64, args: &[&str]) -> Server {
        let data = tempfile::tempdir().expect("a temporary data directory");
        let mut prlimit = Command::new("prlimit");
        prlimit.arg(format!("--nofile={limit}:{limit}")).arg("--").arg(chatd);
        let mut server = Server::launch(prlimit, data.path(), args, "info");
        server._data = Some(data);
        server
    }

    fn launch(command: Command, dir: &Path, args: &[&str], rust_log: &str) -> Server {
        let (child, logs, first, [irc_addr, http_addr, metrics_addr, tls, irc_tls, https]) =
            Server::spawn(command, dir, args, rust_log);
        let addr = first.strip_prefix("listening on ").and_then(|a| a.trim().parse().ok()).unwrap_or_else(|| {
            let logs = logs.lock().unwrap_or_else(PoisonError::into_inner).clone();
            panic!("chatd's first line should be `listening on ADDR`, got {first:?}; logs:\n{logs}")
        });
        Server { child, addr, irc_addr, http_addr, metrics_addr, tls_addrs: [tls, irc_tls, https], logs, _data: None }
    }

    /// Runs chatd on `dir` expecting it to refuse to start; returns its exit
    /// status and everything it wrote to stderr.
    pub fn fail_to_start(chatd: &Path, dir: &Path, args: &[&str]) -> (ExitStatus, String) {
        let (mut child, logs, first, _) = Server::spawn(Command::new(chatd), dir, args, "info");
        assert_eq!(first, "", "chatd started although it should not have");
        let deadline = Instant::now() + READ_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for chatd") {
                break status;
            }
            assert!(Instant::now() < deadline, "chatd neither started nor exited");
            std::thread::sleep(Duration::from_millis(20));
        };
        // The stderr reader finishes once the pipe closes.
        std::thread::sleep(Duration::from_millis(100));
        let logs = logs.lock().unwrap_or_else(PoisonError::into_inner).clone();
        (status, logs)
    }

    fn spawn(
        mut chatd: Command,
        dir: &Path,
        args: &[&str],
        rust_log: &str,
    ) -> (Child, Arc<Mutex<String>>, String, [Option<SocketAddr>; 6]) {
        // Every test server gets free ports of its own, unless the test picks them.
        let listen_default: &[&str] = if args.contains(&"--listen") { &[] } else { &["--listen", "127.0.0.1:0"] };
        let irc_default: &[&str] = if args.contains(&"--irc-listen") { &[] } else { &["--irc-listen", "127.0.0.1:0"] };
        let http_default: &[&str] =
            if args.contains(&"--http-listen") { &[] } else { &["--http-listen", "127.0.0.1:0"] };
        let metrics_default: &[&str] =
            if args.contains(&"--metrics-listen") { &[] } else { &["--metrics-listen", "127.0.0.1:0"] };
        let irc = !args.windows(2).any(|w| w == ["--irc-listen", "none"]);
        let http = !args.windows(2).any(|w| w == ["--http-listen", "none"]);
        let metrics = !args.windows(2).any(|w| w == ["--metrics-listen", "none"]);
        // TLS listeners are off unless asked for; their lines come last.
        let tls = ["--tls-listen", "--irc-tls-listen", "--https-listen"]
            .iter()
            .filter(|flag| args.windows(2).any(|w| w[0] == **flag && w[1] != "none"))
            .count();
        // A chatd told to keep its state in PostgreSQL has no data directory.
        if !args.contains(&"--database-url") {
            chatd.arg("--data-dir").arg(dir);
        }
        let mut child = chatd
            .args(listen_default)
            .args(irc_default)
            .args(http_default)
            .args(metrics_default)
            .args(args)
            .env("RUST_LOG", rust_log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chatd");
        let logs = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = logs.clone();
        // Logs are kept for failure messages and for tests that check them.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut logs = sink.lock().unwrap_or_else(PoisonError::into_inner);
                logs.push_str(&line);
                logs.push('\n');
            }
        });
        let stdout = child.stdout.take().expect("piped stdout");
        let (first, more) = first_lines(stdout, usize::from(irc) + usize::from(http) + usize::from(metrics) + tls);
        let addr_of =
            |prefix: &str| more.iter().find_map(|line| line.strip_prefix(prefix).and_then(|a| a.trim().parse().ok()));
        let addrs = [
            addr_of("irc listening on "),
            addr_of("http listening on "),
            addr_of("metrics listening on "),
            addr_of("tls listening on "),
            addr_of("irc tls listening on "),
            addr_of("https listening on "),
        ];
        (child, logs, first, addrs)
    }

    /// The address chatd is listening on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address chatd serves IRC on.
    ///
    /// # Panics
    ///
    /// If it was started with `--irc-listen none`.
    pub fn irc_addr(&self) -> SocketAddr {
        self.irc_addr.expect("chatd serves IRC")
    }

    /// The address chatd serves `/metrics` on.
    ///
    /// # Panics
    ///
    /// If it was started with `--metrics-listen none`.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_addr.expect("chatd serves metrics")
    }

    /// The address chatd serves HTTP and WebSockets on.
    ///
    /// # Panics
    ///
    /// If it was started with `--http-listen none`.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr.expect("chatd serves HTTP")
    }

    /// Waits until this chatd lists `room`: a node of a cluster learns of
    /// a room created on another a moment later, and a join before then is
    /// refused (IRC's JOIN would even make a room of its own there).
    ///
    /// # Panics
    ///
    /// When it has not listed it within [`READ_TIMEOUT`].
    pub fn wait_for_room(&self, room: &str) {
        let mut probe = self.connect();
        probe.first_json(r#"{"type":"time"}"#);
        let _time = probe.json();
        let deadline = Instant::now() + READ_TIMEOUT;
        let ask = serde_json::json!({"type": "list", "rooms": [room]}).to_string();
        loop {
            probe.send(&ask);
            let rooms = probe.json();
            assert_eq!(rooms["type"], "rooms", "{rooms}");
            let listed = |r: &serde_json::Value| r["name"].as_str().is_some_and(|name| name.eq_ignore_ascii_case(room));
            if rooms["rooms"].as_array().is_some_and(|rooms| rooms.iter().any(listed)) {
                return;
            }
            assert!(Instant::now() < deadline, "{room} was never listed; logs:\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What chatd has logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Waits until chatd has logged a line containing `needle`.
    pub fn wait_for_log(&self, needle: &str) {
        let deadline = Instant::now() + READ_TIMEOUT;
        while !self.logs().contains(needle) {
            assert!(Instant::now() < deadline, "chatd never logged {needle:?}; logs:\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A new client connection, not yet past the welcome line.
    pub fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    /// A new client connection from the local address `source` (any
    /// loopback address, such as 127.0.0.2, reaches a server on 127.0.0.1),
    /// not yet past the welcome line.
    pub fn connect_from(&self, source: IpAddr) -> Client {
        Client::connect_from(self.addr, source)
    }

    /// `first` creates `room` and `second` joins it; both have read every
    /// line up to there.
    pub fn two_in_room(&self, first: &str, second: &str, room: &str) -> (Client, Client) {
        self.second_joins(self.login(first), second, room)
    }

    /// Like [`Server::two_in_room`], but `first` registers an account
    /// (password `FIRST-password`) before creating `room`, so the room is
    /// the account's and keeps its history when it empties or chatd stops
    /// (a guest's room forgets everything then).
    pub fn two_in_owned_room(&self, first: &str, second: &str, room: &str) -> (Client, Client) {
        self.second_joins(self.register(first, &format!("{first}-password")), second, room)
    }

    /// `a` creates `room`, and `second` logs in and joins it.
    fn second_joins(&self, mut a: Client, second: &str, room: &str) -> (Client, Client) {
        a.send(&format!("/create {room}"));
        a.expect(&format!("* room {room} created"));
        a.expect(&format!("* you are now in {room} (1 here)"));
        let mut b = self.login(second);
        b.send(&format!("/join {room}"));
        b.expect(&format!("* you are now in {room} (2 here)"));
        a.expect(&format!("* {second} joined {room}"));
        (a, b)
    }

    /// A client that has read its welcome and taken `nick`.
    pub fn login(&self, nick: &str) -> Client {
        let mut client = self.connect();
        client.expect_prefix("* Welcome to ");
        client.send(&format!("/nick {nick}"));
        client.expect(&format!("* you are now known as {nick}"));
        client
    }

    /// chatd's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM.
    #[cfg(unix)]
    pub fn terminate(&self) {
        self.signal(rustix::process::Signal::TERM);
    }

    /// Sends SIGINT, as Ctrl-C in a terminal does.
    #[cfg(unix)]
    pub fn interrupt(&self) {
        self.signal(rustix::process::Signal::INT);
    }

    #[cfg(unix)]
    fn signal(&self, signal: rustix::process::Signal) {
        let pid = i32::try_from(self.child.id()).ok().and_then(rustix::process::Pid::from_raw).expect("a valid pid");
        rustix::process::kill_process(pid, signal).expect("send a signal to chatd");
    }

    /// Kills chatd with SIGKILL, as a crash or `kill -9` does (nothing is
    /// flushed or closed on its way out), and waits until it has exited.
    pub fn kill9(&mut self) {
        // `Child::kill` is SIGKILL on Unix; an error means it had exited.
        let _ = self.child.kill();
        self.child.wait().expect("wait for the killed chatd");
    }

    /// Waits for chatd to exit, failing the test if it takes longer than `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for chatd") {
                return status;
            }
            assert!(Instant::now() < deadline, "chatd did not exit within {limit:?}; logs:\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// chatd's first stdout line, `listening on ADDR`, and the `more` lines
/// it prints at once after it for its other ports (`irc listening on
/// ADDR`, then `http listening on ADDR`, then those of its TLS ports:
/// `tls listening on`, `irc tls listening on`, `https listening on`). The rest is drained so chatd
/// never blocks on a full pipe.
fn first_lines(stdout: ChildStdout, more: usize) -> (String, Vec<String>) {
    let mut reader = BufReader::new(stdout);
    let mut first = String::new();
    reader.read_line(&mut first).expect("read chatd's stdout");
    let mut lines = Vec::new();
    while !first.is_empty() && lines.len() < more {
        let mut line = String::new();
        if reader.read_line(&mut line).expect("read chatd's stdout") == 0 {
            break;
        }
        lines.push(line);
    }
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    (first, lines)
}

/// A line-oriented client over a real TCP connection. Every read gives up
/// after [`READ_TIMEOUT`] and fails the test with what it was waiting for.
pub struct Client {
    /// Plain bytes: the socket itself, or a TLS session over it.
    reader: BufReader<Box<dyn Read + Send>>,
    writer: Box<dyn Write + Send>,
    /// The socket underneath, for raw control.
    raw: TcpStream,
}

impl Client {
    /// Sends `line` as this client's first line, which makes it a JSON
    /// client, and checks the JSON welcome that comes before the answer.
    pub fn first_json(&mut self, line: &str) {
        self.expect_prefix("* Welcome to chatd, Guest");
        self.send(line);
        let welcome = self.json();
        assert_eq!(welcome["type"], "welcome", "{welcome}");
    }

    /// Reads a `{"type":"error",...}` object with `code`; returns its message.
    pub fn json_error(&mut self, code: &str) -> String {
        let error = self.json();
        assert_eq!((error["type"].as_str(), error["code"].as_str()), (Some("error"), Some(code)), "{error}");
        error["message"].as_str().expect("an error has a message").to_owned()
    }

    /// Connects to `addr`.
    pub fn connect(addr: SocketAddr) -> Client {
        Client::plain(tcp_from(addr, None))
    }

    fn plain(stream: TcpStream) -> Client {
        stream.set_read_timeout(Some(READ_TIMEOUT)).expect("set read timeout");
        let writer = stream.try_clone().expect("clone stream");
        let raw = stream.try_clone().expect("clone stream");
        Client { reader: BufReader::new(Box::new(stream)), writer: Box::new(writer), raw }
    }

    /// Connects to `addr` from the local address `source` (port chosen by
    /// the system), so that the server sees another peer address.
    pub fn connect_from(addr: SocketAddr, source: IpAddr) -> Client {
        Client::plain(tcp_from(addr, Some(source)))
    }

    /// Sends one line (a newline is added).
    pub fn send(&mut self, line: &str) {
        self.send_bytes(format!("{line}\n").as_bytes());
    }

    /// Sends raw bytes.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to chatd");
    }

    /// The next line, without its newline. Fails on end of file or timeout.
    pub fn line(&mut self) -> String {
        match self.try_line() {
            Ok(Some(line)) => line,
            Ok(None) => panic!("connection closed while waiting for a line"),
            Err(error) => panic!("no line within {READ_TIMEOUT:?}: {error}"),
        }
    }

    /// The next line, `None` at end of file.
    pub fn try_line(&mut self) -> std::io::Result<Option<String>> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        Ok(Some(line.strip_suffix('\n').unwrap_or(&line).to_owned()))
    }

    /// Reads one line and checks it is exactly `expected`.
    pub fn expect(&mut self, expected: &str) {
        assert_eq!(self.line(), expected);
    }

    /// Reads one line and checks that it starts with `prefix`; returns it.
    pub fn expect_prefix(&mut self, prefix: &str) -> String {
        let line = self.line();
        assert!(line.starts_with(prefix), "expected a line starting with {prefix:?}, got {line:?}");
        line
    }

    /// Reads lines until one equals `wanted`, returning those before it.
    pub fn read_until(&mut self, wanted: &str) -> Vec<String> {
        let mut before = Vec::new();
        loop {
            let line = self.line();
            if line == wanted {
                return before;
            }
            before.push(line);
        }
    }

    /// Reads lines until one starts with `prefix`, returning those before it.
    pub fn read_until_prefix(&mut self, prefix: &str) -> Vec<String> {
        let mut before = Vec::new();
        loop {
            let line = self.line();
            if line.starts_with(prefix) {
                return before;
            }
            before.push(line);
        }
    }

    /// Reads one line and parses it as JSON.
    pub fn json(&mut self) -> serde_json::Value {
        let line = self.line();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
    }

    /// Reads JSON objects until one of type `kind` (a join's replay, say,
    /// comes first), and returns it.
    pub fn json_of_type(&mut self, kind: &str) -> serde_json::Value {
        loop {
            let object = self.json();
            if object["type"] == kind {
                return object;
            }
        }
    }

    /// A new client that names itself `nick` with its first line, in
    /// JSON, and joins `room`, having read up to its join.
    pub fn join_as_json(&mut self, nick: &str, room: &str) {
        self.first_json(&serde_json::json!({"type": "nick", "nick": nick}).to_string());
        assert_eq!(self.json()["type"], "nick");
        self.send(&serde_json::json!({"type": "join", "room": room}).to_string());
        self.json_of_type("joined");
    }

    /// Checks that the server closes the connection next (after at most
    /// nothing more being sent).
    pub fn expect_eof(&mut self) {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Ok(_) => assert!(rest.is_empty(), "expected end of file, got {:?}", String::from_utf8_lossy(&rest)),
            // A reset after the server closed also ends the connection.
            Err(error) if error.kind() == ErrorKind::ConnectionReset => {}
            Err(error) => panic!("expected end of file, got {error}"),
        }
    }

    /// Stops sending (the server sees end of file).
    pub fn shutdown_write(&self) {
        let _ = self.raw.shutdown(Shutdown::Write);
    }

    /// The underlying socket, for tests that need raw control.
    pub fn stream(&self) -> &TcpStream {
        &self.raw
    }
}

/// A TCP connection to `addr`, from the local address `source` if given
/// (port chosen by the system), so that the server sees another peer
/// address.
fn tcp_from(addr: SocketAddr, source: Option<IpAddr>) -> TcpStream {
    let Some(source) = source else {
        return TcpStream::connect(addr).expect("connect to chatd");
    };
    let socket =
        socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None).expect("create a socket");
    socket.bind(&SocketAddr::new(source, 0).into()).unwrap_or_else(|e| panic!("bind to {source}: {e}"));
    socket.connect(&addr.into()).expect("connect to chatd");
    TcpStream::from(socket)
}

/// The README's Rust example, compiled and run as a doctest so that it
/// cannot drift from the real API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExample;
