//! Who was here (`/seen`, `/since`) and who you would rather not hear from
//! (`/block`, `/unblock`, `/blocked`).
//!
//! Blocks are by name. A logged-in user's blocks are kept in its account
//! across visits; a guest's last as long as its connection. Guest names are
//! not remembered by `/seen`: only accounts are. A blocked user who takes
//! another name stays blocked, by whoever blocked the name it had, for the
//! rest of its connection (the block is carried, not added to anyone's
//! list: the next holder of either name is not affected by it).

use crate::error::Rejection;
use crate::event::Event;
use crate::names::{NameError, NameKey, validate_nick};
use crate::output::ClientId;
use crate::record::Record;
use crate::turn::Turn;
use crate::world::World;

impl World {
    /// Whether `receiver` refuses to hear `sender`: it blocks the sender's
    /// name, or one the sender had earlier on this connection.
    pub(crate) fn blocks_sender(&self, receiver: ClientId, sender: ClientId) -> bool {
        let (Some(r), Some(s)) = (self.clients.get(&receiver), self.clients.get(&sender)) else { return false };
        r.blocks.contains_key(&s.nick_key) || self.blocks.carried_block(sender, receiver)
    }
}

impl Turn<'_> {
    /// On login, the account's blocks and the guest's merge (up to the limit)
    /// and both are kept in the account.
    pub(crate) fn adopt_account_blocks(&mut self, account: &NameKey) {
        let (world, id) = (&mut *self.world, self.id);
        let max = world.config.max_blocks;
        let guest_blocks: Vec<NameKey> = world.clients[&id].blocks.keys().cloned().collect();
        for key in &guest_blocks {
            world.blocks.remove(id, key);
        }
        let (Some(client), Some(account)) = (world.clients.get_mut(&id), world.accounts.get_mut(account)) else {
            return;
        };
        // What the account gains must be stored like any other block of it.
        let mut adopted = Vec::new();
        for (key, name) in std::mem::take(&mut client.blocks) {
            if account.blocks.len() < max && key != client.nick_key && !account.blocks.contains_key(&key) {
                account.blocks.insert(key, name.clone());
                adopted.push(Record::Blocked { account: account.name.clone(), name });
            }
        }
        client.blocks = account.blocks.clone();
        for key in client.blocks.keys() {
            world.blocks.add(id, key.clone());
        }
        // One user, one list: what the account just adopted is blocked by
        // its other connections too.
        let list = account.blocks.clone();
        for device in world.other_devices(id) {
            if let Some(other) = world.clients.get_mut(&device) {
                for (key, name) in &list {
                    if !other.blocks.contains_key(key) {
                        other.blocks.insert(key.clone(), name.clone());
                        world.blocks.add(device, key.clone());
                    }
                }
            }
        }
        for record in adopted {
            self.out.persist(record);
        }
    }

    pub(crate) fn block(&mut self, nick: &str) -> Result<(), Rejection> {
        let world = &mut *self.world;
        let out = &mut *self.out;
        let id = self.id;
        match validate_nick(nick, world.config.max_nick_len) {
            Ok(()) | Err(NameError::Reserved) => {}
            Err(e) => return Err(Rejection::NickInvalid(e)),
        }
        let key = NameKey::of(nick);
        let client = world.clients.get_mut(&id).expect("caller checked the client");
        if key == client.nick_key {
            return Err(Rejection::CannotBlockSelf);
        }
        if !client.blocks.contains_key(&key) {
            if client.blocks.len() >= world.config.max_blocks {
                return Err(Rejection::BlockLimit { max: world.config.max_blocks });
            }
            client.blocks.insert(key.clone(), nick.into());
            if let Some(account) = client.account.as_ref().and_then(|a| world.accounts.get_mut(a)) {
                account.blocks.insert(key.clone(), nick.into());
                let record = Record::Blocked { account: account.name.clone(), name: nick.into() };
                out.persist(record);
            }
            world.blocks.add(id, key.clone());
            // The account's other connections block the name too: one user, one list.
            for device in world.other_devices(id) {
                if let Some(client) = world.clients.get_mut(&device) {
                    client.blocks.insert(key.clone(), nick.into());
                    world.blocks.add(device, key.clone());
                }
            }
        }
        world.tell(out, id, Event::BlockChanged { nick, blocked: true });
        Ok(())
    }

    pub(crate) fn unblock(&mut self, nick: &str) -> Result<(), Rejection> {
        let world = &mut *self.world;
        let out = &mut *self.out;
        let id = self.id;
        let key = NameKey::of(nick);
        let client = world.clients.get_mut(&id).expect("caller checked the client");
        if client.blocks.remove(&key).is_none() {
            return Err(Rejection::NotBlocked(nick.into()));
        }
        if let Some(account) = client.account.as_ref().and_then(|a| world.accounts.get_mut(a)) {
            account.blocks.remove(&key);
            let record = Record::Unblocked { account: account.name.clone(), name: nick.into() };
            out.persist(record);
        }
        // Renamed clients once known by that name are heard again too.
        world.blocks.unblock(id, &key);
        for device in world.other_devices(id) {
            if let Some(client) = world.clients.get_mut(&device)
                && client.blocks.remove(&key).is_some()
            {
                world.blocks.unblock(device, &key);
            }
        }
        world.tell(out, id, Event::BlockChanged { nick, blocked: false });
        Ok(())
    }

    pub(crate) fn list_blocks(&mut self) {
        let world = &mut *self.world;
        let out = &mut *self.out;
        let id = self.id;
        let client = &world.clients[&id];
        let names: Vec<&str> = client.blocks.values().map(|n| &**n).collect();
        let data = client.render(&Event::BlockList { names: &names });
        out.send(id, data);
    }

    pub(crate) fn seen(&mut self, nick: &str) -> Result<(), Rejection> {
        let world = &mut *self.world;
        let out = &mut *self.out;
        let id = self.id;
        if !crate::commands::is_nick_like(nick) {
            return Err(Rejection::NeverSeen(nick.into()));
        }
        let key = NameKey::of(nick);
        let data = if let Some(online) = world.names.holder(&key).and_then(|c| world.clients.get(&c)) {
            let event = Event::Seen { nick: &online.nick, online: true, last_seen_ms: None };
            world.clients[&id].render(&event)
        } else if let Some(account) = world.accounts.get(&key) {
            let event = Event::Seen { nick: &account.name, online: false, last_seen_ms: account.last_seen_ms() };
            world.clients[&id].render(&event)
        } else {
            return Err(Rejection::NeverSeen(nick.into()));
        };
        out.send(id, data);
        Ok(())
    }
}
