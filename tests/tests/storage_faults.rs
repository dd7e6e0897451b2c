//! Storage faults: a data directory chatd must not use is refused with a
//! clear error, a non-zero exit and the database left byte for byte as it
//! was; a disk that fills up or hangs at run time refuses new messages
//! with a clear error, answers everything else, loses nothing a client was
//! shown, and chatd recovers once the disk works again.
#![cfg(unix)]

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chatd_tests::{Client, Server, chatd};
use rusqlite::{Connection, OpenFlags};

/// Far more than a graceful stop needs; a failure here means chatd hung.
const EXIT_LIMIT: Duration = Duration::from_secs(15);

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Makes a data directory with a real chatd database in it (a room and a
/// message), and stops that chatd cleanly.
fn make_store(dir: &Path) {
    let mut server = Server::start_in(chatd!(), dir, &[]);
    let mut alice = server.login("alice");
    alice.send("/create r");
    alice.expect("* room r created");
    alice.expect("* you are now in r (1 here)");
    alice.send("hello");
    alice.send("/users");
    alice.expect_prefix("* online (");
    drop(alice);
    server.terminate();
    assert!(server.wait_exit(EXIT_LIMIT).success(), "{}", server.logs());
}

/// Starts chatd on `dir` expecting a refusal that mentions `wanted`, and
/// checks that `chatd.db` is exactly as it was.
fn refused(dir: &Path, wanted: &str) -> String {
    let db = dir.join("chatd.db");
    let before = std::fs::read(&db).ok();
    let (status, stderr) = Server::fail_to_start(chatd!(), dir, &[]);
    assert!(!status.success(), "chatd exited with {status}");
    assert!(stderr.contains(wanted), "stderr should say {wanted:?}:\n{stderr}");
    // Besides the log, a plain `chatd: ...` line says it, for whoever reads the terminal.
    let plain = stderr.lines().find(|line| line.starts_with("chatd: ")).unwrap_or_default();
    assert!(plain.contains(wanted), "{stderr}");
    assert_eq!(std::fs::read(&db).ok(), before, "the database was changed");
    stderr
}

#[test]
fn a_data_dir_in_use_by_another_chatd_is_refused() {
    let data = tempfile::tempdir().unwrap();
    make_store(data.path());
    let first = Server::start_in(chatd!(), data.path(), &[]);
    refused(data.path(), "is in use by another chatd");
    // The first one is unharmed.
    let mut alice = first.login("alice");
    alice.send("/list");
    alice.expect("* 1 room:");
}

#[test]
fn a_corrupt_database_is_refused_and_left_untouched() {
    let data = tempfile::tempdir().unwrap();
    // Not a database at all.
    std::fs::write(data.path().join("chatd.db"), b"my shopping list\n".repeat(500)).unwrap();
    refused(data.path(), "is corrupt or not a chatd database");

    // A real database with a damaged page: the header is sound, the rest is not.
    let data = tempfile::tempdir().unwrap();
    make_store(data.path());
    let path = data.path().join("chatd.db");
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    assert!(bytes.len() >= 3 * page, "the database has several pages");
    for byte in &mut bytes[page..2 * page] {
        *byte = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    refused(data.path(), "is corrupt");
}

#[test]
fn a_database_from_a_newer_chatd_is_refused_and_left_untouched() {
    let data = tempfile::tempdir().unwrap();
    make_store(data.path());
    {
        let db = Connection::open(data.path().join("chatd.db")).unwrap();
        let version: u32 = db.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
        assert!(version >= 1);
        db.pragma_update(None, "user_version", version + 1).unwrap();
    }
    let stderr = refused(data.path(), "is newer than this chatd supports");
    assert!(stderr.contains("upgrade chatd"), "{stderr}");
}

#[test]
fn a_database_sqlite_would_open_read_only_is_refused_and_left_untouched() {
    let data = tempfile::tempdir().unwrap();
    make_store(data.path());
    let path = data.path().join("chatd.db");
    let mut bytes = std::fs::read(&path).unwrap();
    // The file format's write version: one SQLite does not know makes it
    // open the file read-only, and every write would fail once running.
    bytes[18] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let (status, stderr) = Server::fail_to_start(chatd!(), data.path(), &[]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    let plain = stderr.lines().find(|line| line.starts_with("chatd: ")).unwrap_or_default();
    assert!(plain.contains("is read-only or cannot be written"), "{stderr}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the database was changed");
}

/// Each file chatd keeps in its data directory, planted as a link to
/// someone else's file: chatd refuses to start, `chatd check` and `chatd
/// backup` refuse to read, each naming the link, and the file it points at
/// keeps its bytes, its mode and its lock.
#[test]
fn a_link_planted_in_the_data_dir_is_refused_and_what_it_points_at_untouched() {
    use std::os::unix::fs::PermissionsExt;

    let data = tempfile::tempdir().unwrap();
    make_store(data.path());
    let elsewhere = tempfile::tempdir().unwrap();
    let victim = elsewhere.path().join("victim");
    std::fs::write(&victim, "someone else's file\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let untouched = || {
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "someone else's file\n");
        assert_eq!(std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777, 0o644);
        // Nobody holds a lock on it.
        let file = File::open(&victim).unwrap();
        file.try_lock().expect("the file pointed at is not locked");
    };
    let dir = data.path().to_str().unwrap();
    for name in ["chatd.lock", "chatd.db", "chatd.db-wal", "chatd.db-shm", "chatd.db-journal", "cloak.key"] {
        let link = data.path().join(name);
        let aside = data.path().join(format!("{name}.aside"));
        let real = link.exists();
        if real {
            std::fs::rename(&link, &aside).unwrap();
        }
        std::os::unix::fs::symlink(&victim, &link).unwrap();

        let stderr = refused(data.path(), "is a symbolic link");
        assert!(stderr.contains(&link.display().to_string()), "{stderr}");
        untouched();
        let check = Command::new(chatd!()).args(["check", "--data-dir", dir]).output().unwrap();
        let said = String::from_utf8_lossy(&check.stderr);
        assert_eq!(check.status.code(), Some(1), "{name}: {said}");
        assert!(said.contains("is a symbolic link"), "{name}: {said}");
        let to = elsewhere.path().join("backup.db");
        let backup = Command::new(chatd!()).args(["backup", "--data-dir", dir, "--to"]).arg(&to).output().unwrap();
        let said = String::from_utf8_lossy(&backup.stderr);
        assert!(!backup.status.success() && said.contains("is a symbolic link"), "{name}: {said}");
        assert!(!to.exists());
        untouched();

        std::fs::remove_file(&link).unwrap();
        if real {
            std::fs::rename(&aside, &link).unwrap();
        }
    }
    // With every link gone, the store is chatd's again.
    let server = Server::start_in(chatd!(), data.path(), &[]);
    let mut alice = server.login("alice");
    alice.send("/list");
    alice.expect("* 1 room:");
}

#[test]
fn a_data_dir_that_is_not_a_directory_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let (status, stderr) = Server::fail_to_start(chatd!(), &file.join("data"), &[]);
    assert!(!status.success());
    assert!(stderr.contains("is not writable"), "{stderr}");
    assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");
}

/// A tmpfs mounted on a fresh directory, unmounted when dropped (even when
/// the test fails). Needs root.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0755"), "chatd-test"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(status.success(), "mount -t tmpfs failed: {status}");
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(self.path())
            .status()
            .expect("run mount");
        assert!(status.success(), "remount {options} failed: {status}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount").arg(self.path()).status().is_ok_and(|s| s.success());
        if !unmounted {
            // Something still holds a file on it; detach it anyway.
            let _ = Command::new("umount").arg("-l").arg(self.path()).status();
        }
    }
}

#[test]
fn an_unwritable_data_dir_is_refused_and_left_untouched() {
    if !is_root() {
        // Not root: no read-only mount, but permissions do stop us.
        eprintln!("note: not root, so the data directory is made read-only with permissions, not a read-only mount");
        use std::os::unix::fs::PermissionsExt;
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join("data");
        make_store(&dir);
        std::fs::set_permissions(dir.join("chatd.db"), std::fs::Permissions::from_mode(0o444)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        let (status, stderr) = Server::fail_to_start(chatd!(), &dir, &[]);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(!status.success());
        assert!(stderr.contains("not writable") || stderr.contains("read-only"), "{stderr}");
        return;
    }
    // Root writes through permissions, so use a file system mounted read-only.
    let fs = Tmpfs::mount("8m");
    let dir = fs.path().join("data");
    make_store(&dir);
    fs.remount("ro");
    let stderr = refused(&dir, "is not writable");
    assert!(stderr.contains("Read-only file system"), "{stderr}");
}

/// Fills the file system under `dir` to the last byte; returns the filler.
fn fill_disk(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = File::create(&path).unwrap();
    for chunk in [64 * 1024, 4096, 512, 1] {
        let buffer = vec![0u8; chunk];
        while file.write_all(&buffer).is_ok() {}
    }
    let _ = file.sync_all();
    path
}

/// The messages stored for `room_key`, as `(seq, text)`, read without writing.
fn stored(dir: &Path, room_key: &str) -> Vec<(u64, String)> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY;
    let db = Connection::open_with_flags(dir.join("chatd.db"), flags).expect("open chatd.db");
    let mut query = db.prepare("SELECT seq, text FROM messages WHERE room_key = ?1 ORDER BY seq").unwrap();
    query.query_map([room_key], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
}

/// A disk already full when chatd starts: SQLite calls it a "disk I/O
/// error" (its shared-memory file cannot grow); chatd says what is full and
/// what to do, and changes nothing.
#[test]
fn a_full_disk_at_start_is_named_with_what_to_do() {
    if !is_root() {
        eprintln!("note: not root, so no tmpfs can be mounted and this test cannot fill a disk");
        return;
    }
    let fs = Tmpfs::mount("2m");
    let dir = fs.path().join("data");
    make_store(&dir);
    fill_disk(fs.path());
    let stderr = refused(&dir, "is full");
    let plain = stderr.lines().find(|line| line.starts_with("chatd: ")).unwrap_or_default();
    assert!(plain.contains(&format!("the file system holding {} is full", dir.display())), "{stderr}");
    assert!(plain.contains("free space there"), "{stderr}");
}

#[test]
fn a_full_disk_refuses_new_messages_loses_nothing_and_recovers() {
    if !is_root() {
        eprintln!(
            "note: not root, so no tmpfs can be mounted and the disk-full part of this test cannot run; \
             checking only that messages are stored"
        );
        let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0"]);
        let mut alice = server.login("alice");
        alice.send("/create r");
        alice.expect("* room r created");
        alice.expect("* you are now in r (1 here)");
        assert!(!alice.refused_for_storage_within("stored", Duration::from_millis(300)));
        return;
    }
    let fs = Tmpfs::mount("2m");
    let dir = fs.path().join("data");
    let server = Server::start_in(chatd!(), &dir, &["--flood-lines-per-sec", "0"]);
    let (mut alice, mut bob) = server.two_in_room("alice", "bob", "r");
    alice.send("before the disk filled");
    bob.expect("[r] alice: before the disk filled");

    let filler = fill_disk(fs.path());
    // Messages go on being accepted until a commit fails (SQLite may still
    // have room in pages it holds); after that each is refused. Long
    // messages fill any such room quickly.
    let padding = format!(" {}", "x".repeat(1500));
    let why = || format!("1.5 kB messages on a full disk; logs:\n{}", server.logs());
    let accepted =
        alice.send_until_refused_for_storage(&padding, Duration::from_millis(200), Duration::from_secs(20), &why);
    server.wait_for_log("storage write failed; refusing new messages until it works again");
    // A room cannot be created either, and nobody hangs: other commands answer.
    alice.send("/create other");
    alice.expect("! the server cannot save right now; that was not sent or saved, try again shortly");
    bob.send("/who");
    bob.expect("* in r (2): alice, bob");

    // Space comes back: the messages that were accepted are stored and
    // delivered, and new ones are taken again.
    std::fs::remove_file(&filler).unwrap();
    server.wait_for_log("storage writes work again");
    for text in &accepted {
        bob.expect(&format!("[r] alice: {text}"));
    }
    alice.send("after the disk had room again");
    bob.expect("[r] alice: after the disk had room again");

    let mut texts: Vec<String> = stored(&dir, "r").into_iter().map(|(_, text)| text).collect();
    let mut wanted = vec!["before the disk filled".to_owned()];
    wanted.extend(accepted);
    wanted.push("after the disk had room again".to_owned());
    // No refused message was stored; every accepted one was, once.
    texts.dedup();
    assert_eq!(texts, wanted);
    drop((alice, bob));
    drop(server);
}

// A disk that hangs instead of failing: while a commit has not finished
// after `--commit-timeout`, chatd treats storage as failing. A frozen file
// system (`fsfreeze`) needs root and a loop device; here the commit is held
// up the portable way: another connection holds SQLite's write lock, so
// chatd's storage thread waits inside its commit (in SQLite's busy
// handler, up to 5 s) as a thread stuck in the kernel would: it cannot
// report anything until the commit returns.

/// Well under SQLite's 5 s busy timeout, so the commit is held, not failed.
const COMMIT_TIMEOUT: &str = "0.3";
/// How long an answer that needs no storage may take while the commit hangs.
const PROMPT: Duration = Duration::from_millis(1500);

/// The next line, which must come within [`PROMPT`].
fn prompt(client: &mut Client) -> String {
    client.line_within(PROMPT).unwrap_or_else(|| panic!("no answer within {PROMPT:?}"))
}

#[test]
fn a_hung_commit_refuses_new_messages_answers_everything_else_and_loses_nothing() {
    let data = tempfile::tempdir().unwrap();
    let args = ["--commit-timeout", COMMIT_TIMEOUT, "--flood-lines-per-sec", "0"];
    let server = Server::start_in(chatd!(), data.path(), &args);
    let (mut alice, mut bob) = server.two_in_room("alice", "bob", "r");
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
    assert!(prompt(&mut bob).starts_with("* online ("));

    // Commands that need no storage are answered at once, for everyone.
    carol.send("/users");
    assert!(prompt(&mut carol).starts_with("* online ("));
    bob.send("/list");
    assert_eq!(prompt(&mut bob), "* 1 room:");
    assert_eq!(prompt(&mut bob), "*   r (2 here)");
    carol.send("/nick carla");
    assert_eq!(prompt(&mut carol), "* you are now known as carla");
    carol.send("/msg bob psst");
    let whisper = prompt(&mut bob);
    assert!(whisper.starts_with("[whisper from carla "), "{whisper:?}");
    // A new message is refused rather than queued behind the hung commit.
    assert!(bob.refused_for_storage_within("said while refused", PROMPT), "not refused within {PROMPT:?}");
    assert!(stalled_at.elapsed() < Duration::from_secs(3), "the checks took so long the lock may have timed out");

    // The disk comes back: the held message is delivered, new ones are taken.
    lock.rollback().unwrap();
    drop(blocker);
    bob.read_until("[r] alice: said while the disk hangs");
    server.wait_for_log("the overdue storage commit finished; taking new messages again");
    alice.send("said after");
    bob.expect("[r] alice: said after");
    let texts: Vec<String> = stored(data.path(), "r").into_iter().map(|(_, text)| text).collect();
    assert_eq!(texts, ["said while the disk hangs", "said after"]);
}
