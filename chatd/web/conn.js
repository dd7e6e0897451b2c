// The connection to chatd: one WebSocket carrying the JSON Lines protocol,
// one object per text frame each way.
//
// It reconnects by itself with growing, jittered delays, so that a restarted
// server is not met by every page at the same instant. Outgoing lines go
// through a queue paced below the server's default flood allowance (a burst
// of 10, then 4 a second): the page's own traffic after a reconnect (log in,
// rejoin, page back through history) would otherwise be refused as a flood.

const BURST = 8;
const PER_SECOND = 3;
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;

export class Connection {
  // `handlers`: open() when a socket is up, message(obj) for each server
  // object, state(name, detail) whenever the state changes, and closed() when
  // a socket is gone (the queue of unsent lines is dropped with it: they
  // belonged to the old session).
  constructor(handlers) {
    this.handlers = handlers;
    this.socket = null;
    this.queue = [];
    this.tokens = BURST;
    this.refilled = performance.now();
    this.pumpTimer = null;
    this.retryTimer = null;
    this.delay = FIRST_DELAY_MS;
    this.wanted = false;
  }

  get online() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  // Connects, and keeps reconnecting after losses until stop().
  start() {
    this.wanted = true;
    if (this.socket === null && this.retryTimer === null) {
      this.open();
    }
  }

  // Closes for good: no reconnect until start() again.
  stop(reason) {
    if (!this.wanted && this.socket === null && this.retryTimer === null) return;
    this.wanted = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.socket !== null) {
      const socket = this.socket;
      this.socket = null;
      socket.close();
      this.dropQueue();
      this.handlers.closed();
    }
    this.handlers.state('stopped', reason);
  }

  // The session works: the next loss starts again from the shortest delay.
  // Not done on open alone, or a server that accepts and at once closes
  // (full, say) would be retried at the shortest delay for ever.
  established() {
    this.delay = FIRST_DELAY_MS;
  }

  // Queues `obj` to be sent; false if there is no connection to send it on.
  send(obj) {
    if (!this.online) {
      return false;
    }
    this.queue.push(JSON.stringify(obj));
    this.pump();
    return true;
  }

  open() {
    this.retryTimer = null;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/ws`);
    this.socket = socket;
    this.handlers.state('connecting');
    socket.addEventListener('open', () => {
      if (this.socket !== socket) return;
      this.tokens = BURST;
      this.refilled = performance.now();
      this.handlers.state('online');
      this.handlers.open();
    });
    socket.addEventListener('message', (event) => {
      if (this.socket !== socket) return;
      this.receive(event.data);
    });
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.dropQueue();
      this.handlers.closed();
      this.retry();
    });
  }

  receive(data) {
    if (typeof data !== 'string') return;
    // One object per frame, but a frame holding several lines costs nothing
    // to accept. The text welcome sent before the protocol is chosen is not
    // an object, and is all a page never needs.
    for (const line of data.split('\n')) {
      if (!line.trimStart().startsWith('{')) continue;
      let obj;
      try {
        obj = JSON.parse(line);
      } catch {
        continue;
      }
      this.handlers.message(obj);
    }
  }

  retry() {
    if (!this.wanted) {
      this.handlers.state('stopped');
      return;
    }
    const jitter = 0.8 + Math.random() * 0.4;
    const wait = Math.round(this.delay * jitter);
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    this.handlers.state('waiting', wait);
    this.retryTimer = setTimeout(() => this.open(), wait);
  }

  // Sends what the token bucket allows now, and comes back for the rest.
  pump() {
    clearTimeout(this.pumpTimer);
    this.pumpTimer = null;
    const now = performance.now();
    this.tokens = Math.min(BURST, this.tokens + ((now - this.refilled) / 1000) * PER_SECOND);
    this.refilled = now;
    while (this.queue.length > 0 && this.tokens >= 1 && this.online) {
      this.socket.send(this.queue.shift());
      this.tokens -= 1;
    }
    if (this.queue.length > 0) {
      const wait = ((1 - this.tokens) / PER_SECOND) * 1000;
      this.pumpTimer = setTimeout(() => this.pump(), Math.max(wait, 10));
    }
  }

  dropQueue() {
    clearTimeout(this.pumpTimer);
    this.pumpTimer = null;
    this.queue = [];
  }
}
