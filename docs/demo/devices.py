"""Manual demo (not run by CI): one account on irssi, WeeChat and two web
pages at once; read markers across devices; a reload that resumes with its
token; an operator's broadcast on every protocol; a deletion from the page.

Needs irssi, WeeChat, tmux, nc, Chromium, chromedriver and Python selenium.
From the repository root, after `cargo build --release -p chatd`:

    python3 docs/demo/devices.py [--shots docs/screenshots] [--out DIR]

It writes the panes (tmux capture-pane), the raw IRC lines of irssi and
WeeChat (through ircproxy.py), and notes with timings into --out, and the
screenshots into --shots. The tmux server (`tmux -L chatd-demo`) is left
running for a look; `tmux -L chatd-demo kill-server` ends it and the clients.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "s3cret-pw"
TMUX = ["tmux", "-L", "chatd-demo"]
RUST = "section.pane[data-key='r:rust']"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(what, check, timeout=20.0, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = check()
        if got:
            return got
        time.sleep(step)
    raise SystemExit(f"timed out waiting for {what}")


class Panes:
    """tmux windows, one per client, in a tmux server of their own."""

    def __init__(self, out):
        self.out = out
        subprocess.run(TMUX + ["kill-server"], stderr=subprocess.DEVNULL)
        self.started = False

    def open(self, name, command, width=120, height=34):
        if not self.started:
            subprocess.run(TMUX + ["new-session", "-d", "-s", "demo", "-x", str(width), "-y", str(height),
                                   "-n", name, command], check=True)
            subprocess.run(TMUX + ["set-option", "-g", "history-limit", "5000"], check=True)
            self.started = True
        else:
            subprocess.run(TMUX + ["new-window", "-d", "-t", "demo", "-n", name, command], check=True)

    def send(self, name, text):
        subprocess.run(TMUX + ["send-keys", "-t", f"demo:{name}", "-l", text], check=True)
        subprocess.run(TMUX + ["send-keys", "-t", f"demo:{name}", "Enter"], check=True)
        time.sleep(0.3)

    def screen(self, name, history=False):
        args = ["capture-pane", "-p", "-t", f"demo:{name}"]
        if history:
            args += ["-S", "-3000"]
        return subprocess.run(TMUX + args, capture_output=True, text=True, check=True).stdout

    def wait(self, name, text, timeout=20.0):
        wait(f"{text!r} in {name}", lambda: text in self.screen(name, history=True), timeout)

    def save(self, name, label, history=False):
        with open(os.path.join(self.out, f"{label}.txt"), "w") as f:
            f.write(self.screen(name, history).rstrip() + "\n")


def browser(profile):
    options = webdriver.ChromeOptions()
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--window-size=1280,800", f"--user-data-dir={profile}"]:
        options.add_argument(arg)
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    return webdriver.Chrome(service=Service(driver), options=options)


def js_wait(page, what, script, *args, timeout=20.0):
    return wait(what, lambda: page.execute_script(script, *args), timeout)


def page_text(page, selector, text, timeout=20.0):
    js_wait(page, f"{text!r} in {selector}",
            "return document.querySelector(arguments[0])?.textContent.includes(arguments[1]) ?? false",
            selector, text, timeout=timeout)


def login(page, url):
    page.get(url)
    page.find_element(By.ID, "enter-name").send_keys("erin")
    page.find_element(By.ID, "enter-password").send_keys(PASSWORD + Keys.ENTER)
    page_text(page, "#whoami", "erin (logged in)")


def show(page, room):
    page.find_element(By.CSS_SELECTOR, f"#joined button[aria-label^='{room}']").click()
    page_text(page, ".pane:not([hidden]) h2", room)


def unread(page, room):
    """The unread badge of `room` in the page's list, or None."""
    return page.execute_script(
        """const b = document.querySelector(`#joined button[aria-label^='${arguments[0]}']`);
           const li = b?.closest('li');
           return li && li.classList.contains('unread') ? li.querySelector('.badge')?.textContent : null;""",
        room)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chatd", default="target/release/chatd")
    ap.add_argument("--shots", default="docs/screenshots")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    out = a.out or tempfile.mkdtemp(prefix="chatd-devices-")
    os.makedirs(out, exist_ok=True)
    os.makedirs(a.shots, exist_ok=True)
    notes = open(os.path.join(out, "notes.txt"), "w")

    def note(line):
        print(line)
        notes.write(line + "\n")
        notes.flush()

    text_port, irc_port, http_port = free_port(), free_port(), free_port()
    irssi_port, weechat_port = free_port(), free_port()
    data = tempfile.mkdtemp(prefix="chatd-data-")
    flags = ["--listen", f"127.0.0.1:{text_port}", "--irc-listen", f"127.0.0.1:{irc_port}",
             "--http-listen", f"127.0.0.1:{http_port}", "--metrics-listen", "none",
             "--data-dir", data, "--operator", "erin", "--operator", "opal",
             "--flood-lines-per-sec", "0", "--idle-timeout", "0"]
    note("chatd " + " ".join(flags))
    chatd = subprocess.Popen([a.chatd] + flags, stdout=subprocess.PIPE, stderr=open(os.path.join(out, "chatd.log"), "w"),
                             text=True)
    wait("chatd's HTTP port", lambda: "http listening" in (chatd.stdout.readline() or ""), 30)
    proxies = [subprocess.Popen([sys.executable, os.path.join(HERE, "ircproxy.py"), str(port), str(irc_port),
                                 os.path.join(out, f"{name}-raw.log")])
               for name, port in (("irssi", irssi_port), ("weechat", weechat_port))]
    url = f"http://127.0.0.1:{http_port}/"
    panes = Panes(out)
    pages = []
    try:
        # --- 1. erin registers over nc; irssi, WeeChat and a page log in to her.
        panes.open("erin-nc", f"nc 127.0.0.1 {text_port}")
        panes.wait("erin-nc", "Welcome")
        panes.send("erin-nc", f"/register erin {PASSWORD} {PASSWORD}")
        panes.wait("erin-nc", "logged in as erin")
        panes.send("erin-nc", "/create rust")
        panes.wait("erin-nc", "you are now in rust")
        panes.open("gus", f"nc 127.0.0.1 {text_port}")
        panes.wait("gus", "Welcome")
        panes.send("gus", "/nick gus")
        panes.send("gus", "/join rust")
        panes.wait("gus", "you are now in rust")
        panes.send("gus", "hi erin, gus here on nc")

        irssi_home = tempfile.mkdtemp(prefix="irssi-")
        panes.open("irssi", f"irssi --home={irssi_home} -n erin")
        time.sleep(2)
        panes.send("irssi", f"/network add -sasl_username erin -sasl_password {PASSWORD} -sasl_mechanism PLAIN chatdnet")
        panes.send("irssi", f"/server add -network chatdnet 127.0.0.1 {irssi_port}")
        panes.send("irssi", "/connect chatdnet")
        wait("irssi in #rust", lambda: "JOIN #rust" in open(os.path.join(out, "irssi-raw.log")).read())
        panes.save("irssi", "1-irssi-status")

        weechat_home = tempfile.mkdtemp(prefix="weechat-")
        panes.open("weechat", f"weechat -d {weechat_home}")
        time.sleep(2)
        panes.send("weechat", "/bar hide buflist")
        panes.send("weechat", f"/server add chatd 127.0.0.1/{weechat_port} -notls -nicks=erin "
                              f"-sasl_username=erin -sasl_password={PASSWORD} -sasl_mechanism=plain")
        panes.send("weechat", "/connect chatd")
        wait("WeeChat in #rust", lambda: "JOIN #rust" in open(os.path.join(out, "weechat-raw.log")).read())
        time.sleep(1)
        panes.send("weechat", "/buffer #rust")

        page_a = browser(tempfile.mkdtemp(prefix="page-a-"))
        pages.append(page_a)
        login(page_a, url)
        page_text(page_a, ".pane:not([hidden]) h2", "rust")

        panes.send("irssi", "/window goto #rust")
        panes.send("irssi", "hello from irssi, one account on four devices")
        panes.wait("weechat", "hello from irssi, one account")
        js_wait(page_a, "irssi's line in the page",
                "return [...document.querySelectorAll(arguments[0] + ' .log .msg')]"
                ".some((li) => li.textContent.includes('hello from irssi'))", RUST)
        panes.wait("gus", "hello from irssi")
        panes.wait("erin-nc", "hello from irssi")
        time.sleep(1)
        mine = page_a.execute_script(
            "return [...document.querySelectorAll(arguments[0] + ' .log .msg')]"
            ".filter((li) => li.textContent.includes('hello from irssi')).map((li) => li.className + ' | ' + li.textContent)",
            RUST)
        note(f"1. the page's line for irssi's message: {mine}")
        page_a.save_screenshot(os.path.join(a.shots, "devices-page.png"))
        for name in ("irssi", "weechat", "gus", "erin-nc"):
            panes.save(name, f"1-{name}")
        # WeeChat's tags for each line say whose it is (self_msg: its own).
        panes.send("weechat", "/debug tags")
        panes.save("weechat", "1-weechat-tags")
        panes.send("weechat", "/debug tags")

        # --- 2. Read markers: a second page, the room off screen in both.
        # Made from the page, the account joins go everywhere and stays in
        # rust; nc, in one room at a time, moves to go. (Made from nc, the
        # terminal's switch would take the whole account out of rust.)
        page_a.find_element(By.ID, "room-name").send_keys("go")
        page_a.find_element(By.CSS_SELECTOR, "#room-form button[value=create]").click()
        page_text(page_a, ".pane:not([hidden]) h2", "go")
        panes.wait("erin-nc", "you are now in go")
        page_b = browser(tempfile.mkdtemp(prefix="page-b-"))
        pages.append(page_b)
        login(page_b, url)
        show(page_b, "go")
        time.sleep(1)
        for i in range(1, 4):
            panes.send("gus", f"unread line {i} from gus")
        wait("the badge of rust in page B", lambda: unread(page_b, "rust") == "3")
        wait("the badge of rust in page A", lambda: unread(page_a, "rust") == "3")
        note(f"2. before: badge of rust in A {unread(page_a, 'rust')!r}, in B {unread(page_b, 'rust')!r}")
        page_b.save_screenshot(os.path.join(a.shots, "unread-before.png"))
        t0 = time.time()
        show(page_a, "rust")
        wait("the badge of rust in page B cleared", lambda: unread(page_b, "rust") is None, timeout=10, step=0.02)
        note(f"2. page B's badge cleared {time.time() - t0:.2f} s after page A showed rust")
        page_b.save_screenshot(os.path.join(a.shots, "unread-synced.png"))
        page_a.save_screenshot(os.path.join(out, "unread-page-a.png"))
        panes.send("weechat", "/buffer #rust")
        for name in ("irssi", "weechat"):
            panes.save(name, f"2-{name}")

        # --- 3. Page A closed, 12 lines said, page A back: no password, divider.
        page_a.get("about:blank")
        for i in range(1, 13):
            panes.send("gus", f"while you were away {i}")
        panes.wait("gus", "while you were away 12")
        time.sleep(1)
        page_a.get(url)
        page_text(page_a, "#whoami", "erin (logged in)")
        enter_hidden = page_a.execute_script("return document.getElementById('enter').hidden")
        on_screen = page_a.execute_script("return document.querySelector('.pane:not([hidden]) h2')?.textContent")
        note(f"3. after reload: login form hidden: {enter_hidden}; on screen: {on_screen}")
        page_text(page_a, f"{RUST} .divider", "12 new since you left")
        note("3. divider: " + page_a.execute_script("return document.querySelector(arguments[0]).textContent",
                                                      f"{RUST} .divider"))
        time.sleep(0.5)
        page_a.save_screenshot(os.path.join(a.shots, "since-you-left-12.png"))

        # --- 4. A broadcast from erin on nc.
        panes.open("json", f"nc 127.0.0.1 {text_port}")
        panes.send("json", '{"type":"nick","nick":"jay"}')
        panes.wait("json", '"nick"')
        panes.open("opal", f"nc 127.0.0.1 {text_port}")
        panes.send("opal", f"/register opal {PASSWORD} {PASSWORD}")
        panes.wait("opal", "logged in as opal")
        panes.send("erin-nc", "/broadcast chatd restarts at 02:00 UTC, back in a minute")
        for name in ("gus", "json", "erin-nc", "opal"):
            panes.wait(name, "back in a minute")
        # The same from an operator who is not the account on the IRC clients.
        panes.send("opal", "/broadcast and opal, the other operator, says hello")
        for name in ("gus", "json", "erin-nc", "opal"):
            panes.wait(name, "says hello")
        for page in (page_a, page_b):
            page_text(page, ".pane:not([hidden])", "says hello")
        time.sleep(1.5)
        page_a.save_screenshot(os.path.join(a.shots, "broadcast-page.png"))
        for name in ("gus", "json", "erin-nc", "opal", "irssi", "weechat"):
            panes.save(name, f"4-{name}")
        panes.send("irssi", "/window 1")
        panes.save("irssi", "4-irssi-status")
        panes.send("irssi", "/window goto #rust")
        panes.send("weechat", "/buffer chatd")
        panes.save("weechat", "4-weechat-server")
        panes.send("weechat", "/buffer #rust")

        # --- 5. A message said and deleted in the page.
        show(page_a, "rust")
        page_a.find_element(By.CSS_SELECTOR, ".pane:not([hidden]) .composer input").send_keys(
            "a typo from the page" + Keys.ENTER)
        panes.wait("weechat", "a typo from the page")
        panes.wait("irssi", "a typo from the page")
        line = page_a.find_elements(By.CSS_SELECTOR, f"{RUST} li.mine")[-1]
        ActionChains(page_a).move_to_element(line).perform()
        time.sleep(0.3)
        page_a.save_screenshot(os.path.join(out, "delete-hover.png"))
        line.find_element(By.CSS_SELECTOR, "button.delete").click()
        panes.wait("gus", "was deleted")
        time.sleep(1.5)
        page_a.save_screenshot(os.path.join(out, "delete-page.png"))
        for name in ("gus", "irssi", "weechat"):
            panes.save(name, f"5-{name}")
        note("done; transcripts in " + out)
    except SystemExit:
        for i, page in enumerate(pages):
            page.save_screenshot(os.path.join(out, f"failed-page-{i}.png"))
            print(f"page {i} nav:", page.execute_script("return document.getElementById('nav').innerText"))
        raise
    finally:
        for page in pages:
            page.quit()
        for p in proxies:
            p.terminate()
        chatd.terminate()


if __name__ == "__main__":
    main()
