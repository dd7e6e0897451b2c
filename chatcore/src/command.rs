//! What a client can ask for, independent of the wire format.

use crate::account::Password;

/// A parsed client request. Codecs turn lines into commands; the engine
/// carries them out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// Choose a nickname.
    Nick(String),
    /// Create a room and join it.
    Create(String),
    /// List every room with its member count.
    List,
    /// Join a room (text clients switch to it).
    Join(String),
    /// Leave a room (`None`: the current one).
    Leave(Option<String>),
    /// Members of a room (`None`: the current room, or the Lobby).
    Who(Option<String>),
    /// Everyone online.
    Users,
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
    /// Everyone online within the last so many seconds.
    Since(u64),
    /// Stop hearing from a user.
    Block(String),
    /// Hear from a blocked user again.
    Unblock(String),
    /// The names you block.
    Blocked,
    /// A page of older messages of a room you are in (`room`: `None` for the
    /// current one), numbered below `before` (`None`: text clients continue
    /// from the oldest shown to them; JSON clients start from the newest).
    History {
        /// The room.
        room: Option<String>,
        /// Only messages numbered below this.
        before: Option<u64>,
    },
}

/// One entry of the command reference shown by `/help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandHelp {
    /// The command's name: the text command word and the JSON `type`.
    pub name: &'static str,
    /// The text-protocol form.
    pub text: &'static str,
    /// The JSON Lines form.
    pub json: &'static str,
    /// What it does.
    pub about: &'static str,
}

/// Every command, in the order `/help` lists them.
pub const COMMANDS: &[CommandHelp] = &[
    CommandHelp {
        name: "nick",
        text: "/nick NAME",
        json: r#"{"type":"nick","nick":NAME}"#,
        about: "choose your nickname",
    },
    CommandHelp {
        name: "list",
        text: "/list",
        json: r#"{"type":"list"}"#,
        about: "list the rooms and how many are in each",
    },
    CommandHelp {
        name: "create",
        text: "/create ROOM",
        json: r#"{"type":"create","room":ROOM}"#,
        about: "create a room and join it",
    },
    CommandHelp {
        name: "join",
        text: "/join ROOM",
        json: r#"{"type":"join","room":ROOM}"#,
        about: "join a room (text: switch to it)",
    },
    CommandHelp {
        name: "leave",
        text: "/leave",
        json: r#"{"type":"leave","room":ROOM?}"#,
        about: "leave your room, back to the Lobby",
    },
    CommandHelp {
        name: "who",
        text: "/who [ROOM]",
        json: r#"{"type":"who","room":ROOM?}"#,
        about: "who is in your room (or ROOM)",
    },
    CommandHelp { name: "users", text: "/users", json: r#"{"type":"users"}"#, about: "everyone online" },
    CommandHelp {
        name: "msg",
        text: "/msg NICK TEXT",
        json: r#"{"type":"msg","to":NICK,"text":TEXT}"#,
        about: "whisper to one user (also: @NICK TEXT)",
    },
    CommandHelp {
        name: "say",
        text: "TEXT",
        json: r#"{"type":"say","room":ROOM?,"text":TEXT}"#,
        about: "say TEXT to your room (//TEXT sends a line that starts with /)",
    },
    CommandHelp {
        name: "register",
        text: "/register NAME PASSWORD PASSWORD",
        json: r#"{"type":"register","name":NAME,"password":PASSWORD,"confirm":PASSWORD}"#,
        about: "create an account (password twice) and log in",
    },
    CommandHelp {
        name: "login",
        text: "/login NAME PASSWORD",
        json: r#"{"type":"login","name":NAME,"password":PASSWORD}"#,
        about: "log in to your account; whispers kept while you were away follow",
    },
    CommandHelp {
        name: "seen",
        text: "/seen NICK",
        json: r#"{"type":"seen","nick":NICK}"#,
        about: "when NICK was last online",
    },
    CommandHelp {
        name: "since",
        text: "/since SECONDS",
        json: r#"{"type":"since","seconds":SECONDS}"#,
        about: "everyone online within the last SECONDS",
    },
    CommandHelp {
        name: "block",
        text: "/block NICK",
        json: r#"{"type":"block","nick":NICK}"#,
        about: "stop hearing from NICK",
    },
    CommandHelp {
        name: "unblock",
        text: "/unblock NICK",
        json: r#"{"type":"unblock","nick":NICK}"#,
        about: "hear from NICK again",
    },
    CommandHelp { name: "blocked", text: "/blocked", json: r#"{"type":"blocked"}"#, about: "the names you block" },
    CommandHelp {
        name: "history",
        text: "/history [ROOM]",
        json: r#"{"type":"history","room":ROOM?,"before":SEQ?}"#,
        about: "earlier messages of your room, a page at a time",
    },
    CommandHelp { name: "help", text: "/help", json: r#"{"type":"help"}"#, about: "this list" },
    CommandHelp {
        name: "quit",
        text: "/quit [REASON]",
        json: r#"{"type":"quit","reason":REASON?}"#,
        about: "leave the server",
    },
];

/// The reference entry for the command called `name`.
pub(crate) fn help_for(name: &str) -> Option<&'static CommandHelp> {
    COMMANDS.iter().find(|c| c.name == name)
}
