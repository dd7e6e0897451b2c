//! What only IRC asks: NAMES, WHO of a nickname, WHOIS, WHOWAS (from
//! last-seen), MODE queries, and CHATHISTORY (served by the engine's
//! history paging, like `/history`).

use crate::cloak::HIDDEN_HOST;
use crate::codec::irc::render::{channel, names};
use crate::whowas::{Departure, identity};

use crate::event::{Event, ListPage, RoomSummary};
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
                    let (nicks, page) = self.names_page(room);
                    let nicks: Vec<&str> = nicks.iter().map(String::as_str).collect();
                    let server = &self.config.server_name;
                    names(&mut lines, server, &client.nick, &room.name, room.modes.secret, &nicks, page);
                }
                None => {
                    let end = [&*client.nick, name, "End of /NAMES list"];
                    crate::codec::irc::render::line(&mut lines, Some(&self.config.server_name), "366", &end);
                }
            }
        }
        out.send(id, lines.into());
    }

    /// WHO of a nickname: one 352 if online, then 315.
    pub(crate) fn irc_who_nick(&mut self, out: &mut Outbox, id: ClientId, nick: &str) {
        let server = self.config.server_name.clone();
        let found = self.names.holder(&NameKey::of(nick)).and_then(|id| self.clients.get(&id));
        if let Some((found, host)) = found.map(|c| (c.nick.to_string(), c.host.to_string())) {
            let params = ["*", &found, &host, &server, &found, "H", &format!("0 {found}")];
            self.irc_reply(out, id, "352", &params);
        }
        self.irc_reply(out, id, "315", &[nick, "End of /WHO list"]);
    }

    /// WHOIS: 311, 319 (channels, with status), 312, 301 (away), 330
    /// (account) and 318 for an online user; 401 and 318 otherwise.
    pub(crate) fn irc_whois(&mut self, out: &mut Outbox, id: ClientId, nick: &str) {
        let server = self.config.server_name.clone();
        let Some(target) = self.names.holder(&NameKey::of(nick)) else {
            self.irc_reply(out, id, "401", &[nick, "No such nick"]);
            return self.irc_reply(out, id, "318", &[nick, "End of /WHOIS list"]);
        };
        let whom = &self.clients[&target];
        let found = whom.nick.to_string();
        let rooms: Vec<String> = whom
            .rooms
            .iter()
            .filter_map(|key| self.rooms.get(key))
            // A secret room is not shown to those outside it.
            .filter(|room| !room.modes.secret || room.members.contains(id))
            .map(|room| {
                let status = room.members.status(target);
                let mark = if status.operator {
                    "@"
                } else if status.voice {
                    "+"
                } else {
                    ""
                };
                format!("{mark}{}", channel(&room.name))
            })
            .collect();
        let account = whom.account.as_ref().and_then(|key| self.accounts.get(key)).map(|a| a.name.to_string());
        let (user, realname, away) = identity(whom);
        let host = whom.host.to_string();
        self.irc_reply(out, id, "311", &[&found, &user, &host, "*", &realname]);
        if !rooms.is_empty() {
            self.irc_reply(out, id, "319", &[&found, &rooms.join(" ")]);
        }
        self.irc_reply(out, id, "312", &[&found, &server, "chatd"]);
        if let Some(away) = away {
            self.irc_reply(out, id, "301", &[&found, &away]);
        }
        if let Some(account) = account {
            self.irc_reply(out, id, "330", &[&found, &account, "is logged in as"]);
        }
        self.irc_reply(out, id, "318", &[&found, "End of /WHOIS list"]);
    }

    /// WHOWAS `nick [count]`: who recently left under that name, newest
    /// first (314 and 312 each); else the account's last-seen time; else
    /// 406. Then 369.
    pub(crate) fn irc_whowas(&mut self, out: &mut Outbox, id: ClientId, nick: &str, count: Option<&str>) {
        let server = self.config.server_name.clone();
        // A count that is not positive asks for everything.
        let count = count.and_then(|c| c.parse::<i64>().ok()).filter(|&c| c > 0).map_or(usize::MAX, |c| c as usize);
        let key = NameKey::of(nick);
        let found: Vec<Departure> =
            self.departed.newest_first().filter(|d| NameKey::of(&d.nick) == key).take(count).cloned().collect();
        let seen = self.accounts.get(&key).and_then(|a| Some((a.name.clone(), a.last_seen_ms()?)));
        if found.is_empty() {
            match seen {
                Some((name, last_seen_ms)) => {
                    self.irc_reply(out, id, "314", &[&name, &name, HIDDEN_HOST, "*", &name]);
                    let when = format!("last seen {}", DateTimeUtc(last_seen_ms));
                    self.irc_reply(out, id, "312", &[&name, &server, &when]);
                }
                None => self.irc_reply(out, id, "406", &[nick, "There was no such nickname"]),
            }
        }
        for Departure { nick, user, host, realname, unix_ms } in found {
            self.irc_reply(out, id, "314", &[&nick, &user, &host, "*", &realname]);
            self.irc_reply(out, id, "312", &[&nick, &server, &format!("left {}", DateTimeUtc(unix_ms))]);
        }
        self.irc_reply(out, id, "369", &[nick, "End of WHOWAS"]);
    }

    /// LUSERS: how many users, channels and servers (251-255, 265, 266).
    pub(crate) fn irc_lusers(&mut self, out: &mut Outbox, id: ClientId) {
        let users = self.clients.len() - self.irc_unregistered;
        let peak = self.peak_users.max(users);
        let rooms = self.rooms.len();
        self.irc_reply(out, id, "251", &[&format!("There are {users} users and 0 invisible on 1 servers")]);
        self.irc_reply(out, id, "252", &["0", "operator(s) online"]);
        self.irc_reply(out, id, "253", &[&self.irc_unregistered.to_string(), "unknown connection(s)"]);
        self.irc_reply(out, id, "254", &[&rooms.to_string(), "channels formed"]);
        self.irc_reply(out, id, "255", &[&format!("I have {users} clients and 0 servers")]);
        let (users, peak) = (users.to_string(), peak.to_string());
        let local = format!("Current local users {users}, max {peak}");
        self.irc_reply(out, id, "265", &[&users, &peak, &local]);
        let global = format!("Current global users {users}, max {peak}");
        self.irc_reply(out, id, "266", &[&users, &peak, &global]);
    }

    /// LIST `#a,#b`: only the rooms named (that exist and are not secret
    /// to the asker), in the same 321/322/323 form as a full LIST.
    pub(crate) fn irc_list_some(&mut self, out: &mut Outbox, id: ClientId, names: &str) {
        let rooms: Vec<RoomSummary<'_>> = names
            .split(',')
            .filter_map(|name| self.rooms.get(&NameKey::of(name)))
            .filter(|room| !room.modes.secret || room.members.contains(id))
            .map(|room| RoomSummary { name: &room.name, members: room.members.len() })
            .collect();
        // Only as many as the line names: a whole list, however long.
        let page = ListPage { total: rooms.len(), next: None };
        let data = self.clients[&id].render(&Event::Rooms { rooms: &rooms, page });
        out.send(id, data);
    }

    /// AWAY `:message` marks the client away; AWAY alone, back.
    pub(crate) fn irc_away(&mut self, out: &mut Outbox, id: ClientId, message: Option<&str>) {
        let Some(session) = self.irc_session(id) else { return };
        session.away = message.map(Into::into);
        match message {
            Some(_) => self.irc_reply(out, id, "306", &["You have been marked as being away"]),
            None => self.irc_reply(out, id, "305", &["You are no longer marked as being away"]),
        }
    }

    /// MODE of a nickname: users have no modes to change but `+i`, and
    /// only their own may be asked for.
    pub(crate) fn irc_user_mode(&mut self, out: &mut Outbox, id: ClientId, target: &str) {
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
            Some(("msgid", id)) => crate::codec::irc::render::msgid_number(id).map(Some).ok_or(()),
            // Times are matched against a channel's messages in memory.
            Some(("timestamp", t)) => match (crate::codec::irc::time::parse(t), room) {
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
        let history = super::dispatch::history_of(target).with_some("before", before);
        self.execute(out, now, id, history);
    }
}
