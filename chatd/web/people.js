// The people panel: who is in the room on screen and who else is online,
// each name a button that opens a whispered conversation, with a menu
// beside it to whisper or to block and unblock.

import { el, renderKeyed } from './dom.js';

export class People {
  // `actions`: whisper(nick), block(nick), unblock(nick), and isBlocked(nick).
  constructor({ members, membersTitle, online, menu, actions }) {
    this.membersList = members;
    this.membersTitle = membersTitle;
    this.onlineList = online;
    this.menu = menu;
    this.actions = actions;
    this.menuFor = null;
    this.menuButton = null;
    // The lists' items, by nick ('' for the line saying nobody else is on).
    this.memberItems = new Map();
    this.onlineItems = new Map();

    menu.addEventListener('click', (event) => {
      const item = event.target.closest('[role=menuitem]');
      if (item === null) return;
      const nick = this.menuFor;
      this.closeMenu(false);
      if (item.dataset.action === 'whisper') this.actions.whisper(nick);
      else if (item.dataset.action === 'block') this.actions.block(nick);
      else this.actions.unblock(nick);
    });
    menu.addEventListener('keydown', (event) => this.menuKey(event));
    document.addEventListener('click', (event) => {
      if (!menu.hidden && !menu.contains(event.target) && event.target !== this.menuButton) this.closeMenu(false);
    });
  }

  // `members`: the nicks in the room on screen (null for a conversation);
  // `online`: everyone online; `me`: our own nick, listed without actions;
  // `connected`: false while the connection is lost, when nobody's
  // presence is known.
  render(members, online, me, connected) {
    this.connected = connected;
    this.me = me;
    const inRoom = new Set((members ?? []).map((n) => n.toLowerCase()));
    const entries = (nicks) => sorted(nicks).map((nick) => [nick.toLowerCase(), nick]);
    const update = (li, nick) => this.update(li, nick);
    renderKeyed(this.membersList, this.memberItems, entries(members ?? []), () => this.make(), update);
    const others = entries(online.filter((n) => !inRoom.has(n.toLowerCase())));
    if (others.length === 0) others.push(['', null]);
    const make = (nick) => (nick === null ? el('li', { className: 'empty' }, 'nobody else') : this.make());
    renderKeyed(this.onlineList, this.onlineItems, others, make, (li, nick) => nick !== null && update(li, nick));
    this.membersTitle.hidden = members === null;
    this.membersList.hidden = members === null;
  }

  // A person's entry: the name, which opens a conversation, and a button
  // for the menu. The nick is read when clicked: it may have changed.
  make() {
    const name = el('button', { type: 'button', className: 'person' });
    const more = el('button', { type: 'button', className: 'more', ariaHaspopup: 'menu', ariaExpanded: 'false' }, '⋯');
    const li = el('li', {}, name, more);
    name.addEventListener('click', () => this.actions.whisper(li.dataset.nick));
    more.addEventListener('click', () => this.openMenu(li.dataset.nick, more));
    return li;
  }

  // Everyone listed here is online, as far as we know: the dot says so.
  update(li, nick) {
    li.dataset.nick = nick;
    const [name, more] = li.children;
    const mine = nick.toLowerCase() === this.me?.toLowerCase();
    name.replaceChildren(el('span', { className: this.connected ? 'dot online' : 'dot', ariaHidden: 'true' }), nick);
    if (mine) name.append(el('span', { className: 'tag' }, 'you'));
    if (this.actions.isBlocked(nick)) name.append(el('span', { className: 'tag' }, 'blocked'));
    name.disabled = mine;
    name.title = mine ? 'you' : `Whisper to ${nick}`;
    more.hidden = mine;
    more.setAttribute('aria-label', `Actions for ${nick}`);
  }

  openMenu(nick, button) {
    if (this.menuFor === nick && !this.menu.hidden) {
      this.closeMenu(true);
      return;
    }
    this.closeMenu(false);
    this.menuFor = nick;
    this.menuButton = button;
    const block = this.menu.querySelector('[data-action=block], [data-action=unblock]');
    const blocked = this.actions.isBlocked(nick);
    block.dataset.action = blocked ? 'unblock' : 'block';
    block.textContent = blocked ? `Unblock ${nick}` : `Block ${nick}`;
    this.menu.querySelector('[data-action=whisper]').textContent = `Whisper to ${nick}`;
    this.menu.setAttribute('aria-label', `Actions for ${nick}`);
    const box = button.getBoundingClientRect();
    this.menu.hidden = false;
    const width = this.menu.offsetWidth;
    this.menu.style.top = `${box.bottom + window.scrollY}px`;
    this.menu.style.left = `${Math.max(4, Math.min(box.right - width, window.innerWidth - width - 4))}px`;
    button.setAttribute('aria-expanded', 'true');
    this.menu.querySelector('[role=menuitem]').focus();
  }

  closeMenu(returnFocus) {
    if (this.menu.hidden) return;
    this.menu.hidden = true;
    this.menuButton?.setAttribute('aria-expanded', 'false');
    if (returnFocus) this.menuButton?.focus();
    this.menuFor = null;
  }

  // Arrow keys move between the items, Escape closes, as in any menu.
  menuKey(event) {
    const items = [...this.menu.querySelectorAll('[role=menuitem]')];
    const at = items.indexOf(document.activeElement);
    if (event.key === 'Escape') {
      this.closeMenu(true);
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      const step = event.key === 'ArrowDown' ? 1 : -1;
      items[(at + step + items.length) % items.length].focus();
    } else if (event.key === 'Tab') {
      this.closeMenu(false);
      return;
    } else {
      return;
    }
    event.preventDefault();
  }
}

function sorted(nicks) {
  return [...nicks].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
}
