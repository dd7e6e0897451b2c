//! The host part of a user's mask (`nick!user@host`), as IRC prefixes,
//! `WHO` and `WHOIS` show it and bans match it: by default a cloak, a
//! keyed hash of where the user connects from, so that a ban on a host
//! holds across nicknames without anyone learning the address.
//!
//! The engine has no randomness of its own: the key comes from the
//! embedder ([`Hosts::Cloaked`]), which must keep it secret and, for bans
//! to mean the same host across restarts, keep it.

use std::fmt;

use blake2::Blake2sMac256;
use blake2::digest::{KeyInit, Mac};

use crate::source::SourceKey;

pub(crate) use crate::names::HIDDEN_HOST;

/// How users' hosts are shown and matched; see [`Config::hosts`](crate::Config::hosts).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Hosts {
    /// Every host is `chatd`: nothing of where anyone connects from shows,
    /// and bans hold nicknames and accounts only. The default, since the
    /// engine has no key of its own.
    #[default]
    Hidden,
    /// A keyed hash of the source (an IPv4 address, or an IPv6 address's
    /// /64, as [`SourceKey`] counts it), such as `3f09c1a27b44d0e8.cloak`:
    /// the same source always has the same host, and without the key it
    /// cannot be told from any other.
    Cloaked(CloakKey),
    /// The source itself (`192.0.2.7`, `2001:db8::/64`): for a server whose
    /// operators want the addresses, with its users' consent.
    Addresses,
}

/// The secret a cloak is computed with: 32 bytes the embedder makes
/// random once and keeps. Its `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct CloakKey([u8; 32]);

impl CloakKey {
    /// A key from its bytes.
    #[must_use]
    pub fn new(bytes: [u8; 32]) -> Self {
        CloakKey(bytes)
    }
}

impl fmt::Debug for CloakKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CloakKey(..)")
    }
}

impl Hosts {
    /// The host a connection from `source` has.
    pub(crate) fn host_of(&self, source: Option<SourceKey>) -> Box<str> {
        match (self, source) {
            (Hosts::Cloaked(key), Some(source)) => {
                // BLAKE2s keyed with the secret is a MAC: a PRF of the source.
                let mut mac = Blake2sMac256::new_from_slice(&key.0).expect("a 32-byte key fits BLAKE2s");
                mac.update(&source.to_bytes());
                let digest = mac.finalize().into_bytes();
                let mut half = [0; 8];
                half.copy_from_slice(&digest[..8]);
                format!("{:016x}.cloak", u64::from_be_bytes(half)).into()
            }
            (Hosts::Addresses, Some(source)) => {
                let text = source.to_string();
                // A host that starts with `:` would read as a trailing
                // parameter in WHO's reply; IRC servers write `0::1`.
                if text.starts_with(':') { format!("0{text}").into() } else { text.into() }
            }
            _ => HIDDEN_HOST.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(ip: &str) -> Option<SourceKey> {
        Some(SourceKey::of(ip.parse().unwrap()))
    }

    #[test]
    fn a_cloak_is_the_same_per_source_and_key_and_shows_no_address() {
        let hosts = Hosts::Cloaked(CloakKey::new([7; 32]));
        let a = hosts.host_of(source("192.0.2.7"));
        assert_eq!(a, hosts.host_of(source("192.0.2.7")));
        assert_ne!(a, hosts.host_of(source("192.0.2.8")));
        assert!(a.ends_with(".cloak") && !a.contains("192"), "{a}");
        // One IPv6 /64 is one host.
        assert_eq!(hosts.host_of(source("2001:db8::1")), hosts.host_of(source("2001:db8::ffff:2")));
        // Another key, another cloak.
        assert_ne!(a, Hosts::Cloaked(CloakKey::new([8; 32])).host_of(source("192.0.2.7")));
        assert_eq!(&*hosts.host_of(None), HIDDEN_HOST);
        assert_eq!(format!("{:?}", CloakKey::new([7; 32])), "CloakKey(..)");
    }

    #[test]
    fn addresses_and_hidden_hosts() {
        assert_eq!(&*Hosts::Addresses.host_of(source("192.0.2.7")), "192.0.2.7");
        assert_eq!(&*Hosts::Addresses.host_of(source("::1")), "0::/64");
        assert_eq!(&*Hosts::Hidden.host_of(source("192.0.2.7")), HIDDEN_HOST);
    }
}
