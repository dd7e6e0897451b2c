//! An IRC message as a [`Command`] of the table: the row its IRC column
//! names, and its arguments from the row's IRC parameters. What only IRC
//! writes its own way (`WHOIS`'s nick last, `from=` cursors, a `LIST` of
//! channels, `msgid=` criteria, account-registration's `REGISTER`) is
//! read here too; what IRC's comma lists mean is for its handlers, which
//! split them.

use super::message::{Message, Param};
use super::time;
use crate::command::{Command, Kind, Verb};
use crate::credentials::Password;
use crate::error::Rejection;

/// How `WHO` and `LIST` take the name a page starts from: `from=NAME`,
/// which no standard parameter of theirs looks like.
const FROM: &str = "from=";

/// The row a message's command names. A command the table has not is
/// refused (421).
pub(crate) fn verb(message: &Message<'_>) -> Result<Verb, Rejection> {
    let word = message.command().upper();
    Verb::from_irc_word(&word).ok_or_else(|| Rejection::UnknownIrcCommand(word.as_ref().into()))
}

/// The command a message of `verb` asks for, its parameters read as the
/// row says. Too few are refused as the row's `irc_missing` says.
///
/// A parameter that is empty or not UTF-8 is not given, except for text
/// (`Kind::Rest`) among the parameters the command needs, and a TOPIC's
/// text, where empty means something: an empty topic clears it.
pub(crate) fn command(verb: Verb, message: &Message<'_>) -> Result<Command, Rejection> {
    let spec = verb.spec();
    let params = message.params();
    match verb {
        Verb::Whois => return whois(params),
        Verb::Register => return register(params),
        Verb::Delete => return redact(params),
        Verb::Read => return markread(params),
        _ => {}
    }
    // Rows without IRC parameters of their own take text's plain words,
    // and no more of them.
    let (keys, strict) = match spec.irc_args {
        Some(keys) => (keys, false),
        None => (spec.text_args, true),
    };
    let usage = || Rejection::Usage(spec.irc_usage);
    if strict && params.len() > keys.len() {
        return Err(usage());
    }
    let mut command = Command::new(verb);
    for (at, key) in keys.iter().enumerate() {
        let Some(arg) = spec.arg(key) else { continue };
        let needed = at < spec.irc_min;
        if arg.kind == Kind::List {
            // The rest of the parameters, an empty one kept (to be refused
            // as a mode's argument).
            let rest = params.get(at..).unwrap_or_default();
            let words: Vec<String> = rest.iter().filter_map(|p| p.as_str().ok()).map(str::to_owned).collect();
            command = command.with(key, words);
            break;
        }
        let raw = params.get(at);
        let keeps_empty = arg.kind == Kind::Rest && (needed || *key == "text");
        let given = raw.and_then(|p| p.as_str().ok()).filter(|text| keeps_empty || !text.is_empty());
        let Some(value) = given else {
            // Message text that is not UTF-8 is refused for that.
            if needed && *key == "text" && raw.is_some() {
                return Err(Rejection::InvalidUtf8);
            }
            if needed {
                return Err(spec.irc_missing.refusal(verb, at));
            }
            continue;
        };
        command = match arg.kind {
            Kind::Number => command.with(key, value.parse::<u64>().map_err(|_| usage())?),
            Kind::Secret => command.with(key, Password::new(value)),
            // (A list was taken whole above.)
            Kind::Word | Kind::Rest | Kind::List => command.with(key, value),
        };
    }
    if strict && !command.complete() {
        return Err(usage());
    }
    conventions(command)
}

/// What only IRC writes this way.
fn conventions(command: Command) -> Result<Command, Rejection> {
    Ok(match command.verb {
        // Message text as chat text, once it is known to say something.
        Verb::Msg | Verb::Notice => match command.text("text").filter(|text| !text.is_empty()).map(plain_text) {
            None => return Err(Rejection::NoTextToSend),
            Some(None) => return Err(Rejection::CtcpUnsupported),
            Some(Some(plain)) => command.with("text", plain),
        },
        // `LIST from=<#room>` goes on from a page; `LIST #a,#b` names rooms.
        Verb::List => match command.text("from") {
            Some(from) if from.starts_with(FROM) => {
                let from = from[FROM.len()..].to_owned();
                Command::new(Verb::List).with("from", from)
            }
            Some(names) => {
                let rooms: Vec<String> = names.split(',').filter(|n| !n.is_empty()).map(str::to_owned).collect();
                Command::new(Verb::List).with("rooms", rooms)
            }
            None => command,
        },
        // `WHO <#room|*> from=<nick>` goes on from a page; a standard
        // second parameter (`o`, WHOX's `%...`) is no cursor and is ignored.
        Verb::Who => {
            let from = command.text("from").and_then(|p| p.strip_prefix(FROM)).map(str::to_owned);
            Command::new(Verb::Who).with_some("room", command.text("room")).with_some("from", from)
        }
        // A channel's history, or else the conversation with a user.
        Verb::History => match command.text("room") {
            Some(target) => history_of(target),
            None => command,
        },
        Verb::ChatHistory => {
            let criterion = command.text("criterion").unwrap_or_default();
            let (msgid, timestamp) = match criterion.split_once('=') {
                Some(("msgid", id)) => (msgid_number(id), None),
                Some(("timestamp", t)) => (None, time::parse(t)),
                _ => (None, None),
            };
            command.with_some("msgid", msgid).with_some("timestamp", timestamp)
        }
        _ => command,
    })
}

/// What a HISTORY or CHATHISTORY target names: a channel, or the
/// conversation with a user.
pub(crate) fn history_of(target: &str) -> Command {
    let key = if target.starts_with('#') { "room" } else { "with" };
    Command::new(Verb::History).with(key, target)
}

/// The number a `msgid` carries (`12` of `12-rust`; a bare number too).
pub(crate) fn msgid_number(msgid: &str) -> Option<u64> {
    msgid.split('-').next()?.parse().ok()
}

/// `WHOIS [<server>] <nick>`: the nick is the last parameter.
fn whois(params: &[Param<'_>]) -> Result<Command, Rejection> {
    let nick = params.last().and_then(|p| p.as_str().ok()).filter(|nick| !nick.is_empty());
    nick.map(|nick| Command::new(Verb::Whois).with("nick", nick)).ok_or(Rejection::NoNicknameGiven)
}

/// draft/message-redaction's `REDACT <#room> <msgid> [:<reason>]`: the
/// message named by its msgid's number (`12-rust`, or a bare `12`).
fn redact(params: &[Param<'_>]) -> Result<Command, Rejection> {
    let (room, msgid, reason) = redact_params(params)?;
    let seq = msgid_number(msgid).ok_or(Rejection::Usage(Verb::Delete.spec().irc_usage))?;
    Ok(Command::new(Verb::Delete).with("room", room).with("seq", seq).with_some("reason", reason))
}

/// `REDACT`'s parameters: target, msgid and the reason if given; too few
/// are refused as the row says.
pub(crate) fn redact_params<'p>(params: &'p [Param<'_>]) -> Result<(&'p str, &'p str, Option<&'p str>), Rejection> {
    let word = |at: usize| params.get(at).and_then(|p| p.as_str().ok()).filter(|p| !p.is_empty());
    match (word(0), word(1)) {
        (Some(room), Some(msgid)) => Ok((room, msgid, word(2))),
        _ => Err(Verb::Delete.spec().irc_missing.refusal(Verb::Delete, params.len().min(1))),
    }
}

/// The number of a message of `room` named by `msgid`: a bare number, or
/// one of the room's own ids (`12-rust` in `#rust`, in any case); `None`
/// for any other id (another room's, a whisper's `7-w`, a TAGMSG's).
pub(crate) fn room_msgid(msgid: &str, room: &str) -> Option<u64> {
    let (number, of) = match msgid.split_once('-') {
        Some((number, of)) => (number, Some(of)),
        None => (msgid, None),
    };
    let room = room.trim_start_matches('#');
    if of.is_some_and(|of| !of.eq_ignore_ascii_case(room)) || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse().ok()
}

/// IRCv3 account-registration's `REGISTER <account|*> <email|*>
/// <password>`: the email is not used, and `*` for the account, kept as
/// it is, means the current nickname.
fn register(params: &[Param<'_>]) -> Result<Command, Rejection> {
    let words: Vec<&str> = params.iter().filter_map(|p| p.as_str().ok()).filter(|p| !p.is_empty()).collect();
    match words.as_slice() {
        [name, _email, password] if params.len() == 3 => Ok(Command::new(Verb::Register)
            .with("name", *name)
            .with("password", Password::new(*password))
            .with("confirm", Password::new(*password))),
        _ => Err(Rejection::Usage(Verb::Register.spec().irc_usage)),
    }
}

/// IRCv3 `draft/read-marker`'s `MARKREAD <target> [timestamp=<time>]`:
/// a channel's marker or, for a nickname, the conversation's; with no
/// timestamp, a question.
fn markread(params: &[Param<'_>]) -> Result<Command, Rejection> {
    let words: Vec<&str> = params.iter().filter_map(|p| p.as_str().ok()).filter(|p| !p.is_empty()).collect();
    let (target, stamp) = match words.as_slice() {
        [] => return Err(Rejection::MarkReadNeedsTarget),
        [target] if params.len() == 1 => (*target, None),
        [target, stamp] if params.len() == 2 => (*target, Some(*stamp)),
        _ => return Err(Rejection::MarkReadParams("MARKREAD <target> [timestamp=<time>]")),
    };
    let key = if target.starts_with('#') { "room" } else { "with" };
    let command = Command::new(Verb::Read).with(key, target);
    match stamp {
        None => Ok(command),
        Some(stamp) => match stamp.strip_prefix("timestamp=").and_then(time::parse) {
            Some(unix_ms) => Ok(command.with("ts", unix_ms)),
            None => Err(Rejection::MarkReadParams("give timestamp=YYYY-MM-DDThh:mm:ss.sssZ")),
        },
    }
}

/// What a PRIVMSG's text says, as chat text: IRC formatting (bold, colour,
/// ...) removed, since other protocols would show it as control bytes, and
/// a CTCP ACTION (`/me waves`) as `* waves`. `None` for other CTCP.
fn plain_text(text: &str) -> Option<String> {
    let text = match text.strip_prefix('\x01') {
        Some(ctcp) => {
            let ctcp = ctcp.strip_suffix('\x01').unwrap_or(ctcp);
            let action = ctcp.strip_prefix("ACTION ")?;
            format!("* {action}")
        }
        None => text.to_owned(),
    };
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // Bold, italics, underline, strike, monospace, reverse, reset.
            '\x02' | '\x1d' | '\x1f' | '\x1e' | '\x11' | '\x16' | '\x0f' => {}
            // Colour: up to two digits, then optionally a comma and two more.
            '\x03' => {
                for _ in 0..2 {
                    chars.next_if(char::is_ascii_digit);
                }
                if chars.peek() == Some(&',') {
                    let mut ahead = chars.clone();
                    ahead.next();
                    if ahead.peek().is_some_and(char::is_ascii_digit) {
                        chars.next();
                        for _ in 0..2 {
                            chars.next_if(char::is_ascii_digit);
                        }
                    }
                }
            }
            c => plain.push(c),
        }
    }
    Some(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(line: &str) -> Result<Command, Rejection> {
        let message = Message::parse(line.as_bytes()).expect("an IRC line");
        command(verb(&message)?, &message)
    }

    #[test]
    fn formatting_is_removed_and_actions_kept() {
        assert_eq!(plain_text("\x02bold\x02 and \x0304,12red\x03 \x1fu\x0f").unwrap(), "bold and red u");
        assert_eq!(plain_text("\x033,x").unwrap(), ",x");
        assert_eq!(plain_text("\x01ACTION waves\x01").unwrap(), "* waves");
        assert_eq!(plain_text("\x01VERSION\x01"), None);
        assert_eq!(plain_text("plain").unwrap(), "plain");
        let message = read("PRIVMSG bob :\x02hi\x02").expect("a command");
        assert_eq!(message.text("text"), Some("hi"));
        assert_eq!(read("NOTICE bob :\x01VERSION\x01"), Err(Rejection::CtcpUnsupported));
    }

    #[test]
    fn table_verbs_take_their_parameters() {
        let seen = Command::new(Verb::Seen).with("nick", "bob");
        assert_eq!(read("SEEN bob"), Ok(seen));
        assert_eq!(read("SEEN"), Err(Rejection::Usage("SEEN <nick>")));
        assert_eq!(read("SEEN bob carol"), Err(Rejection::Usage("SEEN <nick>")));
        let since = Command::new(Verb::Since).with("seconds", 60u64);
        assert_eq!(read("SINCE 60"), Ok(since.clone()));
        assert_eq!(read("SINCE 60 bob"), Ok(since.with("from", "bob")));
        assert!(read("SINCE soon").is_err());
        let register = read("REGISTER * * hunter22").expect("a command");
        assert_eq!(register.text("name"), Some("*"));
        assert_eq!(read("HISTORY bob").expect("a command").text("with"), Some("bob"));
        assert_eq!(read("FROB x"), Err(Rejection::UnknownIrcCommand("FROB".into())));
    }

    #[test]
    fn irc_shapes_and_their_missing_parameters() {
        assert_eq!(read("NICK"), Err(Rejection::NoNicknameGiven));
        assert_eq!(read("PRIVMSG"), Err(Rejection::NoRecipient("PRIVMSG")));
        assert_eq!(read("NOTICE bob"), Err(Rejection::NoTextToSend));
        assert_eq!(read("PRIVMSG bob :"), Err(Rejection::NoTextToSend));
        assert_eq!(read("PING"), Err(Rejection::NoOrigin));
        assert_eq!(read("JOIN"), Err(Rejection::Usage(Verb::Join.spec().irc_usage)));
        assert_eq!(read("USER a 0 *"), Err(Rejection::Usage(Verb::User.spec().irc_usage)));
        assert_eq!(read("WHOIS server bob").expect("a command").text("nick"), Some("bob"));
        let who = read("WHO #rust from=bob").expect("a command");
        assert_eq!((who.text("room"), who.text("from")), (Some("#rust"), Some("bob")));
        assert_eq!(read("WHO #rust o").expect("a command").text("from"), None);
        assert_eq!(read("LIST from=#b").expect("a command").text("from"), Some("#b"));
        assert_eq!(read("LIST #a,#b").expect("a command").list("rooms"), ["#a", "#b"]);
        assert_eq!(read("TOPIC #rust :").expect("a command").text("text"), Some(""));
        assert_eq!(read("PART #rust :").expect("a command").text("reason"), None);
        let mode = read("MODE #rust +k :").expect("a command");
        assert_eq!(mode.list("args"), [""]);
        let history = read("CHATHISTORY BEFORE #rust msgid=12-rust 50").expect("a command");
        assert_eq!(history.number("msgid"), Some(12));
    }

    #[test]
    fn a_redacted_msgid_must_be_the_rooms() {
        assert_eq!(room_msgid("12-rust", "#rust"), Some(12));
        assert_eq!(room_msgid("12-Rust", "rust"), Some(12));
        assert_eq!(room_msgid("12", "#rust"), Some(12));
        assert_eq!(room_msgid("12-go", "#rust"), None);
        assert_eq!(room_msgid("7-w", "#rust"), None);
        assert_eq!(room_msgid("nonexistent123", "#rust"), None);
        assert_eq!(room_msgid("+12", "#rust"), None);
    }

    #[test]
    fn markread_names_a_channel_or_a_nick_and_maybe_a_time() {
        let asked = read("MARKREAD #rust").expect("a command");
        assert_eq!((asked.text("room"), asked.number("ts")), (Some("#rust"), None));
        let set = read("MARKREAD bob timestamp=2024-01-02T03:04:05.678Z").expect("a command");
        assert_eq!((set.text("with"), set.number("ts")), (Some("bob"), Some(1_704_164_645_678)));
        assert!(matches!(read("MARKREAD #rust timestamp=yesterday"), Err(Rejection::MarkReadParams(_))));
        assert_eq!(read("MARKREAD"), Err(Rejection::MarkReadNeedsTarget));
        assert!(matches!(read("MARKREAD #a b c"), Err(Rejection::MarkReadParams(_))));
    }
}
