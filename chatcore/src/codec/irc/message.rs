//! The IRC message grammar (RFC 1459 and 2812, with IRCv3 message tags),
//! read and written as bytes:
//!
//! ```text
//! ['@' tags SPACE] [':' source SPACE] command *(SPACE middle) [SPACE ':' trailing]
//! ```
//!
//! [`Message::parse`] reads one line without its line ending and borrows
//! every part from it; nothing is copied unless a tag value holds an escape
//! or a caller asks for an uppercase command spelled in lowercase.
//! [`Outgoing`] writes a line from parts, and [`Outgoing::split_trailing`]
//! cuts a text too long for one line into pieces that each fit.
//!
//! The grammar knows nothing of what commands mean: that is the codec's
//! job. Each [`ParseError`] is distinct so that the codec can answer it with
//! the numeric it deserves (`417 ERR_INPUTTOOLONG` for [`ParseError::TooLong`],
//! `421 ERR_UNKNOWNCOMMAND` for a well-formed command it does not know,
//! and so on). Parameters are bytes, as on the wire; [`Param::as_str`] says
//! whether one is UTF-8, so that a PRIVMSG in another encoding can be
//! refused with a reply instead of mangled.
//!
//! # Limits
//!
//! * The line without its tags and without CR LF: at most [`MAX_BODY`]
//!   (510) bytes, the 512 of RFC 1459 less the line ending.
//! * Tags read from a client: at most [`MAX_CLIENT_TAG_DATA`] (4094) bytes
//!   between the `@` and the space, 4096 with them. IRCv3 forbids clients
//!   to send more and tells servers to answer more with 417, so a line from
//!   a client with more tag data is [`ParseError::TooLong`].
//! * Tags written: at most [`MAX_TAGS`] (8191) bytes with the `@` and the
//!   space, IRCv3's ceiling for a line a server sends: its own tags (4094)
//!   and a client's relayed ones (4094), joined by a `;`.
//! * So a client's line may have 4096 + 510 bytes before its CR LF, and
//!   the framer's cap for an IRC connection must allow that much.
//! * At most [`MAX_PARAMS`] (15) parameters, the RFCs' limit, both ways. A
//!   client line with more is refused, neither merged into the fifteenth
//!   (as RFC 2812's grammar reads it) nor kept (as the modern documents ask
//!   of clients reading servers): no command we serve takes more, and an
//!   error tells the client what a silent merge would hide.

mod parse;
mod tags;
mod write;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;

pub(crate) use tags::{Tag, Tags};
pub(crate) use write::{Outgoing, Pieces, WriteError, prepend_tag};

/// The longest a line may be without its tags and its CR LF.
pub(crate) const MAX_BODY: usize = 510;
/// The most tag data (between `@` and the space) a client may send.
pub(crate) const MAX_CLIENT_TAG_DATA: usize = 4094;
/// The longest the tags of a written line may be, `@` and space included.
pub(crate) const MAX_TAGS: usize = 8191;
/// The most parameters a message may have.
pub(crate) const MAX_PARAMS: usize = 15;

/// Which part of a line broke its length limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// The tags, with their `@` and the space after them.
    Tags,
    /// Everything else (source, command, parameters), without CR LF.
    Body,
}

/// Why a line is not an IRC message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ParseError {
    /// Nothing but spaces; IRC says to ignore such lines.
    #[error("empty line")]
    Empty,
    /// A part is over its limit (see the module's limits).
    #[error("input line was too long")]
    TooLong {
        /// The part over its limit.
        part: Part,
    },
    /// A NUL byte, which IRC forbids anywhere in a line.
    #[error("NUL byte in line")]
    NulByte,
    /// A CR or LF inside the line: line endings are the framer's, so one
    /// here would be a second line smuggled into a single message.
    #[error("line break inside line")]
    LineBreak,
    /// Tags that break the IRCv3 grammar: none after `@`, or an empty or
    /// malformed key.
    #[error("malformed message tags")]
    BadTag,
    /// A `:` with no source after it.
    #[error("empty source")]
    BadSource,
    /// Tags or a source and then nothing.
    #[error("no command")]
    NoCommand,
    /// A command that is neither letters nor a three-digit numeric.
    #[error("malformed command")]
    BadCommand,
    /// More than [`MAX_PARAMS`] parameters.
    #[error("too many parameters")]
    TooManyParams,
}

/// A part of a message that is not valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not valid UTF-8")]
pub(crate) struct NotUtf8;

/// One IRC message, borrowed from the line it was parsed from.
#[derive(Clone, Copy)]
pub(crate) struct Message<'a> {
    tags: Tags<'a>,
    source: Option<&'a [u8]>,
    command: Command<'a>,
    /// The first `len` are the parameters; the rest stay empty. A fixed
    /// array, because the RFC's limit makes one and parsing then never
    /// allocates.
    params: [Param<'a>; MAX_PARAMS],
    len: usize,
}

impl<'a> Message<'a> {
    /// The message's tags (none when it had no `@` part).
    pub(crate) fn tags(&self) -> Tags<'a> {
        self.tags
    }

    /// The source after the leading `:`, as sent (`nick!user@host` or a
    /// server name). Clients should send none and servers ignore theirs.
    pub(crate) fn source(&self) -> Option<&'a [u8]> {
        self.source
    }

    /// The command word or numeric.
    pub(crate) fn command(&self) -> Command<'a> {
        self.command
    }

    /// The parameters in order, the trailing one (after ` :`) last and no
    /// different from the others.
    pub(crate) fn params(&self) -> &[Param<'a>] {
        &self.params[..self.len]
    }

    /// The `index`-th parameter, if there is one.
    pub(crate) fn param(&self, index: usize) -> Option<Param<'a>> {
        self.params().get(index).copied()
    }
}

/// Two messages are equal when their parts are: tags by key and unescaped
/// value (so `a=b\` equals `a=b`), then source, command and parameters.
impl PartialEq for Message<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.tags == other.tags
            && self.source == other.source
            && self.command == other.command
            && self.params() == other.params()
    }
}

impl Eq for Message<'_> {}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("tags", &self.tags)
            .field("source", &self.source.map(Lossy))
            .field("command", &self.command)
            .field("params", &self.params())
            .finish()
    }
}

/// A command: a word of ASCII letters (then digits or `_` too), as spelled by the peer, or a
/// three-digit numeric.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Command<'a>(&'a str);

impl<'a> Command<'a> {
    /// `word` as a command, if it is one: a letter then letters, digits or `_`, or exactly three
    /// digits.
    pub(crate) fn new(word: &'a str) -> Option<Self> {
        Self::from_bytes(word.as_bytes())
    }

    /// Checks the grammar's rule on bytes, returning them as text.
    fn from_bytes(word: &'a [u8]) -> Option<Self> {
        // Letters, as RFC 1459 has commands; digits and `_` after the first
        // letter too, so that a command the server does not know
        // (`NONEXISTENT_COMMAND`) is answered 421, as IRCv3 clients expect
        // (labelled), rather than as a malformed line.
        let letters = word.first().is_some_and(u8::is_ascii_alphabetic)
            && word.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_');
        let numeric = word.len() == 3 && word.iter().all(u8::is_ascii_digit);
        // Letters and digits are ASCII, so this cannot fail once either holds.
        let text = std::str::from_utf8(word).ok()?;
        (letters || numeric).then_some(Command(text))
    }

    /// The command as spelled.
    pub(crate) fn as_str(&self) -> &'a str {
        self.0
    }

    /// Whether this is the command `name`, in any case (`privmsg` is
    /// `PRIVMSG`), as IRC commands are.
    pub(crate) fn is(&self, name: &str) -> bool {
        self.0.eq_ignore_ascii_case(name)
    }

    /// The command in uppercase, for a `match` on the names the codec
    /// knows. Borrowed when the peer already wrote it in uppercase, as
    /// clients do.
    pub(crate) fn upper(&self) -> Cow<'a, str> {
        if self.0.bytes().any(|b| b.is_ascii_lowercase()) {
            Cow::Owned(self.0.to_ascii_uppercase())
        } else {
            Cow::Borrowed(self.0)
        }
    }

    /// The numeric's number (`001` is 1), if this is a numeric.
    pub(crate) fn numeric(&self) -> Option<u16> {
        if self.0.as_bytes().first().is_some_and(u8::is_ascii_digit) { self.0.parse().ok() } else { None }
    }
}

impl fmt::Debug for Command<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// One parameter, as bytes: the grammar does not require UTF-8.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Param<'a>(&'a [u8]);

impl<'a> Param<'a> {
    /// The parameter's bytes.
    pub(crate) fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The parameter as text, if it is UTF-8 (chat text must be).
    pub(crate) fn as_str(&self) -> Result<&'a str, NotUtf8> {
        std::str::from_utf8(self.0).map_err(|_| NotUtf8)
    }

    /// Whether the parameter is empty (only a trailing one can be).
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl AsRef<[u8]> for Param<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0
    }
}

impl fmt::Debug for Param<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Lossy(self.0).fmt(f)
    }
}

/// Bytes shown as text in debug output, invalid UTF-8 replaced, so a
/// failing test shows a readable line.
struct Lossy<'a>(&'a [u8]);

impl fmt::Debug for Lossy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.0))
    }
}
