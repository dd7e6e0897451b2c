// One pane per room or conversation: its messages in order, a button and
// scrolling up for older ones, a composer, and the errors its lines got.
//
// Messages are kept in the DOM sorted by `order` (a room message's `seq`, a
// whisper's time) and known by `id`, so a message that arrives twice (live,
// then again in a replay or a history page) is shown once, and older pages
// slot in above. Our own room messages are shown as sent before the server
// numbers them (it does not echo them back); they wait at the bottom,
// unnumbered, until app.js learns their `seq`.
//
// A room pane can also show where its unread messages start (a divider
// that the pane scrolls to until the reader has moved on), deleted
// messages in their place, and a button on our own messages to delete them.

import { el, formatTime, formatDateTime } from './dom.js';

const NEAR_TOP_PX = 40;
const NEAR_BOTTOM_PX = 40;

export class Pane {
  // `options`: key, kind ('room' or 'conv'), title, and callbacks send(text),
  // older() (fetch the page before the oldest shown), close(), and, where
  // our own messages can be deleted, remove(seq).
  constructor({ key, kind, title, send, older, close, remove }) {
    this.key = key;
    this.kind = kind;
    this.removeCallback = remove ?? null;
    // The "new since you left" line, and whether the pane should still
    // bring it into view rather than scroll to the newest message.
    this.dividerEl = null;
    this.holdDivider = false;
    this.byId = new Map();
    this.lastOrder = 0;
    this.loading = false;
    this.more = false;
    this.olderCallback = older;

    const headingId = `h-${key}`;
    this.heading = el('h2', { id: headingId }, title);
    this.subtitle = el('p', { className: 'subtitle' });
    const closeLabel = kind === 'room' ? 'Leave' : 'Close';
    const closeButton = el('button', { type: 'button', className: 'close' }, closeLabel);
    closeButton.setAttribute('aria-label', `${closeLabel} ${title}`);
    closeButton.addEventListener('click', close);
    this.olderButton = el('button', { type: 'button', className: 'older', hidden: true }, 'Load older messages');
    this.olderButton.addEventListener('click', () => this.requestOlder());
    this.log = el('ol', { className: 'log', role: 'log', tabIndex: 0 });
    this.log.setAttribute('aria-label', kind === 'room' ? `Messages in ${title}` : `Whispers with ${title}`);
    this.log.addEventListener('scroll', () => {
      if (this.log.scrollTop < NEAR_TOP_PX) this.requestOlder();
    });

    this.input = el('input', { autocomplete: 'off', maxLength: 2000, id: `in-${key}` });
    const label = el('label', { className: 'sr-only', htmlFor: this.input.id });
    label.textContent = kind === 'room' ? `Message to ${title}` : `Whisper to ${title}`;
    this.error = el('p', { className: 'error', role: 'alert' });
    const form = el('form', { className: 'composer' }, label, this.input, el('button', { type: 'submit' }, 'Send'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = this.input.value;
      if (text.trim() === '') return;
      if (send(text)) {
        this.input.value = '';
        // Whoever writes has read: the newest message matters now.
        this.holdDivider = false;
      }
    });

    this.el = el(
      'section',
      { className: `pane ${kind}`, hidden: true },
      el('header', { className: 'pane-head' }, el('div', {}, this.heading, this.subtitle), closeButton),
      this.olderButton,
      this.log,
      form,
      this.error,
    );
    this.el.setAttribute('aria-labelledby', headingId);
    this.el.dataset.key = key;
  }

  show() {
    this.el.hidden = false;
    this.scrollToBottom();
  }

  hide() {
    // Seen once is enough: coming back shows the newest again.
    if (!this.el.hidden && this.dividerEl !== null) this.holdDivider = false;
    this.el.hidden = true;
  }

  focus() {
    this.input.focus();
  }

  setSubtitle(text) {
    this.subtitle.textContent = text;
  }

  showError(message) {
    this.error.textContent = message;
  }

  clearError() {
    this.error.textContent = '';
  }

  has(id) {
    return this.byId.has(id);
  }

  // Adds a message unless one with its id is shown already; returns whether
  // it was new. `msg`: id, order, from, text, ts, mine, and optional note
  // (say, "while you were away").
  add(msg) {
    if (this.byId.has(msg.id)) return false;
    const li = this.render(msg);
    this.lastOrder = Math.max(this.lastOrder, msg.order);
    this.insert(li, msg.order);
    this.byId.set(msg.id, li);
    return true;
  }

  // Forgets every numbered message shown, keeping notices and our own
  // messages still waiting for a number: the room was made anew, and its
  // numbers start again.
  clear() {
    for (const li of this.log.querySelectorAll('li.msg:not(.pending)')) li.remove();
    this.byId.clear();
    this.lastOrder = 0;
  }

  // Shows our own room message before the server has numbered it.
  addPending(text, from) {
    const li = this.render({ from, text, ts: Date.now(), mine: true });
    li.classList.add('pending');
    this.insert(li, Infinity);
    return li;
  }

  // Our own messages still without a number, oldest first.
  pending() {
    return [...this.log.querySelectorAll('li.pending:not(.failed)')];
  }

  // The server numbered a pending message: it takes its place by number,
  // and the server's time if known.
  settle(li, id, order, ts) {
    li.classList.remove('pending');
    if (ts !== undefined) li.querySelector('time').replaceWith(timeElement(ts));
    this.byId.set(id, li);
    this.lastOrder = Math.max(this.lastOrder, order);
    this.insert(li, order);
  }

  // A pending message the server refused.
  fail(li) {
    li.classList.add('failed');
    li.append(el('span', { className: 'note' }, ' (not sent)'));
  }

  // A line of our own (joins, leaves, the connection) among the messages,
  // after the newest message so far; `className` sets a kind of notice apart.
  notice(text, className = '') {
    const li = el('li', { className: `notice ${className}`.trim() }, text);
    this.insert(li, this.lastOrder);
  }

  // Draws `text` as a divider just above message `order` (the first
  // unread), replacing an earlier one, and keeps it in view.
  divider(order, text) {
    this.dividerEl?.remove();
    this.dividerEl = el('li', { className: 'divider', role: 'separator' }, el('span', {}, text));
    this.dividerEl.setAttribute('aria-label', text);
    this.holdDivider = true;
    // Just before `order`, after everything older.
    this.insert(this.dividerEl, order - 0.5);
    this.scrollToBottom();
  }

  // A deleted message keeps its place; its text is gone.
  markDeleted(id) {
    const li = this.byId.get(id);
    if (li === undefined) return;
    li.classList.add('deleted');
    li.querySelector('.text').textContent = DELETED_TEXT;
    li.querySelector('button.delete')?.remove();
  }

  setMore(more) {
    this.more = more;
    this.olderButton.hidden = !more;
  }

  // While a page of older messages is on its way; screen readers are told
  // to wait for it rather than read each inserted message.
  setLoading(loading) {
    this.loading = loading;
    this.log.setAttribute('aria-busy', String(loading));
    this.olderButton.disabled = loading;
  }

  requestOlder() {
    if (this.more && !this.loading) this.olderCallback();
  }

  render({ from, text, ts, mine, note, deleted }) {
    const li = el(
      'li',
      { className: mine ? 'msg mine' : 'msg' },
      timeElement(ts),
      ' ',
      el('span', { className: 'from' }, from),
      ': ',
      el('span', { className: 'text' }, deleted ? DELETED_TEXT : text),
    );
    if (deleted) li.classList.add('deleted');
    if (note) li.append(el('span', { className: 'note' }, ` (${note})`));
    if (mine && !deleted && this.removeCallback !== null) li.append(this.deleteButton(li));
    return li;
  }

  // A button to delete one of our own messages, once the server has
  // numbered it (hidden by the style sheet until then, and until the line
  // is hovered or the button focused).
  deleteButton(li) {
    const button = el('button', { type: 'button', className: 'delete', title: 'Delete this message' }, '×');
    button.setAttribute('aria-label', 'Delete this message');
    button.addEventListener('click', () => {
      const seq = Number(li.dataset.order);
      if (!li.classList.contains('pending') && Number.isInteger(seq)) this.removeCallback(seq);
    });
    return button;
  }

  // Inserts `li` before the first message ordered after it (so equal orders
  // keep their arrival order), keeping the reader's place: at the bottom if
  // they were there, else at the same message when older ones go above.
  insert(li, order) {
    li.dataset.order = String(order);
    const log = this.log;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
    const heightBefore = log.scrollHeight;
    log.insertBefore(li, this.successor(li, order));
    if (atBottom) {
      this.scrollToBottom();
    } else if (li.offsetTop < log.scrollTop + NEAR_TOP_PX) {
      log.scrollTop += log.scrollHeight - heightBefore;
    }
  }

  // The first element ordered after `order`, or null to append. New
  // messages usually belong at the end, so that is checked first.
  successor(li, order) {
    const last = this.log.lastElementChild;
    if (last === null || order === Infinity || Number(last.dataset.order) <= order) return null;
    for (const other of this.log.children) {
      if (other !== li && Number(other.dataset.order) > order) return other;
    }
    return null;
  }

  // The newest message, or, while the reader has not moved on from it, the
  // "new since you left" divider at the top.
  scrollToBottom() {
    if (this.holdDivider && this.dividerEl !== null && !this.el.hidden) {
      const above = this.dividerEl.getBoundingClientRect().top - this.log.getBoundingClientRect().top;
      this.log.scrollTop += above - DIVIDER_MARGIN_PX;
      return;
    }
    this.log.scrollTop = this.log.scrollHeight;
  }
}

// What a deleted message shows instead of its text.
const DELETED_TEXT = '(message deleted)';
// Room left above the divider when it is scrolled into view.
const DIVIDER_MARGIN_PX = 8;

function timeElement(ts) {
  const date = new Date(ts);
  const time = el('time', { dateTime: date.toISOString(), title: formatDateTime(date) }, formatTime(date));
  return time;
}
