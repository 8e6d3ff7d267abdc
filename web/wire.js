// Switchboard wire client: one resilient WebSocket per page, speaking the v1
// protocol (docs/protocol.md). Shared by the widget, the agent console and the
// supervisor view. No dependencies.
//
// What it does for its user:
// - reconnects with exponential backoff and jitter after a drop;
// - remembers the highest `seq` processed and drops anything at or below it
//   (replays after a resume never show twice);
// - gives every command a fresh id, remembers the commands whose `ack`/`error`
//   it has not seen, and resends them with the same id after a reconnect
//   (the server answers a duplicate with `duplicate: true` and does not apply
//   it again);
// - treats "not now" as "try again later", never as a failure: a connection
//   refused with close code 1013 (`storage_unavailable`, `overloaded`) is
//   retried with backoff like a drop, and a command refused with
//   `storage_unavailable` (or `shutting_down`) is kept and sent again later
//   with the same id (commands sent meanwhile wait behind it, in order);
// - tells its user about connection states: connecting, open, retrying, closed,
//   and (`onHold`) while commands wait for the server to take them again.

/**
 * Close reasons (1008) after which reconnecting cannot help: the same URL or
 * token would be refused again (docs/protocol.md, Connection-level failures).
 * The Wire stops and reports `failed` with the reason; the page says so. Among
 * them every refusal of an agent's token (docs/security.md), after which the
 * page signs in again. Every other close (queue_full, rate_limited, 1013
 * overloaded or storage_unavailable, a drop) is retried with backoff.
 */
export const FATAL_REASONS = new Set([
  // The URL itself is wrong (e.g. the widget's data-priority="extreme"): the site must fix its page.
  'invalid_command', 'missing_group', 'unknown_group',
  'invalid_token', 'missing_agent', 'unknown_agent', 'replaced',
  // The same identifier or priority hash would be refused again: the site must fix its page.
  'identity_invalid', 'priority_invalid', 'time_zone_invalid',
  // The group is outside its service hours: it says when it opens; retrying before then is refused again.
  'group_closed',
  'token_missing', 'token_invalid', 'token_expired', 'token_not_yet_valid', 'agent_disabled', 'forbidden',
  // Discipline (docs/shifts.md): refused until the suspension ends or an admin reinstates them.
  'agent_suspended', 'agent_disqualified',
]);

/**
 * Refusals that mean "not now, try again later" (docs/protocol.md, Errors):
 * the server cannot save new work (its log cannot be written), or it is
 * stopping. A command refused so is not applied and is sent again later with
 * the same id; a connection refused so (an `error` then close 1013) is retried
 * with backoff. Neither is shown as a failure.
 */
export const TRY_LATER = new Set(['storage_unavailable', 'shutting_down']);

export class Wire {
  /**
   * @param {object} options
   * @param {() => string} options.url  the WebSocket URL for the next attempt (it may carry last_seq)
   * @param {() => string[]} [options.protocols]  WebSocket subprotocols to offer (an agent's token
   *   travels as `bearer.<token>`: browsers cannot set headers, and URLs end up in logs)
   * @param {(msg: object) => void} options.onMessage  every server message, in order, deduplicated by seq
   * @param {(status: string, detail?: object) => void} [options.onStatus]
   * @param {number} [options.lastSeq]  highest seq already processed (from storage)
   * @param {string} [options.idPrefix]
   * @param {Array} [options.pending]  commands sent before but never answered (from storage)
   * @param {(wire: Wire) => void} [options.onPersist]  called after lastSeq or pending change
   * @param {(hold: {code: string, delay: number, commands: number} | null) => void} [options.onHold]
   *   commands were refused "for now" and wait to be sent again (`null`: the server takes them again)
   */
  constructor(options) {
    this.options = options;
    this.lastSeq = options.lastSeq || 0;
    this.pending = new Map();
    for (const command of options.pending || []) this.pending.set(command.id, command);
    this.callbacks = new Map();
    // Commands refused "for now" (TRY_LATER) and those sent after them: sent
    // again, in order, when holdTimer fires (or on the next connection).
    this.held = new Set();
    this.holdTimer = null;
    this.holdAttempt = 0;
    this.holding = null;
    this.socket = null;
    this.attempt = 0;
    this.stopped = false;
    this.open = false;
    this.timer = null;
    this.counter = 0;
    this.idPrefix = options.idPrefix || 'x';
    this.pageId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    this.onOnline = () => { if (!this.open && !this.stopped) this.connectNow(); };
    window.addEventListener('online', this.onOnline);
    // Heartbeat: a ping every interval; no answer within the next interval
    // means the connection is dead even if TCP has not noticed (a laptop
    // lid, a lost Wi-Fi): drop it and reconnect.
    this.heartbeatMs = options.heartbeatMs || 25000;
    this.pingSentAt = 0;
    this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
  }

  beat() {
    if (!this.open || !this.socket) return;
    if (this.pingSentAt && performance.now() - this.pingSentAt > this.heartbeatMs) {
      const dead = this.socket;
      this.socket = null;
      this.open = false;
      this.pingSentAt = 0;
      try { dead.close(4000, 'no heartbeat'); } catch (_) { /* already gone */ }
      this.scheduleRetry({ reason: 'no_heartbeat' });
      return;
    }
    if (this.pingSentAt) return;
    this.pingSentAt = performance.now();
    this.send({ type: 'ping' }, () => { this.pingSentAt = 0; });
  }

  start() {
    this.stopped = false;
    this.connectNow();
  }

  connectNow() {
    clearTimeout(this.timer);
    this.timer = null;
    this.dropSocket();
    this.status('connecting', { attempt: this.attempt });
    this.pingSentAt = 0;
    let socket;
    try {
      const protocols = this.options.protocols ? this.options.protocols() : undefined;
      socket = new WebSocket(this.options.url(), protocols);
    } catch (error) {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    // What the server said about this connection before closing it: a final
    // refusal, or a "not now" one (close 1013 follows).
    const refused = { fatal: null, later: null };
    socket.onopen = () => { if (this.socket === socket) this.open = true; };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      let msg;
      try { msg = JSON.parse(event.data); } catch (_) { return; }
      if (msg && typeof msg.type === 'string') this.received(msg, refused);
    };
    socket.onclose = (event) => { if (this.socket === socket) this.closed(event, refused); };
    socket.onerror = () => { /* onclose follows */ };
  }

  dropSocket() {
    if (!this.socket) return;
    const old = this.socket;
    this.socket = null;
    try { old.close(1000); } catch (_) { /* already closed */ }
  }

  received(msg, refused) {
    if (msg.type === 'welcome') { this.welcomed(msg); return; }
    if (msg.type === 'error' && msg.id == null) {
      // The connection-level refusal that the close frame will name.
      if (FATAL_REASONS.has(msg.code)) refused.fatal = msg;
      // Refused for now (close 1013 follows): the retry status says so.
      if (TRY_LATER.has(msg.code)) { refused.later = msg; return; }
    }
    if (msg.type === 'error' && msg.id != null && TRY_LATER.has(msg.code)) { this.refusedForNow(msg); return; }
    if (msg.type === 'ack' && this.holding && this.pending.has(msg.id)) this.releasedHold();
    if ((msg.type === 'ack' || msg.type === 'error') && msg.id != null) this.answered(msg);
    if (typeof msg.seq === 'number') {
      if (msg.seq <= this.lastSeq) return; // replayed and already processed
      this.lastSeq = msg.seq;
      this.deliver(msg);
      this.persist();
      return;
    }
    this.deliver(msg);
  }

  welcomed(msg) {
    this.attempt = 0;
    // Answers to ephemeral commands sent on an older connection never come.
    for (const id of this.callbacks.keys()) if (!this.pending.has(id)) this.callbacks.delete(id);
    // A welcome whose last_seq is below ours: a server that keeps nothing
    // (storage.mode = "memory") restarted and numbering began again. (A
    // durable server's restart keeps the numbering: a plain resume.)
    if (typeof msg.last_seq === 'number' && msg.last_seq < this.lastSeq) this.lastSeq = 0;
    this.deliver(msg);
    this.status('open', msg);
    // Resend what was never answered, with the original ids, in order
    // (held commands too: the server took this connection, so it saves again).
    this.clearHold();
    for (const command of this.pending.values()) this.transmit(command);
  }

  /** A command refused "for now" (TRY_LATER): kept and sent again, or (ephemeral) dropped. */
  refusedForNow(msg) {
    if (this.pending.has(msg.id)) {
      this.hold(msg);
      return;
    }
    // An ephemeral command (a typing hint) is simply dropped, as when offline:
    // its own callback hears of it, the page is not told of a failure.
    const callback = this.callbacks.get(msg.id);
    this.callbacks.delete(msg.id);
    if (callback) callback(msg, null);
  }

  /** A command's ack or error: it is done; its callback hears of it. */
  answered(msg) {
    const command = this.pending.get(msg.id);
    this.pending.delete(msg.id);
    this.persist();
    const callback = this.callbacks.get(msg.id);
    this.callbacks.delete(msg.id);
    if (callback) callback(msg, command);
  }

  closed(event, refused) {
    this.socket = null;
    this.open = false;
    // The close frame's reason is the code (1008); an earlier error frame fills in when it is empty.
    const reason = event.reason || (refused.fatal && refused.fatal.code) || (refused.later && refused.later.code) || '';
    if (this.stopped) {
      this.status('closed', { code: event.code, reason });
      return;
    }
    if (event.code === 1008 && FATAL_REASONS.has(reason)) {
      this.stopped = true;
      this.status('failed', { code: event.code, reason, error: refused.fatal });
      return;
    }
    this.scheduleRetry({ code: event.code, reason });
  }

  /** A command refused "for now": keep it, and send it again after a backoff. */
  hold(msg) {
    this.held.add(msg.id);
    if (!this.holdTimer) {
      this.holdAttempt += 1;
      const base = Math.min(30000, 1000 * 2 ** Math.min(this.holdAttempt - 1, 5));
      const delay = Math.round(base / 2 + Math.random() * base / 2);
      this.holdTimer = setTimeout(() => this.resendHeld(), delay);
      this.holding = { code: msg.code, delay, commands: this.held.size };
    } else if (this.holding) {
      this.holding = { ...this.holding, commands: this.held.size };
    }
    this.notifyHold();
  }

  resendHeld() {
    this.holdTimer = null;
    if (!this.open) return; // the next welcome resends everything
    const due = [...this.pending.values()].filter((command) => this.held.has(command.id));
    this.held.clear();
    for (const command of due) this.transmit(command);
  }

  /** A command went through: the server saves again. */
  releasedHold() {
    if (this.held.size || this.holdTimer) return;
    this.clearHold();
  }

  clearHold() {
    clearTimeout(this.holdTimer);
    this.holdTimer = null;
    this.held.clear();
    this.holdAttempt = 0;
    if (!this.holding) return;
    this.holding = null;
    this.notifyHold();
  }

  notifyHold() {
    if (this.options.onHold) this.options.onHold(this.holding);
  }

  scheduleRetry(detail = {}) {
    this.attempt += 1;
    const base = Math.min(30000, 500 * 2 ** Math.min(this.attempt - 1, 6));
    const delay = Math.round(base / 2 + Math.random() * base / 2);
    this.status('retrying', { ...detail, attempt: this.attempt, delay });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connectNow(), delay);
  }

  deliver(msg) {
    try {
      this.options.onMessage(msg);
    } catch (error) {
      console.error('switchboard: handling', msg.type, error);
    }
  }

  status(status, detail) {
    if (this.options.onStatus) this.options.onStatus(status, detail || {});
  }

  persist() {
    if (this.options.onPersist) this.options.onPersist(this);
  }

  /** Unique for the session or agent, across page reloads too (a random part per page). */
  nextId() {
    this.counter += 1;
    return `${this.idPrefix}-${this.pageId}-${this.counter}`;
  }

  /**
   * Sends a command; `callback(answer, command)` gets its ack or error.
   * Commands are kept until answered and resent after a reconnect, except
   * ephemeral ones (typing, ping), which are simply dropped when offline.
   */
  send(fields, callback) {
    const command = { ...fields, id: this.nextId() };
    // Ephemeral commands are not worth resending: a typing hint, a probe, a read,
    // a renewed token (a new connection offers the newest token anyway).
    const ephemeral = ['typing', 'ping', 'snapshot', 'token'].includes(command.type);
    if (!ephemeral) {
      this.pending.set(command.id, command);
      this.persist();
    }
    if (callback) this.callbacks.set(command.id, callback);
    // Behind commands refused "for now", a new one waits its turn (order kept).
    if (!ephemeral && this.holdTimer) this.held.add(command.id);
    else if (this.open) this.transmit(command);
    return command;
  }

  transmit(command) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    try { this.socket.send(JSON.stringify(command)); } catch (_) { /* the close handler retries */ }
  }

  pendingCommands() {
    return [...this.pending.values()];
  }

  /** Closes for good (no reconnect). */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.holdTimer);
    this.holdTimer = null;
    clearInterval(this.heartbeat);
    window.removeEventListener('online', this.onOnline);
    if (this.socket) {
      try { this.socket.close(1000); } catch (_) { /* ignore */ }
    } else {
      this.status('closed', {});
    }
  }
}

/** The ws:// or wss:// origin matching an http(s) base URL. */
export function wsOrigin(base) {
  const url = new URL(base);
  return `${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}`;
}

/** Creates an element; `text` is always set with textContent (never HTML). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** "1:05" for 65 000 ms; "12:01:05" past an hour. */
export function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * One JSON request over HTTP (the ticket and records APIs): resolves to the
 * answer's JSON, rejects with `{code, message}` as the server refused it (or
 * `network` when it cannot be reached). `token`: sent as a bearer token.
 */
export async function requestJson(url, { method = 'GET', token, body } = {}) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url, { method, headers, body: body && JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
  } catch (_) {
    throw { code: 'network', message: 'the server cannot be reached' };
  }
  let answer = null;
  try { answer = await response.json(); } catch (_) { /* not JSON */ }
  if (response.ok && answer) return answer;
  throw { code: (answer && answer.code) || 'internal', message: (answer && answer.message) || `HTTP ${response.status}` };
}
