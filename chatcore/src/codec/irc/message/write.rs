//! Writing a line from parts, and cutting a long text into lines that fit.

use std::borrow::Cow;

use super::tags::{escape_into, valid_key};
use super::{Command, MAX_BODY, MAX_PARAMS, MAX_TAGS, Message, Part};

/// Why parts cannot be written as a line. Each is a bug in the caller,
/// which should have checked or split its data first; writing refuses
/// rather than send a line a client would misread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum WriteError {
    /// A NUL, CR or LF, which would end or corrupt the line on the wire
    /// (CR and LF in a tag value are escaped and fine).
    #[error("NUL, CR or LF in a line")]
    ForbiddenByte,
    /// A part is over its limit.
    #[error("line too long")]
    TooLong {
        /// The part over its limit.
        part: Part,
    },
    /// A tag key that breaks the IRCv3 grammar.
    #[error("malformed tag key")]
    BadTag,
    /// An empty source, or one with a space.
    #[error("malformed source")]
    BadSource,
    /// A command that is neither letters nor three digits.
    #[error("malformed command")]
    BadCommand,
    /// A parameter before the last that is empty, has a space or starts
    /// with `:`: only the last can be written as trailing.
    #[error("parameter only the last may be")]
    BadParam,
    /// More than [`MAX_PARAMS`] parameters.
    #[error("too many parameters")]
    TooManyParams,
}

/// A line to write, in parts. The codec's replies are built this way.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outgoing<'a> {
    /// Tags as keys and values before escaping; an empty value is written
    /// as a bare key.
    pub(crate) tags: &'a [(&'a str, &'a str)],
    /// The source, without its `:` (the server's name, or `nick!user@host`).
    pub(crate) source: Option<&'a str>,
    /// The command word or three-digit numeric.
    pub(crate) command: &'a str,
    /// The parameters; the last is written as trailing when it must be.
    pub(crate) params: &'a [&'a str],
}

impl<'a> Outgoing<'a> {
    /// Appends the line, ending in CR LF, to `out`. On error `out` is left
    /// as it was.
    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<(), WriteError> {
        let tags = self.tags.iter().map(|&(key, value)| (key, Cow::Borrowed(value.as_bytes())));
        write_parts(out, tags, self.source.map(str::as_bytes), self.command, self.params)
    }

    /// How many bytes one more parameter, written as trailing, may have
    /// for the line to fit [`MAX_BODY`]. Counts the `:` even when the piece
    /// would not need it, so that every piece fits either way.
    pub(crate) fn room_for_trailing(&self) -> usize {
        let source = self.source.map_or(0, |s| 1 + s.len() + 1);
        let params: usize = self.params.iter().map(|p| 1 + p.len()).sum();
        MAX_BODY.saturating_sub(source + self.command.len() + params + 2)
    }

    /// Cuts `text` into pieces that each fit as one more, trailing,
    /// parameter of this line: as many as needed, at least one (an empty
    /// text is one empty piece), cut only between UTF-8 characters, so
    /// that they join back into `text`. Long chat messages go out as
    /// several PRIVMSGs this way, never cut short.
    ///
    /// Fails with [`WriteError::TooLong`] when the rest of the line leaves
    /// no room for even one character of four bytes.
    pub(crate) fn split_trailing<'t>(&self, text: &'t str) -> Result<Pieces<'t>, WriteError> {
        let room = self.room_for_trailing();
        if room < MAX_CHAR {
            return Err(WriteError::TooLong { part: Part::Body });
        }
        Ok(Pieces { rest: Some(text), max: room })
    }
}

/// The longest a UTF-8 character can be.
const MAX_CHAR: usize = 4;

/// The pieces of a text, from [`Outgoing::split_trailing`].
#[derive(Debug, Clone)]
pub(crate) struct Pieces<'t> {
    /// What is left to cut; `None` once the last piece is out.
    rest: Option<&'t str>,
    /// At most this many bytes a piece, and at least [`MAX_CHAR`].
    max: usize,
}

impl<'t> Iterator for Pieces<'t> {
    type Item = &'t str;

    fn next(&mut self) -> Option<&'t str> {
        let rest = self.rest?;
        if rest.len() <= self.max {
            self.rest = None;
            return Some(rest);
        }
        // Back up to the start of the character that would cross the limit;
        // with `max` at least four bytes, one whole character always fits.
        let mut cut = self.max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        // Rather between words, after a space in the second half of a
        // whole piece (the space stays with it, so the pieces still join
        // into the text); a text without one there is cut where it must be.
        // Half of `max`, not of `cut`: a cut backed up to a character's
        // start would otherwise let a piece end at a space before half.
        if let Some(space) = rest[..cut].rfind(' ').filter(|&at| at >= self.max / 2) {
            cut = space + 1;
        }
        let (piece, after) = rest.split_at(cut);
        self.rest = Some(after);
        Some(piece)
    }
}

impl Message<'_> {
    /// Appends the message as a line, ending in CR LF, to `out`: tag values
    /// escaped afresh, parts joined by single spaces, the last parameter
    /// trailing only when it must be. A parsed message always fits, as
    /// none of this makes it longer. On error `out` is left as it was.
    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<(), WriteError> {
        let tags = self.tags().iter().map(|tag| (tag.key(), tag.value()));
        write_parts(out, tags, self.source(), self.command().as_str(), self.params())
    }
}

/// Appends `line`, one complete line this server wrote, to `out` with the
/// tag `key=value` (value escaped) first among its tags: how a reply is
/// labelled or put in a batch after it was rendered.
pub(crate) fn prepend_tag(out: &mut Vec<u8>, key: &str, value: &str, line: &[u8]) {
    out.push(b'@');
    out.extend_from_slice(key.as_bytes());
    if !value.is_empty() {
        out.push(b'=');
        escape_into(out, value.as_bytes());
    }
    match line.strip_prefix(b"@") {
        Some(tags) => {
            out.push(b';');
            out.extend_from_slice(tags);
        }
        None => {
            out.push(b' ');
            out.extend_from_slice(line);
        }
    }
}

/// Writes the parts, checking each; on error, takes back what it wrote.
fn write_parts<'v, P: AsRef<[u8]>>(
    out: &mut Vec<u8>,
    tags: impl Iterator<Item = (&'v str, Cow<'v, [u8]>)>,
    source: Option<&[u8]>,
    command: &str,
    params: &[P],
) -> Result<(), WriteError> {
    let start = out.len();
    let result = write_tags(out, tags).and_then(|()| write_body(out, source, command, params));
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Writes `@tags ` (nothing when there are none), values escaped.
fn write_tags<'v>(out: &mut Vec<u8>, tags: impl Iterator<Item = (&'v str, Cow<'v, [u8]>)>) -> Result<(), WriteError> {
    let start = out.len();
    for (i, (key, value)) in tags.enumerate() {
        if !valid_key(key.as_bytes()) {
            return Err(WriteError::BadTag);
        }
        // CR and LF have escapes; NUL has none.
        refuse_forbidden(&value, &[0])?;
        out.push(if i == 0 { b'@' } else { b';' });
        out.extend_from_slice(key.as_bytes());
        if !value.is_empty() {
            out.push(b'=');
            escape_into(out, &value);
        }
    }
    if out.len() > start {
        out.push(b' ');
        if out.len() - start > MAX_TAGS {
            return Err(WriteError::TooLong { part: Part::Tags });
        }
    }
    Ok(())
}

/// Writes the source, command and parameters, and the CR LF.
fn write_body<P: AsRef<[u8]>>(
    out: &mut Vec<u8>,
    source: Option<&[u8]>,
    command: &str,
    params: &[P],
) -> Result<(), WriteError> {
    let body = out.len();
    if let Some(source) = source {
        refuse_forbidden(source, b"\0\r\n")?;
        if source.is_empty() || source.contains(&b' ') {
            return Err(WriteError::BadSource);
        }
        out.push(b':');
        out.extend_from_slice(source);
        out.push(b' ');
    }
    let command = Command::new(command).ok_or(WriteError::BadCommand)?;
    out.extend_from_slice(command.as_str().as_bytes());
    if params.len() > MAX_PARAMS {
        return Err(WriteError::TooManyParams);
    }
    for (i, param) in params.iter().enumerate() {
        let param = param.as_ref();
        refuse_forbidden(param, b"\0\r\n")?;
        out.push(b' ');
        // Without the `:`, such a parameter would read as none, as two, or lose its `:`.
        if param.is_empty() || param.contains(&b' ') || param.starts_with(b":") {
            if i + 1 < params.len() {
                return Err(WriteError::BadParam);
            }
            out.push(b':');
        }
        out.extend_from_slice(param);
    }
    if out.len() - body > MAX_BODY {
        return Err(WriteError::TooLong { part: Part::Body });
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// Refuses a part that holds any of `forbidden`. Engine data never does
/// (names and texts with control characters are rejected on the way in),
/// so one here is a bug: tests and fuzzing stop on it, and a release build
/// refuses the line rather than let a peer's bytes start a line of their own.
fn refuse_forbidden(part: &[u8], forbidden: &[u8]) -> Result<(), WriteError> {
    let found = part.iter().any(|b| forbidden.contains(b));
    debug_assert!(!found, "NUL, CR or LF in an IRC line: {:?}", String::from_utf8_lossy(part));
    if found { Err(WriteError::ForbiddenByte) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(out: Outgoing<'_>) -> String {
        let mut bytes = Vec::new();
        out.write(&mut bytes).unwrap_or_else(|e| panic!("{out:?}: {e}"));
        String::from_utf8(bytes).expect("UTF-8")
    }

    fn error(out: Outgoing<'_>) -> WriteError {
        let mut bytes = b"kept".to_vec();
        let e = out.write(&mut bytes).expect_err("refused");
        assert_eq!(bytes, b"kept", "a refused line leaves the buffer as it was");
        e
    }

    const PLAIN: Outgoing<'static> = Outgoing { tags: &[], source: None, command: "PING", params: &[] };

    #[test]
    fn the_last_parameter_is_trailing_only_when_it_must_be() {
        let privmsg = |text| {
            line(Outgoing { source: Some("nick!ident@host.com"), command: "PRIVMSG", params: &["me", text], ..PLAIN })
        };
        assert_eq!(privmsg("Hello"), ":nick!ident@host.com PRIVMSG me Hello\r\n");
        assert_eq!(privmsg("two words"), ":nick!ident@host.com PRIVMSG me :two words\r\n");
        assert_eq!(privmsg(""), ":nick!ident@host.com PRIVMSG me :\r\n");
        assert_eq!(privmsg(":-)"), ":nick!ident@host.com PRIVMSG me ::-)\r\n");
        assert_eq!(privmsg("a:b"), ":nick!ident@host.com PRIVMSG me a:b\r\n");
        assert_eq!(
            line(Outgoing { source: Some("irc.example.com"), command: "CAP", params: &["*", "LIST", ""], ..PLAIN }),
            ":irc.example.com CAP * LIST :\r\n"
        );
        assert_eq!(
            line(Outgoing { command: "001", params: &["alice", "Welcome to chatcore"], ..PLAIN }),
            "001 alice :Welcome to chatcore\r\n"
        );
        assert_eq!(line(PLAIN), "PING\r\n");
    }

    #[test]
    fn tag_values_are_escaped() {
        let tags = [("+example", "raw+:=,escaped; \\"), ("rose", ""), ("time", "2024-01-01T00:00:00Z"), ("a", "\r\n")];
        let written = line(Outgoing {
            tags: &tags,
            source: Some("irc.example.com"),
            command: "NOTICE",
            params: &["#channel", "Message"],
        });
        assert_eq!(
            written,
            "@+example=raw+:=,escaped\\:\\s\\\\;rose;time=2024-01-01T00:00:00Z;a=\\r\\n :irc.example.com NOTICE #channel Message\r\n"
        );
    }

    #[test]
    fn malformed_parts_are_refused() {
        assert_eq!(error(Outgoing { tags: &[("bad key", "v")], ..PLAIN }), WriteError::BadTag);
        assert_eq!(error(Outgoing { tags: &[("", "")], ..PLAIN }), WriteError::BadTag);
        assert_eq!(error(Outgoing { source: Some(""), ..PLAIN }), WriteError::BadSource);
        assert_eq!(error(Outgoing { source: Some("a b"), ..PLAIN }), WriteError::BadSource);
        assert_eq!(error(Outgoing { command: "PRIV MSG", ..PLAIN }), WriteError::BadCommand);
        assert_eq!(error(Outgoing { command: "1000", ..PLAIN }), WriteError::BadCommand);
        assert_eq!(error(Outgoing { command: "", ..PLAIN }), WriteError::BadCommand);
        for first in ["", "a b", ":a"] {
            assert_eq!(error(Outgoing { params: &[first, "x"], ..PLAIN }), WriteError::BadParam, "{first:?}");
        }
        let sixteen = ["p"; 16];
        assert_eq!(error(Outgoing { params: &sixteen, ..PLAIN }), WriteError::TooManyParams);
        assert_eq!(line(Outgoing { params: &sixteen[..15], ..PLAIN }).matches(" p").count(), 15);
    }

    #[test]
    fn lines_must_fit() {
        let fits = "x".repeat(MAX_BODY - "PING ".len());
        assert_eq!(line(Outgoing { params: &[&fits], ..PLAIN }).len(), MAX_BODY + 2);
        let over = format!("{fits}x");
        assert_eq!(error(Outgoing { params: &[&over], ..PLAIN }), WriteError::TooLong { part: Part::Body });
        // The tags have their own, larger, allowance.
        let value = "v".repeat(MAX_TAGS - "@k= ".len());
        let tags = [("k", value.as_str())];
        assert!(line(Outgoing { tags: &tags, params: &[&fits], ..PLAIN }).starts_with("@k=v"));
        let value = format!("{value}v");
        let tags = [("k", value.as_str())];
        assert_eq!(error(Outgoing { tags: &tags, ..PLAIN }), WriteError::TooLong { part: Part::Tags });
        // Escapes count as written.
        let value = ";".repeat(MAX_TAGS / 2);
        let tags = [("k", value.as_str())];
        assert_eq!(error(Outgoing { tags: &tags, ..PLAIN }), WriteError::TooLong { part: Part::Tags });
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "NUL, CR or LF in an IRC line")]
    fn a_line_break_in_a_parameter_is_a_bug() {
        let _ = Outgoing { params: &["hi\r\nQUIT"], ..PLAIN }.write(&mut Vec::new());
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "NUL, CR or LF in an IRC line")]
    fn a_nul_in_a_tag_value_is_a_bug() {
        let _ = Outgoing { tags: &[("a", "\0")], ..PLAIN }.write(&mut Vec::new());
    }

    #[test]
    #[cfg(not(debug_assertions))]
    fn forbidden_bytes_are_refused() {
        for bad in ["a\rb", "a\nb", "a\0b"] {
            assert_eq!(error(Outgoing { params: &[bad], ..PLAIN }), WriteError::ForbiddenByte);
            assert_eq!(error(Outgoing { source: Some(bad), ..PLAIN }), WriteError::ForbiddenByte);
        }
        assert_eq!(error(Outgoing { tags: &[("a", "\0")], ..PLAIN }), WriteError::ForbiddenByte);
    }

    #[test]
    fn a_long_text_is_split_into_lines_that_fit() {
        let privmsg =
            Outgoing { source: Some("alice!alice@chatcore"), command: "PRIVMSG", params: &["#rust"], ..PLAIN };
        let room = privmsg.room_for_trailing();
        assert_eq!(room, MAX_BODY - ":alice!alice@chatcore PRIVMSG #rust :".len());
        let text = "é".repeat(room); // two bytes each: twice the room
        let pieces: Vec<&str> = privmsg.split_trailing(&text).expect("room").collect();
        assert!(pieces.len() >= 2);
        assert_eq!(pieces.concat(), text);
        for (i, piece) in pieces.iter().enumerate() {
            assert!(piece.len() <= room, "{} of {room}", piece.len());
            if i + 1 < pieces.len() {
                assert!(piece.len() >= room - 1, "cut short by more than half a character: {} of {room}", piece.len());
            }
            let written = line(Outgoing { params: &["#rust", piece], ..privmsg });
            assert!(written.len() <= MAX_BODY + 2);
        }
    }

    #[test]
    fn a_split_never_cuts_a_character() {
        let privmsg = Outgoing { command: "PRIVMSG", params: &["#r"], ..PLAIN };
        let room = privmsg.room_for_trailing();
        // A four-byte character straddling the limit goes whole into the next piece.
        let text = format!("{}🦀🦀", "x".repeat(room - 2));
        let pieces: Vec<&str> = privmsg.split_trailing(&text).expect("room").collect();
        assert_eq!(pieces, [&"x".repeat(room - 2), "🦀🦀"]);
    }

    #[test]
    fn short_and_empty_texts_are_one_piece() {
        let privmsg = Outgoing { command: "PRIVMSG", params: &["#r"], ..PLAIN };
        assert_eq!(privmsg.split_trailing("hi").expect("room").collect::<Vec<_>>(), ["hi"]);
        assert_eq!(privmsg.split_trailing("").expect("room").collect::<Vec<_>>(), [""]);
    }

    #[test]
    fn no_room_is_an_error() {
        let target = "#".repeat(MAX_BODY - "PRIVMSG  :".len() - 3);
        let privmsg = Outgoing { command: "PRIVMSG", params: &[&target], ..PLAIN };
        assert_eq!(privmsg.room_for_trailing(), 3);
        assert_eq!(privmsg.split_trailing("hi").map(|_| ()), Err(WriteError::TooLong { part: Part::Body }));
        let target = format!("{target}###");
        assert_eq!(Outgoing { params: &[&target], ..privmsg }.room_for_trailing(), 0);
    }
}
