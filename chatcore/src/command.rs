//! What a client can ask for, independent of the wire format, and the
//! command table: one row per [`Verb`] with its spellings in each codec,
//! its usage and help, and the rules checked before it runs. Parsing,
//! usage errors, `/help` and the checks in `execute` all read this table;
//! a new codec adds a column, not a copy.

use crate::account::Password;

/// A parsed client request. Codecs turn lines into commands; the engine
/// carries them out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// Choose a nickname.
    Nick(String),
    /// Create a room and join it.
    Create(String),
    /// Remove a room you own, with its history.
    Drop(String),
    /// Show (`text: None`) or set a room's topic (`room: None`: the
    /// current one). An empty text clears it.
    Topic {
        /// The room, when the client names one.
        room: Option<String>,
        /// The new topic.
        text: Option<String>,
    },
    /// List the rooms with their member counts, a page from `from`.
    List {
        /// The first room name of the page.
        from: Option<String>,
    },
    /// Join a room (text clients switch to it), with its key if it has one.
    Join {
        /// The room.
        room: String,
        /// The key, for a `+k` room.
        key: Option<String>,
    },
    /// Show a room's modes (`letters: None`), its bans (`+b`), or change
    /// them (operators).
    Mode {
        /// The room.
        room: String,
        /// Mode letters, such as `+kl-i`.
        letters: Option<String>,
        /// The arguments of the letters that take one, in order.
        args: Vec<String>,
    },
    /// Put a member out of a room (operators).
    Kick {
        /// The room.
        room: String,
        /// The member.
        nick: String,
        /// Why, shown to everyone.
        reason: Option<String>,
    },
    /// Invite a user into a room.
    Invite {
        /// The user.
        nick: String,
        /// The room.
        room: String,
    },
    /// Leave a room (`room: None`: the current one), saying why if the
    /// client gives a reason.
    Leave {
        /// The room.
        room: Option<String>,
        /// Why, shown to those still there.
        reason: Option<String>,
    },
    /// Members of a room (`None`: the current room, or the Lobby; `*`:
    /// the Lobby), a page from `from`.
    Who {
        /// The room.
        room: Option<String>,
        /// The first nickname of the page.
        from: Option<String>,
    },
    /// Everyone online, a page from `from`.
    Users {
        /// The first nickname of the page.
        from: Option<String>,
    },
    /// The command list.
    Help,
    /// Disconnect, with an optional reason shown to others.
    Quit(Option<String>),
    /// A message to a room (`None`: the current one).
    Say {
        /// The room, when the client names one.
        room: Option<String>,
        /// The message.
        text: String,
        /// An IRC NOTICE: relayed as one to IRC members, and never
        /// answered with an error.
        notice: bool,
    },
    /// A private message to one user.
    Whisper {
        /// The recipient's nickname.
        to: String,
        /// The message.
        text: String,
    },
    /// Create an account, giving the password twice, and log in to it.
    Register {
        /// The account name (also the nickname).
        name: String,
        /// The password.
        password: Password,
        /// The password again.
        confirm: Password,
    },
    /// Log in to an account.
    Login {
        /// The account name.
        name: String,
        /// Its password.
        password: Password,
    },
    /// When a user was last online.
    Seen(String),
    /// Everyone online within the last so many seconds, a page from `from`.
    Since {
        /// How far back.
        seconds: u64,
        /// The name the page starts from.
        from: Option<String>,
    },
    /// Stop hearing from a user.
    Block(String),
    /// Hear from a blocked user again.
    Unblock(String),
    /// The names you block.
    Blocked,
    /// A page of older messages of a room you are in, or of your whispers
    /// with one account, numbered below `before` (`None`: text clients
    /// continue from the oldest shown to them; JSON clients start from the
    /// newest).
    History {
        /// Which history.
        of: HistoryOf,
        /// Only messages numbered below this.
        before: Option<u64>,
    },
}

/// What a `/history` request pages through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HistoryOf {
    /// A room the client is in (`None`: its only, or text: current, one).
    Room(Option<String>),
    /// The whispers between the client's account and this one.
    Conversation(String),
}

/// Every kind of command, in the order `/help` lists them; each is one row
/// of [`COMMANDS`].
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
}

/// One row of the command table.
#[derive(Debug)]
pub(crate) struct Spec {
    pub(crate) verb: Verb,
    /// Text: the command words that name it, the usual one first (`/nick`,
    /// then its alias `/name`). Empty for what needs no word (`say`).
    pub(crate) text_words: &'static [&'static str],
    /// Text: its form, shown by `/help` and in usage errors.
    pub(crate) text_usage: &'static str,
    /// JSON: its `type`. (The column is kept without the `json` feature:
    /// the table is the same data whichever codecs are built.)
    #[cfg_attr(not(feature = "json"), allow(dead_code))]
    pub(crate) json_type: &'static str,
    /// JSON: its form, shown by `help` and in usage errors.
    #[cfg_attr(not(feature = "json"), allow(dead_code))]
    pub(crate) json_usage: &'static str,
    /// IRC: its command word, a standard verb where IRC has one (`NICK`,
    /// `PRIVMSG`), else a chatd verb (`SEEN`). Empty where another row's
    /// word covers it (`JOIN` creates a missing channel).
    pub(crate) irc_word: &'static str,
    /// IRC: its form, in usage errors (461) and the protocol document.
    pub(crate) irc_usage: &'static str,
    /// What it does, for `/help`.
    pub(crate) about: &'static str,
    /// Allowed before logging in when `Config::require_login` is on.
    pub(crate) guest_may: bool,
    /// Needs a new record, so it is refused while the store fails.
    pub(crate) needs_store: bool,
}

impl Verb {
    /// This verb's row of the table.
    pub(crate) fn spec(self) -> &'static Spec {
        &COMMANDS[self as usize]
    }

    /// The verb a text command word names (case-insensitive), if any.
    pub(crate) fn from_text_word(word: &str) -> Option<Verb> {
        COMMANDS.iter().find(|c| c.text_words.iter().any(|w| w.eq_ignore_ascii_case(word))).map(|c| c.verb)
    }

    /// The verb an IRC command word names (case-insensitive), if any. Both
    /// `Say` and `Msg` are `PRIVMSG`: the target tells them apart.
    pub(crate) fn from_irc_word(word: &str) -> Option<Verb> {
        COMMANDS.iter().find(|c| !c.irc_word.is_empty() && c.irc_word.eq_ignore_ascii_case(word)).map(|c| c.verb)
    }

    /// The verb a JSON `type` names, if any.
    #[cfg_attr(not(feature = "json"), allow(dead_code))]
    pub(crate) fn from_json_type(kind: &str) -> Option<Verb> {
        COMMANDS.iter().find(|c| c.json_type == kind).map(|c| c.verb)
    }
}

impl Command {
    /// Which row of the table this command is.
    pub(crate) fn verb(&self) -> Verb {
        match self {
            Command::Nick(_) => Verb::Nick,
            Command::Create(_) => Verb::Create,
            Command::Drop(_) => Verb::Drop,
            Command::Topic { .. } => Verb::Topic,
            Command::List { .. } => Verb::List,
            Command::Join { .. } => Verb::Join,
            Command::Mode { .. } => Verb::Mode,
            Command::Kick { .. } => Verb::Kick,
            Command::Invite { .. } => Verb::Invite,
            Command::Leave { .. } => Verb::Leave,
            Command::Who { .. } => Verb::Who,
            Command::Users { .. } => Verb::Users,
            Command::Help => Verb::Help,
            Command::Quit(_) => Verb::Quit,
            Command::Say { .. } => Verb::Say,
            Command::Whisper { .. } => Verb::Msg,
            Command::Register { .. } => Verb::Register,
            Command::Login { .. } => Verb::Login,
            Command::Seen(_) => Verb::Seen,
            Command::Since { .. } => Verb::Since,
            Command::Block(_) => Verb::Block,
            Command::Unblock(_) => Verb::Unblock,
            Command::Blocked => Verb::Blocked,
            Command::History { .. } => Verb::History,
        }
    }
}

/// A row with the defaults most commands share: any user, no store needed.
const fn row(
    verb: Verb,
    text_words: &'static [&'static str],
    text_usage: &'static str,
    json_type: &'static str,
    json_usage: &'static str,
    about: &'static str,
) -> Spec {
    Spec {
        verb,
        text_words,
        text_usage,
        json_type,
        json_usage,
        irc_word: "",
        irc_usage: "",
        about,
        guest_may: false,
        needs_store: false,
    }
}

impl Spec {
    /// The row with its IRC column filled in.
    const fn irc(self, irc_word: &'static str, irc_usage: &'static str) -> Spec {
        Spec { irc_word, irc_usage, ..self }
    }
}

/// The command table, in [`Verb`] order (which is the order `/help` lists).
pub(crate) const COMMANDS: &[Spec] = &[
    row(Verb::Nick, &["nick", "name"], "/nick NAME", "nick", r#"{"type":"nick","nick":NAME}"#, "choose your nickname")
        .irc("NICK", "NICK <nick>"),
    row(
        Verb::List,
        &["list", "rooms"],
        "/list [FROM]",
        "list",
        r#"{"type":"list","from":ROOM?}"#,
        "list the rooms and how many are in each, a page at a time from FROM",
    )
    .irc("LIST", "LIST [from=<#room>]"),
    Spec {
        needs_store: true,
        ..row(
            Verb::Create,
            &["create"],
            "/create ROOM",
            "create",
            r#"{"type":"create","room":ROOM}"#,
            "create a room and join it",
        )
        .irc("", "JOIN <#room> (creates it if it does not exist)")
    },
    Spec {
        needs_store: true,
        ..row(
            Verb::Drop,
            &["drop"],
            "/drop ROOM",
            "drop",
            r#"{"type":"drop","room":ROOM}"#,
            "remove a room you created, with its history",
        )
        .irc("DROP", "DROP <#room>")
    },
    // Showing a topic needs no store; setting one is checked where it happens.
    row(
        Verb::Topic,
        &["topic"],
        "/topic [TEXT]",
        "topic",
        r#"{"type":"topic","room":ROOM?,"text":TEXT?}"#,
        "show your room's topic, or set it (the owner, or anyone in a guest's room)",
    )
    .irc("TOPIC", "TOPIC <#room> [:<text>]"),
    row(
        Verb::Join,
        &["join"],
        "/join ROOM [KEY]",
        "join",
        r#"{"type":"join","room":ROOM,"key":KEY?}"#,
        "join a room (text: switch to it)",
    )
    .irc("JOIN", "JOIN <#room>{,<#room>} [<key>{,<key>}]"),
    row(
        Verb::Leave,
        &["leave", "part"],
        "/leave",
        "leave",
        r#"{"type":"leave","room":ROOM?}"#,
        "leave your room, back to the Lobby",
    )
    .irc("PART", "PART <#room>{,<#room>} [:<reason>]"),
    row(
        Verb::Mode,
        &["mode"],
        "/mode ROOM [+-MODES [ARGS]]",
        "mode",
        r#"{"type":"mode","room":ROOM,"modes":MODES?,"args":[ARG...]?}"#,
        "show a room's modes, or change them (operators): +k KEY, +l N, +i, +m, +s, +t, +b MASK, +o/+v NICK",
    )
    .irc("MODE", "MODE <#room> [<modes> [<args>]]"),
    row(
        Verb::Kick,
        &["kick"],
        "/kick ROOM NICK [REASON]",
        "kick",
        r#"{"type":"kick","room":ROOM,"nick":NICK,"reason":TEXT?}"#,
        "put a member out of a room (operators)",
    )
    .irc("KICK", "KICK <#room> <nick> [:<reason>]"),
    row(
        Verb::Invite,
        &["invite"],
        "/invite NICK ROOM",
        "invite",
        r#"{"type":"invite","nick":NICK,"room":ROOM}"#,
        "invite a user into a room (past +i, a ban or a key)",
    )
    .irc("INVITE", "INVITE <nick> <#room>"),
    row(
        Verb::Who,
        &["who"],
        "/who [ROOM|* [FROM]]",
        "who",
        r#"{"type":"who","room":ROOM?,"from":NICK?}"#,
        "who is in your room (or ROOM; * is the Lobby), a page at a time from FROM",
    )
    .irc("WHO", "WHO <#room|*> [from=<nick>]"),
    row(
        Verb::Users,
        &["users"],
        "/users [FROM]",
        "users",
        r#"{"type":"users","from":NICK?}"#,
        "everyone online, a page at a time from FROM",
    )
    .irc("USERS", "USERS [<from>]"),
    row(
        Verb::Msg,
        &["msg", "whisper", "w"],
        "/msg NICK TEXT",
        "msg",
        r#"{"type":"msg","to":NICK,"text":TEXT}"#,
        "whisper to one user (also: @NICK TEXT)",
    )
    .irc("PRIVMSG", "PRIVMSG <nick> :<text>"),
    Spec {
        needs_store: true,
        ..row(
            Verb::Say,
            &[],
            "TEXT",
            "say",
            r#"{"type":"say","room":ROOM?,"text":TEXT}"#,
            "say TEXT to your room (//TEXT sends a line that starts with /)",
        )
        .irc("PRIVMSG", "PRIVMSG <#room> :<text>")
    },
    Spec {
        guest_may: true,
        needs_store: true,
        ..row(
            Verb::Register,
            &["register"],
            "/register NAME PASSWORD PASSWORD",
            "register",
            r#"{"type":"register","name":NAME,"password":PASSWORD,"confirm":PASSWORD}"#,
            "create an account (password twice) and log in",
        )
        .irc("REGISTER", "REGISTER <name|*> <email|*> <password>")
    },
    Spec {
        guest_may: true,
        ..row(
            Verb::Login,
            &["login"],
            "/login NAME PASSWORD",
            "login",
            r#"{"type":"login","name":NAME,"password":PASSWORD}"#,
            "log in to your account; whispers kept while you were away follow",
        )
        .irc("LOGIN", "LOGIN <name> <password>")
    },
    row(Verb::Seen, &["seen"], "/seen NICK", "seen", r#"{"type":"seen","nick":NICK}"#, "when NICK was last online")
        .irc("SEEN", "SEEN <nick>"),
    row(
        Verb::Since,
        &["since"],
        "/since SECONDS [FROM]",
        "since",
        r#"{"type":"since","seconds":SECONDS,"from":NICK?}"#,
        "everyone online within the last SECONDS, a page at a time from FROM",
    )
    .irc("SINCE", "SINCE <seconds> [<from>]"),
    Spec {
        needs_store: true,
        ..row(
            Verb::Block,
            &["block"],
            "/block NICK",
            "block",
            r#"{"type":"block","nick":NICK}"#,
            "stop hearing from NICK",
        )
        .irc("BLOCK", "BLOCK <nick>")
    },
    Spec {
        needs_store: true,
        ..row(
            Verb::Unblock,
            &["unblock"],
            "/unblock NICK",
            "unblock",
            r#"{"type":"unblock","nick":NICK}"#,
            "hear from NICK again",
        )
        .irc("UNBLOCK", "UNBLOCK <nick>")
    },
    row(Verb::Blocked, &["blocked"], "/blocked", "blocked", r#"{"type":"blocked"}"#, "the names you block")
        .irc("BLOCKED", "BLOCKED"),
    row(
        Verb::History,
        &["history"],
        "/history [ROOM|@NICK]",
        "history",
        r#"{"type":"history","room":ROOM?,"before":SEQ?} or {"type":"history","with":NICK,"before":SEQ?}"#,
        "earlier messages of your room, or your whispers with NICK, a page at a time",
    )
    .irc("HISTORY", "HISTORY <#room>"),
    Spec {
        guest_may: true,
        ..row(Verb::Help, &["help"], "/help", "help", r#"{"type":"help"}"#, "this list").irc("HELP", "HELP")
    },
    Spec {
        guest_may: true,
        ..row(
            Verb::Quit,
            &["quit", "exit"],
            "/quit [REASON]",
            "quit",
            r#"{"type":"quit","reason":REASON?}"#,
            "leave the server",
        )
        .irc("QUIT", "QUIT [:<reason>]")
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_verb_order_and_spellings_are_unique() {
        for (index, spec) in COMMANDS.iter().enumerate() {
            assert_eq!(spec.verb as usize, index, "{:?} is out of place", spec.verb);
            assert_eq!(Verb::from_json_type(spec.json_type), Some(spec.verb));
            for word in spec.text_words {
                assert_eq!(Verb::from_text_word(word), Some(spec.verb), "/{word}");
            }
            assert!(!spec.irc_usage.is_empty(), "{:?} has no IRC form", spec.verb);
            if !spec.irc_word.is_empty() {
                let found = Verb::from_irc_word(spec.irc_word).map(|verb| verb.spec().irc_word);
                assert_eq!(found, Some(spec.irc_word));
                assert!(spec.irc_usage.starts_with(spec.irc_word), "{}", spec.irc_usage);
            }
        }
    }
}
