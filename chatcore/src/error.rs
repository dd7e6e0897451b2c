//! What can go wrong: [`Rejection`] for bad peer input (told to that peer,
//! never returned as `Err`), [`Error`] for misuse by the embedder.

use crate::ClientId;
use crate::account::AuthRequestId;
use crate::cluster::ClaimId;
use crate::cluster::PublishTicket;
use crate::command::verb::Verb;
use crate::credentials::PlainError;
use crate::names::NameError;

mod irc_reply;

pub(crate) use irc_reply::IrcReply;

// The table's rows name IRC replies by their shape alone.
use IrcReply::{Channel, ChannelStar, ChannelWords, Nick, NickChannel, Notice, Plain, Star, Word};

/// Writes one table of codes two ways: a `match` that gives each variant of
/// an enum its row (a stable code and a value of the caller's type), and the
/// public list of every row's code. Both come from the same rows, so a
/// variant cannot have a code the list leaves out, and the `match` has no
/// catch-all, so a new variant does not compile until it has its row.
///
/// Written as the `match` itself, whose rows are `PATTERN => ("code", VALUE)`
/// or `PATTERN => ("code" [mark, ...], VALUE)`: each mark calls the list
/// entry's method of that name, which sets the property it names. The
/// method may take arguments besides `self`, which a row's value may read
/// (its code may not: the list has one code per row).
macro_rules! code_table {
    (
        $(#[$list_doc:meta])* pub const $list:ident: &[$entry:ident];
        impl $owner:ident {
            $(#[$row_doc:meta])*
            fn $row:ident(&self $(, $arg:ident: $arg_type:ty)*) -> (&'static str, $value:ty) {
                match self {
                    $( $pattern:pat => ($code:literal $([$($mark:ident),+])?, $row_value:expr $(,)?) ),+ $(,)?
                }
            }
        }
    ) => {
        $(#[$list_doc])*
        pub const $list: &[$entry] = &[ $( $entry::new($code) $($(.$mark())+)?, )+ ];

        impl $owner {
            $(#[$row_doc])*
            fn $row(&self $(, $arg: $arg_type)*) -> (&'static str, $value) {
                match self {
                    $( $pattern => ($code, $row_value), )+
                }
            }
        }
    };
}
pub(crate) use code_table;

/// Misuse of the engine by its embedder. Bad input from a peer is never an
/// `Error`; it becomes an error line sent to that peer.
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
    /// The publish ticket was never issued, was answered already, or is
    /// not for the room its message names.
    #[error("unknown or answered publish ticket {0:?}")]
    UnknownTicket(PublishTicket),
    /// The name claim was never issued or was answered already.
    #[error("unknown or answered name claim {0}")]
    UnknownClaim(ClaimId),
}

/// Why a peer's line was refused. It is sent to that peer as an error line
/// (text) or an `error` object (JSON) with [`Rejection::code`], and the
/// engine's state is unchanged. Crate-private: see ARCHITECTURE.md,
/// *Inside chatcore*, for why no embedder needs it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
// Without the JSON codec nothing makes `BadJson`.
#[cfg_attr(not(feature = "json"), allow(dead_code))]
pub(crate) enum Rejection {
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
    /// A session token that is unknown, expired, revoked or malformed.
    #[error("the session token is not valid (unknown, expired or revoked); log in with your password ({attempts_left} more {} before a pause)", if *attempts_left == 1 { "try" } else { "tries" })]
    TokenRefused {
        /// Failures still allowed before this source is locked out.
        attempts_left: u32,
    },
    /// `/revoke` of an id that is none of the account's live tokens.
    #[error("you have no session token {0}; /sessions lists them")]
    NoSuchToken(Box<str>),
    /// A password of a session token's exact shape, which SASL PLAIN
    /// could not tell from a token.
    #[error("a password may not have the shape of a session token")]
    PasswordLikeToken,
    /// `Config::session_token_days` is 0.
    #[error("this server issues no session tokens")]
    TokensDisabled,
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
    /// Only the account that created a room (or a server operator) may drop it.
    #[error("only the account that created {0}, or a server operator, may drop it")]
    NotRoomOwner(Box<str>),
    /// The command is for server operators only.
    #[error("only server operators may do that")]
    NotServerOperator,
    /// The operator sent `Config::operator_broadcasts_per_minute` broadcasts
    /// within the last minute.
    #[error("at most {per_minute} broadcasts a minute; try again in {retry_secs} s")]
    BroadcastLimit {
        /// The limit.
        per_minute: u32,
        /// Seconds until the allowance comes back.
        retry_secs: u64,
    },
    /// IRC's OPER from a client not logged in to an operator account, or
    /// naming another account.
    #[error("no operator account: log in to an operator account and give its name")]
    NoOperHost,
    /// IRC's OPER with a password that is not the account's.
    #[error("password incorrect")]
    OperPasswordMismatch,
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
    /// The account has `Config::max_sessions_per_account` connections
    /// logged in already.
    #[error("{account} is logged in on {max} connections already, the most allowed; log out of one first")]
    SessionLimit {
        /// The account's name.
        account: Box<str>,
        /// The limit.
        max: usize,
    },
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
    /// `/always-on` from a client not logged in.
    #[error("log in first: always-on is for accounts")]
    AlwaysOnNeedsAccount,
    /// `/always-on on|off` while the server decides for everyone.
    #[error("always-on is {} for every account on this server", if *on { "on" } else { "off" })]
    AlwaysOnForced {
        /// Whether it is on.
        on: bool,
    },
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
    // What only IRC refuses, in IRC's own words: IRC clients show these
    // as their users expect, and text and JSON clients cannot send the
    // lines that earn them.
    /// A command other than registration's before the welcome.
    #[error("You have not registered")]
    NotRegistered,
    /// USER or PASS after the welcome.
    #[error("You may not reregister")]
    AlreadyRegistered,
    /// NICK, WHOIS or WHOWAS without a nickname.
    #[error("No nickname given")]
    NoNicknameGiven,
    /// PING without its token.
    #[error("No origin specified")]
    NoOrigin,
    /// PRIVMSG or NOTICE (the command named) without a target.
    #[error("No recipient given ({0})")]
    NoRecipient(&'static str),
    /// PRIVMSG or NOTICE without text.
    #[error("No text to send")]
    NoTextToSend,
    /// An IRC line past the 512 bytes of IRC's grammar (tags aside).
    #[error("Input line was too long")]
    IrcLineTooLong,
    /// A line that is not an IRC message.
    #[error("Malformed line")]
    MalformedLine,
    /// An IRC command the server does not have.
    #[error("Unknown command")]
    UnknownIrcCommand(Box<str>),
    /// JOIN of a name that is not a channel's (no `#`).
    #[error("No such channel: channel names start with #")]
    NotAChannel(Box<str>),
    /// A PRIVMSG, NOTICE or KICK with more targets than `TARGMAX` allows.
    #[error("Too many targets: a {command} names at most {max}")]
    TooManyTargets {
        /// The first target left out.
        target: Box<str>,
        /// The command.
        command: &'static str,
        /// The most it may name.
        max: usize,
    },
    /// A CAP subcommand other than LS, LIST, REQ and END.
    #[error("Invalid CAP command")]
    InvalidCapCommand(Box<str>),
    /// MODE of another user.
    #[error("Can't change mode for other users")]
    UsersModeOther,
    /// The port's server password was not given with PASS.
    #[error("Password incorrect")]
    ServerPasswordIncorrect,
    /// `AUTHENTICATE *`.
    #[error("SASL authentication aborted")]
    SaslAborted,
    /// SASL after logging in.
    #[error("You have already authenticated")]
    SaslAlreadyAuthenticated,
    /// A SASL mechanism other than PLAIN.
    #[error("SASL authentication failed")]
    SaslMechanism,
    /// SASL while a login is being checked.
    #[error("SASL authentication failed: a login is in progress")]
    SaslInProgress,
    /// A SASL response longer than the server takes.
    #[error("SASL message too long")]
    SaslTooLong,
    /// A SASL PLAIN response that does not decode.
    #[error("SASL authentication failed: {0}")]
    SaslFailed(PlainError),
    /// CHATHISTORY without its parameters, or with ones it does not take.
    #[error("{0}")]
    ChatHistoryParams(&'static str),
    /// CHATHISTORY of a channel that does not exist.
    #[error("no such channel")]
    ChatHistoryTarget,
    /// A CTCP request other than ACTION.
    #[error("CTCP requests other than ACTION are not supported")]
    CtcpUnsupported,
    /// A deletion of a message the room no longer keeps in memory (or
    /// never had): only its last `Config::history_len` can be deleted.
    #[error("message {seq} of {room} cannot be deleted: only the room's last {kept} messages can")]
    UnknownMessage {
        /// The room.
        room: Box<str>,
        /// The number given.
        seq: u64,
        /// How many the room keeps.
        kept: usize,
    },
    /// A deletion of someone else's message by a member who is not an
    /// operator.
    #[error("you may delete only your own messages in {0}; its operators may delete any")]
    DeleteForbidden(Box<str>),
    /// A deletion of a message already deleted (or of a deletion).
    #[error("message {seq} of {room} is already deleted")]
    AlreadyDeleted {
        /// The room.
        room: Box<str>,
        /// The number given.
        seq: u64,
    },
    /// A bare `/delete` from a member with no message of its own among
    /// those the room keeps.
    #[error("you have no message in {0} that can still be deleted")]
    NothingToDelete(Box<str>),
    /// A read marker from a client not logged in: markers are an account's.
    #[error("log in to keep read markers: they belong to your account")]
    ReadNeedsAccount,
    /// A read marker for a new room or conversation beyond
    /// `Config::max_read_markers`.
    #[error("you keep read markers for {max} rooms and conversations already")]
    ReadMarkerLimit {
        /// The limit.
        max: usize,
    },
    /// MARKREAD with a parameter it does not take.
    #[error("{0}")]
    MarkReadParams(&'static str),
    /// IRC REDACT naming a msgid that is no message of the channel (not
    /// one of its `12-rust` ids).
    #[error("{room} has no message {msgid}")]
    NoSuchMsgid {
        /// The channel.
        room: Box<str>,
        /// The msgid as given.
        msgid: Box<str>,
    },
    /// MARKREAD without a target.
    #[error("MARKREAD needs a target: MARKREAD <target> [timestamp=<time>]")]
    MarkReadNeedsTarget,
}

impl Rejection {
    /// A stable, machine-readable code for JSON clients.
    #[cfg_attr(not(feature = "json"), allow(dead_code))]
    pub(crate) fn code(&self) -> &'static str {
        self.wire(None).0
    }

    /// How IRC is told of this refusal of a command of `verb` (`None`: of
    /// a line not read as a command).
    pub(crate) fn irc(&self, verb: Option<Verb>) -> IrcReply<'_> {
        self.wire(verb).1
    }
}

code_table! {
    /// Every stable code of a JSON `error` object (a refused line), each
    /// once, in no promised order: a client can check the codes it acts on
    /// against it, and chatd gives it to its web page. The list is written
    /// from the same table that gives each refusal its code, so no refusal
    /// has a code missing from it.
    ///
    /// ```
    /// use chatcore::ERROR_CODES;
    /// let busy = ERROR_CODES.iter().find(|e| e.code == "server_busy").unwrap();
    /// assert!(busy.busy);
    /// let taken = ERROR_CODES.iter().find(|e| e.code == "nick_taken").unwrap();
    /// assert!(!taken.busy);
    /// ```
    pub const ERROR_CODES: &[ErrorCode];
    impl Rejection {
        /// Each refusal's stable code and IRC reply, beside its message (the
        /// `#[error]` on its variant): the one place its wire forms are chosen.
        /// The match has no catch-all, so a new refusal does not compile until
        /// it has its row. A code marked `[busy]` is a refusal a client may
        /// simply send again in a moment (see [`ErrorCode`]'s `busy`). Where
        /// IRC answers one command its own way, the IRC reply depends on the
        /// `verb` refused; the code never does.
        fn wire(&self, verb: Option<Verb>) -> (&'static str, IrcReply<'_>) {
            match self {
                Rejection::LineTooLong { .. } => ("line_too_long", Plain("417")),
                Rejection::InvalidUtf8 => ("invalid_utf8", Notice),
                Rejection::ControlCharacter => ("control_character", Notice),
                Rejection::UnknownCommand(command) => ("unknown_command", Word("421", command)),
                Rejection::Usage(usage) => ("usage", IrcReply::Usage(usage)),
                Rejection::BadJson { .. } => ("bad_json", Notice),
                Rejection::BadRequestId => ("bad_id", Notice),
                Rejection::NickInvalid(_) => ("nick_invalid", Star("432")),
                Rejection::NickTaken(nick) => ("nick_taken", Nick("433", nick)),
                Rejection::RoomInvalid(_) => ("room_invalid", Star("403")),
                Rejection::RoomExists(_) => ("room_exists", Notice),
                Rejection::NoSuchRoom(room) => (
                    "no_such_room",
                    match verb {
                        _ if to_channel(verb) => ChannelWords("403", room, "No such channel"),
                        // draft/message-redaction: a target one cannot redact in.
                        Some(Verb::Delete) => IrcReply::Fail("REDACT", "INVALID_TARGET"),
                        _ => Channel("403", room),
                    },
                ),
                Rejection::RoomLimit { .. } => ("room_limit", Notice),
                Rejection::TooManyRooms { .. } => ("too_many_rooms", Notice),
                // IRC clients join a channel they are in without complaint.
                Rejection::AlreadyInRoom(_) => ("already_in_room", IrcReply::Nothing),
                // A channel takes messages only from its members (unless
                // `-n`); PRIVMSG has its own numeric for one it cannot reach.
                Rejection::NotInRoom(room) => (
                    "not_in_room",
                    match verb {
                        _ if to_channel(verb) => ChannelWords("404", room, "Cannot send to channel: join it first"),
                        Some(Verb::Delete) => IrcReply::Fail("REDACT", "INVALID_TARGET"),
                        _ => Channel("442", room),
                    },
                ),
                Rejection::InLobby => ("in_lobby", Notice),
                Rejection::RoomRequired => ("room_required", Notice),
                Rejection::NoSuchNick(nick) => ("no_such_nick", Nick("401", nick)),
                Rejection::Flood => ("flood", Notice),
                Rejection::NickRegistered(nick) => ("nick_registered", IrcReply::Registered(nick)),
                Rejection::NickLocked(nick) => ("nick_locked", Nick("433", nick)),
                Rejection::AccountExists(_) => ("account_exists", Notice),
                Rejection::AccountLimit { .. } => ("account_limit", Notice),
                Rejection::PasswordMismatch => ("password_mismatch", Notice),
                Rejection::PasswordTooShort { .. } => ("password_too_short", Notice),
                Rejection::LoginFailed { .. } => ("login_failed", IrcReply::Login),
                Rejection::LockedOut { .. } => ("locked_out", IrcReply::Login),
                Rejection::TooManyRegistrations { .. } => ("too_many_registrations", Notice),
                Rejection::LoginRequired => ("login_required", IrcReply::Login),
                Rejection::AuthInProgress => ("auth_in_progress" [busy], IrcReply::Login),
                Rejection::TlsRequired(_) => ("tls_required", IrcReply::Login),
                Rejection::AlreadyLoggedIn(_) => ("already_logged_in", IrcReply::Login),
                Rejection::HashFailed => ("hash_failed", IrcReply::Login),
                Rejection::TokenRefused { .. } => ("token_refused", IrcReply::Login),
                Rejection::NoSuchToken(_) => ("no_such_token", Notice),
                Rejection::PasswordLikeToken => ("password_like_token", Notice),
                Rejection::TokensDisabled => ("tokens_disabled", Notice),
                Rejection::ServerBusy => ("server_busy" [busy], IrcReply::Login),
                Rejection::TooManyRoomsCreated { .. } => ("too_many_rooms_created", Notice),
                Rejection::NotRoomOwner(_) => ("not_room_owner", Notice),
                Rejection::NotServerOperator => ("not_server_operator", Plain("481")),
                Rejection::BroadcastLimit { .. } => ("broadcast_limit", Notice),
                Rejection::NoOperHost => ("no_oper_host", Plain("491")),
                Rejection::OperPasswordMismatch => ("oper_password_mismatch", Plain("464")),
                Rejection::OfflineNeedsAccount(_) => ("offline_needs_account", Notice),
                Rejection::AccountBusy => ("account_busy" [busy], IrcReply::Login),
                Rejection::LayoutCharacter => ("layout_character", Notice),
                Rejection::NotTopicSetter(room) => ("not_topic_setter", Channel("482", room)),
                Rejection::TopicTooLong { .. } => ("topic_too_long", Notice),
                Rejection::BlockedByRecipient(_) => ("blocked", Notice),
                Rejection::MailboxFull(_) => ("mailbox_full", Notice),
                Rejection::NeverSeen(_) => ("never_seen", Notice),
                Rejection::CannotBlockSelf => ("cannot_block_self", Notice),
                Rejection::BlockLimit { .. } => ("block_limit", Notice),
                Rejection::SessionLimit { .. } => ("session_limit", IrcReply::Login),
                Rejection::AlwaysOnNeedsAccount => ("always_on_needs_account", Notice),
                Rejection::AlwaysOnForced { .. } => ("always_on_forced", Notice),
                Rejection::NotBlocked(_) => ("not_blocked", Notice),
                Rejection::StorageUnavailable => ("storage_unavailable", Notice),
                Rejection::HistoryNeedsAccount => ("history_needs_account", Notice),
                Rejection::NoSuchAccount(_) => ("no_such_account", Notice),
                Rejection::NotOperator(room) => ("not_operator", Channel("482", room)),
                Rejection::NotOnChannel { nick, room } => ("not_on_channel", NickChannel("441", nick, room)),
                Rejection::AlreadyOnChannel { nick, room } => ("already_on_channel", NickChannel("443", nick, room)),
                Rejection::Banned(room) => ("banned", Channel("474", room)),
                Rejection::BannedNickChange { nick, room } => ("banned_nick_change", NickChannel("435", nick, room)),
                Rejection::InviteOnly(room) => ("invite_only", Channel("473", room)),
                Rejection::BadRoomKey(room) => ("bad_room_key", Channel("475", room)),
                Rejection::RoomFull(room) => ("room_full", Channel("471", room)),
                Rejection::CannotSpeak(room) => ("cannot_speak", Channel("404", room)),
                Rejection::UnknownMode(letter) => ("unknown_mode", IrcReply::Mode("472", None, *letter)),
                Rejection::InvalidModeParam { room, mode, .. } => (
                    "invalid_mode_param",
                    IrcReply::Mode("696", Some(room), *mode),
                ),
                Rejection::BanListFull { room, .. } => ("ban_list_full", ChannelStar("478", room)),
                Rejection::OperatorListFull { room, .. } => ("operator_list_full", ChannelStar("478", room)),
                Rejection::NotRegistered => ("not_registered", Plain("451")),
                Rejection::AlreadyRegistered => ("already_registered", Plain("462")),
                Rejection::NoNicknameGiven => ("no_nickname_given", Plain("431")),
                Rejection::NoOrigin => ("no_origin", Plain("409")),
                Rejection::NoRecipient(_) => ("no_recipient", Plain("411")),
                Rejection::NoTextToSend => ("no_text", Plain("412")),
                Rejection::IrcLineTooLong => ("irc_line_too_long", Plain("417")),
                Rejection::MalformedLine => ("malformed_line", Star("421")),
                Rejection::UnknownIrcCommand(command) => ("unknown_irc_command", Word("421", command)),
                Rejection::NotAChannel(name) => ("not_a_channel", Word("403", name)),
                Rejection::TooManyTargets { target, .. } => ("too_many_targets", Word("407", target)),
                Rejection::InvalidCapCommand(sub) => ("invalid_cap_command", Word("410", sub)),
                Rejection::UsersModeOther => ("users_mode_other", Plain("502")),
                Rejection::ServerPasswordIncorrect => ("server_password_incorrect", Plain("464")),
                Rejection::SaslAborted => ("sasl_aborted", Plain("906")),
                Rejection::SaslAlreadyAuthenticated => ("sasl_already_authenticated", Plain("907")),
                Rejection::SaslMechanism => ("sasl_mechanism", IrcReply::SaslMechanisms),
                Rejection::SaslInProgress => ("sasl_in_progress", Plain("904")),
                Rejection::SaslTooLong => ("sasl_too_long", Plain("905")),
                Rejection::SaslFailed(_) => ("sasl_failed", Plain("904")),
                Rejection::ChatHistoryParams(_) => ("chathistory_params", IrcReply::Fail("CHATHISTORY", "INVALID_PARAMS")),
                Rejection::ChatHistoryTarget => ("chathistory_target", IrcReply::Fail("CHATHISTORY", "INVALID_TARGET")),
                Rejection::CtcpUnsupported => ("ctcp_unsupported", Notice),
                Rejection::UnknownMessage { .. } => ("unknown_message", IrcReply::Fail("REDACT", "UNKNOWN_MSGID")),
                Rejection::DeleteForbidden(_) => ("delete_forbidden", IrcReply::Fail("REDACT", "REDACT_FORBIDDEN")),
                Rejection::AlreadyDeleted { .. } => ("already_deleted", IrcReply::Fail("REDACT", "UNKNOWN_MSGID")),
                Rejection::NothingToDelete(_) => ("nothing_to_delete", Notice),
                Rejection::ReadNeedsAccount => ("read_needs_account", IrcReply::Fail("MARKREAD", "ACCOUNT_REQUIRED")),
                Rejection::ReadMarkerLimit { .. } => ("read_marker_limit", IrcReply::Fail("MARKREAD", "INTERNAL_ERROR")),
                Rejection::MarkReadParams(_) => ("markread_params", IrcReply::Fail("MARKREAD", "INVALID_PARAMS")),
                Rejection::NoSuchMsgid { .. } => ("no_such_msgid", IrcReply::Fail("REDACT", "UNKNOWN_MSGID")),
                Rejection::MarkReadNeedsTarget => ("markread_needs_target", IrcReply::Fail("MARKREAD", "NEED_MORE_PARAMS")),
            }
        }
    }
}

/// Whether the command refused was a message to a room, which IRC writes
/// as a PRIVMSG or NOTICE to a channel.
fn to_channel(verb: Option<Verb>) -> bool {
    matches!(verb, Some(Verb::Say | Verb::Notice))
}

/// A stable code of a JSON `error` object, as [`ERROR_CODES`] lists it,
/// and what chatcore can say of every refusal with that code. (These are
/// the codes of a peer's refused lines; [`Error`], the embedder's misuse,
/// has none.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorCode {
    /// The code, as the `error` object's `code` carries it: lowercase ASCII
    /// letters, digits and underscores.
    pub code: &'static str,
    /// The server put the request off without judging it: it was still
    /// checking this client's previous login, or had too many password
    /// checks waiting (for the account or for the whole server). Nothing
    /// counted against the client, and the same request sent again
    /// unchanged in a moment may be taken.
    pub busy: bool,
}

impl ErrorCode {
    /// A code with none of the marks a row may add.
    const fn new(code: &'static str) -> Self {
        Self { code, busy: false }
    }

    const fn busy(self) -> Self {
        Self { busy: true, ..self }
    }
}
