//! Source addresses: one address reaches a server port from at most one
//! ephemeral port range (about 28,000 ports), so large runs spread their
//! connections over many loopback addresses (all of 127.0.0.0/8 is this
//! machine).
//!
//! Each connection binds its source address with port 0 before connecting.
//! Linux's `IP_BIND_ADDRESS_NO_PORT` would defer the port choice to
//! `connect`, but neither socket2 0.6 nor rustix offers it without unsafe
//! code; a bind to port 0 picks a port free on that address only, so each
//! address still has the whole ephemeral range to itself, and the default
//! keeps well under it.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};

use smol::Async;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// Connections per source address when `--sources` is not given: well
/// under the default ephemeral range of 28,232 ports.
pub const PER_SOURCE: usize = 20_000;

/// Host numbers 1 to 254 in each /24: never `.0` or `.255`.
const HOSTS: usize = 254;

/// The most source addresses there are: 127.0.0.0/8 without `.0` and
/// `.255` hosts.
pub const MAX: usize = HOSTS * 256 * 256;

/// Sources to use for `clients` connections when `--sources` is not given.
pub fn default_for(clients: usize) -> usize {
    clients.div_ceil(PER_SOURCE).clamp(1, MAX)
}

/// Source address number `k` (below [`MAX`]): `127.0.0.1`, `127.0.0.2`, …
/// `127.0.0.254`, `127.0.1.1`, … `127.255.255.254`.
pub fn address(k: usize) -> Ipv4Addr {
    let host = (k % HOSTS) as u8 + 1;
    let block = k / HOSTS;
    Ipv4Addr::new(127, (block / 256 % 256) as u8, (block % 256) as u8, host)
}

/// The source address client `i` binds with `sources` in use: `None` for
/// one source (the kernel picks it, so IPv6 targets work too), else
/// address `i % sources`, so that every address gets an even share.
pub fn of_client(i: usize, sources: usize) -> Option<Ipv4Addr> {
    (sources > 1).then(|| address(i % sources))
}

/// Opens a TCP connection to `addr`, from `source` if given.
pub async fn connect(addr: SocketAddr, source: Option<Ipv4Addr>) -> io::Result<Async<TcpStream>> {
    let Some(source) = source else {
        return Async::<TcpStream>::connect(addr).await;
    };
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.bind(&SockAddr::from(SocketAddrV4::new(source, 0)))?;
    socket.set_nonblocking(true)?;
    match socket.connect(&SockAddr::from(addr)) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::INPROGRESS.raw_os_error()) => {}
        Err(e) => return Err(e),
    }
    let stream = Async::new(TcpStream::from(socket))?;
    stream.writable().await?;
    match stream.get_ref().take_error()? {
        Some(e) => Err(e),
        None => Ok(stream),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn addresses_are_distinct_loopback_hosts() {
        let probes = (0..200_000).chain(MAX - 70_000..MAX);
        let mut seen = HashSet::new();
        for k in probes {
            let a = address(k);
            let [net, _, _, host] = a.octets();
            assert_eq!(net, 127, "{a}");
            assert!(a.is_loopback());
            assert!(host != 0 && host != 255, "{a}");
            assert!(seen.insert(a), "{k} repeats {a}");
        }
        assert_eq!(address(0), Ipv4Addr::new(127, 0, 0, 1));
        assert_eq!(address(254), Ipv4Addr::new(127, 0, 1, 1));
        assert_eq!(address(MAX - 1), Ipv4Addr::new(127, 255, 255, 254));
    }

    #[test]
    fn clients_share_sources_evenly() {
        assert_eq!(of_client(5, 1), None);
        let mut per: std::collections::HashMap<Ipv4Addr, usize> = Default::default();
        for i in 0..1000 {
            *per.entry(of_client(i, 4).expect("a source")).or_default() += 1;
        }
        assert_eq!(per.len(), 4);
        assert!(per.values().all(|&n| n == 250));
        assert_eq!(default_for(1), 1);
        assert_eq!(default_for(20_000), 1);
        assert_eq!(default_for(20_001), 2);
        assert_eq!(default_for(1_000_000), 50);
    }

    #[test]
    fn connects_from_the_chosen_source() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stream = smol::block_on(connect(addr, Some(address(300)))).expect("connect");
        let (_, peer) = listener.accept().expect("accept");
        assert_eq!(peer.ip(), std::net::IpAddr::V4(Ipv4Addr::new(127, 0, 1, 47)));
        assert_eq!(stream.get_ref().local_addr().expect("local").ip(), peer.ip());
    }
}
