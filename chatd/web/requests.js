// Which of our requests a server line answers.
//
// The protocol has no request ids, but the server handles a client's lines
// in order: each request is refused at once or accepted, and answers come
// in the order of the requests, with two exceptions.
//
// * A `say` succeeds in silence: the sender does not get its own message
//   back. Only an answer to a later request shows it went through.
// * Some answers come late, after those to later requests: a login or a
//   registration waits for the password check (its refusal too), and a
//   page of history older than the server keeps in memory is read from
//   its store (a refusal of the request still comes at once).
//
// So an answer settles its own request, and shows that every request
// before it was handled: a `say` went through, a late request was
// accepted and waits for its answer. An error belongs to the oldest
// request still open that could have got it.

// What each request that is not answered at once, in order, can get.
// `codes`: the only errors it can get; `late`: its answer may come after
// later ones; `lateErrors`: its errors too.
const AUTH = {
  late: true,
  lateErrors: true,
  codes: new Set([
    'login_failed',
    'locked_out',
    'password_mismatch',
    'password_too_short',
    'account_exists',
    'account_limit',
    'too_many_registrations',
    'auth_in_progress',
    'already_logged_in',
    'hash_failed',
    'account_busy',
    'server_busy',
    'nick_invalid',
    'storage_unavailable',
    'flood',
    'usage',
  ]),
};
const KINDS = {
  // The errors a `say` from this page can get: it always names the room
  // and sends well-formed JSON.
  say: {
    codes: new Set([
      'flood',
      'in_lobby',
      'not_in_room',
      'control_character',
      'layout_character',
      'line_too_long',
      'storage_unavailable',
    ]),
  },
  login: AUTH,
  register: AUTH,
  history: {
    late: true,
    codes: new Set([
      'flood',
      'usage',
      'unknown_command',
      'in_lobby',
      'not_in_room',
      'room_required',
      'history_needs_account',
      'no_such_account',
    ]),
  },
};

export class Requests {
  constructor() {
    this.open = [];
  }

  // Tracks a request of `type`. `answers(obj)` says whether a server
  // object is its answer (left out for `say`); `onReply(obj)` and
  // `onError(error)` are called when it is settled.
  add(type, { answers, onReply, onError }) {
    this.open.push({ ...KINDS[type], answers, onReply, onError, accepted: false });
  }

  // The connection is gone, and with it every answer still to come.
  clear() {
    this.open = [];
  }

  // Settles the request `obj` answers, if any.
  reply(obj) {
    const entry = this.open.find((e) => e.answers !== undefined && e.answers(obj));
    if (entry === undefined) return;
    this.settle(entry);
    entry.onReply?.(obj);
  }

  // Settles the request `error` answers; false if none could have got it,
  // so the caller shows it somewhere general.
  error(error) {
    const entry = this.open.find((e) => (!e.accepted || e.lateErrors) && (e.codes?.has(error.code) ?? true));
    if (entry === undefined) return false;
    this.settle(entry);
    entry.onError?.(error);
    return true;
  }

  // Removes `entry`; what was sent before it was handled: late requests
  // were accepted and wait for their answers, the rest are done.
  settle(entry) {
    const at = this.open.indexOf(entry);
    for (const before of this.open.slice(0, at)) before.accepted = true;
    this.open = this.open.filter((e, i) => i > at || (i < at && e.late));
  }
}
