// Which pane is on screen, the lists that lead to them with their unread
// counts, the people panel, and what is remembered across reloads.

import { el } from './dom.js';
import { People } from './people.js';
import { $, activeRoom, nickKey, ownerOf, state } from './session.js';

let people = null;

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
  people.render(members, [...state.online.values()], state.me);
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
    if (!document.hidden) owner.unread = 0;
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

function navItem(owner, label, extra) {
  const parts = [label];
  if (extra) parts.push(extra);
  if (owner.unread > 0) parts.push(`${owner.unread} unread`);
  const button = el(
    'button',
    { type: 'button', className: 'pane-link' },
    el('span', { className: 'name' }, label),
    owner.unread > 0 ? el('span', { className: 'badge', ariaHidden: 'true' }, String(owner.unread)) : null,
  );
  button.setAttribute('aria-label', parts.join(', '));
  if (state.active === owner.paneKey) button.setAttribute('aria-current', 'true');
  button.addEventListener('click', () => activate(owner.paneKey, true));
  return el('li', { className: owner.unread > 0 ? 'unread' : '' }, button);
}

export function renderRooms() {
  $('joined').replaceChildren(...[...state.rooms.values()].map((room) => navItem(room, room.name, `${room.count} here`)));
}

export function renderConvs() {
  $('convs').replaceChildren(
    ...[...state.convs.values()].map((conv) => {
      const online = state.online.has(nickKey(conv.nick));
      conv.pane.setSubtitle(online ? 'online' : 'offline');
      const item = navItem(conv, conv.nick, online ? 'online' : 'offline');
      item.querySelector('.name').prepend(el('span', { className: online ? 'dot online' : 'dot', ariaHidden: 'true' }));
      return item;
    }),
  );
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
