//! Crash safety: chatd under message load from several clients is killed
//! with SIGKILL at random moments and restarted on the same data directory,
//! over and over. After every kill, before the restart, the database must
//! pass `PRAGMA integrity_check`, and every message any client received
//! must be stored, exactly once; message numbers must run on without gaps.
//!
//! The moments are drawn from a seeded generator, printed at the start;
//! set `CRASH_SEED` to replay a run.
#![cfg(unix)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use chatd_tests::{Client, Server, chatd};
use rusqlite::{Connection, OpenFlags};

const CYCLES: u32 = 20;
const CLIENTS: usize = 4;
const ROOM: &str = "load";

/// xorshift64*: small, seeded, good enough to pick moments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One client's two halves under load: a writer sending numbered lines
/// until the connection breaks, and a reader keeping every room message it
/// got in full (a line cut off by the kill does not count).
struct Loaded {
    writer: JoinHandle<u64>,
    reader: JoinHandle<Vec<String>>,
}

fn load(client: Client, tag: String, stop: Arc<AtomicBool>) -> Loaded {
    let stream = client.stream().try_clone().expect("clone the stream");
    let mut out = stream.try_clone().expect("clone the stream");
    let writer = std::thread::spawn(move || {
        let mut sent = 0;
        while !stop.load(Ordering::Relaxed) {
            // A few lines at a time, then a breath, so that readers keep up.
            let lines: String = (sent..sent + 4).map(|k| format!("{tag}-{k}\n")).collect();
            if out.write_all(lines.as_bytes()).is_err() {
                break;
            }
            sent += 4;
            std::thread::sleep(Duration::from_millis(2));
        }
        sent
    });
    let prefix = format!("[{ROOM}] ");
    let reader = std::thread::spawn(move || read_messages(stream, &prefix));
    // Whatever `client` had buffered was read before load started.
    drop(client);
    Loaded { writer, reader }
}

fn read_messages(stream: TcpStream, prefix: &str) -> Vec<String> {
    stream.set_read_timeout(Some(chatd_tests::READ_TIMEOUT)).expect("set read timeout");
    let mut reader = BufReader::new(stream);
    let mut got = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return got,
            Ok(_) if !line.ends_with('\n') => return got,
            Ok(_) => {
                if let Some(rest) = line.strip_prefix(prefix) {
                    let (_, text) = rest.trim_end().split_once(": ").expect("NICK: TEXT");
                    got.push(text.to_owned());
                }
            }
        }
    }
}

/// Connects `CLIENTS` clients into the room (creating it the first time).
fn join_all(server: &Server, first_cycle: bool) -> Vec<Client> {
    if first_cycle {
        // An account's room: a guest's, left occupied by a kill, would
        // start again empty at the next join.
        let mut owner = server.register("owner", "owner-password");
        owner.send(&format!("/create {ROOM}"));
        owner.expect(&format!("* room {ROOM} created"));
        owner.send("/quit");
        owner.read_until("* bye: quit");
    }
    (0..CLIENTS)
        .map(|i| {
            let mut client = server.login(&format!("c{i}"));
            client.send(&format!("/join {ROOM}"));
            // The replay of stored history follows in the same write; it is
            // marked `~` and so never counted as a live message.
            client.expect(&format!("* you are now in {ROOM} ({} here)", i + 1));
            client
        })
        .collect()
}

/// Every stored `(seq, text)` of the room, after checking the file's integrity.
fn check_database(dir: &Path) -> Vec<(u64, String)> {
    let db = Connection::open_with_flags(dir.join("chatd.db"), OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the database after the kill");
    let check: String = db.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
    assert_eq!(check, "ok", "integrity_check after a kill");
    let mut query = db.prepare("SELECT seq, text FROM messages WHERE room_key = ?1 ORDER BY seq").unwrap();
    query.query_map([ROOM], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
}

#[test]
fn sigkill_under_load_never_loses_what_a_client_saw() {
    let seed = std::env::var("CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5EED_C4A5_u64);
    println!("CRASH_SEED={seed}");
    let mut rng = Rng(seed | 1);
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let args = ["--flood-lines-per-sec", "0", "--max-per-ip", "0"];
    let mut received_total = 0;
    let mut stored_before = 0;
    for cycle in 0..CYCLES {
        let server = Server::start_in(chatd!(), dir, &args);
        let clients = join_all(&server, cycle == 0);
        let stop = Arc::new(AtomicBool::new(false));
        let loaded: Vec<Loaded> =
            clients.into_iter().enumerate().map(|(i, c)| load(c, format!("m{cycle}-{i}"), stop.clone())).collect();
        // Sometimes at once, mostly somewhere in the first 600 ms of load.
        let after = if rng.below(5) == 0 { rng.below(20) } else { rng.below(600) };
        std::thread::sleep(Duration::from_millis(after));
        drop(server); // SIGKILL, then wait for it to be gone
        stop.store(true, Ordering::Relaxed);
        let mut received = Vec::new();
        for l in loaded {
            l.writer.join().expect("writer thread");
            received.extend(l.reader.join().expect("reader thread"));
        }

        let stored = check_database(dir);
        let seqs: Vec<u64> = stored.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(seqs, (1..=stored.len() as u64).collect::<Vec<_>>(), "cycle {cycle}: numbers have gaps");
        let mut texts = HashSet::new();
        for (seq, text) in &stored {
            assert!(texts.insert(text.as_str()), "cycle {cycle}: {text:?} stored twice (again as {seq})");
        }
        assert!(stored.len() >= stored_before, "cycle {cycle}: stored messages disappeared");
        for text in &received {
            assert!(texts.contains(text.as_str()), "cycle {cycle}: {text:?} was received but is not stored");
        }
        println!(
            "cycle {cycle}: killed after {after} ms; {} deliveries seen, {} messages stored in all",
            received.len(),
            stored.len()
        );
        received_total += received.len();
        stored_before = stored.len();
    }
    // The load must really have run, or the checks above prove nothing.
    assert!(received_total > 0, "no client received any message in {CYCLES} cycles");
    assert!(stored_before > 0);
}
