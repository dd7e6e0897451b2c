//! The client side of a WebSocket that `--mode ws` needs, against chatd's
//! `/ws`: the opening handshake, JSON requests in masked text frames, and
//! splitting what the server sends back into frames. The frame format
//! (headers, masking) is tungstenite's; loadgen keeps its own raw
//! non-blocking sockets so that the schedule, bursts and accounting are
//! the same as in the other modes.

use std::io::Cursor;
use std::net::{SocketAddr, TcpStream};

use serde_json::{Value, json};
use smol::Async;
use smol::io::{AsyncReadExt, AsyncWriteExt};
use tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tungstenite::protocol::frame::{Frame, FrameHeader};

/// The key of every handshake (RFC 6455's example), and the answer that
/// proves the server read it.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// Largest handshake answer read.
const MAX_HEAD: usize = 4096;

/// Upgrades a fresh connection to `addr` (sent without `Origin`, as a
/// program rather than a browser page). Returns what came after the
/// answer's head: at most the start of the server's first frames.
pub async fn handshake(stream: &Async<TcpStream>, addr: SocketAddr) -> Result<Vec<u8>, String> {
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    let mut stream = stream;
    stream.write_all(request.as_bytes()).await.map_err(|e| format!("write the handshake: {e}"))?;
    let mut head = Vec::new();
    let mut chunk = [0; 1024];
    let end = loop {
        let n = stream.read(&mut chunk).await.map_err(|e| format!("read the handshake: {e}"))?;
        if n == 0 {
            return Err("the server closed during the handshake".into());
        }
        head.extend_from_slice(&chunk[..n]);
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if head.len() > MAX_HEAD {
            return Err("the handshake answer has no end".into());
        }
    };
    let text = String::from_utf8_lossy(&head[..end]);
    if !text.starts_with("HTTP/1.1 101 ") || !text.contains(ACCEPT) {
        let first = text.lines().next().unwrap_or_default();
        return Err(format!("the server refused the WebSocket: {first}"));
    }
    Ok(head[end..].to_vec())
}

/// Appends `value` as one masked text frame.
pub fn request(value: &Value, out: &mut Vec<u8>) {
    text_frame(value.to_string().as_bytes(), out);
}

/// Appends a `say` of `text` to `room` as one masked text frame. The text
/// is loadgen's payload (ASCII, nothing to escape), so the JSON is written
/// without a serializer on the send path.
pub fn say(room: &str, text: &[u8], out: &mut Vec<u8>) {
    let mut json = Vec::with_capacity(text.len() + room.len() + 40);
    json.extend_from_slice(br#"{"type":"say","room":""#);
    json.extend_from_slice(room.as_bytes());
    json.extend_from_slice(br#"","text":""#);
    json.extend_from_slice(text);
    json.extend_from_slice(br#""}"#);
    text_frame(&json, out);
}

/// The requests that name a client and put it in its room.
pub fn hello(nick: &str, room: &str, create: bool, out: &mut Vec<u8>) {
    request(&json!({"type": "nick", "nick": nick}), out);
    request(&json!({"type": if create { "create" } else { "join" }, "room": room}), out);
}

/// The answer to a ping, as a client must send it (masked).
pub fn pong(payload: &[u8], out: &mut Vec<u8>) {
    frame(OpCode::Control(Control::Pong), payload, out);
}

fn text_frame(payload: &[u8], out: &mut Vec<u8>) {
    frame(OpCode::Data(Data::Text), payload, out);
}

fn frame(opcode: OpCode, payload: &[u8], out: &mut Vec<u8>) {
    // A fixed mask is as good as a random one against a server on loopback,
    // and keeps runs reproducible; the server must unmask either way.
    let header = FrameHeader { opcode, mask: Some([0x5a, 0x17, 0xc3, 0x88]), ..FrameHeader::default() };
    Frame::from_payload(header, payload.to_vec().into()).format(out).expect("writing to a Vec cannot fail");
}

/// Whether a JSON line is a live room message (not a history replay),
/// which is where loadgen's payloads come back.
///
/// chatd sends a JSON sender its own message back; `me`'s own copies are
/// not deliveries, so they do not count.
pub fn is_live_message(line: &[u8], me: &str) -> bool {
    line.starts_with(br#"{"type":"message","#) && line.ends_with(br#","history":false}"#) && !is_from(line, me)
}

/// Whether a message line's `from` (its first, which comes before the
/// text) is `nick`.
fn is_from(line: &[u8], nick: &str) -> bool {
    let key = br#","from":""#;
    let Some(at) = line.windows(key.len()).position(|w| w == key) else { return false };
    let rest = &line[at + key.len()..];
    rest.strip_prefix(nick.as_bytes()).is_some_and(|after| after.starts_with(b"\","))
}

/// Whether a JSON line confirms that `nick` joined `room`.
pub fn joined(line: &[u8], room: &str, nick: &str) -> bool {
    let prefix = format!(r#"{{"type":"joined","room":"{room}","nick":"{nick}","#);
    line.starts_with(prefix.as_bytes())
}

/// The code of a JSON error line.
pub fn error_code(line: &[u8]) -> Option<String> {
    if !line.starts_with(br#"{"type":"error""#) {
        return None;
    }
    let value: Value = serde_json::from_slice(line).ok()?;
    value["code"].as_str().map(str::to_owned)
}

/// The nickname and reason in a JSON disconnect notice.
pub fn departure(line: &[u8]) -> Option<(String, String)> {
    if !line.starts_with(br#"{"type":"disconnected""#) {
        return None;
    }
    let value: Value = serde_json::from_slice(line).ok()?;
    Some((value["nick"].as_str()?.to_owned(), value["reason"].as_str()?.to_owned()))
}

/// One frame from the server, as far as loadgen cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A whole text message (chatd sends one line per frame, unfragmented).
    Text(&'a [u8]),
    /// A ping, to be answered.
    Ping(&'a [u8]),
    /// The server is closing (its reason came before, as a JSON `bye`).
    Close,
}

/// Splits a byte stream into frames. Only a frame split across reads is
/// copied; everything else is handed out in place.
#[derive(Debug, Default)]
pub struct Frames {
    partial: Vec<u8>,
}

impl Frames {
    /// Calls `on` for each complete frame in what was kept plus `data`.
    pub fn feed(&mut self, data: &[u8], mut on: impl FnMut(Event<'_>)) -> Result<(), String> {
        if self.partial.is_empty() {
            let used = split(data, &mut on)?;
            self.partial.extend_from_slice(&data[used..]);
        } else {
            self.partial.extend_from_slice(data);
            let used = split(&self.partial, &mut on)?;
            self.partial.drain(..used);
        }
        Ok(())
    }
}

/// Hands out the complete frames at the start of `bytes`; returns how many
/// bytes they took.
fn split(bytes: &[u8], on: &mut impl FnMut(Event<'_>)) -> Result<usize, String> {
    let mut at = 0;
    loop {
        let mut cursor = Cursor::new(&bytes[at..]);
        let Some((header, len)) = FrameHeader::parse(&mut cursor).map_err(|e| format!("bad frame: {e}"))? else {
            return Ok(at);
        };
        let start = at + cursor.position() as usize;
        let end = usize::try_from(len).ok().and_then(|len| start.checked_add(len)).ok_or("a frame too large")?;
        if end > bytes.len() {
            return Ok(at);
        }
        if header.mask.is_some() {
            return Err("the server sent a masked frame".into());
        }
        let payload = &bytes[start..end];
        match header.opcode {
            OpCode::Data(Data::Text) if header.is_final => on(Event::Text(payload)),
            OpCode::Control(Control::Ping) => on(Event::Ping(payload)),
            OpCode::Control(Control::Close) => on(Event::Close),
            opcode => return Err(format!("unexpected frame from the server: {opcode} (final: {})", header.is_final)),
        }
        at = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame as the server sends it: unmasked.
    fn server_frame(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let header = FrameHeader { opcode, ..FrameHeader::default() };
        Frame::from_payload(header, payload.to_vec().into()).format(&mut out).unwrap();
        out
    }

    #[test]
    fn frames_split_anywhere_come_out_whole() {
        let text = OpCode::Data(Data::Text);
        let long = "y".repeat(300);
        let input = [
            server_frame(text, br#"{"type":"welcome"}"#),
            server_frame(OpCode::Control(Control::Ping), b""),
            server_frame(text, long.as_bytes()),
            server_frame(OpCode::Control(Control::Close), &[0x03, 0xe9]),
        ]
        .concat();
        for cut in 0..input.len() {
            let mut frames = Frames::default();
            let mut got = Vec::new();
            let mut record = |event: Event<'_>| {
                got.push(match event {
                    Event::Text(t) => String::from_utf8(t.to_vec()).unwrap(),
                    Event::Ping(_) => "ping".into(),
                    Event::Close => "close".into(),
                })
            };
            frames.feed(&input[..cut], &mut record).unwrap();
            frames.feed(&input[cut..], &mut record).unwrap();
            assert_eq!(got, [r#"{"type":"welcome"}"#, "ping", long.as_str(), "close"], "cut at {cut}");
        }
    }

    #[test]
    fn requests_are_masked_text_frames_of_the_json() {
        let mut out = Vec::new();
        say("load0", b"lg#1,2;xx", &mut out);
        let mut cursor = Cursor::new(&out[..]);
        let (header, len) = FrameHeader::parse(&mut cursor).unwrap().unwrap();
        assert_eq!((header.opcode, header.is_final), (OpCode::Data(Data::Text), true));
        let mask = header.mask.expect("client frames are masked");
        let start = cursor.position() as usize;
        let payload: Vec<u8> = out[start..].iter().enumerate().map(|(i, b)| b ^ mask[i % 4]).collect();
        assert_eq!(payload.len() as u64, len);
        let value: Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(value, json!({"type": "say", "room": "load0", "text": "lg#1,2;xx"}));
    }

    #[test]
    fn reads_chatds_json_lines() {
        let message =
            br#"{"type":"message","room":"load0","seq":3,"from":"lg1n2","text":"lg#5,6;x","ts":1,"history":false}"#;
        assert!(is_live_message(message, "lg1n1"));
        assert!(is_live_message(message, "lg1n"));
        assert!(!is_live_message(message, "lg1n2"), "its own copy");
        let replay =
            br#"{"type":"message","room":"load0","seq":3,"from":"lg1n2","text":"lg#5,6;x","ts":1,"history":true}"#;
        assert!(!is_live_message(replay, "lg1n1"));
        assert!(joined(br#"{"type":"joined","room":"load0","nick":"lg1n2","members":2}"#, "load0", "lg1n2"));
        assert!(!joined(br#"{"type":"joined","room":"load0","nick":"lg1n20","members":2}"#, "load0", "lg1n2"));
        assert_eq!(
            error_code(br#"{"type":"error","code":"room_exists","message":"m"}"#).as_deref(),
            Some("room_exists")
        );
        assert_eq!(
            departure(br#"{"type":"disconnected","nick":"lg1n2","reason":"send queue exceeded"}"#),
            Some(("lg1n2".into(), "send queue exceeded".into()))
        );
    }
}
