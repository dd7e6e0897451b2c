//! A small IRC test client: the text [`Client`] with CR LF line endings,
//! registration, and reading up to a line that matters.

use crate::{Client, Server};

impl Server {
    /// A new IRC client registered as `nick`, having asked for `caps`
    /// (space separated; empty for none), read up to the end of its
    /// welcome (422).
    pub fn irc(&self, nick: &str, caps: &str) -> Client {
        let mut client = Client::connect(self.irc_addr());
        if !caps.is_empty() {
            client.irc(&format!("CAP REQ :{caps}"));
            client.until(" ACK ");
        }
        client.irc(&format!("NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\nCAP END"));
        client.until(&format!(" 001 {nick} "));
        client.until(" 422 ");
        client
    }
}

impl Server {
    /// The host chatd shows for a connection from this machine, as WHOIS
    /// tells it: a cloak unless chatd runs with `--cloak-hosts false`.
    pub fn local_host(&self) -> String {
        let mut probe = self.irc("hostprobe", "");
        let host = probe.host_of("hostprobe");
        probe.irc("QUIT");
        probe.until("ERROR ");
        host
    }
}

impl Client {
    /// The host WHOIS gives for `nick` (its 311 reply's fourth parameter).
    pub fn host_of(&mut self, nick: &str) -> String {
        self.irc(&format!("WHOIS {nick}"));
        let reply = self.until(" 311 ");
        self.until(" 318 ");
        reply.split(' ').nth(5).expect("311 names a host").to_owned()
    }

    /// Sends one IRC line (CR LF is added).
    pub fn irc(&mut self, line: &str) {
        self.send_bytes(format!("{line}\r\n").as_bytes());
    }

    /// Reads lines until one contains `wanted`; returns it, without its CR.
    pub fn until(&mut self, wanted: &str) -> String {
        loop {
            let line = self.line();
            if line.contains(wanted) {
                return line.trim_end_matches('\r').to_owned();
            }
        }
    }

    /// The next IRC line, without its CR.
    pub fn irc_line(&mut self) -> String {
        self.line().trim_end_matches('\r').to_owned()
    }
}
