//! The per-IP connection cap, and what a connection over it is told. One
//! machine should not be able to take every client slot; the count is
//! touched only when a connection opens or closes, never on the message
//! path.
//!
//! Addresses are counted as [`SourceKey`]s, the engine's own rule for
//! per-source limits: an IPv6 host usually holds a whole /64, so IPv6
//! addresses count by their /64 prefix, and an IPv4-mapped IPv6 address
//! counts as its IPv4 address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use chatcore::SourceKey;

use crate::server::refusals::{self, Refusal};

/// Counts open connections per IP address.
#[derive(Debug, Clone)]
pub(crate) struct IpLimiter {
    /// 0: no cap.
    max: usize,
    counts: Arc<Mutex<HashMap<SourceKey, usize>>>,
}

/// One open connection's share of its address's count, released on drop.
#[derive(Debug)]
pub(crate) struct IpSlot {
    ip: SourceKey,
    limiter: Option<IpLimiter>,
}

impl IpLimiter {
    pub(crate) fn new(max: usize) -> Self {
        Self { max, counts: Arc::default() }
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// A slot for one more connection from `ip`, unless it already holds `max`.
    pub(crate) fn try_acquire(&self, ip: IpAddr) -> Option<IpSlot> {
        let ip = SourceKey::of(ip);
        if self.max == 0 {
            return Some(IpSlot { ip, limiter: None });
        }
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(ip).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(IpSlot { ip, limiter: Some(self.clone()) })
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

impl IpSlot {
    /// A slot that counts against nothing: for a trusted proxy's connection
    /// until it says whose it is.
    pub(crate) fn uncounted(ip: IpAddr) -> IpSlot {
        IpSlot { ip: SourceKey::of(ip), limiter: None }
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let Some(limiter) = &self.limiter else { return };
        let mut counts = limiter.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.ip) {
            *count -= 1;
            // Forget idle addresses so the map holds only those connected now.
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// Logs a connection refused for the per-IP cap (through the refusal
/// limiter), and returns what to tell it.
pub(crate) fn over_the_cap(peer: SocketAddr, max: usize) -> String {
    if refusals::note(Refusal::PerIpCap) {
        tracing::warn!(%peer, max_per_ip = max, "refused: too many connections from this address");
    }
    format!("too many connections from your address (at most {max}); try again later")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_each_address_and_frees_on_drop() {
        let limiter = IpLimiter::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = limiter.try_acquire(a).unwrap();
        let _second = limiter.try_acquire(a).unwrap();
        assert!(limiter.try_acquire(a).is_none());
        let _other = limiter.try_acquire(b).unwrap();
        drop(first);
        let _third = limiter.try_acquire(a).unwrap();
        assert!(limiter.try_acquire(a).is_none());
    }

    #[test]
    fn forgets_addresses_with_no_connection() {
        let limiter = IpLimiter::new(1);
        let slot = limiter.try_acquire("::1".parse().unwrap()).unwrap();
        assert_eq!(limiter.tracked(), 1);
        drop(slot);
        assert_eq!(limiter.tracked(), 0);
    }

    #[test]
    fn ipv6_counts_by_slash_64_and_mapped_ipv4_as_ipv4() {
        let limiter = IpLimiter::new(1);
        let _first = limiter.try_acquire("2001:db8:1:2::1".parse().unwrap()).unwrap();
        assert!(limiter.try_acquire("2001:db8:1:2:ffff::9".parse().unwrap()).is_none());
        let _other_net = limiter.try_acquire("2001:db8:1:3::1".parse().unwrap()).unwrap();
        let _v4 = limiter.try_acquire("192.0.2.7".parse().unwrap()).unwrap();
        assert!(limiter.try_acquire("::ffff:192.0.2.7".parse().unwrap()).is_none());
    }

    #[test]
    fn zero_means_no_cap() {
        let limiter = IpLimiter::new(0);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let slots: Vec<_> = (0..1000).map(|_| limiter.try_acquire(ip).unwrap()).collect();
        assert_eq!(slots.len(), 1000);
        assert_eq!(limiter.tracked(), 0);
    }
}
