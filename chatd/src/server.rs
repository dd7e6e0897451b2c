//! Binding, the accept loops (text/JSON, IRC, HTTP), and starting the
//! engine task.

// Log lines for refusals, limited so that a flood cannot flood the log.
pub(crate) mod refusals;
// Closing a chat port on a graceful shutdown without dropping its queue.
pub(crate) mod drain;
// What a port does with a connection it accepted, or refused at the door.
mod entrance;
// Opening the store the flags name: SQLite in a data directory, or PostgreSQL.
mod storage;

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_channel::Sender;
use chatcore::{CloakKey, Codec, Engine, Hosts, RestoreError};
use futures_lite::future;
use smol::{Async, Timer};

use crate::cli::Cli;
use crate::cluster::follower::Follower;
use crate::cluster::{Bus, BusConfig, Health, Report};
use crate::conn::Inbound;
use crate::engine_task::cluster::{ClusterDone, Node};
use crate::engine_task::{Done, EngineTask};
use crate::http::{Http, Origins, ServerHosts};
use crate::ip_limit::IpLimiter;
use crate::newcomers::Newcomers;
use crate::open_files::{self, Spare};
use crate::passwords;
use crate::proxy::TrustedProxies;
use crate::runtime::spawn;
use crate::shutdown;
use crate::store::Retention;
use crate::store::cloak_key::{self, CloakKeyError};
use crate::store::thread::StoreHandle;
use crate::tls::{self, PlainPasswords, Tls};
use drain::Drain;
use entrance::Entrance;
use refusals::Refusal;

/// How long the accept loop rests after a failed `accept` (typically: out
/// of file descriptors), instead of spinning on the error.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// `/metrics` requests that may wait at once for the engine task's answer.
const SCRAPES_WAITING: usize = 16;

/// How users' hosts are shown without a store: cloaked with the key `key`
/// gives, unless `--cloak-hosts false` shows their addresses.
fn hosts(cli: &Cli, key: impl FnOnce() -> Result<CloakKey, CloakKeyError>) -> io::Result<Hosts> {
    if !cli.engine.cloak_hosts {
        return Ok(Hosts::Addresses);
    }
    key().map(Hosts::Cloaked).map_err(io::Error::other)
}

/// Runs the server until a shutdown signal has been handled.
pub(crate) async fn run(cli: Cli) -> io::Result<()> {
    let started = Instant::now();
    let mut config = cli.engine.config().with_emit_records(!cli.storage.ephemeral);
    let shutdown = shutdown::listen()?;
    // State is restored before the port opens, so no client ever sees a
    // half-restored server; a store that cannot be used stops chatd here.
    let (done_tx, done_rx) = async_channel::unbounded();
    let mut cluster_node = None;
    let mut redis_up = None;
    let bad_config = |e| io::Error::other(format!("invalid settings: {e}"));
    let (engine, store) = if cli.storage.ephemeral {
        tracing::info!("ephemeral: nothing is stored");
        config = config.with_hosts(hosts(&cli, cloak_key::ephemeral)?);
        (Engine::new(config.clone()).map_err(bad_config)?, None)
    } else {
        let storage = &cli.storage;
        if cli.cluster.redis_url.is_some() {
            config = config.with_cluster(true);
        }
        let storage::Opened { store, key, records, feed_from } = storage::open(&cli, config.history_len()).await?;
        config = config.with_hosts(match key {
            Some(key) => Hosts::Cloaked(key.map_err(io::Error::other)?),
            None => Hosts::Addresses,
        });
        let restored = records.len();
        let engine = Engine::restore(config.clone(), records).map_err(|e| match e {
            RestoreError::Config(e) => bad_config(e),
            e => io::Error::other(format!("the database is inconsistent: {e}")),
        })?;
        match &storage.database_url {
            Some(url) => tracing::info!(
                %url,
                restored,
                rooms = engine.room_count(),
                accounts = engine.account_count(),
                "store open (PostgreSQL)"
            ),
            None => tracing::info!(
                dir = %storage.data_dir.display(),
                sync = ?storage.sync,
                restored,
                rooms = engine.room_count(),
                accounts = engine.account_count(),
                "store open"
            ),
        }
        let done = done_tx.clone();
        // Conversations are bounded by the engine's setting, rooms by chatd's flags.
        let per_conversation = u64::try_from(config.conversation_history_len()).unwrap_or(u64::MAX);
        let retention = Retention { max_per_conversation: Some(per_conversation), ..storage.retention() };
        let report = move |reply| {
            let _ = done.try_send(Done::Store(reply));
        };
        let store = match (&cli.cluster.redis_url, &storage.database_url, feed_from) {
            (Some(redis_url), Some(database_url), Some(feed_from)) => {
                let (node, up) = join_cluster(&cli, redis_url, database_url, feed_from, &done_tx).await?;
                redis_up = Some(up);
                let store = StoreHandle::spawn_cluster(store, retention, node.name().to_owned(), report);
                cluster_node = Some(node);
                store
            }
            _ => StoreHandle::spawn(store, retention, report),
        };
        (engine, Some(store))
    };
    let passwords = passwords::Pool::start(cli.password_limits(), move |answer| {
        let _ = done_tx.send_blocking(Done::Password(answer));
    })?;
    // The certificate is read before any port opens: a bad one stops chatd.
    let tls = load_tls(&cli)?;
    let shared = Sharing::from_flag(cli.reuse_port);
    let listener = listen(cli.listen, shared)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {}: {e}", cli.listen)))?;
    let local = listener.get_ref().local_addr()?;
    // Scripts read this line to learn the port; flush so they see it now.
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {local}")?;
    stdout.flush()?;
    drop(stdout);
    tracing::info!(
        addr = %local,
        max_clients = config.max_clients(),
        max_per_ip = cli.max_per_ip,
        send_queue_bytes = cli.send_queue_bytes,
        send_queue_grace_secs = cli.send_queue_grace.0.as_secs_f64(),
        "listening"
    );

    let irc = match cli.irc_listen.0 {
        Some(addr) => {
            let irc = listen(addr, shared)
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
            let web = listen(addr, shared)
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

    // Never shared: a scrape must reach the process whose numbers it wants.
    let metrics = cli.metrics_listen.0.map(|addr| bind_announced(addr, Sharing::Alone, "metrics")).transpose()?;

    // TLS listeners print their lines after the plain ones, in this order.
    let tls_listeners = match &tls {
        Some(tls) => {
            let args = &cli.tls;
            let bind = |addr: Option<SocketAddr>, what: &str| {
                addr.map(|addr| bind_announced(addr, shared, what).map(|(socket, local)| (socket, local, tls.clone())))
                    .transpose()
            };
            [
                bind(args.tls_listen.0, "tls")?,
                bind(args.irc_tls_listen.0, "irc tls")?,
                bind(args.https_listen.0, "https")?,
            ]
        }
        None => [None, None, None],
    };
    let passwords_plain =
        plain_passwords(&cli, tls_listeners.each_ref().map(|l| l.as_ref().map(|(_, local, _)| *local)));

    let (inbound, events) = async_channel::bounded(cli.inbound_capacity);
    // Scrapes waiting for the engine task; more than this many at once wait their turn.
    let (scrapes, scrape_rx) = async_channel::bounded(SCRAPES_WAITING);
    let limiter = IpLimiter::new(cli.max_per_ip);
    let proxies = TrustedProxies::new(&cli.trusted_proxies);
    // Dropped (and so cancelled) when the engine task has finished shutting down.
    let http = Arc::new(Http {
        origins: Origins::new(&cli.allowed_origins),
        hosts: ServerHosts::new(&cli.server_hosts),
        proxies: proxies.clone(),
        limiter: limiter.clone(),
        ws: cli.ws_settings(),
        inbound: inbound.clone(),
        scrapes,
        started,
        redis_up,
    });
    let metrics = metrics.map(|(socket, _)| Listener {
        socket,
        port: Port::Metrics(http.clone()),
        tls: None,
        passwords: PlainPasswords::Accepted,
    });
    let ports = [Port::Chat(Codec::Text), Port::Chat(Codec::Irc), Port::Http(http)];
    let plain = [Some(listener), irc, web].into_iter().zip(ports.clone()).zip(passwords_plain);
    let plain =
        plain.filter_map(|((socket, port), passwords)| Some(Listener { socket: socket?, port, tls: None, passwords }));
    let secure = tls_listeners.into_iter().zip(ports).filter_map(|(listener, port)| {
        let (socket, _, tls) = listener?;
        Some(Listener { socket, port, tls: Some(tls), passwords: PlainPasswords::Accepted })
    });
    // Every port is open now, and the database too: what is open is what
    // start-up costs, and the rest of the limit is for clients.
    let files = open_files::read();
    open_files::report(files, config.max_clients());
    let newcomers = Newcomers::new(open_files::newcomers_allowed(files, cli.max_pending_connections));
    let door = Door { limiter, proxies, newcomers, spare: Spare::open() };
    // The chat ports close on a graceful shutdown, without dropping their
    // queues; `listening` closes when the last of them has. The metrics
    // port is never shared, and answers until the process ends.
    let (open, listening) = async_channel::bounded(1);
    let drain = || Some(Drain { stop: shutdown.clone(), _open: open.clone() });
    let mut accepting: Vec<_> = plain
        .chain(secure)
        .map(|listener| spawn(accept_loop(listener, door.clone(), inbound.clone(), drain())))
        .collect();
    drop(open);
    accepting.extend(metrics.map(|listener| spawn(accept_loop(listener, door.clone(), inbound.clone(), None))));
    let commit_timeout = cli.storage.commit_timeout();
    let engine = EngineTask::new(engine, inbound, cli.send_limit(), store, passwords, commit_timeout, done_rx)
        .with_irc_password(cli.engine.irc_password.as_deref())
        .with_cluster(cluster_node);
    spawn(engine.run(events, shutdown, listening, scrape_rx)).await;
    drop(accepting);
    Ok(())
}

/// Starts this node's bus (Redis) and follower (PostgreSQL), reporting
/// to the engine task on `done`.
async fn join_cluster(
    cli: &Cli,
    redis_url: &str,
    database_url: &crate::store::DatabaseUrl,
    feed_from: i64,
    done: &Sender<Done>,
) -> io::Result<(Node, Arc<AtomicBool>)> {
    let args = &cli.cluster;
    let mut bus_config = BusConfig::new(redis_url);
    bus_config.prefix.clone_from(&args.redis_prefix);
    if let Some(name) = &args.node_name {
        bus_config.node.clone_from(name);
    }
    bus_config.lease = args.node_lease.0;
    // Each start is a node of its own to the cluster, named NAME#START:
    // the engine numbers its tickets afresh, so the store must tell which
    // start published a message; and the users of a node killed and
    // restarted at once must still be seen to leave when its last life's
    // lease runs out, which a node keeping its name would keep renewing.
    let name = bus_config.node.clone();
    let incarnation = format!("{name}#{}", chatcore::Now::system().unix_ms);
    bus_config.node.clone_from(&incarnation);
    let to_engine = done.clone();
    let up = Arc::new(AtomicBool::new(false));
    let health = up.clone();
    let bus = Bus::start(bus_config, move |report| {
        if let Report::Connection(now) = &report {
            health.store(*now == Health::Up, Ordering::Relaxed);
        }
        let _ = to_engine.try_send(Done::Cluster(ClusterDone::Bus(report)));
    })
    .map_err(|e| io::Error::other(format!("cannot join the cluster: {e}")))?;
    let to_engine = done.clone();
    let follower = Follower::start(
        storage::open_follower(database_url.clone()).await?,
        incarnation.clone(),
        feed_from,
        move |followed| {
            let _ = to_engine.try_send(Done::Cluster(ClusterDone::Follower(followed)));
        },
    );
    tracing::info!(node = %name, %incarnation, lease_secs = args.node_lease.0.as_secs_f64(), prefix = %args.redis_prefix, "cluster node");
    Ok((Node::new(incarnation, bus, follower), up))
}

/// What a port serves.
#[derive(Debug, Clone)]
enum Port {
    /// Chat clients speaking this codec (text and JSON share a port: a JSON
    /// client's first line says so).
    Chat(Codec),
    /// HTTP: the page, and WebSocket clients.
    Http(Arc<Http>),
    /// HTTP: Prometheus metrics (and the health check).
    Metrics(Arc<Http>),
}

/// One listening socket and how its connections are served.
struct Listener {
    socket: Async<TcpListener>,
    port: Port,
    /// For a TLS listener: the handshake comes first.
    tls: Option<Arc<Tls>>,
    /// Whether its connections may carry passwords.
    passwords: PlainPasswords,
}

/// What every accept loop shares: who may come in, and who is believed
/// about whom.
#[derive(Debug, Clone)]
struct Door {
    limiter: IpLimiter,
    proxies: TrustedProxies,
    /// Connections that are not clients yet, across every port.
    newcomers: Newcomers,
    /// The descriptor kept for refusing when none is left.
    spare: Arc<Spare>,
}

/// Reads the certificate if any TLS listener is asked for, and reloads it
/// on SIGHUP from then on.
fn load_tls(cli: &Cli) -> io::Result<Option<Arc<Tls>>> {
    let args = &cli.tls;
    if !args.any_listener() {
        if args.tls_cert.is_some() {
            tracing::warn!("--tls-cert is set but no TLS listener is: nothing serves TLS");
        }
        return Ok(None);
    }
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
        return Err(io::Error::other("a TLS listener needs --tls-cert and --tls-key"));
    };
    if cfg!(not(unix)) {
        return Err(io::Error::other("TLS listeners need a Unix system"));
    }
    let tls = Tls::load(cert, key, args.tls_handshake_timeout.0).map_err(io::Error::other)?;
    tls::reload_on_hangup(tls.clone())?;
    tracing::info!(cert = %cert.display(), "TLS certificate loaded; SIGHUP reloads it");
    Ok(Some(tls))
}

/// Connections the kernel completes and holds for `accept` on each port.
/// The standard library's 128 overflows when thousands connect at once
/// (each overflow is a SYN dropped and retried a second later); the
/// kernel caps it at `net.core.somaxconn`.
const LISTEN_BACKLOG: i32 = 4096;

/// Whether a listening port may be shared with other chatd processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sharing {
    /// A port already bound is an error ("address in use"): a second chatd
    /// started by mistake says so instead of quietly taking half the clients.
    Alone,
    /// `SO_REUSEPORT`: every process that sets it may bind the same address,
    /// and the kernel spreads new connections among them (--reuse-port).
    WithOtherNodes,
}

impl Sharing {
    fn from_flag(reuse_port: bool) -> Sharing {
        if reuse_port { Sharing::WithOtherNodes } else { Sharing::Alone }
    }
}

/// A listening socket on `addr`, with [`LISTEN_BACKLOG`], shared with
/// other processes if `sharing` says so.
fn listen(addr: SocketAddr, sharing: Sharing) -> io::Result<Async<TcpListener>> {
    let socket = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None)?;
    // As the standard library does: a restarted server can bind at once.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    if sharing == Sharing::WithOtherNodes {
        share_port(&socket)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Async::new(TcpListener::from(socket))
}

/// Lets other processes bind the same address. Linux balances
/// connections among them; other systems' `SO_REUSEPORT` does not (on
/// some the last to bind takes every connection), so it is refused there.
#[cfg(target_os = "linux")]
fn share_port(socket: &socket2::Socket) -> io::Result<()> {
    socket.set_reuse_port(true)
}

#[cfg(not(target_os = "linux"))]
fn share_port(_socket: &socket2::Socket) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "--reuse-port needs Linux"))
}

/// Binds a listener and prints `WHAT listening on ADDR` for scripts.
fn bind_announced(addr: SocketAddr, sharing: Sharing, what: &str) -> io::Result<(Async<TcpListener>, SocketAddr)> {
    let socket = listen(addr, sharing)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen for {what} on {addr}: {e}")))?;
    let local = socket.get_ref().local_addr()?;
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{what} listening on {local}")?;
    stdout.flush()?;
    tracing::info!(addr = %local, "listening for {what}");
    Ok((socket, local))
}

/// The password rule of the plain text, IRC and HTTP listeners, given
/// where the TLS text, IRC and HTTPS listeners are (if anywhere): each
/// names its own TLS counterpart when there is one.
fn plain_passwords(cli: &Cli, secure: [Option<SocketAddr>; 3]) -> [PlainPasswords; 3] {
    if cli.tls.allow_plain_passwords || secure.iter().all(Option::is_none) {
        return Default::default();
    }
    let labels = ["text", "IRC", "HTTPS"];
    let hint = |own: usize| match secure[own] {
        Some(addr) => format!("port {}", addr.port()),
        None => {
            let (other, addr) = secure.iter().enumerate().find_map(|(i, a)| a.map(|a| (i, a))).expect("one is set");
            format!("port {} ({})", addr.port(), labels[other])
        }
    };
    [0, 1, 2].map(|own| PlainPasswords::LocalOnly(hint(own).into()))
}

/// What woke an accept loop.
enum Next {
    Accepted(io::Result<(Async<TcpStream>, SocketAddr)>),
    /// Time to sum up the refusals of a spell.
    Summary,
    /// A graceful shutdown was asked for.
    Stop,
    /// The listener has drained for long enough: take its queue and close it.
    Close,
}

/// Accepts connections on one port until the listener closes: with
/// `drain`, on a graceful shutdown, without dropping what waits in its
/// queue (see `drain.rs`).
async fn accept_loop(listener: Listener, door: Door, inbound: Sender<Inbound>, drain: Option<Drain>) {
    let Listener { socket: listener, port, tls, passwords } = listener;
    let entrance = Entrance { port, tls, passwords, door, inbound };
    let spare = &entrance.door.spare;
    let mut closing_at = None;
    loop {
        // Refusals after the first of a spell are summed up when their
        // interval ends. The engine task may start a spell while this loop
        // waits, so with none under way it looks again after an interval.
        let summary_due = refusals::deadline().unwrap_or_else(|| Instant::now() + refusals::INTERVAL);
        let closing = async {
            match (&drain, closing_at) {
                (Some(drain), None) => {
                    drain.stop.requested().await;
                    Next::Stop
                }
                (Some(_), Some(at)) => {
                    Timer::at(at).await;
                    Next::Close
                }
                (None, _) => future::pending().await,
            }
        };
        let accept = async {
            loop {
                match spare.accept(listener.get_ref()) {
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                        if let Err(error) = listener.readable().await {
                            return Next::Accepted(Err(error));
                        }
                    }
                    accepted => {
                        return Next::Accepted(accepted.and_then(|(stream, peer)| Ok((Async::new(stream)?, peer))));
                    }
                }
            }
        };
        let summary = async {
            Timer::at(summary_due).await;
            Next::Summary
        };
        let (stream, peer) = match future::or(closing, future::or(accept, summary)).await {
            Next::Accepted(Ok(accepted)) => accepted,
            Next::Summary => {
                refusals::tick();
                continue;
            }
            Next::Stop => {
                if let Err(error) = drain::refuse_new_handshakes(listener.get_ref()) {
                    tracing::warn!(%error, "cannot refuse new handshakes on a closing listener");
                }
                closing_at = Some(Instant::now() + drain::DRAIN);
                continue;
            }
            Next::Close => {
                // The queue is taken and the listener closed with no wait
                // between: a handshake still completing then (where the
                // filter could not be set) would be reset with it.
                let waiting = drain::take_waiting(listener.get_ref(), spare);
                drop(listener);
                for (stream, peer) in waiting {
                    let Ok(stream) = Async::new(stream) else { continue };
                    if entrance.take_in(stream, peer).await.is_err() {
                        break;
                    }
                }
                return;
            }
            Next::Accepted(Err(error))
                if out_of_descriptors(&error) && !open_files::connection_waiting(listener.get_ref()) =>
            {
                // Nothing to answer yet: wait for someone to arrive.
                let arrival = async { listener.readable().await.unwrap_or_default() };
                future::or(arrival, async {
                    Timer::at(summary_due).await;
                })
                .await;
                continue;
            }
            Next::Accepted(Err(error)) => {
                if refusals::note(Refusal::AcceptFailed) {
                    tracing::error!(%error, "accept failed");
                }
                // The spare descriptor lets one waiting connection in to be
                // answered; the backoff keeps a flood of them from taking
                // the whole CPU.
                if out_of_descriptors(&error)
                    && let Some((loan, stream)) = spare.lend_to(listener.get_ref())
                {
                    entrance.answer_at_limit(loan, stream);
                }
                Timer::after(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        if entrance.take_in(stream, peer).await.is_err() {
            return;
        }
    }
}

/// Whether `accept` failed for want of a file descriptor, the process's
/// (`EMFILE`) or the system's (`ENFILE`).
fn out_of_descriptors(error: &io::Error) -> bool {
    #[cfg(unix)]
    {
        let code = error.raw_os_error();
        code == Some(rustix::io::Errno::MFILE.raw_os_error()) || code == Some(rustix::io::Errno::NFILE.raw_os_error())
    }
    #[cfg(not(unix))]
    {
        let _ = error;
        false
    }
}
