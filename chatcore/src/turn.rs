//! One client's turn: the context a command handler runs in. A handler
//! is a method on [`Turn`], which holds the world, the outbox, the time
//! and the client whose command it is, so that a handler's signature
//! says only what the command carries. A command the embedder finishes
//! later (a password checked, then the login) is finished in a `Turn` of
//! the same client. The world's parts (names, rooms,
//! accounts, blocks, logins, timers) keep their own rules; a handler asks
//! them through `self.world`, and queues what it has to say in `self.out`.

use crate::client::Client;
use crate::event::Event;
use crate::outbox::Outbox;
use crate::output::ClientId;
use crate::time::Now;
use crate::world::World;

/// A command from one client being carried out, or finished.
pub(crate) struct Turn<'a> {
    pub(crate) world: &'a mut World,
    pub(crate) out: &'a mut Outbox,
    pub(crate) now: Now,
    /// The client whose command this is; connected for as long as the
    /// handler has not closed it.
    pub(crate) id: ClientId,
}

impl<'a> Turn<'a> {
    pub(crate) fn new(world: &'a mut World, out: &'a mut Outbox, now: Now, id: ClientId) -> Self {
        Self { world, out, now, id }
    }

    /// The client whose command this is.
    pub(crate) fn client(&self) -> &Client {
        &self.world.clients[&self.id]
    }

    /// The same moment, acting on another client: a guest whose name its
    /// account's owner takes back, a member an operator kicks.
    pub(crate) fn on(&mut self, other: ClientId) -> Turn<'_> {
        Turn { world: &mut *self.world, out: &mut *self.out, now: self.now, id: other }
    }

    /// Tells the client whose command this is.
    pub(crate) fn tell(&mut self, event: Event<'_>) {
        self.world.tell(self.out, self.id, event);
    }
}
