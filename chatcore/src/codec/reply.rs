//! Replies a client can match to its request: a JSON request's `id`, an
//! IRC line's `label` (IRCv3 `labeled-response`). The engine holds what a
//! tagged request causes its sender to be told (see the outbox), and the
//! codec writes it tagged here once the request is done.

use bytes::Bytes;

use super::irc;
#[cfg(feature = "json")]
use super::json;
use crate::command::Command;
use crate::error::Rejection;

/// What ties replies to the request that caused them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReplyTag {
    /// A JSON request's `id`, as JSON text (`"a1"` or `7`), checked to be a
    /// string or a number of at most 64 bytes.
    #[cfg(feature = "json")]
    Json(Box<str>),
    /// An IRC line's `label`, and the server's name as the source of the
    /// `BATCH` and `ACK` lines.
    Irc { label: Box<str>, server: Box<str> },
}

impl ReplyTag {
    /// `held`, what the request caused its sender to be told so far, in
    /// order, as the codec ties it to the request. With nothing held, an
    /// acknowledgement if `acknowledge` (the request is over and told
    /// nothing: JSON `ok`, IRC `ACK`), else nothing.
    pub(crate) fn write(&self, held: &[Bytes], acknowledge: bool) -> Bytes {
        match self {
            #[cfg(feature = "json")]
            ReplyTag::Json(id) => json::with_id(id, held, acknowledge),
            ReplyTag::Irc { label, server } => irc::labeled::labeled(label, server, held, acknowledge),
        }
    }
}

/// A line read as a request: what to tie its replies to, if anything, and
/// the command or why there is none.
pub(crate) struct TaggedCommand {
    pub(crate) tag: Option<ReplyTag>,
    pub(crate) command: Result<Command, Rejection>,
}
