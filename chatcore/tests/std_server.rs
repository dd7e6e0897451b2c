//! The `std_server` example really serves: built by cargo, started on a
//! free port, two clients chat through it over TCP.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

/// Builds the example and returns the path cargo reports for it.
fn build_example() -> String {
    let output = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "chatcore", "--example", "std_server", "--message-format=json"])
        .output()
        .expect("cargo runs");
    let messages = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "cargo build failed: {}", String::from_utf8_lossy(&output.stderr));
    // The artifact message names the executable: `"executable":"PATH"`.
    let key = "\"executable\":\"";
    let start = messages.find(key).map(|i| i + key.len()).expect("cargo names the example's executable");
    let end = start + messages[start..].find('"').expect("a closing quote");
    messages[start..end].to_owned()
}

/// The example, killed when the test ends however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A client's connection, read a line at a time.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(port: &str) -> Self {
        let stream = TcpStream::connect(port).expect("the example accepts");
        // Only so that a broken example fails the test instead of hanging it.
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        Client { writer: stream.try_clone().unwrap(), reader: BufReader::new(stream) }
    }

    fn send(&mut self, line: &str) {
        self.writer.write_all(format!("{line}\n").as_bytes()).unwrap();
    }

    /// Reads lines until `expected`; every line read is returned.
    fn expect(&mut self, expected: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let mut line = String::new();
            let n = self
                .reader
                .read_line(&mut line)
                .unwrap_or_else(|e| panic!("waiting for {expected:?}: {e}; saw {seen:?}"));
            assert!(n > 0, "the connection ended before {expected:?}; saw {seen:?}");
            let line = line.trim_end().to_owned();
            let done = line == expected;
            seen.push(line);
            if done {
                return seen;
            }
        }
    }
}

fn listening_addr(stdout: ChildStdout) -> String {
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("the example prints its address");
    line.trim_end().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_owned()
}

#[test]
fn two_clients_chat_through_the_std_server_example() {
    let path = build_example();
    let mut child = Command::new(&path).arg("127.0.0.1:0").stdout(Stdio::piped()).spawn().expect("the example starts");
    let stdout = child.stdout.take().unwrap();
    let _server = Server(child);
    let addr = listening_addr(stdout);

    let mut alice = Client::connect(&addr);
    alice.expect("* Welcome to chatd, Guest1! You are in the Lobby. Type /help for commands.");
    alice.send("/nick alice");
    alice.send("/create rust");
    alice.expect("* you are now in rust (1 here)");

    let mut bob = Client::connect(&addr);
    bob.send("/nick bob");
    bob.send("/join rust");
    bob.expect("* you are now in rust (2 here)");
    alice.expect("* bob joined rust");

    alice.send("hello, bob");
    bob.expect("[rust] alice: hello, bob");
    bob.send("/msg alice hi there");
    bob.send("/quit bye");
    let seen = alice.expect("* bob disconnected (quit: bye)");
    assert!(seen.iter().any(|l| l.starts_with("[whisper from bob ") && l.ends_with("] hi there")), "{seen:?}");
}
