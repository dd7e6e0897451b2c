//! The guards that give a test a PostgreSQL database and a Redis key
//! prefix of its own: what a test makes is there while it runs, and gone
//! after, and nothing it did not make is touched. Where a server does not
//! answer, these skip or fail by the rule of `chatd_tests::outside`.

use chatd_tests::outside::{POSTGRES, REDIS, REQUIRE_VAR, run_again};
use chatd_tests::services::{RedisPrefix, TestDatabase, database_exists, redis, unique_suffix};

#[test]
fn a_test_database_holds_what_is_written_to_it_and_is_gone_after_drop() {
    if !POSTGRES.present() {
        return;
    }
    let database = TestDatabase::create();
    let name = database.name().to_owned();
    assert!(database.url().starts_with("postgres://"), "not a URL: {}", database.url());
    assert!(database.url().ends_with(&format!("/{name}")), "{} does not name {name}", database.url());
    assert!(database_exists(&name));

    let _ = database.sql("CREATE TABLE notes (id integer PRIMARY KEY, body text NOT NULL)");
    let _ = database.sql("INSERT INTO notes VALUES (1, 'first'), (2, 'second')");
    assert_eq!(database.sql("SELECT id, body FROM notes ORDER BY id"), "1|first\n2|second");
    assert_eq!(database.sql("SELECT current_database()"), name);

    drop(database);
    assert!(!database_exists(&name), "{name} outlived its guard");
}

#[test]
fn two_test_databases_have_different_names() {
    if !POSTGRES.present() {
        return;
    }
    let first = TestDatabase::create();
    let second = TestDatabase::create();
    assert_ne!(first.name(), second.name());
    let _ = first.sql("CREATE TABLE only_in_first (x integer)");
    assert_eq!(second.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_first'"), "0");
}

#[test]
fn a_redis_prefix_removes_its_keys_on_drop_and_no_others() {
    if !REDIS.present() {
        return;
    }
    // A key outside the prefix, of this test's own, removed below.
    let outside = format!("chatd-test-outside:{}", unique_suffix('-'));
    assert_eq!(redis(&["SET", &outside, "kept"]), "OK");

    let prefix = RedisPrefix::new();
    assert!(!outside.starts_with(prefix.prefix()));
    let keys: Vec<String> = (0..250).map(|n| prefix.key(&format!("key{n}"))).collect();
    for key in &keys {
        assert_eq!(redis(&["SET", key, "gone"]), "OK");
    }
    let _ = redis(&["XADD", &prefix.key("stream"), "*", "seq", "1"]);
    assert_eq!(redis(&["GET", &keys[249]]), "gone");

    let pattern = format!("{}*", prefix.prefix());
    drop(prefix);
    assert_eq!(redis(&["--scan", "--pattern", &pattern]), "", "keys outlived their prefix");
    assert_eq!(redis(&["GET", &outside]), "kept", "a key outside the prefix was touched");

    assert_eq!(redis(&["DEL", &outside]), "1");
}

#[test]
fn two_redis_prefixes_differ_and_neither_is_inside_the_other() {
    let first = RedisPrefix::new();
    let second = RedisPrefix::new();
    assert!(!first.prefix().starts_with(second.prefix()));
    assert!(!second.prefix().starts_with(first.prefix()));
    assert!(first.prefix().chars().all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '-'));
}

/// The rule for tests that need a program from outside Rust, on this
/// binary's own tests, run again where no server answers (each pointed at
/// a port nothing listens on): they skip, saying so, and the binary
/// passes; with `CHATD_TEST_REQUIRE` naming a server the same words fail
/// its tests.
#[test]
fn where_no_server_answers_the_tests_skip_or_fail_as_required() {
    const DATABASE_TEST: &str = "a_test_database_holds_what_is_written_to_it_and_is_gone_after_drop";
    const PREFIX_TEST: &str = "a_redis_prefix_removes_its_keys_on_drop_and_no_others";
    let postgres_words = format!("{DATABASE_TEST} needs a running PostgreSQL (Debian: apt-get install postgresql)");
    let redis_words = format!("{PREFIX_TEST} needs a running Redis (Debian: apt-get install redis-server)");
    let run = |require: Option<&str>| {
        run_again(&[DATABASE_TEST, PREFIX_TEST], |command| {
            command
                .env("PGHOST", "127.0.0.1")
                .env("PGPORT", "1")
                .env(chatd_tests::services::REDIS_URL_VAR, "redis://127.0.0.1:1");
            if let Some(require) = require {
                command.env(REQUIRE_VAR, require);
            }
        })
    };

    let (skipped, text) = run(None);
    assert!(skipped.status.success(), "a missing server failed the run:\n{text}");
    assert!(text.contains(&format!("SKIPPED: {postgres_words}\n")), "no SKIPPED line for PostgreSQL:\n{text}");
    assert!(text.contains(&format!("SKIPPED: {redis_words}\n")), "no SKIPPED line for Redis:\n{text}");
    assert!(text.contains("2 passed; 0 failed"), "the tests did not run:\n{text}");
    assert!(text.contains("SKIPPED in services: 1 test needed a running PostgreSQL"), "no summary:\n{text}");

    let (failed, text) = run(Some("postgres"));
    assert!(!failed.status.success(), "{REQUIRE_VAR}=postgres passed without PostgreSQL:\n{text}");
    assert!(text.contains(&postgres_words), "the failure does not say what is missing:\n{text}");
    assert!(text.contains(&format!("SKIPPED: {redis_words}\n")), "Redis, not required, did not skip:\n{text}");
    assert!(text.contains("1 passed; 1 failed"), "not exactly the PostgreSQL test failed:\n{text}");
}
