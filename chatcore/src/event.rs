//! What the server tells clients, before a codec gives it a wire form.

use crate::command::{Spec, Verb};
use crate::error::Rejection;
use crate::output::DisconnectReason;
use crate::record::StoredMessage;
// What a page's entry is, named here so that the codecs, which import
// only the vocabulary, can tell a message from a tombstone or a deletion.
pub(crate) use crate::record::MessageKind;

/// A room and its member count, for `/list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RoomSummary<'a> {
    pub(crate) name: &'a str,
    pub(crate) members: usize,
}

/// Where a paged list stands: how long the whole list is, and the name
/// the next page starts from (`None`: this page is the last).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ListPage<'a> {
    pub(crate) total: usize,
    pub(crate) next: Option<&'a str>,
}

/// A user in a `/since` answer: online now, or last seen at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeenUser<'a> {
    pub(crate) nick: &'a str,
    pub(crate) last_seen_ms: Option<u64>,
}

/// A session token as `/sessions` lists it: never the token itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionEntry {
    pub(crate) id: crate::token::TokenId,
    pub(crate) created_ms: u64,
    pub(crate) expires_ms: u64,
}

/// What a history page is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageOf<'a> {
    /// A room, by name.
    Room(&'a str),
    /// The reader's whispers with this account.
    Conversation { with: &'a str },
}

/// One message of a history page: said, deleted since (a tombstone, its
/// text gone), or a deletion of an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageMessage<'a> {
    pub(crate) seq: u64,
    pub(crate) from: &'a str,
    pub(crate) text: &'a str,
    pub(crate) unix_ms: u64,
    pub(crate) kind: &'a MessageKind,
}

impl<'a> PageMessage<'a> {
    /// A stored message as a page shows it.
    pub(crate) fn of(m: &'a StoredMessage) -> Self {
        PageMessage { seq: m.seq, from: &m.from, text: &m.text, unix_ms: m.unix_ms, kind: &m.kind }
    }
}

/// A room's kept entry as it is replayed on joining (or in an IRC
/// history page), with the `host` shown for its sender: a message, a tombstone, or a deletion. `redact`: the
/// reader is an IRC client with `draft/message-redaction`.
pub(crate) fn history_event<'a>(room: &'a str, entry: PageMessage<'a>, host: &'a str, redact: bool) -> Event<'a> {
    let PageMessage { seq, from, text, unix_ms, kind } = entry;
    match kind {
        MessageKind::Said => {
            Event::Message { room, seq, from, host, text, unix_ms, history: true, notice: false, deleted: None }
        }
        MessageKind::Deleted { by, unix_ms: when } => Event::Message {
            room,
            seq,
            from,
            host,
            text: "",
            unix_ms,
            history: true,
            notice: false,
            deleted: Some((by, *when)),
        },
        MessageKind::Deletion { of, by } => {
            Event::Deleted { room, seq: *of, from, by, host, unix_ms, event: seq, reason: None, history: true, redact }
        }
    }
}

/// One server-to-client event. Borrowed, so that rendering a broadcast
/// copies nothing but the final bytes. `host` is the host of the user an
/// event comes from, which IRC shows in its prefix (`nick!nick@host`).
#[derive(Debug, Clone, Copy)]
// Message numbers are shown only by the JSON codec.
#[cfg_attr(not(feature = "json"), allow(dead_code))]
pub(crate) enum Event<'a> {
    /// Sent on connect (text) or when a client switches to JSON.
    Welcome { server: &'a str, nick: &'a str },
    /// A room message, live or replayed from history; `seq` numbers it within the room.
    /// `notice`: sent as an IRC NOTICE. `deleted`: it was deleted since,
    /// by whom and when (a tombstone: `text` is empty, and never shown).
    Message {
        room: &'a str,
        seq: u64,
        from: &'a str,
        host: &'a str,
        text: &'a str,
        unix_ms: u64,
        history: bool,
        notice: bool,
        deleted: Option<(&'a str, u64)>,
    },
    /// Message `seq` of a room, which `from` had said, was deleted by `by`
    /// (with `host`) at `unix_ms`; the deletion is the room's entry
    /// numbered `event`. Live, or replayed from history (`history`).
    /// `redact`: the recipient is an IRC client that negotiated
    /// `draft/message-redaction`, told with REDACT rather than a notice.
    Deleted {
        room: &'a str,
        seq: u64,
        from: &'a str,
        by: &'a str,
        host: &'a str,
        unix_ms: u64,
        event: u64,
        reason: Option<&'a str>,
        history: bool,
        redact: bool,
    },
    /// A page of messages, oldest first; `more`: older ones exist (newer
    /// ones, for a page forward). `oldest`: the number of the oldest
    /// message the page covered, shown or skipped as from a blocked sender
    /// (where the next page back ends). `newest`: only on a page forward
    /// (`after`), the number of the newest message it covered (where the
    /// next page forward starts). `unreadable`: stored rows of this page
    /// the store could not read.
    HistoryPage {
        of: PageOf<'a>,
        messages: &'a [PageMessage<'a>],
        more: bool,
        oldest: Option<u64>,
        newest: Option<u64>,
        unreadable: usize,
    },
    /// An account's read marker in a room or conversation: asked for, set,
    /// or moved by another of its connections. `seq: None`: nothing
    /// marked read yet. `unix_ms`: the time of the message it marks, for
    /// IRC's `draft/read-marker`, which names markers by time.
    ReadMarker { of: PageOf<'a>, seq: Option<u64>, unix_ms: Option<u64> },
    /// On logging in or joining: `count` messages of `room` came after
    /// the account's read marker, the first of them numbered `first_seq`
    /// and said at `since_ms` (if the room still holds it in memory).
    Unread { room: &'a str, count: u64, first_seq: u64, since_ms: Option<u64> },
    /// A private message; sent to the recipient and echoed to the sender.
    /// `offline`: it was kept while the recipient was away. `seq`: its
    /// number in the conversation, when it is kept there (between accounts).
    Whisper {
        from: &'a str,
        host: &'a str,
        to: &'a str,
        text: &'a str,
        unix_ms: u64,
        echo: bool,
        offline: bool,
        seq: Option<u64>,
    },
    /// IRC's NOTICE to a user: sent to the recipient and echoed to the
    /// sender, like a whisper, but never kept nor answered; other codecs
    /// show it as a whisper.
    UserNotice { from: &'a str, host: &'a str, to: &'a str, text: &'a str, unix_ms: u64, echo: bool },
    /// IRCv3 TAGMSG from `from` to `to` (a channel as IRC writes it, or a
    /// nick): client-only tags, `number` its id among such messages.
    TagMsg {
        from: &'a str,
        host: &'a str,
        to: &'a str,
        tags: &'a [(&'a str, &'a str)],
        unix_ms: u64,
        number: u64,
        echo: bool,
    },
    /// A whisper to an offline account was kept for it.
    Kept { to: &'a str },
    /// The client registered an account (it is then logged in to it).
    Registered { name: &'a str },
    /// The client logged in; `offline` whispers follow.
    LoggedIn { name: &'a str, offline: usize },
    /// The client was given a session token (shown this once).
    TokenIssued { token: &'a str, id: crate::token::TokenId, expires_ms: u64 },
    /// Answer to `/sessions`: the account's live tokens, oldest first.
    Sessions { tokens: &'a [SessionEntry] },
    /// `/revoke` (`id`) or `/logout-all` (`None`, `count` tokens) was done.
    TokensRevoked { id: Option<crate::token::TokenId>, count: usize },
    /// `/password` was done.
    PasswordChanged { name: &'a str },
    /// The client's guest name was taken back by the account that owns it.
    Renamed { old: &'a str, new: &'a str, host: &'a str },
    /// Answer to `/seen`.
    Seen { nick: &'a str, online: bool, last_seen_ms: Option<u64> },
    /// Answer to `/since`: a page of the users online within the last `seconds`.
    Since { seconds: u64, users: &'a [SeenUser<'a>], page: ListPage<'a> },
    /// A room's topic: asked for or shown on joining (`changed: false`), or
    /// just set by `by` (`changed: true`, to every member). `text: None`:
    /// no topic.
    Topic { room: &'a str, text: Option<&'a str>, by: &'a str, host: &'a str, unix_ms: u64, changed: bool },
    /// A room was dropped by its owner `by`; its members are out of it.
    RoomDropped { room: &'a str, by: &'a str },
    /// A name was blocked or unblocked.
    BlockChanged { nick: &'a str, blocked: bool },
    /// Answer to `/blocked`.
    BlockList { names: &'a [&'a str] },
    /// Whether the account stays in its rooms while none of its
    /// connections is (`/always-on`); `forced`: the server decides.
    AlwaysOn { on: bool, forced: bool },
    /// The client will be disconnected in `seconds` unless it sends something.
    IdleWarning { seconds: u64 },
    /// The client created a room.
    Created { room: &'a str },
    /// Someone joined a room (`you`: the recipient did).
    Joined { room: &'a str, nick: &'a str, host: &'a str, members: usize, you: bool },
    /// Someone left a room (`you`: the recipient did).
    Left { room: &'a str, nick: &'a str, host: &'a str, you: bool, reason: Option<&'a str> },
    /// Someone changed nickname (`you`: the recipient did).
    NickChanged { old: &'a str, new: &'a str, host: &'a str, you: bool },
    /// Someone connected (only with `Config::announce_lobby_presence`).
    Connected { nick: &'a str },
    /// Someone disconnected.
    Disconnected { nick: &'a str, host: &'a str, reason: &'a DisconnectReason },
    /// A page of the rooms, sorted by name.
    Rooms { rooms: &'a [RoomSummary<'a>], page: ListPage<'a> },
    /// A page of the members of a room (`None`: the Lobby), sorted, with
    /// each one's host and whether it is a server operator.
    /// `away`: those of `members` who are away (an always-on account with
    /// no connection).
    Who {
        room: Option<&'a str>,
        members: &'a [&'a str],
        hosts: &'a [&'a str],
        away: &'a [&'a str],
        operators: &'a [bool],
        page: ListPage<'a>,
    },
    /// A page of everyone online, sorted.
    Users { users: &'a [&'a str], page: ListPage<'a> },
    /// Answer to `/time`: the server's wall-clock time.
    Time { unix_ms: u64 },
    /// The command reference.
    Help { commands: &'a [Spec] },
    /// A room's modes (`+nt`, `+kl KEY 10`), asked for.
    Modes { room: &'a str, modes: &'a str },
    /// A room's bans, asked for.
    BanList { room: &'a str, masks: &'a [&'a str] },
    /// An operator `by` changed a room's modes: `letters` (`+k-i`) with
    /// `args` for those that take one, to every member.
    ModeChanged { room: &'a str, by: &'a str, host: &'a str, letters: &'a str, args: &'a [&'a str] },
    /// An operator `by` put `nick` out of a room, to every member (the
    /// kicked one too).
    Kicked { room: &'a str, by: &'a str, host: &'a str, nick: &'a str, reason: &'a str },
    /// `by` invited `nick` into a room (`you`: the recipient is `nick`;
    /// else the recipient is `by`, being told it was sent).
    Invited { room: &'a str, by: &'a str, host: &'a str, nick: &'a str, you: bool },
    /// A refused line, and the verb of the command refused if it got as
    /// far as a command: a codec may tell a refusal of one command its own
    /// way (IRC's PRIVMSG to a channel).
    Error { rejection: &'a Rejection, verb: Option<Verb> },
    /// The server is closing this connection.
    Bye { reason: &'a DisconnectReason },
    /// A server operator's broadcast, to every user online.
    Broadcast { from: &'a str, host: &'a str, text: &'a str, unix_ms: u64 },
    /// The operator's `/kill` closed `nick`'s connection.
    Killed { nick: &'a str },
    /// What only an IRC client is told: answers to IRC's own commands.
    Irc(IrcAnswer<'a>),
}

/// Answers to what only IRC asks (registration, CAP and SASL, NAMES,
/// WHOIS, WHOWAS, LUSERS, ...), written by the IRC codec alone. Text and
/// JSON clients cannot send the lines that earn them, so those codecs
/// write nothing for them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum IrcAnswer<'a> {
    /// A refusal of a command whose `FAIL` names what it was about
    /// (draft/message-redaction's `FAIL REDACT <code> <target> [<msgid>]`):
    /// `context` goes between the code and the text. A refusal whose row
    /// is not a `FAIL` is told as [`Event::Error`] tells it.
    Failed { rejection: &'a Rejection, verb: Verb, context: &'a [&'a str] },
    /// Registration is complete: the welcome (001 to 005) and the message
    /// of the day (none, 422), with the limits a client adapts to.
    Welcome { limits: ServerLimits },
    /// A CAP reply: its subcommand (`LS`, `LIST`, `ACK`, `NAK`) and the
    /// capabilities it names.
    Cap { sub: &'a str, caps: &'a str },
    /// SASL: the mechanism is accepted, the response comes next.
    SaslContinue,
    /// The answer to a PING.
    Pong { token: &'a str },
    /// NAMES of one channel: a page of its members' nicknames (with `@`
    /// and `+` for their status), and how many more there are.
    Names { room: &'a str, secret: bool, nicks: &'a [&'a str], page: ListPage<'a> },
    /// The end of NAMES for what is not a channel here (`*`: none named).
    NamesEnd { name: &'a str },
    /// WHO of a nickname: that user (nickname, host, whether a server
    /// operator), if online.
    WhoUser { asked: &'a str, found: Option<(&'a str, &'a str, bool)> },
    /// WHOIS of a nickname: that user, if online.
    Whois { asked: &'a str, found: Option<&'a WhoisUser<'a>> },
    /// WHOWAS: who recently left under the name, newest first; else the
    /// account's name and last-seen time, if it is an account's.
    Whowas { asked: &'a str, departed: &'a [PastUser<'a>], seen: Option<(&'a str, u64)> },
    /// LUSERS: users registered, connections not yet registered, rooms,
    /// and the most users there have been.
    Lusers { users: usize, unregistered: usize, rooms: usize, peak: usize },
    /// AWAY: the client is now away, or back.
    Away { away: bool },
    /// The user a message was sent to is away, with this message.
    IsAway { nick: &'a str, message: &'a str },
    /// A user's own modes.
    UserModes { modes: &'a str },
    /// INFO: what this server is, and to a server operator, what it
    /// holds now.
    Info { counts: Option<ServerCounts> },
    /// OPER was accepted (381), and the user is `+o`.
    YoureOper,
    /// LINKS: this server, linked to none.
    Links,
    /// A service pseudo-user (NickServ) says how to use it.
    ServiceHelp { service: &'a str, lines: &'a [&'a str] },
}

/// The limits an IRC client is told at registration (ISUPPORT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServerLimits {
    pub(crate) nick_len: usize,
    pub(crate) room_name_len: usize,
    pub(crate) history_page_len: usize,
    /// The most targets a PRIVMSG, NOTICE or KICK names.
    pub(crate) targets: usize,
}

/// What INFO shows a server operator besides what the server is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServerCounts {
    pub(crate) clients: usize,
    pub(crate) text: usize,
    pub(crate) json: usize,
    pub(crate) irc: usize,
    pub(crate) rooms: usize,
    pub(crate) accounts: usize,
    pub(crate) operators: usize,
    pub(crate) most_users: usize,
}

/// An online user as WHOIS shows it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WhoisUser<'a> {
    pub(crate) nick: &'a str,
    pub(crate) user: &'a str,
    pub(crate) host: &'a str,
    pub(crate) realname: &'a str,
    /// The channels it is in that the asker may see, with its status
    /// marks (`@#rust`).
    pub(crate) rooms: &'a [String],
    pub(crate) away: Option<&'a str>,
    pub(crate) account: Option<&'a str>,
    /// A server operator (313).
    pub(crate) operator: bool,
}

/// Someone who left, as WHOWAS shows them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PastUser<'a> {
    pub(crate) nick: &'a str,
    pub(crate) user: &'a str,
    pub(crate) host: &'a str,
    pub(crate) realname: &'a str,
    pub(crate) unix_ms: u64,
}
