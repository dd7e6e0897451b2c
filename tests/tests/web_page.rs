//! chatd's own web page in a real browser: two headless Chromium windows
//! (two people, each with a profile of its own) and a terminal user on the
//! text port, against a real chatd.
//!
//! They register, chat in one room, whisper, reload, and live through a
//! restart of chatd during which the room goes on without them; each page
//! must then show every message exactly once, in order. Every step saves a
//! screenshot (the directory is printed; `CHATD_SCREENSHOTS` picks another),
//! which is where `docs/screenshots/` comes from.
//!
//! Needs `chromedriver` and Chromium (Debian: `chromium-driver` and
//! `chromium`); without them it skips, saying so, unless
//! `CHATD_TEST_REQUIRE` requires them (`chatd_tests::outside`). The second
//! test here checks that rule on the first.

use std::path::PathBuf;

use chatd_tests::browser::{Browser, Chromedriver, ENTER};
use chatd_tests::outside::{REQUIRE_VAR, run_again};
use chatd_tests::{Server, chatd};
use serde_json::json;

const PASSWORD: &str = "hunter22";
const ROOM: &str = "lounge";
/// The room pane and the conversation panes, by the keys the page gives them.
const ROOM_PANE: &str = "section.pane[data-key='r:lounge']";
const ALICE_PANE: &str = "section.pane[data-key='c:alice']";
const BOB_PANE: &str = "section.pane[data-key='c:bob']";
const DEN_PANE: &str = "section.pane[data-key='r:den']";
const NOOK_PANE: &str = "section.pane[data-key='r:nook']";
/// The composer of the pane on screen.
const COMPOSER: &str = ".pane:not([hidden]) .composer input";

// A room replay of 2 and pages of 3, so that a page that was away for five
// messages has to page back by `seq` to get them all, and a reload shows a
// button for older messages.
const ARGS: [&str; 4] = ["--history-len", "2", "--history-page-len", "3"];

const BROWSER_TEST: &str = "two_browsers_and_a_terminal_chat_whisper_reload_and_outlive_a_restart";

#[test]
fn two_browsers_and_a_terminal_chat_whisper_reload_and_outlive_a_restart() {
    let Some(driver) = Chromedriver::start() else { return };
    let shots = Screenshots::new();
    let data = tempfile::tempdir().expect("a data directory");
    let server = Server::start_in(chatd!(), data.path(), &ARGS);
    let url = format!("http://{}/", server.http_addr());
    let alice = driver.browser(1100, 800);
    alice.screen(1100, 640);
    // Bob is on a phone, in the dark.
    let bob = driver.browser(500, 800);
    bob.phone(390, 760);
    bob.prefer_dark();

    // Both register; alice creates the room from its form, bob joins it
    // from the room list, and carol joins from a terminal.
    alice.goto(&url);
    alice.click("input[name=mode][value=register]");
    alice.type_into("#enter-name", "alice");
    alice.type_into("#enter-password", PASSWORD);
    alice.type_into("#enter-confirm", PASSWORD);
    shots.take(&alice, "enter");
    alice.type_into("#enter-confirm", ENTER);
    wait_text(&alice, "#whoami", "alice (logged in)");
    alice.type_into("#room-name", ROOM);
    alice.click("#room-form button[value=create]");
    wait_text(&alice, ".pane:not([hidden]) h2", ROOM);

    register(&bob, &url, "bob");
    bob.click("#show-nav");
    bob.click("#rooms button[aria-label='Join lounge']");
    wait_text(&bob, ".pane:not([hidden]) h2", ROOM);

    let mut carol = server.login("carol");
    carol.send("/join lounge");
    carol.expect("* you are now in lounge (3 here)");
    wait_text(&alice, ROOM_PANE, "carol joined");

    // Each says something; everyone sees everyone else's, in order.
    say(&alice, "hello from alice");
    carol.expect("[lounge] alice: hello from alice");
    carol.send("hello from nc");
    wait_text(&bob, ROOM_PANE, "hello from nc");
    say(&bob, "hi both");
    carol.expect("[lounge] bob: hi both");
    let so_far = ["hello from alice", "hello from nc", "hi both"];
    wait_messages(&alice, ROOM_PANE, &so_far);
    wait_messages(&bob, ROOM_PANE, &so_far);
    shots.take(&alice, "room");

    // Alice whispers to bob from the member list; his page counts it
    // unread until he opens the conversation.
    alice.click("#members button.person[title='Whisper to bob']");
    wait_text(&alice, ".pane:not([hidden]) h2", "bob");
    say(&alice, "psst, bob");
    bob.click("#show-nav");
    wait_text(&bob, "#convs", "alice");
    wait_text(&bob, "#convs .badge", "1");
    shots.take(&bob, "unread");
    bob.click("#convs button");
    wait_messages(&bob, ALICE_PANE, &["psst, bob"]);
    say(&bob, "psst back");
    wait_messages(&alice, BOB_PANE, &["psst, bob", "psst back"]);
    shots.take(&bob, "whisper");

    // Alice reloads: the page remembers her panes and, with the session
    // token it kept (never the password), logs her in by itself, then
    // shows the conversation and the room from the server.
    carol.send("see you");
    wait_messages(&alice, ROOM_PANE, &["hello from alice", "hello from nc", "hi both", "see you"]);
    assert_token_kept_not_password(&alice);
    alice.reload();
    wait_text(&alice, "#whoami", "alice (logged in)");
    wait_messages(&alice, BOB_PANE, &["psst, bob", "psst back"]);
    // Alice had read the room up to "hi both" before she turned to the
    // conversation (however soon after): "see you" is new.
    wait_text(&alice, "#joined li.unread .badge", "1");
    alice.click("#joined button[aria-label^='lounge']");
    // The latest page is the last three; the fourth is one click older.
    wait_messages(&alice, ROOM_PANE, &["hello from nc", "hi both", "see you"]);
    wait_text(&alice, &format!("{ROOM_PANE} .divider"), "1 new since you left");
    alice.click(&format!("{ROOM_PANE} button.older"));
    wait_messages(&alice, ROOM_PANE, &["hello from alice", "hello from nc", "hi both", "see you"]);
    shots.take(&alice, "reloaded");

    // chatd goes away. While both pages wait to reconnect, it runs on the
    // same data where they cannot reach it, and carol says five things.
    let (listen, irc, http) = (server.addr(), server.irc_addr(), server.http_addr());
    drop(server);
    wait_state(&alice, "waiting");
    shots.take(&alice, "connection-lost");
    let mut away = Server::start_in(chatd!(), data.path(), &ARGS);
    let mut carol = away.login("carol");
    carol.send("/join lounge");
    carol.expect_prefix("* you are now in lounge");
    let missed: Vec<String> = (1..=5).map(|n| format!("while you were away {n}")).collect();
    for text in &missed {
        carol.send(text);
    }
    carol.send("/quit");
    carol.read_until("* bye: quit");
    // A clean stop, so that everything carol said is on disk.
    away.terminate();
    away.wait_exit(chatd_tests::READ_TIMEOUT);

    // Back on the same ports: both pages log in again, rejoin, and fetch
    // what they missed by seq.
    let (listen, irc, http) = (listen.to_string(), irc.to_string(), http.to_string());
    let mut same_ports = vec!["--listen", &listen, "--irc-listen", &irc, "--http-listen", &http];
    same_ports.extend(ARGS);
    let server = Server::start_in(chatd!(), data.path(), &same_ports);
    let mut everything: Vec<&str> = vec!["hello from alice", "hello from nc", "hi both", "see you"];
    everything.extend(missed.iter().map(String::as_str));
    wait_state(&alice, "online");
    wait_messages(&alice, ROOM_PANE, &everything);
    wait_messages(&bob, ROOM_PANE, &everything);
    // Bob is reading the conversation: the room counts what he has not
    // seen, "see you" and the five he missed.
    wait_text(&bob, "#joined .badge", "6");
    shots.take(&alice, "reconnected");
    bob.click("#show-nav");
    shots.take(&bob, "reconnected-unread");
    bob.click("#joined button");
    wait_messages(&bob, ROOM_PANE, &everything);
    shots.take(&bob, "reconnected");

    // And the room still works both ways.
    let mut dave = server.login("dave");
    dave.send("/join lounge");
    dave.read_until_prefix("* you are now in lounge");
    say(&bob, "back again");
    dave.read_until("[lounge] bob: back again");
    drop(server);
}

/// The page keeps a session token in `localStorage`, and nothing it
/// keeps holds the password.
fn assert_token_kept_not_password(browser: &Browser) -> String {
    let kept = browser.wait_for(
        "a session token kept",
        "const saved = localStorage.getItem('chatd.token'); return saved && JSON.parse(saved).token",
        &[],
    );
    let token = kept.as_str().expect("a token").to_owned();
    assert!(token.starts_with("tok_"), "{token}");
    let everything = browser.run("return JSON.stringify(Object.entries(localStorage))", &[]);
    assert!(!everything.as_str().unwrap().contains(PASSWORD), "{everything}");
    token
}

/// Registers `name` on the page at `url`.
fn register(browser: &Browser, url: &str, name: &str) {
    browser.goto(url);
    browser.click("input[name=mode][value=register]");
    browser.type_into("#enter-name", name);
    browser.type_into("#enter-password", PASSWORD);
    browser.type_into("#enter-confirm", &format!("{PASSWORD}{ENTER}"));
    wait_text(browser, "#whoami", &format!("{name} (logged in)"));
}

/// Types `text` into the composer on screen and presses Enter.
fn say(browser: &Browser, text: &str) {
    browser.type_into(COMPOSER, &format!("{text}{ENTER}"));
}

/// Waits until the element `selector` matches holds `text`.
fn wait_text(browser: &Browser, selector: &str, text: &str) {
    browser.wait_for(
        &format!("{text:?} in {selector}"),
        "return document.querySelector(arguments[0])?.textContent.includes(arguments[1]) ?? null",
        &[json!(selector), json!(text)],
    );
}

/// Waits until the pane `pane` shows exactly the messages `texts`, in
/// order: none missing, none twice, none unsent.
fn wait_messages(browser: &Browser, pane: &str, texts: &[&str]) {
    browser.wait_for(
        &format!("exactly the messages {texts:?} in {pane}"),
        "const shown = [...document.querySelectorAll(arguments[0] + ' .log .msg:not(.failed) .text')]
             .map((e) => e.textContent);
         return JSON.stringify(shown) === JSON.stringify(arguments[1]);",
        &[json!(pane), json!(texts)],
    );
}

/// Waits until exactly `texts` are shown in `pane` and each of them is
/// sent: its numbered copy came back from the server, so whatever anyone
/// says after this comes after them.
fn wait_sent(browser: &Browser, pane: &str, texts: &[&str]) {
    browser.wait_for(
        &format!("exactly the messages {texts:?} in {pane}, all sent"),
        "const shown = [...document.querySelectorAll(arguments[0] + ' .log .msg:not(.failed)')];
         if (shown.some((li) => li.classList.contains('pending'))) return false;
         const texts = shown.map((li) => li.querySelector('.text').textContent);
         return JSON.stringify(texts) === JSON.stringify(arguments[1]);",
        &[json!(pane), json!(texts)],
    );
}

/// Waits until the page's connection state is `state` (see conn.js).
fn wait_state(browser: &Browser, state: &str) {
    browser.wait_for(
        &format!("the connection {state}"),
        "return document.getElementById('conn').dataset.state === arguments[0]",
        &[json!(state)],
    );
}

/// Numbered screenshots in one directory.
struct Screenshots {
    dir: PathBuf,
    taken: std::cell::Cell<u32>,
}

impl Screenshots {
    fn new() -> Screenshots {
        let dir = std::env::var_os("CHATD_SCREENSHOTS")
            .map_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-page"), PathBuf::from);
        std::fs::create_dir_all(&dir).expect("create the screenshot directory");
        eprintln!("screenshots in {}", dir.display());
        Screenshots { dir, taken: std::cell::Cell::new(0) }
    }

    fn take(&self, browser: &Browser, name: &str) {
        self.taken.set(self.taken.get() + 1);
        browser.screenshot(&self.dir.join(format!("{:02}-{name}.png", self.taken.get())));
    }
}

/// The rule for tests that need a program from outside Rust, on this
/// binary's own browser test, run again with no program on `PATH`: it
/// skips, saying so twice (when it skips and when the binary ends), and the
/// binary passes; with `CHATD_TEST_REQUIRE=all` the same words fail it.
#[test]
fn without_a_browser_the_browser_test_skips_or_fails_as_required() {
    let words =
        format!("{BROWSER_TEST} needs chromedriver and Chromium (Debian: apt-get install chromium chromium-driver)");
    let nothing = tempfile::tempdir().expect("an empty directory for PATH");
    let run = |require: Option<&str>| {
        run_again(&[BROWSER_TEST], |command| {
            command.env("PATH", nothing.path()).env_remove("CHROMEDRIVER").env_remove("CHROME_BIN");
            if let Some(require) = require {
                command.env(REQUIRE_VAR, require);
            }
        })
    };

    let (skipped, text) = run(None);
    assert!(skipped.status.success(), "a missing browser failed the run:\n{text}");
    assert!(text.contains(&format!("SKIPPED: {words}\n")), "no SKIPPED line:\n{text}");
    assert!(text.contains("1 passed; 0 failed"), "the test did not run:\n{text}");
    let summary = "SKIPPED in web_page: 1 test needed chromedriver and Chromium (Debian: apt-get install chromium chromium-driver); `bash .ci/run` installs what is missing and runs everything";
    let result = text.find("test result:").expect("the harness's result line");
    let at_exit = text.rfind(summary).unwrap_or_else(|| panic!("no summary:\n{text}"));
    assert!(at_exit > result, "the summary came before the result line:\n{text}");

    for require in ["all", "postgresql, chromium"] {
        let (failed, text) = run(Some(require));
        assert!(!failed.status.success(), "{REQUIRE_VAR}={require} passed without a browser:\n{text}");
        assert!(text.contains(&words), "the failure does not say what is missing:\n{text}");
        assert!(!text.contains("SKIPPED"), "a required browser was skipped:\n{text}");
    }
}

/// Two messages sent at once, the second refused by the server (it holds a
/// bidirectional override, which could disguise text): the refusal names
/// the second's request, so the page marks that line as not sent, and the
/// server's copy of the first, naming its own request, shows it as sent.
#[test]
fn a_quick_second_message_refused_is_marked_on_its_own_line() {
    let Some(driver) = Chromedriver::start() else { return };
    let server = Server::start(chatd!(), &[]);
    let url = format!("http://{}/", server.http_addr());
    let gus = driver.browser(1100, 800);
    gus.goto(&url);
    gus.click("input[name=mode][value=guest]");
    gus.type_into("#enter-name", &format!("gus{ENTER}"));
    wait_text(&gus, "#whoami", "gus");
    gus.type_into("#room-name", "den");
    gus.click("#room-form button[value=create]");
    wait_text(&gus, ".pane:not([hidden]) h2", "den");
    let mut hal = server.login("hal");
    hal.send("/join den");
    hal.expect("* you are now in den (2 here)");

    // Both are sent in one go, before any answer can come back.
    let refused = "\u{202e}second";
    gus.run(
        "const input = document.querySelector(arguments[0]);
         for (const text of [arguments[1], arguments[2]]) {
           input.value = text;
           input.form.requestSubmit();
         }",
        &[json!(COMPOSER), json!("first"), json!(refused)],
    );
    hal.expect("[den] gus: first");
    gus.wait_for(
        "the first line sent and the second marked not sent",
        "const lines = [...document.querySelectorAll(arguments[0] + ' .log li.msg')];
         const line = (text) => lines.find((li) => li.querySelector('.text').textContent === text);
         const [first, second] = [line('first'), line(arguments[1])];
         if (first === undefined || second === undefined) return null;
         const sent = !first.classList.contains('pending') && !first.classList.contains('failed');
         return sent && second.classList.contains('failed') && second.textContent.includes('(not sent)');",
        &[json!(DEN_PANE), json!(refused)],
    );
    wait_text(&gus, &format!("{DEN_PANE} .error"), "bidirectional override");
    // The first is the room's first message, numbered as the server stored it.
    let numbered = gus.run(
        "return [...document.querySelectorAll(arguments[0] + ' .log li.msg:not(.pending)')]
           .map((li) => li.querySelector('.text').textContent)",
        &[json!(DEN_PANE)],
    );
    assert_eq!(numbered, json!(["first"]));
    drop(server);
}

/// A page that registered logs back in after a reload without asking for
/// the password; Log out revokes its token, so a copy of it is useless,
/// and the next visit shows the form.
#[test]
fn a_reload_logs_in_with_the_kept_token_and_log_out_revokes_it() {
    let Some(driver) = Chromedriver::start() else { return };
    let server = Server::start(chatd!(), &[]);
    let url = format!("http://{}/", server.http_addr());
    let erin = driver.browser(1100, 800);
    register(&erin, &url, "erin");
    let token = assert_token_kept_not_password(&erin);
    erin.reload();
    wait_text(&erin, "#whoami", "erin (logged in)");
    let form = erin.run("return document.getElementById('enter').hidden", &[]);
    assert_eq!(form, json!(true), "no password asked");
    erin.click("#logout");
    erin.wait_for("the token forgotten", "return localStorage.getItem('chatd.token') === null", &[]);
    let mut thief = server.connect();
    thief.expect_prefix("* Welcome");
    // The revocation was sent before the quit; give it a moment to land.
    let mut refused = false;
    for _ in 0..50 {
        thief.send(&format!("/resume {token}"));
        let line = thief.line();
        if line.starts_with("! the session token is not valid") {
            refused = true;
            break;
        }
        // Logged in before the revocation landed: leave and try again.
        thief.read_until("* logged in as erin");
        thief = server.connect();
        thief.expect_prefix("* Welcome");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(refused, "the token still works after Log out");
    erin.reload();
    erin.wait_for("the enter form", "return !document.getElementById('enter').hidden", &[]);
    drop(server);
}

/// Reloaded while its account is connected elsewhere, the page is put
/// into the account's rooms as it logs in; the joins it sends for the
/// rooms it had open then find it there already, which is where it
/// wanted to be, not an error to show.
#[test]
fn a_page_reloaded_while_its_account_is_in_its_rooms_elsewhere_shows_no_error() {
    let Some(driver) = Chromedriver::start() else { return };
    let server = Server::start(chatd!(), &[]);
    let url = format!("http://{}/", server.http_addr());
    let fay = driver.browser(1100, 800);
    register(&fay, &url, "fay");
    fay.type_into("#room-name", "den");
    fay.click("#room-form button[value=create]");
    wait_text(&fay, ".pane:not([hidden]) h2", "den");
    let mut phone = server.connect();
    phone.expect_prefix("* Welcome");
    phone.send(&format!("/login fay {PASSWORD}"));
    phone.read_until("* logged in as fay");
    phone.read_until_prefix("* you are now in den");

    fay.reload();
    wait_text(&fay, "#whoami", "fay (logged in)");
    wait_text(&fay, ".pane:not([hidden]) h2", "den");
    // A line said after the reload comes back after the answer to the
    // page's join, which the server gave first.
    say(&fay, "back");
    wait_sent(&fay, DEN_PANE, &["back"]);
    phone.read_until("[den] fay: back");
    let errors = fay.run(
        "return [...document.querySelectorAll('#rooms-error, .pane .error')].map((e) => e.textContent).join('')",
        &[],
    );
    assert_eq!(errors, json!(""), "an error shown after the reload");
    drop(server);
}

/// A guest's room that empties while its page is away (here, chatd
/// stops) starts again from message 1: the page that rejoins it must show
/// the new room's messages, not take them for the old ones it has shown
/// under the same numbers.
#[test]
fn a_page_back_in_a_guests_room_made_anew_shows_what_is_said_there() {
    let Some(driver) = Chromedriver::start() else { return };
    let data = tempfile::tempdir().expect("a data directory");
    let server = Server::start_in(chatd!(), data.path(), &[]);
    let url = format!("http://{}/", server.http_addr());
    let gus = driver.browser(1100, 800);
    gus.goto(&url);
    gus.click("input[name=mode][value=guest]");
    gus.type_into("#enter-name", &format!("gus{ENTER}"));
    wait_text(&gus, "#whoami", "gus");
    gus.type_into("#room-name", "den");
    gus.click("#room-form button[value=create]");
    wait_text(&gus, ".pane:not([hidden]) h2", "den");
    say(&gus, "old one");
    say(&gus, "old two");
    // The page sends as it shows; the room's order is the server's, so hal
    // speaks only once both have arrived.
    wait_sent(&gus, DEN_PANE, &["old one", "old two"]);
    let mut hal = server.login("hal");
    hal.send("/join den");
    hal.read_until_prefix("~ [den ");
    hal.send("old three");
    wait_messages(&gus, DEN_PANE, &["old one", "old two", "old three"]);
    hal.send("/quit");
    hal.read_until("* bye: quit");

    // A clean stop: gus's page is the room's last member to go.
    let (listen, irc, http) =
        (server.addr().to_string(), server.irc_addr().to_string(), server.http_addr().to_string());
    let mut server = server;
    server.terminate();
    server.wait_exit(chatd_tests::READ_TIMEOUT);
    let server =
        Server::start_in(chatd!(), data.path(), &["--listen", &listen, "--irc-listen", &irc, "--http-listen", &http]);
    wait_state(&gus, "online");
    wait_text(&gus, DEN_PANE, "back in the room");
    let mut ida = server.login("ida");
    ida.send("/join den");
    ida.expect("* you are now in den (2 here)");
    ida.send("new one");
    wait_messages(&gus, DEN_PANE, &["new one"]);
    wait_text(&gus, DEN_PANE, "made anew");
    drop(server);
}

/// The page's read markers, what is new after a reload, deletions, and a
/// server operator's broadcast and kill. Fay's page reads two rooms; the server
/// keeps how far; while the page is closed more is said; the reloaded
/// page logs in by its token and marks where the new messages start.
#[test]
fn a_page_keeps_read_markers_and_shows_what_is_new_deleted_and_broadcast() {
    let Some(driver) = Chromedriver::start() else { return };
    let shots = Screenshots::new();
    let server = Server::start(chatd!(), &["--operator", "opal"]);
    let url = format!("http://{}/", server.http_addr());
    let fay = driver.browser(1100, 800);
    fay.screen(1100, 640);
    register(&fay, &url, "fay");
    for room in ["den", "nook"] {
        fay.type_into("#room-name", room);
        fay.click("#room-form button[value=create]");
        wait_text(&fay, ".pane:not([hidden]) h2", room);
    }
    let mut hal = server.login("hal");
    hal.send("/join den");
    hal.expect("* you are now in den (2 here)");
    let mut ivy = server.login("ivy");
    ivy.send("/join nook");
    ivy.expect("* you are now in nook (2 here)");

    // Seeing a room's messages on screen marks them read, in the server.
    ivy.send("nook one");
    wait_messages(&fay, NOOK_PANE, &["nook one"]);
    wait_marker(&fay, NOOK_PANE, 1);
    fay.click("#joined button[aria-label^='den']");
    hal.send("first");
    hal.send("second");
    wait_messages(&fay, DEN_PANE, &["first", "second"]);
    wait_marker(&fay, DEN_PANE, 2);
    fay.goto("about:blank");
    let mut phone = server.connect();
    phone.expect_prefix("* Welcome");
    phone.send(&format!("/login fay {PASSWORD}"));
    phone.read_until("* logged in as fay");
    phone.send("/join den");
    phone.read_until_prefix("* you are now in den");
    phone.send("/read den 1");
    phone.read_until("* den read up to message 2");
    phone.send("/quit");
    phone.read_until("* bye: quit");

    // Said while the page was closed: three in den, two in nook.
    for text in ["n1", "n2", "n3"] {
        hal.send(text);
    }
    ivy.send("nook two");
    ivy.send("nook three");
    hal.send("/who den");
    hal.read_until_prefix("* in den");
    ivy.send("/who nook");
    ivy.read_until_prefix("* in nook");

    // Back by the kept token, no password asked: den, on screen, marks
    // where the three start, and nook's badge counts its two.
    fay.goto(&url);
    wait_text(&fay, "#whoami", "fay (logged in)");
    assert_eq!(fay.run("return document.getElementById('enter').hidden", &[]), json!(true), "no password asked");
    wait_text(&fay, &format!("{DEN_PANE} .divider"), "3 new since you left");
    wait_messages(&fay, DEN_PANE, &["first", "second", "n1", "n2", "n3"]);
    fay.wait_for(
        "the divider just above n1, in view",
        "const divider = document.querySelector(arguments[0] + ' .divider');
         const next = divider?.nextElementSibling?.querySelector('.text')?.textContent;
         const log = divider?.closest('.log').getBoundingClientRect();
         const at = divider?.getBoundingClientRect();
         return next === 'n1' && at.top >= log.top && at.bottom <= log.bottom;",
        &[json!(DEN_PANE)],
    );
    wait_text(&fay, "#joined li.unread .badge", "2");
    assert_eq!(fay.run("return document.title", &[]), json!("(2) chatd"));
    shots.take(&fay, "since-you-left");
    wait_marker(&fay, DEN_PANE, 5);

    // A deletion by a text user, and one of fay's own from the keyboard.
    hal.send("oops");
    wait_messages(&fay, DEN_PANE, &["first", "second", "n1", "n2", "n3", "oops"]);
    hal.send("/delete");
    hal.read_until("* a message by hal was deleted");
    wait_messages(&fay, DEN_PANE, &["first", "second", "n1", "n2", "n3", "(message deleted)"]);
    say(&fay, "mine");
    wait_sent(&fay, DEN_PANE, &["first", "second", "n1", "n2", "n3", "(message deleted)", "mine"]);
    hal.read_until("[den] fay: mine");
    fay.type_into(&format!("{DEN_PANE} li.mine button.delete"), ENTER);
    hal.read_until("* a message by fay was deleted");
    let after_deletions = ["first", "second", "n1", "n2", "n3", "(message deleted)", "(message deleted)"];
    wait_messages(&fay, DEN_PANE, &after_deletions);
    // Reloaded, the replay and the history page carry them as tombstones.
    fay.reload();
    wait_text(&fay, "#whoami", "fay (logged in)");
    wait_messages(&fay, DEN_PANE, &after_deletions);

    // A server operator's broadcast shows in the page.
    let mut opal = server.register("opal", PASSWORD);
    opal.send("/broadcast maintenance at noon");
    opal.expect("* broadcast from opal: maintenance at noon");
    wait_text(&fay, &format!("{DEN_PANE} .notice.broadcast"), "broadcast from opal: maintenance at noon");

    // Disconnected by the operator, the page says why and stays out.
    opal.send("/kill fay spam");
    opal.read_until("* fay was disconnected");
    wait_text(&fay, "#enter-error", "disconnected by a server operator opal: spam");
    wait_state(&fay, "stopped");
    drop(server);
}

/// Waits until the page knows the account's read marker in `pane` is at `seq`
/// (the server's answer to the page's `read`, or its word of a move).
fn wait_marker(browser: &Browser, pane: &str, seq: u64) {
    browser.wait_for(
        &format!("the read marker of {pane} at {seq}"),
        "return document.querySelector(arguments[0])?.dataset.read === arguments[1]",
        &[json!(pane), json!(seq.to_string())],
    );
}
