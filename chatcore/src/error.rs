//! What can go wrong: [`Rejection`] for bad peer input (told to that peer,
//! never returned as `Err`), [`Error`] for misuse by the embedder.

use crate::ClientId;
use crate::account::AuthRequestId;
use crate::names::NameError;

/// Misuse of the engine by its embedder. Bad input from a peer is never an
/// `Error`; it becomes a [`Rejection`] sent to that peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client id was never issued by this engine. (An id the engine
    /// issued and has closed since is not an error: that race is normal.)
    #[error("client {0} was never issued by this engine")]
    UnknownClient(ClientId),
    /// The hash or verify request was never issued or was answered already.
    #[error("unknown or answered auth request {0:?}")]
    UnknownRequest(AuthRequestId),
}

/// Why a peer's line was refused. It is sent to that peer as an error line
/// (text) or an `error` object (JSON) with [`Rejection::code`], and the
/// engine's state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The line was longer than `Config::max_line_bytes` and was discarded.
    #[error("line too long (over {limit} bytes); it was discarded")]
    LineTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// The line was not valid UTF-8.
    #[error("line is not valid UTF-8; it was discarded")]
    InvalidUtf8,
    /// The line contained a control character other than tab.
    #[error("control characters are not allowed; line discarded")]
    ControlCharacter,
    /// The command is not one the engine knows.
    #[error("unknown command {0:?}; type /help for the list")]
    UnknownCommand(Box<str>),
    /// A known command with missing or malformed arguments.
    #[error("usage: {0}")]
    Usage(&'static str),
    /// A JSON line that does not parse.
    #[error("invalid JSON at column {column}")]
    BadJson {
        /// 1-based column where parsing failed.
        column: usize,
    },
    /// A JSON request's `id` is neither a string nor a number, or is longer
    /// than 64 bytes written out.
    /// The request was not carried out, and the error carries no id.
    #[error("a request's \"id\" must be a string or a number of at most 64 bytes; request ignored")]
    BadRequestId,
    /// The requested nickname breaks the naming rules.
    #[error("invalid nickname: {0}")]
    NickInvalid(NameError),
    /// Someone else has that nickname (compared case-insensitively).
    #[error("nickname {0} is taken")]
    NickTaken(Box<str>),
    /// The room name breaks the naming rules.
    #[error("invalid room name: {0}")]
    RoomInvalid(NameError),
    /// `/create` of a room that exists.
    #[error("room {0} already exists; /join it")]
    RoomExists(Box<str>),
    /// The room does not exist.
    #[error("no room named {0}; /list shows the rooms, /create makes one")]
    NoSuchRoom(Box<str>),
    /// `Config::max_rooms` rooms exist already.
    #[error("the server already has its maximum of {max} rooms")]
    RoomLimit {
        /// The limit.
        max: usize,
    },
    /// The client is already in `Config::max_rooms_per_client` rooms.
    #[error("you are already in the maximum of {max} rooms; leave one first")]
    TooManyRooms {
        /// The limit.
        max: usize,
    },
    /// The client is already a member of that room.
    #[error("you are already in {0}")]
    AlreadyInRoom(Box<str>),
    /// The client is not a member of that room.
    #[error("you are not in {0}")]
    NotInRoom(Box<str>),
    /// A message or `/leave` from a client in no room.
    #[error("you are in the Lobby, where nobody hears you; /list the rooms, then /join or /create one")]
    InLobby,
    /// A client in several rooms must say which one.
    #[error("you are in several rooms; name the room")]
    RoomRequired,
    /// No user is online with that nickname.
    #[error("nobody named {0} is online")]
    NoSuchNick(Box<str>),
    /// The client sent lines faster than flood control allows.
    #[error("slow down: too many lines too fast; that line was not acted on")]
    Flood,
    /// The nickname belongs to a registered account.
    #[error("{0} is a registered name; /login to use it")]
    NickRegistered(Box<str>),
    /// A logged-in user's nickname is its account name.
    #[error("you are logged in as {0}; your nickname is your account name")]
    NickLocked(Box<str>),
    /// `/register` of a name that has an account.
    #[error("an account named {0} exists already")]
    AccountExists(Box<str>),
    /// `Config::max_accounts` accounts exist already.
    #[error("the server already has its maximum of {max} accounts")]
    AccountLimit {
        /// The limit.
        max: usize,
    },
    /// The two passwords given to `/register` differ.
    #[error("the passwords do not match")]
    PasswordMismatch,
    /// The password is shorter than `Config::min_password_len`.
    #[error("the password must be at least {min} characters")]
    PasswordTooShort {
        /// The minimum length in bytes.
        min: usize,
    },
    /// Wrong account name or password.
    #[error("wrong name or password ({attempts_left} more {} before a pause)", if *attempts_left == 1 { "try" } else { "tries" })]
    LoginFailed {
        /// Failures still allowed before this source is locked out.
        attempts_left: u32,
    },
    /// Too many failed logins for this account from this source.
    #[error("too many failed logins; try again in {retry_after_secs} s")]
    LockedOut {
        /// Seconds until a login may be tried again.
        retry_after_secs: u64,
    },
    /// This source registered its maximum of accounts for now.
    #[error("too many registrations from your address; try again in {retry_after_secs} s")]
    TooManyRegistrations {
        /// Seconds until a registration may be tried again.
        retry_after_secs: u64,
    },
    /// The server requires login before anything else.
    #[error("log in first: /login NAME PASSWORD, or /register NAME PASSWORD PASSWORD")]
    LoginRequired,
    /// A login or registration from this client is still being checked.
    #[error("your previous login or registration is still being checked")]
    AuthInProgress,
    /// A login or registration on a connection where passwords are not
    /// accepted (it is not encrypted); the hint says where to go instead.
    #[error("passwords are only accepted over TLS here; reconnect with TLS to {0}")]
    TlsRequired(Box<str>),
    /// The client is logged in already.
    #[error("you are logged in as {0} already")]
    AlreadyLoggedIn(Box<str>),
    /// The password could not be hashed (the embedder reported a failure).
    #[error("registration failed on the server; try again")]
    HashFailed,
    /// So many logins to this account are being checked that, should they
    /// all fail, it would be throttled: this one waits (it is no failure).
    #[error("too many logins to this account are being checked; try again in a moment")]
    AccountBusy,
    /// Only logged-in users may leave a whisper for someone offline.
    #[error("{0} is offline; log in to leave a message for them")]
    OfflineNeedsAccount(Box<str>),
    /// The text holds characters that change how the rest of a line is
    /// laid out (bidirectional overrides and isolates, line and paragraph
    /// separators), which could make a line look like another sender's.
    #[error("bidirectional override and line separator characters are not allowed; line discarded")]
    LayoutCharacter,
    /// This source or account has created its allowance of rooms for now
    /// (`Config::max_rooms_created_per_source`).
    #[error("you have created enough rooms for now; try again in {retry_after_secs} s")]
    TooManyRoomsCreated {
        /// Seconds until a room may be created again.
        retry_after_secs: u64,
    },
    /// The room's topic is locked (`+t`) and the client is not one of its
    /// operators (the account that created it always is).
    #[error("only operators of {0} may set its topic")]
    NotTopicSetter(Box<str>),
    /// The topic is longer than `Config::max_topic_len`.
    #[error("a topic may be at most {max} bytes")]
    TopicTooLong {
        /// The limit.
        max: usize,
    },
    /// Only the account that created a room may drop it.
    #[error("only the account that created {0} may drop it")]
    NotRoomOwner(Box<str>),
    /// The embedder had too many password checks waiting to take this one
    /// ([`Engine::handle_password_busy`](crate::Engine::handle_password_busy)).
    /// It is not a failed login.
    #[error("the server is busy; try again in a moment")]
    ServerBusy,
    /// The recipient blocks the sender.
    #[error("{0} does not accept messages from you")]
    BlockedByRecipient(Box<str>),
    /// The offline recipient's mailbox (or the server's) is full.
    #[error("{0} is offline and cannot take more messages now")]
    MailboxFull(Box<str>),
    /// `/seen` of a name that is not online and has no account.
    #[error("{0} has not been seen (only registered users are remembered)")]
    NeverSeen(Box<str>),
    /// `/block` of one's own name.
    #[error("you cannot block yourself")]
    CannotBlockSelf,
    /// The client blocks `Config::max_blocks` names already.
    #[error("you already block the maximum of {max} names")]
    BlockLimit {
        /// The limit.
        max: usize,
    },
    /// The server's store cannot write now; the line was not acted on.
    #[error("the server cannot save right now; that was not sent or saved, try again shortly")]
    StorageUnavailable,
    /// `/unblock` of a name that is not blocked.
    #[error("you do not block {0}")]
    NotBlocked(Box<str>),
    /// `/history @NICK` from a client not logged in: only whispers between
    /// accounts are kept.
    #[error("log in to read your whispers: only whispers between accounts are kept")]
    HistoryNeedsAccount,
    /// `/history @NICK` of a name without an account.
    #[error("{0} has no account; only whispers between accounts are kept")]
    NoSuchAccount(Box<str>),
    /// Changing modes, kicking, or inviting to an invite-only room needs
    /// the room's operator status.
    #[error("you are not an operator of {0}")]
    NotOperator(Box<str>),
    /// `/kick` or `+o`/`+v` of someone not in the room.
    #[error("{nick} is not in {room}")]
    NotOnChannel {
        /// The name given.
        nick: Box<str>,
        /// The room.
        room: Box<str>,
    },
    /// `/invite` of someone already in the room.
    #[error("{nick} is already in {room}")]
    AlreadyOnChannel {
        /// The invited user.
        nick: Box<str>,
        /// The room.
        room: Box<str>,
    },
    /// The room bans the client (`+b`).
    #[error("you are banned from {0}")]
    Banned(Box<str>),
    /// A member banned from a room (`+b`) tried to change nickname, which
    /// would shake the ban off.
    #[error("you cannot change your nickname to {nick} while banned from {room}")]
    BannedNickChange {
        /// The nickname asked for.
        nick: Box<str>,
        /// The room.
        room: Box<str>,
    },
    /// The room is invite-only (`+i`) and the client was not invited.
    #[error("{0} is invite-only; ask a member for an invitation")]
    InviteOnly(Box<str>),
    /// The room has a key (`+k`) and the client did not give it.
    #[error("{0} needs a key to join")]
    BadRoomKey(Box<str>),
    /// The room is at its member limit (`+l`).
    #[error("{0} is full")]
    RoomFull(Box<str>),
    /// The room is moderated (`+m`) and the client is neither an operator
    /// nor voiced, or it is banned.
    #[error("you cannot speak in {0} now")]
    CannotSpeak(Box<str>),
    /// A mode letter chatd does not know.
    #[error("{0} is not a room mode here")]
    UnknownMode(char),
    /// A mode's argument is not valid.
    #[error("invalid argument for mode {mode}: {reason}")]
    InvalidModeParam {
        /// The room.
        room: Box<str>,
        /// The mode letter.
        mode: char,
        /// What a valid one looks like.
        reason: &'static str,
    },
    /// The room has its maximum of bans.
    #[error("{room} already has the maximum of {max} bans")]
    BanListFull {
        /// The room.
        room: Box<str>,
        /// The limit.
        max: usize,
    },
    /// The room remembers its maximum of accounts as operators.
    #[error("{room} already remembers the maximum of {max} operators; take one away with -o first")]
    OperatorListFull {
        /// The room.
        room: Box<str>,
        /// The limit.
        max: usize,
    },
}

impl Rejection {
    /// The error event that tells the peer.
    pub(crate) fn event(&self) -> crate::event::Event<'_> {
        crate::event::Event::Error { rejection: self }
    }

    /// A stable, machine-readable code for JSON clients.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::LineTooLong { .. } => "line_too_long",
            Rejection::InvalidUtf8 => "invalid_utf8",
            Rejection::ControlCharacter => "control_character",
            Rejection::UnknownCommand(_) => "unknown_command",
            Rejection::Usage(_) => "usage",
            Rejection::BadJson { .. } => "bad_json",
            Rejection::BadRequestId => "bad_id",
            Rejection::NickInvalid(_) => "nick_invalid",
            Rejection::NickTaken(_) => "nick_taken",
            Rejection::RoomInvalid(_) => "room_invalid",
            Rejection::RoomExists(_) => "room_exists",
            Rejection::NoSuchRoom(_) => "no_such_room",
            Rejection::RoomLimit { .. } => "room_limit",
            Rejection::TooManyRooms { .. } => "too_many_rooms",
            Rejection::AlreadyInRoom(_) => "already_in_room",
            Rejection::NotInRoom(_) => "not_in_room",
            Rejection::InLobby => "in_lobby",
            Rejection::RoomRequired => "room_required",
            Rejection::NoSuchNick(_) => "no_such_nick",
            Rejection::Flood => "flood",
            Rejection::NickRegistered(_) => "nick_registered",
            Rejection::NickLocked(_) => "nick_locked",
            Rejection::AccountExists(_) => "account_exists",
            Rejection::AccountLimit { .. } => "account_limit",
            Rejection::PasswordMismatch => "password_mismatch",
            Rejection::PasswordTooShort { .. } => "password_too_short",
            Rejection::LoginFailed { .. } => "login_failed",
            Rejection::LockedOut { .. } => "locked_out",
            Rejection::TooManyRegistrations { .. } => "too_many_registrations",
            Rejection::LoginRequired => "login_required",
            Rejection::AuthInProgress => "auth_in_progress",
            Rejection::TlsRequired(_) => "tls_required",
            Rejection::AlreadyLoggedIn(_) => "already_logged_in",
            Rejection::HashFailed => "hash_failed",
            Rejection::ServerBusy => "server_busy",
            Rejection::TooManyRoomsCreated { .. } => "too_many_rooms_created",
            Rejection::NotRoomOwner(_) => "not_room_owner",
            Rejection::OfflineNeedsAccount(_) => "offline_needs_account",
            Rejection::AccountBusy => "account_busy",
            Rejection::LayoutCharacter => "layout_character",
            Rejection::NotTopicSetter(_) => "not_topic_setter",
            Rejection::TopicTooLong { .. } => "topic_too_long",
            Rejection::BlockedByRecipient(_) => "blocked",
            Rejection::MailboxFull(_) => "mailbox_full",
            Rejection::NeverSeen(_) => "never_seen",
            Rejection::CannotBlockSelf => "cannot_block_self",
            Rejection::BlockLimit { .. } => "block_limit",
            Rejection::NotBlocked(_) => "not_blocked",
            Rejection::StorageUnavailable => "storage_unavailable",
            Rejection::HistoryNeedsAccount => "history_needs_account",
            Rejection::NoSuchAccount(_) => "no_such_account",
            Rejection::NotOperator(_) => "not_operator",
            Rejection::NotOnChannel { .. } => "not_on_channel",
            Rejection::AlreadyOnChannel { .. } => "already_on_channel",
            Rejection::Banned(_) => "banned",
            Rejection::BannedNickChange { .. } => "banned_nick_change",
            Rejection::InviteOnly(_) => "invite_only",
            Rejection::BadRoomKey(_) => "bad_room_key",
            Rejection::RoomFull(_) => "room_full",
            Rejection::CannotSpeak(_) => "cannot_speak",
            Rejection::UnknownMode(_) => "unknown_mode",
            Rejection::InvalidModeParam { .. } => "invalid_mode_param",
            Rejection::BanListFull { .. } => "ban_list_full",
            Rejection::OperatorListFull { .. } => "operator_list_full",
        }
    }
}
