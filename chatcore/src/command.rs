//! What a client can ask for, independent of the wire format, and the
//! command table: one row per [`Verb`] with its spellings in each codec,
//! its usage and help, and the rules checked before it runs. Parsing,
//! usage errors, `/help` and the checks in `execute` all read this table;
//! a new codec adds a column, not a copy.

use crate::credentials::Password;
use crate::error::Rejection;

mod table;
pub(crate) mod verb;

pub(crate) use table::COMMANDS;
pub(crate) use verb::Verb;

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

/// A history `since` beyond every message: the page after the reader's
/// own read marker (text's `/history ROOM since` asks for it this way).
pub(crate) const SINCE_READ: u64 = u64::MAX;

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
