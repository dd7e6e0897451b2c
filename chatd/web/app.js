// The chat page: the enter form, then rooms, whispered conversations and
// the people in them, kept in step with chatd over one WebSocket that
// speaks the JSON Lines protocol (chatcore/PROTOCOL.md, section 5).

import { busyErrors, byes } from './codes.js';
import { Connection } from './conn.js';
import { loadConv, openConv, whispered } from './convs.js';
import { readMoved, seen } from './markers.js';
import {
  announce,
  closeDrawers,
  onSeen,
  renderConvs,
  renderPeople,
  setUpPeople,
  toggleDrawer,
  updateTitle,
} from './nav.js';
import {
  create,
  join,
  joinedRoom,
  messageDeleted,
  removeRoom,
  roomUnread,
  setRoomList,
  roomMessage,
  roomSubtitle,
  scheduleList,
  someoneDisconnected,
  someoneJoined,
  someoneLeft,
  withRoom,
} from './rooms.js';
import {
  $,
  activePane,
  nickKey,
  request,
  requests,
  roomKey,
  sameNick,
  sameRoom,
  showGeneralError,
  state,
  useConnection,
} from './session.js';

// The pages of a room list being gathered, by room key.
const roomPages = new Map();

// Rooms and people change without telling a page that is not in the room.
const REFRESH_EVERY_MS = 30000;
// A login that failed only because the server was busy (`busyErrors`) is
// tried again after this long.
const BUSY_RETRY_MS = 2000;
// Goodbyes (their `code`) after which coming back by itself would be wrong.
const FINAL_BYES = new Set([byes.logged_in_elsewhere, byes.logged_out, byes.quit, byes.killed]);
// The session token (`{ session, token }`: its id and itself) that logs this browser back in
// without a password. Only the token is kept, never the password: it can
// be revoked (Log out, /logout-all, a password change) and it expires.
const TOKEN_KEY = 'chatd.token';

function savedToken() {
  try {
    const saved = JSON.parse(localStorage.getItem(TOKEN_KEY) ?? 'null');
    return typeof saved?.token === 'string' ? saved : null;
  } catch {
    return null;
  }
}

const conn = new Connection({
  open: connectionOpened,
  message: receive,
  state: showConnectionState,
  closed: connectionClosed,
});
useConnection(conn);

function receive(obj) {
  if (obj.type === 'error') {
    if (!requests.error(obj)) showGeneralError(obj);
    return;
  }
  handle(obj);
  requests.reply(obj);
}

function connectionOpened() {
  requests.clear();
  if (state.creds !== null) authenticate();
}

function connectionClosed() {
  requests.clear();
  if (!state.entered) {
    // On the enter form nothing needs the connection back by itself.
    conn.stop();
    if ($('enter-submit').disabled) {
      $('enter-error').textContent = 'the connection to the server closed; try again';
      $('enter-submit').disabled = false;
    }
    return;
  }
  for (const room of state.rooms.values()) {
    room.joined = false;
    if (!state.lostNoticeShown) room.pane.notice('connection lost; reconnecting');
  }
  state.lostNoticeShown = true;
  state.online.clear();
  renderPeople();
  renderConvs();
}

function showConnectionState(name, detail) {
  const status = $('conn');
  const text = {
    connecting: 'Connecting…',
    online: 'Connected',
    waiting: `Connection lost; retrying in ${Math.ceil(detail / 1000)} s`,
    stopped: detail ? `Disconnected: ${detail}` : 'Not connected',
  }[name];
  status.textContent = text;
  status.dataset.state = name;
}

function authenticate() {
  const { mode, name, password, confirm } = state.creds;
  const onError = authFailed;
  if (mode === 'token') {
    const onTokenError = (error) => {
      // A token the server refuses is of no more use.
      if (!busyErrors.includes(error.code)) localStorage.removeItem(TOKEN_KEY);
      authFailed(error);
    };
    request(
      { type: 'resume', token: state.creds.token },
      { answers: (o) => o.type === 'logged_in', onReply: entered, onError: onTokenError },
    );
  } else if (mode === 'login' || mode === 'register') {
    const obj = mode === 'login' ? { type: 'login', name, password } : { type: 'register', name, password, confirm };
    request(obj, { answers: (o) => o.type === 'logged_in', onReply: entered, onError });
  } else if (name !== '') {
    request(
      { type: 'nick', nick: name },
      {
        answers: (o) => o.type === 'nick' && sameNick(o.new, name),
        onReply: entered,
        // Back after a loss, a guest whose name was taken meanwhile carries
        // on under the server's guest name rather than being shut out.
        onError: (error) => {
          if (!state.entered) {
            onError(error);
            return;
          }
          showGeneralError(error);
          entered();
        },
      },
    );
  } else {
    // A guest keeping the server's name asks for nothing, but the page
    // waits for an answer to know the server is there; who is online is a
    // useful one.
    request({ type: 'users' }, { answers: (o) => o.type === 'users', onReply: entered, onError });
  }
}

// On the enter form, the server's refusal is shown there. Back after a
// loss, a busy server is asked again; any other refusal (the password was
// changed, say) ends the chat with the server's words.
function authFailed(error) {
  if (!state.entered) {
    $('enter-error').textContent = error.message;
    $('enter-submit').disabled = false;
  } else if (busyErrors.includes(error.code)) {
    setTimeout(() => conn.online && state.creds !== null && authenticate(), BUSY_RETRY_MS);
  } else {
    leaveChat(error.message);
  }
}

function entered() {
  conn.established();
  const resumed = state.entered;
  state.entered = true;
  state.lostNoticeShown = false;
  // Once registered, getting the name back after a reconnect is a login.
  if (state.creds.mode === 'register') state.creds = { ...state.creds, mode: 'login' };
  localStorage.setItem('chatd.enter', JSON.stringify({ mode: state.creds.mode, name: state.creds.name }));
  if (state.creds.mode === 'login') keepToken();
  showChat();
  if (resumed) {
    for (const room of state.rooms.values()) join(room.name, { rejoin: true });
    for (const conv of state.convs.values()) loadConv(conv);
  } else {
    restorePanes();
  }
  request({ type: 'blocked' }, { answers: (o) => o.type === 'block_list' });
  refresh();
}

// Swaps the password for a session token, kept for the next visit and
// for reconnecting; a server that issues none leaves things as they were.
function keepToken() {
  request(
    { type: 'token' },
    {
      answers: (o) => o.type === 'token',
      onReply: (o) => {
        localStorage.setItem(TOKEN_KEY, JSON.stringify({ session: o.session, token: o.token }));
        state.creds = { mode: 'token', name: state.creds.name, token: o.token };
      },
      onError: () => {},
    },
  );
}

function showChat() {
  $('enter').hidden = true;
  $('chat').hidden = false;
  $('logout').hidden = false;
  $('show-nav').hidden = false;
  $('show-people').hidden = false;
  $('enter-submit').disabled = false;
  showWhoami();
}

function showWhoami() {
  const whoami = $('whoami');
  whoami.hidden = state.me === null;
  const kind = state.creds?.mode === 'guest' ? 'guest' : 'logged in';
  whoami.textContent = `${state.me} (${kind})`;
}

// Back to the enter form, with `message` saying why.
function leaveChat(message) {
  state.entered = false;
  conn.stop(message || undefined);
  state.creds = null;
  state.me = null;
  for (const room of state.rooms.values()) room.pane.el.remove();
  for (const conv of state.convs.values()) conv.pane.el.remove();
  state.rooms.clear();
  state.convs.clear();
  state.active = null;
  state.online.clear();
  state.blocked.clear();
  $('chat').hidden = true;
  $('logout').hidden = true;
  $('show-nav').hidden = true;
  $('show-people').hidden = true;
  $('whoami').hidden = true;
  $('enter').hidden = false;
  $('enter-error').textContent = message;
  $('enter-password').value = '';
  $('enter-confirm').value = '';
  $('enter-name').focus();
  updateTitle();
}

function handle(o) {
  switch (o.type) {
    case 'welcome':
      state.me = o.nick;
      break;
    case 'nick':
      renamed(o.old, o.new);
      break;
    case 'renamed':
      state.me = o.new;
      showWhoami();
      activePane()?.notice(`${o.old} is a registered name and its owner logged in; you are now ${o.new}`);
      break;
    case 'rooms':
      // Many rooms come a page at a time: gather the pages (by name, so a
      // page that comes twice counts once), then show them all.
      for (const info of o.rooms) roomPages.set(roomKey(info.name), info);
      if ((o.next ?? null) !== null) {
        request({ type: 'list', from: o.next }, { answers: (a) => a.type === 'rooms' });
      } else {
        setRoomList([...roomPages.values()]);
        roomPages.clear();
      }
      break;
    case 'joined':
      if (sameNick(o.nick, state.me)) joinedRoom(o);
      else someoneJoined(o);
      break;
    case 'left':
      if (sameNick(o.nick, state.me)) removeRoom(o.room);
      else someoneLeft(o);
      break;
    case 'dropped':
      $('rooms-note').textContent = `room ${o.room} was dropped by ${o.by}`;
      removeRoom(o.room);
      scheduleList();
      break;
    case 'topic':
      withRoom(o.room, (room) => {
        room.topic = o.text;
        roomSubtitle(room);
      });
      break;
    case 'message':
      withRoom(o.room, (room) => roomMessage(room, o));
      break;
    case 'deleted':
      withRoom(o.room, (room) => messageDeleted(room, o));
      break;
    case 'read':
      readMoved(o);
      break;
    case 'unread':
      // At login the rooms are not joined yet; joining tells it again.
      withRoom(o.room, (room) => roomUnread(room, o));
      break;
    case 'broadcast':
      broadcastHeard(o);
      break;
    case 'whisper':
      whispered(o);
      break;
    case 'kept':
      openConv(o.to).pane.notice(`${o.to} is offline; your message was kept and will be delivered when they log in`);
      break;
    case 'who':
      withRoom(o.room ?? '', (room) => {
        // A big room's members come a page at a time: the first page
        // starts the list, each later one adds to it and asks for the next.
        if (!room.whoPaging) room.members = new Map();
        for (const nick of o.members) room.members.set(nickKey(nick), nick);
        room.count = o.total ?? o.members.length;
        room.whoPaging = o.room !== null && (o.next ?? null) !== null;
        if (room.whoPaging) {
          const answers = (a) => a.type === 'who' && sameRoom(a.room, o.room);
          request({ type: 'who', room: o.room, from: o.next }, { answers });
        }
        for (const nick of o.members) state.online.set(nickKey(nick), nick);
        roomSubtitle(room);
        renderPeople();
      });
      break;
    case 'users':
      state.online = new Map(o.users.map((nick) => [nickKey(nick), nick]));
      renderPeople();
      renderConvs();
      break;
    case 'block':
      if (o.blocked) state.blocked.add(nickKey(o.nick));
      else state.blocked.delete(nickKey(o.nick));
      $('people-note').textContent = o.blocked ? `you now block ${o.nick}` : `you no longer block ${o.nick}`;
      renderPeople();
      break;
    case 'block_list':
      state.blocked = new Set(o.names.map(nickKey));
      renderPeople();
      break;
    case 'disconnected':
      someoneDisconnected(o);
      break;
    case 'idle_warning':
      // A page left open is still there: answer as an IRC client answers PING.
      refresh();
      break;
    case 'bye':
      // Logged out everywhere: the kept token was revoked with the rest.
      if (o.code === byes.logged_out) localStorage.removeItem(TOKEN_KEY);
      if (FINAL_BYES.has(o.code)) leaveChat(o.reason);
      break;
    default:
      break;
  }
}

// A server operator's word to everyone online: a notice in every open
// pane, so that it is seen whichever is on screen and still there on
// switching, and read out once to screen readers.
function broadcastHeard(o) {
  const text = `broadcast from ${o.from}: ${o.text}`;
  const owners = [...state.rooms.values(), ...state.convs.values()];
  for (const owner of owners) owner.pane.notice(text, 'broadcast');
  if (owners.length === 0) $('rooms-note').textContent = text;
  announce(text);
}

function renamed(old, now) {
  if (sameNick(old, state.me)) {
    state.me = now;
    showWhoami();
  }
  if (state.online.delete(nickKey(old))) state.online.set(nickKey(now), now);
  for (const room of state.rooms.values()) {
    if (room.members.delete(nickKey(old))) {
      room.members.set(nickKey(now), now);
      room.pane.notice(`${old} is now known as ${now}`);
    }
  }
  renderPeople();
  renderConvs();
}

function refresh() {
  request({ type: 'list' }, { answers: (o) => o.type === 'rooms' });
  request({ type: 'users' }, { answers: (o) => o.type === 'users' });
}

setInterval(() => {
  if (state.entered && conn.online) refresh();
}, REFRESH_EVERY_MS);

function setBlocked(nick, block) {
  $('people-error').textContent = '';
  request(
    { type: block ? 'block' : 'unblock', nick },
    {
      answers: (o) => o.type === 'block' && sameNick(o.nick, nick),
      onError: (error) => {
        $('people-error').textContent = error.message;
      },
    },
  );
}

function restorePanes() {
  let saved;
  try {
    saved = JSON.parse(localStorage.getItem(`chatd.panes.${nickKey(state.me)}`) ?? 'null');
  } catch {
    saved = null;
  }
  if (saved === null) return;
  state.wantActive = saved.active ?? null;
  for (const name of saved.rooms ?? []) join(name, { restoring: true });
  for (const nick of saved.convs ?? []) openConv(nick);
}

function setMode(mode) {
  const form = $('enter-form');
  form.querySelector('.for-account').hidden = mode === 'guest';
  form.querySelector('.for-register').hidden = mode !== 'register';
  form.querySelector('.for-guest').hidden = mode !== 'guest';
  $('enter-password').autocomplete = mode === 'register' ? 'new-password' : 'current-password';
  $('enter-submit').textContent = { login: 'Log in', register: 'Register', guest: 'Continue as guest' }[mode];
}

function setUp() {
  onSeen(seen);
  setUpPeople({
    whisper: (nick) => openConv(nick, { focus: true }),
    block: (nick) => setBlocked(nick, true),
    unblock: (nick) => setBlocked(nick, false),
  });
  const form = $('enter-form');
  let last = null;
  try {
    last = JSON.parse(localStorage.getItem('chatd.enter') ?? 'null');
  } catch {
    last = null;
  }
  if (last !== null) {
    $('enter-name').value = last.name ?? '';
    const mode = last.mode === 'guest' ? 'guest' : 'login';
    form.querySelector(`input[name=mode][value=${mode}]`).checked = true;
  }
  setMode(form.elements.mode.value);
  form.addEventListener('change', (event) => {
    if (event.target.name === 'mode') setMode(event.target.value);
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    $('enter-error').textContent = '';
    state.creds = {
      mode: form.elements.mode.value,
      name: $('enter-name').value.trim(),
      password: $('enter-password').value,
      confirm: $('enter-confirm').value,
    };
    $('enter-submit').disabled = true;
    if (conn.online) authenticate();
    else conn.start();
  });
  $('room-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $('room-name').value.trim();
    if (name === '') return;
    $('rooms-error').textContent = '';
    $('rooms-note').textContent = '';
    state.wantActive = `r:${roomKey(name)}`;
    if (event.submitter?.value === 'create') create(name);
    else join(name);
    $('room-name').value = '';
  });
  $('whisper-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $('whisper-name').value.trim();
    if (name === '') return;
    openConv(name, { focus: true });
    $('whisper-name').value = '';
  });
  $('logout').addEventListener('click', () => {
    const saved = savedToken();
    localStorage.removeItem(TOKEN_KEY);
    if (saved !== null) request({ type: 'revoke', session: saved.session }, { onError: () => {} });
    request({ type: 'quit' });
    leaveChat('');
  });
  $('show-nav').addEventListener('click', (event) => toggleDrawer('nav', event.currentTarget));
  $('show-people').addEventListener('click', (event) => toggleDrawer('people', event.currentTarget));
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && document.body.dataset.drawer) closeDrawers();
  });
  $('enter-name').focus();
  // A token from an earlier visit logs in without the form.
  const saved = savedToken();
  if (saved !== null) {
    state.creds = { mode: 'token', name: last?.name ?? '', token: saved.token };
    $('enter-submit').disabled = true;
    conn.start();
  }
}

setUp();
