//! The human text protocol: commands start with `/`, anything else is said
//! to the current room, `@nick text` whispers. Server lines start with `[`
//! (room messages), `~` (history), `*` (notices) or `!` (errors).

use std::fmt::Write;

use bytes::Bytes;

use crate::command::{Command, Kind, Verb};
use crate::credentials::Password;
use crate::error::Rejection;
use crate::event::{Event, ListPage, MessageKind, PageOf};
use crate::names::LOBBY;
use crate::time::{ClockUtc, DateTimeUtc, HourMinuteUtc};

pub(super) fn parse(line: &str) -> Result<Command, Rejection> {
    let line = line.trim_end();
    if let Some(escaped) = line.strip_prefix("//") {
        return Ok(Command::new(Verb::Say).with("text", format!("/{escaped}")));
    }
    if let Some(rest) = line.strip_prefix('@') {
        // The name touches the `@`: `@ bob hi` names nobody.
        if rest.starts_with(char::is_whitespace) {
            return Err(Rejection::Usage(Verb::Msg.spec().text_usage));
        }
        return arguments(Verb::Msg, rest);
    }
    let Some(rest) = line.strip_prefix('/') else {
        return Ok(Command::new(Verb::Say).with("text", line));
    };
    let (word, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let Some(verb) = Verb::from_text_word(word) else {
        return Err(Rejection::UnknownCommand(format!("/{word}").into()));
    };
    if verb == Verb::History
        && let Some((args, after)) = history_after(args)
    {
        return Ok(arguments(verb, args)?.with("after", after));
    }
    if verb == Verb::History
        && let Some((args, since)) = history_since(args)
    {
        return Ok(arguments(verb, args)?.with("since", since));
    }
    arguments(verb, args)
}

/// `/history [ROOM] since [N]`: the page after message N or, with no
/// number, after the reader's read marker (a `since` beyond every
/// message, [`SINCE_READ`](crate::command::SINCE_READ), asks for that).
fn history_since(args: &str) -> Option<(&str, u64)> {
    let args = args.trim();
    let (head, last) = args.rsplit_once(char::is_whitespace).unwrap_or(("", args));
    if last.eq_ignore_ascii_case("since") {
        return Some((head.trim_end(), crate::command::SINCE_READ));
    }
    let number = last.parse().ok()?;
    let head = head.trim_end();
    let (rest, word) = head.rsplit_once(char::is_whitespace).unwrap_or(("", head));
    word.eq_ignore_ascii_case("since").then_some((rest, number))
}

/// `/history [ROOM|@NICK] after N` pages forward from message N: the
/// words `after N` come off the end, and what is before them is read as
/// usual (so a room named `after` is still `/history after`).
fn history_after(args: &str) -> Option<(&str, u64)> {
    let (head, number) = args.trim().rsplit_once(char::is_whitespace)?;
    let number = number.parse().ok()?;
    let head = head.trim_end();
    let (rest, word) = head.rsplit_once(char::is_whitespace).unwrap_or(("", head));
    word.eq_ignore_ascii_case("after").then_some((rest, number))
}

/// The arguments of `verb` from the words after its command word, as its
/// row writes them: a word each, the last a rest of the line or a list.
fn arguments(verb: Verb, line: &str) -> Result<Command, Rejection> {
    let spec = verb.spec();
    let usage = || Rejection::Usage(spec.text_usage);
    let mut command = Command::new(verb);
    let mut rest = line.trim();
    for key in spec.text_args {
        let arg = spec.arg(key).ok_or_else(usage)?;
        if rest.is_empty() {
            break;
        }
        let (word, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        command = match arg.kind {
            Kind::Word => command.with(key, word),
            Kind::Secret => command.with(key, Password::new(word)),
            Kind::Number => command.with(key, word.parse::<u64>().map_err(|_| usage())?),
            Kind::Rest => {
                let text = rest;
                rest = "";
                command.with(key, text)
            }
            Kind::List => {
                let words: Vec<String> = rest.split_whitespace().map(str::to_owned).collect();
                rest = "";
                command.with(key, words)
            }
        };
        if !matches!(arg.kind, Kind::Rest | Kind::List) {
            rest = after.trim_start();
        }
    }
    if !rest.is_empty() || !command.complete() {
        return Err(usage());
    }
    Ok(conventions(command))
}

/// What only text writes this way: `/topic -` clears the topic,
/// `/history @NICK` pages the whispers with NICK (room names never start
/// with `@`), and `/read` marks up to the newest unless given a number.
fn conventions(command: Command) -> Command {
    match command.verb {
        Verb::Topic if command.text("text") == Some("-") => command.with("text", ""),
        Verb::History => match command.text("room").and_then(|room| room.strip_prefix('@')) {
            Some(nick) => Command::new(Verb::History).with("with", nick),
            None => command,
        },
        // `/read @NICK` marks the whispers with NICK; with no SEQ, everything
        // up to the newest (a number beyond it is the newest).
        Verb::Read => {
            let seq = command.number("seq").unwrap_or(u64::MAX);
            match command.text("room").and_then(|room| room.strip_prefix('@')) {
                Some(nick) => Command::new(Verb::Read).with("with", nick).with("seq", seq),
                None => command.with("seq", seq),
            }
        }
        _ => command,
    }
}

pub(super) fn render(event: &Event<'_>) -> Bytes {
    render_in(event, Dialect::Text)
}

/// Which protocol's command a paged list names for its next page: a text
/// line is also how IRC clients are told what IRC has no reply for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Text,
    Irc,
}

/// `event` as text lines, naming commands as `dialect` spells them.
pub(crate) fn render_in(event: &Event<'_>, dialect: Dialect) -> Bytes {
    let mut out = String::with_capacity(64);
    // Writing to a String cannot fail.
    let _ = write_event(&mut out, event, dialect);
    Bytes::from(out)
}

/// The command that asks for the page after a paged list's, if there is one.
pub(crate) fn next_page(event: &Event<'_>, dialect: Dialect) -> Option<String> {
    use Dialect::{Irc, Text};
    let room = |room: Option<&str>| room.map_or_else(|| LOBBY.to_owned(), |r| r.to_owned());
    Some(match (*event, dialect) {
        (Event::Users { page: ListPage { next: Some(next), .. }, .. }, Text) => format!("/users {next}"),
        (Event::Users { page: ListPage { next: Some(next), .. }, .. }, Irc) => format!("USERS {next}"),
        (Event::Who { room: r, page: ListPage { next: Some(next), .. }, .. }, Text) => {
            format!("/who {} {next}", room(r))
        }
        (Event::Who { room: r, page: ListPage { next: Some(next), .. }, .. }, Irc) => {
            let chan = r.map_or_else(|| LOBBY.to_owned(), crate::names::channel);
            format!("WHO {chan} from={next}")
        }
        (Event::Rooms { page: ListPage { next: Some(next), .. }, .. }, Text) => format!("/list {next}"),
        (Event::Rooms { page: ListPage { next: Some(next), .. }, .. }, Irc) => format!("LIST from={next}"),
        (Event::Since { seconds, page: ListPage { next: Some(next), .. }, .. }, Text) => {
            format!("/since {seconds} {next}")
        }
        (Event::Since { seconds, page: ListPage { next: Some(next), .. }, .. }, Irc) => {
            format!("SINCE {seconds} {next}")
        }
        _ => return None,
    })
}

/// `(N)` for a whole list, `(K of N)` for a page of one.
fn count(shown: usize, page: ListPage<'_>) -> String {
    if shown == page.total { format!("({shown})") } else { format!("({shown} of {})", page.total) }
}

/// `: A, B` after a count; nothing for an empty page of a longer list.
fn names(names: &[&str], page: ListPage<'_>) -> String {
    if names.is_empty() && page.total > 0 { String::new() } else { format!(": {}", names.join(", ")) }
}

fn write_event(out: &mut String, event: &Event<'_>, dialect: Dialect) -> std::fmt::Result {
    let more = |out: &mut String| match next_page(event, dialect) {
        Some(command) => write!(out, "; more: {command}"),
        None => Ok(()),
    };
    match *event {
        Event::Welcome { server, nick } => {
            writeln!(out, "* Welcome to {server}, {nick}! You are in the Lobby. Type /help for commands.")
        }
        Event::Message { room, from, deleted: Some(_), history: false, .. } => {
            writeln!(out, "[{room}] {}", Tombstone(from))
        }
        Event::Message { room, from, unix_ms, deleted: Some(_), history: true, .. } => {
            history_line(out, room, "", &Tombstone(from).to_string(), unix_ms)
        }
        Event::Message { room, from, text, history: false, .. } => writeln!(out, "[{room}] {from}: {text}"),
        Event::Message { room, from, text, unix_ms, history: true, .. } => history_line(out, room, from, text, unix_ms),
        Event::Deleted { from, by, reason, history: false, .. } => writeln!(out, "* {}", Deletion { from, by, reason }),
        Event::Deleted { room, from, by, unix_ms, history: true, .. } => {
            history_line(out, room, "", &format!("* {}", Deletion { from, by, reason: None }), unix_ms)
        }
        Event::HistoryPage { newest: Some(newest), of, messages, more, unreadable, .. } => {
            later_page(out, of, messages, more, newest, unreadable)
        }
        Event::HistoryPage { of: PageOf::Room(room), messages: [], more: false, unreadable: 0, .. } => {
            writeln!(out, "* no earlier messages in {room}")
        }
        Event::HistoryPage { of: PageOf::Conversation { with }, messages: [], more: false, unreadable: 0, .. } => {
            writeln!(out, "* no earlier whispers with {with}")
        }
        Event::HistoryPage { of, messages, more, unreadable, .. } => {
            let count = messages.len();
            match of {
                PageOf::Room(room) => writeln!(out, "* {count} earlier message{} of {room}:", plural(count))?,
                PageOf::Conversation { with } => {
                    writeln!(out, "* {count} earlier whisper{} with {with}:", plural(count))?
                }
            }
            if unreadable > 0 {
                writeln!(out, "* {unreadable} message{} here could not be read from storage", plural(unreadable))?;
            }
            for m in messages {
                match of {
                    PageOf::Room(room) => room_entry(out, room, m)?,
                    // As the live whisper lines read, marked as history.
                    PageOf::Conversation { with } if m.from.eq_ignore_ascii_case(with) => {
                        writeln!(out, "~ [whisper from {with} {}] {}", ClockUtc(m.unix_ms), m.text)?
                    }
                    PageOf::Conversation { with } => {
                        writeln!(out, "~ [whisper to {with} {}] {}", ClockUtc(m.unix_ms), m.text)?
                    }
                }
            }
            match (of, more) {
                (PageOf::Room(_), true) => writeln!(out, "* /history shows earlier ones"),
                (PageOf::Room(room), false) => writeln!(out, "* that is the beginning of {room}"),
                (PageOf::Conversation { with }, true) => writeln!(out, "* /history @{with} shows earlier ones"),
                (PageOf::Conversation { with }, false) => {
                    writeln!(out, "* that is the beginning of your whispers with {with}")
                }
            }
        }
        Event::UserNotice { from, text, unix_ms, echo: false, .. }
        | Event::Whisper { from, text, unix_ms, echo: false, offline: false, .. } => {
            writeln!(out, "[whisper from {from} {}] {text}", ClockUtc(unix_ms))
        }
        Event::Whisper { from, text, unix_ms, echo: false, offline: true, .. } => {
            writeln!(out, "[whisper from {from} {}, while you were away] {text}", DateTimeUtc(unix_ms))
        }
        Event::Whisper { to, text, unix_ms, echo: true, .. }
        | Event::UserNotice { to, text, unix_ms, echo: true, .. } => {
            writeln!(out, "[whisper to {to} {}] {text}", ClockUtc(unix_ms))
        }
        Event::ReadMarker { of: PageOf::Room(room), seq: Some(seq), .. } => {
            writeln!(out, "* {room} read up to message {seq}")
        }
        Event::ReadMarker { of: PageOf::Room(room), seq: None, .. } => writeln!(out, "* nothing of {room} marked read"),
        Event::ReadMarker { of: PageOf::Conversation { with }, seq: Some(seq), .. } => {
            writeln!(out, "* whispers with {with} read up to {seq}")
        }
        Event::ReadMarker { of: PageOf::Conversation { with }, seq: None, .. } => {
            writeln!(out, "* no whispers with {with} marked read")
        }
        Event::Unread { room, count, since_ms, .. } => {
            write!(out, "* {count} unread in {room}")?;
            if let Some(ms) = since_ms {
                write!(out, " since {}", HourMinuteUtc(ms))?;
            }
            match dialect {
                Dialect::Text => writeln!(out, " (/history {room})"),
                Dialect::Irc => writeln!(out, " (HISTORY {})", crate::names::channel(room)),
            }
        }
        Event::Created { room } => writeln!(out, "* room {room} created"),
        Event::RoomDropped { room, by } => writeln!(out, "* room {room} was dropped by {by}"),
        Event::Topic { room, text: Some(text), by, unix_ms, changed: false, .. } => {
            writeln!(out, "* topic of {room}: {text} (set by {by}, {})", DateTimeUtc(unix_ms))
        }
        Event::Topic { room, text: None, changed: false, .. } => writeln!(out, "* {room} has no topic"),
        Event::Topic { room, text: Some(text), by, changed: true, .. } => {
            writeln!(out, "* {by} set the topic of {room}: {text}")
        }
        Event::Topic { room, text: None, by, changed: true, .. } => writeln!(out, "* {by} cleared the topic of {room}"),
        Event::Modes { room, modes } => writeln!(out, "* modes of {room}: {modes}"),
        Event::BanList { room, masks: [] } => writeln!(out, "* nobody is banned from {room}"),
        Event::BanList { room, masks } => writeln!(out, "* banned from {room} ({}): {}", masks.len(), masks.join(", ")),
        Event::ModeChanged { room, by, letters, args: [], .. } => writeln!(out, "* {by} set mode {letters} on {room}"),
        Event::ModeChanged { room, by, letters, args, .. } => {
            writeln!(out, "* {by} set mode {letters} {} on {room}", args.join(" "))
        }
        Event::Kicked { room, by, nick, reason, .. } => {
            writeln!(out, "* {nick} was kicked from {room} by {by} ({reason})")
        }
        Event::Invited { room, by, you: true, .. } => writeln!(out, "* {by} invites you to {room} (/join {room})"),
        Event::Invited { room, nick, you: false, .. } => writeln!(out, "* invited {nick} to {room}"),
        Event::Joined { room, members, you: true, .. } => {
            writeln!(out, "* you are now in {room} ({members} here)")
        }
        Event::Joined { room, nick, you: false, .. } => writeln!(out, "* {nick} joined {room}"),
        Event::Left { room, you: true, .. } => writeln!(out, "* you left {room}"),
        Event::Left { room, nick, you: false, reason: None, .. } => writeln!(out, "* {nick} left {room}"),
        Event::Left { room, nick, you: false, reason: Some(reason), .. } => {
            writeln!(out, "* {nick} left {room} ({reason})")
        }
        Event::NickChanged { new, you: true, .. } => writeln!(out, "* you are now known as {new}"),
        Event::NickChanged { old, new, you: false, .. } => writeln!(out, "* {old} is now known as {new}"),
        Event::Connected { nick } => writeln!(out, "* {nick} connected"),
        Event::Disconnected { nick, reason, .. } => writeln!(out, "* {nick} disconnected ({reason})"),
        Event::Rooms { rooms: [], page: ListPage { total: 0, .. } } => {
            writeln!(out, "* no rooms yet; /create ROOM makes one")
        }
        Event::Rooms { rooms, page } => {
            if rooms.len() == page.total {
                writeln!(out, "* {} room{}:", rooms.len(), plural(rooms.len()))?;
            } else {
                writeln!(out, "* {} of {} rooms:", rooms.len(), page.total)?;
            }
            for room in rooms {
                writeln!(out, "*   {} ({} here)", room.name, room.members)?;
            }
            if let Some(command) = next_page(event, dialect) {
                writeln!(out, "* more: {command}")?;
            }
            Ok(())
        }
        Event::Who { room, members, away, page, .. } => {
            let place = room.unwrap_or("the Lobby");
            write!(out, "* in {place} {}{}", count(members.len(), page), names(members, page))?;
            if !away.is_empty() {
                write!(out, " (away: {})", away.join(", "))?;
            }
            more(out)?;
            writeln!(out)
        }
        Event::Users { users, page } => {
            write!(out, "* online {}{}", count(users.len(), page), names(users, page))?;
            more(out)?;
            writeln!(out)
        }
        Event::Time { unix_ms } => writeln!(out, "* server time: {}", DateTimeUtc(unix_ms)),
        Event::Help { commands } => {
            writeln!(out, "* commands:")?;
            // A row with no text form (IRC's NOTICE) is not a text command.
            let commands = || commands.iter().filter(|c| !c.text_usage.is_empty());
            let width = commands().map(|c| c.text_usage.len()).max().unwrap_or(0);
            for command in commands() {
                writeln!(out, "*   {:width$}  {}", command.text_usage, command.about)?;
            }
            Ok(())
        }
        Event::Kept { to } => {
            writeln!(out, "* {to} is offline; your message was kept and will be delivered when they log in")
        }
        Event::Registered { name } => writeln!(out, "* account {name} registered; you are logged in"),
        Event::Broadcast { from, text, .. } => writeln!(out, "* broadcast from {from}: {text}"),
        Event::Killed { nick } => writeln!(out, "* {nick} was disconnected"),
        Event::LoggedIn { name, offline: 0 } => writeln!(out, "* logged in as {name}"),
        Event::LoggedIn { name, offline } => {
            writeln!(out, "* logged in as {name}; {offline} message{} kept for you:", plural(offline))
        }
        Event::Renamed { old, new, .. } => {
            writeln!(out, "* {old} is a registered name and its owner logged in; you are now {new}")
        }
        Event::TokenIssued { token, id, expires_ms } => {
            writeln!(out, "* session token {id}, good until {}; keep it secret: {token}", DateTimeUtc(expires_ms))
        }
        Event::Sessions { tokens: [] } => writeln!(out, "* your account has no session tokens"),
        Event::Sessions { tokens } => {
            writeln!(out, "* session tokens ({}):", tokens.len())?;
            for entry in tokens {
                let (created, expires) = (DateTimeUtc(entry.created_ms), DateTimeUtc(entry.expires_ms));
                writeln!(out, "*   {} issued {created}, expires {expires}", entry.id)?;
            }
            Ok(())
        }
        Event::TokensRevoked { id: Some(id), .. } => writeln!(out, "* session token {id} revoked"),
        Event::TokensRevoked { id: None, count } => {
            writeln!(out, "* {count} session token{} revoked; your other connections are closed", plural(count))
        }
        Event::PasswordChanged { name } => {
            writeln!(out, "* the password of {name} is changed; every session token is revoked")
        }
        Event::Seen { nick, online: true, .. } => writeln!(out, "* {nick} is online now"),
        Event::Seen { nick, last_seen_ms: Some(ms), .. } => {
            writeln!(out, "* {nick} was last seen {}", DateTimeUtc(ms))
        }
        Event::Seen { nick, .. } => writeln!(out, "* {nick} has never logged in"),
        Event::Since { seconds, users, page } => {
            write!(out, "* online within the last {seconds} s {}:", count(users.len(), page))?;
            for (i, user) in users.iter().enumerate() {
                let sep = if i == 0 { " " } else { ", " };
                match user.last_seen_ms {
                    None => write!(out, "{sep}{} (online)", user.nick)?,
                    Some(ms) => write!(out, "{sep}{} (last seen {})", user.nick, DateTimeUtc(ms))?,
                }
            }
            more(out)?;
            writeln!(out)
        }
        Event::BlockChanged { nick, blocked: true } => writeln!(out, "* you now block {nick}"),
        Event::BlockChanged { nick, blocked: false } => writeln!(out, "* you no longer block {nick}"),
        Event::AlwaysOn { on, forced } => {
            let (state, stays) = if on { ("on", "stays") } else { ("off", "does not stay") };
            let by = if forced { " (set by the server)" } else { "" };
            writeln!(out, "* always-on is {state}{by}: your account {stays} in its rooms while you are not connected")
        }
        Event::BlockList { names: [] } => writeln!(out, "* you block nobody"),
        Event::BlockList { names } => writeln!(out, "* you block ({}): {}", names.len(), names.join(", ")),
        Event::IdleWarning { seconds } => {
            writeln!(out, "* you have been idle; you will be disconnected in {seconds} s unless you send something")
        }
        Event::Error { rejection, .. } => writeln!(out, "! {rejection}"),
        Event::Bye { reason } => writeln!(out, "* bye: {reason}"),
        // Answers to IRC's own commands, which a text client cannot send.
        Event::Irc(_) | Event::TagMsg { .. } => Ok(()),
    }
}

/// A page forward (`/history ROOM after N`), worded as a page back is.
fn later_page(
    out: &mut String,
    of: PageOf<'_>,
    messages: &[crate::event::PageMessage<'_>],
    more: bool,
    newest: u64,
    unreadable: usize,
) -> std::fmt::Result {
    let count = messages.len();
    match (of, count, more, unreadable) {
        (PageOf::Room(room), 0, false, 0) => return writeln!(out, "* no later messages in {room}"),
        (PageOf::Conversation { with }, 0, false, 0) => return writeln!(out, "* no later whispers with {with}"),
        (PageOf::Room(room), ..) => writeln!(out, "* {count} later message{} of {room}:", plural(count))?,
        (PageOf::Conversation { with }, ..) => writeln!(out, "* {count} later whisper{} with {with}:", plural(count))?,
    }
    if unreadable > 0 {
        writeln!(out, "* {unreadable} message{} here could not be read from storage", plural(unreadable))?;
    }
    for m in messages {
        match of {
            PageOf::Room(room) => room_entry(out, room, m)?,
            PageOf::Conversation { with } if m.from.eq_ignore_ascii_case(with) => {
                writeln!(out, "~ [whisper from {with} {}] {}", ClockUtc(m.unix_ms), m.text)?
            }
            PageOf::Conversation { with } => writeln!(out, "~ [whisper to {with} {}] {}", ClockUtc(m.unix_ms), m.text)?,
        }
    }
    match (of, more) {
        (PageOf::Room(room), true) => writeln!(out, "* /history {room} after {newest} shows later ones"),
        (PageOf::Room(room), false) => writeln!(out, "* that is the newest of {room}"),
        (PageOf::Conversation { with }, true) => writeln!(out, "* /history @{with} after {newest} shows later ones"),
        (PageOf::Conversation { with }, false) => writeln!(out, "* that is the newest of your whispers with {with}"),
    }
}

/// A line of history; `from` empty for what nobody said (a tombstone, a deletion).
fn history_line(out: &mut String, room: &str, from: &str, text: &str, unix_ms: u64) -> std::fmt::Result {
    if from.is_empty() {
        return writeln!(out, "~ [{room} {}] {text}", ClockUtc(unix_ms));
    }
    writeln!(out, "~ [{room} {}] {from}: {text}", ClockUtc(unix_ms))
}

/// An entry of a room's page: a message, a tombstone, or a deletion.
fn room_entry(out: &mut String, room: &str, m: &crate::event::PageMessage<'_>) -> std::fmt::Result {
    let line = match m.kind {
        MessageKind::Said => return history_line(out, room, m.from, m.text, m.unix_ms),
        MessageKind::Deleted { .. } => Tombstone(m.from).to_string(),
        MessageKind::Deletion { by, .. } => format!("* {}", Deletion { from: m.from, by, reason: None }),
    };
    history_line(out, room, "", &line, m.unix_ms)
}

/// What a deleted message shows instead of its text.
struct Tombstone<'a>(&'a str);

impl std::fmt::Display for Tombstone<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(a message by {} was deleted)", self.0)
    }
}

/// A deletion told: whose message, by whom if not its sender, and why.
struct Deletion<'a> {
    from: &'a str,
    by: &'a str,
    reason: Option<&'a str>,
}

impl std::fmt::Display for Deletion<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a message by {} was deleted", self.from)?;
        if !self.by.eq_ignore_ascii_case(self.from) {
            write!(f, " by {}", self.by)?;
        }
        match self.reason {
            Some(reason) => write!(f, " ({reason})"),
            None => Ok(()),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
