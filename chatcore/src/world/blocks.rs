//! Who blocks whom, indexed the way a room message needs it: for each
//! name, the online clients that block it, so a message checks one entry
//! for its sender instead of every recipient's block list; and for a
//! client that was renamed, the blocks that followed it from its earlier
//! names (see `social.rs`). Each client's own list of blocked names is in
//! its `Client`; this index follows those lists.

use std::collections::{BTreeMap, BTreeSet};

use crate::names::NameKey;
use crate::output::ClientId;

/// The index of blocks by blocked name, and the blocks carried across renames.
#[derive(Debug, Default)]
pub(crate) struct Blocks {
    /// Online clients that block each name. No set is empty.
    blockers: BTreeMap<NameKey, BTreeSet<ClientId>>,
    /// For a client that had a name someone blocked, each such blocker
    /// with the name it blocked, each pair once. Holds only renamed
    /// clients, and no empty list.
    carried: BTreeMap<ClientId, Vec<(ClientId, NameKey)>>,
}

impl Blocks {
    /// `blocker` blocks the name `key`.
    pub(crate) fn add(&mut self, blocker: ClientId, key: NameKey) {
        self.blockers.entry(key).or_default().insert(blocker);
    }

    /// `blocker` no longer blocks the name `key` under that name (it
    /// logged in, or left).
    pub(crate) fn remove(&mut self, blocker: ClientId, key: &NameKey) {
        if let Some(set) = self.blockers.get_mut(key) {
            set.remove(&blocker);
            if set.is_empty() {
                self.blockers.remove(key);
            }
        }
    }

    /// `blocker` unblocked the name `key`: clients renamed from it are
    /// heard again too.
    pub(crate) fn unblock(&mut self, blocker: ClientId, key: &NameKey) {
        self.remove(blocker, key);
        self.carried.retain(|_, carried| {
            carried.retain(|(b, name)| !(*b == blocker && name == key));
            !carried.is_empty()
        });
    }

    /// On `id`'s rename from `old`: whoever blocks `old` keeps blocking
    /// this connection under its new name.
    pub(crate) fn carry(&mut self, id: ClientId, old: &NameKey) {
        let Some(blockers) = self.blockers.get(old) else { return };
        let carried = self.carried.entry(id).or_default();
        for &blocker in blockers {
            if !carried.iter().any(|(b, name)| *b == blocker && name == old) {
                carried.push((blocker, old.clone()));
            }
        }
    }

    /// `id` has gone: its blocks of `names` and those carried for it go too.
    pub(crate) fn depart<'a>(&mut self, id: ClientId, names: impl IntoIterator<Item = &'a NameKey>) {
        for key in names {
            self.remove(id, key);
        }
        self.carried.remove(&id);
    }

    /// The online clients that block the name `key`.
    pub(crate) fn blockers_of(&self, key: &NameKey) -> Option<&BTreeSet<ClientId>> {
        self.blockers.get(key)
    }

    /// The blocks that followed `id` from its earlier names.
    pub(crate) fn carried_by(&self, id: ClientId) -> Option<&[(ClientId, NameKey)]> {
        self.carried.get(&id).map(Vec::as_slice)
    }

    /// Whether `receiver` blocks a name `sender` had earlier on this connection.
    pub(crate) fn carried_block(&self, sender: ClientId, receiver: ClientId) -> bool {
        self.carried_by(sender).is_some_and(|c| c.iter().any(|(b, _)| *b == receiver))
    }

    /// Every blocked name with its blockers.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn blockers(&self) -> &BTreeMap<NameKey, BTreeSet<ClientId>> {
        &self.blockers
    }

    /// The clients blocks are carried for.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn renamed(&self) -> impl Iterator<Item = ClientId> + '_ {
        self.carried.keys().copied()
    }

    /// The index's own rules: no empty set or list, and no carried block twice.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn check(&self) -> Result<(), crate::invariant_violation::InvariantViolation> {
        use crate::invariant_violation::InvariantViolation as V;
        if let Some((key, _)) = self.blockers.iter().find(|(_, set)| set.is_empty()) {
            // Nobody blocks it: no id is 0, as ids start at 1.
            return Err(V::BlockIndex { client: ClientId(0), name: key.to_string() });
        }
        for (&client, carried) in &self.carried {
            let repeated = carried.iter().enumerate().any(|(i, pair)| carried[..i].contains(pair));
            if carried.is_empty() || repeated {
                return Err(V::CarriedBlocks { client });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_follows_a_rename_until_the_blocker_unblocks() {
        let (alice, bob, carol) = (ClientId(1), ClientId(2), ClientId(3));
        let mut blocks = Blocks::default();
        blocks.add(alice, NameKey::of("bob"));
        blocks.add(carol, NameKey::of("bob"));
        blocks.carry(bob, &NameKey::of("bob"));
        blocks.carry(bob, &NameKey::of("bob"));
        assert!(blocks.carried_block(bob, alice) && blocks.carried_block(bob, carol));
        assert_eq!(blocks.check(), Ok(()));
        blocks.unblock(alice, &NameKey::of("bob"));
        assert!(!blocks.carried_block(bob, alice) && blocks.carried_block(bob, carol));
        blocks.unblock(carol, &NameKey::of("bob"));
        assert_eq!((blocks.blockers().len(), blocks.renamed().count()), (0, 0));
    }

    #[test]
    fn a_departure_takes_its_blocks_and_those_carried_for_it() {
        let (alice, bob) = (ClientId(1), ClientId(2));
        let mut blocks = Blocks::default();
        blocks.add(alice, NameKey::of("bob"));
        blocks.carry(bob, &NameKey::of("bob"));
        blocks.depart(bob, []);
        blocks.depart(alice, [&NameKey::of("bob")]);
        assert!(blocks.blockers_of(&NameKey::of("bob")).is_none());
        assert_eq!(blocks.renamed().count(), 0);
    }
}
