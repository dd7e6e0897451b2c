//! IRC, for irssi, WeeChat, HexChat and the like: the message grammar,
//! the session each IRC client carries, and the commands and replies.

mod dispatch;
pub(crate) mod labeled;
#[allow(dead_code, unused_imports)]
pub(crate) mod message;
mod query;
mod register;
pub(crate) mod render;
mod sasl;
pub(crate) mod session;
mod time;

pub(crate) use query::Departed;
