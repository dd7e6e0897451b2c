//! Which `Host` names the HTTP port answers to: the defence against DNS
//! rebinding.
//!
//! A web page on any site can point its own name at 127.0.0.1 (rebind it)
//! once the browser has loaded the page; its script then reaches a local
//! chatd under that name, as the same origin, so the Origin check passes.
//! The one thing the browser still sends truthfully is the name it
//! connected to, in `Host`. So a request is served only when `Host` names
//! chatd: the address the connection reached (the local address of the
//! accepted socket, which for a wildcard bind is the machine's address the
//! client used), `localhost`, or a name given with `--server-host`. The
//! port is not compared: rebinding changes the name, not the port.
//!
//! A request without `Host` is let in: browsers always send one, so it is
//! not a page's doing, and a program could send any `Host` it liked.

use std::net::{IpAddr, SocketAddr};

/// The names chatd answers to besides its address and `localhost`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ServerHosts {
    /// Lowercase, without a trailing dot.
    names: Vec<String>,
}

impl ServerHosts {
    pub(crate) fn new(names: &[String]) -> Self {
        Self { names: names.iter().map(|name| normalize(name)).collect() }
    }

    /// Whether a request with `host` that reached `local` is for chatd.
    pub(crate) fn allows(&self, host: Option<&str>, local: SocketAddr) -> bool {
        let Some(host) = host else { return true };
        let name = normalize(strip_port(host));
        if name == "localhost" || self.names.contains(&name) {
            return true;
        }
        let literal = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')).unwrap_or(&name);
        literal.parse::<IpAddr>().is_ok_and(|ip| ip.to_canonical() == local.ip().to_canonical())
    }
}

/// `host:port` without the port; `[v6]:port` keeps its brackets.
fn strip_port(host: &str) -> &str {
    let host = host.trim();
    if let Some(end) = host.find(']') {
        return &host[..=end];
    }
    host.split_once(':').map_or(host, |(name, _)| name)
}

fn normalize(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(addr: &str) -> SocketAddr {
        addr.parse().unwrap()
    }

    #[test]
    fn the_bound_address_and_localhost_are_chatd() {
        let hosts = ServerHosts::default();
        let at = local("127.0.0.1:8080");
        assert!(hosts.allows(Some("127.0.0.1:8080"), at));
        assert!(hosts.allows(Some("127.0.0.1"), at), "no port");
        assert!(hosts.allows(Some("localhost:8080"), at));
        assert!(hosts.allows(Some("LocalHost"), at));
        assert!(hosts.allows(None, at), "not a browser");
        assert!(!hosts.allows(Some("rebound.example:8080"), at), "a rebound name");
        assert!(!hosts.allows(Some("127.0.0.2:8080"), at), "another address");
        assert!(!hosts.allows(Some(""), at));
        let v6 = local("[::1]:8080");
        assert!(hosts.allows(Some("[::1]:8080"), v6));
        assert!(!hosts.allows(Some("[::2]:8080"), v6));
        // A dual-stack listener sees an IPv4 client's connection as IPv4-mapped.
        assert!(hosts.allows(Some("192.0.2.1:8080"), local("[::ffff:192.0.2.1]:8080")));
    }

    #[test]
    fn names_given_are_chatd_too() {
        let hosts = ServerHosts::new(&["Chat.Example.com".into()]);
        let at = local("10.0.0.5:8080");
        assert!(hosts.allows(Some("chat.example.com"), at));
        assert!(hosts.allows(Some("chat.example.com.:443"), at), "a trailing dot is the same name");
        assert!(!hosts.allows(Some("evil.chat.example.com"), at));
        assert!(hosts.allows(Some("10.0.0.5"), at), "its address still is");
    }
}
