//! The client table: every connected client by id, the ids issued, and
//! how many clients speak each codec, which `Engine::stats` reports
//! without a walk. It sits under `client` because a client's codec is
//! private to that module: only this table changes it (a text client's
//! first line may switch it to JSON), so the counts follow every change.

use std::collections::BTreeMap;
use std::collections::btree_map;

use super::Client;
use crate::codec::Codec;
use crate::output::ClientId;

/// Every connected client, and the counts kept across them.
#[derive(Debug)]
pub(crate) struct Clients {
    /// Boxed, so the table's nodes stay small: a B-tree filled in id order
    /// leaves its nodes about half full, and each empty slot would
    /// otherwise cost a whole `Client`.
    table: BTreeMap<ClientId, Box<Client>>,
    /// The id the next connection gets. Ids below it were issued, so an id
    /// below it that is no longer connected was closed, not invented.
    next: u64,
    /// Connected clients speaking each codec, in `CODECS` order.
    speaking: [usize; CODECS],
}

/// How many codecs there are, with the features built.
const CODECS: usize = if cfg!(feature = "json") { 3 } else { 2 };

/// `codec`'s place in the per-codec counts.
fn slot(codec: Codec) -> usize {
    match codec {
        Codec::Text => 0,
        Codec::Irc => 1,
        #[cfg(feature = "json")]
        Codec::Json => 2,
    }
}

impl Default for Clients {
    fn default() -> Self {
        Self { table: BTreeMap::new(), next: 1, speaking: [0; CODECS] }
    }
}

impl Clients {
    /// A new connection's id, never issued before; a connection refused
    /// (the server is full) uses one up too.
    pub(crate) fn issue(&mut self) -> ClientId {
        let id = ClientId(self.next);
        self.next += 1;
        id
    }

    /// Whether `id` was issued: connected now, or closed since.
    pub(crate) fn issued(&self, id: ClientId) -> bool {
        id.0 < self.next
    }

    /// Adds a client under an id just issued.
    pub(crate) fn insert(&mut self, id: ClientId, client: Box<Client>) {
        debug_assert!(self.issued(id) && !self.table.contains_key(&id));
        self.speaking[slot(client.codec)] += 1;
        self.table.insert(id, client);
    }

    /// Takes a client off the table as it leaves.
    pub(crate) fn remove(&mut self, id: ClientId) -> Option<Box<Client>> {
        let client = self.table.remove(&id)?;
        self.speaking[slot(client.codec)] -= 1;
        Some(client)
    }

    /// On a client's first line that says something: the codec is chosen
    /// for good, and a text client speaks `detected`, the codec the line
    /// is in (JSON, if it is a JSON object). Whether it now speaks another
    /// codec.
    pub(crate) fn choose_codec(&mut self, id: ClientId, detected: Codec) -> bool {
        let Some(client) = self.table.get_mut(&id) else { return false };
        if std::mem::replace(&mut client.codec_chosen, true) || client.codec != Codec::Text {
            return false;
        }
        let codec = detected;
        if codec == Codec::Text {
            return false;
        }
        self.speaking[slot(Codec::Text)] -= 1;
        self.speaking[slot(codec)] += 1;
        client.codec = codec;
        true
    }

    /// Connected clients speaking `codec`.
    pub(crate) fn speaking(&self, codec: Codec) -> usize {
        self.speaking[slot(codec)]
    }

    pub(crate) fn get(&self, id: &ClientId) -> Option<&Client> {
        self.table.get(id).map(|c| &**c)
    }

    pub(crate) fn get_mut(&mut self, id: &ClientId) -> Option<&mut Client> {
        self.table.get_mut(id).map(|c| &mut **c)
    }

    pub(crate) fn contains_key(&self, id: &ClientId) -> bool {
        self.table.contains_key(id)
    }

    /// Clients connected.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// The ids connected, in order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &ClientId> {
        self.table.keys()
    }

    /// Every client that is a user by now, with the wire it reads, in id
    /// order: those welcomed, not an IRC client still registering nor one
    /// waiting for the cluster to grant its first name. A broadcast to
    /// everyone is one id per user in a list, rendered once per wire.
    pub(crate) fn everyone(&self) -> impl Iterator<Item = (ClientId, crate::codec::Wire)> + '_ {
        let user = |c: &Client| c.irc.as_ref().is_none_or(|session| session.registered) && !c.name_pending;
        self.table.iter().filter(move |(_, c)| user(c)).map(|(&id, c)| (id, c.wire()))
    }

    /// The clients connected, in id order.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn values(&self) -> impl Iterator<Item = &Client> {
        self.table.values().map(|c| &**c)
    }

    /// Its own rules: each codec's count is the clients speaking it, and
    /// every client's id was issued.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn check(&self) -> Result<(), crate::invariant_violation::InvariantViolation> {
        use crate::invariant_violation::InvariantViolation as V;
        for (codec, name) in [
            (Codec::Text, "text"),
            #[cfg(feature = "json")]
            (Codec::Json, "JSON"),
            (Codec::Irc, "IRC"),
        ] {
            let speaking = self.values().filter(|c| c.codec == codec).count();
            let kept = self.speaking(codec);
            if kept != speaking {
                return Err(V::CodecCount { codec: name, kept, speaking });
            }
        }
        if let Some(&client) = self.keys().find(|id| !self.issued(**id)) {
            return Err(V::UnissuedId { client });
        }
        Ok(())
    }
}

impl std::ops::Index<&ClientId> for Clients {
    type Output = Client;

    fn index(&self, id: &ClientId) -> &Client {
        &self.table[id]
    }
}

impl<'a> IntoIterator for &'a Clients {
    type Item = (&'a ClientId, &'a Box<Client>);
    type IntoIter = btree_map::Iter<'a, ClientId, Box<Client>>;

    fn into_iter(self) -> Self::IntoIter {
        self.table.iter()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::client::FloodBucket;

    fn client(codec: Codec) -> Box<Client> {
        let now = Instant::now();
        Box::new(Client::new("guest".into(), codec, FloodBucket::full(1, now), now))
    }

    #[test]
    fn ids_are_issued_once_and_a_departure_is_uncounted() {
        let mut clients = Clients::default();
        let (a, b) = (clients.issue(), clients.issue());
        assert_ne!(a, b);
        clients.insert(a, client(Codec::Text));
        clients.insert(b, client(Codec::Irc));
        assert_eq!((clients.speaking(Codec::Text), clients.speaking(Codec::Irc)), (1, 1));
        assert!(clients.remove(a).is_some() && clients.remove(a).is_none());
        assert_eq!((clients.speaking(Codec::Text), clients.len()), (0, 1));
        assert!(clients.issued(a) && !clients.issued(ClientId(b.0 + 1)));
        assert_eq!(clients.check(), Ok(()));
    }

    #[cfg(feature = "json")]
    #[test]
    fn a_text_clients_first_line_may_switch_it_to_json_once_and_the_counts_follow() {
        let mut clients = Clients::default();
        let (text, json, irc) = (clients.issue(), clients.issue(), clients.issue());
        clients.insert(text, client(Codec::Text));
        clients.insert(json, client(Codec::Json));
        clients.insert(irc, client(Codec::Irc));
        assert!(clients.choose_codec(text, Codec::Json));
        assert!(!clients.choose_codec(text, Codec::Text), "chosen for good");
        assert!(!clients.choose_codec(json, Codec::Text), "connected as JSON, it stays JSON");
        assert!(!clients.choose_codec(irc, Codec::Json));
        assert_eq!(clients[&text].codec(), Codec::Json);
        assert_eq!((clients.speaking(Codec::Text), clients.speaking(Codec::Json)), (0, 2));
        assert_eq!(clients.check(), Ok(()));
    }
}
