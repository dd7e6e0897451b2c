//! chatcore over plain `std::net`, with threads: no async runtime and no
//! chatd code. Serves the text protocol (and JSON Lines, which a client
//! picks with its first line) to `nc` or telnet:
//!
//! ```sh
//! cargo run -p chatcore --example std_server -- 127.0.0.1:7878
//! nc 127.0.0.1 7878
//! ```
//!
//! An accept thread and one reader thread per client send events into one
//! bounded channel; one engine thread owns the `Engine`, feeds it the
//! events with the time from `std::time`, writes its outputs to the
//! sockets and wakes for its timers. Kept small on purpose, it leaves out
//! what a real server needs: writes block the engine thread (a client that
//! does not read holds everyone up for as long as the write timeout), and
//! accounts are turned off rather than their passwords hashed on a worker
//! thread. chatd does both properly.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::thread;
use std::time::{Duration, Instant};

use chatcore::{ClientId, Codec, Config, ConnectInfo, DisconnectReason, Engine, Now, Output};

/// What the accept and reader threads tell the engine thread.
enum Event {
    Connected(TcpStream),
    Input(ClientId, Vec<u8>),
    Closed(ClientId, DisconnectReason),
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:7878".to_owned());
    let listener = TcpListener::bind(&addr)?;
    // A test or script reads the port from this line (useful with port 0).
    println!("listening on {}", listener.local_addr()?);
    // Accounts are off: their passwords would need hashing on a worker.
    let engine = Engine::new(Config::default().with_max_accounts(0))?;
    // Bounded: a client that sends faster than the engine handles is slowed.
    let (events, inbox) = mpsc::sync_channel(1024);
    let accept_events = events.clone();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if accept_events.send(Event::Connected(stream)).is_err() {
                return;
            }
        }
    });
    run_engine(engine, &inbox, &events);
    Ok(())
}

/// The engine thread: one event at a time, then every output it produced.
fn run_engine(mut engine: Engine, inbox: &Receiver<Event>, events: &SyncSender<Event>) {
    let mut sockets: HashMap<ClientId, TcpStream> = HashMap::new();
    loop {
        let event = match engine.poll_timeout() {
            Some(due) => inbox.recv_timeout(due.saturating_duration_since(Instant::now())),
            None => inbox.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        let now = Now::system();
        match event {
            Ok(Event::Connected(stream)) => {
                let Ok(peer) = stream.peer_addr() else { continue };
                let id = engine.handle_connect(now, ConnectInfo::new(Codec::Text).from(peer.ip()));
                // A refused client (the server is full) is only sent its farewell.
                if engine.nick(id).is_some()
                    && let Ok(reader) = stream.try_clone()
                {
                    let events = events.clone();
                    thread::spawn(move || read_client(id, reader, &events));
                }
                let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
                sockets.insert(id, stream);
            }
            // Err: an id never issued, which this loop cannot produce.
            Ok(Event::Input(id, bytes)) => engine.handle_input(now, id, &bytes).expect("an issued id"),
            Ok(Event::Closed(id, reason)) => {
                sockets.remove(&id);
                engine.handle_disconnect(now, id, reason).expect("an issued id");
            }
            Err(RecvTimeoutError::Timeout) => engine.handle_timeout(now),
            Err(RecvTimeoutError::Disconnected) => return,
        }
        while let Some(output) = engine.poll_output() {
            match output {
                Output::Send { to, data } => write(&sockets, to, &data),
                Output::Broadcast { to, data } => to.iter().for_each(|&id| write(&sockets, id, &data)),
                // Writes are done by now, so closing flushes nothing more;
                // the reader thread sees the socket end and reports it.
                Output::Close { client, .. } => {
                    if let Some(stream) = sockets.remove(&client) {
                        let _ = stream.shutdown(Shutdown::Both);
                    }
                }
                // Accounts are off: no name has one, so no login matches,
                // and registering is refused before any password is hashed.
                Output::VerifyPassword { request, .. } => {
                    engine.handle_password_verified(now, request, false).expect("an open request");
                }
                Output::HashPassword { request, .. } => engine.handle_password_busy(request).expect("an open request"),
                // Only a logged-in client asks for a session token, and none
                // can log in here; a real embedder answers with 32 bytes from
                // the operating system's CSPRNG (`handle_token_secret`).
                Output::NewToken { request } => engine.handle_password_busy(request).expect("an open request"),
                // Only with `Config::emit_records` and `Config::cluster`, both off here.
                Output::Persist(_) | Output::FetchHistory { .. } | Output::Cluster(_) => {}
                // Only with `Config::operators`, none here; a server would log it.
                Output::OperatorAction(action) => eprintln!("operator action: {action:?}"),
            }
        }
    }
}

/// Writes to one client; one that cannot take it is cut, and its reader
/// thread reports the end.
fn write(sockets: &HashMap<ClientId, TcpStream>, to: ClientId, data: &[u8]) {
    if let Some(mut stream) = sockets.get(&to)
        && stream.write_all(data).is_err()
    {
        let _ = stream.shutdown(Shutdown::Both);
    }
}

/// A reader thread: the client's bytes to the engine thread, as they come.
fn read_client(id: ClientId, mut stream: TcpStream, events: &SyncSender<Event>) {
    let mut buf = [0; 4096];
    let reason = loop {
        match stream.read(&mut buf) {
            Ok(0) => break DisconnectReason::ConnectionClosed,
            Ok(n) if events.send(Event::Input(id, buf[..n].to_vec())).is_ok() => {}
            Ok(_) => return, // the engine thread has stopped
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break DisconnectReason::ConnectionError,
        }
    };
    let _ = events.send(Event::Closed(id, reason));
}
