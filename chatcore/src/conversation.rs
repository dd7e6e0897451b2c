//! Conversations: the whispers between two accounts, kept in the
//! embedder's store and paged back with `/history @NICK`.
//!
//! Only whispers between two logged-in accounts are kept, and a whisper
//! kept for an offline account (`OfflineKept`) is part of the conversation
//! too, with the same number. A guest's whispers are never kept: its name
//! is not its own (the next guest may be given it), so a history under it
//! would show one person's whispers to another, and a guest has nothing to
//! read the history back with after it disconnects. Keeping them would
//! also let anyone fill the store without registering.
//!
//! The engine holds no conversation in memory, only the number the next
//! whisper gets: whispers are numbered across the whole server, so that
//! one counter serves every pair of accounts however many there are (a
//! counter per pair would grow with the square of the accounts). Within one
//! conversation the numbers increase, with gaps. Every page is read from
//! the store, and asks for one whisper more than a page shows to tell
//! whether older ones exist (or newer ones, for a page forward: `after`).

use crate::client::HistoryKey;
use crate::error::Rejection;
use crate::event::{Event, PageOf};
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::{ClientId, HistoryRange, HistoryTarget, Output};
use crate::record::{Record, StoredMessage};
use crate::replay::{Fetched, heard_by, tidy_fetched};
use crate::turn::Turn;
use crate::world::World;

impl World {
    /// Whether whispers between accounts are kept in a store to page back.
    fn keeps_conversations(&self) -> bool {
        self.config.emit_records && self.config.conversation_history_len > 0
    }

    /// A fetched page of the conversation between `account` and `with`.
    /// Nothing happens if the client is gone (or, which cannot happen
    /// today, is no longer logged in to `account`).
    pub(crate) fn conversation_page(
        &mut self,
        out: &mut Outbox,
        client: ClientId,
        account: &str,
        with: &str,
        page: Fetched,
    ) {
        let Some(reader) = self.clients.get(&client) else { return };
        if reader.account != Some(NameKey::of(account)) {
            return;
        }
        let with_key = NameKey::of(with);
        // Accounts are never removed, so this finds the name as registered.
        let with = self.accounts.get(&with_key).map_or(with, |a| &a.name);
        let Fetched { mut messages, unreadable, range } = page;
        tidy_fetched(&mut messages);
        let page_len = self.config.history_page_len;
        // The store was asked for one more than a page: if it had it, there is more.
        let (shown, newest) = match range {
            HistoryRange::Before(_) => (&messages[messages.len().saturating_sub(page_len)..], None),
            HistoryRange::After(after) => {
                messages.retain(|m| m.seq > after);
                let shown = &messages[..messages.len().min(page_len)];
                (shown, Some(shown.last().map_or(after, |m| m.seq)))
            }
        };
        let more = shown.len() < messages.len();
        let page = heard_by(reader, shown);
        let oldest = shown.first().map(|m| m.seq);
        let of = PageOf::Conversation { with };
        let event = Event::HistoryPage { of, messages: &page, more, oldest, newest, unreadable };
        let data = reader.render(&event);
        // A page forward leaves the cursor, which walks back, where it was.
        if newest.is_none() {
            self.move_conversation_cursor(client, with_key, oldest.filter(|_| more));
        }
        out.send(client, data);
    }

    /// Moves a client's cursor in a conversation to `oldest`; at its
    /// beginning (`None`) the cursor goes, so that the next `/history
    /// @NICK` starts again from the newest whispers.
    fn move_conversation_cursor(&mut self, id: ClientId, with: NameKey, oldest: Option<u64>) {
        let Some(client) = self.clients.get_mut(&id) else { return };
        let key = HistoryKey::Conversation(with);
        match oldest {
            Some(seq) => client.history_cursor = Some((key, seq)),
            None if client.history_cursor.as_ref().is_some_and(|(at, _)| *at == key) => client.history_cursor = None,
            None => {}
        }
    }
}

impl Turn<'_> {
    /// Keeps a whisper from account `from` to account `to` in their
    /// conversation and returns its number; `None` if conversations are
    /// not kept (no store, or `conversation_history_len` 0) or the store
    /// is failing. A failing store does not stop the whisper, which needs
    /// no record to be delivered; it only leaves it out of the history,
    /// as no record may be made that the store cannot write.
    pub(crate) fn keep_in_conversation(&mut self, from: &str, to: &str, text: &str) -> Option<u64> {
        let world = &mut *self.world;
        if !world.keeps_conversations() || world.storage_failing {
            return None;
        }
        let seq = world.accounts.number_whisper();
        let message = StoredMessage {
            seq,
            from: from.into(),
            text: text.into(),
            unix_ms: self.now.unix_ms,
            kind: crate::MessageKind::Said,
        };
        self.out.persist(Record::Whisper { to: to.into(), message });
        Some(seq)
    }

    /// `/history @NICK`: the page of up to `history_page_len` whispers
    /// between the client's account and `with` numbered below `before`,
    /// or below the text client's cursor, or the newest; or, given
    /// `after`, the oldest whispers numbered above it.
    pub(crate) fn conversation_history(&mut self, with: &str, range: Option<HistoryRange>) -> Result<(), Rejection> {
        let world = &mut *self.world;
        let out = &mut *self.out;
        let id = self.id;
        let client = &world.clients[&id];
        let Some(account) = client.account.as_ref().and_then(|key| world.accounts.get(key)) else {
            return Err(Rejection::HistoryNeedsAccount);
        };
        let with_key = NameKey::of(with);
        let other = world.accounts.get(&with_key).ok_or_else(|| Rejection::NoSuchAccount(with.into()))?;
        let next = world.accounts.next_whisper_seq();
        let range = match range {
            Some(HistoryRange::After(after)) => HistoryRange::After(after),
            before => {
                let cursor = client.text_cursor(&HistoryKey::Conversation(with_key.clone()));
                let before = before.map(|(HistoryRange::Before(n) | HistoryRange::After(n))| n);
                HistoryRange::Before(before.or(cursor).unwrap_or(next).min(next))
            }
        };
        let anything = match range {
            HistoryRange::Before(before) => before > 1,
            HistoryRange::After(after) => after.saturating_add(1) < next,
        };
        if world.keeps_conversations() && anything {
            let target = HistoryTarget::Conversation { account: account.name.clone(), with: other.name.clone() };
            let limit = world.config.history_page_len.saturating_add(1);
            self.defer_page_reply(range);
            self.out.push(Output::FetchHistory { client: id, target, range, limit });
            return Ok(());
        }
        // Nothing kept, or nothing older: the answer needs no store.
        let event = Event::HistoryPage {
            of: PageOf::Conversation { with: &other.name },
            messages: &[],
            more: false,
            oldest: None,
            newest: match range {
                HistoryRange::After(after) => Some(after),
                HistoryRange::Before(_) => None,
            },
            unreadable: 0,
        };
        let data = client.render(&event);
        if let HistoryRange::Before(_) = range {
            world.move_conversation_cursor(id, with_key, None);
        }
        out.send(id, data);
        Ok(())
    }
}
