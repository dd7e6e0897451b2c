//! A TCP relay between a program under test and a server it uses (chatd
//! and PostgreSQL), which a test can cut: as the server going away and
//! coming back, without stopping the machine's server that other tests
//! share.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// What the relay's threads share with the test.
#[derive(Default)]
struct Shared {
    /// While set, every connection is closed as soon as it is accepted.
    down: AtomicBool,
    /// The connections now relayed (both ends of each), to cut.
    open: Mutex<Vec<TcpStream>>,
    /// Bytes which, once seen going to the server, get that connection
    /// cut as soon as they are passed on (the server has them; the client
    /// never hears its answer).
    cut_after: Mutex<Option<Vec<u8>>>,
}

/// A relay on a free port of 127.0.0.1; it runs until the test ends.
pub struct Relay {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Relay {
    /// Starts relaying each connection to `upstream`.
    ///
    /// # Panics
    ///
    /// When no port can be bound.
    #[must_use]
    pub fn start(upstream: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the relay");
        let addr = listener.local_addr().expect("the relay's address");
        let shared = Arc::new(Shared::default());
        let accepting = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if accepting.down.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream) else { continue };
                relay(client, server, &accepting);
            }
        });
        Relay { addr, shared }
    }

    /// Where clients connect.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every relayed connection and refuses new ones, as a server
    /// that stopped.
    pub fn cut(&self) {
        self.shared.down.store(true, Ordering::SeqCst);
        for stream in self.shared.open.lock().unwrap_or_else(PoisonError::into_inner).drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Relays new connections again, as a server that came back.
    pub fn resume(&self) {
        self.shared.down.store(false, Ordering::SeqCst);
    }

    /// The next time `needle` goes towards the server, passes it on, lets
    /// the server act on it, then cuts that connection before the client
    /// hears the answer.
    pub fn cut_after(&self, needle: &[u8]) {
        *self.shared.cut_after.lock().unwrap_or_else(PoisonError::into_inner) = Some(needle.to_vec());
    }
}

fn relay(client: TcpStream, server: TcpStream, shared: &Arc<Shared>) {
    let streams = [&client, &server].map(|stream| stream.try_clone().expect("clone a relayed stream"));
    shared.open.lock().unwrap_or_else(PoisonError::into_inner).extend(streams);
    let (client_in, server_out) = (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
    // Set once the bytes to cut after have gone to the server: nothing
    // more reaches the client.
    let muted = Arc::new(AtomicBool::new(false));
    let (towards_server, muting) = (shared.clone(), muted.clone());
    std::thread::spawn(move || pump(client_in, server_out, &muting, Some(&towards_server)));
    std::thread::spawn(move || pump(server, client, &muted, None));
}

/// Copies `from` to `to` until either ends or `muted` is set; `watch`
/// looks for the bytes to cut after.
fn pump(mut from: TcpStream, mut to: TcpStream, muted: &AtomicBool, watch: Option<&Shared>) {
    let mut buffer = [0; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let cut = watch.is_some_and(|shared| {
            let mut needle = shared.cut_after.lock().unwrap_or_else(PoisonError::into_inner);
            let found = needle.as_ref().is_some_and(|needle| buffer[..n].windows(needle.len()).any(|w| w == needle));
            if found {
                *needle = None;
                muted.store(true, Ordering::SeqCst);
            }
            found
        });
        if muted.load(Ordering::SeqCst) && !cut {
            break;
        }
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
        if cut {
            // The server acts on what it was sent; its answer is lost.
            std::thread::sleep(Duration::from_millis(300));
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
