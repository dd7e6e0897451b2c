// Read markers (chatcore/PROTOCOL.md, section 8.12): how far this account
// has read in each room and conversation, shared by all its devices.
//
// The page moves the marker when a room or conversation is on screen in a
// visible tab, to the newest message it has there: once things settle
// (a burst of messages sends one `read`), and only forward. When any
// device of the account moves it, the server tells every one of them, and
// the unread counts here shrink to what came after it.

import { renderConvs, renderRooms, updateTitle } from './nav.js';
import { nickKey, ownerOf, request, roomKey, sameNick, sameRoom, state } from './session.js';

// How long the page waits for messages to stop arriving before it says
// how far it has read.
const SETTLE_MS = 400;

// The `read`s waiting to be sent: pane key -> the newest number seen there
// while it was on screen (the reader may have moved on since; what was
// seen was still read).
const waiting = new Map();
let timer = null;

// Whether markers can be kept: only an account has them.
function keepsMarkers() {
  return state.entered && state.creds !== null && state.creds.mode !== 'guest';
}

// The newest message a room or conversation has on screen, by its number.
function newestShown(owner) {
  return owner.paneKey.startsWith('r:') ? owner.newest : owner.kept ? owner.newest : null;
}

// `owner` (a room or conversation) is on screen: its newest message has
// been seen. Sent a moment later, with whatever else was seen meanwhile,
// unless the marker has passed it by then.
export function seen(owner) {
  if (!keepsMarkers() || state.active !== owner.paneKey || document.hidden) return;
  const seq = newestShown(owner);
  if (seq === null || seq <= (owner.marker ?? 0)) return;
  waiting.set(owner.paneKey, seq);
  if (timer === null) timer = setTimeout(flush, SETTLE_MS);
}

function flush() {
  timer = null;
  for (const [paneKey, seq] of waiting) {
    const owner = ownerOf(paneKey);
    if (owner === undefined || seq <= (owner.marker ?? 0)) continue;
    if (paneKey.startsWith('r:') && !owner.joined) continue;
    // Counted as sent: the server's answer (a `read`) confirms it, and a
    // refusal (the store is failing, say) is tried again with the next.
    owner.marker = seq;
    const target = paneKey.startsWith('r:') ? { room: owner.name } : { with: owner.nick };
    request(
      { type: 'read', ...target, seq },
      {
        answers: (o) =>
          o.type === 'read' && (o.room !== undefined ? sameRoom(o.room, owner.name) : sameNick(o.with, owner.nick)),
        onError: () => {
          owner.marker = null;
        },
      },
    );
  }
  waiting.clear();
}

// The account's marker moved (here or on another device): what is at or
// before it is read here too.
export function readMoved(o) {
  if (typeof o.seq !== 'number') return;
  const owner = o.room !== undefined ? state.rooms.get(roomKey(o.room)) : state.convs.get(nickKey(o.with ?? ''));
  if (owner === undefined) return;
  owner.marker = Math.max(owner.marker ?? 0, o.seq);
  // Where the server has the marker, for anyone inspecting the page.
  owner.pane.el.dataset.read = String(o.seq);
  const before = owner.unread;
  if (owner.paneKey.startsWith('r:')) {
    // Unread counts whose messages are shown can be counted again; what is
    // not shown (not fetched yet) is left as it was counted, capped.
    const after = [...owner.pane.log.querySelectorAll('li.msg:not(.mine):not(.pending)')].filter(
      (li) => Number(li.dataset.order) > owner.marker,
    ).length;
    owner.unread = Math.min(owner.unread, after);
  } else if (owner.marker >= (owner.newest ?? 0)) {
    owner.unread = 0;
  }
  if (owner.unread !== before) {
    renderRooms();
    renderConvs();
    updateTitle();
  }
}
