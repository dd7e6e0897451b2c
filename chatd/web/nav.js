// Which pane is on screen, the lists that lead to them with their unread
// counts, the people panel, and what is remembered across reloads.

import { el, renderKeyed } from './dom.js';
import { People } from './people.js';
import { $, activeRoom, connected, nickKey, ownerOf, state } from './session.js';

let people = null;
// Told of each room or conversation that comes on screen in a visible tab
// (markers.js moves the read marker), set by `onSeen`.
let seenHook = () => {};

export function onSeen(hook) {
  seenHook = hook;
}

// `actions` for the people panel's buttons (see people.js).
export function setUpPeople(actions) {
  people = new People({
    members: $('members'),
    membersTitle: $('members-title'),
    online: $('online'),
    menu: $('person-menu'),
    actions: { ...actions, isBlocked: (nick) => state.blocked.has(nickKey(nick)) },
  });
}

export function renderPeople() {
  const room = activeRoom();
  const members = room === null ? null : [...room.members.values()];
  people.render(members, [...state.online.values()], state.me, connected());
  $('members-title').textContent = room === null ? 'In this room' : `In ${room.name}`;
}

export function firstPaneKey() {
  const first = state.rooms.values().next().value ?? state.convs.values().next().value;
  return first?.paneKey ?? null;
}

export function activate(paneKey, focus = false) {
  ownerOf(state.active)?.pane.hide();
  state.active = paneKey;
  if (state.wantActive === paneKey) state.wantActive = null;
  $('no-pane').hidden = paneKey !== null;
  const owner = paneKey === null ? undefined : ownerOf(paneKey);
  if (owner !== undefined) {
    owner.pane.show();
    if (!document.hidden) {
      owner.unread = 0;
      seenHook(owner);
    }
    if (focus) owner.pane.focus();
  }
  closeDrawers();
  renderRooms();
  renderConvs();
  renderPeople();
  updateTitle();
  savePanes();
}

export function countUnread(owner) {
  if (state.active === owner.paneKey && !document.hidden) return;
  owner.unread += 1;
  if (owner.paneKey.startsWith('r:')) renderRooms();
  else renderConvs();
  updateTitle();
}

document.addEventListener('visibilitychange', () => {
  if (document.hidden || state.active === null) return;
  const owner = ownerOf(state.active);
  if (owner !== undefined) seenHook(owner);
  if (owner !== undefined && owner.unread > 0) {
    owner.unread = 0;
    renderRooms();
    renderConvs();
    updateTitle();
  }
});

export function updateTitle() {
  let total = 0;
  for (const owner of [...state.rooms.values(), ...state.convs.values()]) total += owner.unread;
  document.title = total > 0 ? `(${total}) chatd` : 'chatd';
}

// The nav lists' items, by pane key.
const roomItems = new Map();
const convItems = new Map();

function makeNavItem(owner) {
  const button = el('button', { type: 'button', className: 'pane-link' });
  button.addEventListener('click', () => activate(owner.paneKey, true));
  return el('li', {}, button);
}

// A room's or conversation's entry: its name, what to know about it
// (`extra`), and its unread count; `dot`: a presence dot, if any.
function updateNavItem(li, owner, label, extra, dot) {
  const button = li.firstElementChild;
  const parts = [label, extra];
  if (owner.unread > 0) parts.push(`${owner.unread} unread`);
  button.setAttribute('aria-label', parts.join(', '));
  if (state.active === owner.paneKey) button.setAttribute('aria-current', 'true');
  else button.removeAttribute('aria-current');
  button.replaceChildren(el('span', { className: 'name' }, dot, label));
  if (owner.unread > 0) button.append(el('span', { className: 'badge', ariaHidden: 'true' }, String(owner.unread)));
  li.className = owner.unread > 0 ? 'unread' : '';
}

export function renderRooms() {
  const rooms = [...state.rooms.values()].map((room) => [room.paneKey, room]);
  renderKeyed($('joined'), roomItems, rooms, makeNavItem, (li, room) =>
    updateNavItem(li, room, room.name, `${room.count} here`, null),
  );
}

export function renderConvs() {
  const convs = [...state.convs.values()].map((conv) => [conv.paneKey, conv]);
  renderKeyed($('convs'), convItems, convs, makeNavItem, (li, conv) => {
    const online = state.online.has(nickKey(conv.nick));
    conv.pane.setSubtitle(online ? 'online' : 'offline');
    const dot = el('span', { className: online ? 'dot online' : 'dot', ariaHidden: 'true' });
    updateNavItem(li, conv, conv.nick, online ? 'online' : 'offline', dot);
  });
}

export function announce(text) {
  $('announce').textContent = text;
}

// Which rooms and conversations were open, per name, so that a reload or a
// later visit comes back to them.
export function savePanes() {
  if (!state.entered || state.me === null) return;
  const saved = {
    rooms: [...state.rooms.values()].map((room) => room.name),
    convs: [...state.convs.values()].map((conv) => conv.nick),
    active: state.active,
  };
  localStorage.setItem(`chatd.panes.${nickKey(state.me)}`, JSON.stringify(saved));
}

export function closeDrawers() {
  delete document.body.dataset.drawer;
  $('show-nav').setAttribute('aria-expanded', 'false');
  $('show-people').setAttribute('aria-expanded', 'false');
}

export function toggleDrawer(name, button) {
  const open = document.body.dataset.drawer !== name;
  closeDrawers();
  if (open) {
    document.body.dataset.drawer = name;
    button.setAttribute('aria-expanded', 'true');
  }
}
