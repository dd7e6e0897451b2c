//! How an IRC client is told of a refusal, as each row of the error table
//! names it: by its shape, which the IRC renderer writes out.

/// How an IRC client is told of a refusal: the numeric its client acts on
/// (a taken nickname makes it try another) and the names that numeric
/// carries before the message, or a NOTICE where IRC has no numeric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IrcReply<'a> {
    /// `<numeric> <me> :<message>`.
    Plain(&'static str),
    /// `<numeric> <me> * :<message>`.
    Star(&'static str),
    /// `<numeric> <me> <word> :<message>`: the command or mode named.
    Word(&'static str, &'a str),
    /// `<numeric> <me> <nick> :<message>`.
    Nick(&'static str, &'a str),
    /// `<numeric> <me> <#room> :<message>`.
    Channel(&'static str, &'a str),
    /// `<numeric> <me> <#room> :<words>`: IRC's own words instead of the
    /// refusal's message.
    ChannelWords(&'static str, &'a str, &'static str),
    /// `<numeric> <me> <#room> * :<message>`.
    ChannelStar(&'static str, &'a str),
    /// `<numeric> <me> <nick> <#room> :<message>`.
    NickChannel(&'static str, &'a str, &'a str),
    /// `<numeric> <me> [<#room>] <mode> ... :<message>`.
    Mode(&'static str, Option<&'a str>, char),
    /// 461, with the command's usage.
    Usage(&'static str),
    /// 433 for a registered name, saying how IRC logs in to it.
    Registered(&'a str),
    /// `908 <me> PLAIN :are available SASL mechanisms`, then 904.
    SaslMechanisms,
    /// `FAIL <command> <code> :<message>`, IRCv3's standard reply.
    Fail(&'static str, &'static str),
    /// A NOTICE, or during SASL also `904` (the client waits for it).
    Login,
    /// A NOTICE.
    Notice,
    /// Nothing at all.
    Nothing,
}
