//! What an embedder knows about a new connection when it hands it over.

use std::net::IpAddr;

use crate::Codec;

/// A new connection as the embedder sees it, for
/// [`Engine::handle_connect`](crate::Engine::handle_connect): what it
/// speaks, where it comes from, and the rules of the port it came in on.
///
/// Built with [`ConnectInfo::new`] and the methods below, each case one
/// short expression, so that a later field does not break an embedder:
///
/// ```
/// use chatcore::{Codec, ConnectInfo};
/// use std::net::{IpAddr, Ipv4Addr};
///
/// let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));
/// // A text port (its clients may switch to JSON with their first line).
/// let text = ConnectInfo::new(Codec::Text).from(ip);
/// assert_eq!((text.codec, text.source), (Codec::Text, Some(ip)));
/// // The same with the address unknown.
/// assert_eq!(ConnectInfo::default(), ConnectInfo::new(Codec::Text));
/// // A plain IRC port of a private server that also has a TLS port.
/// let irc = ConnectInfo::new(Codec::Irc).from(ip).with_irc_password("sesame").refusing_passwords("port 6697");
/// assert_eq!(irc.irc_password.as_deref(), Some("sesame"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectInfo {
    /// Where it connected from, if known. Login, registration and
    /// room-creation limits count per source; all connections whose source
    /// is unknown count as one source. Default: `None`.
    pub source: Option<IpAddr>,
    /// What it speaks from its first byte: [`Codec::Irc`] for an IRC port,
    /// which no first line could tell. A [`Codec::Text`] client may switch
    /// to JSON with its first line; one connected as `Codec::Json` (a
    /// transport that carries only JSON, such as a WebSocket) is welcomed
    /// in JSON and stays JSON whatever its first line. An IRC client is
    /// welcomed once it registers (`NICK` and `USER`). Default: text.
    pub codec: Codec,
    /// `Some(hint)`: passwords must not travel over this connection (it is
    /// not encrypted, and the embedder offers one that is). Registering
    /// and logging in, by command, JSON, SASL or NickServ, are refused
    /// with the `tls_required` error carrying `hint`, which tells the user
    /// where to go instead (such as "port 6697"). `None` (the default):
    /// passwords are accepted.
    pub refuse_passwords: Option<Box<str>>,
    /// `Some(password)`: the server password of the port this IRC client
    /// came in on, which it must send with `PASS` before it registers, for
    /// a private server; a wrong or missing one closes the connection
    /// (`464`, [`DisconnectReason::WrongServerPassword`]). It is sent in
    /// the clear unless the transport encrypts it. Only IRC clients are
    /// asked for it. A password that [`ranges::IRC_PASSWORD`] refuses
    /// (empty, or holding a line break) could never be sent: check it
    /// where it is configured, as chatd's `--irc-password` does.
    /// Default: `None`, no password.
    ///
    /// [`DisconnectReason::WrongServerPassword`]: crate::DisconnectReason::WrongServerPassword
    /// [`ranges::IRC_PASSWORD`]: crate::ranges::IRC_PASSWORD
    pub irc_password: Option<Box<str>>,
}

impl ConnectInfo {
    /// A connection speaking `codec`, from a source not known (yet: see
    /// [`from`](Self::from)), on which passwords are accepted and no
    /// server password is asked for.
    ///
    /// ```
    /// use chatcore::{Codec, ConnectInfo};
    /// let info = ConnectInfo::new(Codec::Irc);
    /// assert_eq!((info.codec, info.source, info.refuse_passwords, info.irc_password), (Codec::Irc, None, None, None));
    /// ```
    #[must_use]
    pub fn new(codec: Codec) -> Self {
        Self { source: None, codec, refuse_passwords: None, irc_password: None }
    }

    /// The connection comes from `source`.
    #[must_use]
    pub fn from(mut self, source: IpAddr) -> Self {
        self.source = Some(source);
        self
    }

    /// Passwords are refused on this connection; `hint` says where to
    /// connect instead (see [`refuse_passwords`](Self::refuse_passwords)).
    #[must_use]
    pub fn refusing_passwords(mut self, hint: impl Into<Box<str>>) -> Self {
        self.refuse_passwords = Some(hint.into());
        self
    }

    /// An IRC client must give `password` with `PASS` before it registers
    /// (see [`irc_password`](Self::irc_password)).
    #[must_use]
    pub fn with_irc_password(mut self, password: impl Into<Box<str>>) -> Self {
        self.irc_password = Some(password.into());
        self
    }
}

impl Default for ConnectInfo {
    /// A text connection from an unknown source: `ConnectInfo::new(Codec::Text)`.
    fn default() -> Self {
        Self::new(Codec::Text)
    }
}
