//! What a port does with a connection it accepted: the per-address cap,
//! a trusted proxy's PROXY header, a TLS handshake, then the port's
//! protocol; and what a connection refused at the door is told.

use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;

use async_channel::Sender;
use chatcore::Codec;
use smol::Async;

use super::{Door, Port, refusals};
use crate::arrival::Arrival;
use crate::conn::{self, Inbound, Incoming};
use crate::http;
use crate::ip_limit::{self, IpLimiter, IpSlot};
use crate::newcomers::Newcomer;
use crate::open_files::Loan;
use crate::proxy;
use crate::runtime::spawn;
use crate::tls::{PlainPasswords, Tls};
use refusals::Refusal;

/// What one port does with a connection it accepted.
pub(super) struct Entrance {
    pub(super) port: Port,
    pub(super) tls: Option<Arc<Tls>>,
    pub(super) passwords: PlainPasswords,
    pub(super) door: Door,
    pub(super) inbound: Sender<Inbound>,
}

impl Entrance {
    /// Tells a connection let in on the spare descriptor that the server
    /// has no room, and gives the descriptor back.
    pub(super) fn answer_at_limit(&self, loan: Loan, stream: TcpStream) {
        let why = "the server is at its limit of open connections; try again later";
        match &self.port {
            // A health check or a scrape is answered from the
            // reserve; anything else is told why.
            Port::Http(http) | Port::Metrics(http) if self.tls.is_none() => {
                let (http, metrics) = (http.clone(), matches!(self.port, Port::Metrics(_)));
                spawn(async move {
                    if let Some(stream) = http::answer_at_limit(stream, &http, metrics, why).await {
                        loan.repay(stream);
                    }
                })
                .detach();
            }
            _ => {
                tell_and_close(&stream, &self.port, self.tls.is_some(), why);
                loan.repay(stream);
            }
        }
    }

    /// Serves one accepted connection: the per-address cap, a PROXY
    /// header, a TLS handshake, then its port's protocol. `Err`: the
    /// engine task has stopped.
    pub(super) async fn take_in(&self, stream: Async<TcpStream>, peer: SocketAddr) -> Result<(), ()> {
        let Door { limiter, proxies, newcomers, .. } = &self.door;
        let port = &self.port;
        // A trusted proxy's connections count against their clients'
        // addresses, once the proxy has said whose they are.
        let proxied = proxies.trusts(peer.ip());
        let slot = if proxied {
            IpSlot::uncounted(peer.ip())
        } else {
            let Some(slot) = limiter.try_acquire(peer.ip()) else {
                refuse(stream.get_ref(), peer, limiter.max(), port, self.tls.is_some());
                return Ok(());
            };
            slot
        };
        conn::configure(stream.get_ref());
        // For a wildcard bind, the machine's own address the client used.
        let Ok(local) = stream.get_ref().local_addr() else { return Ok(()) };
        let passwords = self.passwords.clone();
        let arrival = Arrival { peer, local, slot, tls: self.tls.is_some(), passwords };
        // Not a client until it is one: a head, a handshake or a PROXY
        // header still to read counts against the newcomers' cap.
        let newcomer = newcomers.admit().await;
        // A PROXY header comes before anything else, a TLS handshake included.
        let proxy_header = proxied && matches!(port, Port::Chat(_));
        if self.tls.is_none() && !proxy_header {
            return serve(stream, arrival, newcomer, port, &self.inbound).await;
        }
        // The header and the handshake are read on a task of their own, so
        // a slow one delays nobody.
        let (tls, port, inbound, limiter) = (self.tls.clone(), port.clone(), self.inbound.clone(), limiter.clone());
        spawn(async move {
            let mut arrival = arrival;
            let ready = newcomer.unless_dropped(async {
                if proxy_header {
                    arrival.slot = proxied_client(&stream, &mut arrival, &limiter, &port, tls.is_some()).await?;
                }
                match tls {
                    Some(tls) => tls.accept(stream, arrival.peer).await,
                    None => Some(stream),
                }
            });
            if let Some(Some(stream)) = ready.await {
                let _ = serve(stream, arrival, newcomer, &port, &inbound).await;
            }
        })
        .detach();
        Ok(())
    }
}

/// Reads the PROXY header a trusted proxy's connection begins with, and
/// takes a slot of the per-IP cap for the client it names. `None`: the
/// connection was refused (told why, if it can read a plain line).
async fn proxied_client(
    stream: &Async<TcpStream>,
    arrival: &mut Arrival,
    limiter: &IpLimiter,
    port: &Port,
    tls: bool,
) -> Option<IpSlot> {
    match proxy::header::read(stream).await {
        Ok(Some(client)) => arrival.forwarded_for(client),
        // The proxy speaks for itself (a health check).
        Ok(None) => {}
        Err(error) => {
            if refusals::note(Refusal::ProxyHeader) {
                tracing::warn!(peer = %arrival.peer, %error, "refused a connection from a trusted proxy");
            }
            tell_and_close(stream.get_ref(), port, tls, &error.to_string());
            return None;
        }
    }
    let slot = limiter.try_acquire(arrival.peer.ip());
    if slot.is_none() {
        refuse(stream.get_ref(), arrival.peer, limiter.max(), port, tls);
    }
    slot
}

/// Hands an accepted (and, on a TLS port, decrypted) connection on. `Err`:
/// the engine task has stopped.
async fn serve(
    stream: Async<TcpStream>,
    arrival: Arrival,
    newcomer: Newcomer,
    port: &Port,
    inbound: &Sender<Inbound>,
) -> Result<(), ()> {
    match port {
        Port::Chat(codec) => {
            let refuse_passwords = arrival.refuse_passwords();
            let mut incoming = Incoming::tcp(stream, arrival.peer, arrival.slot, *codec);
            incoming.refuse_passwords = refuse_passwords;
            // A text or JSON client counts against --max-clients at once;
            // an IRC client is not one until it registers.
            incoming.newcomer = (*codec == Codec::Irc).then_some(newcomer);
            inbound.send(Inbound::Connect(incoming)).await.map_err(drop)
        }
        // Its request is read on a task of its own, so a slow one
        // delays nobody; only an upgraded one reaches the engine task.
        Port::Http(http) => {
            let http = http.clone();
            spawn(async move {
                newcomer.unless_dropped(http::serve(stream, arrival, http)).await;
            })
            .detach();
            Ok(())
        }
        Port::Metrics(http) => {
            let http = http.clone();
            spawn(async move {
                newcomer.unless_dropped(http::serve_metrics(stream, arrival, &http)).await;
            })
            .detach();
            Ok(())
        }
    }
}

/// Tells a connection over the per-IP cap why, and closes it.
fn refuse(stream: &TcpStream, peer: SocketAddr, max: usize, port: &Port, tls: bool) {
    tell_and_close(stream, port, tls, &ip_limit::over_the_cap(peer, max));
}

/// Tells a connection refused at the door why, in its port's protocol, and
/// closes it. The socket is fresh, so the one line fits its send buffer
/// and nothing need wait. A TLS client could not read a plain line: it is
/// only closed.
fn tell_and_close(stream: &TcpStream, port: &Port, tls: bool, why: &str) {
    if tls {
        return;
    }
    let answer = match port {
        Port::Chat(Codec::Irc) => format!("ERROR :Closing link: {why}\r\n").into_bytes(),
        Port::Chat(_) => format!("* bye: {why}\n").into_bytes(),
        Port::Http(_) | Port::Metrics(_) => http::too_many_connections(why),
    };
    let mut stream = stream;
    let _ = stream.write_all(&answer);
    let _ = stream.shutdown(Shutdown::Write);
}
