//! Wire formats. A codec parses a client's line into a command and
//! renders an [`Event`] into bytes; the engine itself knows neither format.
//! Text and JSON read each line whole ([`LineReader`]); IRC's lines are
//! read a stage at a time by its commands, with `irc::message` and
//! `irc::request`.

// Crate-visible for the fuzz driver, which tests the IRC grammar on its own.
pub(crate) mod irc;
#[cfg(feature = "json")]
mod json;
mod reply;
mod text;

pub(crate) use reply::{ReplyTag, TaggedCommand};

use bytes::Bytes;

use crate::command::Verb;
use crate::event::Event;

/// The wire format a client speaks.
///
/// Every client starts as [`Codec::Text`]; one whose first line is a JSON
/// object switches to `Codec::Json` (with the default `json` feature) for the
/// rest of its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// Human-readable lines for `nc` and telnet.
    Text,
    /// One JSON object per line, for programs.
    #[cfg(feature = "json")]
    Json,
    /// IRC (RFC 1459/2812 with IRCv3 tags), for irssi, WeeChat, HexChat.
    /// Never detected from a first line: the embedder connects a client as
    /// IRC ([`ConnectInfo::new`](crate::ConnectInfo::new)),
    /// say on its own port.
    Irc,
}

/// How many codecs exist.
pub(crate) const CODEC_COUNT: usize = 2 + cfg!(feature = "json") as usize;

/// How one client's broadcast lines are written: its codec and, for IRC,
/// the tags it negotiated (a line with `time=` differs from one without).
/// A broadcast is rendered once per wire in use, and a room's member list
/// keeps each member's wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wire {
    Text,
    #[cfg(feature = "json")]
    Json,
    Irc(irc::render::Tagging),
}

/// How many wires exist, for per-wire tables.
pub(crate) const WIRE_COUNT: usize = CODEC_COUNT - 1 + irc::render::Tagging::COUNT;

impl Wire {
    /// Where this wire sits in per-wire tables.
    pub(crate) fn index(self) -> usize {
        match self {
            Wire::Text => 0,
            #[cfg(feature = "json")]
            Wire::Json => 1,
            Wire::Irc(tagging) => CODEC_COUNT - 1 + tagging.index(),
        }
    }

    /// The wire at `index` of a per-wire table.
    pub(crate) fn at(index: usize) -> Wire {
        match index {
            0 => Wire::Text,
            #[cfg(feature = "json")]
            1 => Wire::Json,
            _ => Wire::Irc(irc::render::Tagging::at(index - (CODEC_COUNT - 1))),
        }
    }

    /// Its codec.
    pub(crate) fn codec(self) -> Codec {
        match self {
            Wire::Text => Codec::Text,
            #[cfg(feature = "json")]
            Wire::Json => Codec::Json,
            Wire::Irc(_) => Codec::Irc,
        }
    }

    /// Renders one event for one client on this wire, addressed to it:
    /// IRC replies that name their recipient (numerics do) carry its
    /// nickname; other wires write the same for everyone.
    pub(crate) fn render_for(self, event: &Event<'_>, to: irc::Recipient<'_>) -> Bytes {
        match self {
            Wire::Irc(tagging) => irc::render::render(event, Some(to), tagging),
            _ => self.render(event),
        }
    }

    /// Renders one event the same for every recipient on this wire (a
    /// broadcast).
    pub(crate) fn render(self, event: &Event<'_>) -> Bytes {
        match self {
            Wire::Irc(tagging) => irc::render::render(event, None, tagging),
            _ => self.codec().render(event),
        }
    }
}

/// How the lines of a codec that reads each line whole, as one command,
/// are read: text and JSON. IRC is not one. Its lines are bytes with a
/// grammar of their own, and whether a command may be sent at all depends
/// on the client's registration, so `irc/dispatch.rs` reads them a stage
/// at a time (the grammar in `irc::message`, the label, the verb, the
/// registration stage, then the parameters in `irc::request`); a reader
/// that took IRC lines here could only refuse them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineReader {
    Text,
    #[cfg(feature = "json")]
    Json,
}

impl LineReader {
    /// How a client of `codec` has its lines read, unless it speaks IRC.
    pub(crate) fn of(codec: Codec) -> Option<LineReader> {
        match codec {
            Codec::Text => Some(LineReader::Text),
            #[cfg(feature = "json")]
            Codec::Json => Some(LineReader::Json),
            Codec::Irc => None,
        }
    }

    /// The reader a client's first non-blank line asks for, from its bytes
    /// (it may not be valid UTF-8): JSON if it starts with `{`.
    pub(crate) fn detect(first_line: &[u8]) -> LineReader {
        #[cfg(feature = "json")]
        if first_line.trim_ascii_start().starts_with(b"{") {
            return LineReader::Json;
        }
        let _ = first_line;
        LineReader::Text
    }

    /// Its codec.
    pub(crate) fn codec(self) -> Codec {
        match self {
            LineReader::Text => Codec::Text,
            #[cfg(feature = "json")]
            LineReader::Json => Codec::Json,
        }
    }

    /// Reads one line (valid UTF-8, without its line ending, not blank) as
    /// a request: a JSON request's `id` is taken off it first, whatever its
    /// command, so that even its refusal can name it.
    pub(crate) fn read(self, line: &str) -> TaggedCommand {
        match self {
            LineReader::Text => TaggedCommand { tag: None, command: text::parse(line) },
            #[cfg(feature = "json")]
            LineReader::Json => json::read(line),
        }
    }
}

impl Codec {
    /// Renders one event as one or more complete lines, the same for every
    /// recipient (a broadcast).
    pub(crate) fn render(self, event: &Event<'_>) -> Bytes {
        match self {
            Codec::Text => text::render(event),
            #[cfg(feature = "json")]
            Codec::Json => json::render(event),
            Codec::Irc => irc::render::render(event, None, irc::render::Tagging::NONE),
        }
    }

    /// How a command is written in this codec: its column of the command
    /// table, for usage errors.
    pub(crate) fn usage(self, verb: Verb) -> &'static str {
        let spec = verb.spec();
        match self {
            Codec::Text => spec.text_usage,
            #[cfg(feature = "json")]
            Codec::Json => spec.json_usage,
            Codec::Irc => spec.irc_usage,
        }
    }
}
