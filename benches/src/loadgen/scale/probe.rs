//! Probes made while the load is held, each on a connection of its own
//! with plain blocking reads: a new connection (connect, name, join), and
//! the answers to `/who`, `/users` and `/list`.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A command's answer: how long it took and how big it was.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Answer {
    /// Milliseconds from sending the command to the first line of its answer.
    pub first_ms: f64,
    /// Milliseconds to the end of the answer.
    pub end_ms: f64,
    /// Lines in the answer.
    pub lines: u64,
    /// Bytes in the answer.
    pub bytes: u64,
}

/// A command the server does not know, sent after each probed command: its
/// error is the first line after the whole answer (the server answers a
/// client's lines in order), so the end is found however the answer is
/// laid out or paged.
const END: &str = "/loadgen-end";

/// Whether `line` is the server's answer to [`END`].
fn is_end(line: &[u8]) -> bool {
    line.starts_with(b"! ") && line.windows(END.len()).any(|w| w == END.as_bytes())
}

/// One probe connection.
pub struct Probe {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Bytes of `buf` already handed out as lines.
    used: usize,
}

impl Probe {
    /// Connects and takes `nick`, then joins `room` if given; returns the
    /// connection and how long that took (until the server confirmed the
    /// name, or the join). Whatever the join brings with it (the room's
    /// history) is read before this returns.
    pub fn open(addr: SocketAddr, nick: &str, room: Option<&str>, timeout: Duration) -> io::Result<(Self, Duration)> {
        let began = Instant::now();
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        let mut probe = Probe { stream, buf: Vec::new(), used: 0 };
        let join = room.map(|room| format!("/join {room}\n")).unwrap_or_default();
        probe.stream.write_all(format!("/nick {nick}\n{join}{END}\n").as_bytes())?;
        let confirmation: &[u8] = if room.is_some() { b"* you are now in " } else { b"* you are now known as " };
        let mut took = None;
        loop {
            let line = probe.line()?;
            if is_end(&line) {
                return took.map(|took| (probe, took)).ok_or_else(|| io::Error::other("the server confirmed nothing"));
            }
            if line.starts_with(confirmation) {
                took = Some(began.elapsed());
            } else if line.starts_with(b"! ") || line.starts_with(b"* bye: ") {
                return Err(io::Error::other(format!("refused: {}", String::from_utf8_lossy(&line))));
            }
        }
    }

    /// Sends `command` and times its answer.
    pub fn command(&mut self, command: &str) -> io::Result<Answer> {
        let began = Instant::now();
        self.stream.write_all(format!("{command}\n{END}\n").as_bytes())?;
        let mut answer = Answer { first_ms: 0.0, end_ms: 0.0, lines: 0, bytes: 0 };
        loop {
            let line = self.line()?;
            let ms = began.elapsed().as_secs_f64() * 1e3;
            if is_end(&line) {
                answer.end_ms = ms;
                if answer.lines == 0 {
                    answer.first_ms = ms;
                }
                return Ok(answer);
            }
            if answer.lines == 0 {
                answer.first_ms = ms;
            }
            answer.lines += 1;
            answer.bytes += line.len() as u64 + 1;
        }
    }

    /// The next line, without its ending.
    fn line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(at) = self.buf[self.used..].iter().position(|&b| b == b'\n') {
                let line = self.buf[self.used..self.used + at].to_vec();
                self.used += at + 1;
                return Ok(line);
            }
            self.buf.drain(..self.used);
            self.used = 0;
            let len = self.buf.len();
            self.buf.resize(len + 64 * 1024, 0);
            let n = self.stream.read(&mut self.buf[len..])?;
            self.buf.truncate(len + n);
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed by the server"));
            }
        }
    }
}
