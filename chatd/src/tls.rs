//! TLS for chatd's listeners: the certificate (read at start and on
//! SIGHUP), handshakes with a deadline, and which plain connections may
//! still carry passwords.
//!
//! A TLS connection is decrypted at the edge: once its handshake is done,
//! [`pump`] relays between it and one end of a local socket pair, and the
//! other end goes to the same code as a plain connection (text, IRC or
//! HTTP). So the send queues, limits and the engine task need to know
//! nothing of TLS, at the cost of two more descriptors and a copy per TLS
//! client (see docs/OPERATIONS.md).

mod pump;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_lite::{StreamExt, future};
use futures_rustls::TlsAcceptor;
use rustls::ServerConfig;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use smol::{Async, Timer};

use crate::runtime::spawn;
use crate::server::refusals::{self, Refusal};

/// Why a certificate and key could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TlsError {
    /// The chain's file is missing or not PEM.
    #[error("cannot read the certificate chain {}: {source}", path.display())]
    Certs {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: pem::Error,
    },
    /// The chain's file holds no certificate.
    #[error("{} holds no certificate", .0.display())]
    NoCert(PathBuf),
    /// The key's file is missing, not PEM, or holds no key.
    #[error("cannot read the private key {}: {source}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: pem::Error,
    },
    /// rustls refused the pair (a key that does not match, an unsupported
    /// algorithm).
    #[error("the certificate and key cannot serve TLS: {0}")]
    Config(#[from] rustls::Error),
}

/// The certificate every TLS listener serves, replaceable while running.
#[derive(Debug)]
pub(crate) struct Tls {
    cert: PathBuf,
    key: PathBuf,
    /// Read once per accepted connection, so a reload reaches every new
    /// connection and none already open.
    current: Mutex<Arc<ServerConfig>>,
    handshake_timeout: Duration,
}

impl Tls {
    /// Reads the certificate and key; chatd does not start without them.
    pub(crate) fn load(cert: &Path, key: &Path, handshake_timeout: Duration) -> Result<Arc<Self>, TlsError> {
        let config = server_config(cert, key)?;
        Ok(Arc::new(Self {
            cert: cert.to_owned(),
            key: key.to_owned(),
            current: Mutex::new(config),
            handshake_timeout,
        }))
    }

    /// Reads the files again. New connections get the new certificate;
    /// if it cannot be used, the one in use stays and the log says why.
    pub(crate) fn reload(&self) -> Result<(), TlsError> {
        let config = server_config(&self.cert, &self.key)?;
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = config;
        Ok(())
    }

    fn config(&self) -> Arc<ServerConfig> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Completes the handshake of a freshly accepted connection within the
    /// deadline, and returns the plain end of its relay: a stream to hand to
    /// the plain-connection code. `None` if the handshake failed (logged,
    /// rate-limited) or the relay could not be set up.
    pub(crate) async fn accept(&self, stream: Async<TcpStream>, peer: SocketAddr) -> Option<Async<TcpStream>> {
        let acceptor = TlsAcceptor::from(self.config());
        let handshake = async { Some(acceptor.accept(stream).await) };
        let timeout = async {
            Timer::after(self.handshake_timeout).await;
            None
        };
        let tls = match future::or(handshake, timeout).await {
            Some(Ok(tls)) => tls,
            Some(Err(error)) => {
                if refusals::note(Refusal::TlsHandshake) {
                    tracing::warn!(%peer, %error, "TLS handshake failed");
                }
                return None;
            }
            None => {
                if refusals::note(Refusal::TlsHandshake) {
                    let secs = self.handshake_timeout.as_secs_f64();
                    tracing::warn!(%peer, timeout_secs = secs, "TLS handshake timed out");
                }
                return None;
            }
        };
        match pump::relay(tls) {
            Ok(plain) => Some(plain),
            Err(error) => {
                tracing::error!(%peer, %error, "cannot relay a TLS connection");
                None
            }
        }
    }
}

/// Reloads `tls` on every SIGHUP, for as long as chatd runs.
pub(crate) fn reload_on_hangup(tls: Arc<Tls>) -> io::Result<()> {
    use async_signal::{Signal, Signals};
    let mut hangups = Signals::new([Signal::Hup])?;
    spawn(async move {
        while let Some(Ok(_)) = hangups.next().await {
            let tls = tls.clone();
            // Reading files blocks; keep it off the executor's threads.
            match smol::unblock(move || tls.reload()).await {
                Ok(()) => tracing::info!("SIGHUP: TLS certificate reloaded; new connections use it"),
                Err(error) => {
                    tracing::error!(%error, "SIGHUP: TLS certificate NOT reloaded; still serving the previous one");
                }
            }
        }
    })
    .detach();
    Ok(())
}

fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let certs_error = |source| TlsError::Certs { path: cert.to_owned(), source };
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(cert).map_err(certs_error)?.collect::<Result<_, _>>().map_err(certs_error)?;
    if certs.is_empty() {
        return Err(TlsError::NoCert(cert.to_owned()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::Key { path: key.to_owned(), source })?;
    // ring only: no other provider is compiled in, and naming it keeps it so.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(Arc::new(config))
}

/// Whether a plain connection may carry passwords, decided per listener.
#[derive(Debug, Clone, Default)]
pub(crate) enum PlainPasswords {
    /// Yes: no TLS listener is configured, --allow-plain-passwords is set,
    /// or the listener is a TLS one.
    #[default]
    Accepted,
    /// Only from this host; others are told to use the TLS port named.
    LocalOnly(Arc<str>),
}

impl PlainPasswords {
    /// What to tell `peer` instead of accepting its password, if anything.
    pub(crate) fn refusal_for(&self, peer: IpAddr) -> Option<Box<str>> {
        match self {
            PlainPasswords::LocalOnly(hint) if !is_this_host(peer) => Some((**hint).into()),
            _ => None,
        }
    }
}

/// Only 127.0.0.1 and ::1 (and ::1's IPv4-mapped twin) count as this host.
/// The rest of 127.0.0.0/8 is loopback too, but a reverse proxy or a
/// local client uses these two; treating the others as remote keeps the
/// rule one line long and lets tests play a remote client from 127.0.0.2.
fn is_this_host(peer: IpAddr) -> bool {
    match peer {
        IpAddr::V4(v4) => v4 == Ipv4Addr::LOCALHOST,
        IpAddr::V6(v6) => v6 == Ipv6Addr::LOCALHOST || v6.to_ipv4_mapped() == Some(Ipv4Addr::LOCALHOST),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_127_0_0_1_and_ipv6_loopback_are_this_host() {
        let rule = PlainPasswords::LocalOnly("port 7879".into());
        for local in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(rule.refusal_for(local.parse().unwrap()), None, "{local}");
        }
        for remote in ["127.0.0.2", "192.0.2.1", "::ffff:192.0.2.1", "2001:db8::1"] {
            assert_eq!(rule.refusal_for(remote.parse().unwrap()).as_deref(), Some("port 7879"), "{remote}");
        }
        assert_eq!(PlainPasswords::Accepted.refusal_for("192.0.2.1".parse().unwrap()), None);
    }

    #[test]
    fn unreadable_files_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let err = server_config(&missing, &missing).unwrap_err();
        assert!(matches!(err, TlsError::Certs { .. }), "{err}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = server_config(&empty, &empty).unwrap_err();
        assert!(matches!(err, TlsError::NoCert(_)), "{err}");
    }
}
