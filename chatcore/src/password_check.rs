//! A password check under way: the embedder hashes or verifies passwords
//! off the engine's thread, and the engine keeps what it needs to finish
//! the registration or login when the answer comes.

use crate::codec::ReplyTag;
use crate::credentials::Password;
use crate::output::ClientId;
use crate::source::SourceKey;

/// An outstanding hash or verify request.
#[derive(Debug)]
pub(crate) struct PendingAuth {
    pub(crate) client: ClientId,
    /// Kept here so a failure still counts if the client hangs up first.
    pub(crate) source: Option<SourceKey>,
    pub(crate) name: Box<str>,
    pub(crate) kind: AuthKind,
    /// A login to a name with no account, checked against nothing so that
    /// it takes as long as a real one: it can only fail.
    pub(crate) no_account: bool,
    /// What ties the answer to the request that asked (a JSON id, an IRC
    /// label), if it carried one.
    pub(crate) reply: Option<ReplyTag>,
    /// `/password`'s new password, kept while the old one is checked.
    pub(crate) new_password: Option<Password>,
}

/// Which check a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthKind {
    Register,
    Login,
    /// Random bytes for a session token (`/token`), not a password check.
    Token,
    /// `/password`'s old password being checked: counted like a login.
    ChangePassword,
    /// `/password`'s new password being hashed.
    NewPassword,
    /// IRC's OPER: the account's password checked again (`operators.rs`).
    Oper,
}

impl AuthKind {
    /// Whether it checks a password, and so counts towards lockouts.
    pub(crate) fn checks_password(self) -> bool {
        matches!(self, AuthKind::Login | AuthKind::ChangePassword | AuthKind::Oper)
    }
}
