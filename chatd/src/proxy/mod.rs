//! Clients behind a reverse proxy or load balancer.
//!
//! Behind a proxy every connection comes from the proxy's own address, so
//! every per-source rule (the per-IP cap, failed logins, registrations and
//! rooms per address, which hosts may send passwords in the clear) would
//! treat all clients as one. `--trusted-proxy CIDR` names the proxies; from
//! those peers only, chatd takes the client's address (and whether its
//! connection was encrypted) from what the proxy says:
//!
//! * on the text and IRC ports, the PROXY protocol header (v1 or v2) that
//!   must begin the connection ([`header`]);
//! * on the HTTP port, `X-Forwarded-For` or `Forwarded`, and
//!   `X-Forwarded-Proto` ([`forwarded`]).
//!
//! Anyone else could send the same words, so from any other peer they are
//! ignored (and the log says so, once).

pub(crate) mod forwarded;
pub(crate) mod header;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A block of addresses, `10.0.0.0/8` or `2001:db8::/32`; a bare address
/// is a block of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` is in the block. An IPv4-mapped IPv6 address (a dual-stack
    /// listener's view of an IPv4 peer) counts as its IPv4 address.
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.net.is_ipv4() && bits(ip) & !self.host_mask() == bits(self.net)
    }

    /// The bits of an address past the prefix.
    fn host_mask(&self) -> u128 {
        let width = if self.net.is_ipv4() { 32 } else { 128 };
        match width - u32::from(self.prefix) {
            0 => 0,
            host => u128::MAX >> (128 - host),
        }
    }
}

/// An address as a number.
fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4).into(),
        IpAddr::V6(v6) => v6.into(),
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{text:?} is not an address or a block like 10.0.0.0/8 or fd00::/8");
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let net: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let width: u8 = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.trim().parse::<u8>().ok().filter(|p| *p <= width).ok_or_else(bad)?,
            None => width,
        };
        let cidr = Cidr { net, prefix };
        // 10.0.0.1/8 is more likely a typo than a wish for 10.0.0.0/8.
        if bits(net) & cidr.host_mask() != 0 {
            return Err(format!("{text:?} has bits set past its /{prefix}; write the block's first address"));
        }
        Ok(cidr)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.net, self.prefix)
    }
}

/// The peers whose word on the client's address chatd takes
/// (`--trusted-proxy`); none by default.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedProxies(Arc<[Cidr]>);

impl TrustedProxies {
    pub(crate) fn new(blocks: &[Cidr]) -> Self {
        Self(blocks.into())
    }

    /// Whether `ip` is a trusted proxy.
    pub(crate) fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|block| block.contains(ip))
    }
}

/// What a trusted proxy says about the client it forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Client {
    /// The client's address; port 0 when the proxy did not say.
    pub(crate) addr: SocketAddr,
    /// Whether the client's own connection to the proxy was TLS.
    pub(crate) tls: bool,
}

/// Logs, once per run, that a peer which is not a trusted proxy sent what
/// only a trusted one is believed about (`what`): a sign that a proxy in
/// front is not named with `--trusted-proxy`, or that someone tried.
pub(crate) fn ignored_once(peer: SocketAddr, what: &str) {
    static LOGGED: AtomicBool = AtomicBool::new(false);
    if !LOGGED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            %peer,
            "ignored {what} from a peer that is not a --trusted-proxy; its own address counts (logged once)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(text: &str) -> Cidr {
        text.parse().unwrap()
    }

    #[test]
    fn blocks_contain_their_addresses_and_no_others() {
        let private = cidr("10.0.0.0/8");
        assert!(private.contains("10.1.2.3".parse().unwrap()));
        assert!(private.contains("::ffff:10.1.2.3".parse().unwrap()), "a dual-stack listener's view");
        assert!(!private.contains("11.0.0.1".parse().unwrap()));
        assert!(!private.contains("fd00::1".parse().unwrap()));
        let one = cidr("127.0.0.1");
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let v6 = cidr("2001:db8::/32");
        assert!(v6.contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        assert!(cidr("0.0.0.0/0").contains("192.0.2.1".parse().unwrap()));
        assert!(cidr("::/0").contains("2001:db8::1".parse().unwrap()));
        assert_eq!(cidr("fd00::/8").to_string(), "fd00::/8");
    }

    #[test]
    fn bad_blocks_are_refused_with_the_reason() {
        for bad in ["", "10.0.0.0/33", "::/129", "example.com", "10.0.0.0/x", "10.0.0/8"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
        let typo = "10.0.0.1/8".parse::<Cidr>().unwrap_err();
        assert!(typo.contains("past its /8"), "{typo}");
    }

    #[test]
    fn nobody_is_trusted_by_default() {
        let none = TrustedProxies::default();
        assert!(!none.trusts("127.0.0.1".parse().unwrap()));
        let some = TrustedProxies::new(&[cidr("127.0.0.1"), cidr("10.0.0.0/8")]);
        assert!(some.trusts("127.0.0.1".parse().unwrap()));
        assert!(some.trusts("10.9.9.9".parse().unwrap()));
        assert!(!some.trusts("127.0.0.2".parse().unwrap()));
    }
}
