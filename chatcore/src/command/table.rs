//! The command table: one row per [`Verb`], in `Verb` order, with its
//! arguments, its spellings and usage in each codec, its help, and its
//! rules. Adding a command adds its row here.

use super::{Arg, Kind, Missing, Spec, Stage, Verb};

/// A required argument.
const fn need(key: &'static str, kind: Kind) -> Arg {
    Arg { key, kind, required: true }
}

/// An argument that may be left out.
const fn may(key: &'static str, kind: Kind) -> Arg {
    Arg { key, kind, required: false }
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
    .irc("KICK", "KICK <#room>{,<#room>} <nick>{,<nick>} [:<reason>]")
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
    // IRC names a message by its msgid (`12-rust`), which the codec reads
    // into its number; text's bare `/delete` is the sender's last message
    // in its room, as text users never see numbers.
    row(
        Verb::Delete,
        &[may("room", Word), may("seq", Number), may("reason", Rest)],
        &["delete"],
        "/delete [ROOM SEQ]",
        "delete",
        r#"{"type":"delete","room":ROOM,"seq":SEQ,"reason":TEXT?}"#,
        "delete a message of a room (your own; operators: anyone's); alone: your last one here",
    )
    .text(&["room", "seq"])
    .irc("REDACT", "REDACT <#room> <msgid> [:<reason>]")
    .irc_params(&["room", "seq", "reason"], 2)
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
        Verb::Token,
        &[],
        &["token"],
        "/token",
        "token",
        r#"{"type":"token"}"#,
        "get a session token, to log in again later with /resume instead of your password",
    )
    .irc("TOKEN", "TOKEN")
    .stored(),
    row(
        Verb::Resume,
        &[need("token", Secret)],
        &["resume"],
        "/resume TOKEN",
        "resume",
        r#"{"type":"resume","token":TOKEN}"#,
        "log in with a session token from /token",
    )
    .text(&["token"])
    .irc("RESUME", "RESUME <token>")
    .for_guests(),
    row(
        Verb::Sessions,
        &[],
        &["sessions"],
        "/sessions",
        "sessions",
        r#"{"type":"sessions"}"#,
        "list your account's session tokens (never the tokens themselves)",
    )
    .irc("SESSIONS", "SESSIONS"),
    row(
        Verb::Revoke,
        &[need("session", Word)],
        &["revoke"],
        "/revoke ID",
        "revoke",
        r#"{"type":"revoke","session":ID}"#,
        "revoke one of your session tokens, by the ID /sessions shows",
    )
    .text(&["session"])
    .irc("REVOKE", "REVOKE <id>")
    .stored(),
    row(
        Verb::LogoutAll,
        &[],
        &["logout-all"],
        "/logout-all",
        "logout_all",
        r#"{"type":"logout_all"}"#,
        "revoke every session token of your account and close its other connections",
    )
    .irc("LOGOUTALL", "LOGOUTALL")
    .stored(),
    row(
        Verb::Password,
        &[need("old", Secret), need("new", Secret), need("confirm", Secret)],
        &["password"],
        "/password OLD NEW NEW",
        "password",
        r#"{"type":"password","old":PASSWORD,"new":PASSWORD,"confirm":PASSWORD}"#,
        "change your password (the new one twice); revokes every session token",
    )
    .text(&["old", "new", "confirm"])
    .irc("PASSWORD", "PASSWORD <old> <new> <new>")
    .stored(),
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
    row(
        Verb::AlwaysOn,
        &[may("state", Word)],
        &["always-on"],
        "/always-on [on|off]",
        "always_on",
        r#"{"type":"always_on","state":"on"|"off"?}"#,
        "show, or set, whether your account stays in its rooms while you are not connected",
    )
    .text(&["state"])
    .irc("ALWAYSON", "ALWAYSON [on|off]")
    .irc_params(&["state"], 0),
    // Room names never start with `@`, so `/history @NICK` is a conversation.
    row(
        Verb::History,
        &[may("room", Word), may("with", Word), may("before", Number), may("after", Number), may("since", Number)],
        &["history"],
        "/history [ROOM|@NICK]",
        "history",
        r#"{"type":"history","room":ROOM?,"before":SEQ?|"after":SEQ?|"since":SEQ?} or {"type":"history","with":NICK,"before":SEQ?|"after":SEQ?}"#,
        "earlier messages of your room, or your whispers with NICK, a page at a time (add after N: the ones after N; since: the ones after your read marker)",
    )
    .text(&["room"])
    .irc("HISTORY", "HISTORY <#room>"),
    // A marker only moves forward; a SEQ beyond the newest message is the newest.
    row(
        Verb::Read,
        &[may("room", Word), may("with", Word), may("seq", Number), may("ts", Number)],
        &["read"],
        "/read [ROOM|@NICK] [SEQ]",
        "read",
        r#"{"type":"read","room":ROOM?,"seq":SEQ?|"ts":MS?} or {"type":"read","with":NICK,"seq":SEQ?}"#,
        "mark your room (or ROOM, or your whispers with NICK) read up to its newest message, or up to SEQ; your other connections follow",
    )
    .text(&["room", "seq"])
    .irc("MARKREAD", "MARKREAD <target> [timestamp=<time>]")
    .irc_params(&["room", "ts"], 1),
    // IRC's TIME may name a server to ask; there is only this one.
    row(Verb::Time, &[], &["time"], "/time", "time", r#"{"type":"time"}"#, "the server's date and time (UTC)")
        .irc("TIME", "TIME [<server>]")
        .irc_params(&[], 0)
        .for_guests(),
    row(Verb::Help, &[], &["help"], "/help", "help", r#"{"type":"help"}"#, "this list")
        .irc("HELP", "HELP")
        .irc_params(&[], 0)
        .for_guests(),
    // IRC's WALLOPS went to users with +w; here it reaches everyone, as
    // `NOTICE $*` does (the IRC codec reads that form too).
    row(
        Verb::Broadcast,
        &[need("text", Rest)],
        &["broadcast", "wallops"],
        "/broadcast TEXT",
        "broadcast",
        r#"{"type":"broadcast","text":TEXT}"#,
        "tell every user online (server operators)",
    )
    .text(&["text"])
    .irc("WALLOPS", "WALLOPS :<text>")
    .irc_params(&["text"], 1),
    row(
        Verb::Kill,
        &[need("nick", Word), may("reason", Rest)],
        &["kill"],
        "/kill NICK [REASON]",
        "kill",
        r#"{"type":"kill","nick":NICK,"reason":TEXT?}"#,
        "disconnect a user (server operators)",
    )
    .text(&["nick", "reason"])
    .irc("KILL", "KILL <nick> [:<reason>]")
    .irc_params(&["nick", "reason"], 1),
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
        "CHATHISTORY <LATEST|BEFORE|AFTER|AROUND> <target> <*|msgid=<id>|timestamp=<time>> <limit>",
    )
    .irc_params(&["sub", "target", "criterion", "limit"], 0),
    // Accepted for a client logged in to an operator account, with that
    // account's name and password (docs/IRC.md).
    irc_only(Verb::Oper, &[need("name", Word), need("password", Secret)], "OPER", "OPER <name> <password>")
        .irc_params(&["name", "password"], 2),
    // IRCv3 message-tags: client-only tags and no text; the codec gives
    // the line's client-only tags as `key=value` words.
    irc_only(Verb::TagMsg, &[need("to", Word), may("tags", Words)], "TAGMSG", "TAGMSG <#room|nick>")
        .irc_params(&["to"], 1)
        .missing(Missing::Recipient),
];
