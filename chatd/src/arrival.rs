//! An accepted connection on its way to be served: what the accept loops
//! (`server.rs`) know of its client and hand to whoever serves its port
//! (the HTTP port's `http`, or the engine task through `conn`).

use std::net::SocketAddr;

use crate::ip_limit::IpSlot;
use crate::proxy;
use crate::tls::PlainPasswords;

/// An accepted connection on its way to be served, and what is known of
/// its client.
#[derive(Debug)]
pub(crate) struct Arrival {
    /// The client's address: the peer's own, or what a trusted proxy said.
    pub(crate) peer: SocketAddr,
    /// The address the connection reached: which `Host` names chatd.
    pub(crate) local: SocketAddr,
    /// Its share of the per-IP cap; uncounted while a trusted proxy has
    /// yet to say whose connection it is.
    pub(crate) slot: IpSlot,
    /// Whether the client's connection is encrypted, to chatd or to a
    /// trusted proxy in front.
    pub(crate) tls: bool,
    /// The listener's rule for passwords sent in the clear.
    pub(crate) passwords: PlainPasswords,
}

impl Arrival {
    /// What to tell the client instead of taking its password, if anything.
    pub(crate) fn refuse_passwords(&self) -> Option<Box<str>> {
        if self.tls { None } else { self.passwords.refusal_for(self.peer.ip()) }
    }

    /// Takes `client`'s place as the one this connection is for.
    pub(crate) fn forwarded_for(&mut self, client: proxy::Client) {
        self.peer = client.addr;
        self.tls |= client.tls;
    }
}
