//! The name of every kind of command, apart from its row of the table,
//! so that the error table, which the command table imports, can choose a
//! refusal's reply by the command refused without importing it back.

/// Every kind of command, in the order `/help` lists them; each is one row
/// of the command table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Nick,
    List,
    Create,
    Drop,
    Topic,
    Join,
    Leave,
    Mode,
    Kick,
    Invite,
    Who,
    Users,
    Msg,
    Say,
    Notice,
    Register,
    Login,
    Seen,
    Since,
    Block,
    Unblock,
    Blocked,
    History,
    Help,
    Quit,
    // IRC's own verbs, which text and JSON cannot spell.
    Cap,
    User,
    Pass,
    Authenticate,
    Ping,
    Pong,
    Names,
    Whois,
    Whowas,
    Lusers,
    Away,
    Info,
    Links,
    ChatHistory,
}
