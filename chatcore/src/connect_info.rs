//! What an embedder knows about a new connection when it hands it over.

use std::net::IpAddr;

use crate::Codec;

/// A new connection as the embedder sees it, for
/// [`Engine::handle_connect_with`](crate::Engine::handle_connect_with).
///
/// Built with [`ConnectInfo::new`] and the methods below, so that a later
/// field does not break an embedder.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectInfo {
    /// Where it connected from, if known (login and registration limits
    /// count per source).
    pub source: Option<IpAddr>,
    /// What it speaks from its first byte (see
    /// [`Engine::handle_connect_as`](crate::Engine::handle_connect_as)).
    pub codec: Codec,
    /// `Some(hint)`: passwords must not travel over this connection (it is
    /// not encrypted, and the embedder offers one that is). Registering
    /// and logging in are refused with [`Rejection::TlsRequired`]
    /// carrying `hint`, which tells the user where to go instead (such as
    /// "port 6697"). `None`: passwords are accepted.
    ///
    /// [`Rejection::TlsRequired`]: crate::Rejection::TlsRequired
    pub refuse_passwords: Option<Box<str>>,
}

impl ConnectInfo {
    /// A connection from `source` speaking `codec`, on which passwords are
    /// accepted.
    #[must_use]
    pub fn new(source: Option<IpAddr>, codec: Codec) -> Self {
        Self { source, codec, refuse_passwords: None }
    }

    /// Passwords are refused on this connection; `hint` says where to
    /// connect instead.
    #[must_use]
    pub fn refusing_passwords(mut self, hint: impl Into<Box<str>>) -> Self {
        self.refuse_passwords = Some(hint.into());
        self
    }
}
