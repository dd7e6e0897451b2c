//! `storebench`: how many room messages per second chatd's store makes
//! durable, and how long each commit takes, with group commit.
//!
//! It links chatd's own store ([`chatd::store`], the same code chatd
//! runs) and drives its storage thread as chatd's engine task does: each "engine batch" of `--batch` messages goes to the thread as
//! one job, with at most `--in-flight` batches waiting for their commit
//! (chatd bounds what it holds back the same way); the thread writes every
//! batch that is waiting in one transaction. Commit latency is from handing
//! a batch over to hearing it is durable, which is how long chatd holds
//! that batch's sends back.
//!
//! With `--database-url` it measures the PostgreSQL store instead, in a
//! database of its own that must hold no chatd tables yet (`createdb`
//! one; drop it after).

#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chatcore::{Record, StoredMessage};
use clap::Parser;
use hdrhistogram::Histogram;

use chatd::store::thread::{Job, Reply, StoreHandle};
use chatd::store::{Backend, DatabaseUrl, PgStore, Retention, Store, SyncMode};

/// Measures chatd's durable store: persisted messages/s and commit latency.
#[derive(Debug, Parser)]
#[command(name = "storebench", max_term_width = 100)]
struct Args {
    /// SQLite synchronous mode, as chatd's --sync.
    #[arg(long, value_enum, default_value = "normal")]
    sync: SyncMode,

    /// Messages per engine batch (chatd takes up to 256 events per batch).
    #[arg(long, default_value_t = 64)]
    batch: usize,

    /// Batches that may wait for their commit at once.
    #[arg(long, default_value_t = 64)]
    in_flight: usize,

    /// Rooms the messages are spread over.
    #[arg(long, default_value_t = 16)]
    rooms: usize,

    /// Bytes of message text.
    #[arg(long, default_value_t = 64)]
    size: usize,

    /// Seconds of measurement (after one second of warm-up).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,

    /// Directory for the database; must not exist yet, and is removed at
    /// the end. Put it on the disk you mean to measure (not a tmpfs).
    #[arg(long, default_value = "storebench-data")]
    dir: PathBuf,

    /// Measure the PostgreSQL store in this database instead of SQLite
    /// (postgres://USER@HOST:PORT/DATABASE, a new, empty database).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
}

fn main() {
    let args = Args::parse();
    assert!(
        args.batch > 0 && args.in_flight > 0 && args.rooms > 0,
        "--batch, --in-flight and --rooms must be positive"
    );
    let store: Box<dyn Backend> = match &args.database_url {
        Some(url) => {
            let url: DatabaseUrl = url.parse().unwrap_or_else(|e| panic!("--database-url: {e}"));
            let mut store = PgStore::open(&url).unwrap_or_else(|e| panic!("open the store: {e}"));
            assert!(store.load(1).expect("read the database").is_empty(), "storebench wants a database of its own");
            Box::new(store)
        }
        None => {
            assert!(!args.dir.exists(), "{} exists already; storebench wants a fresh directory", args.dir.display());
            Box::new(Store::open(&args.dir, args.sync).unwrap_or_else(|e| panic!("open the store: {e}")))
        }
    };
    let mut setup: Vec<Record> =
        (0..args.rooms).map(|r| Record::RoomCreated { room: room(r).into(), unix_ms: 0, owner: None }).collect();
    let text: Box<str> = "x".repeat(args.size).into();
    let mut seqs = vec![0u64; args.rooms];
    let mut next_room = 0;
    let mut make_batch = |n: usize| -> Vec<Record> {
        (0..n)
            .map(|_| {
                let r = next_room;
                next_room = (next_room + 1) % args.rooms;
                seqs[r] += 1;
                let (seq, unix_ms) = (seqs[r], 1_700_000_000_000 + seqs[r]);
                let message = StoredMessage {
                    seq,
                    from: "bench".into(),
                    text: text.clone(),
                    unix_ms,
                    kind: chatcore::MessageKind::Said,
                };
                Record::Message { room: room(r).into(), message }
            })
            .collect()
    };

    let (replies, inbox) = mpsc::channel();
    let handle = StoreHandle::spawn(store, Retention::default(), move |reply| {
        let _ = replies.send((Instant::now(), reply));
    });
    setup.extend(make_batch(args.batch));
    handle.send(Job::Commit { batch: 0, records: setup, publications: Vec::new() });
    wait_for(&inbox, 0);

    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("histogram");
    let mut waiting: VecDeque<(u64, Instant)> = VecDeque::new();
    let mut next_batch = 1;
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(1);
    let end = measure_from + Duration::from_secs_f64(args.seconds);
    let (mut messages, mut commits, mut groups) = (0u64, 0u64, 0u64);
    while Instant::now() < end || !waiting.is_empty() {
        let sending = Instant::now() < end;
        while sending && waiting.len() < args.in_flight {
            let records = make_batch(args.batch);
            waiting.push_back((next_batch, Instant::now()));
            handle.send(Job::Commit { batch: next_batch, records, publications: Vec::new() });
            next_batch += 1;
        }
        let (at, reply) = inbox.recv().expect("the storage thread answers");
        let Reply::Committed { upto, .. } = reply else {
            panic!("unexpected reply from the store: {reply:?}");
        };
        let mut counted = false;
        while let Some(&(batch, sent)) = waiting.front() {
            if batch > upto {
                break;
            }
            waiting.pop_front();
            if sent >= measure_from && at <= end {
                latency.record(at.duration_since(sent).as_nanos() as u64).expect("in range");
                messages += args.batch as u64;
                commits += 1;
                counted = true;
            }
        }
        groups += u64::from(counted);
    }
    handle.finish();
    // Every message written, warm-up and setup included, and the file they
    // take once the store is closed (which checkpoints and removes the WAL),
    // or the messages table with its indexes in PostgreSQL.
    let written: u64 = seqs.iter().sum();
    let (store_name, db_bytes) = match &args.database_url {
        Some(url) => ("messages table", postgres_bytes(url)),
        None => ("chatd.db", std::fs::metadata(args.dir.join("chatd.db")).map_or(0, |m| m.len())),
    };
    let elapsed = args.seconds;
    let us = |q: f64| latency.value_at_quantile(q) as f64 / 1e3;
    println!(
        "{} batch={} in_flight={} rooms={} size={}: {:.0} messages/s persisted ({} messages in {:.1} s), \
         {} batches in {} transactions ({:.1} batches per transaction); commit latency p50 {:.0} us, \
         p99 {:.0} us, p99.9 {:.0} us, max {:.0} us; {store_name} {:.1} MB for {} messages: {:.0} bytes per message",
        match args.database_url {
            Some(_) => "postgres".to_owned(),
            None => format!("sync={:?}", args.sync),
        },
        args.batch,
        args.in_flight,
        args.rooms,
        args.size,
        messages as f64 / elapsed,
        messages,
        elapsed,
        commits,
        groups,
        commits as f64 / groups.max(1) as f64,
        us(0.5),
        us(0.99),
        us(0.999),
        latency.max() as f64 / 1e3,
        db_bytes as f64 / 1e6,
        written,
        db_bytes as f64 / written.max(1) as f64,
    );
    if args.database_url.is_none() {
        std::fs::remove_dir_all(&args.dir).expect("remove the bench directory");
    }
}

/// The bytes PostgreSQL gives the messages table and its indexes.
fn postgres_bytes(url: &str) -> u64 {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect to measure the table");
    let row = client.query_one("SELECT pg_total_relation_size('messages')", &[]).expect("the table's size");
    u64::try_from(row.get::<_, i64>(0)).unwrap_or(0)
}

fn room(r: usize) -> String {
    format!("room{r}")
}

fn wait_for(inbox: &mpsc::Receiver<(Instant, Reply)>, batch: u64) {
    loop {
        if let (_, Reply::Committed { upto, .. }) = inbox.recv().expect("the storage thread answers")
            && upto >= batch
        {
            return;
        }
    }
}
