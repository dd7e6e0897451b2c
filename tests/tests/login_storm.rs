//! Password checks against the real chatd under a login storm: beyond
//! `--hash-threads` running and `--hash-queue` waiting, a login is refused
//! at once as "server busy", and that refusal counts as no failed login;
//! and a login to a name without an account costs the same password check
//! as a wrong password for a real one, so timing cannot tell which names
//! exist. That cost is read from the metrics' count of checks, not timed.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use chatd_tests::metrics::scrape;
use chatd_tests::{Client, Server, chatd};

const PASSWORD: &str = "Zq8-owner-pw";
const BUSY: &str = "! the server is busy; try again in a moment";

/// A client from the loopback address 127.0.`net`.`host`, past its welcome.
fn connect_from(server: &Server, net: u8, host: u8) -> Client {
    let mut client = server.connect_from(IpAddr::V4(Ipv4Addr::new(127, 0, net, host)));
    client.expect_prefix("* Welcome");
    client
}

/// The N in "! wrong name or password (N more tries before a pause)".
fn tries_left(line: &str) -> Option<i64> {
    line.strip_prefix("! wrong name or password (")?.split(' ').next()?.parse().ok()
}

#[test]
fn logins_beyond_the_password_queue_hear_the_server_is_busy_and_count_as_no_failure() {
    // The per-account throttle would soon refuse the many guessing
    // addresses here; this test is about the pool, so it is raised.
    let server = Server::start(
        chatd!(),
        &["--hash-threads", "1", "--hash-queue", "1", "--max-account-failures", "1000", "--flood-lines-per-sec", "0"],
    );
    let mut owner = server.register("owner", PASSWORD);
    owner.send("/quit");
    owner.expect("* bye: quit");

    // Six at once from six addresses: one check runs, one waits, the rest
    // are refused at once.
    let mut storm: Vec<Client> = (1..=6).map(|host| connect_from(&server, 2, host)).collect();
    for client in &mut storm {
        client.send("/login owner Zq8-wrong");
    }
    let answers: Vec<String> = storm.iter_mut().map(Client::line).collect();
    let busy = answers.iter().filter(|line| *line == BUSY).count();
    let checked = answers.iter().filter(|line| tries_left(line) == Some(2)).count();
    assert!(busy >= 1 && checked >= 1 && busy + checked == 6, "{answers:#?}");

    // From one address, more refused attempts than --max-login-failures (3):
    // each round, two logins from elsewhere take the one thread and the one
    // place in the queue, then this address tries.
    let mut guesser = connect_from(&server, 3, 1);
    let (mut refused, mut failed) = (0, 0);
    for round in 0..12u8 {
        if refused == 4 {
            break;
        }
        let mut fillers = [connect_from(&server, 4, 2 * round + 1), connect_from(&server, 4, 2 * round + 2)];
        for filler in &mut fillers {
            filler.send("/login owner Zq8-wrong");
        }
        // Time for chatd to take them; a check takes far longer.
        std::thread::sleep(Duration::from_millis(5));
        guesser.send("/login owner Zq8-wrong");
        let answer = guesser.line();
        if answer == BUSY {
            refused += 1;
        } else {
            // Admitted after all (a slow machine): it counts, and only it.
            assert_eq!(tries_left(&answer), Some(2 - failed), "{answer}");
            failed += 1;
        }
        for filler in &mut fillers {
            filler.line();
        }
    }
    assert_eq!(refused, 4, "the guesser was refused as busy only {refused} times");
    // With the pool idle, a wrong password counts again, as the first (or
    // next) failure: none of the refusals counted.
    guesser.send("/login owner Zq8-wrong");
    assert_eq!(tries_left(&guesser.line()), Some(2 - failed));
    guesser.send(&format!("/login owner {PASSWORD}"));
    guesser.expect("* you are now known as owner");
    guesser.expect("* logged in as owner");
}

#[test]
fn a_name_without_an_account_is_refused_after_the_same_password_check_as_a_wrong_password() {
    // So that the time to answer cannot tell which names have accounts, a
    // login to a name without one runs one argon2 check with chatd's own
    // parameters (against a stand-in), just as a wrong password for a real
    // account does, and is refused in the same words.
    let server = Server::start(chatd!(), &[]);
    let mut owner = server.register("owner", PASSWORD);
    owner.send("/quit");
    owner.expect("* bye: quit");

    let metrics = server.metrics_addr();
    let checks_run = || {
        let scraped = scrape(metrics);
        ["chatd", "other"].map(|params| scraped.get(&format!("chatd_password_checks_total{{params=\"{params}\"}}")))
    };
    // Each from an address of its own, so that neither is the other's
    // second failure.
    let refuse = |host: u8, name: &str| {
        let mut client = connect_from(&server, 5, host);
        let before = checks_run();
        client.send(&format!("/login {name} Zq8-wrong"));
        let answer = client.line();
        let after = checks_run();
        (answer, [after[0] - before[0], after[1] - before[1]])
    };
    let wrong_password = refuse(1, "owner");
    let no_account = refuse(2, "nobdy");
    let one_check_with_chatds_params = [1.0, 0.0];
    assert_eq!(
        wrong_password,
        ("! wrong name or password (2 more tries before a pause)".to_owned(), one_check_with_chatds_params)
    );
    assert_eq!(no_account, wrong_password);
}
