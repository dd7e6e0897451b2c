//! The cluster bus on one machine: how long a room message takes from one
//! node's publish to another node's reader (XADD, then the reader's XREAD
//! returning it), and how many publishes per second one node makes.
//!
//! ```text
//! cargo run --release -p chatd-benches --example bus_roundtrip -- [URL] [MESSAGES] [PAYLOAD_BYTES]
//! ```
//!
//! Defaults: `redis://127.0.0.1:6379`, 10000 messages, 200-byte payloads.
//! Every key is under `chatd-bench:PID:`, deleted at the end.
//!
//! - *round trip*: one message at a time, the next published once the
//!   reader has reported the last. `bus`: node A's [`Bus::publish`] to node
//!   B's [`Report::Entry`] (the worker thread, XADD, XREAD, the reader
//!   thread, the callback). `direct`: an `XADD` on a connection of the
//!   bench's own to B's report.
//! - *throughput*: MESSAGES publishes sent to A's bus at once, timed until
//!   A has counted them all published (pipelines of what waits), and
//!   until B has read the last (the streams keep MESSAGES entries here,
//!   so none is trimmed); then the same count of `XADD`s one after the
//!   other on one connection.

use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chatd::cluster::{self, Bus, BusConfig, Health, Keys, Report, streams};
use hdrhistogram::Histogram;

const WARM_UP: u64 = 200;

fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    let messages: u64 = args.next().map_or(10_000, |n| n.parse().expect("MESSAGES is a number"));
    let payload_bytes: usize = args.next().map_or(200, |n| n.parse().expect("PAYLOAD_BYTES is a number"));
    let prefix = format!("chatd-bench:{}:", std::process::id());
    let payload = Bytes::from(vec![b'x'; payload_bytes]);
    println!("{messages} messages of {payload_bytes} bytes, {url}, keys under {prefix}");

    let (a, _a_reports) = start(&url, &prefix, "a", messages as usize);
    let (b, b_reports) = start(&url, &prefix, "b", messages as usize);
    let mut conn = cluster::connect(&url).expect("connect to Redis");
    let keys = Keys::new(prefix.clone());

    let mut seq = 0;
    b.follow("bus", 0);
    let bus = round_trips(messages, &b_reports, "bus", &mut seq, |seq| a.publish("bus", seq, payload.clone()));
    print_latency("round trip, bus to bus", &bus);
    let mut seq = 0;
    b.follow("direct", 0);
    let direct = round_trips(messages, &b_reports, "direct", &mut seq, |seq| {
        streams::publish(&mut conn, &keys, "direct", seq, &payload, 1000).expect("XADD");
    });
    print_latency("round trip, XADD to bus", &direct);

    b.follow("burst", 0);
    let published_before = a.counts().published;
    let start_at = Instant::now();
    for seq in 1..=messages {
        a.publish("burst", seq, payload.clone());
    }
    while a.counts().published < published_before + messages {
        std::thread::sleep(Duration::from_micros(200));
    }
    let published = start_at.elapsed();
    let (mut read, mut trimmed) = (0, 0);
    loop {
        match b_reports.recv_timeout(Duration::from_secs(10)).expect("B reads the burst") {
            Report::Entry { room, seq, .. } if room == "burst" => {
                read += 1;
                if seq == messages {
                    break;
                }
            }
            Report::Trimmed { .. } => trimmed += 1,
            _ => {}
        }
    }
    let all_read = start_at.elapsed();
    println!(
        "throughput, bus: {messages} published in {:.3} s = {:.0}/s; the last read by B after {:.3} s = {:.0}/s \
         ({read} read, {trimmed} trimmed)",
        published.as_secs_f64(),
        messages as f64 / published.as_secs_f64(),
        all_read.as_secs_f64(),
        messages as f64 / all_read.as_secs_f64()
    );
    let start_at = Instant::now();
    for seq in 1..=messages {
        streams::publish(&mut conn, &keys, "sequential", seq, &payload, 1000).expect("XADD");
    }
    let took = start_at.elapsed();
    println!("throughput, XADD one after another on one connection: {:.0}/s", messages as f64 / took.as_secs_f64());
    let counts = a.counts();
    println!("A counted: {counts:?}");

    a.finish();
    b.finish();
    delete_keys(&mut conn, &prefix);
}

fn start(url: &str, prefix: &str, name: &str, messages: usize) -> (Bus, Receiver<Report>) {
    let mut config = BusConfig::new(url);
    config.prefix = prefix.to_owned();
    config.node = format!("bench-{name}-{}", std::process::id());
    // The whole burst stays, so that the reader's throughput is measured.
    config.room_stream_len = config.room_stream_len.max(messages);
    let (sender, reports) = mpsc::channel();
    let bus = Bus::start(config, move |report| {
        let _ = sender.send(report);
    })
    .expect("the bus starts");
    while reports.recv().expect("the bus reports") != Report::Connection(Health::Up) {}
    (bus, reports)
}

/// Publishes `messages` (after a warm-up) one at a time, each once the
/// last was reported, and gives the round trips in microseconds.
fn round_trips(
    messages: u64,
    reports: &Receiver<Report>,
    room: &str,
    seq: &mut u64,
    mut publish: impl FnMut(u64),
) -> Histogram<u64> {
    let mut histogram = Histogram::new(3).expect("a histogram");
    for round in 0..WARM_UP + messages {
        *seq += 1;
        let sent = Instant::now();
        publish(*seq);
        loop {
            match reports.recv().expect("B reports") {
                Report::Entry { room: read, seq: got, .. } if read == room && got == *seq => break,
                _ => {}
            }
        }
        if round >= WARM_UP {
            histogram.record(sent.elapsed().as_micros() as u64).expect("in range");
        }
    }
    histogram
}

fn print_latency(what: &str, histogram: &Histogram<u64>) {
    println!(
        "{what}: p50 {} µs, p90 {} µs, p99 {} µs, max {} µs (mean {:.0} µs = {:.0} messages/s one at a time)",
        histogram.value_at_quantile(0.5),
        histogram.value_at_quantile(0.9),
        histogram.value_at_quantile(0.99),
        histogram.max(),
        histogram.mean(),
        1e6 / histogram.mean()
    );
}

fn delete_keys(conn: &mut cluster::Connection, prefix: &str) {
    let keys: Vec<String> = redis_scan(conn, &format!("{prefix}*"));
    for key in keys {
        let _ = redis::cmd("DEL").arg(key).query::<i64>(conn);
    }
}

fn redis_scan(conn: &mut cluster::Connection, pattern: &str) -> Vec<String> {
    let mut cursor = 0u64;
    let mut found = Vec::new();
    loop {
        let (next, keys): (u64, Vec<String>) =
            redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(pattern).query(conn).expect("SCAN");
        found.extend(keys);
        if next == 0 {
            return found;
        }
        cursor = next;
    }
}
