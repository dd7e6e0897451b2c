// The people panel: who is in the room on screen and who else is online,
// each name a button that opens a whispered conversation, with a menu
// beside it to whisper or to block and unblock.

import { el } from './dom.js';

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
  // `online`: everyone online; `me`: our own nick, listed without actions.
  render(members, online, me) {
    const inRoom = new Set((members ?? []).map((n) => n.toLowerCase()));
    this.membersList.replaceChildren(...sorted(members ?? []).map((nick) => this.item(nick, me)));
    const others = sorted(online.filter((n) => !inRoom.has(n.toLowerCase())));
    const items = others.map((nick) => this.item(nick, me));
    this.onlineList.replaceChildren(...(items.length > 0 ? items : [el('li', { className: 'empty' }, 'nobody else')]));
    this.membersTitle.hidden = members === null;
    this.membersList.hidden = members === null;
  }

  // Everyone listed here is online: the dot says so at a glance.
  item(nick, me) {
    const blocked = this.actions.isBlocked(nick);
    const mine = nick.toLowerCase() === me?.toLowerCase();
    const name = el(
      'button',
      { type: 'button', className: 'person', disabled: mine },
      el('span', { className: 'dot online', ariaHidden: 'true' }),
      nick,
      mine ? el('span', { className: 'tag' }, 'you') : null,
      blocked ? el('span', { className: 'tag' }, 'blocked') : null,
    );
    name.title = mine ? 'you' : `Whisper to ${nick}`;
    name.addEventListener('click', () => this.actions.whisper(nick));
    if (mine) return el('li', {}, name);
    const more = el('button', { type: 'button', className: 'more', ariaHaspopup: 'menu', ariaExpanded: 'false' }, '⋯');
    more.setAttribute('aria-label', `Actions for ${nick}`);
    more.addEventListener('click', () => this.openMenu(nick, more));
    return el('li', {}, name, more);
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
