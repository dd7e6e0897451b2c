// What every part of the page shares: who we are, the rooms and
// conversations open, and sending requests whose answers find their way
// back to where they were made (requests.js).

import { Requests } from './requests.js';

export const $ = (id) => document.getElementById(id);
// Room names ignore case and a leading `#`; nicknames ignore case.
export const roomKey = (name) => name.replace(/^#/, '').toLowerCase();
export const nickKey = (nick) => nick.toLowerCase();
const isString = (value) => typeof value === 'string';
export const sameNick = (a, b) => isString(a) && isString(b) && nickKey(a) === nickKey(b);
export const sameRoom = (a, b) => isString(a) && isString(b) && roomKey(a) === roomKey(b);

export const state = {
  me: null, // our nickname
  creds: null, // { mode, name, password, confirm } or { mode: 'token', name, token }: how to get our name back
  entered: false, // past the enter form
  rooms: new Map(), // roomKey -> room (see rooms.js, joinedRoom)
  convs: new Map(), // nickKey -> conversation (see convs.js, openConv)
  active: null, // the pane on screen, as a pane key: `r:ROOMKEY` or `c:NICKKEY`
  wantActive: null, // a pane to show once it exists (after a join)
  online: new Map(), // nickKey -> nick
  blocked: new Set(), // nickKeys
  lostNoticeShown: false,
};

export const requests = new Requests();
let connection = null;

export function useConnection(conn) {
  connection = conn;
}

export function connected() {
  return connection !== null && connection.online;
}

// Sends `obj` with an id, and routes its answer or its error (see
// requests.js). The error goes to `onError`: the place on the page where
// the request was made. Returns the id, or false if it could not be sent.
export function request(obj, { answers, onReply, onError = showGeneralError } = {}) {
  const id = requests.add({ answers, onReply, onError });
  if (connection === null || !connection.send({ ...obj, id })) {
    requests.forget(id);
    onError({ code: 'offline', message: 'not connected; wait for the connection to come back' });
    return false;
  }
  return id;
}

// The room or conversation a pane key names.
export function ownerOf(paneKey) {
  if (paneKey === null) return undefined;
  return paneKey.startsWith('r:') ? state.rooms.get(paneKey.slice(2)) : state.convs.get(paneKey.slice(2));
}

export function activePane() {
  return ownerOf(state.active)?.pane ?? null;
}

export function activeRoom() {
  return state.active?.startsWith('r:') ? (state.rooms.get(state.active.slice(2)) ?? null) : null;
}

export function showGeneralError(error) {
  const pane = activePane();
  if (pane !== null) pane.showError(error.message);
  else if (state.entered) $('rooms-error').textContent = error.message;
  else $('enter-error').textContent = error.message;
}
