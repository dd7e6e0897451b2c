//! The command line as an operator meets it.

use std::net::TcpListener;
use std::process::Command;

use chatcore::Config;
use chatd_tests::chatd;

#[test]
fn help_documents_every_limit_with_the_engines_default() {
    let output = Command::new(chatd!()).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    let defaults = Config::default();
    for (flag, default) in [
        ("--listen <ADDR>", "127.0.0.1:7878".to_owned()),
        ("--irc-listen <ADDR>", "127.0.0.1:6667".to_owned()),
        ("--http-listen <ADDR>", "127.0.0.1:8080".to_owned()),
        ("--metrics-listen <ADDR>", "127.0.0.1:9464".to_owned()),
        ("--ws-ping-interval <SECS>", "30".to_owned()),
        ("--send-queue-bytes <BYTES>", "262144".to_owned()),
        ("--max-per-ip <N>", "16".to_owned()),
        ("--max-pending-connections <N>", "1024".to_owned()),
        ("--max-clients <N>", defaults.max_clients().to_string()),
        ("--max-line-bytes <BYTES>", defaults.max_line_bytes().to_string()),
        ("--max-nick-len <BYTES>", defaults.max_nick_len().to_string()),
        ("--max-room-name-len <BYTES>", defaults.max_room_name_len().to_string()),
        ("--max-rooms <N>", defaults.max_rooms().to_string()),
        ("--history-len <N>", defaults.history_len().to_string()),
        ("--max-rooms-per-client <N>", defaults.max_rooms_per_client().to_string()),
        ("--flood-burst <LINES>", defaults.flood_burst().to_string()),
        ("--flood-lines-per-sec <LINES>", defaults.flood_lines_per_sec().to_string()),
        ("--registration-timeout <SECS>", defaults.registration_timeout().as_secs().to_string()),
        ("--idle-timeout <SECS>", defaults.idle_timeout().as_secs().to_string()),
        ("--max-offline-messages <N>", defaults.max_offline_messages().to_string()),
    ] {
        let at = help.find(flag).unwrap_or_else(|| panic!("{flag} missing from --help:\n{help}"));
        let entry = &help[at..];
        let entry = &entry[..entry[1..].find("\n      --").map_or(entry.len(), |end| end + 1)];
        assert!(entry.contains(&format!("[default: {default}]")), "{flag} should default to {default}:\n{entry}");
    }
}

#[test]
fn a_bad_listen_address_is_a_clear_error() {
    let output = Command::new(chatd!()).args(["--listen", "nowhere"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--listen"), "{stderr}");
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = Command::new(chatd!())
        .args(["--listen", &addr, "--irc-listen", "none", "--http-listen", "none"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "nothing should claim to be listening");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("cannot listen on {addr}")), "{stderr}");
}
