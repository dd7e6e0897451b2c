//! The web page in a real browser on one node of a cluster, with a
//! terminal user on another and an IRC user on a third: they chat in one
//! room, and when the IRC user's node is killed the page sees him go and
//! come back through another node, under his own nickname.
//!
//! Needs Chromium and chromedriver, PostgreSQL and Redis; skips without
//! them unless `CHATD_TEST_REQUIRE` requires them (`chatd_tests::outside`).

use std::time::{Duration, Instant};

use chatd_tests::browser::{Browser, Chromedriver, ENTER};
use chatd_tests::cluster::Cluster;
use chatd_tests::outside::{POSTGRES, REDIS};
use chatd_tests::{Client, chatd};
use serde_json::json;

const ROOM_PANE: &str = "section.pane[data-key='r:lounge']";
const COMPOSER: &str = ".pane:not([hidden]) .composer input";
/// Longer than the cluster's lease, with room for a busy machine.
const PATIENCE: Duration = Duration::from_secs(20);

#[test]
fn a_page_a_terminal_and_irc_on_three_nodes_chat_and_outlive_a_killed_node() {
    if !POSTGRES.present() || !REDIS.present() {
        return;
    }
    let Some(driver) = Chromedriver::start() else { return };
    let mut cluster = Cluster::start(chatd!(), 3, &["--flood-lines-per-sec", "0"]);

    let mut alice = cluster.node(1).login("alice");
    alice.send("/create lounge");
    alice.read_until("* you are now in lounge (1 here)");

    cluster.wait_for_room(2, "lounge");
    let mut bob = cluster.node(2).irc("bob", "");
    bob.irc("JOIN #lounge");
    bob.until(" 366 bob #lounge ");
    alice.expect("* bob joined lounge");

    cluster.wait_for_room(3, "lounge");
    let carol = driver.browser(1100, 800);
    carol.goto(&format!("http://{}/", cluster.node(3).http_addr()));
    carol.click("input[name=mode][value=register]");
    carol.type_into("#enter-name", "carol");
    carol.type_into("#enter-password", "hunter22");
    carol.type_into("#enter-confirm", &format!("hunter22{ENTER}"));
    wait_text(&carol, "#whoami", "carol (logged in)");
    carol.type_into("#room-name", "lounge");
    carol.click("#room-form button[value=join]");
    wait_text(&carol, ".pane:not([hidden]) h2", "lounge");
    alice.expect("* carol joined lounge");
    bob.until(" JOIN #lounge");

    alice.send("hello from the terminal");
    bob.until("PRIVMSG #lounge :hello from the terminal");
    bob.irc("PRIVMSG #lounge :hello from irc");
    alice.expect("[lounge] bob: hello from irc");
    carol.type_into(COMPOSER, &format!("hello from the page{ENTER}"));
    alice.expect("[lounge] carol: hello from the page");
    bob.until("PRIVMSG #lounge :hello from the page");
    wait_messages(&carol, &["hello from the terminal", "hello from irc", "hello from the page"]);
    wait_text(&carol, "#members", "bob");

    // Bob's node dies: once its lease runs out, everyone sees him go, and
    // his nickname is free for him on another node.
    cluster.kill9(2);
    alice.read_until("* bob disconnected (connection error)");
    wait_text(&carol, ROOM_PANE, "bob disconnected");
    let mut bob = irc_as_soon_as_free(&cluster, 1, "bob");
    bob.irc("JOIN #lounge");
    bob.until(" 366 bob #lounge ");
    bob.irc("PRIVMSG #lounge :bob is back");
    alice.expect("* bob joined lounge");
    alice.expect("[lounge] bob: bob is back");
    wait_messages(&carol, &["hello from the terminal", "hello from irc", "hello from the page", "bob is back"]);
}

/// An IRC client on node `node` registered as `nick`, asking again while
/// the nickname is still held by a dead node's lease.
fn irc_as_soon_as_free(cluster: &Cluster, node: usize, nick: &str) -> Client {
    let deadline = Instant::now() + PATIENCE;
    let mut client = cluster.node(node).irc(&format!("{nick}_"), "");
    loop {
        client.irc(&format!("NICK {nick}"));
        let answer = client.irc_line();
        if answer.contains(&format!(" NICK :{nick}")) || answer.ends_with(&format!(" NICK {nick}")) {
            return client;
        }
        assert!(answer.contains(" 433 "), "NICK {nick}: {answer}");
        assert!(Instant::now() < deadline, "{nick} still taken after {PATIENCE:?}; logs:\n{}", cluster.logs());
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until the element `selector` matches holds `text`.
fn wait_text(browser: &Browser, selector: &str, text: &str) {
    browser.wait_for(
        &format!("{text:?} in {selector}"),
        "return document.querySelector(arguments[0])?.textContent.includes(arguments[1]) ?? null",
        &[json!(selector), json!(text)],
    );
}

/// Waits until the room's pane shows exactly `texts`, in order.
fn wait_messages(browser: &Browser, texts: &[&str]) {
    browser.wait_for(
        &format!("exactly the messages {texts:?}"),
        "const shown = [...document.querySelectorAll(arguments[0] + ' .log .msg:not(.failed) .text')]
             .map((e) => e.textContent);
         return JSON.stringify(shown) === JSON.stringify(arguments[1]);",
        &[json!(ROOM_PANE), json!(texts)],
    );
}
