//! The HTTP port: the bundled chat page, a health check, and WebSocket
//! clients, which speak the JSON Lines protocol one object per text frame.
//!
//! Each accepted connection gets a task that reads one request head
//! ([`request`]: at most 8 KiB, within 10 s), answers it and closes, or,
//! for `GET /ws`, checks the upgrade and the page's origin ([`upgrade`]),
//! accepts it, and hands the connection to the engine task as a JSON
//! client (`conn::ws`). The connection holds its per-IP slot from accept
//! to close, whatever it turns out to be, so page loads, WebSockets, TCP
//! and IRC clients all count against the same `--max-per-ip`.
//!
//! Before routing, a request from a `--trusted-proxy` is attributed to the
//! client the proxy names (and takes that client's per-IP slot), and one
//! whose `Host` is not chatd's is refused ([`host`]).
//!
//! | request | answer |
//! | --- | --- |
//! | `Host` not chatd's address, `localhost` or a `--server-host` | `421` |
//! | `GET /`, `/app.js`, `/style.css` | the page's files ([`page`]) |
//! | `GET /codes.js` | chatcore's error and bye codes for the page, written by chatd ([`codes`]) |
//! | `GET /healthz` | `200 ok`; a cluster node that cannot reach Redis: `503 redis unreachable` |
//! | `GET /ws` | `101`, then WebSocket; `400`/`426` if the upgrade is malformed |
//! | any other `GET` | `404` |
//! | any other method | `405` |
//! | a malformed head | `400`; too large `431`; too slow `408` |
//!
//! Metrics have a port of their own ([`metrics_port`]): `GET /metrics`
//! ([`crate::metrics`]; `503` if the engine does not answer in time) and
//! `/healthz`, nothing else.

mod codes;
mod host;
mod metrics_port;
mod page;
mod request;
mod upgrade;

use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_channel::Sender;
use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::protocol::Role;
use futures_lite::{AsyncReadExt, AsyncWriteExt, StreamExt, future};
use smol::{Async, Timer};

use crate::arrival::Arrival;
use crate::conn::Inbound;
use crate::conn::ws::{self, CloseReason};
use crate::ip_limit::{self, IpLimiter};
use crate::metrics::{self, Scrape};
use crate::proxy::{self, TrustedProxies, forwarded};
use crate::server::refusals::{self, Refusal};
pub(crate) use host::ServerHosts;
pub(crate) use metrics_port::{answer_at_limit, serve_metrics};
use page::{Response, Status};
use request::HeadError;
pub(crate) use upgrade::Origins;

/// Time to write an answer once the request is read; a peer that does
/// not take a small answer in that time is not worth more.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// After answering, what the peer still sends is read and dropped for at
/// most this long (and this many bytes) before closing: closing a socket
/// with unread input sends a reset, which can destroy the answer before
/// the peer reads it.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 64 * 1024;

/// How long a scrape waits for the engine task's figures. A busy engine
/// task answers between batches, within milliseconds; one that takes
/// longer is stuck, which is worth a failed scrape, not a hung one.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(5);

/// What every HTTP connection's task needs.
#[derive(Debug)]
pub(crate) struct Http {
    /// Which pages may open a WebSocket.
    pub(crate) origins: Origins,
    /// Which `Host` names are chatd's.
    pub(crate) hosts: ServerHosts,
    /// Whose `X-Forwarded-For` is believed.
    pub(crate) proxies: TrustedProxies,
    /// The per-IP cap, for a trusted proxy's requests once their client is known.
    pub(crate) limiter: IpLimiter,
    pub(crate) ws: ws::Settings,
    /// Where upgraded connections go: the engine task.
    pub(crate) inbound: Sender<Inbound>,
    /// Where `/metrics` asks the engine task for its figures.
    pub(crate) scrapes: Sender<Scrape>,
    /// When chatd started, for its uptime.
    pub(crate) started: Instant,
    /// A cluster node's link to Redis: `None` for a single chatd.
    pub(crate) redis_up: Option<Arc<AtomicBool>>,
}

impl Http {
    /// `/healthz`: `ok`, or `503` while a cluster node cannot reach Redis
    /// (it can take no new names then, and hears of the other nodes' messages
    /// only from the database), so a load balancer sends new clients elsewhere.
    pub(crate) fn health(&self) -> Response {
        match &self.redis_up {
            Some(up) if !up.load(Ordering::Relaxed) => Response::text(Status::ServiceUnavailable, "redis unreachable"),
            _ => Response::text(Status::Ok, "ok"),
        }
    }
}

/// Serves one HTTP connection: one request, then close (or a WebSocket).
pub(crate) async fn serve(stream: Async<TcpStream>, mut arrival: Arrival, http: Arc<Http>) {
    let peer = arrival.peer;
    let (head, early) = match request::read_head(&stream).await {
        Ok(read) => read,
        // Nobody is left to answer.
        Err(HeadError::Closed | HeadError::Io(_)) => return,
        Err(error) => {
            tracing::debug!(%peer, %error, "bad HTTP request");
            let status = match error {
                HeadError::TooLarge => Status::HeaderFieldsTooLarge,
                HeadError::Timeout => Status::RequestTimeout,
                _ => Status::BadRequest,
            };
            return answer(&stream, Response::text(status, &error.to_string())).await;
        }
    };
    if http.proxies.trusts(peer.ip()) {
        if let Err(response) = forwarded_client(&mut arrival, &head, &http) {
            return answer(&stream, response).await;
        }
    } else if !head.forwarding.is_empty() {
        proxy::ignored_once(peer, "X-Forwarded-For, Forwarded or X-Forwarded-Proto");
    }
    let peer = arrival.peer;
    if let Some(refused) = refuse_unknown_host(&head, &arrival, &http) {
        return answer(&stream, refused).await;
    }
    let response = if head.method != "GET" {
        Response::text(Status::MethodNotAllowed, "only GET is served here").header("Allow", "GET")
    } else if head.path == "/ws" {
        return websocket(stream, arrival, head, early, &http).await;
    } else if head.path == "/healthz" {
        http.health()
    } else {
        page::asset(&head.path).unwrap_or_else(|| Response::text(Status::NotFound, "not found"))
    };
    tracing::debug!(%peer, method = ?head.method, path = ?head.path, status = ?response.status(), "HTTP request");
    answer(&stream, response).await;
}

/// The answer to a request for a host name chatd does not answer to (DNS
/// rebinding), if `head` is one.
fn refuse_unknown_host(head: &request::Head, arrival: &Arrival, http: &Http) -> Option<Response> {
    if http.hosts.allows(head.host.as_deref(), arrival.local) {
        return None;
    }
    if refusals::note(Refusal::UnknownHost) {
        tracing::warn!(peer = %arrival.peer, host = ?head.host, "refused an HTTP request for a name chatd does not answer to (see --server-host)");
    }
    Some(Response::text(Status::MisdirectedRequest, "this server does not answer to that host name"))
}

/// Takes the client a trusted proxy names as the request's, with a slot
/// of the per-IP cap for it. `Err`: the answer that refuses the request.
fn forwarded_client(arrival: &mut Arrival, head: &request::Head, http: &Http) -> Result<(), Response> {
    let client = forwarded::client(arrival.peer, &head.forwarding, &http.proxies).map_err(|error| {
        tracing::debug!(peer = %arrival.peer, %error, "bad forwarding headers from a trusted proxy");
        Response::text(Status::BadRequest, &error.to_string())
    })?;
    arrival.forwarded_for(client);
    let Some(slot) = http.limiter.try_acquire(arrival.peer.ip()) else {
        return Err(too_many_connections_response(&ip_limit::over_the_cap(arrival.peer, http.limiter.max())));
    };
    arrival.slot = slot;
    Ok(())
}

/// Accepts a WebSocket and hands it to the engine task, or refuses it: a
/// malformed upgrade with an HTTP error, a page from another site with
/// close code 1008 right after the handshake (so the page's script can
/// see why in its close event) without ever reaching the engine.
async fn websocket(stream: Async<TcpStream>, arrival: Arrival, head: request::Head, early: Vec<u8>, http: &Http) {
    let peer = arrival.peer;
    let accept = match upgrade::accept_key(&head) {
        Ok(accept) => accept,
        Err(error) => {
            tracing::debug!(%peer, %error, "refused a WebSocket upgrade");
            return answer(&stream, error.response()).await;
        }
    };
    let switching = Response::switching(accept).to_bytes();
    if within(ANSWER_TIMEOUT, (&stream).write_all(&switching)).await.is_none_or(|wrote| wrote.is_err()) {
        return;
    }
    let settings = http.ws;
    if !http.origins.allows(head.origin.as_deref(), head.host.as_deref()) {
        if refusals::note(Refusal::Origin) {
            tracing::warn!(%peer, origin = ?head.origin, host = ?head.host, "refused a WebSocket from another site's page (see --allowed-origin)");
        }
        let mut ws = WebSocketStream::from_partially_read(stream, early, Role::Server, Some(settings.config())).await;
        let refuse = async {
            let _ = ws.close(Some(CloseReason::origin_refused().frame())).await;
            // Wait for the peer's answering close, which ends the stream.
            while let Some(Ok(_)) = ws.next().await {}
        };
        within(LINGER, refuse).await;
        return;
    }
    let refuse_passwords = arrival.refuse_passwords();
    let mut incoming = ws::incoming(stream, peer, arrival.slot, early, settings).await;
    incoming.refuse_passwords = refuse_passwords;
    // Fails only once the engine task has stopped: the connection just closes.
    let _ = http.inbound.send(Inbound::Connect(incoming)).await;
}

/// Asks the engine task for its figures and writes them out.
async fn scrape(http: &Http) -> Response {
    let (reply, answer) = async_channel::bounded(1);
    let asked = async {
        http.scrapes.send(reply).await.ok()?;
        answer.recv().await.ok()
    };
    let Some(Some(snapshot)) = within(SCRAPE_TIMEOUT, asked).await else {
        return Response::text(Status::ServiceUnavailable, "the engine did not answer in time");
    };
    match metrics::render(snapshot, http.started.elapsed()) {
        Ok(text) => Response::new(Status::Ok, metrics::CONTENT_TYPE, text.into_bytes()),
        // Formatting into a String fails only on a bug in the encoder.
        Err(_) => Response::text(Status::ServiceUnavailable, "could not format the metrics"),
    }
}

/// Writes `response`, ends the stream, and lingers briefly for the peer
/// to close its side.
async fn answer(stream: &Async<TcpStream>, response: Response) {
    let bytes = response.to_bytes();
    let write = async {
        let mut stream = stream;
        if stream.write_all(&bytes).await.is_err() {
            return;
        }
        let _ = stream.get_ref().shutdown(Shutdown::Write);
        let linger = async {
            let (mut buf, mut left) = ([0; 1024], LINGER_BYTES);
            while let Ok(n @ 1..) = stream.read(&mut buf).await {
                left = left.saturating_sub(n);
                if left == 0 {
                    return;
                }
            }
        };
        within(LINGER, linger).await;
    };
    within(ANSWER_TIMEOUT, write).await;
}

/// `work`'s result, unless `limit` passes first.
async fn within<T>(limit: Duration, work: impl Future<Output = T>) -> Option<T> {
    future::or(async { Some(work.await) }, async {
        Timer::after(limit).await;
        None
    })
    .await
}

/// The answer to a connection refused at the door (over the per-IP cap, or
/// past the open-file limit), written on the accept loop (a fresh socket
/// takes it at once).
pub(crate) fn too_many_connections(why: &str) -> Vec<u8> {
    too_many_connections_response(why).to_bytes()
}

fn too_many_connections_response(why: &str) -> Response {
    Response::text(Status::ServiceUnavailable, why).header("Retry-After", "10")
}
