// Which of our requests a server line answers.
//
// Each request carries an `id`, a number counting up on this page, and
// the server names it in every line the request causes us to get: its
// answers, its error, and an `ok` when it causes nothing else
// (chatcore/PROTOCOL.md, "Request ids"). An answer that comes late (a
// login waits for the password check, an old page for the store) names
// its request too. So nothing here guesses: a line settles the request
// it names, and a line that names none answers none of ours.

export class Requests {
  constructor() {
    this.open = new Map();
    this.next = 1;
  }

  // Tracks a request and returns the id to send with it. Of the lines
  // naming that id, `answers(obj)` says which one settles it (left out:
  // the first); `onReply(obj)` is called with it, `onError(error)` with
  // its error. An `ok` settles it without a reply.
  add({ answers, onReply, onError }) {
    const id = this.next;
    this.next += 1;
    this.open.set(id, { answers, onReply, onError });
    return id;
  }

  // The request was never sent.
  forget(id) {
    this.open.delete(id);
  }

  // The connection is gone, and with it every answer still to come.
  clear() {
    this.open.clear();
  }

  // Settles the request `obj` names, if `obj` is its answer.
  reply(obj) {
    const entry = this.open.get(obj.id);
    if (entry === undefined) return;
    if (obj.type !== 'ok' && entry.answers !== undefined && !entry.answers(obj)) return;
    this.open.delete(obj.id);
    if (obj.type !== 'ok') entry.onReply?.(obj);
  }

  // Settles the request `error` names; false if it names none of ours, so
  // the caller shows it somewhere general.
  error(error) {
    const entry = this.open.get(error.id);
    if (entry === undefined) return false;
    this.open.delete(error.id);
    entry.onError?.(error);
    return true;
  }
}
