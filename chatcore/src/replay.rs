//! History for readers: the replay a member gets on joining, `/history`
//! pages further back, and pages forward from a number (`after`: a client
//! that reconnected resumes from the last message it saw), each served
//! from memory when it holds all of the page and otherwise fetched from
//! the embedder's store. Pages of a conversation (whispers between
//! accounts) are always fetched; see `conversation.rs`.

use bytes::Bytes;

use crate::client::{Client, HistoryKey};
use crate::cloak::HIDDEN_HOST;
use crate::error::Rejection;
use crate::event::{Event, IrcAnswer, PageMessage, PageOf, history_event};
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::{ClientId, HistoryRange, HistoryTarget, Output};
use crate::record::StoredMessage;
use crate::turn::Turn;
use crate::world::{World, unsafe_text};

impl World {
    /// The embedder's answer to an [`Output::FetchHistory`]: the stored
    /// messages asked for, in any order. Nothing happens if the client is
    /// gone.
    pub(crate) fn history_page(
        &mut self,
        out: &mut Outbox,
        client: ClientId,
        target: &HistoryTarget,
        messages: Vec<StoredMessage>,
        unreadable: usize,
    ) {
        // The page answers the oldest fetch still open, and names its
        // request; a page nobody asked for is taken as a page back.
        let asked = self.clients.get_mut(&client).and_then(|c| c.page_replies.pop_front());
        let (tag, range) = asked.unwrap_or((None, HistoryRange::Before(u64::MAX)));
        if let Some(tag) = tag {
            out.begin_reply(client, tag);
        }
        let page = Fetched { messages, unreadable, range };
        match target {
            HistoryTarget::Room(room) => self.room_page(out, client, room, page),
            HistoryTarget::Conversation { account, with } => self.conversation_page(out, client, account, with, page),
        }
    }

    /// A fetched page of a room; if the room is gone, the client is told so.
    fn room_page(&mut self, out: &mut Outbox, client: ClientId, room: &str, page: Fetched) {
        let key = NameKey::of(room);
        let Some(reader) = self.clients.get(&client) else { return };
        let Some(room) = self.rooms.get(&key) else {
            // Dropped or expired while the page was read: the reader still gets an answer.
            return self.reject(out, client, Rejection::NoSuchRoom(room.into()));
        };
        let Fetched { mut messages, unreadable, range } = page;
        tidy_fetched(&mut messages);
        if let HistoryRange::After(after) = range {
            // A page forward is the oldest messages above `after`; there is
            // more if the room has said anything newer than its last.
            messages.retain(|m| m.seq > after);
            // A cluster node may not have heard of the store's newest yet:
            // a full page may have more after it.
            let full = self.config.cluster && messages.len() >= self.config.history_page_len;
            messages.truncate(self.config.history_page_len);
            let page = heard_by(reader, &messages);
            let oldest = messages.first().map(|m| m.seq);
            let newest = messages.last().map_or(after, |m| m.seq);
            let more = full || newest < room.next_seq.saturating_sub(1);
            let of = PageOf::Room(&room.name);
            let event = Event::HistoryPage { of, messages: &page, more, oldest, newest: Some(newest), unreadable };
            return out.send(client, reader.render(&event));
        }
        let skip = messages.len().saturating_sub(self.config.history_page_len);
        let page = heard_by(reader, &messages[skip..]);
        let more = messages[skip..].first().is_some_and(|m| m.seq > 1);
        let oldest = messages[skip..].first().map(|m| m.seq);
        let of = PageOf::Room(&room.name);
        let event = Event::HistoryPage { of, messages: &page, more, oldest, newest: None, unreadable };
        let data = reader.render(&event);
        self.deliver_page(out, client, key, data, oldest);
    }

    /// Sends a rendered page and moves the client's cursor to its oldest message.
    fn deliver_page(&mut self, out: &mut Outbox, id: ClientId, key: NameKey, data: Bytes, oldest: Option<u64>) {
        if let (Some(client), Some(seq)) = (self.clients.get_mut(&id), oldest) {
            client.history_cursor = Some((HistoryKey::Room(key), seq));
        }
        out.send(id, data);
    }
}

/// A page the embedder read from its store, with the range it was asked for.
pub(crate) struct Fetched {
    /// The messages, in any order.
    pub(crate) messages: Vec<StoredMessage>,
    /// Rows of the page the store could not read.
    pub(crate) unreadable: usize,
    /// Which page the request asked for.
    pub(crate) range: HistoryRange,
}

/// Puts fetched messages in order, once each, without what must not reach
/// a terminal: the engine never stores control characters, but a damaged
/// store could return them.
pub(crate) fn tidy_fetched(messages: &mut Vec<StoredMessage>) {
    messages.retain(|m| unsafe_text(&m.text).is_none() && unsafe_text(&m.from).is_none());
    messages.sort_by_key(|m| m.seq);
    messages.dedup_by_key(|m| m.seq);
}

/// The messages `reader` hears, as page entries: senders it blocks are
/// left out, as on joining (the cursor still moves past them).
pub(crate) fn heard_by<'a>(reader: &Client, messages: &'a [StoredMessage]) -> Vec<PageMessage<'a>> {
    messages.iter().filter(|m| reader.hears(&m.from)).map(PageMessage::of).collect()
}

impl Turn<'_> {
    /// Sends the newcomer `welcome` followed by the room's kept history (in
    /// one buffer), skipping names it blocks, and starts its `/history`
    /// cursor at the oldest message shown.
    pub(crate) fn replay_on_join(&mut self, key: NameKey, welcome: Bytes) {
        let (world, id) = (&mut *self.world, self.id);
        let Some(client) = world.clients.get(&id) else { return };
        let room = &world.rooms[&key];
        let mut replay = welcome.to_vec();
        // IRC's `draft/read-marker` wants the marker right after the JOIN.
        replay.extend_from_slice(&world.markers_on_join(client, room, true).unwrap_or_default());
        if let Some(topic) = &room.topic {
            let event = Event::Topic {
                room: &room.name,
                text: Some(&topic.text),
                by: &topic.set_by,
                // Who set a topic, and who said what, are kept by name only.
                host: HIDDEN_HOST,
                unix_ms: topic.unix_ms,
                changed: false,
            };
            replay.extend_from_slice(&client.render(&event));
        }
        let heard = room.history.iter().filter(|e| client.hears(&e.from));
        if client.irc.is_some() {
            // IRC clients learn who is there from NAMES (353, 366) on
            // joining, and get the replay as one history page: a
            // `chathistory` batch if they negotiated `batch`.
            let (names, page) = world.names_page(room);
            let nicks: Vec<&str> = names.iter().map(String::as_str).collect();
            let names = IrcAnswer::Names { room: &room.name, secret: room.modes.secret, nicks: &nicks, page };
            replay.extend_from_slice(&client.render(&Event::Irc(names)));
            let page: Vec<PageMessage<'_>> = heard.map(PageMessage::of).collect();
            if !page.is_empty() {
                let event = Event::HistoryPage {
                    of: PageOf::Room(&room.name),
                    messages: &page,
                    more: false,
                    oldest: None,
                    newest: None,
                    unreadable: 0,
                };
                replay.extend_from_slice(&client.render(&event));
            }
        } else {
            for entry in heard {
                // Who said what, and who deleted it, are kept by name only.
                let event = history_event(&room.name, PageMessage::of(entry), HIDDEN_HOST, false);
                replay.extend_from_slice(&client.render(&event));
            }
        }
        // What came after the account's read marker, told after the replay.
        replay.extend_from_slice(&world.markers_on_join(client, room, false).unwrap_or_default());
        let cursor = Some((HistoryKey::Room(key), room.history.oldest_seq().unwrap_or(room.next_seq)));
        if let Some(client) = world.clients.get_mut(&id) {
            client.history_cursor = cursor;
        }
        self.out.send(id, replay.into());
    }

    /// A page is being read from the store for the client: its answer
    /// will name the request that asked for it.
    /// It remembers which page was asked for, to place the answer.
    pub(crate) fn defer_page_reply(&mut self, range: HistoryRange) {
        let tag = self.out.defer_reply(self.id);
        if let Some(client) = self.world.clients.get_mut(&self.id) {
            client.page_replies.push_back((tag, range));
        }
    }

    /// `/history`: the page of up to `history_page_len` messages before
    /// `before`, or before the client's cursor, or before the newest; or,
    /// given `after`, the page forward from there.
    pub(crate) fn history(&mut self, named: Option<&str>, range: Option<HistoryRange>) -> Result<(), Rejection> {
        let before = match range {
            Some(HistoryRange::After(after)) => return self.history_after(named, after),
            Some(HistoryRange::Before(before)) => Some(before),
            None => None,
        };
        let world = &mut *self.world;
        let out = &mut *self.out;
        let id = self.id;
        let key = world.target_room(id, named)?;
        let client = &world.clients[&id];
        let room = &world.rooms[&key];
        // Only text clients continue from a cursor; JSON clients page with `before`.
        let cursor = client.text_cursor(&HistoryKey::Room(key.clone()));
        let before = before.or(cursor).unwrap_or(room.next_seq).min(room.next_seq);
        let limit = world.config.history_page_len;
        let wanted_from = before.saturating_sub(limit as u64).max(1);
        // A cluster node's memory of a room may be behind the store (it
        // learns of other nodes' messages as they arrive): the store is
        // the truth, and pages come from it.
        let in_memory = !world.config.cluster
            && (room.history.oldest_seq().is_some_and(|oldest| oldest <= wanted_from) || before <= 1);
        if !in_memory && world.config.emit_records {
            let target = HistoryTarget::Room(room.name.clone());
            let range = HistoryRange::Before(before);
            self.defer_page_reply(range);
            self.out.push(Output::FetchHistory { client: id, target, range, limit });
            return Ok(());
        }
        let unfiltered: Vec<_> = room.history.page_before(before, limit).collect();
        // Senders the reader blocks are skipped, as on joining; the cursor still moves past them.
        let page: Vec<PageMessage<'_>> =
            unfiltered.iter().filter(|e| client.hears(&e.from)).map(|e| PageMessage::of(e)).collect();
        // Without a store, memory is all there is.
        let older_kept = |seq| world.config.emit_records || room.history.oldest_seq().is_some_and(|o| o < seq);
        let more = in_memory && unfiltered.first().is_some_and(|m| m.seq > 1 && older_kept(m.seq));
        let oldest = unfiltered.first().map(|m| m.seq);
        let of = PageOf::Room(&room.name);
        let event = Event::HistoryPage { of, messages: &page, more, oldest, newest: None, unreadable: 0 };
        let data = client.render(&event);
        world.deliver_page(out, id, key, data, oldest);
        Ok(())
    }

    /// `history` with `after`: the page of up to `history_page_len`
    /// messages numbered above `after`, oldest first, as a client that
    /// reconnected asks to catch up. Served from memory when it holds every
    /// message above `after` (or there is none), else read from the store.
    /// A forward page leaves a text client's cursor where it was: that
    /// cursor walks back.
    fn history_after(&mut self, named: Option<&str>, after: u64) -> Result<(), Rejection> {
        let world = &mut *self.world;
        let id = self.id;
        let key = world.target_room(id, named)?;
        let client = &world.clients[&id];
        let room = &world.rooms[&key];
        let newest_said = room.next_seq.saturating_sub(1);
        let limit = world.config.history_page_len;
        // As for pages back: a cluster node asks the store, which may
        // hold newer messages than this node has heard of yet.
        let in_memory = !world.config.cluster
            && (after >= newest_said
                || room.history.oldest_seq().is_some_and(|oldest| oldest <= after.saturating_add(1)));
        if !in_memory && world.config.emit_records {
            let target = HistoryTarget::Room(room.name.clone());
            let range = HistoryRange::After(after);
            self.defer_page_reply(range);
            self.out.push(Output::FetchHistory { client: id, target, range, limit });
            return Ok(());
        }
        // Without a store, memory is all there is: what fell out of it is gone.
        let unfiltered: Vec<_> = room.history.page_after(after, limit).collect();
        let page: Vec<PageMessage<'_>> =
            unfiltered.iter().filter(|e| client.hears(&e.from)).map(|e| PageMessage::of(e)).collect();
        let oldest = unfiltered.first().map(|m| m.seq);
        let newest = unfiltered.last().map_or(after, |m| m.seq);
        let more = newest < newest_said;
        let of = PageOf::Room(&room.name);
        let event = Event::HistoryPage { of, messages: &page, more, oldest, newest: Some(newest), unreadable: 0 };
        self.out.send(id, client.render(&event));
        Ok(())
    }
}
