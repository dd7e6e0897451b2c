// One pane per room or conversation: its messages in order, a button and
// scrolling up for older ones, a composer, and the errors its lines got.
//
// Messages are kept in the DOM sorted by `order` (a room message's `seq`, a
// whisper's time) and known by `id`, so a message that arrives twice (live,
// then again in a replay or a history page) is shown once, and older pages
// slot in above. Our own room messages are shown as sent before the server
// numbers them (it does not echo them back); they wait at the bottom,
// unnumbered, until app.js learns their `seq`.

import { el, formatTime, formatDateTime } from './dom.js';

const NEAR_TOP_PX = 40;
const NEAR_BOTTOM_PX = 40;

export class Pane {
  // `options`: key, kind ('room' or 'conv'), title, and callbacks send(text),
  // older() (fetch the page before the oldest shown) and close().
  constructor({ key, kind, title, send, older, close }) {
    this.key = key;
    this.kind = kind;
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
      if (send(text)) this.input.value = '';
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
  // after the newest message so far.
  notice(text) {
    const li = el('li', { className: 'notice' }, text);
    this.insert(li, this.lastOrder);
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

  render({ from, text, ts, mine, note }) {
    const li = el(
      'li',
      { className: mine ? 'msg mine' : 'msg' },
      timeElement(ts),
      ' ',
      el('span', { className: 'from' }, from),
      ': ',
      el('span', { className: 'text' }, text),
    );
    if (note) li.append(el('span', { className: 'note' }, ` (${note})`));
    return li;
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

  scrollToBottom() {
    this.log.scrollTop = this.log.scrollHeight;
  }
}

function timeElement(ts) {
  const date = new Date(ts);
  const time = el('time', { dateTime: date.toISOString(), title: formatDateTime(date) }, formatTime(date));
  return time;
}
