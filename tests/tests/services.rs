//! The guards that give a test a PostgreSQL database and a Redis key
//! prefix of its own: what a test makes is there while it runs, and gone
//! after, and nothing it did not make is touched. Where a server does not
//! answer, these skip or fail by the rule of `chatd_tests::outside`.

use chatd_tests::outside::{POSTGRES, REDIS};
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
