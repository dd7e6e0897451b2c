//! chatd's metrics as a test reads them: `GET /metrics` on the metrics
//! port, parsed into each sample's value by its series.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::READ_TIMEOUT;

/// One scrape: each sample's value by its name and labels as written,
/// e.g. `chatd_connections{transport="irc"}`.
#[derive(Debug)]
pub struct Scrape(HashMap<String, f64>);

impl Scrape {
    /// The value of `series`; panics if the scrape has no such series.
    pub fn get(&self, series: &str) -> f64 {
        *self.0.get(series).unwrap_or_else(|| panic!("no series {series} in {:#?}", self.0))
    }
}

/// The head and body of `GET path` on `addr`.
pub fn get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to chatd");
    stream.set_read_timeout(Some(READ_TIMEOUT)).expect("set read timeout");
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).expect("send the request");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read the answer to its end");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a complete head");
    (head.to_owned(), body.to_owned())
}

/// Fetches `/metrics` and parses the OpenMetrics text: `# ` lines are
/// metadata, every other line but `# EOF` is `name{labels} value`.
pub fn scrape(addr: SocketAddr) -> Scrape {
    let (head, body) = get(addr, "/metrics");
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert!(head.contains("Content-Type: application/openmetrics-text; version=1.0.0"), "{head}");
    assert!(body.ends_with("# EOF\n"), "the text ends with # EOF:\n{body}");
    let samples = body
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not `series value`: {line:?}"));
            let value = value.parse().unwrap_or_else(|_| panic!("not a number: {line:?}"));
            (series.to_owned(), value)
        })
        .collect();
    Scrape(samples)
}

/// Scrapes until `series` has `value`: what a client did is only known
/// to have reached the engine once it answered, and a departure only
/// once the engine saw the socket close.
pub fn scrape_until(addr: SocketAddr, series: &str, value: f64) -> Scrape {
    let deadline = Instant::now() + READ_TIMEOUT;
    loop {
        let scraped = scrape(addr);
        if scraped.get(series) == value {
            return scraped;
        }
        assert!(Instant::now() < deadline, "{series} never became {value}: {scraped:#?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
