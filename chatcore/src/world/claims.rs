//! Name claims under way: what each will finish once the other nodes
//! answered, and the names they reserve on this node meanwhile, so that
//! two local clients never claim one name at once.

use std::collections::BTreeMap;

use crate::cluster::ClaimId;
use crate::codec::ReplyTag;
use crate::names::NameKey;
use crate::output::ClientId;

/// What a granted claim lets a client do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ClaimFor {
    /// Its guest name: at connect (`welcomed` false: it is greeted once
    /// granted), or after its account's owner took its name back.
    Guest {
        welcomed: bool,
        /// Refusals so far, bounded by `MAX_GUEST_ATTEMPTS`.
        refusals: u32,
    },
    /// A nickname it chose: `/nick`, IRC's NICK.
    Nick,
    /// Its account's name, as it logs in to the account at `key`.
    Account(NameKey),
}

/// A claim waiting for its answer.
#[derive(Debug)]
pub(crate) struct PendingClaim {
    pub(crate) client: ClientId,
    /// The name claimed, as spelled.
    pub(crate) name: Box<str>,
    pub(crate) purpose: ClaimFor,
    /// What ties the answer to the request that asked (a JSON id, an IRC
    /// label), if it carried one.
    pub(crate) reply: Option<ReplyTag>,
}

/// Every claim under way, by id and by name.
#[derive(Debug)]
pub(crate) struct Claims {
    pending: BTreeMap<ClaimId, PendingClaim>,
    by_name: BTreeMap<NameKey, ClaimId>,
    next: u64,
}

impl Default for Claims {
    fn default() -> Self {
        Self { pending: BTreeMap::new(), by_name: BTreeMap::new(), next: 1 }
    }
}

impl Claims {
    /// Files a claim, numbered afresh. The caller checked that no claim of
    /// the name is under way.
    pub(crate) fn start(&mut self, pending: PendingClaim) -> ClaimId {
        let claim = ClaimId(self.next);
        self.next += 1;
        self.by_name.insert(NameKey::of(&pending.name), claim);
        self.pending.insert(claim, pending);
        claim
    }

    /// Takes the claim off file, if it is under way.
    pub(crate) fn finish(&mut self, claim: ClaimId) -> Option<PendingClaim> {
        let pending = self.pending.remove(&claim)?;
        self.by_name.remove(&NameKey::of(&pending.name));
        Some(pending)
    }

    /// The client whose claim of `key` is under way, if any.
    pub(crate) fn claimant(&self, key: &NameKey) -> Option<ClientId> {
        self.by_name.get(key).and_then(|claim| self.pending.get(claim)).map(|p| p.client)
    }

    /// Claims under way.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn get(&self, claim: ClaimId) -> Option<&PendingClaim> {
        self.pending.get(&claim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(client: u64, name: &str) -> PendingClaim {
        PendingClaim { client: ClientId(client), name: name.into(), purpose: ClaimFor::Nick, reply: None }
    }

    #[test]
    fn a_claim_reserves_its_name_until_it_is_answered_once() {
        let mut claims = Claims::default();
        let first = claims.start(claim(1, "Alice"));
        let second = claims.start(claim(2, "bob"));
        assert_ne!(first, second);
        assert_eq!(claims.claimant(&NameKey::of("ALICE")), Some(ClientId(1)));
        assert_eq!(claims.finish(first).map(|p| p.client), Some(ClientId(1)));
        assert!(claims.finish(first).is_none(), "answered once");
        assert_eq!(claims.claimant(&NameKey::of("alice")), None);
        assert_eq!(claims.len(), 1);
    }
}
