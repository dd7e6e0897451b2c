//! The one rule for tests that need a program from outside Rust: a
//! browser and its WebDriver, a database server and a broker. A server is
//! there when it answers, not when its program is installed.
//!
//! `cargo test --workspace` must pass on a machine with nothing but the
//! Rust toolchain, so a test whose program is missing prints one line that
//! cannot be missed and returns:
//!
//! ```text
//! SKIPPED: two_browsers_chat needs chromedriver and Chromium (Debian: apt-get install chromium chromium-driver)
//! ```
//!
//! and its test binary ends with a summary of what it skipped:
//!
//! ```text
//! SKIPPED in web_page: 1 test needed chromedriver and Chromium (Debian: apt-get install chromium chromium-driver); `bash .ci/run` installs what is missing and runs everything
//! ```
//! Where every
//! test must run (CI: `.ci/run` sets `CHATD_TEST_REQUIRE=all`), the same
//! words fail the test instead. The check comes before the test starts
//! anything: once its program is running, any later error is a failure,
//! never a skip.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Mutex, Once, PoisonError};

/// The environment variable that turns a missing program into a failure:
/// `all`, or a comma-separated list of [`Outside::key`]s.
pub const REQUIRE_VAR: &str = "CHATD_TEST_REQUIRE";

/// A program from outside Rust that some tests need.
pub struct Outside {
    /// What the test needs, as a person would name it.
    pub what: &'static str,
    /// Its name in a `CHATD_TEST_REQUIRE` list.
    pub key: &'static str,
    /// The Debian packages that bring it.
    pub debian: &'static str,
    /// Finds it, or says what is missing.
    find: fn() -> Result<(), String>,
}

/// Headless Chromium driven through chromedriver (`CHROMEDRIVER` and
/// `CHROME_BIN` name other programs).
pub const BROWSER: Outside = Outside {
    what: "chromedriver and Chromium",
    key: "chromium",
    debian: "chromium chromium-driver",
    find: find_browser,
};

/// A PostgreSQL server that answers a query (where is
/// [`crate::services`]'s to say), with `psql` to reach it.
pub const POSTGRES: Outside = Outside {
    what: "a running PostgreSQL",
    key: "postgres",
    debian: "postgresql",
    find: crate::services::postgres_answers,
};

/// A Redis server that answers `PING` (where is [`crate::services`]'s to
/// say), with `redis-cli` to reach it.
pub const REDIS: Outside =
    Outside { what: "a running Redis", key: "redis", debian: "redis-server", find: crate::services::redis_answers };

impl Outside {
    /// Whether the calling test can go on: `true` when the program is
    /// there. When it is missing, prints the `SKIPPED` line and returns
    /// `false`, or fails the test if [`REQUIRE_VAR`] requires the program.
    ///
    /// # Panics
    ///
    /// When the program is missing and required.
    pub fn present(&self) -> bool {
        let Err(missing) = (self.find)() else {
            return true;
        };
        let test = current_test();
        let words = format!("{test} needs {} (Debian: apt-get install {})", self.what, self.debian);
        let required = std::env::var(REQUIRE_VAR).unwrap_or_default();
        if requires(&required, self.key) {
            panic!("{words}: {missing}; {REQUIRE_VAR}={required} requires it");
        }
        // Straight to the file descriptor: the test harness captures
        // `eprintln!` of a passing test, and this line must be seen.
        let _ = writeln!(std::io::stderr(), "SKIPPED: {words}");
        note_skip(self);
        false
    }
}

/// Runs `tests` of this test binary again, alone, in a process of its own
/// set up by `set_up` (which finds [`REQUIRE_VAR`] unset), so that a test of
/// this rule can see what a run without a program prints. Gives the run's
/// output and its stdout and stderr as one text.
pub fn run_again(tests: &[&str], set_up: impl FnOnce(&mut Command)) -> (Output, String) {
    let mut command = Command::new(std::env::current_exe().expect("this test binary"));
    command.args(tests).args(["--exact", "--test-threads=2"]).env_remove(REQUIRE_VAR);
    set_up(&mut command);
    let output = command.output().expect("run this test binary again");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output, text)
}

/// Whether `required`, the value of [`REQUIRE_VAR`], names `key`.
fn requires(required: &str, key: &str) -> bool {
    required.split(',').map(str::trim).any(|name| name.eq_ignore_ascii_case("all") || name.eq_ignore_ascii_case(key))
}

fn find_browser() -> Result<(), String> {
    let driver = std::env::var_os("CHROMEDRIVER").unwrap_or_else(|| "chromedriver".into());
    which::which(&driver).map_err(|_| format!("no {} on PATH", PathBuf::from(&driver).display()))?;
    match std::env::var_os("CHROME_BIN") {
        Some(binary) => which::which(&binary).map(drop).map_err(|_| format!("CHROME_BIN={binary:?} is not a program")),
        None => ["chromium", "chromium-browser", "google-chrome"]
            .into_iter()
            .find_map(|name| which::which(name).ok())
            .map(drop)
            .ok_or_else(|| "no chromium on PATH".to_owned()),
    }
}

/// The running test's name: the test harness names each test's thread
/// after it.
fn current_test() -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_owned(),
        _ => format!("a test in {}", binary_name()),
    }
}

/// This test binary's name without the hash cargo adds (`web_page`).
fn binary_name() -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe.as_deref().and_then(|path| path.file_stem()).map(|s| s.to_string_lossy().into_owned());
    let stem = stem.unwrap_or_else(|| "this test binary".to_owned());
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_owned(),
        _ => stem,
    }
}

/// What this binary skipped: each program's description and how many
/// tests needed it.
static SKIPPED: Mutex<Vec<(&'static str, &'static str, usize)>> = Mutex::new(Vec::new());

fn note_skip(outside: &Outside) {
    let mut skipped = SKIPPED.lock().unwrap_or_else(PoisonError::into_inner);
    match skipped.iter_mut().find(|(what, _, _)| *what == outside.what) {
        Some((_, _, count)) => *count += 1,
        None => skipped.push((outside.what, outside.debian, 1)),
    }
    drop(skipped);
    static AT_EXIT: Once = Once::new();
    AT_EXIT.call_once(|| {
        // SAFETY: `print_summary` is a plain function that never unwinds
        // and lives as long as the process; `atexit` only stores it.
        #[allow(unsafe_code)]
        let registered = unsafe { libc::atexit(print_summary) };
        if registered != 0 {
            let _ = writeln!(std::io::stderr(), "(cannot print the summary of skipped tests at exit)");
        }
    });
}

/// Runs when the test binary exits, after the harness's `test result`
/// line, so that the last thing a newcomer reads says what did not run.
extern "C" fn print_summary() {
    let skipped = SKIPPED.lock().unwrap_or_else(PoisonError::into_inner);
    let mut stderr = std::io::stderr().lock();
    for (what, debian, count) in skipped.iter() {
        let tests = if *count == 1 { "1 test".to_owned() } else { format!("{count} tests") };
        let _ = writeln!(
            stderr,
            "SKIPPED in {}: {tests} needed {what} (Debian: apt-get install {debian}); \
             `bash .ci/run` installs what is missing and runs everything",
            binary_name()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::requires;

    #[test]
    fn all_or_a_named_key_requires_a_program() {
        assert!(requires("all", "chromium"));
        assert!(requires("ALL", "chromium"));
        assert!(requires("postgresql, chromium", "chromium"));
        assert!(!requires("postgres,redis", "chromium"));
        assert!(requires("postgres,redis", "redis"));
        assert!(!requires("", "chromium"));
        assert!(!requires("0", "chromium"));
    }
}
