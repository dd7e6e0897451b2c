//! IRC's own commands, beside the others: registration (`NICK`, `USER`,
//! `PASS`, `CAP`, SASL), the verbs only IRC has (`WHOIS`, `NAMES`,
//! `LUSERS`, `WHOWAS`, `CHATHISTORY`, ...) and IRC's forms of the shared
//! ones (comma lists, `PRIVMSG` to a channel or a nick). Each line is read
//! with the grammar in `codec/irc`, and what the table has runs as any
//! codec's command would.

mod dispatch;
mod query;
mod register;
pub(crate) mod session;
