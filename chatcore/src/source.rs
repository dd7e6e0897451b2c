//! Where a connection comes from, as every per-source limit counts it: the
//! engine's login and registration counters, and an embedder's per-address
//! connection cap, share this one rule.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A connection's source as limits count it: an IPv4 address, or the /64
/// prefix of an IPv6 address (one host usually holds a whole /64, so
/// counting single IPv6 addresses would let it take a limit's worth per
/// address). An IPv4-mapped IPv6 address counts as its IPv4 address.
///
/// ```
/// use chatcore::SourceKey;
/// let a = SourceKey::of("2001:db8::1".parse().unwrap());
/// let b = SourceKey::of("2001:db8::ffff:2".parse().unwrap());
/// assert_eq!(a, b); // the same /64
/// assert_eq!(SourceKey::of("::ffff:10.0.0.1".parse().unwrap()), SourceKey::of("10.0.0.1".parse().unwrap()));
/// assert_eq!(a.to_string(), "2001:db8::/64");
/// assert_eq!("2001:db8::/64".parse(), Ok(a));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceKey(Prefix);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Prefix {
    V4(u32),
    /// The upper 64 bits.
    V6(u64),
}

impl SourceKey {
    /// Connections whose source the embedder did not give count together
    /// as this one.
    pub(crate) const UNKNOWN: SourceKey = SourceKey(Prefix::V4(0));

    /// The source `ip` counts as.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => SourceKey(Prefix::V4(v4.into())),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => SourceKey(Prefix::V4(v4.into())),
                None => SourceKey(Prefix::V6((u128::from(v6) >> 64) as u64)),
            },
        }
    }
}

impl SourceKey {
    /// The source as bytes that tell every source apart (IPv4 and IPv6
    /// prefixes included), for hashing.
    pub(crate) fn to_bytes(self) -> [u8; 9] {
        let mut bytes = [0; 9];
        match self.0 {
            Prefix::V4(v4) => bytes[5..].copy_from_slice(&v4.to_be_bytes()),
            Prefix::V6(prefix) => {
                bytes[0] = 6;
                bytes[1..].copy_from_slice(&prefix.to_be_bytes());
            }
        }
        bytes
    }
}

impl fmt::Display for SourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Prefix::V4(v4) => write!(f, "{}", Ipv4Addr::from(v4)),
            Prefix::V6(prefix) => write!(f, "{}/64", Ipv6Addr::from(u128::from(prefix) << 64)),
        }
    }
}

/// The text form is not a source: neither an IPv4 address nor an IPv6
/// `/64` prefix as [`SourceKey`]'s `Display` writes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a source address: an IPv4 address or an IPv6 /64 prefix")]
pub struct ParseSourceError;

impl FromStr for SourceKey {
    type Err = ParseSourceError;

    /// Reads back what `Display` wrote (`192.0.2.1`, `2001:db8::/64`), so
    /// an embedder can store sources as text.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(prefix) = text.strip_suffix("/64") {
            let v6: Ipv6Addr = prefix.parse().map_err(|_| ParseSourceError)?;
            return Ok(SourceKey(Prefix::V6((u128::from(v6) >> 64) as u64)));
        }
        let v4: Ipv4Addr = text.parse().map_err(|_| ParseSourceError)?;
        Ok(SourceKey(Prefix::V4(v4.into())))
    }
}
