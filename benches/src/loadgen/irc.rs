//! The little of IRC (RFC 1459/2812 client side) that `--mode irc` needs:
//! splitting a line into source, command and parameters, and framing the
//! lines loadgen writes.

/// The longest IRC line, `\r\n` included (RFC 2812 §2.3).
pub const MAX_LINE: usize = 512;

/// The largest `--size` accepted in IRC mode: the relayed line
/// (`:nick!user@host PRIVMSG #room :TEXT\r\n`) must stay within
/// [`MAX_LINE`], and the source and channel may take ~110 bytes.
pub const MAX_SIZE: usize = 400;

/// One received IRC line, split without copying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// The source without its `:` (`nick!user@host` or a server name),
    /// empty if the line has none.
    pub source: &'a [u8],
    /// The command or three-digit numeric.
    pub command: &'a [u8],
    /// Everything after the command, leading spaces removed.
    params: &'a [u8],
}

impl<'a> Line<'a> {
    /// Splits `line` (without its line ending); `None` if it has no command.
    pub fn parse(line: &'a [u8]) -> Option<Self> {
        let mut rest = line;
        let mut source: &[u8] = b"";
        if let Some(tail) = rest.strip_prefix(b":") {
            let (s, r) = split_word(tail);
            source = s;
            rest = r;
        }
        let (command, params) = split_word(rest);
        (!command.is_empty()).then_some(Self { source, command, params })
    }

    /// Parameter `n` (from 0); the trailing `:` parameter counts as the last.
    pub fn param(&self, n: usize) -> Option<&'a [u8]> {
        let mut rest = self.params;
        for at in 0.. {
            if rest.is_empty() {
                return None;
            }
            if let Some(trailing) = rest.strip_prefix(b":") {
                return (at == n).then_some(trailing);
            }
            let (word, tail) = split_word(rest);
            if at == n {
                return Some(word);
            }
            rest = tail;
        }
        None
    }

    /// The nickname part of the source (before `!`).
    pub fn nick(&self) -> &'a [u8] {
        self.source.split(|&b| b == b'!').next().unwrap_or_default()
    }

    /// Whether the command is `command` (IRC commands are case-insensitive).
    pub fn is(&self, command: &str) -> bool {
        self.command.eq_ignore_ascii_case(command.as_bytes())
    }

    /// The numeric reply code, if the command is one.
    pub fn numeric(&self) -> Option<u16> {
        if self.command.len() != 3 || !self.command.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(self.command).ok()?.parse().ok()
    }

    /// The text of a `PRIVMSG`, whoever it is to.
    pub fn privmsg_text(&self) -> Option<&'a [u8]> {
        if self.is("PRIVMSG") { self.param(1) } else { None }
    }
}

fn split_word(bytes: &[u8]) -> (&[u8], &[u8]) {
    let end = bytes.iter().position(|&b| b == b' ').unwrap_or(bytes.len());
    let rest = &bytes[end..];
    let skip = rest.iter().take_while(|&&b| b == b' ').count();
    (&bytes[..end], &rest[skip..])
}

/// Registration, in one write: `NICK` and `USER`.
pub fn hello(nick: &str) -> String {
    format!("NICK {nick}\r\nUSER {nick} 0 * :loadgen\r\n")
}

/// What starts every message loadgen sends to `channel`.
pub fn privmsg_prefix(channel: &str) -> String {
    format!("PRIVMSG {channel} :")
}

/// Ends the line in `out` (which ends in `\n`) with `\r\n` instead.
pub fn crlf(out: &mut Vec<u8>) {
    if out.last() == Some(&b'\n') {
        out.pop();
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_source_command_and_parameters() {
        let line = Line::parse(b":lg1n7!lg1n7@127.0.0.1 PRIVMSG #load0 :lg#5,6;xx yy").expect("parses");
        assert_eq!(line.source, b"lg1n7!lg1n7@127.0.0.1");
        assert_eq!(line.nick(), b"lg1n7");
        assert!(line.is("privmsg"));
        assert_eq!(line.param(0), Some(&b"#load0"[..]));
        assert_eq!(line.privmsg_text(), Some(&b"lg#5,6;xx yy"[..]));
        assert_eq!(line.param(2), None);
    }

    #[test]
    fn reads_numerics_pings_and_lines_without_a_source() {
        let line = Line::parse(b":irc.example.com 366 lg1n0 #load0 :End of NAMES list").expect("parses");
        assert_eq!((line.numeric(), line.param(1)), (Some(366), Some(&b"#load0"[..])));
        let ping = Line::parse(b"PING :irc.example.com").expect("parses");
        assert_eq!((ping.source, ping.is("PING"), ping.param(0)), (&b""[..], true, Some(&b"irc.example.com"[..])));
        let join = Line::parse(b":a!b@c JOIN #load0").expect("parses");
        assert_eq!((join.numeric(), join.param(0), join.param(1)), (None, Some(&b"#load0"[..]), None));
        assert_eq!(Line::parse(b":only.a.source"), None);
        assert_eq!(Line::parse(b""), None);
        assert_eq!(Line::parse(b"NOTICE x :a").and_then(|l| l.privmsg_text()), None);
    }

    #[test]
    fn frames_lines_with_crlf() {
        assert_eq!(hello("lg1"), "NICK lg1\r\nUSER lg1 0 * :loadgen\r\n");
        let mut out = privmsg_prefix("#load0").into_bytes();
        super::super::payload::encode(3, 4, 10, &mut out);
        crlf(&mut out);
        assert_eq!(out, b"PRIVMSG #load0 :lg#3,4;xxx\r\n");
    }
}
