// Which of our requests a server line answers.
//
// The protocol has no request ids, but the server handles a client's lines
// in order and answers each before reading the next, so the answers come in
// the order the requests went out. Every request gets one answer or one
// error, except `say`, which succeeds in silence (the sender does not get
// its own message back). So: a line that answers a request settles it and
// every older one; an error belongs to the oldest request still open,
// passing over silent `say`s that cannot fail that way (they succeeded).

// The errors a `say` from this page can get (it always names the room and
// sends well-formed JSON). Anything else after a `say` was not its error.
const SAY_ERRORS = new Set([
  'flood',
  'in_lobby',
  'not_in_room',
  'control_character',
  'layout_character',
  'line_too_long',
  'storage_unavailable',
]);

export class Requests {
  constructor() {
    this.open = [];
  }

  // Tracks a request. `entry.answers(obj)` says whether a server object is
  // its answer (left out for `say`); `entry.onReply(obj)` and
  // `entry.onError(error)` are called when it is settled.
  add(entry) {
    this.open.push(entry);
  }

  // The connection is gone, and with it every answer still to come.
  clear() {
    this.open = [];
  }

  // Settles the request `obj` answers, if any, and every older one.
  reply(obj) {
    const i = this.open.findIndex((entry) => entry.answers !== undefined && entry.answers(obj));
    if (i < 0) return;
    const entry = this.open[i];
    this.open.splice(0, i + 1);
    entry.onReply?.(obj);
  }

  // Settles the request `error` answers; false if none was waiting, so the
  // caller shows it somewhere general.
  error(error) {
    while (this.open.length > 0) {
      const entry = this.open.shift();
      if (entry.answers === undefined && !SAY_ERRORS.has(error.code)) continue;
      entry.onError?.(error);
      return true;
    }
    return false;
  }
}
