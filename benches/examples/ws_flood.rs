//! WebSockets that send frames which never become a message: pings, or
//! empty continuation fragments of a message that never ends. Run it next
//! to `loadgen --mode ws` to see what such peers cost everyone else.
//!
//! ```text
//! cargo build --release -p chatd-benches --example ws_flood
//! target/release/examples/ws_flood HTTP_ADDR ping 4 20 1500000
//! ```
//!
//! Arguments: chatd's HTTP address (loopback only), `ping` or `fragment`,
//! connections (default 4), seconds (default 20), and bytes a second per
//! connection (default 0: as fast as the socket takes them). Prints, per
//! connection, what it sent and how it ended (the close code, if chatd
//! sent one).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use chatd_benches::loadgen::ws;
use smol::Async;

fn main() {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args.next().expect("chatd's HTTP address").parse().expect("an IP:PORT");
    assert!(addr.ip().is_loopback(), "loopback only");
    let kind = args.next().unwrap_or_else(|| "ping".into());
    let number = |arg: Option<String>, default: u64| arg.map_or(default, |a| a.parse().expect("a number"));
    let connections = number(args.next(), 4);
    let secs = number(args.next(), 20);
    let rate = number(args.next(), 0);
    let unit = match kind.as_str() {
        "ping" => frame(true, 9, b""),
        "fragment" => frame(false, 0, b""),
        other => panic!("`ping` or `fragment`, not {other}"),
    };
    let chunk = unit.repeat(16 * 1024 / unit.len());
    let until = Instant::now() + Duration::from_secs(secs);
    let floods: Vec<_> = (0..connections)
        .map(|_| {
            let (mut stream, early) = upgrade(addr);
            if kind == "fragment" {
                stream.write_all(&frame(false, 1, b"[")).expect("open the message");
            }
            let chunk = chunk.clone();
            thread::spawn(move || flood(stream, early, &chunk, until, rate))
        })
        .collect();
    for (i, flood) in floods.into_iter().enumerate() {
        let (sent, ended) = flood.join().expect("a flooder");
        println!("connection {i}: sent {:.1} MB, {ended}", sent as f64 / 1e6);
    }
}

/// Writes `chunk` again and again until `until` (at `rate` bytes a second,
/// if not 0) or until chatd ends the connection; reads what chatd sends
/// meanwhile. Returns the bytes written and how the connection ended.
fn flood(stream: TcpStream, early: Vec<u8>, chunk: &[u8], until: Instant, rate: u64) -> (u64, String) {
    let closed = Arc::new(AtomicBool::new(false));
    let mut reader = std::io::Cursor::new(early).chain(stream.try_clone().expect("clone"));
    let seen = closed.clone();
    let reading = thread::spawn(move || {
        let code = close_code(&mut reader);
        seen.store(true, Ordering::Relaxed);
        code
    });
    let (began, mut sent, mut writer) = (Instant::now(), 0u64, &stream);
    while Instant::now() < until && !closed.load(Ordering::Relaxed) {
        if rate > 0 {
            let due = began + Duration::from_secs_f64(sent as f64 / rate as f64);
            thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        if writer.write_all(chunk).is_err() {
            break;
        }
        sent += chunk.len() as u64;
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let ended = match reading.join().expect("a reader") {
        Some(code) => format!("closed by chatd with {code}"),
        None => "no close frame".to_owned(),
    };
    (sent, ended)
}

/// A WebSocket to `addr`'s `/ws`, upgraded as loadgen does it, and what
/// the server sent after its answer (the start of its first frames).
fn upgrade(addr: SocketAddr) -> (TcpStream, Vec<u8>) {
    let stream = Async::new(TcpStream::connect(addr).expect("connect")).expect("register the socket");
    let early = smol::block_on(ws::handshake(&stream, addr)).expect("the upgrade");
    let stream = stream.into_inner().expect("the socket");
    stream.set_nonblocking(false).expect("blocking again");
    (stream, early)
}

/// A masked client frame with a payload of at most 125 bytes.
fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = vec![u8::from(fin) << 7 | opcode, 0x80 | payload.len() as u8];
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// Reads server frames until the close frame: its code, or `None` if the
/// connection ended without one.
fn close_code(stream: &mut impl Read) -> Option<u16> {
    loop {
        let mut head = [0; 2];
        match stream.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return None,
        }
        let len = match head[1] & 0x7f {
            126 => {
                let mut len = [0; 2];
                stream.read_exact(&mut len).ok()?;
                usize::from(u16::from_be_bytes(len))
            }
            127 => {
                let mut len = [0; 8];
                stream.read_exact(&mut len).ok()?;
                usize::try_from(u64::from_be_bytes(len)).ok()?
            }
            n => usize::from(n),
        };
        let mut payload = vec![0; len];
        stream.read_exact(&mut payload).ok()?;
        if head[0] & 0x0f == 8 {
            return payload.get(..2).map(|code| u16::from_be_bytes([code[0], code[1]]));
        }
    }
}
