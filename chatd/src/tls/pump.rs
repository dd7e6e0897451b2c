//! The relay between a TLS connection and the plain socket the rest of
//! chatd serves.

use std::io;
use std::net::{Shutdown, TcpStream};

use futures_lite::future;
use futures_lite::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use futures_rustls::server::TlsStream;
use smol::Async;

use crate::runtime::spawn;

/// Bytes moved per read; one buffer each way per TLS connection.
const CHUNK: usize = 16 * 1024;

/// Starts relaying `tls` and returns the other end: plain bytes, as a
/// [`TcpStream`] because that is what every listener's code serves. It is
/// a Unix socket pair underneath; nothing calls TCP-only options on it
/// (the TLS connection's own socket has them).
#[cfg(unix)]
pub(super) fn relay(tls: TlsStream<Async<TcpStream>>) -> io::Result<Async<TcpStream>> {
    use std::os::fd::OwnedFd;
    use std::os::unix::net::UnixStream;
    let (served, ours) = UnixStream::pair()?;
    let served = Async::new(TcpStream::from(OwnedFd::from(served)))?;
    let ours = Async::new(ours)?;
    spawn(pump(tls, ours)).detach();
    Ok(served)
}

/// Without Unix socket pairs there is no relay; chatd refuses to start
/// with a TLS listener (see `server::check_tls_support`).
#[cfg(not(unix))]
pub(super) fn relay(_tls: TlsStream<Async<TcpStream>>) -> io::Result<Async<TcpStream>> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "TLS listeners need a Unix system"))
}

/// Runs until the served side is done with the connection: what the client
/// sends goes in (its end of file ends our writing side, as a plain
/// client's would); what the served side writes goes out, and when it
/// closes or cuts its end, the TLS connection is closed (close_notify)
/// and dropped, whatever the client was doing.
#[cfg(unix)]
async fn pump(tls: TlsStream<Async<TcpStream>>, ours: Async<std::os::unix::net::UnixStream>) {
    let (from_client, mut to_client) = futures_lite::io::split(tls);
    let inward = async {
        let _ = copy(from_client, &ours).await;
        let _ = ours.get_ref().shutdown(Shutdown::Write);
        // The answers may still be on their way out.
        future::pending::<()>().await;
    };
    let outward = async {
        let _ = copy(&ours, &mut to_client).await;
        let _ = to_client.close().await;
    };
    future::or(inward, outward).await;
}

/// Copies until end of file, flushing after every write: TLS may hold
/// encrypted bytes back until flushed, and nothing else would flush them
/// while this waits to read.
async fn copy(mut from: impl AsyncRead + Unpin, mut to: impl AsyncWrite + Unpin) -> io::Result<()> {
    let mut buf = vec![0; CHUNK];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        to.write_all(&buf[..n]).await?;
        to.flush().await?;
    }
}
