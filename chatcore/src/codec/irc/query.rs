//! What only IRC asks: NAMES, WHO of a nickname, WHOIS, WHOWAS (from
//! last-seen), MODE queries, and CHATHISTORY (served by the engine's
//! history paging, like `/history`).

use super::render::{USER_HOST, channel, names};
use crate::command::Command;
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::ClientId;
use crate::time::{DateTimeUtc, Now};
use crate::world::World;

impl World {
    /// NAMES `#a,#b`: each channel's nicknames (353) and its end (366).
    /// Without a channel, only the end: listing everyone would grow with
    /// the server.
    pub(crate) fn irc_names(&mut self, out: &mut Outbox, id: ClientId, channels: Option<&str>) {
        let Some(client) = self.clients.get(&id) else { return };
        let Some(channels) = channels else {
            return self.irc_reply(out, id, "366", &["*", "End of /NAMES list"]);
        };
        let mut lines = Vec::new();
        for name in channels.split(',').filter(|n| !n.is_empty()) {
            match self.rooms.get(&NameKey::of(name)) {
                Some(room) => {
                    let nicks = self.sorted_nicks(room.members.iter().map(|(m, _)| m));
                    names(&mut lines, &self.config.server_name, &client.nick, &room.name, &nicks);
                }
                None => {
                    let end = [&*client.nick, &channel(name), "End of /NAMES list"];
                    super::render::line(&mut lines, Some(&self.config.server_name), "366", &end);
                }
            }
        }
        out.send(id, lines.into());
    }

    /// WHO of a nickname: one 352 if online, then 315.
    pub(crate) fn irc_who_nick(&mut self, out: &mut Outbox, id: ClientId, nick: &str) {
        let server = self.config.server_name.clone();
        if let Some(found) = self.online(nick) {
            let params = ["*", &found, USER_HOST, &server, &found, "H", &format!("0 {found}")];
            self.irc_reply(out, id, "352", &params);
        }
        self.irc_reply(out, id, "315", &[nick, "End of /WHO list"]);
    }

    /// WHOIS: 311, 319 (channels), 312, 330 (account) and 318 for an
    /// online user; 401 and 318 otherwise.
    pub(crate) fn irc_whois(&mut self, out: &mut Outbox, id: ClientId, nick: &str) {
        let server = self.config.server_name.clone();
        let Some(&target) = self.nicks.get(&NameKey::of(nick)) else {
            self.irc_reply(out, id, "401", &[nick, "No such nick"]);
            return self.irc_reply(out, id, "318", &[nick, "End of /WHOIS list"]);
        };
        let whom = &self.clients[&target];
        let found = whom.nick.to_string();
        let rooms: Vec<String> =
            whom.rooms.iter().filter_map(|key| self.rooms.get(key)).map(|room| channel(&room.name)).collect();
        let account = whom.account.as_ref().and_then(|key| self.accounts.get(key)).map(|a| a.name.to_string());
        self.irc_reply(out, id, "311", &[&found, &found, USER_HOST, "*", &found]);
        if !rooms.is_empty() {
            self.irc_reply(out, id, "319", &[&found, &rooms.join(" ")]);
        }
        self.irc_reply(out, id, "312", &[&found, &server, "chatd"]);
        if let Some(account) = account {
            self.irc_reply(out, id, "330", &[&found, &account, "is logged in as"]);
        }
        self.irc_reply(out, id, "318", &[&found, "End of /WHOIS list"]);
    }

    /// WHOWAS, answered from the account's last-seen time: 314 and 312,
    /// then 369; 406 for a name that never logged in.
    pub(crate) fn irc_whowas(&mut self, out: &mut Outbox, id: ClientId, nick: &str) {
        let server = self.config.server_name.clone();
        let seen = self.accounts.get(&NameKey::of(nick)).and_then(|a| Some((a.name.to_string(), a.last_seen_ms?)));
        match seen {
            Some((name, last_seen_ms)) => {
                self.irc_reply(out, id, "314", &[&name, &name, USER_HOST, "*", &name]);
                let when = format!("last seen {}", DateTimeUtc(last_seen_ms));
                self.irc_reply(out, id, "312", &[&name, &server, &when]);
            }
            None => self.irc_reply(out, id, "406", &[nick, "There was no such nickname"]),
        }
        self.irc_reply(out, id, "369", &[nick, "End of WHOWAS"]);
    }

    /// MODE queries, enough for clients' join sequences: channel modes
    /// (324), an empty ban list (368) and user modes (221). Channels have
    /// no operators, so setting a mode is refused (482).
    pub(crate) fn irc_mode(&mut self, out: &mut Outbox, id: ClientId, target: &str, change: Option<&str>) {
        if target.starts_with('#') {
            let Some(room) = self.rooms.get(&NameKey::of(target)) else {
                return self.irc_reply(out, id, "403", &[target, "No such channel"]);
            };
            let chan = channel(&room.name);
            match change {
                None => self.irc_reply(out, id, "324", &[&chan, "+nt"]),
                Some("b" | "+b") => self.irc_reply(out, id, "368", &[&chan, "End of channel ban list"]),
                Some(_) => self.irc_reply(out, id, "482", &[&chan, "Channel modes cannot be changed here"]),
            }
            return;
        }
        let me = self.clients.get(&id).map(|c| c.nick_key.clone());
        if me != Some(NameKey::of(target)) {
            return self.irc_reply(out, id, "502", &["Can't change mode for other users"]);
        }
        self.irc_reply(out, id, "221", &["+i"]);
    }

    /// `CHATHISTORY LATEST|BEFORE|AROUND <#room> <criterion> <limit>`,
    /// answered as a `chathistory` batch from the room's history pages.
    /// Messages are numbered per room and their `msgid` is that number; a
    /// `timestamp=` criterion is matched against the messages in memory.
    /// A page holds at most `history_page_len` messages (ISUPPORT
    /// `CHATHISTORY`), whatever the limit asked.
    pub(crate) fn irc_chathistory(&mut self, out: &mut Outbox, now: Now, id: ClientId, args: &[&str]) {
        let fail = |world: &mut World, out: &mut Outbox, code: &str, text: &str| {
            let server = world.config.server_name.clone();
            world.irc_send(out, id, Some(&server), "FAIL", &["CHATHISTORY", code, text]);
        };
        let [sub, target, criterion, ..] = args else {
            return fail(self, out, "INVALID_PARAMS", "CHATHISTORY <subcommand> <target> <criterion> <limit>");
        };
        let room = if target.starts_with('#') {
            let Some(room) = self.rooms.get(&NameKey::of(target)) else {
                return fail(self, out, "INVALID_TARGET", "no such channel");
            };
            Some(room)
        } else {
            None
        };
        let half_page = self.config.history_page_len as u64 / 2;
        // `None`: `*`, no point given.
        let point = match criterion.split_once('=') {
            None if *criterion == "*" => Ok(None),
            Some(("msgid", n)) => n.parse::<u64>().map(Some).map_err(|_| ()),
            // Times are matched against a channel's messages in memory.
            Some(("timestamp", t)) => match (super::time::parse(t), room) {
                (Some(ms), Some(room)) => {
                    // The first kept message at or after the time.
                    Ok(Some(room.history.iter().find(|e| e.unix_ms >= ms).map_or(room.next_seq, |e| e.seq)))
                }
                _ => Err(()),
            },
            _ => Err(()),
        };
        let before = match (sub.to_ascii_uppercase().as_str(), point) {
            ("LATEST", _) => None,
            ("BEFORE", Ok(Some(seq))) => Some(seq),
            ("AROUND", Ok(Some(seq))) => Some(seq + half_page + 1),
            ("BEFORE" | "AROUND", _) => {
                return fail(self, out, "INVALID_PARAMS", "give msgid=N or timestamp=T");
            }
            _ => return fail(self, out, "INVALID_PARAMS", "LATEST, BEFORE and AROUND are supported"),
        };
        self.execute(out, now, id, Command::History { of: super::dispatch::history_of(target), before });
    }

    /// The nickname as its holder spells it, if online.
    fn online(&self, nick: &str) -> Option<String> {
        let id = self.nicks.get(&NameKey::of(nick))?;
        self.clients.get(id).map(|c| c.nick.to_string())
    }
}
