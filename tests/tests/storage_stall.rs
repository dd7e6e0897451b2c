//! A disk that hangs instead of failing: while a commit has not finished
//! after `--commit-timeout`, chatd treats storage as failing. Commands that
//! need no storage are answered at once, new messages are refused with
//! `storage_unavailable`, and once the commit finishes everything resumes
//! with nothing lost.
//!
//! A frozen file system (`fsfreeze`) needs root and a loop device; here the
//! commit is held up the portable way: another connection holds SQLite's
//! write lock, so chatd's storage thread waits inside its commit (in
//! SQLite's busy handler, up to 5 s) exactly as a thread stuck in the
//! kernel would: it cannot report anything until the commit returns.
#![cfg(unix)]

use std::path::Path;
use std::time::{Duration, Instant};

use chatd_tests::{Client, READ_TIMEOUT, Server, chatd};
use rusqlite::{Connection, OpenFlags};

/// Well under SQLite's 5 s busy timeout, so the commit is held, not failed.
const COMMIT_TIMEOUT: &str = "0.3";
/// How long an answer that needs no storage may take while the commit hangs.
const PROMPT: Duration = Duration::from_millis(1500);

/// Reads one line, failing the test if it takes longer than `within`.
fn line_within(client: &mut Client, within: Duration) -> String {
    client.stream().set_read_timeout(Some(within)).unwrap();
    let started = Instant::now();
    let line = client.try_line();
    client.stream().set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    match line {
        Ok(Some(line)) => line,
        Ok(None) => panic!("chatd closed the connection"),
        Err(error) => panic!("no answer within {:?} ({error})", started.elapsed()),
    }
}

/// The texts stored for room `r`, read without writing.
fn stored(dir: &Path) -> Vec<String> {
    let db = Connection::open_with_flags(dir.join("chatd.db"), OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut query = db.prepare("SELECT text FROM messages WHERE room_key = 'r' ORDER BY seq").unwrap();
    query.query_map([], |row| row.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

#[test]
fn a_hung_commit_refuses_new_messages_answers_everything_else_and_loses_nothing() {
    let data = tempfile::tempdir().unwrap();
    let args = ["--commit-timeout", COMMIT_TIMEOUT, "--flood-lines-per-sec", "0"];
    let server = Server::start_in(chatd!(), data.path(), &args);
    let mut alice = server.login("alice");
    alice.send("/create r");
    alice.expect("* room r created");
    alice.expect("* you are now in r (1 here)");
    let mut bob = server.login("bob");
    bob.send("/join r");
    bob.expect("* you are now in r (2 here)");
    alice.expect("* bob joined r");
    let mut carol = server.login("carol");

    // Hold SQLite's write lock, as a hung disk holds a write.
    let mut blocker = Connection::open(data.path().join("chatd.db")).unwrap();
    let lock = blocker.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
    alice.send("said while the disk hangs");
    // Asked after that commit started, before it counts as hung: the answer
    // waits behind it only until then, not until the disk comes back.
    std::thread::sleep(Duration::from_millis(100));
    bob.send("/users");
    server.wait_for_log("a storage commit has not finished; refusing new messages until it does");
    let stalled_at = Instant::now();
    assert!(line_within(&mut bob, PROMPT).starts_with("* online ("));

    // Commands that need no storage are answered at once, for everyone.
    carol.send("/users");
    assert!(line_within(&mut carol, PROMPT).starts_with("* online ("));
    bob.send("/list");
    assert_eq!(line_within(&mut bob, PROMPT), "* 1 room:");
    assert_eq!(line_within(&mut bob, PROMPT), "*   r (2 here)");
    carol.send("/nick carla");
    assert_eq!(line_within(&mut carol, PROMPT), "* you are now known as carla");
    carol.send("/msg bob psst");
    let whisper = line_within(&mut bob, PROMPT);
    assert!(whisper.starts_with("[whisper from carla "), "{whisper:?}");
    // A new message is refused rather than queued behind the hung commit.
    bob.send("said while refused");
    assert_eq!(
        line_within(&mut bob, PROMPT),
        "! the server cannot save right now; that was not sent or saved, try again shortly"
    );
    assert!(stalled_at.elapsed() < Duration::from_secs(3), "the checks took so long the lock may have timed out");

    // The disk comes back: the held message is delivered, new ones are taken.
    lock.rollback().unwrap();
    drop(blocker);
    bob.read_until("[r] alice: said while the disk hangs");
    server.wait_for_log("the overdue storage commit finished; taking new messages again");
    alice.send("said after");
    bob.expect("[r] alice: said after");
    assert_eq!(stored(data.path()), ["said while the disk hangs", "said after"]);
}
