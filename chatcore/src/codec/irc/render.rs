//! Events as IRC lines. A broadcast renders the same line for every IRC
//! recipient with the same [`Tagging`] (its source is the user it is
//! about); a reply to one client may name that client, as numerics do, so
//! it is rendered with a [`Recipient`].

use bytes::Bytes;

use super::message::Outgoing;
use super::time;
use crate::codec::text::{self, Dialect};
use crate::command::Verb;
use crate::error::{IrcReply, Rejection};
use crate::event::MessageKind;
use crate::event::{Event, IrcAnswer, ListPage, PageMessage, PageOf, PastUser, ServerLimits, WhoisUser, history_event};
use crate::names::{HIDDEN_HOST, LOBBY};
use crate::time::DateTimeUtc;

/// The IRCv3 tags a client negotiated that change how a broadcast line is
/// written: `server-time` adds `time=`, `message-tags` adds `msgid=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Tagging {
    pub(crate) time: bool,
    pub(crate) msgid: bool,
}

impl Tagging {
    /// No tags: a plain RFC 1459 client.
    pub(crate) const NONE: Tagging = Tagging { time: false, msgid: false };
    /// How many different taggings exist.
    pub(crate) const COUNT: usize = 4;

    pub(crate) fn index(self) -> usize {
        usize::from(self.time) | usize::from(self.msgid) << 1
    }

    pub(crate) fn at(index: usize) -> Tagging {
        Tagging { time: index & 1 != 0, msgid: index & 2 != 0 }
    }
}

/// Who one reply is for, and what it negotiated beyond tags.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recipient<'a> {
    pub(crate) nick: &'a str,
    /// Its own host, for the lines about itself.
    pub(crate) host: &'a str,
    pub(crate) server: &'a str,
    /// It has been welcomed (001): before that, a nickname change is
    /// announced by the welcome, not by a NICK line.
    pub(crate) registered: bool,
    /// `echo-message`: it sees its own messages come back.
    pub(crate) echo: bool,
    /// `batch`: history comes wrapped in a `chathistory` batch.
    pub(crate) batch: bool,
    /// A SASL exchange awaits its result: the login's outcome is also
    /// told as 903 or 904.
    pub(crate) sasl: bool,
    /// `draft/message-redaction`: a deletion in its history is a REDACT.
    pub(crate) redact: bool,
}

/// The source IRC clients see for a user: `nick!nick@host`, its host as
/// `Config::hosts` makes it (a cloak by default in chatd). Every user,
/// whatever its protocol, gets the same form.
pub(crate) fn mask(nick: &str, host: &str) -> String {
    format!("{nick}!{nick}@{host}")
}

pub(crate) use crate::names::channel;

/// Appends one line; a line that cannot be written (a bug upstream) is
/// dropped rather than sent malformed.
pub(crate) fn line(out: &mut Vec<u8>, source: Option<&str>, command: &str, params: &[&str]) {
    tagged(out, &[], source, command, params);
}

fn tagged(out: &mut Vec<u8>, tags: &[(&str, &str)], source: Option<&str>, command: &str, params: &[&str]) {
    let _ = Outgoing { tags, source, command, params }.write(out);
}

/// The tags of a message sent at `unix_ms`, with its id if it has one,
/// inside `batch` if given.
struct MessageTags {
    time: Option<String>,
    msgid: Option<String>,
}

impl MessageTags {
    fn new(tagging: Tagging, unix_ms: u64, msgid: Option<MsgId<'_>>) -> Self {
        MessageTags {
            time: tagging.time.then(|| time::format(unix_ms)),
            msgid: msgid.filter(|_| tagging.msgid).map(|id| id.to_string()),
        }
    }

    fn list<'a>(&'a self, batch: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
        let mut tags = Vec::with_capacity(3);
        if let Some(batch) = batch {
            tags.push(("batch", batch));
        }
        if let Some(time) = &self.time {
            tags.push(("time", time.as_str()));
        }
        if let Some(msgid) = &self.msgid {
            tags.push(("msgid", msgid.as_str()));
        }
        tags
    }
}

/// A message's id (`msgid`), unique on the server: a room message's number
/// in its room and the room (`12-rust`), or a kept whisper's number among
/// all whispers (`7-w`). `CHATHISTORY` reads the number back.
#[derive(Debug, Clone, Copy)]
enum MsgId<'a> {
    Room(u64, &'a str),
    Whisper(u64),
    /// A TAGMSG's, which names no kept message (`t7`).
    Tag(u64),
}

impl std::fmt::Display for MsgId<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MsgId::Room(seq, room) => write!(f, "{seq}-{}", room.trim_start_matches('#')),
            MsgId::Whisper(seq) => write!(f, "{seq}-w"),
            MsgId::Tag(number) => write!(f, "t{number}"),
        }
    }
}

/// Appends a PRIVMSG (or NOTICE) to `target`, split into as many lines as
/// the text needs, on UTF-8 boundaries; each piece carries the same tags,
/// but only the first the message's id, which names one message.
fn say(out: &mut Vec<u8>, tags: &[(&str, &str)], source: &str, command: &str, target: &str, text: &str) {
    let fixed = Outgoing { tags, source: Some(source), command, params: &[target, ""] };
    match fixed.split_trailing(text) {
        Ok(mut pieces) => {
            if let Some(first) = pieces.next() {
                tagged(out, tags, Some(source), command, &[target, first]);
            }
            // Most messages are one piece: the tags without the id are made
            // only for a second.
            let mut later: Option<Vec<(&str, &str)>> = None;
            for piece in pieces {
                let later = later.get_or_insert_with(|| tags.iter().copied().filter(|&(k, _)| k != "msgid").collect());
                tagged(out, later, Some(source), command, &[target, piece]);
            }
        }
        Err(_) => tagged(out, tags, Some(source), command, &[target, "(message could not be relayed)"]),
    }
}

/// Renders `event`; `to` is the recipient of a reply, `None` for a
/// broadcast (which names nobody and comes from a user).
pub(crate) fn render(event: &Event<'_>, to: Option<Recipient<'_>>, tagging: Tagging) -> Bytes {
    let mut out = Vec::with_capacity(128);
    render_into(&mut out, event, to, tagging, None);
    Bytes::from(out)
}

/// Renders `event` into `out`, as part of `batch` if given.
pub(crate) fn render_into(
    out: &mut Vec<u8>,
    event: &Event<'_>,
    to: Option<Recipient<'_>>,
    tagging: Tagging,
    batch: Option<&str>,
) {
    let server = to.map_or(HIDDEN_HOST, |r| r.server);
    let me = to.map_or("*", |r| r.nick);
    match *event {
        Event::Message { room, seq, from, host, text, unix_ms, notice, deleted, .. } => {
            let tags = MessageTags::new(tagging, unix_ms, Some(MsgId::Room(seq, room)));
            let command = if notice { "NOTICE" } else { "PRIVMSG" };
            // A deleted message keeps its place and id, never its text.
            let tombstone;
            let text = match deleted {
                Some(_) => {
                    tombstone = format!("(a message by {from} was deleted)");
                    &tombstone
                }
                None => text,
            };
            say(out, &tags.list(batch), &mask(from, host), command, &channel(room), text);
        }
        // draft/message-redaction: `REDACT <target> <msgid> [:reason]`,
        // from whoever deleted it.
        Event::Deleted { room, seq, by, host, unix_ms, event, reason, redact: true, .. } => {
            let tags = MessageTags::new(tagging, unix_ms, Some(MsgId::Room(event, room)));
            let (tags, target) = (tags.list(batch), MsgId::Room(seq, room).to_string());
            let (chan, source) = (channel(room), mask(by, host));
            // A reason as long as a text or JSON line allows is cut to
            // what one IRC line holds: the deletion itself must get through.
            let fixed =
                Outgoing { tags: &tags, source: Some(&source), command: "REDACT", params: &[&chan, &target, ""] };
            match reason.and_then(|reason| fixed.split_trailing(reason).ok()?.next()) {
                Some(reason) => tagged(out, &tags, Some(&source), "REDACT", &[&chan, &target, reason]),
                None => tagged(out, &tags, Some(&source), "REDACT", &[&chan, &target]),
            }
        }
        // Without the capability, a notice to the channel says it.
        Event::Deleted { room, from, by, host, unix_ms, event, reason, redact: false, .. } => {
            let tags = MessageTags::new(tagging, unix_ms, Some(MsgId::Room(event, room)));
            let mut text = format!("* a message by {from} was deleted");
            if !by.eq_ignore_ascii_case(from) {
                text.push_str(" by ");
                text.push_str(by);
            }
            if let Some(reason) = reason {
                text.push_str(&format!(" ({reason})"));
            }
            say(out, &tags.list(batch), &mask(by, host), "NOTICE", &channel(room), &text);
        }
        Event::Whisper { from, host, to: target, text, unix_ms, echo, offline, seq } => {
            if echo && !to.is_some_and(|r| r.echo) {
                // Without echo-message an IRC client shows its own whisper itself.
                return;
            }
            let tags = MessageTags::new(tagging, unix_ms, seq.map(MsgId::Whisper));
            if offline && !tagging.time {
                // Without server-time the kept time goes in the text.
                let text = format!("[kept {}] {text}", DateTimeUtc(unix_ms));
                return say(out, &tags.list(batch), &mask(from, host), "PRIVMSG", target, &text);
            }
            say(out, &tags.list(batch), &mask(from, host), "PRIVMSG", target, text);
        }
        Event::UserNotice { from, host, to: target, text, unix_ms, echo } => {
            if echo && !to.is_some_and(|r| r.echo) {
                return;
            }
            let tags = MessageTags::new(tagging, unix_ms, None);
            say(out, &tags.list(batch), &mask(from, host), "NOTICE", target, text);
        }
        // Only to clients that negotiated message-tags (`Tagging::msgid`).
        Event::TagMsg { from, host, to: target, tags: client_tags, unix_ms, number, echo } => {
            if !tagging.msgid || (echo && !to.is_some_and(|r| r.echo)) {
                return;
            }
            let tags = MessageTags::new(tagging, unix_ms, Some(MsgId::Tag(number)));
            let mut all = tags.list(batch);
            all.extend_from_slice(client_tags);
            tagged(out, &all, Some(&mask(from, host)), "TAGMSG", &[target]);
        }
        // A page is asked for by one client, so it always has a recipient.
        Event::HistoryPage { of, messages, .. } => {
            if let Some(recipient) = to {
                history(out, recipient, tagging, of, messages);
            }
        }
        // `draft/read-marker`: a marker is named by its message's time.
        Event::ReadMarker { of, unix_ms, .. } => {
            let target = match of {
                PageOf::Room(room) => channel(room),
                PageOf::Conversation { with } => with.to_owned(),
            };
            let stamp = unix_ms.map_or_else(|| "*".to_owned(), |ms| format!("timestamp={}", time::format(ms)));
            line(out, Some(server), "MARKREAD", &[&target, &stamp]);
        }
        Event::Joined { room, nick, host, .. } => line(out, Some(&mask(nick, host)), "JOIN", &[&channel(room)]),
        Event::Left { room, nick, host, reason: None, .. } => {
            line(out, Some(&mask(nick, host)), "PART", &[&channel(room)])
        }
        Event::Left { room, nick, host, reason: Some(reason), .. } => {
            line(out, Some(&mask(nick, host)), "PART", &[&channel(room), reason])
        }
        // A dropped room parts its IRC members, each told on its own.
        Event::RoomDropped { room, by } => match to {
            Some(r) => {
                let part = [&*channel(room), &format!("room dropped by {by}")];
                line(out, Some(&mask(r.nick, r.host)), "PART", &part);
            }
            None => line(out, Some(server), "NOTICE", &[&channel(room), &format!("room dropped by {by}")]),
        },
        // Before the welcome, the welcome itself gives the nickname; and a
        // change to the same spelling is no change.
        Event::NickChanged { you: true, .. } if to.is_some_and(|r| !r.registered) => {}
        Event::NickChanged { old, new, .. } if old == new => {}
        Event::NickChanged { old, new, host, .. } => line(out, Some(&mask(old, host)), "NICK", &[new]),
        Event::Renamed { old, new, host } => {
            line(out, Some(&mask(old, host)), "NICK", &[new]);
            line(out, Some(server), "NOTICE", &[new, &format!("{old} belongs to an account; you are now {new}")]);
        }
        Event::Disconnected { nick, host, reason } => {
            line(out, Some(&mask(nick, host)), "QUIT", &[&reason.to_string()]);
        }
        Event::Topic { room, text, by, host, unix_ms, changed: true } => {
            let tags = MessageTags::new(tagging, unix_ms, None);
            tagged(out, &tags.list(batch), Some(&mask(by, host)), "TOPIC", &[&channel(room), text.unwrap_or("")]);
        }
        Event::Topic { room, text: Some(text), by, host, unix_ms, changed: false } => {
            line(out, Some(server), "332", &[me, &channel(room), text]);
            line(out, Some(server), "333", &[me, &channel(room), &mask(by, host), &(unix_ms / 1000).to_string()]);
        }
        Event::Topic { room, text: None, changed: false, .. } => {
            line(out, Some(server), "331", &[me, &channel(room), "No topic is set"])
        }
        // The JOIN that follows says it.
        Event::Created { .. } => {}
        Event::Modes { room, modes } => {
            let chan = channel(room);
            let mut params = vec![me, chan.as_str()];
            params.extend(modes.split(' '));
            line(out, Some(server), "324", &params)
        }
        Event::BanList { room, masks } => {
            for mask in masks {
                line(out, Some(server), "367", &[me, &channel(room), mask]);
            }
            line(out, Some(server), "368", &[me, &channel(room), "End of channel ban list"]);
        }
        Event::ModeChanged { room, by, host, letters, args } => {
            let chan = channel(room);
            let mut params = vec![chan.as_str(), letters];
            params.extend_from_slice(args);
            line(out, Some(&mask(by, host)), "MODE", &params);
        }
        Event::Kicked { room, by, host, nick, reason } => {
            line(out, Some(&mask(by, host)), "KICK", &[&channel(room), nick, reason]);
        }
        Event::Invited { room, by, host, nick, you: true } => {
            line(out, Some(&mask(by, host)), "INVITE", &[nick, &channel(room)]);
        }
        Event::Invited { room, nick, you: false, .. } => line(out, Some(server), "341", &[me, nick, &channel(room)]),
        Event::Rooms { rooms, page } => {
            line(out, Some(server), "321", &[me, "Channel", "Users  Name"]);
            for room in rooms {
                line(out, Some(server), "322", &[me, &channel(room.name), &room.members.to_string(), ""]);
            }
            more(out, server, me, event, rooms.len(), page);
            line(out, Some(server), "323", &[me, "End of /LIST"]);
        }
        Event::Who { room, members, hosts, away, operators, page } => {
            let chan = room.map_or_else(|| LOBBY.to_owned(), channel);
            for ((nick, host), &operator) in members.iter().zip(hosts).zip(operators) {
                // Here, or gone (an always-on account with no connection);
                // `*` after it marks a server operator.
                let flags = match (away.contains(nick), operator) {
                    (false, false) => "H",
                    (false, true) => "H*",
                    (true, false) => "G",
                    (true, true) => "G*",
                };
                let params = [me, &chan, nick, host, server, nick, flags, &format!("0 {nick}")];
                line(out, Some(server), "352", &params);
            }
            more(out, server, me, event, members.len(), page);
            line(out, Some(server), "315", &[me, &chan, "End of /WHO list"]);
        }
        // Registering logs in too, and the login tells it (900).
        Event::Registered { name } => notice(out, server, me, &format!("Account {name} registered")),
        Event::LoggedIn { name, .. } => {
            let text = format!("You are now logged in as {name}");
            line(out, Some(server), "900", &[me, &mask(name, to.map_or(HIDDEN_HOST, |r| r.host)), name, &text]);
            if to.is_some_and(|r| r.sasl) {
                line(out, Some(server), "903", &[me, "SASL authentication successful"]);
            }
        }
        // RFC 2812's RPL_TIME: the server asked, and its time in words.
        Event::Time { unix_ms } => line(out, Some(server), "391", &[me, server, &DateTimeUtc(unix_ms).to_string()]),
        Event::IdleWarning { .. } => line(out, None, "PING", &[server]),
        Event::Bye { reason } => line(out, None, "ERROR", &[&format!("Closing link: {reason}")]),
        // To everyone, as IRC's global notice (`$*`: every user of every
        // server), from the operator: clients show it as a notice from them.
        Event::Broadcast { from, host, text, unix_ms } => {
            let tags = MessageTags::new(tagging, unix_ms, None);
            say(out, &tags.list(batch), &mask(from, host), "NOTICE", "$*", text);
        }
        Event::Error { rejection, verb } => error(out, to, server, me, rejection, verb),
        Event::Irc(IrcAnswer::Failed { rejection, verb, context }) => match rejection.irc(Some(verb)) {
            IrcReply::Fail(command, code) => {
                let text = rejection.to_string();
                let params: Vec<&str> =
                    [command, code].into_iter().chain(context.iter().copied()).chain([&*text]).collect();
                line(out, Some(server), "FAIL", &params);
            }
            _ => error(out, to, server, me, rejection, Some(verb)),
        },
        Event::Irc(answer) => irc_answer(out, answer, server, me),
        // What has no IRC form is told as a server notice: readable in
        // every client.
        _ => {
            let text = text::render_in(event, Dialect::Irc);
            for text_line in String::from_utf8_lossy(&text).lines() {
                notice(out, server, me, text_line);
            }
        }
    }
}

fn notice(out: &mut Vec<u8>, server: &str, me: &str, text: &str) {
    line(out, Some(server), "NOTICE", &[me, text]);
}

/// After a page of a paged list, how many come after it and the command
/// that asks for them, as a NOTICE: the standard replies have no place
/// for it.
fn more(out: &mut Vec<u8>, server: &str, me: &str, event: &Event<'_>, shown: usize, page: ListPage<'_>) {
    if let Some(command) = text::next_page(event, Dialect::Irc) {
        notice(out, server, me, &format!("{} of {} shown; more: {command}", shown, page.total));
    }
}

/// A page of a room's history, or of a conversation: a `chathistory`
/// batch when the client negotiated `batch` (an empty one says there is
/// nothing), else the messages as they are.
fn history(out: &mut Vec<u8>, to: Recipient<'_>, tagging: Tagging, of: PageOf<'_>, messages: &[PageMessage<'_>]) {
    // One batch at a time per client, so a fixed reference is unique.
    let reference = "history";
    let target = match of {
        PageOf::Room(room) => channel(room),
        PageOf::Conversation { with } => with.to_owned(),
    };
    if to.batch {
        line(out, Some(to.server), "BATCH", &[&format!("+{reference}"), "chathistory", &target]);
    }
    let batch = to.batch.then_some(reference);
    for m in messages {
        // draft/message-redaction: a client that understands REDACT gets no
        // tombstone for a deleted message, as the specification prefers;
        // the REDACT itself still comes, in its place in the history.
        if to.redact && matches!(m.kind, MessageKind::Deleted { .. }) {
            continue;
        }
        let event = match of {
            // The sender's host is not kept with its messages.
            PageOf::Room(room) => history_event(room, *m, HIDDEN_HOST, to.redact),
            // Either side's whispers: to the reader, or from it to `with`.
            PageOf::Conversation { with } => {
                let mine = m.from.eq_ignore_ascii_case(to.nick);
                let (echo, target) = if mine { (true, with) } else { (false, to.nick) };
                Event::Whisper {
                    from: m.from,
                    // Hosts are not kept with what was said.
                    host: HIDDEN_HOST,
                    to: target,
                    text: m.text,
                    unix_ms: m.unix_ms,
                    echo,
                    offline: false,
                    seq: Some(m.seq),
                }
            }
        };
        // The reader's own side of a conversation is history, not an echo to hide.
        let shown = Recipient { echo: true, ..to };
        render_into(out, &event, Some(shown), tagging, batch);
    }
    if to.batch {
        line(out, Some(to.server), "BATCH", &[&format!("-{reference}")]);
    }
}

/// NAMES for one channel: as many `353` lines as a page of nicknames
/// needs, then `366`, then, if the channel has more members than a page,
/// a NOTICE saying how many and how to list them (`WHO`, a page at a time).
fn names(out: &mut Vec<u8>, server: &str, me: &str, room: &str, secret: bool, nicks: &[&str], page: ListPage<'_>) {
    let chan = channel(room);
    // RFC 2812's channel type: `@` secret, `=` public.
    let kind = if secret { "@" } else { "=" };
    let fixed = Outgoing { tags: &[], source: Some(server), command: "353", params: &[me, kind, &chan, ""] };
    let room_for = fixed.room_for_trailing();
    let mut batch = String::new();
    for nick in nicks {
        if !batch.is_empty() && batch.len() + 1 + nick.len() > room_for {
            line(out, Some(server), "353", &[me, kind, &chan, &batch]);
            batch.clear();
        }
        if !batch.is_empty() {
            batch.push(' ');
        }
        batch.push_str(nick);
    }
    if !batch.is_empty() {
        line(out, Some(server), "353", &[me, kind, &chan, &batch]);
    }
    line(out, Some(server), "366", &[me, &chan, "End of /NAMES list"]);
    if let Some(next) = page.next {
        let rest = page.total.saturating_sub(nicks.len());
        notice(out, server, me, &format!("{chan} has {rest} more members; WHO {chan} from={next} lists them"));
    }
}

/// A refusal as the reply its row of the error table chooses.
fn error(
    out: &mut Vec<u8>,
    to: Option<Recipient<'_>>,
    server: &str,
    me: &str,
    rejection: &Rejection,
    verb: Option<Verb>,
) {
    let text = rejection.to_string();
    let reply = |out: &mut Vec<u8>, numeric: &str, names: &[&str]| {
        let params: Vec<&str> = [me].into_iter().chain(names.iter().copied()).chain([text.as_str()]).collect();
        line(out, Some(server), numeric, &params);
    };
    match rejection.irc(verb) {
        IrcReply::Plain(numeric) => reply(out, numeric, &[]),
        IrcReply::Star(numeric) => reply(out, numeric, &["*"]),
        IrcReply::Word(numeric, word) | IrcReply::Nick(numeric, word) => reply(out, numeric, &[word]),
        IrcReply::Channel(numeric, room) => reply(out, numeric, &[&channel(room)]),
        IrcReply::ChannelWords(numeric, room, words) => line(out, Some(server), numeric, &[me, &channel(room), words]),
        IrcReply::ChannelStar(numeric, room) => reply(out, numeric, &[&channel(room), "*"]),
        IrcReply::NickChannel(numeric, nick, room) => reply(out, numeric, &[nick, &channel(room)]),
        IrcReply::Mode(numeric, None, mode) => reply(out, numeric, &[&mode.to_string()]),
        IrcReply::Mode(numeric, Some(room), mode) => reply(out, numeric, &[&channel(room), &mode.to_string(), "*"]),
        IrcReply::Usage(usage) => {
            let command = usage.split(' ').next().unwrap_or("*");
            line(out, Some(server), "461", &[me, command, &format!("Not enough parameters: {usage}")]);
        }
        IrcReply::Registered(nick) => {
            let why = format!("{nick} is a registered name; log in to it with SASL or NickServ IDENTIFY");
            line(out, Some(server), "433", &[me, nick, &why]);
        }
        IrcReply::Login if to.is_some_and(|r| r.sasl) => {
            notice(out, server, me, &text);
            line(out, Some(server), "904", &[me, "SASL authentication failed"]);
        }
        IrcReply::SaslMechanisms => {
            line(out, Some(server), "908", &[me, "PLAIN", "are available SASL mechanisms"]);
            line(out, Some(server), "904", &[me, &text]);
        }
        IrcReply::Fail(command, code) => line(out, Some(server), "FAIL", &[command, code, &text]),
        IrcReply::Login | IrcReply::Notice => notice(out, server, me, &text),
        IrcReply::Nothing => {}
    }
}

/// What the server tells a client about itself at registration
/// (RPL_ISUPPORT, 005), besides the limits from its configuration.
const ISUPPORT: &[&str] =
    &["CHANTYPES=#", "PREFIX=(ov)@+", "CHANMODES=b,k,l,imnst", "CASEMAPPING=ascii", "NETWORK=chatd"];

/// The server's name and version, as 002 and 004 give them.
const VERSION: &str = concat!("chatd-", env!("CARGO_PKG_VERSION"));

/// A numeric reply from the server to `me`: `:server NUMERIC me params...`.
fn numeric_to(out: &mut Vec<u8>, server: &str, me: &str, numeric: &str, params: &[&str]) {
    let all: Vec<&str> = [me].into_iter().chain(params.iter().copied()).collect();
    line(out, Some(server), numeric, &all);
}

/// An answer to one of IRC's own commands, addressed to `me`.
fn irc_answer(out: &mut Vec<u8>, answer: IrcAnswer<'_>, server: &str, me: &str) {
    let reply = |out: &mut Vec<u8>, numeric: &str, params: &[&str]| numeric_to(out, server, me, numeric, params);
    match answer {
        IrcAnswer::Welcome { limits } => welcome(out, server, me, limits),
        IrcAnswer::Cap { sub, caps } => reply(out, "CAP", &[sub, caps]),
        IrcAnswer::SaslContinue => line(out, None, "AUTHENTICATE", &["+"]),
        IrcAnswer::Pong { token } => line(out, Some(server), "PONG", &[server, pong_token(server, token)]),
        IrcAnswer::Names { room, secret, nicks, page } => names(out, server, me, room, secret, nicks, page),
        IrcAnswer::NamesEnd { name } => reply(out, "366", &[name, "End of /NAMES list"]),
        IrcAnswer::WhoUser { asked, found } => {
            if let Some((nick, host, operator)) = found {
                // `*` after H(ere) marks a server operator.
                let flags = if operator { "H*" } else { "H" };
                reply(out, "352", &["*", nick, host, server, nick, flags, &format!("0 {nick}")]);
            }
            reply(out, "315", &[asked, "End of /WHO list"]);
        }
        IrcAnswer::Whois { asked, found: None } => {
            reply(out, "401", &[asked, "No such nick"]);
            reply(out, "318", &[asked, "End of /WHOIS list"]);
        }
        IrcAnswer::Whois { found: Some(whom), .. } => whois(out, server, me, whom),
        IrcAnswer::Whowas { asked, departed, seen } => whowas(out, server, me, asked, departed, seen),
        IrcAnswer::Lusers { users, unregistered, rooms, peak } => {
            reply(out, "251", &[&format!("There are {users} users and 0 invisible on 1 servers")]);
            reply(out, "252", &["0", "operator(s) online"]);
            reply(out, "253", &[&unregistered.to_string(), "unknown connection(s)"]);
            reply(out, "254", &[&rooms.to_string(), "channels formed"]);
            reply(out, "255", &[&format!("I have {users} clients and 0 servers")]);
            let (users, peak) = (users.to_string(), peak.to_string());
            reply(out, "265", &[&users, &peak, &format!("Current local users {users}, max {peak}")]);
            reply(out, "266", &[&users, &peak, &format!("Current global users {users}, max {peak}")]);
        }
        IrcAnswer::Away { away: true } => reply(out, "306", &["You have been marked as being away"]),
        IrcAnswer::Away { away: false } => reply(out, "305", &["You are no longer marked as being away"]),
        IrcAnswer::IsAway { nick, message } => reply(out, "301", &[nick, message]),
        IrcAnswer::UserModes { modes } => reply(out, "221", &[modes]),
        IrcAnswer::Info { counts } => {
            reply(
                out,
                "371",
                &[concat!("chatd ", env!("CARGO_PKG_VERSION"), ": chat rooms for IRC, text and JSON users")],
            );
            if let Some(c) = counts {
                let lines = [
                    format!("clients: {} (text {}, JSON {}, IRC {})", c.clients, c.text, c.json, c.irc),
                    format!("most users at once: {}", c.most_users),
                    format!("rooms: {}", c.rooms),
                    format!("accounts: {}", c.accounts),
                    format!("operator accounts: {}", c.operators),
                ];
                for text in &lines {
                    reply(out, "371", &[text]);
                }
            }
            reply(out, "374", &["End of INFO list"]);
        }
        IrcAnswer::YoureOper => {
            reply(out, "381", &["You are now an IRC operator"]);
            line(out, Some(me), "MODE", &[me, "+o"]);
        }
        IrcAnswer::Links => {
            reply(out, "364", &[server, server, "0 chatd"]);
            reply(out, "365", &["*", "End of /LINKS list"]);
        }
        // Rendered with its recipient, as any refusal (`render_into`).
        IrcAnswer::Failed { .. } => {}
        IrcAnswer::ServiceHelp { service, lines } => {
            let source = mask(service, server);
            for text in lines {
                line(out, Some(&source), "NOTICE", &[me, text]);
            }
        }
    }
}

/// The welcome: 001 to 005, then 422 (no message of the day).
fn welcome(out: &mut Vec<u8>, server: &str, me: &str, limits: ServerLimits) {
    let reply = |out: &mut Vec<u8>, numeric: &str, params: &[&str]| numeric_to(out, server, me, numeric, params);
    reply(out, "001", &[&format!("Welcome to {server}, {me}")]);
    reply(out, "002", &[&format!("Your host is {server}, running {VERSION}")]);
    reply(out, "003", &["This server was started for you"]);
    // User modes, room modes, and the room modes that take an argument.
    reply(out, "004", &[server, VERSION, "i", "biklmnostv", "bklov"]);
    let nicklen = format!("NICKLEN={}", limits.nick_len);
    let chanlen = format!("CHANNELLEN={}", limits.room_name_len + 1);
    let history = format!("CHATHISTORY={}", limits.history_page_len);
    let max = limits.targets;
    let targmax = format!("TARGMAX=KICK:{max},NOTICE:{max},PRIVMSG:{max}");
    let mut tokens: Vec<&str> = ISUPPORT.to_vec();
    tokens.extend([nicklen.as_str(), chanlen.as_str(), history.as_str(), targmax.as_str()]);
    tokens.push("are supported by this server");
    reply(out, "005", &tokens);
    reply(out, "422", &["No message of the day"]);
}

/// WHOIS of an online user: 311, 319 (its channels, if any), 312, 301
/// (away), 330 (account) and 318.
fn whois(out: &mut Vec<u8>, server: &str, me: &str, whom: &WhoisUser<'_>) {
    let reply = |out: &mut Vec<u8>, numeric: &str, params: &[&str]| numeric_to(out, server, me, numeric, params);
    let nick = whom.nick;
    reply(out, "311", &[nick, whom.user, whom.host, "*", whom.realname]);
    if !whom.rooms.is_empty() {
        reply(out, "319", &[nick, &whom.rooms.join(" ")]);
    }
    reply(out, "312", &[nick, server, "chatd"]);
    if let Some(away) = whom.away {
        reply(out, "301", &[nick, away]);
    }
    if whom.operator {
        reply(out, "313", &[nick, "is an IRC operator"]);
    }
    if let Some(account) = whom.account {
        reply(out, "330", &[nick, account, "is logged in as"]);
    }
    reply(out, "318", &[nick, "End of /WHOIS list"]);
}

/// WHOWAS: 314 and 312 for each departure, newest first; with none, the
/// account's last-seen time, or else 406. Then 369.
fn whowas(
    out: &mut Vec<u8>,
    server: &str,
    me: &str,
    asked: &str,
    departed: &[PastUser<'_>],
    seen: Option<(&str, u64)>,
) {
    let reply = |out: &mut Vec<u8>, numeric: &str, params: &[&str]| numeric_to(out, server, me, numeric, params);
    if departed.is_empty() {
        match seen {
            Some((name, last_seen_ms)) => {
                reply(out, "314", &[name, name, HIDDEN_HOST, "*", name]);
                reply(out, "312", &[name, server, &format!("last seen {}", DateTimeUtc(last_seen_ms))]);
            }
            None => reply(out, "406", &[asked, "There was no such nickname"]),
        }
    }
    for past in departed {
        reply(out, "314", &[past.nick, past.user, past.host, "*", past.realname]);
        reply(out, "312", &[past.nick, server, &format!("left {}", DateTimeUtc(past.unix_ms))]);
    }
    reply(out, "369", &[asked, "End of WHOWAS"]);
}

/// The token a PONG gives back: the PING's, cut at a character boundary
/// if it would not fit one line with the server's name (a PING fills 510
/// bytes with a token the PONG's own words leave less room for), so that
/// a long token gets its PONG rather than none. Clients match a PONG by
/// the start of its token, which the cut keeps.
fn pong_token<'t>(server: &str, token: &'t str) -> &'t str {
    let room = Outgoing { tags: &[], source: Some(server), command: "PONG", params: &[server] }.room_for_trailing();
    if token.len() <= room {
        return token;
    }
    let mut cut = room;
    while !token.is_char_boundary(cut) {
        cut -= 1;
    }
    &token[..cut]
}
