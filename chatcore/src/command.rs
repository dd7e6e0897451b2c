//! What a client can ask for, independent of the wire format, and the
//! command table: one row per [`Verb`] with its spellings in each codec,
//! its usage and help, and the rules checked before it runs. Parsing,
//! usage errors, `/help` and the checks in `execute` all read this table;
//! a new codec adds a column, not a copy.

use crate::account::Password;
use crate::error::Rejection;

/// A parsed client request: which row of the table, and the values of its
/// arguments. Codecs fill it from the row's argument shape; handlers read
/// it by the arguments' names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Command {
    /// The row.
    pub(crate) verb: Verb,
    /// A value per argument of the row, in its order (`None`: not given).
    values: Vec<Option<Value>>,
}

/// One argument's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// A word or a text.
    Text(String),
    /// A whole number.
    Number(u64),
    /// A password: never shown, never logged.
    Secret(Password),
    /// Words.
    List(Vec<String>),
}

/// What kind of value an argument takes, and how each codec writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// One word (text), a string (JSON), one parameter (IRC).
    Word,
    /// Text: the rest of the line, spaces and all. JSON: a string.
    Rest,
    /// A whole number.
    Number,
    /// A password, as a word or a string.
    Secret,
    /// Text: the remaining words. JSON: an array of strings.
    List,
}

/// One argument of a command: its name (the JSON key), how it is written
/// in usage lines, its kind, and whether it may be left out.
#[derive(Debug)]
pub(crate) struct Arg {
    /// The JSON key, and the name handlers read it by.
    pub(crate) key: &'static str,
    /// Its kind.
    pub(crate) kind: Kind,
    /// Whether the command needs it.
    pub(crate) required: bool,
}

/// A required argument.
const fn need(key: &'static str, kind: Kind) -> Arg {
    Arg { key, kind, required: true }
}

/// An argument that may be left out.
const fn may(key: &'static str, kind: Kind) -> Arg {
    Arg { key, kind, required: false }
}

impl Command {
    /// A command of this verb with no argument given yet.
    pub(crate) fn new(verb: Verb) -> Command {
        Command { verb, values: vec![None; verb.spec().args.len()] }
    }

    /// This command with `key` set to `value`. Setting an argument its row
    /// does not have is a mistake in a codec, caught by its tests.
    pub(crate) fn with(mut self, key: &str, value: impl Into<Value>) -> Command {
        match self.verb.spec().position(key) {
            Some(at) => self.values[at] = Some(value.into()),
            None => debug_assert!(false, "{:?} has no argument {key}", self.verb),
        }
        self
    }

    /// This command with `key` set when `value` is given.
    pub(crate) fn with_some(self, key: &str, value: Option<impl Into<Value>>) -> Command {
        match value {
            Some(value) => self.with(key, value),
            None => self,
        }
    }

    fn value(&self, key: &str) -> Option<&Value> {
        self.verb.spec().position(key).and_then(|at| self.values[at].as_ref())
    }

    /// A text argument, if given.
    pub(crate) fn text(&self, key: &str) -> Option<&str> {
        match self.value(key) {
            Some(Value::Text(text)) => Some(text),
            _ => None,
        }
    }

    /// A required text argument (every codec checks that it was given; an
    /// empty one fails the name rules it is put to).
    pub(crate) fn word(&self, key: &str) -> &str {
        self.text(key).unwrap_or_default()
    }

    /// A number argument, if given.
    pub(crate) fn number(&self, key: &str) -> Option<u64> {
        match self.value(key) {
            Some(Value::Number(number)) => Some(*number),
            _ => None,
        }
    }

    /// A list argument (empty if not given).
    pub(crate) fn list(&self, key: &str) -> &[String] {
        match self.value(key) {
            Some(Value::List(list)) => list,
            _ => &[],
        }
    }

    /// Takes a password argument out (empty if not given).
    pub(crate) fn take_secret(&mut self, key: &str) -> Password {
        let at = self.verb.spec().position(key);
        match at.and_then(|at| self.values[at].take()) {
            Some(Value::Secret(password)) => password,
            _ => Password::new(""),
        }
    }

    /// Whether every required argument was given.
    pub(crate) fn complete(&self) -> bool {
        self.verb.spec().args.iter().zip(&self.values).all(|(arg, value)| !arg.required || value.is_some())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::Text(text)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::Text(text.to_owned())
    }
}

impl From<u64> for Value {
    fn from(number: u64) -> Value {
        Value::Number(number)
    }
}

impl From<Password> for Value {
    fn from(password: Password) -> Value {
        Value::Secret(password)
    }
}

impl From<Vec<String>> for Value {
    fn from(list: Vec<String>) -> Value {
        Value::List(list)
    }
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

/// The most targets one PRIVMSG, NOTICE or KICK may name, as IRC's
/// `TARGMAX` advertises: each is a delivery, and each costs a line of
/// flood allowance.
pub(crate) const MAX_TARGETS: usize = 4;

/// When an IRC client may send a command, against its registration (the
/// welcome that follows NICK, USER and the end of CAP negotiation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Only once registered: before, it is refused with 451.
    Registered,
    /// Before registration and after (CAP, NICK, PING, QUIT, SASL).
    Any,
    /// Only while registering: after, it is refused with 462 (USER, PASS).
    Registering,
}

impl Stage {
    /// Why a client `registered` or not may not send a command of this
    /// stage, if it may not.
    pub(crate) fn refusal(self, registered: bool) -> Option<Rejection> {
        match (self, registered) {
            (Stage::Registered, false) => Some(Rejection::NotRegistered),
            (Stage::Registering, true) => Some(Rejection::AlreadyRegistered),
            _ => None,
        }
    }
}

/// How IRC refuses a line with fewer parameters than its command needs:
/// the standard numeric some commands have, or else 461 with the usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    /// 461, with the row's IRC usage.
    Usage,
    /// 431: a nickname was expected (NICK, WHOIS, WHOWAS).
    Nick,
    /// 409: PING without its token.
    Origin,
    /// 411 without a target, 412 without text (PRIVMSG, NOTICE).
    Recipient,
}

impl Missing {
    /// The refusal of `verb` when parameter number `at` (from 0) is missing.
    pub(crate) fn refusal(self, verb: Verb, at: usize) -> Rejection {
        match self {
            Missing::Usage => Rejection::Usage(verb.spec().irc_usage),
            Missing::Nick => Rejection::NoNicknameGiven,
            Missing::Origin => Rejection::NoOrigin,
            Missing::Recipient if at == 0 => Rejection::NoRecipient(verb.spec().irc_word),
            Missing::Recipient => Rejection::NoTextToSend,
        }
    }
}

/// One row of the command table.
#[derive(Debug)]
pub(crate) struct Spec {
    pub(crate) verb: Verb,
    /// Its arguments by name: the keys of its JSON object, and what
    /// handlers read. Text and IRC write some of them by position.
    pub(crate) args: &'static [Arg],
    /// Text: the command words that name it, the usual one first (`/nick`,
    /// then its alias `/name`). Empty for what needs no word (`say`).
    pub(crate) text_words: &'static [&'static str],
    /// Text (and IRC, where it takes plain words): the arguments written
    /// after the word, in order.
    pub(crate) text_args: &'static [&'static str],
    /// Text: its form, shown by `/help` and in usage errors; empty when
    /// text has no such command.
    pub(crate) text_usage: &'static str,
    /// JSON: its `type`; empty when JSON has no such command. (The column
    /// is kept without the `json` feature: the table is the same data
    /// whichever codecs are built.)
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
    /// IRC: the arguments its parameters give, in order. `None`: those
    /// of text, as plain words, and no more parameters than that.
    /// `Some`: IRC's own order, and parameters past them are ignored, as
    /// IRC servers do (`WHO #room o`).
    pub(crate) irc_args: Option<&'static [&'static str]>,
    /// IRC: how many parameters it needs (fewer are refused as
    /// [`Spec::irc_missing`] says). Without `irc_args`, the required
    /// arguments of text's words.
    pub(crate) irc_min: usize,
    /// IRC: how a line with too few parameters is refused.
    pub(crate) irc_missing: Missing,
    /// IRC: whether it may be sent before registration, or only then.
    pub(crate) irc_stage: Stage,
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
        COMMANDS.iter().find(|c| !c.json_type.is_empty() && c.json_type == kind).map(|c| c.verb)
    }
}

impl Spec {
    /// Where the argument named `key` is in [`Spec::args`].
    pub(crate) fn position(&self, key: &str) -> Option<usize> {
        self.args.iter().position(|arg| arg.key == key)
    }

    /// The argument named `key`.
    pub(crate) fn arg(&self, key: &str) -> Option<&'static Arg> {
        self.args.iter().find(|arg| arg.key == key)
    }
}

/// A row with the defaults most commands share: any user, no store needed,
/// and text writing every argument in order.
const fn row(
    verb: Verb,
    args: &'static [Arg],
    text_words: &'static [&'static str],
    text_usage: &'static str,
    json_type: &'static str,
    json_usage: &'static str,
    about: &'static str,
) -> Spec {
    Spec {
        verb,
        args,
        text_words,
        text_args: &[],
        text_usage,
        json_type,
        json_usage,
        irc_word: "",
        irc_usage: "",
        irc_args: None,
        irc_min: 0,
        irc_missing: Missing::Usage,
        irc_stage: Stage::Registered,
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

    /// The row with IRC's own parameters: the arguments they give, in
    /// order, and how many it needs.
    const fn irc_params(self, irc_args: &'static [&'static str], irc_min: usize) -> Spec {
        Spec { irc_args: Some(irc_args), irc_min, ..self }
    }

    /// The row, refused with its own numeric when parameters are missing.
    const fn missing(self, irc_missing: Missing) -> Spec {
        Spec { irc_missing, ..self }
    }

    /// The row, usable at this stage of IRC registration.
    const fn stage(self, irc_stage: Stage) -> Spec {
        Spec { irc_stage, ..self }
    }

    /// The row with the arguments text writes after the word, in order.
    const fn text(self, text_args: &'static [&'static str]) -> Spec {
        Spec { text_args, ..self }
    }

    /// The row, refused while the store fails.
    const fn stored(self) -> Spec {
        Spec { needs_store: true, ..self }
    }

    /// The row, allowed before logging in.
    const fn for_guests(self) -> Spec {
        Spec { guest_may: true, ..self }
    }
}

/// A row only IRC spells (its parameters are given with
/// [`Spec::irc_params`]). IRC's own queries were never behind a login, so a
/// guest may use them.
const fn irc_only(verb: Verb, args: &'static [Arg], irc_word: &'static str, irc_usage: &'static str) -> Spec {
    Spec {
        verb,
        args,
        text_words: &[],
        text_args: &[],
        text_usage: "",
        json_type: "",
        json_usage: "",
        irc_word,
        irc_usage,
        irc_args: None,
        irc_min: 0,
        irc_missing: Missing::Usage,
        irc_stage: Stage::Registered,
        about: "",
        guest_may: true,
        needs_store: false,
    }
}

use Kind::{List as Words, Number, Rest, Secret, Word};

/// The command table, in [`Verb`] order (which is the order `/help` lists).
pub(crate) const COMMANDS: &[Spec] = &[
    row(
        Verb::Nick,
        &[need("nick", Word)],
        &["nick", "name"],
        "/nick NAME",
        "nick",
        r#"{"type":"nick","nick":NAME}"#,
        "choose your nickname",
    )
    .text(&["nick"])
    .irc("NICK", "NICK <nick>")
    .irc_params(&["nick"], 1)
    .missing(Missing::Nick)
    .stage(Stage::Any),
    row(
        Verb::List,
        &[may("from", Word), may("rooms", Words)],
        &["list", "rooms"],
        "/list [FROM]",
        "list",
        r#"{"type":"list","from":ROOM?,"rooms":[ROOM...]?}"#,
        "list the rooms and how many are in each, a page at a time from FROM",
    )
    .text(&["from"])
    .irc("LIST", "LIST [from=<#room>|<#room>{,<#room>}]")
    .irc_params(&["from"], 0),
    row(
        Verb::Create,
        &[need("room", Word)],
        &["create"],
        "/create ROOM",
        "create",
        r#"{"type":"create","room":ROOM}"#,
        "create a room and join it",
    )
    .text(&["room"])
    .irc("", "JOIN <#room> (creates it if it does not exist)")
    .stored(),
    row(
        Verb::Drop,
        &[need("room", Word)],
        &["drop"],
        "/drop ROOM",
        "drop",
        r#"{"type":"drop","room":ROOM}"#,
        "remove a room you created, with its history",
    )
    .text(&["room"])
    .irc("DROP", "DROP <#room>")
    .stored(),
    // Showing a topic needs no store; setting one is checked where it happens.
    row(
        Verb::Topic,
        &[may("room", Word), may("text", Rest)],
        &["topic"],
        "/topic [TEXT]",
        "topic",
        r#"{"type":"topic","room":ROOM?,"text":TEXT?}"#,
        "show your room's topic, or set it (the owner, or anyone in a guest's room)",
    )
    .text(&["text"])
    .irc("TOPIC", "TOPIC <#room> [:<text>]")
    .irc_params(&["room", "text"], 1),
    row(
        Verb::Join,
        &[need("room", Word), may("key", Word)],
        &["join"],
        "/join ROOM [KEY]",
        "join",
        r#"{"type":"join","room":ROOM,"key":KEY?}"#,
        "join a room (text: switch to it)",
    )
    .text(&["room", "key"])
    .irc("JOIN", "JOIN <#room>{,<#room>} [<key>{,<key>}]")
    .irc_params(&["room", "key"], 1),
    row(
        Verb::Leave,
        &[may("room", Word), may("reason", Rest)],
        &["leave", "part"],
        "/leave",
        "leave",
        r#"{"type":"leave","room":ROOM?,"reason":TEXT?}"#,
        "leave your room, back to the Lobby",
    )
    .irc("PART", "PART <#room>{,<#room>} [:<reason>]")
    .irc_params(&["room", "reason"], 1),
    row(
        Verb::Mode,
        &[need("room", Word), may("modes", Word), may("args", Words)],
        &["mode"],
        "/mode ROOM [+-MODES [ARGS]]",
        "mode",
        r#"{"type":"mode","room":ROOM,"modes":MODES?,"args":[ARG...]?}"#,
        "show a room's modes, or change them (operators): +k KEY, +l N, +i, +m, +s, +t, +b MASK, +o/+v NICK",
    )
    .text(&["room", "modes", "args"])
    .irc("MODE", "MODE <#room|nick> [<modes> [<args>]]")
    .irc_params(&["room", "modes", "args"], 1),
    row(
        Verb::Kick,
        &[need("room", Word), need("nick", Word), may("reason", Rest)],
        &["kick"],
        "/kick ROOM NICK [REASON]",
        "kick",
        r#"{"type":"kick","room":ROOM,"nick":NICK,"reason":TEXT?}"#,
        "put a member out of a room (operators)",
    )
    .text(&["room", "nick", "reason"])
    .irc("KICK", "KICK <#room> <nick>{,<nick>} [:<reason>]")
    .irc_params(&["room", "nick", "reason"], 2),
    row(
        Verb::Invite,
        &[need("nick", Word), need("room", Word)],
        &["invite"],
        "/invite NICK ROOM",
        "invite",
        r#"{"type":"invite","nick":NICK,"room":ROOM}"#,
        "invite a user into a room (past +i, a ban or a key)",
    )
    .text(&["nick", "room"])
    .irc("INVITE", "INVITE <nick> <#room>")
    .irc_params(&["nick", "room"], 2),
    row(
        Verb::Who,
        &[may("room", Word), may("from", Word)],
        &["who"],
        "/who [ROOM|* [FROM]]",
        "who",
        r#"{"type":"who","room":ROOM?,"from":NICK?}"#,
        "who is in your room (or ROOM; * is the Lobby), a page at a time from FROM",
    )
    .text(&["room", "from"])
    .irc("WHO", "WHO <#room|*|nick> [from=<nick>]")
    .irc_params(&["room", "from"], 0),
    row(
        Verb::Users,
        &[may("from", Word)],
        &["users"],
        "/users [FROM]",
        "users",
        r#"{"type":"users","from":NICK?}"#,
        "everyone online, a page at a time from FROM",
    )
    .text(&["from"])
    .irc("USERS", "USERS [<from>]"),
    row(
        Verb::Msg,
        &[need("to", Word), need("text", Rest)],
        &["msg", "whisper", "w"],
        "/msg NICK TEXT",
        "msg",
        r#"{"type":"msg","to":NICK,"text":TEXT}"#,
        "whisper to one user (also: @NICK TEXT)",
    )
    .text(&["to", "text"])
    .irc("PRIVMSG", "PRIVMSG <nick>{,<target>} :<text>")
    .irc_params(&["to", "text"], 2)
    .missing(Missing::Recipient),
    row(
        Verb::Say,
        &[may("room", Word), need("text", Rest)],
        &[],
        "TEXT",
        "say",
        r#"{"type":"say","room":ROOM?,"text":TEXT}"#,
        "say TEXT to your room (//TEXT sends a line that starts with /)",
    )
    .irc("PRIVMSG", "PRIVMSG <#room> :<text>")
    .stored(),
    // IRC's NOTICE: said like a message, relayed as a notice to IRC
    // members, and never answered with an error. Text and JSON have none.
    row(Verb::Notice, &[need("room", Word), need("text", Rest)], &[], "", "", "", "a notice to a room or a user")
        .irc("NOTICE", "NOTICE <#room|nick>{,<target>} :<text>")
        .irc_params(&["room", "text"], 2)
        .missing(Missing::Recipient)
        .stored(),
    row(
        Verb::Register,
        &[need("name", Word), need("password", Secret), need("confirm", Secret)],
        &["register"],
        "/register NAME PASSWORD PASSWORD",
        "register",
        r#"{"type":"register","name":NAME,"password":PASSWORD,"confirm":PASSWORD}"#,
        "create an account (password twice) and log in",
    )
    .text(&["name", "password", "confirm"])
    .irc("REGISTER", "REGISTER <name|*> <email|*> <password>")
    .for_guests()
    .stored(),
    row(
        Verb::Login,
        &[need("name", Word), need("password", Secret)],
        &["login"],
        "/login NAME PASSWORD",
        "login",
        r#"{"type":"login","name":NAME,"password":PASSWORD}"#,
        "log in to your account; whispers kept while you were away follow",
    )
    .text(&["name", "password"])
    .irc("LOGIN", "LOGIN <name> <password>")
    .for_guests(),
    row(
        Verb::Seen,
        &[need("nick", Word)],
        &["seen"],
        "/seen NICK",
        "seen",
        r#"{"type":"seen","nick":NICK}"#,
        "when NICK was last online",
    )
    .text(&["nick"])
    .irc("SEEN", "SEEN <nick>"),
    row(
        Verb::Since,
        &[need("seconds", Number), may("from", Word)],
        &["since"],
        "/since SECONDS [FROM]",
        "since",
        r#"{"type":"since","seconds":SECONDS,"from":NICK?}"#,
        "everyone online within the last SECONDS, a page at a time from FROM",
    )
    .text(&["seconds", "from"])
    .irc("SINCE", "SINCE <seconds> [<from>]"),
    row(
        Verb::Block,
        &[need("nick", Word)],
        &["block"],
        "/block NICK",
        "block",
        r#"{"type":"block","nick":NICK}"#,
        "stop hearing from NICK",
    )
    .text(&["nick"])
    .irc("BLOCK", "BLOCK <nick>")
    .stored(),
    row(
        Verb::Unblock,
        &[need("nick", Word)],
        &["unblock"],
        "/unblock NICK",
        "unblock",
        r#"{"type":"unblock","nick":NICK}"#,
        "hear from NICK again",
    )
    .text(&["nick"])
    .irc("UNBLOCK", "UNBLOCK <nick>")
    .stored(),
    row(Verb::Blocked, &[], &["blocked"], "/blocked", "blocked", r#"{"type":"blocked"}"#, "the names you block")
        .irc("BLOCKED", "BLOCKED"),
    // Room names never start with `@`, so `/history @NICK` is a conversation.
    row(
        Verb::History,
        &[may("room", Word), may("with", Word), may("before", Number)],
        &["history"],
        "/history [ROOM|@NICK]",
        "history",
        r#"{"type":"history","room":ROOM?,"before":SEQ?} or {"type":"history","with":NICK,"before":SEQ?}"#,
        "earlier messages of your room, or your whispers with NICK, a page at a time",
    )
    .text(&["room"])
    .irc("HISTORY", "HISTORY <#room>"),
    row(Verb::Help, &[], &["help"], "/help", "help", r#"{"type":"help"}"#, "this list")
        .irc("HELP", "HELP")
        .irc_params(&[], 0)
        .for_guests(),
    row(
        Verb::Quit,
        &[may("reason", Rest)],
        &["quit", "exit"],
        "/quit [REASON]",
        "quit",
        r#"{"type":"quit","reason":REASON?}"#,
        "leave the server",
    )
    .text(&["reason"])
    .irc("QUIT", "QUIT [:<reason>]")
    .irc_params(&["reason"], 0)
    .stage(Stage::Any)
    .for_guests(),
    irc_only(Verb::Cap, &[need("sub", Word), may("caps", Rest)], "CAP", "CAP <LS|LIST|REQ|END> [:<capabilities>]")
        .irc_params(&["sub", "caps"], 1)
        .stage(Stage::Any),
    irc_only(
        Verb::User,
        &[need("user", Word), need("mode", Word), need("unused", Word), need("realname", Rest)],
        "USER",
        "USER <username> 0 * :<realname>",
    )
    .irc_params(&["user", "mode", "unused", "realname"], 4)
    .stage(Stage::Registering),
    irc_only(Verb::Pass, &[need("password", Word)], "PASS", "PASS <password>")
        .irc_params(&["password"], 1)
        .stage(Stage::Registering),
    irc_only(Verb::Authenticate, &[need("data", Word)], "AUTHENTICATE", "AUTHENTICATE <PLAIN|data|+|*>")
        .irc_params(&["data"], 1)
        .stage(Stage::Any),
    irc_only(Verb::Ping, &[need("token", Rest)], "PING", "PING <token>")
        .irc_params(&["token"], 1)
        .missing(Missing::Origin)
        .stage(Stage::Any),
    irc_only(Verb::Pong, &[may("token", Rest)], "PONG", "PONG [<token>]").irc_params(&["token"], 0).stage(Stage::Any),
    irc_only(Verb::Names, &[may("rooms", Word)], "NAMES", "NAMES [<#room>{,<#room>}]").irc_params(&["rooms"], 0),
    // `WHOIS <server> <nick>` names the nick last; the codec takes it from there.
    irc_only(Verb::Whois, &[need("nick", Word)], "WHOIS", "WHOIS [<server>] <nick>")
        .irc_params(&["nick"], 1)
        .missing(Missing::Nick),
    irc_only(Verb::Whowas, &[need("nick", Word), may("count", Word)], "WHOWAS", "WHOWAS <nick> [<count>]")
        .irc_params(&["nick", "count"], 1)
        .missing(Missing::Nick),
    irc_only(Verb::Lusers, &[], "LUSERS", "LUSERS").irc_params(&[], 0),
    irc_only(Verb::Away, &[may("message", Word)], "AWAY", "AWAY [:<message>]").irc_params(&["message"], 0),
    irc_only(Verb::Info, &[], "INFO", "INFO").irc_params(&[], 0),
    irc_only(Verb::Links, &[], "LINKS", "LINKS").irc_params(&[], 0),
    // Its parameters are checked by its handler, which answers with FAIL as
    // the chathistory specification asks, not with 461; the codec reads a
    // criterion's `msgid=` or `timestamp=` into a number.
    irc_only(
        Verb::ChatHistory,
        &[
            may("sub", Word),
            may("target", Word),
            may("criterion", Word),
            may("limit", Word),
            may("msgid", Number),
            may("timestamp", Number),
        ],
        "CHATHISTORY",
        "CHATHISTORY <LATEST|BEFORE|AROUND> <target> <*|msgid=<id>|timestamp=<time>> <limit>",
    )
    .irc_params(&["sub", "target", "criterion", "limit"], 0),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_verb_order_and_spellings_are_unique() {
        for (index, spec) in COMMANDS.iter().enumerate() {
            assert_eq!(spec.verb as usize, index, "{:?} is out of place", spec.verb);
            if !spec.json_type.is_empty() {
                assert_eq!(Verb::from_json_type(spec.json_type), Some(spec.verb));
            }
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

    /// The usage lines are written by hand for people; the shapes are what
    /// the parsers read. They must say the same.
    #[test]
    fn usage_lines_agree_with_the_argument_shapes() {
        for spec in COMMANDS {
            let verb = spec.verb;
            for arg in spec.args {
                if !spec.json_usage.is_empty() {
                    assert!(
                        spec.json_usage.contains(&format!("\"{}\":", arg.key)),
                        "{verb:?}: {} in JSON usage",
                        arg.key
                    );
                }
            }
            if !spec.text_words.is_empty() {
                let placeholders = spec.text_usage.split_whitespace().count() - 1;
                assert_eq!(placeholders, spec.text_args.len(), "{verb:?}: {}", spec.text_usage);
            }
            let mut optional_seen = false;
            for (i, key) in spec.text_args.iter().enumerate() {
                let arg = spec.arg(key).unwrap_or_else(|| panic!("{verb:?} has no argument {key}"));
                let last = i + 1 == spec.text_args.len();
                assert!(last || !matches!(arg.kind, Kind::Rest | Kind::List), "{verb:?}: {key} must come last");
                assert!(!(optional_seen && arg.required), "{verb:?}: required {key} after an optional one");
                optional_seen |= !arg.required;
            }
        }
    }

    /// IRC's parameters name arguments of the row, the ones it needs
    /// first; a row only IRC spells stays out of text's and JSON's help.
    #[test]
    fn irc_parameters_are_arguments_of_their_row() {
        for spec in COMMANDS {
            let verb = spec.verb;
            if let Some(keys) = spec.irc_args {
                assert!(spec.irc_min <= keys.len(), "{verb:?} needs more parameters than it has");
                for key in keys {
                    assert!(spec.arg(key).is_some(), "{verb:?} has no argument {key}");
                }
            }
            if spec.text_words.is_empty() && spec.json_type.is_empty() {
                assert!(spec.text_usage.is_empty(), "{verb:?} shows in the help of text");
                assert!(!spec.irc_word.is_empty(), "{verb:?} has no spelling at all");
            }
        }
        assert_eq!(Stage::Registered.refusal(false), Some(Rejection::NotRegistered));
        assert_eq!(Stage::Registering.refusal(true), Some(Rejection::AlreadyRegistered));
        assert_eq!(Stage::Any.refusal(false), None);
    }

    #[test]
    fn a_command_reads_back_what_was_set_by_name() {
        let command = Command::new(Verb::Since).with("seconds", 60u64).with("from", "bob");
        assert_eq!(command.number("seconds"), Some(60));
        assert_eq!(command.text("from"), Some("bob"));
        assert!(command.complete());
        assert!(!Command::new(Verb::Since).complete());
        assert_eq!(Command::new(Verb::Join).word("room"), "");
    }
}
