//! IRC's own commands, beside the others: registration (`NICK`, `USER`,
//! `PASS`, `CAP`, SASL), the verbs only IRC has (`WHOIS`, `NAMES`,
//! `LUSERS`, `WHOWAS`, `CHATHISTORY`, ...) and IRC's forms of the shared
//! ones (comma lists, `PRIVMSG` to a channel or a nick), each IRC
//! client's session, and the world's part that counts users for LUSERS
//! and remembers departures for WHOWAS (`visitors.rs`). Each line is read by `codec/irc` into a command of
//! the table, which runs as any codec's command would; what a client is
//! told goes out as events the IRC codec writes.

mod dispatch;
mod query;
mod register;
pub(crate) mod session;
pub(crate) mod visitors;
