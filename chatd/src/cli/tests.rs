//! The command line's parsing, defaults and refusals.

use std::path::Path;

use super::*;
use chatcore::Config;

#[test]
fn defaults_are_the_engines() {
    let cli = Cli::try_parse_from(["chatd"]).unwrap();
    assert_eq!(cli.engine.config(), Config::default());
    assert_eq!(cli.listen, DEFAULT_LISTEN.parse().unwrap());
}

#[test]
fn every_engine_flag_reaches_the_config() {
    let cli = Cli::try_parse_from([
        "chatd",
        "--max-clients=3",
        "--max-line-bytes=64",
        "--max-nick-len=8",
        "--max-room-name-len=9",
        "--max-rooms=5",
        "--history-len=2",
        "--max-rooms-per-client=4",
        "--flood-burst=7",
        "--flood-lines-per-sec=0",
        "--registration-timeout=0.5",
        "--announce-lobby-presence=true",
        "--server-name=test",
        "--require-login=true",
        "--idle-timeout=30",
        "--idle-warning=5",
        "--max-accounts=10",
        "--min-password-len=12",
        "--max-login-failures=2",
        "--login-failure-window=90",
        "--block-duration=15",
        "--max-registrations-per-source=1",
        "--registration-window=600",
        "--max-tracked-sources=20",
        "--max-offline-messages=3",
        "--max-offline-total=30",
        "--max-blocks=4",
        "--max-read-markers=5",
        "--max-sessions-per-account=2",
        "--always-on=forced_on",
        "--history-page-len=6",
        "--list-page-len=11",
        "--conversation-history-len=9",
        "--max-topic-len=100",
        "--room-idle-expiry=86400",
        "--guest-room-idle-expiry=60",
        "--max-rooms-created-per-source=2",
        "--room-creation-window=120",
        "--max-account-failures=7",
        "--account-block-duration=300",
        "--max-known-sources=3",
        "--session-token-days=7",
        "--max-session-tokens=4",
    ])
    .unwrap();
    #[allow(clippy::needless_update)]
    let expected = Config::default()
        .with_max_clients(3)
        .with_max_line_bytes(64)
        .with_max_nick_len(8)
        .with_max_room_name_len(9)
        .with_max_rooms(5)
        .with_history_len(2)
        .with_max_rooms_per_client(4)
        .with_flood_burst(7)
        .with_flood_lines_per_sec(0)
        .with_registration_timeout(Duration::from_millis(500))
        .with_announce_lobby_presence(true)
        .with_server_name("test".to_owned())
        .with_require_login(true)
        .with_idle_timeout(Duration::from_secs(30))
        .with_idle_warning(Duration::from_secs(5))
        .with_max_accounts(10)
        .with_min_password_len(12)
        .with_max_login_failures(2)
        .with_login_failure_window(Duration::from_secs(90))
        .with_block_duration(Duration::from_secs(15))
        .with_max_registrations_per_source(1)
        .with_registration_window(Duration::from_secs(600))
        .with_max_tracked_sources(20)
        .with_max_offline_messages(3)
        .with_max_offline_total(30)
        .with_max_blocks(4)
        .with_max_read_markers(5)
        .with_max_sessions_per_account(2)
        .with_always_on(chatcore::AlwaysOn::ForcedOn)
        .with_history_page_len(6)
        .with_list_page_len(11)
        .with_conversation_history_len(9)
        .with_max_topic_len(100)
        .with_room_idle_expiry(Duration::from_secs(86_400))
        .with_guest_room_idle_expiry(Duration::from_secs(60))
        .with_max_rooms_created_per_source(2)
        .with_room_creation_window(Duration::from_secs(120))
        .with_max_account_failures(7)
        .with_account_block_duration(Duration::from_secs(300))
        .with_max_known_sources(3)
        .with_session_token_days(7)
        .with_max_session_tokens(4);
    assert_eq!(cli.engine.config(), expected);
}

#[test]
fn switches_given_without_a_value_are_on() {
    let cli = Cli::try_parse_from(["chatd", "--require-login", "--announce-lobby-presence", "--ephemeral"]).unwrap();
    assert!(cli.engine.config().require_login());
    assert!(cli.engine.config().announce_lobby_presence());
    let cli = Cli::try_parse_from(["chatd", "--require-login", "false"]).unwrap();
    assert!(!cli.engine.config().require_login());
}

#[test]
fn hosts_are_cloaked_unless_turned_off() {
    assert!(Cli::try_parse_from(["chatd"]).unwrap().engine.cloak_hosts);
    assert!(!Cli::try_parse_from(["chatd", "--cloak-hosts", "false"]).unwrap().engine.cloak_hosts);
    assert!(Cli::try_parse_from(["chatd", "--cloak-hosts=maybe"]).is_err());
}

#[test]
fn bad_values_are_refused() {
    assert!(Cli::try_parse_from(["chatd", "--registration-timeout=-1"]).is_err());
    assert!(Cli::try_parse_from(["chatd", "--registration-timeout=soon"]).is_err());
    assert!(Cli::try_parse_from(["chatd", "--inbound-capacity=0"]).is_err());
    assert!(Cli::try_parse_from(["chatd", "--listen=localhost"]).is_err());
}

#[test]
fn password_work_defaults_to_a_thread_per_cpu_and_a_queue_of_64() {
    let cli = Cli::try_parse_from(["chatd"]).unwrap();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(cli.password_limits(), Limits { threads: cpus, queue: 64 });
    let cli = Cli::try_parse_from(["chatd", "--hash-threads=1", "--hash-queue=0"]).unwrap();
    assert_eq!(cli.password_limits(), Limits { threads: 1, queue: 0 });
    assert!(Cli::try_parse_from(["chatd", "--hash-threads=0"]).is_err());
}

#[test]
fn commit_timeout_defaults_to_three_seconds_and_zero_turns_it_off() {
    let cli = Cli::try_parse_from(["chatd"]).unwrap();
    assert_eq!(cli.storage.commit_timeout(), Some(Duration::from_secs(3)));
    let cli = Cli::try_parse_from(["chatd", "--commit-timeout=0.25"]).unwrap();
    assert_eq!(cli.storage.commit_timeout(), Some(Duration::from_millis(250)));
    let cli = Cli::try_parse_from(["chatd", "--commit-timeout=0"]).unwrap();
    assert_eq!(cli.storage.commit_timeout(), None);
}

#[test]
fn the_http_port_and_websocket_limits() {
    let cli = Cli::try_parse_from(["chatd"]).unwrap();
    assert_eq!(cli.http_listen, OptionalAddr(Some("127.0.0.1:8080".parse().unwrap())));
    let max_line = Config::default().max_line_bytes();
    assert_eq!(cli.ws_settings(), ws::Settings { max_message: max_line, ping_after: Some(Duration::from_secs(30)) });
    let cli = Cli::try_parse_from([
        "chatd",
        "--http-listen=none",
        "--max-line-bytes=100",
        "--ws-ping-interval=0",
        "--allowed-origin=https://chat.example.com",
        "--allowed-origin=http://localhost:3000/",
    ])
    .unwrap();
    assert_eq!(cli.http_listen, OptionalAddr(None));
    assert_eq!(cli.ws_settings(), ws::Settings { max_message: 100, ping_after: None });
    assert_eq!(cli.allowed_origins, ["https://chat.example.com", "http://localhost:3000/"]);
    for bad in ["chat.example.com", "https://", "https://x/page", "ftp://x", "*", "https://a\r\nb", "https://a\tb"] {
        assert!(Cli::try_parse_from(["chatd", "--allowed-origin", bad]).is_err(), "{bad}");
    }
}

#[test]
fn server_hosts_and_trusted_proxies_are_lists_empty_by_default() {
    let cli = Cli::try_parse_from(["chatd"]).unwrap();
    assert!(cli.server_hosts.is_empty() && cli.trusted_proxies.is_empty());
    let cli = Cli::try_parse_from([
        "chatd",
        "--server-host=chat.example.com",
        "--server-host=[2001:db8::1]",
        "--trusted-proxy=127.0.0.1",
        "--trusted-proxy=10.0.0.0/8",
    ])
    .unwrap();
    assert_eq!(cli.server_hosts, ["chat.example.com", "[2001:db8::1]"]);
    let proxies: Vec<String> = cli.trusted_proxies.iter().map(ToString::to_string).collect();
    assert_eq!(proxies, ["127.0.0.1/32", "10.0.0.0/8"]);
    for bad in ["https://chat.example.com", "chat.example.com:443", "a b", ""] {
        assert!(Cli::try_parse_from(["chatd", "--server-host", bad]).is_err(), "{bad}");
    }
    for bad in ["10.0.0.1/8", "example.com", "10.0.0.0/40"] {
        assert!(Cli::try_parse_from(["chatd", "--trusted-proxy", bad]).is_err(), "{bad}");
    }
}

#[test]
fn seconds_show_as_they_are_written() {
    assert_eq!(Seconds(Duration::from_secs(60)).to_string(), "60");
    assert_eq!("1.5".parse::<Seconds>().unwrap(), Seconds(Duration::from_millis(1500)));
}

#[test]
fn commands_take_their_own_flags_and_refuse_the_servers() {
    let cli = Cli::try_parse_from(["chatd", "backup", "--data-dir", "d", "--to", "b.db"]).unwrap();
    match cli.command {
        Some(Command::Backup(args)) => {
            assert_eq!((args.data_dir, args.to, args.force), ("d".into(), "b.db".into(), false));
        }
        other => panic!("expected backup, got {other:?}"),
    }
    let cli = Cli::try_parse_from(["chatd", "check"]).unwrap();
    assert!(
        matches!(cli.command, Some(Command::Check(CheckArgs { data_dir, .. })) if data_dir == Path::new("chatd-data"))
    );
    assert!(Cli::try_parse_from(["chatd", "backup", "--data-dir", "d"]).is_err(), "--to is required");
    assert!(Cli::try_parse_from(["chatd", "--listen", "127.0.0.1:1", "check"]).is_err());
    // Serving, as before, needs no command.
    let cli = Cli::try_parse_from(["chatd", "--data-dir", "d", "--ephemeral"]).unwrap();
    assert!(cli.command.is_none());
    assert_eq!(cli.storage.data_dir, Path::new("d"));
}

#[test]
fn a_database_url_stands_alone_and_is_never_repeated_in_an_error() {
    let cli =
        Cli::try_parse_from(["chatd", "--database-url", "postgres://chatd:hunter2@db.example:5433/chat"]).unwrap();
    let url = cli.storage.database_url.expect("a database URL");
    assert_eq!(url.to_string(), "postgres://chatd@db.example:5433/chat", "shown without its password");
    assert!(!format!("{url:?}").contains("hunter2"));
    for other in [&["--data-dir", "d"][..], &["--sync", "full"], &["--ephemeral"]] {
        let args = ["chatd", "--database-url", "postgres://u@h/db"].iter().chain(other);
        let error = Cli::try_parse_from(args).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict, "{other:?}: {error}");
    }
    let error = Cli::try_parse_from(["chatd", "--database-url", "postgres://u:hunter2@h:notaport/db"]).unwrap_err();
    let shown = error.to_string();
    assert!(shown.contains("not one like postgres://"), "{shown}");
    assert!(!shown.contains("hunter2"), "the password was repeated: {shown}");
    let cli = Cli::try_parse_from(["chatd", "check", "--database-url", "postgres://u@h/db"]).unwrap();
    assert!(matches!(cli.command, Some(Command::Check(CheckArgs { database_url: Some(_), .. }))));
    assert!(Cli::try_parse_from(["chatd", "check", "--database-url", "postgres://u@h/db", "--data-dir", "d"]).is_err());
}

#[test]
fn a_cluster_node_needs_its_database_and_names_itself_only_with_redis() {
    let node = ["chatd", "--database-url", "postgres://u@h/db", "--redis-url", "redis://127.0.0.1:6379/2"];
    let cli = Cli::try_parse_from(node.iter().chain(&["--node-name", "chat1", "--node-lease", "2.5"])).unwrap();
    assert_eq!(cli.cluster.redis_url.as_deref(), Some("redis://127.0.0.1:6379/2"));
    assert_eq!(cli.cluster.node_name.as_deref(), Some("chat1"));
    assert_eq!(cli.cluster.node_lease.0, Duration::from_millis(2500));
    assert_eq!(cli.cluster.redis_prefix, "chatd:");
    let missing = |args: &[&str]| Cli::try_parse_from(args).unwrap_err().kind();
    assert_eq!(missing(&["chatd", "--redis-url", "redis://h"]), clap::error::ErrorKind::MissingRequiredArgument);
    assert_eq!(missing(&["chatd", "--node-name", "chat1"]), clap::error::ErrorKind::MissingRequiredArgument);
    assert_eq!(
        Cli::try_parse_from(node.iter().chain(&["--node-lease", "0"])).unwrap_err().kind(),
        clap::error::ErrorKind::ValueValidation
    );
}

#[test]
fn clap_definition_is_consistent() {
    use clap::CommandFactory;
    Cli::command().debug_assert();
}
