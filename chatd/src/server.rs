//! Binding, the accept loops (text/JSON, IRC, HTTP), and starting the
//! engine task.

// Log lines for refusals, limited so that a flood cannot flood the log.
pub(crate) mod refusals;

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_channel::Sender;
use chatcore::{Codec, Engine, RestoreError};
use futures_lite::future;
use smol::{Async, Timer};

use crate::cli::Cli;
use crate::conn::{self, Incoming};
use crate::engine_task::{Done, EngineTask, Inbound};
use crate::http::{self, Http, Origins};
use crate::ip_limit::IpLimiter;
use crate::passwords;
use crate::runtime::spawn;
use crate::shutdown;
use crate::store::thread::StoreHandle;
use crate::store::{Retention, Store};
use refusals::Refusal;

/// How long the accept loop rests after a failed `accept` (typically: out
/// of file descriptors), instead of spinning on the error.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// `/metrics` requests that may wait at once for the engine task's answer.
const SCRAPES_WAITING: usize = 16;

/// Runs the server until a shutdown signal has been handled.
pub(crate) async fn run(cli: Cli) -> io::Result<()> {
    let started = Instant::now();
    let mut config = cli.engine.config();
    config.emit_records = !cli.storage.ephemeral;
    let shutdown = shutdown::listen()?;
    // State is restored before the port opens, so no client ever sees a
    // half-restored server; a store that cannot be used stops chatd here.
    let (done_tx, done_rx) = async_channel::unbounded();
    let bad_config = |e| io::Error::other(format!("invalid settings: {e}"));
    let (engine, store) = if cli.storage.ephemeral {
        tracing::info!("ephemeral: nothing is stored");
        (Engine::new(config.clone()).map_err(bad_config)?, None)
    } else {
        let storage = &cli.storage;
        let dir = storage.data_dir.clone();
        let (sync, history_len) = (storage.sync, config.history_len);
        let store = smol::unblock(move || Store::open(&dir, sync)).await.map_err(io::Error::other)?;
        let (store, records) = smol::unblock(move || store.load(history_len).map(|records| (store, records)))
            .await
            .map_err(|e| io::Error::other(format!("cannot read the database: {e}")))?;
        let restored = records.len();
        let engine = Engine::restore(config.clone(), records).map_err(|e| match e {
            RestoreError::Config(e) => bad_config(e),
            e => io::Error::other(format!("the database is inconsistent: {e}")),
        })?;
        tracing::info!(
            dir = %storage.data_dir.display(),
            sync = ?storage.sync,
            restored,
            rooms = engine.room_count(),
            accounts = engine.account_count(),
            "store open"
        );
        let done = done_tx.clone();
        // Conversations are bounded by the engine's setting, rooms by chatd's flags.
        let per_conversation = u64::try_from(config.conversation_history_len).unwrap_or(u64::MAX);
        let retention = Retention { max_per_conversation: Some(per_conversation), ..storage.retention() };
        let store = StoreHandle::spawn(store, retention, move |reply| {
            let _ = done.try_send(Done::Store(reply));
        });
        (engine, Some(store))
    };
    let passwords = passwords::Pool::start(cli.password_limits(), done_tx)?;
    let listener = Async::<TcpListener>::bind(cli.listen)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {}: {e}", cli.listen)))?;
    let local = listener.get_ref().local_addr()?;
    // Scripts read this line to learn the port; flush so they see it now.
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {local}")?;
    stdout.flush()?;
    drop(stdout);
    tracing::info!(
        addr = %local,
        max_clients = config.max_clients,
        max_per_ip = cli.max_per_ip,
        send_queue_bytes = cli.send_queue_bytes,
        send_queue_grace_secs = cli.send_queue_grace.0.as_secs_f64(),
        "listening"
    );

    let irc = match cli.irc_listen.0 {
        Some(addr) => {
            let irc = Async::<TcpListener>::bind(addr)
                .map_err(|e| io::Error::new(e.kind(), format!("cannot listen for IRC on {addr}: {e}")))?;
            let local = irc.get_ref().local_addr()?;
            let mut stdout = io::stdout().lock();
            writeln!(stdout, "irc listening on {local}")?;
            stdout.flush()?;
            tracing::info!(addr = %local, "listening for IRC");
            Some(irc)
        }
        None => None,
    };
    let web = match cli.http_listen.0 {
        Some(addr) => {
            let web = Async::<TcpListener>::bind(addr)
                .map_err(|e| io::Error::new(e.kind(), format!("cannot listen for HTTP on {addr}: {e}")))?;
            let local = web.get_ref().local_addr()?;
            let mut stdout = io::stdout().lock();
            writeln!(stdout, "http listening on {local}")?;
            stdout.flush()?;
            tracing::info!(addr = %local, allowed_origins = ?cli.allowed_origins, "listening for HTTP and WebSockets");
            Some(web)
        }
        None => None,
    };

    let (inbound, events) = async_channel::bounded(cli.inbound_capacity);
    // Scrapes waiting for the engine task; more than this many at once wait their turn.
    let (scrapes, scrape_rx) = async_channel::bounded(SCRAPES_WAITING);
    let limiter = IpLimiter::new(cli.max_per_ip);
    // Dropped (and so cancelled) when the engine task has finished shutting down.
    let _accept = spawn(accept_loop(listener, Port::Chat(Codec::Text), limiter.clone(), inbound.clone()));
    let _accept_irc = irc.map(|irc| spawn(accept_loop(irc, Port::Chat(Codec::Irc), limiter.clone(), inbound.clone())));
    let _accept_http = web.map(|web| {
        let http = Http {
            origins: Origins::new(&cli.allowed_origins),
            ws: cli.ws_settings(),
            inbound: inbound.clone(),
            scrapes,
            started,
        };
        spawn(accept_loop(web, Port::Http(Arc::new(http)), limiter, inbound.clone()))
    });
    let commit_timeout = cli.storage.commit_timeout();
    let engine = EngineTask::new(engine, inbound, cli.send_limit(), store, passwords, commit_timeout, done_rx);
    spawn(engine.run(events, shutdown, scrape_rx)).await;
    Ok(())
}

/// What a port serves.
#[derive(Debug, Clone)]
enum Port {
    /// Chat clients speaking this codec (text and JSON share a port: a JSON
    /// client's first line says so).
    Chat(Codec),
    /// HTTP: the page, and WebSocket clients.
    Http(Arc<Http>),
}

/// Accepts connections on one port.
async fn accept_loop(listener: Async<TcpListener>, port: Port, limiter: IpLimiter, inbound: Sender<Inbound>) {
    loop {
        // Refusals after the first of a spell are summed up when their
        // interval ends. The engine task may start a spell while this loop
        // waits, so with none under way it looks again after an interval.
        let summary_due = refusals::deadline().unwrap_or_else(|| Instant::now() + refusals::INTERVAL);
        let accepted = future::or(async { Some(listener.accept().await) }, async {
            Timer::at(summary_due).await;
            None
        })
        .await;
        let (stream, peer) = match accepted {
            Some(Ok(accepted)) => accepted,
            None => {
                refusals::tick();
                continue;
            }
            Some(Err(error)) => {
                if refusals::note(Refusal::AcceptFailed) {
                    tracing::error!(%error, "accept failed");
                }
                Timer::after(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let Some(slot) = limiter.try_acquire(peer.ip()) else {
            refuse(stream.get_ref(), peer, limiter.max(), &port);
            continue;
        };
        conn::configure(stream.get_ref());
        match &port {
            Port::Chat(codec) => {
                if inbound.send(Inbound::Connect(Incoming::tcp(stream, peer, slot, *codec))).await.is_err() {
                    return;
                }
            }
            // Its request is read on a task of its own, so a slow one
            // delays nobody; only an upgraded one reaches the engine task.
            Port::Http(http) => spawn(http::serve(stream, peer, slot, http.clone())).detach(),
        }
    }
}

/// Tells a connection over the per-IP cap why, and closes it. The socket is
/// fresh, so the one line fits its send buffer and nothing need wait.
fn refuse(stream: &TcpStream, peer: SocketAddr, max: usize, port: &Port) {
    if refusals::note(Refusal::PerIpCap) {
        tracing::warn!(%peer, max_per_ip = max, "refused: too many connections from this address");
    }
    let why = format!("too many connections from your address (at most {max}); try again later");
    let answer = match port {
        Port::Chat(Codec::Irc) => format!("ERROR :Closing link: {why}\r\n").into_bytes(),
        Port::Chat(_) => format!("* bye: {why}\n").into_bytes(),
        Port::Http(_) => http::too_many_connections(&why),
    };
    let mut stream = stream;
    let _ = stream.write_all(&answer);
    let _ = stream.shutdown(Shutdown::Write);
}
