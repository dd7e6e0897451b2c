//! Looking after the database as an operator does: `chatd backup` while
//! chatd is busy, restoring it, `chatd check`, and what chatd says when it
//! cannot start on a damaged database.
#![cfg(unix)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chatd_tests::{Client, Server, chatd};

/// Far more than a graceful stop needs; a failure here means chatd hung.
const EXIT_LIMIT: Duration = Duration::from_secs(15);

/// Flood control off, so one client can load the server. The rooms are
/// accounts' rooms, so a restored server still has their history.
const ARGS: &[&str] = &["--flood-lines-per-sec", "0", "--history-page-len", "100"];

fn stop(mut server: Server) {
    server.terminate();
    let status = server.wait_exit(EXIT_LIMIT);
    assert!(status.success(), "chatd exited with {status}; logs:\n{}", server.logs());
}

/// Runs `chatd ARGS...` (a maintenance command) to completion.
fn chatd_command(args: &[&str]) -> Output {
    Command::new(chatd!()).args(args).output().expect("run chatd")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The message number in the watcher's `[load] writer: m{i}` line.
fn seen_number(line: &str) -> Option<u64> {
    line.strip_prefix("[load] writer: m")?.parse().ok()
}

#[test]
fn a_backup_taken_under_load_restores_every_message_acknowledged_before_it() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    let server = Server::start_in(chatd!(), &dir, ARGS);
    let (writer, mut watcher) = server.two_in_owned_room("writer", "watcher", "load");

    // The writer sends as fast as the watcher keeps up, at most
    // IN_FLIGHT ahead of what it was shown, until told to stop: steady
    // load, with what is acknowledged close behind what is written.
    const IN_FLIGHT: u64 = 50;
    let stop_writing = Arc::new(AtomicBool::new(false));
    let shown = Arc::new(AtomicU64::new(0));
    let writing = {
        let (stop, shown) = (stop_writing.clone(), shown.clone());
        let mut writer: Client = writer;
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                if i >= shown.load(Ordering::Relaxed) + IN_FLIGHT {
                    std::thread::yield_now();
                    continue;
                }
                i += 1;
                writer.send(&format!("m{i}"));
            }
            writer
        })
    };
    let read = |watcher: &mut Client| {
        let line = watcher.line();
        let i = seen_number(&line).unwrap_or_else(|| panic!("unexpected line {line:?}"));
        shown.store(i, Ordering::Relaxed);
        i
    };
    // What the watcher has been shown is committed (chatd releases a
    // message only after its commit), so a backup begun after must hold it.
    let mut acknowledged = BTreeSet::new();
    while acknowledged.len() < 200 {
        acknowledged.insert(read(&mut watcher));
    }
    let backup_file = data.path().join("chatd-backup.db");
    let backing_up = {
        let (dir, to) = (dir.clone(), backup_file.clone());
        std::thread::spawn(move || {
            chatd_command(&["backup", "--data-dir", dir.to_str().unwrap(), "--to", to.to_str().unwrap()])
        })
    };
    // The watcher keeps reading while the backup runs: the load goes on.
    let mut seen_after = 0;
    while !backing_up.is_finished() || seen_after < 200 {
        read(&mut watcher);
        seen_after += 1;
    }
    // IN_FLIGHT + 1 more after it ended: at least one of them was written
    // after the backup's snapshot, whatever the timing.
    let mut last_shown = 0;
    for _ in 0..=IN_FLIGHT {
        last_shown = read(&mut watcher);
    }
    let output = backing_up.join().unwrap();
    assert!(output.status.success(), "backup failed: {}", text(&output.stderr));
    assert!(text(&output.stdout).starts_with("backed up "), "{}", text(&output.stdout));
    stop_writing.store(true, Ordering::Relaxed);
    drop(writing.join().unwrap());
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "a backup holds password hashes");
    }
    stop(server);

    // Restore as docs/OPERATIONS.md says: the backup becomes chatd.db of
    // a directory with no stale -wal or -shm.
    let restored = data.path().join("restored");
    std::fs::create_dir(&restored).unwrap();
    std::fs::copy(&backup_file, restored.join("chatd.db")).unwrap();
    let server = Server::start_in(chatd!(), &restored, ARGS);
    let stored = room_history(&server, "load");
    let missing: Vec<_> = acknowledged.iter().filter(|i| !stored.contains(i)).collect();
    assert!(missing.is_empty(), "acknowledged before the backup but not restored: {missing:?}");
    // A snapshot: everything up to its newest message, in order, nothing skipped.
    let newest = *stored.last().expect("messages restored");
    assert_eq!(stored, (1..=newest).collect::<Vec<_>>());
    // And the load went on after it: a snapshot, not the final state.
    assert!(newest < last_shown, "the backup holds m{last_shown}, which was written after it");
    stop(server);
}

/// Every message number in `room`, oldest first, paging back with JSON `history`.
fn room_history(server: &Server, room: &str) -> Vec<u64> {
    let mut reader = server.connect();
    reader.first_json(&format!(r#"{{"type":"join","room":"{room}"}}"#));
    let mut numbers = Vec::new();
    let mut before: Option<u64> = None;
    loop {
        let request = match before {
            None => format!(r#"{{"type":"history","room":"{room}"}}"#),
            Some(seq) => format!(r#"{{"type":"history","room":"{room}","before":{seq}}}"#),
        };
        reader.send(&request);
        let page = loop {
            let value = reader.json();
            if value["type"] == "history" {
                break value;
            }
        };
        let mut texts: Vec<u64> = page["messages"]
            .as_array()
            .expect("a page has messages")
            .iter()
            .map(|m| m["text"].as_str().and_then(|t| t.strip_prefix('m')?.parse().ok()).expect("a message mN"))
            .collect();
        texts.append(&mut numbers);
        numbers = texts;
        if page["more"] != true {
            return numbers;
        }
        before = Some(page["oldest"].as_u64().unwrap_or_else(|| panic!("a page with more has its oldest: {page}")));
    }
}

#[test]
fn a_backup_never_overwrites_a_file_unless_forced() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    stop(Server::start_in(chatd!(), &dir, ARGS));
    let to = data.path().join("notes.txt");
    std::fs::write(&to, "keep me").unwrap();
    let (dir, to_arg) = (dir.to_str().unwrap(), to.to_str().unwrap());
    let output = chatd_command(&["backup", "--data-dir", dir, "--to", to_arg]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("already exists") && text(&output.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&to).unwrap(), "keep me");
    let output = chatd_command(&["backup", "--data-dir", dir, "--to", to_arg, "--force"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(std::fs::read(&to).unwrap().starts_with(b"SQLite format 3\0"));
}

/// A stopped chatd's directory with a room of `n` messages, on many pages.
fn stopped_store(dir: &Path, n: usize) {
    let server = Server::start_in(chatd!(), dir, ARGS);
    let (mut a, mut b) = server.two_in_owned_room("alice", "b", "r");
    let padding = "x".repeat(200);
    for i in 0..n {
        a.send(&format!("{i} {padding}"));
    }
    for i in 0..n {
        assert!(b.line().starts_with(&format!("[r] alice: {i} ")));
    }
    stop(server);
}

#[test]
fn check_passes_a_healthy_store_and_names_damage_in_a_corrupt_one() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    stopped_store(&dir, 300);
    let dir_arg = dir.to_str().unwrap();
    let output = chatd_command(&["check", "--data-dir", dir_arg]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    assert!(text(&output.stdout).contains("healthy"), "{}", text(&output.stdout));

    // Damage whole pages in the middle of the file, as a bad disk would.
    let db = dir.join("chatd.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let page = 4096;
    assert!(bytes.len() >= 20 * page, "the database has many pages");
    let middle = bytes.len() / 2 / page * page;
    bytes[middle..middle + 2 * page].fill(0xA5);
    std::fs::write(&db, &bytes).unwrap();

    let output = chatd_command(&["check", "--data-dir", dir_arg]);
    assert_eq!(output.status.code(), Some(1));
    let said = text(&output.stderr);
    assert!(said.contains("has problems"), "{said}");
    assert!(said.contains("SQLite's integrity check found damage"), "{said}");
    assert!(said.contains("Restore the latest backup"), "{said}");

    // chatd itself refuses to start on it, and says what to run next.
    let (status, stderr) = Server::fail_to_start(chatd!(), &dir, ARGS);
    assert!(!status.success());
    assert!(stderr.contains("is corrupt"), "{stderr}");
    for step in [
        format!("chatd check --data-dir {dir_arg}"),
        format!("mkdir {dir_arg}/damaged && mv {dir_arg}/chatd.db* {dir_arg}/damaged/"),
        format!("cp BACKUP.db {dir_arg}/chatd.db"),
        "it creates a new, empty database".to_owned(),
    ] {
        assert!(stderr.contains(&step), "start-up should say {step:?}:\n{stderr}");
    }
    // Untouched: the operator decides.
    assert_eq!(std::fs::read(&db).unwrap(), bytes);
}

#[test]
fn the_recovery_steps_work_as_written() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    stopped_store(&dir, 5);
    std::fs::write(dir.join("chatd.db"), b"garbage".repeat(1000)).unwrap();
    let (_, stderr) = Server::fail_to_start(chatd!(), &dir, ARGS);
    // Step 3, run by the shell exactly as printed: start empty.
    let line = stderr.lines().find(|l| l.contains("mkdir ")).expect("a mkdir step").trim();
    let status = Command::new("sh").args(["-c", line]).status().unwrap();
    assert!(status.success(), "{line}");
    assert!(dir.join("damaged/chatd.db").exists());
    let server = Server::start_in(chatd!(), &dir, ARGS);
    let mut client = server.login("after");
    client.send("/list");
    client.expect("* no rooms yet; /create ROOM makes one");
    stop(server);
    let output = chatd_command(&["check", "--data-dir", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
}
