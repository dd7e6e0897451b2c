//! What must hold of a node's cluster state between any two inputs,
//! checked with the rest by `Engine::check_invariants`.

use crate::invariant_violation::InvariantViolation as V;
use crate::world::World;

impl World {
    /// Claims against the clients waiting for them; remote members against
    /// the rooms, both ways, within `max_clients`.
    pub(crate) fn check_cluster(&self) -> Result<(), V> {
        let max_held = (self.config.flood_burst as usize).max(1);
        for (&id, client) in &self.clients {
            let claim_ok =
                client.claim_pending.is_none_or(|claim| self.claims.get(claim).is_some_and(|p| p.client == id));
            if !claim_ok || client.held.len() > max_held || client.claim_pending.is_none() && !client.held.is_empty() {
                return Err(V::ClaimMismatch { client: id });
            }
        }
        if self.remote.len() > self.config.max_clients {
            return Err(V::TooManyRemoteUsers { count: self.remote.len(), max: self.config.max_clients });
        }
        for (room_key, room) in &self.rooms {
            for key in &room.remote {
                if self.remote.get(key).is_none_or(|user| !user.rooms.contains(room_key)) {
                    return Err(V::RemoteMember { room: room_key.to_string(), nick: key.to_string() });
                }
            }
        }
        for (key, user) in self.remote.entries() {
            let misplaced = user.rooms.iter().any(|r| self.rooms.get(r).is_some_and(|room| !room.remote.contains(key)));
            if misplaced || user.rooms.len() > self.config.max_rooms_per_client.max(1) {
                return Err(V::RemoteMember { room: String::new(), nick: key.to_string() });
            }
        }
        Ok(())
    }
}
