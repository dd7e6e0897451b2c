//! The client of an HTTP request that came through trusted proxies:
//! `X-Forwarded-For` (or, without it, RFC 7239 `Forwarded`) and
//! `X-Forwarded-Proto`.
//!
//! Each proxy appends the address it got the request from, so the list
//! is read from its right end: the right-most address that is not itself a
//! trusted proxy is the client. Everything left of it was written by that
//! client (or whoever it forwarded for) and proves nothing. If every
//! address is a trusted proxy, the left-most one is the client.
//!
//! `X-Forwarded-For` wins when both are present, because a proxy that
//! writes one passes the other through from the client untouched: the
//! proxy must write the one chatd reads (nginx and HAProxy both write
//! `X-Forwarded-For`; see docs/OPERATIONS.md).

use std::net::{IpAddr, SocketAddr};

use super::{Client, TrustedProxies};

/// The forwarding headers of a request, each header's lines joined with
/// commas in the order they came (as HTTP allows for lists).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Forwarding {
    pub(crate) x_forwarded_for: Option<String>,
    pub(crate) forwarded: Option<String>,
    pub(crate) x_forwarded_proto: Option<String>,
}

impl Forwarding {
    /// Whether the request says anything about forwarding.
    pub(crate) fn is_empty(&self) -> bool {
        self.x_forwarded_for.is_none() && self.forwarded.is_none() && self.x_forwarded_proto.is_none()
    }

    /// Adds one header line, if it is a forwarding header.
    pub(crate) fn add(&mut self, name: &str, value: &str) {
        let field = if name.eq_ignore_ascii_case("x-forwarded-for") {
            &mut self.x_forwarded_for
        } else if name.eq_ignore_ascii_case("forwarded") {
            &mut self.forwarded
        } else if name.eq_ignore_ascii_case("x-forwarded-proto") {
            &mut self.x_forwarded_proto
        } else {
            return;
        };
        match field {
            Some(list) => {
                list.push_str(", ");
                list.push_str(value.trim());
            }
            None => *field = Some(value.trim().to_owned()),
        }
    }
}

/// Why a trusted proxy's request cannot be attributed to a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ForwardedError {
    /// An entry that had to be read is not an address (`unknown`, an
    /// obfuscated name, garbage).
    #[error("{header} names a client that is not an IP address: {entry:?}")]
    NotAnAddress { header: &'static str, entry: String },
}

/// One hop of the chain: the address a proxy got the request from, and
/// whether that connection was TLS (if the headers say).
struct Hop<'a> {
    node: &'a str,
    proto: Option<&'a str>,
}

/// The client of a request from trusted proxy `peer`.
pub(crate) fn client(
    peer: SocketAddr,
    headers: &Forwarding,
    trusted: &TrustedProxies,
) -> Result<Client, ForwardedError> {
    let protos: Vec<&str> = list(headers.x_forwarded_proto.as_deref());
    let (header, hops): (_, Vec<Hop<'_>>) = if let Some(xff) = headers.x_forwarded_for.as_deref() {
        let nodes = list(Some(xff));
        // Proxies that append to both lists keep them in step; otherwise
        // the right-most protocol is the last proxy's word.
        let in_step = protos.len() == nodes.len();
        let hops = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| Hop { node, proto: if in_step { protos.get(i) } else { protos.last() }.copied() })
            .collect();
        ("X-Forwarded-For", hops)
    } else if let Some(forwarded) = headers.forwarded.as_deref() {
        ("Forwarded", list(Some(forwarded)).into_iter().map(forwarded_element).collect())
    } else {
        return Ok(Client { addr: peer, tls: is_tls(protos.last().copied()) });
    };
    let mut chosen = None;
    for hop in hops.iter().rev() {
        let addr =
            node_addr(hop.node).ok_or_else(|| ForwardedError::NotAnAddress { header, entry: hop.node.to_owned() })?;
        chosen = Some(Client { addr, tls: is_tls(hop.proto) });
        if !trusted.trusts(addr.ip()) {
            break;
        }
    }
    // An empty header names nobody: the proxy itself is the client.
    Ok(chosen.unwrap_or(Client { addr: peer, tls: is_tls(protos.last().copied()) }))
}

/// The non-empty items of a comma-separated list.
fn list(value: Option<&str>) -> Vec<&str> {
    value.map_or_else(Vec::new, |v| v.split(',').map(str::trim).filter(|item| !item.is_empty()).collect())
}

/// `for=` and `proto=` of one `Forwarded` element (`for=192.0.2.60;proto=https;by=…`).
fn forwarded_element(element: &str) -> Hop<'_> {
    let mut hop = Hop { node: "", proto: None };
    for pair in element.split(';') {
        let Some((key, value)) = pair.split_once('=') else { continue };
        let value = value.trim().trim_matches('"');
        match key.trim() {
            key if key.eq_ignore_ascii_case("for") => hop.node = value,
            key if key.eq_ignore_ascii_case("proto") => hop.proto = Some(value),
            _ => {}
        }
    }
    hop
}

/// An address as proxies write it: `192.0.2.7`, `192.0.2.7:4242`,
/// `2001:db8::7`, `[2001:db8::7]`, `[2001:db8::7]:4242`. Port 0 when none
/// is given.
fn node_addr(node: &str) -> Option<SocketAddr> {
    if let Ok(addr) = node.parse::<SocketAddr>() {
        return Some(addr);
    }
    let bare = node.strip_prefix('[').and_then(|n| n.strip_suffix(']')).unwrap_or(node);
    bare.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 0))
}

fn is_tls(proto: Option<&str>) -> bool {
    proto.is_some_and(|p| p.eq_ignore_ascii_case("https") || p.eq_ignore_ascii_case("wss"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies() -> TrustedProxies {
        TrustedProxies::new(&["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()])
    }

    fn headers(pairs: &[(&str, &str)]) -> Forwarding {
        let mut headers = Forwarding::default();
        for (name, value) in pairs {
            headers.add(name, value);
        }
        headers
    }

    fn client_of(pairs: &[(&str, &str)]) -> Result<Client, ForwardedError> {
        client("127.0.0.1:50000".parse().unwrap(), &headers(pairs), &proxies())
    }

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_right_most_address_that_is_not_a_proxy_is_the_client() {
        let one = client_of(&[("X-Forwarded-For", "192.0.2.7")]).unwrap();
        assert_eq!(one, Client { addr: addr("192.0.2.7:0"), tls: false });
        // The client wrote the first entry itself; two proxies added the rest.
        let chain = client_of(&[("X-Forwarded-For", "6.6.6.6, 192.0.2.7, 10.1.1.1")]).unwrap();
        assert_eq!(chain.addr, addr("192.0.2.7:0"));
        let split = client_of(&[("X-Forwarded-For", "6.6.6.6"), ("x-forwarded-for", "192.0.2.7, 10.1.1.1")]).unwrap();
        assert_eq!(split.addr, addr("192.0.2.7:0"), "repeated headers are one list");
        let all_proxies = client_of(&[("X-Forwarded-For", "10.2.2.2, 10.1.1.1")]).unwrap();
        assert_eq!(all_proxies.addr, addr("10.2.2.2:0"));
        let v6 = client_of(&[("X-Forwarded-For", "2001:db8::7")]).unwrap();
        assert_eq!(v6.addr, addr("[2001:db8::7]:0"));
        let nothing = client_of(&[]).unwrap();
        assert_eq!(nothing.addr, addr("127.0.0.1:50000"), "the proxy's own request");
    }

    #[test]
    fn forwarded_is_read_only_without_x_forwarded_for() {
        let forwarded = client_of(&[("Forwarded", "for=6.6.6.6, for=\"[2001:db8::7]:4711\";proto=https;by=10.0.0.1")]);
        assert_eq!(forwarded.unwrap(), Client { addr: addr("[2001:db8::7]:4711"), tls: true });
        // A client's own Forwarded header, passed through by a proxy that writes X-Forwarded-For.
        let both = client_of(&[("Forwarded", "for=6.6.6.6"), ("X-Forwarded-For", "192.0.2.7")]).unwrap();
        assert_eq!(both.addr, addr("192.0.2.7:0"));
    }

    #[test]
    fn the_protocol_says_whether_the_client_used_tls() {
        let https = client_of(&[("X-Forwarded-For", "192.0.2.7"), ("X-Forwarded-Proto", "https")]).unwrap();
        assert!(https.tls);
        let http = client_of(&[("X-Forwarded-For", "192.0.2.7"), ("X-Forwarded-Proto", "http")]).unwrap();
        assert!(!http.tls);
        let in_step =
            client_of(&[("X-Forwarded-For", "192.0.2.7, 10.1.1.1"), ("X-Forwarded-Proto", "https, http")]).unwrap();
        assert!(in_step.tls, "the client's own hop was TLS");
        assert!(!client_of(&[("X-Forwarded-For", "192.0.2.7")]).unwrap().tls, "unsaid is not TLS");
    }

    #[test]
    fn an_entry_that_must_be_read_must_be_an_address() {
        let error = client_of(&[("X-Forwarded-For", "unknown")]).unwrap_err();
        assert_eq!(error.to_string(), "X-Forwarded-For names a client that is not an IP address: \"unknown\"");
        assert!(client_of(&[("Forwarded", "for=_hidden")]).is_err());
        // Left of the client, nothing is read: whatever it is.
        assert_eq!(client_of(&[("X-Forwarded-For", "junk, 192.0.2.7")]).unwrap().addr, addr("192.0.2.7:0"));
    }
}
