//! Lists whose length grows with the server, a page at a time: `/users`,
//! `/who` (of a room or the Lobby), `/list` and `/since`, and IRC's NAMES.
//!
//! Every answer holds at most `Config::list_page_len` entries, in name
//! order from a cursor (`FROM`: the first name to show), with the length
//! of the whole list and, when there is more, the name the next page
//! starts from. What each costs:
//!
//! * `/users`: a range of the ordered nickname index, O(log n + page);
//!   in a cluster, merged with a range of the other nodes' users in a room.
//! * `/who ROOM`: one walk of the room's members (they are kept by id),
//!   keeping the page's names in a heap of page + 1: O(members × log page),
//!   no sort of the room and nothing rendered beyond the page. The Lobby
//!   is kept by name, so its `/who` is a range of it, like `/users`.
//! * `/list`: a range of the rooms in name order; the total counts the
//!   rooms the asker may see, a walk of at most `max_rooms`.
//! * `/since`: the online part is a range of the nickname index; the
//!   offline part a range of the accounts by last-seen time, most recent
//!   first; its total walks the accounts seen within the window. It
//!   lists this node's users only.
//!
//! In a cluster, a room's members on other nodes are in its `/who`,
//! NAMES and `/list` count, without status.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::error::Rejection;
use crate::event::{Event, ListPage, RoomSummary, SeenUser};
use crate::names::NameKey;
use crate::output::ClientId;
use crate::room::{Room, Status};
use crate::turn::Turn;
use crate::world::World;

pub(crate) use crate::names::LOBBY;

/// One page chosen from a list: its entries in name order, the entry the
/// next page starts with, if any, and how long the whole list is.
#[derive(Debug)]
pub(crate) struct Page<'a, T> {
    pub(crate) entries: Vec<(&'a str, T)>,
    pub(crate) next: Option<&'a str>,
    pub(crate) total: usize,
}

/// Compares names as their keys do: ASCII case folded.
pub(crate) fn fold_cmp(a: &str, b: &str) -> Ordering {
    a.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// An entry in the selection heap, ordered by its name alone.
struct ByName<'a, T>(&'a str, T);

impl<T> PartialEq for ByName<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T> Eq for ByName<'_, T> {}

impl<T> PartialOrd for ByName<'_, T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for ByName<'_, T> {
    fn cmp(&self, other: &Self) -> Ordering {
        fold_cmp(self.0, other.0)
    }
}

/// The first `len` entries of `entries` (named, in no order) whose names
/// come at or after `from`, in name order, and the one after them: one
/// walk, keeping at most `len + 1` in a heap, so only the page is sorted.
pub(crate) fn select_page<'a, T>(
    entries: impl Iterator<Item = (&'a str, T)>,
    from: Option<&str>,
    len: usize,
) -> Page<'a, T> {
    let mut total = 0;
    let mut heap = BinaryHeap::with_capacity(len.saturating_add(2).min(1024));
    for (name, entry) in entries {
        total += 1;
        if from.is_some_and(|from| fold_cmp(name, from) == Ordering::Less) {
            continue;
        }
        // A full heap keeps a name only if it comes before its last one.
        if heap.len() > len {
            if heap.peek().is_some_and(|last: &ByName<'_, T>| fold_cmp(name, last.0) != Ordering::Less) {
                continue;
            }
            heap.pop();
        }
        heap.push(ByName(name, entry));
    }
    let mut entries: Vec<(&str, T)> = heap.into_sorted_vec().into_iter().map(|ByName(n, e)| (n, e)).collect();
    let next = split_next(&mut entries, len).map(|(name, _)| name);
    Page { entries, next, total }
}

/// Takes the entry past a page of `len` off `entries`: the next page's first.
fn split_next<T>(entries: &mut Vec<T>, len: usize) -> Option<T> {
    if entries.len() > len { entries.pop() } else { None }
}

impl World {
    /// The first page of a room's members as NAMES lists them, in name
    /// order (operators marked `@`, voiced members `+`), with the total
    /// and the name the next page starts from.
    pub(crate) fn names_page<'a>(&'a self, room: &'a Room) -> (Vec<String>, ListPage<'a>) {
        let members = room.members.present().filter_map(|(m, _)| Some((&*self.clients.get(&m)?.nick, Some(m))));
        // Other nodes' members hold no status here.
        let remote = self.remote_members(room).chain(self.absent_members(room)).map(|(nick, _)| (nick, None));
        let page = select_page(members.chain(remote), None, self.config.list_page_len);
        let names = page
            .entries
            .iter()
            .map(|&(nick, member)| {
                let Status { operator, voice } = member.map(|m| room.members.status(m)).unwrap_or_default();
                let mark = if operator {
                    "@"
                } else if voice {
                    "+"
                } else {
                    ""
                };
                format!("{mark}{nick}")
            })
            .collect();
        (names, ListPage { total: page.total, next: page.next })
    }

    /// A room's members on other nodes (cluster mode), each with its host.
    pub(crate) fn remote_members<'a>(&'a self, room: &'a Room) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        room.remote.iter().filter_map(|key| self.remote.get(key)).map(|user| (&*user.nick, &*user.host))
    }

    /// A room's always-on accounts with no connection, with the host every
    /// absent user shows.
    pub(crate) fn absent_members<'a>(&'a self, room: &'a Room) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        room.members.absent().filter_map(|key| self.accounts.get(key)).map(|a| (&*a.name, crate::cloak::HIDDEN_HOST))
    }

    /// Everyone online in name order from the name `from` on: the local
    /// clients, and (cluster mode) other nodes' users in a room here.
    fn online_from<'a>(&'a self, from: Option<&str>) -> impl Iterator<Item = &'a str> + 'a {
        let mut local = self.names.from(from).filter_map(|c| self.clients.get(&c)).map(|c| &*c.nick).peekable();
        let mut remote = self.remote.from(from).map(|user| &*user.nick).peekable();
        std::iter::from_fn(move || match (local.peek(), remote.peek()) {
            (Some(a), Some(b)) if fold_cmp(a, b) == Ordering::Greater => remote.next(),
            (Some(_), _) => local.next(),
            (None, _) => remote.next(),
        })
    }
}

impl Turn<'_> {
    /// Only the rooms named (that exist and are not secret to the asker),
    /// in the form of a page of `/list`: IRC's `LIST #a,#b`. As many as the
    /// request names: a whole list, however long.
    pub(crate) fn list_named(&mut self, names: &[String]) {
        let (world, id) = (&*self.world, self.id);
        let rooms: Vec<RoomSummary<'_>> = names
            .iter()
            .filter_map(|name| world.rooms.get(&NameKey::of(name)))
            .filter(|room| !room.modes.secret || room.members.contains(id))
            .map(|room| RoomSummary { name: &room.name, members: room.member_count() })
            .collect();
        let page = ListPage { total: rooms.len(), next: None };
        let data = world.clients[&id].render(&Event::Rooms { rooms: &rooms, page });
        self.out.send(id, data);
    }

    /// `/list [FROM]`: the rooms in name order from FROM; a secret room
    /// (`+s`) is listed to its members only.
    pub(crate) fn list_rooms(&mut self, from: Option<&str>) {
        let world = &mut *self.world;
        let out = &mut *self.out;
        let id = self.id;
        let len = world.config.list_page_len;
        let visible = |room: &&Room| !room.modes.secret || room.members.contains(id);
        let total = world.rooms.values().filter(visible).count();
        let mut rooms: Vec<RoomSummary<'_>> = world
            .rooms
            .from(from)
            .filter(visible)
            .take(len.saturating_add(1))
            .map(|r| RoomSummary { name: &r.name, members: r.member_count() })
            .collect();
        let next = split_next(&mut rooms, len).map(|r| r.name);
        let page = ListPage { total, next };
        let data = world.clients[&id].render(&Event::Rooms { rooms: &rooms, page });
        out.send(id, data);
    }

    /// `/who [ROOM|* [FROM]]`: a room's members (`*`: the Lobby's; none:
    /// the client's room, or the Lobby) in name order from FROM.
    pub(crate) fn who(&mut self, named: Option<&str>, from: Option<&str>) -> Result<(), Rejection> {
        let world = &mut *self.world;
        let out = &mut *self.out;
        let id = self.id;
        let client = &world.clients[&id];
        let len = world.config.list_page_len;
        let key = match named {
            Some(LOBBY) => None,
            Some(name) => Some(NameKey::of(name)),
            None => client.current_room().cloned(),
        };
        let nick = |member: &ClientId| world.clients.get(member).map(|c| (&*c.nick, &*c.host));
        let (room, shown, page) = match key {
            Some(key) => {
                let room = world.rooms.get(&key).ok_or_else(|| Rejection::NoSuchRoom(named.unwrap_or("").into()))?;
                let local = room.members.present().filter_map(|(m, _)| nick(&m));
                let all = local.chain(world.remote_members(room)).chain(world.absent_members(room));
                let page = select_page(all, from, len);
                (Some(&*room.name), page.entries, ListPage { total: page.total, next: page.next })
            }
            // The Lobby is kept in name order: a page is a range of it.
            None => {
                let shown = world.names.lobby_from(from).take(len.saturating_add(1));
                let mut members: Vec<(&str, &str)> = shown.filter_map(|m| nick(&m)).collect();
                let next = split_next(&mut members, len).map(|(name, _)| name);
                (None, members, ListPage { total: world.names.lobby_len(), next })
            }
        };
        let (members, hosts): (Vec<&str>, Vec<&str>) = shown.into_iter().unzip();
        // Another node's user is held by no client here: never shown as one.
        let operator =
            |nick: &&str| world.names.holder(&NameKey::of(nick)).is_some_and(|m| world.is_server_operator(m));
        let operators: Vec<bool> = members.iter().map(operator).collect();
        let room_key = room.map(NameKey::of);
        let room_now = room_key.as_ref().and_then(|key| world.rooms.get(key));
        let away: Vec<&str> = members
            .iter()
            .copied()
            .filter(|m| room_now.is_some_and(|r| r.members.is_absent(&NameKey::of(m))))
            .collect();
        let event = Event::Who { room, members: &members, hosts: &hosts, away: &away, operators: &operators, page };
        out.send(id, client.render(&event));
        Ok(())
    }

    /// `/users [FROM]`: everyone online in name order from FROM, a range
    /// of the nickname index.
    pub(crate) fn users(&mut self, from: Option<&str>) {
        let world = &mut *self.world;
        let out = &mut *self.out;
        let id = self.id;
        let len = world.config.list_page_len;
        let mut users: Vec<&str> = world.online_from(from).take(len.saturating_add(1)).collect();
        let next = split_next(&mut users, len);
        let page = ListPage { total: world.names.len() + world.remote.len(), next };
        let data = world.clients[&id].render(&Event::Users { users: &users, page });
        out.send(id, data);
    }

    /// `/since SECONDS [FROM]`: everyone online now in name order, then
    /// the accounts seen within the last `seconds`, most recent first.
    /// FROM continues the online part if it is online (or is no account
    /// seen), else the offline part at that account.
    pub(crate) fn since(&mut self, seconds: u64, from: Option<&str>) {
        let world = &mut *self.world;
        let out = &mut *self.out;
        let (now, id) = (self.now, self.id);
        let len = world.config.list_page_len;
        let cutoff = now.unix_ms.saturating_sub(seconds.saturating_mul(1000));
        let offline_from = from.map(NameKey::of).filter(|key| {
            !world.names.is_taken(key) && world.accounts.get(key).is_some_and(|a| a.last_seen_ms().is_some())
        });
        let mut users: Vec<SeenUser<'_>> = Vec::with_capacity(len.saturating_add(1).min(1024));
        if offline_from.is_none() {
            let online = world.names.from(from).filter_map(|c| world.clients.get(&c));
            users.extend(online.take(len.saturating_add(1)).map(|c| SeenUser { nick: &c.nick, last_seen_ms: None }));
        }
        let recent = world.accounts.seen_from(offline_from.as_ref()).take_while(|(at, _)| *at >= cutoff);
        for (at, account) in recent.take(len.saturating_add(1).saturating_sub(users.len())) {
            users.push(SeenUser { nick: &account.name, last_seen_ms: Some(at) });
        }
        let seen = world.accounts.seen_since(cutoff);
        let next = split_next(&mut users, len).map(|u| u.nick);
        let page = ListPage { total: world.names.len() + seen, next };
        let data = world.clients[&id].render(&Event::Since { seconds, users: &users, page });
        out.send(id, data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_the_first_names_from_the_cursor_in_folded_order() {
        let names = ["dave", "Alice", "carol", "bob", "Eve"];
        let page = select_page(names.iter().map(|n| (*n, ())), None, 2);
        let shown: Vec<&str> = page.entries.iter().map(|e| e.0).collect();
        assert_eq!((shown, page.next, page.total), (vec!["Alice", "bob"], Some("carol"), 5));
        let page = select_page(names.iter().map(|n| (*n, ())), Some("CAROL"), 2);
        let shown: Vec<&str> = page.entries.iter().map(|e| e.0).collect();
        assert_eq!((shown, page.next), (vec!["carol", "dave"], Some("Eve")));
        let page = select_page(names.iter().map(|n| (*n, ())), Some("d"), 5);
        let shown: Vec<&str> = page.entries.iter().map(|e| e.0).collect();
        assert_eq!((shown, page.next), (vec!["dave", "Eve"], None));
    }

    #[test]
    fn a_page_of_many_is_what_sorting_them_all_gives() {
        // Names in a scrambled order, some differing only in case.
        let names: Vec<String> = (0..500u32)
            .map(|i| (i * 7919) % 1000)
            .map(|n| if n % 3 == 0 { format!("N{n}") } else { format!("n{n}x") })
            .collect();
        let mut sorted: Vec<&str> = names.iter().map(String::as_str).collect();
        sorted.sort_by(|a, b| fold_cmp(a, b));
        for (from, len) in [(None, 1), (None, 7), (Some("n5"), 10), (Some("N999"), 3), (Some("a"), 600)] {
            let page = select_page(names.iter().map(|n| (n.as_str(), ())), from, len);
            let start = sorted.iter().position(|n| from.is_none_or(|f| fold_cmp(n, f) != Ordering::Less));
            let rest = start.map_or(&[][..], |at| &sorted[at..]);
            let shown: Vec<&str> = page.entries.iter().map(|e| e.0).collect();
            assert_eq!(shown, rest[..len.min(rest.len())], "{from:?} {len}");
            assert_eq!(page.next, rest.get(len).copied(), "{from:?} {len}");
            assert_eq!(page.total, 500);
        }
    }

    #[test]
    fn folded_order_is_the_key_order() {
        let mut names = ["b_", "B", "a-1", "A0", "zz", "Z"];
        names.sort_by(|a, b| fold_cmp(a, b));
        let mut keys: Vec<NameKey> = names.iter().map(|n| NameKey::of(n)).collect();
        let in_order = keys.clone();
        keys.sort();
        assert_eq!(keys, in_order);
    }
}
