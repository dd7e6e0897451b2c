//! A headless Chromium for tests of chatd's web page, driven over
//! WebDriver.
//!
//! `chromedriver` (Debian's `chromium-driver`) speaks WebDriver on a
//! loopback port; this module speaks just enough of it to open pages,
//! type, click, read the page and take screenshots, over plain HTTP/1.1 on
//! `std::net`. Like the rest of these helpers every call blocks, and every
//! wait has a deadline and fails the test with what it was waiting for.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::outside::BROWSER;

/// How long a page may take to show what a test waits for. Generous for a
/// loaded CI machine; a passing test never waits this long.
pub const PAGE_TIMEOUT: Duration = Duration::from_secs(20);

/// The key WebDriver's "send keys" reads as Enter.
pub const ENTER: &str = "\u{E007}";

/// The W3C name of the field that holds an element's id.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How many times chromedriver is started before a test fails for it.
const START_ATTEMPTS: u32 = 3;

/// A running chromedriver, stopped when dropped (with every browser it
/// started).
pub struct Chromedriver {
    child: Child,
    addr: SocketAddr,
}

impl Chromedriver {
    /// Starts `chromedriver` (or the program `CHROMEDRIVER` names) on a free
    /// loopback port, or returns `None` when it or Chromium is not
    /// installed and the test should skip ([`BROWSER`]'s rule; call this
    /// before starting anything else).
    ///
    /// # Panics
    ///
    /// If the browser is missing and `CHATD_TEST_REQUIRE` requires it, or
    /// it is installed but cannot be started: from here on a browser test
    /// must fail, never pass without having run.
    pub fn start() -> Option<Chromedriver> {
        if !BROWSER.present() {
            return None;
        }
        let program = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
        // With `--port=0` chromedriver picks a free port and then binds it
        // on each address family; when another program takes it first on
        // one of them, chromedriver exits (`bind() failed: Address already
        // in use`). That race is chromedriver's, not the page's: try again,
        // a few times.
        for _ in 1..START_ATTEMPTS {
            if let Ok(started) = Self::start_once(&program) {
                return Some(started);
            }
        }
        Some(Self::start_once(&program).unwrap_or_else(|why| panic!("{why}")))
    }

    /// Starts chromedriver once, or says why it ended before listening.
    fn start_once(program: &str) -> Result<Chromedriver, String> {
        let mut command = Command::new(program);
        // A group of its own, so that dropping it ends the browsers it
        // started too, even those of a test that failed half-way.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // Silent when all is well; when it is not, its own words beat a guess.
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        // It prints `ChromeDriver was started successfully on port N.` once
        // it listens.
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let port = loop {
            let line = match lines.next() {
                Some(Ok(line)) => line,
                end => {
                    let _ = child.kill();
                    let status = child.wait();
                    return Err(format!("{program} ended before saying which port it listens on: {end:?}, {status:?}"));
                }
            };
            if let Some(rest) = line.split("started successfully on port ").nth(1) {
                break rest.trim_end_matches('.').trim().parse::<u16>().expect("a port number");
            }
        };
        // Keep reading so that chromedriver never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Chromedriver { child, addr: SocketAddr::from(([127, 0, 0, 1], port)) })
    }

    /// A new headless browser with a fresh profile of its own (so two
    /// browsers are two people: separate storage, separate connections),
    /// with a window of `width` by `height` CSS pixels.
    pub fn browser(&self, width: u32, height: u32) -> Browser {
        let args = [
            "--headless=new".to_owned(),
            // As root (CI) Chromium refuses to start with its sandbox.
            "--no-sandbox".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-gpu".to_owned(),
            "--no-first-run".to_owned(),
            format!("--window-size={width},{height}"),
        ];
        let mut options = json!({ "args": args });
        if let Ok(binary) = std::env::var("CHROME_BIN") {
            options["binary"] = json!(binary);
        }
        let body = json!({ "capabilities": { "alwaysMatch": { "goog:chromeOptions": options } } });
        let answer = call(self.addr, "POST", "/session", Some(&body));
        let session = answer["sessionId"].as_str().unwrap_or_else(|| panic!("no session in {answer}")).to_owned();
        Browser { driver: self.addr, session }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(group) = i32::try_from(self.child.id()).ok().and_then(rustix::process::Pid::from_raw) {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser window, closed when dropped.
pub struct Browser {
    driver: SocketAddr,
    session: String,
}

impl Browser {
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        call(self.driver, method, &format!("/session/{}{path}", self.session), body)
    }

    /// Opens `url` and waits for it to load.
    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(&json!({ "url": url })));
    }

    /// Reloads the page, as the reload button does.
    pub fn reload(&self) {
        self.call("POST", "/refresh", Some(&json!({})));
    }

    /// Runs `script` (a function body: `return` gives the result) in the
    /// page, with `args` as `arguments`.
    pub fn run(&self, script: &str, args: &[Value]) -> Value {
        self.call("POST", "/execute/sync", Some(&json!({ "script": script, "args": args })))
    }

    /// Runs `script` until it returns something other than `null`, `false`
    /// or `""`, and returns that; fails the test after [`PAGE_TIMEOUT`],
    /// saying `what` was awaited and what the page showed.
    pub fn wait_for(&self, what: &str, script: &str, args: &[Value]) -> Value {
        let deadline = Instant::now() + PAGE_TIMEOUT;
        loop {
            let value = self.run(script, args);
            let done = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if done {
                return value;
            }
            if Instant::now() > deadline {
                let text = self.run("return document.body.innerText", &[]);
                panic!("the page never showed {what}; it shows:\n{}", text.as_str().unwrap_or_default());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until an element matching the CSS `selector` exists and is
    /// shown, then returns its WebDriver id.
    fn element(&self, selector: &str) -> String {
        self.wait_for(
            &format!("a visible {selector}"),
            "const e = document.querySelector(arguments[0]); return e !== null && e.checkVisibility() ? true : null;",
            &[json!(selector)],
        );
        let found = self.call("POST", "/element", Some(&json!({ "using": "css selector", "value": selector })));
        found[ELEMENT_KEY].as_str().unwrap_or_else(|| panic!("no element id in {found}")).to_owned()
    }

    /// Clicks the element `selector` matches, once it is shown.
    pub fn click(&self, selector: &str) {
        self.act(selector, "click", &json!({}));
    }

    /// Types `text` into the element `selector` matches, as key presses
    /// (end it with [`ENTER`] to press Enter).
    pub fn type_into(&self, selector: &str, text: &str) {
        self.act(selector, "value", &json!({ "text": text }));
    }

    /// Sends the element command `action` to the element `selector`
    /// matches. A page may replace the element between finding it and
    /// acting on it; then it is found again.
    fn act(&self, selector: &str, action: &str, body: &Value) {
        let deadline = Instant::now() + PAGE_TIMEOUT;
        loop {
            let id = self.element(selector);
            let path = format!("/session/{}/element/{id}/{action}", self.session);
            match try_call(self.driver, "POST", &path, Some(body)) {
                Ok(_) => return,
                Err(error) if error.contains("stale element") && Instant::now() < deadline => continue,
                Err(error) => panic!("WebDriver {action} on {selector}: {error}"),
            }
        }
    }

    /// Makes the page see `prefers-color-scheme: dark`.
    pub fn prefer_dark(&self) {
        let features = json!([{ "name": "prefers-color-scheme", "value": "dark" }]);
        self.devtools("Emulation.setEmulatedMedia", json!({ "features": features }));
    }

    /// Makes the page's viewport exactly `width` by `height` CSS pixels,
    /// as on a desktop screen (a window's size includes what the browser
    /// draws around the page).
    pub fn screen(&self, width: u32, height: u32) {
        let metrics = json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false });
        self.devtools("Emulation.setDeviceMetricsOverride", metrics);
    }

    /// Makes the page a phone's: `width` by `height` CSS pixels, at twice
    /// the density. (A desktop window cannot be made as narrow as a phone.)
    pub fn phone(&self, width: u32, height: u32) {
        let metrics = json!({ "width": width, "height": height, "deviceScaleFactor": 2, "mobile": true });
        self.devtools("Emulation.setDeviceMetricsOverride", metrics);
    }

    /// One command of Chromium's DevTools protocol, which chromedriver
    /// passes on.
    fn devtools(&self, command: &str, params: Value) {
        self.call("POST", "/goog/cdp/execute", Some(&json!({ "cmd": command, "params": params })));
    }

    /// Saves what the window shows as a PNG file at `path`.
    pub fn screenshot(&self, path: &Path) {
        let png = self.call("GET", "/screenshot", None);
        let png = decode_base64(png.as_str().expect("a screenshot is a base64 string"));
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = try_call(self.driver, "DELETE", &format!("/session/{}", self.session), None);
    }
}

/// One WebDriver command; its `value`. Fails the test on a WebDriver error.
fn call(driver: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> Value {
    match try_call(driver, method, path, body) {
        Ok(value) => value,
        Err(error) => panic!("WebDriver {method} {path}: {error}"),
    }
}

/// One HTTP request to chromedriver, one connection each: a handful of
/// commands a second needs nothing cleverer.
fn try_call(driver: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream = TcpStream::connect(driver).map_err(|e| format!("connect to chromedriver: {e}"))?;
    // Starting a browser is the slowest command; a minute covers a loaded machine.
    stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| e.to_string())?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {driver}\r\nContent-Type: application/json; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(|e| format!("send: {e}"))?;
    // chromedriver keeps the connection open whatever the request says, so
    // the body is read by its Content-Length, not to the end.
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status).map_err(|e| format!("read: {e}"))?;
    let status = status.split(' ').nth(1).unwrap_or_default().to_owned();
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).map_err(|e| format!("read: {e}"))?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().map_err(|e| format!("Content-Length {value:?}: {e}"))?;
        }
    }
    let mut payload = vec![0; length];
    reader.read_exact(&mut payload).map_err(|e| format!("read: {e}"))?;
    let payload: Value = serde_json::from_slice(&payload)
        .map_err(|e| format!("{status}, not JSON ({e}): {}", String::from_utf8_lossy(&payload)))?;
    let value = payload["value"].clone();
    if status == "200" { Ok(value) } else { Err(format!("{status}: {} {}", value["error"], value["message"])) }
}

/// Standard base64 (with padding, no line breaks), as WebDriver sends
/// screenshots.
fn decode_base64(text: &str) -> Vec<u8> {
    fn sextet(c: u8) -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {:?}", char::from(c)),
        }
    }
    let text = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.chunks(4) {
        let bits = chunk.iter().enumerate().fold(0, |acc, (i, &c)| acc | sextet(c) << (18 - 6 * i));
        // A chunk of n characters holds n - 1 whole bytes.
        out.extend_from_slice(&bits.to_be_bytes()[1..chunk.len()]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::decode_base64;

    #[test]
    fn base64_decodes_every_padding() {
        assert_eq!(decode_base64("aGk="), b"hi");
        assert_eq!(decode_base64("aGk6"), b"hi:");
        assert_eq!(decode_base64("aA=="), b"h");
        assert_eq!(decode_base64("iVBORw0KGgo="), b"\x89PNG\r\n\x1a\n");
    }
}
