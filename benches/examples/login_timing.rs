//! How long chatd takes to refuse a login for a name without an account,
//! against a wrong password for a real one: the figure behind the claim
//! that timing does not tell which names have accounts (the tests check
//! the work instead, by counting password checks).
//!
//! ```text
//! cargo build --release -p chatd --bin chatd -p chatd-benches --example login_timing
//! target/release/chatd --listen 127.0.0.1:0 --irc-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
//!     --metrics-listen 127.0.0.1:0 --ephemeral --max-login-failures 1000000 \
//!     --max-account-failures 1000000 --flood-lines-per-sec 0
//! target/release/examples/login_timing TEXT_ADDR 200
//! ```
//!
//! Arguments: chatd's text address (a fresh chatd: the example registers
//! `owner`); rounds. Each round, one client sends `/login owner` and then
//! `/login nobdy`, both with a wrong password, one at a time, and times
//! each from sending to the answer. Prints each kind's quartiles and the
//! ratio of the medians.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A line-at-a-time text client.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    /// Connects and reads the welcome.
    fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect to chatd");
        let writer = stream.try_clone().expect("a second handle");
        let mut client = Client { reader: BufReader::new(stream), writer };
        let welcome = client.line();
        assert!(welcome.starts_with("* Welcome"), "{welcome}");
        client
    }

    fn send(&mut self, line: &str) {
        self.writer.write_all(format!("{line}\n").as_bytes()).expect("send a line");
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        assert!(self.reader.read_line(&mut line).expect("read a line") > 0, "chatd closed the connection");
        line.trim_end().to_owned()
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args.next().expect("chatd's text address").parse().expect("an IP:PORT");
    let rounds: usize = args.next().map_or(200, |a| a.parse().expect("a number of rounds"));

    let mut owner = Client::connect(addr);
    owner.send("/register owner Zq8-owner-pw Zq8-owner-pw");
    let registered = owner.line();
    assert_eq!(registered, "* account owner registered; you are logged in", "a fresh chatd, please");
    owner.send("/quit");

    let mut client = Client::connect(addr);
    let mut refuse = |name: &str| {
        let started = Instant::now();
        client.send(&format!("/login {name} Zq8-wrong"));
        let answer = client.line();
        let took = started.elapsed();
        assert!(answer.starts_with("! wrong name or password"), "{answer}");
        took
    };
    // Interleaved, so that a change in load hits both alike.
    let (mut wrong_password, mut no_account) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        wrong_password.push(refuse("owner"));
        no_account.push(refuse("nobdy"));
    }
    let wrong_password = quartiles(&mut wrong_password);
    let no_account = quartiles(&mut no_account);
    println!("{rounds} rounds; quartiles in ms (25%, median, 75%)");
    println!("wrong password: {}", shown(wrong_password));
    println!("no account:     {}", shown(no_account));
    println!(
        "median no account / wrong password: {:.2}",
        no_account[1].as_secs_f64() / wrong_password[1].as_secs_f64()
    );
}

fn quartiles(samples: &mut [Duration]) -> [Duration; 3] {
    samples.sort();
    [1, 2, 3].map(|q| samples[samples.len() * q / 4])
}

fn shown(quartiles: [Duration; 3]) -> String {
    quartiles.map(|d| format!("{:.1}", d.as_secs_f64() * 1000.0)).join(", ")
}
