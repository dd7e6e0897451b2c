//! IRC, for irssi, WeeChat, HexChat and the like: the message grammar,
//! how a line's parameters become a command of the table, and how events
//! are written. A client's session and the commands themselves are in
//! `irc/`, beside the others.

pub(crate) mod labeled;
#[allow(dead_code, unused_imports)]
pub(crate) mod message;
pub(crate) mod render;
pub(crate) mod request;
pub(crate) mod sasl;
pub(crate) mod time;

/// What a session tells the renderer: the tags its broadcasts carry, and
/// who a reply is for.
pub(crate) use render::{Recipient, Tagging};
