//! Whispers to a user of another node: sent as a request, delivered there
//! as a whisper from a local user would be.

use crate::cluster::{ClusterRequest, RemoteWhisper};
use crate::error::Rejection;
use crate::event::Event;
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::Output;
use crate::turn::Turn;
use crate::world::{World, unsafe_text};

impl Turn<'_> {
    /// A whisper to a user another node has in a room here (`key`): the
    /// sender sees it as sent, and the other nodes are asked to deliver it.
    pub(crate) fn whisper_remote(&mut self, key: &NameKey, text: &str) -> Result<(), Rejection> {
        let (world, id, now) = (&mut *self.world, self.id, self.now);
        let (Some(sender), Some(receiver)) = (world.clients.get(&id), world.remote.get(key)) else {
            return Ok(());
        };
        let (from, host, to) = (&*sender.nick, &*sender.host, &*receiver.nick);
        let unix_ms = now.unix_ms;
        let echo = Event::Whisper { from, host, to, text, unix_ms, echo: true, offline: false, seq: None };
        self.out.send(id, sender.render(&echo));
        let whisper = RemoteWhisper { from: from.into(), host: host.into(), to: to.into(), text: text.into(), unix_ms };
        self.out.push(Output::Cluster(ClusterRequest::Whisper(Box::new(whisper))));
        world.counts.messages += 1;
        Ok(())
    }
}

impl World {
    /// Another node's whisper to a local user: delivered as a local one,
    /// unless nobody here holds the name any more or the recipient blocks
    /// the sender's name (then it is dropped and counted; the sender's
    /// node told its sender it was sent).
    pub(crate) fn remote_whisper(&mut self, out: &mut Outbox, whisper: &RemoteWhisper) {
        let RemoteWhisper { from, host, to: _, text, unix_ms } = whisper;
        let recipient = self.names.holder(&NameKey::of(&whisper.to));
        let receiver = recipient.and_then(|id| Some((id, self.clients.get(&id)?)));
        let Some((recipient, receiver)) = receiver.filter(|(_, r)| r.hears(from) && unsafe_text(text).is_none()) else {
            self.counts.remote_whispers_dropped += 1;
            return;
        };
        let to = &*receiver.nick;
        let event = Event::Whisper { from, host, to, text, unix_ms: *unix_ms, echo: false, offline: false, seq: None };
        out.send(recipient, receiver.render(&event));
        self.counts.messages += 1;
    }
}
