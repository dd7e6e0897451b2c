//! A blocking TLS client for chatd's TLS listeners: the same line-oriented
//! [`Client`], over rustls.

use std::io::{self, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use crate::{Client, READ_TIMEOUT, Server, tcp_from};

/// The name the tests' certificates are issued for.
pub const TLS_NAME: &str = "localhost";

/// One TLS session shared by a client's reading and writing halves. Tests
/// read and write from one thread, so the lock is never contended.
#[derive(Clone)]
struct Shared(Arc<Mutex<StreamOwned<ClientConnection, TcpStream>>>);

impl Read for Shared {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).read(buf)
    }
}

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).flush()
    }
}

impl Client {
    /// Connects to `addr` over TLS from `source` (or any local address),
    /// trusting only the certificate authority `ca`, and completes the
    /// handshake: `Err` if it fails, such as for a certificate `ca` did not
    /// issue.
    pub fn try_connect_tls(
        addr: SocketAddr,
        ca: &CertificateDer<'static>,
        source: Option<IpAddr>,
    ) -> io::Result<Client> {
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone()).map_err(io::Error::other)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from(TLS_NAME).expect("a valid name");
        let mut session = ClientConnection::new(Arc::new(config), name).map_err(io::Error::other)?;
        let mut socket = tcp_from(addr, source);
        socket.set_read_timeout(Some(READ_TIMEOUT))?;
        while session.is_handshaking() {
            session.complete_io(&mut socket)?;
        }
        let raw = socket.try_clone()?;
        let shared = Shared(Arc::new(Mutex::new(StreamOwned::new(session, socket))));
        Ok(Client { reader: BufReader::new(Box::new(shared.clone())), writer: Box::new(shared), raw })
    }

    /// Like [`try_connect_tls`](Self::try_connect_tls), failing the test
    /// if the handshake fails.
    pub fn connect_tls(addr: SocketAddr, ca: &CertificateDer<'static>, source: Option<IpAddr>) -> Client {
        Client::try_connect_tls(addr, ca, source).unwrap_or_else(|e| panic!("TLS connection to {addr}: {e}"))
    }
}

impl Server {
    /// Where chatd serves text and JSON over TLS (`--tls-listen`).
    ///
    /// # Panics
    ///
    /// If it was not started with that flag.
    pub fn tls_addr(&self) -> SocketAddr {
        self.tls_addrs[0].expect("chatd serves TLS")
    }

    /// Where chatd serves IRC over TLS (`--irc-tls-listen`).
    ///
    /// # Panics
    ///
    /// If it was not started with that flag.
    pub fn irc_tls_addr(&self) -> SocketAddr {
        self.tls_addrs[1].expect("chatd serves IRC over TLS")
    }

    /// Where chatd serves HTTPS (`--https-listen`).
    ///
    /// # Panics
    ///
    /// If it was not started with that flag.
    pub fn https_addr(&self) -> SocketAddr {
        self.tls_addrs[2].expect("chatd serves HTTPS")
    }

    /// Sends SIGHUP, which rereads the TLS certificate.
    #[cfg(unix)]
    pub fn hangup(&self) {
        self.signal(rustix::process::Signal::HUP);
    }
}
