// Rooms: joining, leaving, and each room's messages in `seq` order.
//
// The server numbers each room's messages (`seq`); a room remembers the
// newest number it has, so that after a reconnect, or a number skipped for
// any other reason, it asks for exactly the pages it missed. Our own
// messages are shown at once as pending, and the server's copy of each,
// which names the request that sent it, gives it its number.
//
// A deletion takes a number of its own (its `event`) and leaves the
// deleted message in its place without its text. What the account has not
// read yet (the server's `unread`, after logging in and after a join's
// replay) is fetched forward from the read marker and marked with a line.

import { errors } from './codes.js';
import { el, renderKeyed } from './dom.js';
import { seen } from './markers.js';
import {
  activate,
  countUnread,
  firstPaneKey,
  renderConvs,
  renderPeople,
  renderRooms,
  savePanes,
  updateTitle,
} from './nav.js';
import { Pane } from './panes.js';
import { $, connected, nickKey, request, roomKey, sameNick, sameRoom, state } from './session.js';

export function withRoom(name, action) {
  const room = state.rooms.get(roomKey(name));
  if (room !== undefined) action(room);
}

// `rejoin`: back after a loss; `restoring`: a room the page had open
// before it was reloaded.
export function join(name, { rejoin = false, restoring = false } = {}) {
  request(
    { type: 'join', room: name },
    {
      answers: (o) => o.type === 'joined' && sameNick(o.nick, state.me) && sameRoom(o.room, name),
      onError: (error) => {
        // With the account connected elsewhere, logging in put this
        // connection into the account's rooms already: where it wanted to be.
        if ((rejoin || restoring) && error.code === errors.already_in_room) return;
        const room = state.rooms.get(roomKey(name));
        if (rejoin && room !== undefined) room.pane.showError(error.message);
        else $('rooms-error').textContent = error.message;
      },
    },
  );
}

export function create(name) {
  request(
    { type: 'create', room: name },
    {
      answers: (o) => o.type === 'created' && sameRoom(o.room, name),
      onError: (error) => {
        $('rooms-error').textContent = error.message;
      },
    },
  );
}

// We are in a room: a new one (fresh), or one we had before the connection
// was lost. Either way, the latest page of its history follows the replay,
// and its answer says where the replay ended.
export function joinedRoom(o) {
  const key = roomKey(o.room);
  let room = state.rooms.get(key);
  const fresh = room === undefined;
  if (fresh) {
    room = {
      name: o.room,
      key,
      paneKey: `r:${key}`,
      members: new Map(),
      count: o.members,
      topic: null,
      // The newest seq this page has, and the oldest it can page back from.
      newest: null,
      oldest: null,
      unread: 0,
      // The account's read marker here, as far as this page knows, and the
      // newest message the server's last unread count covered.
      marker: null,
      countedTo: null,
    };
    room.pane = new Pane({
      key: room.paneKey,
      kind: 'room',
      title: o.room,
      send: (text) => say(room, text),
      older: () => loadOlder(room),
      close: () => leave(room),
      remove: (seq) => deleteMessage(room, seq),
    });
    $('panes').append(room.pane.el);
    state.rooms.set(key, room);
  } else {
    room.pane.notice('back in the room');
  }
  room.joined = true;
  room.fresh = fresh;
  room.count = o.members;
  roomSubtitle(room);
  request({ type: 'who', room: o.room }, { answers: (a) => a.type === 'who' && sameRoom(a.room, o.room) });
  request({ type: 'history', room: o.room }, { answers: historyOf(room), onReply: (page) => latestPage(room, page) });
  if (state.wantActive === room.paneKey) activate(room.paneKey, true);
  else if (state.active === null) activate(room.paneKey);
  renderRooms();
  renderRoomList();
  savePanes();
  scheduleList();
}

function latestPage(room, page) {
  const last = page.messages.at(-1)?.seq ?? 0;
  // A guest's room that emptied while we were away was made anew and
  // numbers from 1 again: what the pane shows is the old room's, and its
  // numbers would hide the new room's messages as already shown.
  if (!room.fresh && room.newest !== null && (page.oldest === null || last < room.newest)) {
    room.pane.clear();
    room.newest = null;
    room.oldest = null;
    room.marker = null;
    room.countedTo = null;
    room.pane.setMore(false);
    room.pane.notice('this room was made anew while you were away; what was said before is gone');
  }
  for (const m of page.messages) addRoomMessage(room, m, !room.fresh);
  room.newest = Math.max(room.newest ?? 0, last);
  // The replay may have reached further back than this page.
  if (page.oldest !== null && (room.oldest === null || page.oldest <= room.oldest)) {
    room.oldest = page.oldest;
    room.pane.setMore(page.more);
  }
  // Messages we sent just before the connection was lost and that the room
  // has not got by now never reached the server.
  if (!room.fresh) for (const li of room.pane.pending()) room.pane.fail(li);
  room.fresh = false;
  seen(room);
}

function historyOf(room) {
  return (o) => o.type === 'history' && sameRoom(o.room, room.name);
}

export function roomSubtitle(room) {
  const count = `${room.count} here`;
  room.pane.setSubtitle(room.topic ? `${count} · ${room.topic}` : count);
}

// A room's member count changed: its header, the nav and the room list say so.
function showCount(room) {
  roomSubtitle(room);
  renderRooms();
  renderRoomList();
}

function leave(room) {
  if (!room.joined) {
    removeRoom(room.name);
    return;
  }
  request(
    { type: 'leave', room: room.name },
    {
      answers: (o) => o.type === 'left' && sameNick(o.nick, state.me) && sameRoom(o.room, room.name),
      onError: (error) => room.pane.showError(error.message),
    },
  );
}

export function removeRoom(name) {
  const room = state.rooms.get(roomKey(name));
  if (room === undefined) return;
  room.pane.el.remove();
  state.rooms.delete(room.key);
  if (state.active === room.paneKey) activate(firstPaneKey());
  renderRooms();
  renderRoomList();
  savePanes();
  scheduleList();
}

export function someoneJoined(o) {
  withRoom(o.room, (room) => {
    room.members.set(nickKey(o.nick), o.nick);
    room.count = o.members;
    room.pane.notice(`${o.nick} joined`);
    showCount(room);
  });
  state.online.set(nickKey(o.nick), o.nick);
  renderPeople();
  renderConvs();
  scheduleList();
}

export function someoneLeft(o) {
  withRoom(o.room, (room) => {
    if (room.members.delete(nickKey(o.nick))) room.count -= 1;
    room.pane.notice(`${o.nick} left`);
    showCount(room);
  });
  renderPeople();
  scheduleList();
}

export function someoneDisconnected(o) {
  for (const room of state.rooms.values()) {
    if (room.members.delete(nickKey(o.nick))) {
      room.count -= 1;
      room.pane.notice(`${o.nick} disconnected (${o.reason})`);
      showCount(room);
    }
  }
  state.online.delete(nickKey(o.nick));
  renderPeople();
  renderConvs();
  scheduleList();
}

function say(room, text) {
  if (!connected() || !room.joined) {
    room.pane.showError('not connected; wait for the connection to come back');
    return false;
  }
  room.pane.clearError();
  const li = room.pane.addPending(text, state.me);
  // The server's copy of the message names this id (see addRoomMessage).
  const id = request(
    { type: 'say', room: room.name, text },
    {
      answers: (o) => o.type === 'message',
      onError: (error) => {
        room.pane.fail(li);
        room.pane.showError(error.message);
      },
    },
  );
  if (id !== false) li.dataset.request = String(id);
  return true;
}

// A live or replayed message; our own come back too. A jump in `seq` is
// messages we missed, fetched by page.
export function roomMessage(room, o) {
  if (room.newest === null) {
    room.newest = o.seq - 1;
    room.oldest = o.seq;
    room.pane.setMore(o.seq > 1);
  }
  advance(room, o.seq);
  addRoomMessage(room, o, !(o.history && room.fresh));
  seen(room);
}

// The room's numbers reached `seq`: one a message or a deletion took.
function advance(room, seq) {
  if (seq - room.newest - 1 > 0) fillGap(room, room.newest, seq);
  room.newest = Math.max(room.newest, seq);
}

// A message of the room was deleted (live, or in a join's replay): it
// stays in its place without its text, and the deletion's own number is
// one this page has seen.
export function messageDeleted(room, o) {
  room.pane.markDeleted(`s${o.seq}`);
  if (typeof o.event === 'number' && room.newest !== null) {
    advance(room, o.event);
    seen(room);
  }
}

function deleteMessage(room, seq) {
  room.pane.clearError();
  request(
    { type: 'delete', room: room.name, seq },
    {
      answers: (o) => o.type === 'deleted' && sameRoom(o.room, room.name) && o.seq === seq,
      onError: (error) => room.pane.showError(error.message),
    },
  );
}

// The server counted `o.count` messages after the account's read marker,
// the first numbered `o.first_seq`: the room's badge says so (unless it is
// on screen), a line marks where they start, and whatever of them the
// replay and the latest page do not hold is fetched forward from there.
export function roomUnread(room, o) {
  if (!Number.isInteger(o.first_seq) || !Number.isInteger(o.count) || o.count <= 0) return;
  // Back after a loss, the count at login comes before the rejoin, whose
  // replay is followed by it again: only then can the history be asked.
  if (!room.joined) return;
  const onScreen = state.active === room.paneKey && !document.hidden;
  room.unread = onScreen ? 0 : o.count;
  room.countedTo = o.first_seq + o.count - 1;
  room.pane.divider(o.first_seq, `${o.count} new since you left`);
  catchUp(room, o.first_seq - 1, room.oldest);
  renderRooms();
  updateTitle();
  seen(room);
}

// Pages forward after `after` until the messages shown from `until` on
// (null: none are) are reached.
function catchUp(room, after, until) {
  if (until !== null && after + 1 >= until) return;
  request(
    { type: 'history', room: room.name, after },
    {
      answers: historyOf(room),
      onReply: (page) => {
        for (const m of page.messages) addRoomMessage(room, m, false);
        if (page.oldest !== null && (room.oldest === null || page.oldest < room.oldest)) {
          room.oldest = page.oldest;
          room.pane.setMore(page.oldest > 1);
        }
        if (typeof page.newest === 'number') room.newest = Math.max(room.newest ?? 0, page.newest);
        room.pane.scrollToBottom();
        if (page.more && typeof page.newest === 'number' && page.newest > after) catchUp(room, page.newest, until);
      },
      onError: (error) => room.pane.showError(error.message),
    },
  );
}

// Pages back from `before` until every message after `after` is here.
function fillGap(room, after, before) {
  request(
    { type: 'history', room: room.name, before },
    {
      answers: historyOf(room),
      onReply: (page) => {
        for (const m of page.messages) addRoomMessage(room, m, true);
        if (page.more && page.oldest !== null && page.oldest > after + 1) fillGap(room, after, page.oldest);
      },
    },
  );
}

function loadOlder(room) {
  room.pane.setLoading(true);
  const obj =
    room.oldest === null
      ? { type: 'history', room: room.name }
      : { type: 'history', room: room.name, before: room.oldest };
  request(obj, {
    answers: historyOf(room),
    onReply: (page) => {
      for (const m of page.messages) addRoomMessage(room, m, false);
      if (page.oldest !== null) room.oldest = Math.min(room.oldest ?? page.oldest, page.oldest);
      room.pane.setMore(page.more);
      room.pane.setLoading(false);
    },
    onError: (error) => {
      room.pane.setLoading(false);
      room.pane.showError(error.message);
    },
  });
}

// Shows a numbered message once. One of ours that is still waiting for
// its number takes it instead of being shown twice: the line whose request
// the server's copy names, or (a copy replayed after a reconnect, which
// names none) the first line with its text.
function addRoomMessage(room, m, unread) {
  // A deletion, in a history page: its message (if shown) loses its text.
  if (m.deletes !== undefined) {
    room.pane.markDeleted(`s${m.deletes}`);
    return;
  }
  const id = `s${m.seq}`;
  const deleted = m.deleted !== undefined && m.deleted !== null;
  if (room.pane.has(id)) {
    if (deleted) room.pane.markDeleted(id);
    return;
  }
  const mine = sameNick(m.from, state.me);
  if (mine) {
    const sent = (li) =>
      m.id !== undefined ? li.dataset.request === String(m.id) : li.querySelector('.text').textContent === m.text;
    const waiting = room.pane.pending().find(sent);
    if (waiting !== undefined) {
      room.pane.settle(waiting, id, m.seq, m.ts);
      return;
    }
  }
  room.pane.add({ id, order: m.seq, from: m.from, text: m.text ?? '', ts: m.ts, mine, deleted });
  // Read on another device already (its marker came first), or counted in
  // the server's unread count (a gap's page after it): not counted again.
  const read = room.marker !== null && m.seq <= room.marker;
  const counted = room.countedTo !== null && m.seq <= room.countedTo;
  if (unread && !mine && !deleted && !read && !counted) countUnread(room);
}

let listTimer = null;

// Joins and leaves change the counts in the room list; one `list` a second
// is plenty however many happen.
export function scheduleList() {
  if (listTimer !== null) return;
  listTimer = setTimeout(() => {
    listTimer = null;
    if (state.entered && connected()) request({ type: 'list' }, { answers: (o) => o.type === 'rooms' });
  }, 1000);
}

// The server's latest room list, shown with what we know since: a room we
// joined or left, or whose count changed, shows that at once.
let roomList = [];

export function setRoomList(rooms) {
  roomList = rooms;
  for (const info of rooms) {
    withRoom(info.name, (room) => {
      room.count = info.members;
      roomSubtitle(room);
    });
  }
  renderRoomList();
  renderRooms();
}

// The room list's items, by room key ('' for the line saying there are none).
const listItems = new Map();

function renderRoomList() {
  const rooms = roomList.map((info) => [roomKey(info.name), info]);
  if (rooms.length === 0) rooms.push(['', null]);
  renderKeyed($('rooms'), listItems, rooms, makeListItem, updateListItem);
}

function makeListItem(info) {
  if (info === null) return el('li', { className: 'empty' }, 'no rooms yet; create one');
  const button = el('button', { type: 'button' });
  button.addEventListener('click', () => {
    $('rooms-error').textContent = '';
    const room = state.rooms.get(roomKey(info.name));
    if (room !== undefined) {
      activate(room.paneKey, true);
    } else {
      state.wantActive = `r:${roomKey(info.name)}`;
      join(info.name);
    }
  });
  return el('li', {}, el('span', { className: 'name' }, info.name), el('span', { className: 'count' }), button);
}

// Says how many are in the room (what we know since the list came, if we
// are in it) and whether the button opens it or joins it.
function updateListItem(li, info) {
  if (info === null) return;
  const room = state.rooms.get(roomKey(info.name));
  li.querySelector('.count').textContent = `${room?.count ?? info.members} here`;
  const verb = room !== undefined ? 'Open' : 'Join';
  const button = li.querySelector('button');
  button.textContent = verb;
  button.setAttribute('aria-label', `${verb} ${info.name}`);
}
