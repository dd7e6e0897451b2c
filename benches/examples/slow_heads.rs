//! A wave of HTTP request heads that are never finished, from many
//! loopback addresses: what connections that are not clients yet cost
//! chatd (descriptors, memory) and whether anyone else still gets in.
//!
//! ```text
//! cargo build --release -p chatd-benches --example slow_heads
//! target/release/examples/slow_heads HTTP_ADDR 1 625 16 30
//! ```
//!
//! Arguments: chatd's HTTP address (loopback only); the third byte of the
//! source addresses to use (127.0.T.1, 127.0.T.2, ...; run two with
//! different values to pass one process's open-file limit); addresses;
//! connections per address; seconds to hold them. Each connection sends
//! 7 KB of a head that never ends, in the first second. Prints, each
//! second, how many of its connections chatd still holds open.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

fn main() {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args.next().expect("chatd's HTTP address").parse().expect("an IP:PORT");
    assert!(addr.ip().is_loopback(), "loopback only");
    let mut number = |default: u64| args.next().map_or(default, |a| a.parse::<u64>().expect("a number"));
    let third = u8::try_from(number(1)).expect("a byte");
    let addresses = number(625);
    let per_address = number(16);
    let secs = number(30);
    let head = format!("GET / HTTP/1.1\r\nHost: localhost\r\nX-Padding: {}", "x".repeat(7000));
    let began = Instant::now();
    let mut open = Vec::new();
    let mut refused = 0;
    for a in 0..addresses {
        let source = Ipv4Addr::new(127, 0, third + (a / 250) as u8, 1 + (a % 250) as u8);
        for _ in 0..per_address {
            match connect_from(addr, source) {
                Ok(mut stream) => {
                    let _ = stream.write_all(head.as_bytes());
                    stream.set_nonblocking(true).expect("non-blocking");
                    open.push(stream);
                }
                Err(_) => refused += 1,
            }
        }
    }
    println!(
        "{:.1} s: {} connections sent their 7 KB ({refused} could not connect)",
        began.elapsed().as_secs_f64(),
        open.len()
    );
    let until = began + Duration::from_secs(secs);
    while Instant::now() < until {
        std::thread::sleep(Duration::from_secs(1));
        open.retain(still_open);
        println!("{:.0} s: chatd holds {} of them", began.elapsed().as_secs_f64(), open.len());
    }
}

fn connect_from(addr: SocketAddr, source: Ipv4Addr) -> std::io::Result<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.bind(&SocketAddr::new(IpAddr::V4(source), 0).into())?;
    socket.connect_timeout(&addr.into(), Duration::from_secs(5))?;
    Ok(socket.into())
}

/// Whether chatd has neither closed nor answered the connection (any
/// answer, 408 included, ends it).
fn still_open(mut stream: &TcpStream) -> bool {
    let mut buf = [0; 256];
    match stream.read(&mut buf) {
        Err(e) => e.kind() == ErrorKind::WouldBlock,
        Ok(0) => false,
        Ok(_answered) => false,
    }
}
