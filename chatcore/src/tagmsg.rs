//! IRCv3 `TAGMSG`: a message of client-only tags (`+typing=active`,
//! `+draft/react=👍`) and no text, to a channel or a user. It is relayed,
//! never kept, to IRC clients that negotiated `message-tags` (others, and
//! the text and JSON protocols, have no form for it), and echoed with
//! `echo-message`. Its id (`msgid=t7`) is unique on the server but names
//! no kept message: `REDACT` of it is `UNKNOWN_MSGID`. The tags' size is
//! bounded where the line is read (4094 bytes of client tags, as IRCv3
//! says).

use crate::error::Rejection;
use crate::event::Event;
use crate::names::NameKey;
use crate::turn::Turn;

impl Turn<'_> {
    /// `TAGMSG <#room|nick>` with `tags`, each `key=value` (its value
    /// unescaped).
    pub(crate) fn tagmsg(&mut self, to: &str, tags: &[String]) -> Result<(), Rejection> {
        let (world, id, now) = (&mut *self.world, self.id, self.now);
        world.ephemeral_ids += 1;
        let number = world.ephemeral_ids;
        let pairs: Vec<(&str, &str)> = tags.iter().filter_map(|tag| tag.split_once('=')).collect();
        let sender = &world.clients[&id];
        let (from, host) = (&*sender.nick, &*sender.host);
        if to.starts_with('#') {
            let key = world.target_room(id, Some(to))?;
            let room = &world.rooms[&key];
            world.check_speak(id, room)?;
            let target = crate::names::channel(&room.name);
            let event =
                |echo| Event::TagMsg { from, host, to: &target, tags: &pairs, unix_ms: now.unix_ms, number, echo };
            let blockers = world.blocks.blockers_of(&sender.nick_key);
            let others = room.members.iter().filter(|&(to, _)| to != id && blockers.is_none_or(|b| !b.contains(&to)));
            self.out.fanout(others, &event(false));
            self.out.send(id, sender.render(&event(true)));
            return Ok(());
        }
        let recipient = world.names.holder(&NameKey::of(to)).ok_or_else(|| Rejection::NoSuchNick(to.into()))?;
        if world.blocks_sender(recipient, id) {
            return Err(Rejection::BlockedByRecipient(world.clients[&recipient].nick.clone()));
        }
        let receiver = &world.clients[&recipient];
        let target = &*receiver.nick;
        let event = |echo| Event::TagMsg { from, host, to: target, tags: &pairs, unix_ms: now.unix_ms, number, echo };
        self.out.deliver(recipient, receiver.render(&event(false)));
        self.out.send(id, sender.render(&event(true)));
        Ok(())
    }
}
