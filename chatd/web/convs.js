// Whispered conversations: one pane per person, with the whispers this
// page saw and, from a server that keeps them, the earlier ones.

import { errors } from './codes.js';
import { seen } from './markers.js';
import { activate, announce, countUnread, firstPaneKey, renderConvs, savePanes } from './nav.js';
import { Pane } from './panes.js';
import { $, connected, nickKey, request, sameNick, state } from './session.js';

export function openConv(nick, { focus = false } = {}) {
  const key = nickKey(nick);
  let conv = state.convs.get(key);
  if (conv === undefined) {
    // `newest` and `oldest`: the numbers of the newest whisper here and of
    // the oldest the server's pages reached; `kept`: whether it keeps them.
    conv = { nick, paneKey: `c:${key}`, unread: 0, newest: null, oldest: null, kept: true, marker: null };
    conv.pane = new Pane({
      key: conv.paneKey,
      kind: 'conv',
      title: nick,
      send: (text) => whisper(conv, text),
      older: () => fetchConvPage(conv, conv.oldest, null),
      close: () => closeConv(conv),
    });
    $('panes').append(conv.pane.el);
    state.convs.set(key, conv);
    if (state.entered && connected()) loadConv(conv);
    renderConvs();
    savePanes();
  }
  if (focus || state.active === null || state.wantActive === conv.paneKey) activate(conv.paneKey, focus);
  return conv;
}

function closeConv(conv) {
  conv.pane.el.remove();
  state.convs.delete(nickKey(conv.nick));
  if (state.active === conv.paneKey) activate(firstPaneKey());
  renderConvs();
  savePanes();
}

function whisper(conv, text) {
  conv.pane.clearError();
  return request(
    { type: 'msg', to: conv.nick, text },
    {
      answers: (o) =>
        (o.type === 'whisper' && sameNick(o.from, state.me) && sameNick(o.to, conv.nick)) ||
        (o.type === 'kept' && sameNick(o.to, conv.nick)),
      onError: (error) => {
        conv.pane.showError(error.message);
        if (conv.pane.input.value === '') conv.pane.input.value = text;
      },
    },
  );
}

export function whispered(o) {
  const mine = sameNick(o.from, state.me);
  const conv = openConv(mine ? o.to : o.from);
  const added = addWhisper(conv, o);
  if (added && !mine) {
    countUnread(conv);
    if (state.active !== conv.paneKey) announce(`whisper from ${o.from}: ${o.text}`);
  }
  if (added) seen(conv);
}

// Shows a whisper once: by its number in the conversation when it has one
// (whispers between accounts), else by sender, time and text.
function addWhisper(conv, m) {
  const mine = sameNick(m.from, state.me);
  const id = m.seq !== undefined ? `q${m.seq}` : `${nickKey(m.from)}|${m.ts}|${m.text}`;
  if (m.seq !== undefined) conv.newest = Math.max(conv.newest ?? 0, m.seq);
  const note = m.offline ? 'while you were away' : null;
  return conv.pane.add({ id, order: m.ts, from: m.from, text: m.text, ts: m.ts, mine, note });
}

// The errors of a server that keeps no whispers for this conversation: an
// older server, a guest, a name without an account. The conversation then
// shows only what this page saw, without complaint.
const NOT_KEPT = new Set([
  errors.usage,
  errors.unknown_command,
  errors.history_needs_account,
  errors.no_such_account,
]);

// The latest page of the conversation the server keeps and, back after a
// reconnect, the pages before it down to the newest whisper already here.
export function loadConv(conv) {
  fetchConvPage(conv, null, conv.newest);
}

// Pages back from `before` (null: the latest page) until the page holding
// `after` (null: just one page). Numbers in a conversation have gaps, so
// only a page that reaches `after` itself shows nothing is missing.
function fetchConvPage(conv, before, after) {
  if (!conv.kept) return;
  const obj = before === null ? { type: 'history', with: conv.nick } : { type: 'history', with: conv.nick, before };
  conv.pane.setLoading(true);
  request(obj, {
    answers: (o) => o.type === 'history' && sameNick(o.with, conv.nick),
    onReply: (page) => {
      conv.pane.setLoading(false);
      for (const m of page.messages) {
        const missed = after !== null && m.seq > after && !sameNick(m.from, state.me);
        if (addWhisper(conv, m) && missed) countUnread(conv);
      }
      seen(conv);
      if (page.oldest !== null && (conv.oldest === null || page.oldest < conv.oldest)) {
        conv.oldest = page.oldest;
        conv.pane.setMore(page.more);
      }
      if (after !== null && page.more && page.oldest !== null && page.oldest > after) {
        fetchConvPage(conv, page.oldest, after);
      }
    },
    onError: (error) => {
      conv.pane.setLoading(false);
      if (NOT_KEPT.has(error.code)) conv.kept = false;
      else conv.pane.showError(error.message);
    },
  });
}
