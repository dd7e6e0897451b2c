//! What only IRC asks: NAMES, WHO of a nickname, WHOIS, WHOWAS (from
//! last-seen), LUSERS, AWAY, MODE of a user, and CHATHISTORY (served by
//! the engine's history paging, like `/history`). Each answer is an
//! [`IrcAnswer`] the IRC codec writes.

use crate::codec::Codec;
use crate::codec::irc::request::history_of;
use crate::error::Rejection;
use crate::event::{Event, IrcAnswer, PastUser, ServerCounts, WhoisUser};
use crate::irc::visitors::{Departure, identity};
use crate::names::{NameKey, channel};
use crate::output::ClientId;
use crate::turn::Turn;

impl Turn<'_> {
    /// NAMES `#a,#b`: each channel's nicknames (353) and its end (366).
    /// Without a channel, only the end: listing everyone would grow with
    /// the server.
    pub(crate) fn irc_names(&mut self, channels: Option<&str>) {
        let (world, out, id) = (&*self.world, &mut *self.out, self.id);
        let Some(client) = world.clients.get(&id) else { return };
        let Some(channels) = channels else {
            return out.send(id, client.render(&Event::Irc(IrcAnswer::NamesEnd { name: "*" })));
        };
        for name in channels.split(',').filter(|n| !n.is_empty()) {
            let answer = match world.rooms.get(&NameKey::of(name)) {
                Some(room) => {
                    let (nicks, page) = world.names_page(room);
                    let nicks: Vec<&str> = nicks.iter().map(String::as_str).collect();
                    let names = IrcAnswer::Names { room: &room.name, secret: room.modes.secret, nicks: &nicks, page };
                    client.render(&Event::Irc(names))
                }
                None => client.render(&Event::Irc(IrcAnswer::NamesEnd { name })),
            };
            out.send(id, answer);
        }
    }

    /// WHO of a nickname: one 352 if online, then 315.
    pub(crate) fn irc_who_nick(&mut self, nick: &str) {
        let (world, out, id) = (&*self.world, &mut *self.out, self.id);
        let found = world.names.holder(&NameKey::of(nick)).and_then(|id| world.clients.get(&id));
        let operator = |c: &crate::client::Client| c.account.as_ref().is_some_and(|key| world.operators.contains(key));
        let found = found.map(|c| (&*c.nick, &*c.host, operator(c)));
        let Some(client) = world.clients.get(&id) else { return };
        out.send(id, client.render(&Event::Irc(IrcAnswer::WhoUser { asked: nick, found })));
    }

    /// WHOIS: 311, 319 (channels, with status), 312, 301 (away), 330
    /// (account) and 318 for an online user; 401 and 318 otherwise.
    pub(crate) fn irc_whois(&mut self, nick: &str) {
        let (world, out, id) = (&*self.world, &mut *self.out, self.id);
        let Some(client) = world.clients.get(&id) else { return };
        let Some(target) = world.names.holder(&NameKey::of(nick)) else {
            return out.send(id, client.render(&Event::Irc(IrcAnswer::Whois { asked: nick, found: None })));
        };
        let whom = &world.clients[&target];
        // The rooms of every connection of its account, each once.
        let mut keys: Vec<(&NameKey, ClientId)> = Vec::new();
        for device in world.connections_of(target) {
            for key in world.clients.get(&device).map_or(&[][..], |c| &c.rooms) {
                if !keys.iter().any(|(k, _)| *k == key) {
                    keys.push((key, device));
                }
            }
        }
        let rooms: Vec<String> = keys
            .into_iter()
            .filter_map(|(key, device)| world.rooms.get(key).map(|room| (room, device)))
            // A secret room is not shown to those outside it.
            .filter(|(room, _)| !room.modes.secret || room.members.contains(id))
            .map(|(room, device)| {
                let status = room.members.status(device);
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
        let account = whom.account.as_ref().and_then(|key| world.accounts.get(key)).map(|a| &*a.name);
        let (user, realname, away) = identity(whom);
        let found = WhoisUser {
            nick: &whom.nick,
            user: &user,
            host: &whom.host,
            realname: &realname,
            rooms: &rooms,
            away: away.as_deref(),
            account,
            operator: world.is_server_operator(target),
        };
        out.send(id, client.render(&Event::Irc(IrcAnswer::Whois { asked: nick, found: Some(&found) })));
    }

    /// WHOWAS `nick [count]`: who recently left under that name, newest
    /// first (314 and 312 each); else the account's last-seen time; else
    /// 406. Then 369.
    pub(crate) fn irc_whowas(&mut self, nick: &str, count: Option<&str>) {
        let (world, out, id) = (&*self.world, &mut *self.out, self.id);
        // A count that is not positive asks for everything.
        let count = count.and_then(|c| c.parse::<i64>().ok()).filter(|&c| c > 0).map_or(usize::MAX, |c| c as usize);
        let key = NameKey::of(nick);
        let found: Vec<&Departure> = world.visitors.departed_as(&key).take(count).collect();
        let departed: Vec<PastUser<'_>> = found
            .iter()
            .map(|d| PastUser {
                nick: &d.nick,
                user: &d.user,
                host: &d.host,
                realname: &d.realname,
                unix_ms: d.unix_ms,
            })
            .collect();
        let seen = world.accounts.get(&key).and_then(|a| Some((&*a.name, a.last_seen_ms()?)));
        let Some(client) = world.clients.get(&id) else { return };
        out.send(id, client.render(&Event::Irc(IrcAnswer::Whowas { asked: nick, departed: &departed, seen })));
    }

    /// LUSERS: how many users, channels and servers (251-255, 265, 266).
    pub(crate) fn irc_lusers(&mut self) {
        let visitors = &self.world.visitors;
        let answer = IrcAnswer::Lusers {
            users: visitors.users(),
            unregistered: visitors.registering(),
            rooms: self.world.rooms.len(),
            peak: visitors.peak(),
        };
        self.tell(Event::Irc(answer));
    }

    /// INFO: what this server is (371, 374); to a server operator also
    /// what it holds now: clients by codec, rooms, accounts, operators.
    pub(crate) fn irc_info(&mut self) {
        let world = &*self.world;
        let counts = world.is_server_operator(self.id).then(|| ServerCounts {
            clients: world.clients.len(),
            text: world.clients.speaking(Codec::Text),
            #[cfg(feature = "json")]
            json: world.clients.speaking(Codec::Json),
            #[cfg(not(feature = "json"))]
            json: 0,
            irc: world.clients.speaking(Codec::Irc),
            rooms: world.rooms.len(),
            accounts: world.accounts.len(),
            operators: world.operators.len(),
            most_users: world.visitors.peak(),
        });
        self.tell(Event::Irc(IrcAnswer::Info { counts }));
    }

    /// AWAY `:message` marks the client away; AWAY alone, back.
    pub(crate) fn irc_away(&mut self, message: Option<&str>) {
        let Some(session) = self.world.irc_session(self.id) else { return };
        session.away = message.map(Into::into);
        self.tell(Event::Irc(IrcAnswer::Away { away: message.is_some() }));
    }

    /// MODE of a nickname: users have no modes to change but `+i`, and
    /// only their own may be asked for.
    pub(crate) fn irc_user_mode(&mut self, target: &str) -> Result<(), Rejection> {
        let me = self.world.clients.get(&self.id).map(|c| c.nick_key.clone());
        if me != Some(NameKey::of(target)) {
            return Err(Rejection::UsersModeOther);
        }
        let modes = if self.world.is_server_operator(self.id) { "+io" } else { "+i" };
        self.tell(Event::Irc(IrcAnswer::UserModes { modes }));
        Ok(())
    }

    /// `CHATHISTORY LATEST|BEFORE|AFTER|AROUND <#room> <criterion> <limit>`,
    /// answered as a `chathistory` batch from the room's history pages
    /// (AFTER: the page forward, oldest first, as a client that reconnected
    /// catches up). Messages are numbered per room and their `msgid` is
    /// that number; a `timestamp=` criterion is matched against the
    /// messages in memory. A page holds at most `history_page_len`
    /// messages (ISUPPORT `CHATHISTORY`), whatever the limit asked.
    pub(crate) fn irc_chathistory(&mut self, command: &crate::command::Command) -> Result<(), Rejection> {
        let (Some(sub), Some(target), Some(criterion)) =
            (command.text("sub"), command.text("target"), command.text("criterion"))
        else {
            return Err(Rejection::ChatHistoryParams("CHATHISTORY <subcommand> <target> <criterion> <limit>"));
        };
        let room = if target.starts_with('#') {
            Some(self.world.rooms.get(&NameKey::of(target)).ok_or(Rejection::ChatHistoryTarget)?)
        } else {
            None
        };
        let sub = sub.to_ascii_uppercase();
        let half_page = self.world.config.history_page_len as u64 / 2;
        // `None`: `*`, no point given.
        let point = match (command.number("msgid"), command.number("timestamp")) {
            _ if criterion == "*" => Ok(None),
            // AFTER a message: above its number.
            (Some(seq), _) if sub == "AFTER" => Ok(Some(seq.saturating_add(1))),
            (Some(seq), _) => Ok(Some(seq)),
            // Times are matched against a channel's messages in memory: the
            // first kept message at or after the time (AFTER: after it, as
            // the criterion excludes its own moment).
            (None, Some(ms)) => match room {
                Some(room) => {
                    let after = sub == "AFTER";
                    let found = room.history.iter().find(|e| e.unix_ms > ms || (!after && e.unix_ms == ms));
                    Ok(Some(found.map_or(room.next_seq, |e| e.seq)))
                }
                None => Err(()),
            },
            (None, None) => Err(()),
        };
        // `point` is the first message not before the criterion; the pages
        // are written as the history command's `before` or `after`.
        let history = history_of(target);
        let history = match (sub.as_str(), point) {
            ("LATEST", _) => history,
            ("BEFORE", Ok(Some(seq))) => history.with("before", seq),
            ("AFTER", Ok(Some(seq))) => history.with("after", seq.saturating_sub(1)),
            ("AROUND", Ok(Some(seq))) => history.with("before", seq.saturating_add(half_page + 1)),
            ("BEFORE" | "AFTER" | "AROUND", _) => {
                return Err(Rejection::ChatHistoryParams("give msgid=N or timestamp=T"));
            }
            _ => return Err(Rejection::ChatHistoryParams("LATEST, BEFORE, AFTER and AROUND are supported")),
        };
        self.execute(history);
        Ok(())
    }
}
