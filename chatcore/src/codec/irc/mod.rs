//! IRC, for irssi, WeeChat, HexChat and the like: so far the message
//! grammar, which the codec will parse client lines and render replies
//! with.

// Nothing calls the grammar yet (its re-exports included): the IRC codec
// that uses it lands next.
#[allow(dead_code, unused_imports)]
pub(crate) mod message;
pub(crate) mod render;
pub(crate) mod session;
