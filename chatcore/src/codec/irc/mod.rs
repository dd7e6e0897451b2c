//! IRC, for irssi, WeeChat, HexChat and the like: the message grammar,
//! the session each IRC client carries, and how replies are written. The
//! commands themselves are in `irc/`, beside the others.

pub(crate) mod labeled;
#[allow(dead_code, unused_imports)]
pub(crate) mod message;
pub(crate) mod render;
pub(crate) mod sasl;
pub(crate) mod session;
pub(crate) mod time;
