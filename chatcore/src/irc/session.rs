//! One IRC client's session: what it negotiated, and how far it is through
//! registration (NICK and USER sent, CAP negotiation ended, SASL done).
//! Only IRC clients carry one.

use crate::codec::irc::{Recipient, Tagging};

/// The IRCv3 capabilities chatd offers, as `CAP LS` lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cap {
    Batch,
    ChatHistory,
    EchoMessage,
    LabeledResponse,
    MessageTags,
    MessageRedaction,
    ReadMarker,
    Sasl,
    ServerTime,
}

impl Cap {
    pub(crate) const ALL: [Cap; 9] = [
        Cap::Batch,
        Cap::ChatHistory,
        Cap::MessageRedaction,
        Cap::ReadMarker,
        Cap::EchoMessage,
        Cap::LabeledResponse,
        Cap::MessageTags,
        Cap::Sasl,
        Cap::ServerTime,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Cap::Batch => "batch",
            Cap::ChatHistory => "draft/chathistory",
            Cap::EchoMessage => "echo-message",
            Cap::LabeledResponse => "labeled-response",
            Cap::MessageTags => "message-tags",
            Cap::MessageRedaction => "draft/message-redaction",
            Cap::ReadMarker => "draft/read-marker",
            Cap::Sasl => "sasl",
            Cap::ServerTime => "server-time",
        }
    }

    /// The value `CAP LS 302` gives it, if any.
    pub(crate) fn value(self) -> Option<&'static str> {
        match self {
            Cap::Sasl => Some("PLAIN"),
            _ => None,
        }
    }

    pub(crate) fn named(name: &str) -> Option<Cap> {
        Cap::ALL.into_iter().find(|cap| cap.name().eq_ignore_ascii_case(name))
    }

    fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// A set of capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Caps(u16);

impl Caps {
    pub(crate) fn has(self, cap: Cap) -> bool {
        self.0 & cap.bit() != 0
    }

    pub(crate) fn with(self, cap: Cap, on: bool) -> Caps {
        if on { Caps(self.0 | cap.bit()) } else { Caps(self.0 & !cap.bit()) }
    }
}

/// Where a SASL exchange is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Sasl {
    #[default]
    Idle,
    /// `AUTHENTICATE PLAIN` was answered with `AUTHENTICATE +`: the
    /// response comes next, in chunks gathered here.
    Receiving(Vec<u8>),
    /// The login is being checked; its outcome is also told as 903/904.
    Checking,
}

/// The IRC side of a client.
#[derive(Debug, Default)]
pub(crate) struct IrcSession {
    /// The server's name, as the source of replies.
    pub(crate) server: Box<str>,
    /// NICK and USER were both sent and CAP negotiation, if any, ended:
    /// the welcome was sent and every command is open.
    pub(crate) registered: bool,
    /// The nickname asked for before registering: taken when registration
    /// completes, unless a SASL login named the client first.
    pub(crate) wanted_nick: Option<Box<str>>,
    /// The username given with USER.
    pub(crate) user: Option<Box<str>>,
    /// The password given with PASS.
    pub(crate) pass: Option<Box<str>>,
    /// The server password of the port it came in on
    /// (`ConnectInfo::irc_password`), which `pass` must match.
    pub(crate) server_password: Option<Box<str>>,
    /// The real name given with USER.
    pub(crate) realname: Option<Box<str>>,
    /// Set by AWAY: told to those who message it (301) and in WHOIS.
    pub(crate) away: Option<Box<str>>,
    /// CAP LS or REQ began a negotiation that CAP END has not ended.
    pub(crate) negotiating: bool,
    pub(crate) caps: Caps,
    pub(crate) sasl: Sasl,
}

impl IrcSession {
    pub(crate) fn new(server: &str) -> Self {
        IrcSession { server: server.into(), ..IrcSession::default() }
    }

    /// The tags its broadcast lines carry.
    pub(crate) fn tagging(&self) -> Tagging {
        Tagging { time: self.caps.has(Cap::ServerTime), msgid: self.caps.has(Cap::MessageTags) }
    }

    /// Whether it sees its own messages come back (`echo-message`).
    pub(crate) fn echoes(&self) -> bool {
        self.caps.has(Cap::EchoMessage)
    }

    /// Whether it is told of deletions with REDACT (`draft/message-redaction`).
    pub(crate) fn redacts(&self) -> bool {
        self.caps.has(Cap::MessageRedaction)
    }

    /// It, as the recipient of a reply.
    pub(crate) fn recipient<'a>(&'a self, nick: &'a str, host: &'a str) -> Recipient<'a> {
        Recipient {
            // Until the welcome names it, a client is `*` to the server.
            nick: if self.registered { nick } else { "*" },
            host,
            server: &self.server,
            registered: self.registered,
            echo: self.echoes(),
            batch: self.caps.has(Cap::Batch),
            sasl: self.sasl == Sasl::Checking,
            redact: self.redacts(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_are_a_set() {
        let caps = Caps::default().with(Cap::Batch, true).with(Cap::ServerTime, true);
        assert!(caps.has(Cap::Batch) && caps.has(Cap::ServerTime) && !caps.has(Cap::Sasl));
        assert!(!caps.with(Cap::Batch, false).has(Cap::Batch));
        for cap in Cap::ALL {
            assert_eq!(Cap::named(&cap.name().to_ascii_uppercase()), Some(cap));
        }
        assert_eq!(Cap::named("multi-prefix"), None);
    }
}
