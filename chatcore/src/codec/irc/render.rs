//! Events as IRC lines. A broadcast renders the same line for every IRC
//! recipient (its source is the user it is about); a reply to one client
//! may name that client, as numerics do, so it is rendered with a
//! [`Recipient`].

use bytes::Bytes;

use super::message::Outgoing;
use crate::error::Rejection;
use crate::event::Event;

/// Who one reply is for, and the server it comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recipient<'a> {
    pub(crate) nick: &'a str,
    pub(crate) server: &'a str,
}

/// The host part of every user's mask: no address is ever shown.
const USER_HOST: &str = "chatd";

/// The source IRC clients see for a user: `nick!nick@chatd`. Every user,
/// whatever its protocol, gets the same form.
fn mask(nick: &str) -> String {
    format!("{nick}!{nick}@{USER_HOST}")
}

/// A room as an IRC channel: `rust` and `#rust` name the same room, and
/// IRC clients always see the `#`.
pub(crate) fn channel(room: &str) -> String {
    if room.starts_with('#') { room.to_owned() } else { format!("#{room}") }
}

/// Appends one line; a line that cannot be written (a bug upstream) is
/// dropped rather than sent malformed.
fn line(out: &mut Vec<u8>, source: Option<&str>, command: &str, params: &[&str]) {
    let _ = Outgoing { tags: &[], source, command, params }.write(out);
}

/// Appends a PRIVMSG (or NOTICE) to `target`, split into as many lines as
/// the text needs, on UTF-8 boundaries.
fn say(out: &mut Vec<u8>, source: &str, command: &str, target: &str, text: &str) {
    let fixed = Outgoing { tags: &[], source: Some(source), command, params: &[target, ""] };
    match fixed.split_trailing(text) {
        Ok(pieces) => {
            for piece in pieces {
                line(out, Some(source), command, &[target, piece]);
            }
        }
        Err(_) => line(out, Some(source), command, &[target, "(message could not be relayed)"]),
    }
}

/// Renders `event`; `to` is the recipient of a reply, `None` for a
/// broadcast (which names nobody and comes from a user).
pub(crate) fn render(event: &Event<'_>, to: Option<Recipient<'_>>) -> Bytes {
    let mut out = Vec::with_capacity(128);
    let server = to.map_or(USER_HOST, |r| r.server);
    let me = to.map_or("*", |r| r.nick);
    match *event {
        Event::Message { room, from, text, .. } => say(&mut out, &mask(from), "PRIVMSG", &channel(room), text),
        Event::Whisper { from, to: target, text, echo: false, .. } => {
            say(&mut out, &mask(from), "PRIVMSG", target, text)
        }
        // Without echo-message an IRC client shows its own whisper itself.
        Event::Whisper { echo: true, .. } => {}
        Event::Joined { room, nick, .. } => line(&mut out, Some(&mask(nick)), "JOIN", &[&channel(room)]),
        Event::Left { room, nick, .. } => line(&mut out, Some(&mask(nick)), "PART", &[&channel(room)]),
        Event::NickChanged { old, new, .. } => line(&mut out, Some(&mask(old)), "NICK", &[new]),
        Event::Disconnected { nick, reason } => line(&mut out, Some(&mask(nick)), "QUIT", &[&reason.to_string()]),
        Event::Topic { room, text, by, changed: true, .. } => {
            line(&mut out, Some(&mask(by)), "TOPIC", &[&channel(room), text.unwrap_or("")])
        }
        Event::Topic { room, text: Some(text), changed: false, .. } => {
            line(&mut out, Some(server), "332", &[me, &channel(room), text])
        }
        Event::Topic { room, text: None, changed: false, .. } => {
            line(&mut out, Some(server), "331", &[me, &channel(room), "No topic is set"])
        }
        Event::IdleWarning { .. } => line(&mut out, None, "PING", &[server]),
        Event::Bye { reason } => line(&mut out, None, "ERROR", &[&format!("Closing link: {reason}")]),
        Event::Error { rejection } => error(&mut out, server, me, rejection),
        // Everything else is told as a server notice for now: readable in
        // every client, if not yet in its IRC form.
        _ => {
            let text = crate::codec::Codec::Text.render(event);
            for text_line in String::from_utf8_lossy(&text).lines() {
                line(&mut out, Some(server), "NOTICE", &[me, text_line]);
            }
        }
    }
    Bytes::from(out)
}

/// NAMES for one channel: as many `353` lines as the nicknames need, then
/// `366`.
pub(crate) fn names(out: &mut Vec<u8>, server: &str, me: &str, room: &str, nicks: &[&str]) {
    let chan = channel(room);
    let fixed = Outgoing { tags: &[], source: Some(server), command: "353", params: &[me, "=", &chan, ""] };
    let room_for = fixed.room_for_trailing();
    let mut batch = String::new();
    for nick in nicks {
        if !batch.is_empty() && batch.len() + 1 + nick.len() > room_for {
            line(out, Some(server), "353", &[me, "=", &chan, &batch]);
            batch.clear();
        }
        if !batch.is_empty() {
            batch.push(' ');
        }
        batch.push_str(nick);
    }
    if !batch.is_empty() {
        line(out, Some(server), "353", &[me, "=", &chan, &batch]);
    }
    line(out, Some(server), "366", &[me, &chan, "End of /NAMES list"]);
}

/// A refusal as the numeric IRC clients act on (a taken nickname makes
/// them try another), or as a NOTICE where IRC has none.
fn error(out: &mut Vec<u8>, server: &str, me: &str, rejection: &Rejection) {
    let text = rejection.to_string();
    match rejection {
        Rejection::NickTaken(nick) | Rejection::NickRegistered(nick) => {
            line(out, Some(server), "433", &[me, nick, &text]);
        }
        Rejection::NickInvalid(_) => line(out, Some(server), "432", &[me, "*", &text]),
        Rejection::NoSuchNick(nick) => line(out, Some(server), "401", &[me, nick, &text]),
        Rejection::NoSuchRoom(room) => line(out, Some(server), "403", &[me, &channel(room), &text]),
        Rejection::NotInRoom(room) => line(out, Some(server), "442", &[me, &channel(room), &text]),
        Rejection::UnknownCommand(command) => line(out, Some(server), "421", &[me, command, &text]),
        _ => line(out, Some(server), "NOTICE", &[me, &text]),
    }
}
