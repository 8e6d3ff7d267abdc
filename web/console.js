// Switchboard agent console (/agent). Vanilla ES module; talks the v1 agent
// protocol (docs/protocol.md) through wire.js. All text from customers and
// other agents is set with textContent.
import { Wire, wsOrigin, el, formatDuration } from '/wire.js';

const STORE = 'switchboard.console';
/**
 * The server's default, used when its `welcome` does not say
 * (`handoff_note_min_chars`); the server has the last word (handoff_note_too_short).
 */
const HANDOFF_NOTE_MIN = 10;
const TYPING_SEND_EVERY = 3000;
const TYPING_SHOW_FOR = 5000;

// ---------------------------------------------------------------------------
// Helpers shared with the supervisor view.

export function toast(text, kind = 'info') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const node = el('div', { class: `toast toast-${kind}`, text, title: 'Click to dismiss', onclick: () => node.remove() });
  box.append(node);
  while (box.children.length > 4) box.firstChild.remove();
  setTimeout(() => node.remove(), kind === 'error' ? 9000 : 5000);
}

export function loadStore() {
  try { return JSON.parse(sessionStorage.getItem(STORE) || 'null') || {}; } catch (_) { return {}; }
}
export function saveStore(value) {
  try { sessionStorage.setItem(STORE, JSON.stringify(value)); } catch (_) { /* private mode */ }
}

/**
 * The server's business clock. Times in the protocol are business
 * milliseconds since the server started, and the clock may run faster than
 * real time (clock.scale). The agent's `welcome` says both the server's "now"
 * (`now_ms`) and the scale (`sync`); a server that does not send them leaves
 * us to estimate both from live messages that happen "now" (an assignment, a
 * reply warning).
 */
class BizClock {
  constructor() { this.first = null; this.last = null; this.scale = 1; this.lowerBound = 0; this.exact = false; }
  /** The server's own "now" and scale (from `welcome`): no more estimating. */
  sync(biz, scale) {
    if (typeof biz !== 'number' || !Number.isFinite(biz)) return;
    if (typeof scale === 'number' && Number.isFinite(scale) && scale > 0) { this.scale = scale; this.exact = true; }
    const sample = { biz, local: performance.now() };
    this.first = sample;
    this.last = sample;
    // A fresh "now" replaces older bounds (the server may have restarted: its clock starts again at 0).
    this.lowerBound = biz;
    this.lowerBoundLocal = sample.local;
  }
  observe(biz) {
    if (typeof biz !== 'number') return;
    // Synced: live times are past moments, at most a lower bound.
    if (this.exact) { this.bound(biz); return; }
    const sample = { biz, local: performance.now() };
    if (!this.first) this.first = sample;
    this.last = sample;
    const dl = sample.local - this.first.local;
    const db = sample.biz - this.first.biz;
    if (dl > 1500 && db > 0) this.scale = Math.min(100000, Math.max(0.05, db / dl));
    this.bound(biz);
  }
  /** A scale measured directly (business ms over local ms). */
  setScale(scale) { if (!this.exact && Number.isFinite(scale) && scale > 0.05) this.scale = Math.min(100000, scale); }
  bound(biz) {
    if (typeof biz === 'number' && biz > this.lowerBound) { this.lowerBound = biz; this.lowerBoundLocal = performance.now(); }
  }
  now() {
    // Before any live sample (e.g. right after a reload): at least the newest
    // time seen, moving on from when it was seen.
    if (!this.last) return this.lowerBound ? this.lowerBound + (performance.now() - this.lowerBoundLocal) * this.scale : null;
    return Math.max(this.lowerBound, this.last.biz + (performance.now() - this.last.local) * this.scale);
  }
}

export function connectionBadge(status, detail) {
  const seconds = Math.max(1, Math.round(((detail && detail.delay) || 0) / 1000));
  const text = {
    connecting: detail && detail.attempt ? 'Reconnecting…' : 'Connecting…',
    open: 'Connected',
    // The server cannot save new work for now (close 1013 storage_unavailable, or
    // commands refused with it): not a failure, everything is sent again by itself.
    retrying: detail && detail.reason === 'storage_unavailable'
      ? `Saving is temporarily unavailable; retrying in ${seconds} s`
      : `Connection lost, retrying in ${seconds} s`,
    held: 'Saving is temporarily unavailable; retrying…',
    failed: detail && detail.reason === 'replaced' ? 'Signed in elsewhere' : `Disconnected (${(detail && detail.reason) || 'error'})`,
    closed: 'Signed out',
  }[status] || status;
  const kind = status === 'open' ? 'ok' : status === 'failed' || status === 'closed' ? 'bad' : 'warn';
  return el('span', { class: `conn conn-${kind}`, role: 'status', 'data-status': status }, el('span', { class: 'dot', 'aria-hidden': 'true' }), text);
}

/**
 * The sign-in screen. `onSubmit({agent, password})` returns a promise; while
 * it runs the button is disabled, and if it rejects its text is shown.
 */
export function signInView({ title, subtitle, onSubmit, error, agent }) {
  const problem = el('p', { class: 'form-error', role: 'alert', hidden: !error, text: error || '' });
  const button = el('button', { class: 'btn btn-primary btn-block', type: 'submit', text: 'Sign in' });
  const form = el('form', { class: 'signin-card', 'aria-labelledby': 'signin-title' },
    el('div', { class: 'brand-mark', 'aria-hidden': 'true', text: 'S' }),
    el('h1', { id: 'signin-title', text: title }),
    el('p', { class: 'muted', text: subtitle }),
    problem,
    el('label', { class: 'field' }, el('span', { text: 'Agent ID' }),
      el('input', { name: 'agent', required: true, autocomplete: 'username', value: agent || '', autofocus: true, spellcheck: 'false' })),
    el('label', { class: 'field' }, el('span', { text: 'Password' }),
      el('input', { name: 'password', type: 'password', required: true, autocomplete: 'current-password' })),
    button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const id = String(data.get('agent') || '').trim();
    if (!id) return;
    button.disabled = true;
    button.textContent = 'Signing in…';
    try {
      await onSubmit({ agent: id, password: String(data.get('password') || '') });
    } catch (failure) {
      problem.textContent = signInText(failure);
      problem.hidden = false;
      form.elements.password.value = '';
      form.elements.password.focus();
    } finally {
      button.disabled = false;
      button.textContent = 'Sign in';
    }
  });
  return el('main', { class: 'signin' }, form);
}

/** The agent endpoint's URL: never the token (URLs end up in access logs). */
export function agentUrl(agent, lastSeq) {
  const q = new URLSearchParams({ agent });
  if (lastSeq) q.set('last_seq', String(lastSeq));
  return `${wsOrigin(location.href)}/v1/ws/agent?${q}`;
}

/** The subprotocols that carry the token: the server selects `switchboard`. */
export const tokenProtocols = (token) => ['switchboard', `bearer.${token}`];

/** What each sign-in and token refusal means to a person (docs/security.md). */
const SIGNIN_TEXT = {
  invalid_credentials: 'Wrong agent ID or password.',
  login_rate_limited: 'Too many sign-in attempts.',
  agent_disabled: 'This account has been disabled. Ask an admin.',
  token_expired: 'Your session has expired: sign in again.',
  token_invalid: 'Your session is no longer valid: sign in again.',
  token_missing: 'Sign in first.',
  token_not_yet_valid: 'Your sign-in is not valid yet: check this computer\'s clock.',
  unknown_agent: 'This account is not in the roster.',
  forbidden: 'This account may not do that.',
  login_disabled: 'Sign in through your company\'s sign-in page.',
  network: 'The server cannot be reached. Check your connection and try again.',
};

/** A refusal (`{code, message, retryAfter}`) as a sentence. */
export function signInText(failure) {
  const code = (failure && failure.code) || 'internal';
  const text = SIGNIN_TEXT[code] || `Sign-in failed: ${(failure && failure.message) || code}.`;
  return code === 'login_rate_limited' && failure.retryAfter ? `${text} Try again in ${failure.retryAfter} s.` : text;
}

/** `POST /v1/login`: resolves to `{token, expires_at, role}`, rejects with `{code, message}`. */
export function login(agent, password) {
  return authRequest('/v1/login', { body: JSON.stringify({ agent, password }) });
}

/** `POST /v1/token/renew` with the current token. */
export function renewToken(token) {
  return authRequest('/v1/token/renew', { headers: { Authorization: `Bearer ${token}` } });
}

async function authRequest(path, { body, headers = {} }) {
  let response;
  try {
    response = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body, cache: 'no-store', credentials: 'omit' });
  } catch (_) {
    throw { code: 'network', message: 'the server cannot be reached' };
  }
  let answer = null;
  try { answer = await response.json(); } catch (_) { /* not JSON */ }
  if (response.ok && answer && answer.token) return answer;
  const retryAfter = Number(response.headers.get('Retry-After')) || 0;
  throw { code: (answer && answer.code) || 'internal', message: (answer && answer.message) || `HTTP ${response.status}`, retryAfter };
}

/**
 * Keeps a token fresh: renews it a little before it expires (a third of
 * what is left, at most five minutes ahead: browsers delay the timers of a
 * background tab by up to a minute, and an agent's console often is one),
 * hands each new one to `onToken`, and calls `onLost(refusal)` when it
 * cannot be renewed any more.
 */
export class TokenKeeper {
  constructor({ token, expiresAt, onToken, onLost }) {
    Object.assign(this, { token, expiresAt, onToken, onLost, timer: null, stopped: false });
    // Back in front (or awake again): a late timer is re-armed from now at once.
    this.onVisible = () => { if (!document.hidden && this.timer) this.schedule(); };
    document.addEventListener('visibilitychange', this.onVisible);
    this.schedule();
  }

  schedule() {
    const left = this.expiresAt - Date.now();
    const lead = Math.min(5 * 60000, Math.max(1000, left / 3));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.renew(), Math.max(0, left - lead));
  }

  async renew() {
    this.timer = null; // in flight: nothing to re-arm until it answers
    try {
      const fresh = await renewToken(this.token);
      if (this.stopped) return; // signed out while the request was on its way
      this.token = fresh.token;
      this.expiresAt = fresh.expires_at;
      this.onToken(fresh);
      this.schedule();
    } catch (refusal) {
      if (this.stopped) return;
      // A network blip: try again shortly while the token still holds.
      const transient = refusal.code === 'network' || refusal.code === 'internal';
      if (transient && this.expiresAt - Date.now() > 1500) {
        this.timer = setTimeout(() => this.renew(), 1000);
        return;
      }
      this.onLost(refusal);
    }
  }

  stop() {
    this.stopped = true;
    document.removeEventListener('visibilitychange', this.onVisible);
    clearTimeout(this.timer);
    this.timer = null;
  }
}

export const FLAG_TEXT = {
  transfer_without_consent: 'Transfer to another group without the customer\'s consent',
  transfer_ping_pong: 'Transfer back and forth (ping-pong)',
  transfer_dumping_late_session: 'Transfer of a late session to offload it',
  transfer_too_many: 'Too many transfers of one session',
  break_while_customers_wait: 'Break while customers were waiting',
  break_after_assignment: 'Break right after an assignment',
  break_too_many: 'Too many breaks this shift',
  break_too_long: 'Breaks too long this shift',
  close_unanswered: 'Closed with the customer\'s message unanswered',
  close_unconfirmed: 'Closed as resolved without the customer\'s confirmation',
  disconnect_shedding: 'Repeated disconnects moved sessions to others',
};
export const SIGNAL_TEXT = {
  phone_request: 'asks for a phone call',
  abusive_language: 'abusive or agitated language',
  repeated_question: 'same question repeated',
  message_burst: 'many messages in a short time',
};
const STATE_TEXT = {
  available: 'Available', busy: 'Busy (full)', on_break: 'On break', disconnected: 'Disconnected', offline: 'Offline',
};
const CLOSE_REASONS = [
  ['resolved', 'Resolved'],
  ['customer_unresponsive', 'Customer unresponsive'],
  ['duplicate', 'Duplicate'],
  ['abusive', 'Abusive customer'],
  ['other', 'Other'],
];
const ENDED_TEXT = {
  agent_resolved: 'closed as resolved', agent_customer_unresponsive: 'closed: customer unresponsive',
  agent_duplicate: 'closed as duplicate', agent_abusive: 'closed: abusive', agent_other: 'closed',
  customer_left: 'the customer left', customer_idle: 'closed: customer idle', customer_lost: 'the customer\'s connection was lost',
};
const ERROR_TEXT = {
  handoff_note_missing: 'A handoff note is required.',
  handoff_note_too_short: 'The handoff note is too short.',
  handoff_note_too_long: 'The handoff note is too long.',
  target_agent_unavailable: 'That agent is offline, disconnected or on a break.',
  target_agent_full: 'That agent has no room for another session.',
  transfer_to_self: 'You cannot transfer a session to yourself.',
  unknown_agent: 'No agent with that ID.',
  unknown_group: 'No skill group with that ID.',
  consent_pending: 'A transfer is already waiting for the customer\'s consent.',
  open_sessions: 'Transfer or close your open sessions before going offline.',
  not_your_session: 'This session is not assigned to you any more.',
  session_closed: 'This session is closed.',
  message_too_long: 'The message is too long.',
  message_empty: 'The message is empty.',
  supervisor_cannot_serve: 'Supervisors do not take sessions.',
};
export const errorText = (msg) => ERROR_TEXT[msg.code] ? `${ERROR_TEXT[msg.code]} (${msg.code})` : `${msg.message || 'Refused'} (${msg.code})`;

// ---------------------------------------------------------------------------
// The console.

function main() {
  const app = document.getElementById('app');
  const store = loadStore();
  let client = null;
  let me = null; // { agent, name, role }
  let myState = null;
  const sessions = new Map(); // id -> session model
  let selected = null;
  const flags = [];
  const clock = new BizClock();
  const thresholds = { warn: 60000, late: 180000, fromServer: false };
  let noteMin = HANDOFF_NOTE_MIN;
  // Where a session may be transferred (the welcome's transfer_groups / transfer_agents).
  const directory = { groups: [], agents: [] };
  let conn = { status: 'connecting', detail: {} };
  let hold = null; // commands refused "for now" (storage_unavailable) wait to be sent again
  let replaying = false;


  let keeper = null; // renews the token before it expires

  function showSignIn(error) {
    app.replaceChildren(signInView({
      title: 'Agent console', subtitle: 'Sign in with your agent ID and password to start taking chats.',
      error, agent: store.agent || store.lastAgent,
      onSubmit: async ({ agent, password }) => {
        const issued = await login(agent, password);
        store.auth = { token: issued.token, expiresAt: issued.expires_at };
        start(agent);
      },
    }));
    const field = app.querySelector('input[name="agent"]');
    if (field) field.focus();
  }

  function start(agent) {
    store.agent = agent;
    store.lastAgent = agent;
    if (store.lastSeqFor !== agent) { store.lastSeq = 0; store.lastSeqFor = agent; }
    saveStore(store);
    buildShell();
    hold = null;
    keeper = new TokenKeeper({
      ...store.auth,
      onToken: (fresh) => {
        store.auth = { token: fresh.token, expiresAt: fresh.expires_at };
        saveStore(store);
        // The live connection takes the new token too (else it closes at the old one's expiry).
        if (client) client.send({ type: 'token', token: fresh.token });
      },
      onLost: (refusal) => signOut(signInText(refusal)),
    });
    client = new Wire({
      idPrefix: 'a',
      lastSeq: store.lastSeq || 0,
      url: () => agentUrl(agent, client.lastSeq),
      protocols: () => tokenProtocols(store.auth.token),
      onMessage: handle,
      onStatus: (status, detail) => {
        conn = { status, detail };
        if (status === 'failed' && detail.reason !== 'replaced') {
          signOut(signInText({ code: detail.reason, message: detail.error && detail.error.message }));
          return;
        }
        renderTop();
      },
      onPersist: (wire) => { store.lastSeq = wire.lastSeq; saveStore(store); },
      onHold: (info) => { hold = info; renderTop(); },
    });
    client.start();
  }

  // Signing out goes offline first: the server refuses while chats are open
  // (hand them over first), so nobody is left waiting on a closed window.
  function requestSignOut() {
    if (!client || !client.open || myState === 'offline') { signOut(); return; }
    client.send({ type: 'set_availability', state: 'offline' }, (answer) => {
      if (answer.type === 'error') { toast(`Cannot sign out yet: ${errorText(answer)}`, 'error'); return; }
      signOut();
    });
  }

  function signOut(error) {
    if (client) client.stop();
    client = null;
    if (keeper) keeper.stop();
    keeper = null;
    delete store.agent;
    delete store.auth;
    store.lastSeq = 0;
    saveStore(store);
    sessions.clear();
    flags.length = 0;
    selected = null;
    showSignIn(error);
  }

  // ---- the shell ---------------------------------------------------------
  let top; let list; let pane; let flagList; let sessionCount;
  function buildShell() {
    top = el('header', { class: 'topbar' });
    sessionCount = el('span', { class: 'count', text: '0' });
    list = el('ul', { class: 'session-list', 'aria-label': 'Assigned sessions' });
    flagList = el('ul', { class: 'flag-list', 'aria-label': 'Conduct flags against you' });
    pane = el('section', { class: 'pane', 'aria-label': 'Conversation' });
    app.replaceChildren(top, el('main', { class: 'layout' },
      el('aside', { class: 'sidebar' },
        el('h2', { class: 'side-title' }, 'Sessions ', sessionCount),
        list,
        el('h2', { class: 'side-title' }, 'Conduct flags'),
        flagList),
      pane));
    renderTop();
    renderList();
    renderPane();
    renderFlags();
  }

  function renderTop() {
    if (!top) return;
    const state = myState || 'offline';
    const button = (value, label) => el('button', {
      type: 'button', class: `seg ${activeAvailability(state) === value ? 'is-active' : ''}`,
      'aria-pressed': String(activeAvailability(state) === value), 'data-availability': value, text: label,
      onclick: () => setAvailability(value),
    });
    top.replaceChildren(...[
      el('div', { class: 'brand' }, el('span', { class: 'brand-mark small', 'aria-hidden': 'true', text: 'S' }), el('span', { text: 'Switchboard' })),
      el('div', { class: 'who' },
        el('strong', { class: 'me-name', text: me ? me.name : store.agent }),
        el('span', { class: `state-pill state-${state}`, 'data-state': state, text: STATE_TEXT[state] || state })),
      el('div', { class: 'segmented', role: 'group', 'aria-label': 'Availability' },
        button('available', 'Available'), button('break', 'Break'), button('offline', 'Offline')),
      el('div', { class: 'spacer' }),
      hold && conn.status === 'open' ? connectionBadge('held', hold) : connectionBadge(conn.status, conn.detail),
      conn.status === 'failed' && conn.detail.reason === 'replaced'
        ? el('button', { class: 'btn', type: 'button', text: 'Use this window', onclick: () => { client.stopped = false; client.connectNow(); } })
        : null,
      el('button', { class: 'btn btn-quiet', type: 'button', text: 'Sign out', onclick: () => requestSignOut() }),
    ].filter(Boolean));
  }
  const activeAvailability = (state) => (state === 'available' || state === 'busy' ? 'available' : state === 'on_break' ? 'break' : state === 'offline' ? 'offline' : null);

  function setAvailability(value) {
    if (!client) return;
    if (value === 'break') { openBreakDialog(); return; }
    client.send({ type: 'set_availability', state: value }, (answer) => {
      if (answer.type === 'error') toast(errorText(answer), 'error');
    });
  }

  // ---- protocol ----------------------------------------------------------
  function handle(msg) {
    switch (msg.type) {
      case 'welcome':
        me = { agent: msg.agent, name: msg.name, role: msg.role };
        replaying = !!msg.resumed;
        learnFromWelcome(msg);
        if (msg.role === 'supervisor') {
          toast('You are a supervisor: opening the supervisor view.');
          client.stop();
          location.assign('/supervisor');
          return;
        }
        break;
      case 'state': {
        replaying = false;
        myState = msg.state;
        const keep = new Map(sessions);
        sessions.clear();
        for (const view of msg.sessions || []) sessions.set(view.session, model(view, keep.get(view.session)));
        if (selected != null && !sessions.has(selected)) selected = null;
        if (selected == null && sessions.size) selected = sessions.keys().next().value;
        renderTop(); renderList(); renderPane();
        break;
      }
      case 'state_changed':
        myState = msg.state;
        renderTop(); renderList(); renderPane();
        break;
      case 'session_assigned': {
        if (!replaying) clock.observe(msg.session.assigned_at_ms);
        const s = model(msg.session, sessions.get(msg.session.session));
        sessions.set(s.id, s);
        if (selected == null) selected = s.id;
        if (s.notes.length) toast(`Session #${s.id} transferred to you with a handoff note.`);
        else toast(`New chat #${s.id} assigned (${s.group}).`);
        renderList(); renderPane();
        break;
      }
      case 'customer_message': {
        const s = sessions.get(msg.session);
        if (!s) break;
        const now = replaying ? null : clock.now();
        s.history.push({ at_ms: now, from: 'customer', text: msg.text });
        if (s.clockSince == null) { s.clockSince = now; s.clockLocal = performance.now(); s.level = 'ok'; }
        s.typingUntil = 0;
        if (selected !== s.id) s.unread += 1;
        renderList();
        if (selected === s.id) renderPane(); else flashTitle();
        break;
      }
      case 'customer_typing': {
        const s = sessions.get(msg.session);
        if (!s) break;
        s.typingUntil = Date.now() + TYPING_SHOW_FOR;
        setTimeout(() => { if (selected === s.id) renderTyping(); }, TYPING_SHOW_FOR + 50);
        if (selected === s.id) renderTyping();
        break;
      }
      case 'reply_warning':
      case 'slow_reply': {
        const s = sessions.get(msg.session);
        if (!s) break;
        const late = msg.type === 'slow_reply';
        if (!replaying && s.clockSince != null && !clock.exact) {
          clock.observe(s.clockSince + msg.waited_ms);
          if (s.clockLocal != null && performance.now() - s.clockLocal > 200) clock.setScale(msg.waited_ms / (performance.now() - s.clockLocal));
        }
        if (!thresholds.fromServer) { if (late) thresholds.late = msg.waited_ms; else thresholds.warn = msg.waited_ms; }
        if (s.clockSince == null) s.clockSince = clock.now() != null ? clock.now() - msg.waited_ms : null;
        s.level = late ? 'late' : (s.level === 'late' ? 'late' : 'warn');
        s.history.push({ from: 'system', kind: late ? 'late' : 'warn', text: late
          ? `Slow reply: ${formatDuration(msg.waited_ms)} without a reply. A service violation was recorded.`
          : `Reply now: the customer has waited ${formatDuration(msg.waited_ms)}. Send at least a holding reply.` });
        if (!late) toast(`Session #${s.id}: the customer has waited ${formatDuration(msg.waited_ms)}, reply now.`, 'warn');
        else toast(`Session #${s.id}: slow reply recorded.`, 'error');
        renderList(); if (selected === s.id) renderPane();
        break;
      }
      case 'consent_outcome': {
        const s = sessions.get(msg.session);
        if (!s) break;
        s.consentPending = null;
        const text = { accepted: 'The customer accepted the transfer.', declined: 'The customer declined the transfer; the chat stays with you.', timed_out: 'The customer did not answer the transfer request; the chat stays with you.' }[msg.outcome] || msg.outcome;
        s.history.push({ from: 'system', text });
        if (selected === s.id) renderPane();
        break;
      }
      case 'resolve_answer': {
        const s = sessions.get(msg.session);
        if (!s) break;
        s.resolved = msg.resolved;
        s.history.push({ from: 'system', kind: msg.resolved ? 'good' : 'warn', text: msg.resolved ? 'The customer confirmed the problem is resolved.' : 'The customer says the problem is not resolved yet.' });
        if (selected === s.id) renderPane();
        break;
      }
      case 'priority_raised': {
        const s = sessions.get(msg.session);
        if (!s) break;
        s.priority = msg.priority;
        s.signals.push(msg.signal);
        s.history.push({ from: 'system', kind: 'warn', text: `Complaint tendency: the customer ${SIGNAL_TEXT[msg.signal] || msg.signal}. Attend to this chat first.` });
        renderList(); if (selected === s.id) renderPane();
        break;
      }
      case 'session_ended': {
        sessions.delete(msg.session);
        const why = msg.why || {};
        const text = why.kind === 'transferred'
          ? `Session #${msg.session} transferred to ${why.target.kind} ${why.target.id}.`
          : `Session #${msg.session} ended: ${ENDED_TEXT[why.reason] || why.reason}.`;
        toast(text);
        if (selected === msg.session) selected = sessions.size ? sessions.keys().next().value : null;
        renderList();
        renderPane();
        break;
      }
      case 'conduct_flagged':
        flags.unshift(msg.flag);
        if (flags.length > 50) flags.pop();
        toast(`Conduct flag: ${FLAG_TEXT[msg.flag.kind] || msg.flag.kind}`, 'error');
        renderFlags();
        break;
      case 'error':
        if (msg.id == null) toast(errorText(msg), 'error');
        break;
      case 'shutdown':
        toast('The server is restarting; reconnecting…', 'warn');
        break;
      default:
        break;
    }
  }

  // The optional parts of the agent's welcome (older servers leave them out: keep the fallbacks).
  function learnFromWelcome(msg) {
    if (typeof msg.now_ms === 'number') clock.sync(msg.now_ms, msg.scale);
    if (msg.reply_warning_ms > 0 && msg.reply_violation_ms > 0) {
      thresholds.warn = msg.reply_warning_ms;
      thresholds.late = msg.reply_violation_ms;
      thresholds.fromServer = true;
    }
    if (Number.isInteger(msg.handoff_note_min_chars) && msg.handoff_note_min_chars >= 0) noteMin = msg.handoff_note_min_chars;
    if (Array.isArray(msg.transfer_groups)) directory.groups = msg.transfer_groups.filter((g) => g && typeof g.id === 'string');
    if (Array.isArray(msg.transfer_agents)) directory.agents = msg.transfer_agents.filter((a) => a && typeof a.id === 'string' && (!me || a.id !== me.agent));
  }

  // "✓ verified · user-42" or "(unverified)": whether the name can be trusted.
  function identityTag(s) {
    return s.verified
      ? el('span', { class: 'tag tag-verified', 'data-identity': 'verified', title: 'Verified by the site the customer came from', text: `✓ verified · ${s.customerId}` })
      : el('span', { class: 'tag tag-unverified', 'data-identity': 'unverified', title: 'The name is what the customer typed: not verified', text: '(unverified)' });
  }

  function model(view, previous) {
    const clockSince = view.reply_clock_since_ms ?? view.unanswered_since_ms ?? null;
    for (const entry of view.history || []) clock.bound(entry.at_ms);
    clock.bound(view.assigned_at_ms);
    const s = {
      id: view.session,
      group: view.group,
      customer: view.customer_name || (view.verified && view.customer_id) || `Customer #${view.session}`,
      // Verified: the host site vouched for this customer (HMAC of its id).
      // Otherwise the name is only what the customer typed: marked as such.
      verified: view.verified === true,
      customerId: view.verified === true ? view.customer_id || null : null,
      priority: view.priority || 'normal',
      // The server's history, then our own replies it has not answered yet
      // (sent again after a reconnect) or refused: those exist only here.
      history: [...(view.history || []).map((h) => ({ ...h })),
        ...(previous ? previous.history.filter((h) => h.state === 'sending' || h.state === 'failed') : [])],
      notes: view.notes || [],
      assignedAt: view.assigned_at_ms,
      clockSince,
      clockLocal: null,
      level: 'ok',
      unread: previous ? previous.unread : 0,
      draft: previous ? previous.draft : '',
      signals: previous ? previous.signals : [],
      consentPending: previous ? previous.consentPending : null,
      resolved: previous ? previous.resolved : null,
      typingUntil: 0,
    };
    if (clockSince != null && previous && previous.clockSince != null) s.level = previous.level;
    return s;
  }

  function levelOf(s) {
    if (s.clockSince == null) return 'ok';
    const now = clock.now();
    const computed = now == null ? 'ok' : now - s.clockSince >= thresholds.late ? 'late' : now - s.clockSince >= thresholds.warn ? 'warn' : 'ok';
    const rank = { ok: 0, warn: 1, late: 2 };
    return rank[computed] > rank[s.level] ? computed : s.level;
  }
  function timerText(s) {
    if (s.clockSince == null) return 'Replied';
    const now = clock.now();
    if (now == null) return 'Waiting';
    return formatDuration(now - s.clockSince);
  }

  // ---- session list --------------------------------------------------------
  function renderList() {
    if (!list) return;
    sessionCount.textContent = String(sessions.size);
    const ordered = [...sessions.values()].sort((a, b) => priorityRank(b) - priorityRank(a) || a.assignedAt - b.assignedAt);
    list.replaceChildren(...ordered.map((s) => {
      const last = [...s.history].reverse().find((h) => h.from !== 'system');
      const level = levelOf(s);
      return el('li', {},
        el('button', {
          type: 'button', class: `session-item ${selected === s.id ? 'is-selected' : ''} level-${level}`,
          'aria-current': selected === s.id ? 'true' : null, 'data-session': String(s.id),
          onclick: () => select(s.id),
        },
        el('span', { class: 'session-top' },
          el('span', { class: 'session-name', text: s.customer }),
          el('span', { class: `timer timer-${level}`, 'data-timer': String(s.id), 'data-level': level, text: timerText(s) })),
        el('span', { class: 'session-meta' },
          identityTag(s),
          el('span', { class: 'tag', text: s.group }),
          s.priority !== 'normal' ? el('span', { class: `tag tag-${s.priority}`, text: s.priority }) : null,
          s.notes.length ? el('span', { class: 'tag tag-note', text: 'transferred' }) : null,
          s.unread ? el('span', { class: 'unread', text: `${s.unread} new`, 'aria-label': `${s.unread} unread` }) : null),
        el('span', { class: 'session-last', text: last ? `${last.from === 'customer' ? '' : 'You: '}${last.text}` : 'No messages yet' })));
    }));
    if (!sessions.size) list.append(el('li', { class: 'empty', text: myState === 'available' ? 'Waiting for the next chat…' : 'Go available to receive chats.' }));
  }
  const priorityRank = (s) => ({ urgent: 2, high: 1 }[s.priority] || 0);

  function select(id) {
    const s = sessions.get(id);
    if (!s) return;
    selected = id;
    s.unread = 0;
    renderList();
    renderPane();
    const box = pane.querySelector('textarea');
    if (box) box.focus();
  }

  // Live timers: refresh the timer labels without rebuilding anything.
  setInterval(() => {
    for (const s of sessions.values()) {
      const level = levelOf(s);
      for (const node of document.querySelectorAll(`[data-timer="${s.id}"]`)) {
        node.textContent = timerText(s);
        if (node.dataset.level !== level) {
          node.dataset.level = level;
          node.className = `timer timer-${level}`;
          const item = node.closest('.session-item');
          if (item) item.className = item.className.replace(/level-\w+/, `level-${level}`);
        }
      }
    }
  }, 250);

  let titleTimer = null;
  function flashTitle() {
    if (document.hasFocus()) return;
    clearInterval(titleTimer);
    let on = false;
    titleTimer = setInterval(() => {
      on = !on;
      document.title = on ? '● New message · Switchboard' : 'Switchboard · Agent console';
      if (document.hasFocus()) { clearInterval(titleTimer); document.title = 'Switchboard · Agent console'; }
    }, 1000);
  }

  // ---- the conversation pane -------------------------------------------------
  let typingNode = null;
  const composers = new WeakMap();
  function renderPane() {
    if (!pane) return;
    const s = selected != null ? sessions.get(selected) : null;
    if (!s) {
      typingNode = null;
      pane.replaceChildren(el('div', { class: 'pane-empty' },
        el('p', { class: 'pane-empty-title', text: sessions.size ? 'Select a chat' : 'No open chats' }),
        el('p', { class: 'muted', text: myState === 'available' || myState === 'busy' ? 'New chats appear on the left as they are assigned to you.' : 'Set yourself Available to receive chats.' })));
      return;
    }
    const level = levelOf(s);
    const head = el('div', { class: 'pane-head' },
      el('div', { class: 'pane-title' },
        el('h1', { text: s.customer }),
        el('p', { class: 'muted' }, `#${s.id} · ${s.group} `, identityTag(s), s.priority !== 'normal' ? el('span', { class: `tag tag-${s.priority}`, text: s.priority }) : null)),
      el('span', { class: `timer timer-big timer-${level}`, 'data-timer': String(s.id), 'data-level': level, 'aria-label': 'Reply timer', text: timerText(s) }),
      el('div', { class: 'pane-actions' },
        el('button', { class: 'btn', type: 'button', text: 'Ask resolved', onclick: () => askResolved(s) }),
        el('button', { class: 'btn', type: 'button', text: 'Transfer…', onclick: () => openTransferDialog(s) }),
        el('button', { class: 'btn btn-danger-quiet', type: 'button', text: 'Close…', onclick: () => openCloseDialog(s) })));

    const notes = s.notes.length ? el('section', { class: 'notes', 'aria-label': 'Handoff notes' },
      el('h2', { text: s.notes.length > 1 ? `Handoff notes (${s.notes.length} transfers)` : 'Handoff note' }),
      ...s.notes.map((n) => el('div', { class: 'note' },
        el('div', { class: 'note-head' }, el('strong', { text: n.from }), ` → ${n.target.kind} ${n.target.id}`, el('span', { class: 'muted', text: ` · ${formatBiz(n.at_ms)}` })),
        el('p', { class: 'note-text', text: n.text })))) : null;

    const history = el('div', { class: 'history', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages', tabindex: '0' },
      ...s.history.map((h) => historyNode(h)));
    typingNode = el('div', { class: 'typing', 'aria-live': 'polite' });

    // The reply box outlives the pane's other parts: rebuilt on every message, it
    // would drop a half-typed IME composition (Chinese input) and the undo history.
    const composer = composerFor(s);
    if (pane.lastChild === composer) {
      while (pane.firstChild !== composer) pane.firstChild.remove();
      composer.before(...[head, notes, history, typingNode].filter(Boolean));
    } else {
      pane.replaceChildren(...[head, notes, history, typingNode, composer].filter(Boolean));
    }
    history.scrollTop = history.scrollHeight;
    renderTyping();
  }

  /** The composer of a session (quick replies, the reply box), built once per session. */
  function composerFor(s) {
    if (composers.has(s)) return composers.get(s);
    const box = el('textarea', { name: 'reply', rows: '2', placeholder: 'Write a reply… (Enter to send, Shift+Enter for a new line)', 'aria-label': `Reply to ${s.customer}`, maxlength: '5000' });
    box.value = s.draft || '';
    let lastTyping = 0;
    box.addEventListener('input', () => {
      s.draft = box.value;
      if (box.value.trim() && Date.now() - lastTyping > TYPING_SEND_EVERY) {
        lastTyping = Date.now();
        client.send({ type: 'typing', session: s.id });
      }
    });
    const form = el('form', { class: 'reply' }, box, el('button', { class: 'btn btn-primary', type: 'submit', text: 'Send' }));
    box.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = box.value.trim();
      if (!text) return;
      reply(s, text);
      box.value = '';
      s.draft = '';
      box.focus();
    });
    const holding = el('div', { class: 'quick' },
      el('span', { class: 'muted', text: 'Quick replies:' }),
      ...['Thanks for waiting, let me check that for you.', 'Your question has been passed to the right colleague, please wait.'].map((text) =>
        el('button', { type: 'button', class: 'chip', text, onclick: () => { box.value = text; s.draft = text; box.focus(); } })));
    const composer = el('div', { class: 'composer' }, holding, form);
    composers.set(s, composer);
    return composer;
  }

  function renderTyping() {
    const s = selected != null ? sessions.get(selected) : null;
    if (!typingNode || !s) return;
    typingNode.textContent = Date.now() < s.typingUntil ? `${s.customer} is typing…` : '';
  }

  function historyNode(h) {
    if (h.from === 'system') return el('div', { class: `line system ${h.kind ? `system-${h.kind}` : ''}`, text: h.text });
    const mine = h.from === 'agent';
    return el('div', { class: `line ${mine ? 'agent' : 'customer'} ${h.state ? `is-${h.state}` : ''}` },
      el('span', { class: 'line-who', text: mine ? (h.agent && me && h.agent !== me.agent ? h.agent : 'You') : 'Customer' }),
      el('p', { class: 'bubble', text: h.text }),
      h.state === 'failed' ? el('span', { class: 'line-error', text: h.error }) : null,
      h.at_ms != null ? el('span', { class: 'line-time', text: formatBiz(h.at_ms) }) : null);
  }

  // A business-clock time as the wall-clock time it happened here (HH:MM).
  function formatBiz(ms) {
    const now = clock.now();
    if (typeof ms !== 'number' || now == null) return '';
    const at = new Date(Date.now() - Math.max(0, now - ms) / clock.scale);
    return at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  // ---- commands --------------------------------------------------------------
  function reply(s, text) {
    const entry = { at_ms: clock.now(), from: 'agent', agent: me && me.agent, text, state: 'sending' };
    s.history.push(entry);
    client.send({ type: 'reply', session: s.id, text }, (answer) => {
      // A reconnect in between rebuilds the session from the server's `state`
      // (keeping this entry while it is unanswered): update the current one.
      const now = sessions.get(s.id) || s;
      if (answer.type === 'ack') {
        entry.state = null;
        // A duplicate was applied before a reconnect (its ack was lost), so the
        // server's history in the `state` after that reconnect already shows it.
        const i = now.history.indexOf(entry);
        if (answer.duplicate && i >= 0 && now.history.some((h, j) => j !== i && h.from === 'agent' && !h.state && h.text === entry.text)) {
          now.history.splice(i, 1);
        }
        if (!answer.duplicate) { now.clockSince = null; now.clockLocal = null; now.level = 'ok'; }
      } else { entry.state = 'failed'; entry.error = errorText(answer); }
      renderList(); if (selected === s.id) renderPane();
    });
    renderList(); renderPane();
  }

  function askResolved(s) {
    client.send({ type: 'ask_resolved', session: s.id }, (answer) => {
      if (answer.type === 'error') { toast(errorText(answer), 'error'); return; }
      s.history.push({ from: 'system', text: 'You asked the customer whether the problem is resolved.' });
      if (selected === s.id) renderPane();
    });
  }

  // ---- dialogs ---------------------------------------------------------------
  function dialog(title, body, { onClose } = {}) {
    const node = el('dialog', { class: 'dialog', 'aria-labelledby': 'dialog-title' },
      el('h2', { id: 'dialog-title', text: title }), body);
    node.addEventListener('close', () => { node.remove(); if (onClose) onClose(); });
    document.body.append(node);
    node.showModal();
    return node;
  }

  function openTransferDialog(s) {
    // The server's list first (with display names), then groups seen in sessions and notes.
    const groupOptions = new Map(directory.groups.map((g) => [g.id, g.name && g.name !== g.id ? g.name : '']));
    for (const x of sessions.values()) if (!groupOptions.has(x.group)) groupOptions.set(x.group, '');
    for (const n of s.notes) if (n.target.kind === 'group' && !groupOptions.has(n.target.id)) groupOptions.set(n.target.id, '');
    const err = el('p', { class: 'form-error', role: 'alert', hidden: true });
    const counter = el('span', { class: 'counter', 'aria-live': 'polite' });
    const note = el('textarea', { name: 'note', rows: '5', required: true, maxlength: '2000', 'aria-describedby': 'note-help note-counter',
      placeholder: 'What the customer asked, what you found, what the next handler must do.' });
    counter.id = 'note-counter';
    const target = el('input', { name: 'target', required: true, list: 'group-options', autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. logistics' });
    const datalist = el('datalist', { id: 'group-options' }, ...[...groupOptions].map(([id, name]) => el('option', { value: id, label: name || null })));
    const agentList = el('datalist', { id: 'agent-options' }, ...directory.agents.map((a) => el('option', {
      value: a.id, label: [a.name && a.name !== a.id ? a.name : null, (a.groups || []).join(', ') || null].filter(Boolean).join(' · ') || null })));
    const kindGroup = el('input', { type: 'radio', name: 'kind', value: 'group', checked: true });
    const kindAgent = el('input', { type: 'radio', name: 'kind', value: 'agent' });
    const targetLabel = el('span', { text: 'Skill group ID' });
    const holding = el('input', { type: 'checkbox', name: 'holding', checked: true });
    const submit = el('button', { class: 'btn btn-primary', type: 'submit', text: 'Transfer', disabled: true });
    const update = () => {
      const length = note.value.trim().length;
      counter.textContent = length >= noteMin ? `${length} characters` : `${length} / ${noteMin} characters minimum`;
      counter.classList.toggle('counter-ok', length >= noteMin);
      submit.disabled = length < noteMin || !target.value.trim();
      targetLabel.textContent = kindAgent.checked ? 'Agent ID' : 'Skill group ID';
      target.placeholder = kindAgent.checked ? 'e.g. bob' : 'e.g. logistics';
      target.setAttribute('list', kindAgent.checked ? 'agent-options' : 'group-options');
    };
    for (const input of [note, target, kindGroup, kindAgent]) input.addEventListener('input', update);
    const form = el('form', { class: 'dialog-form', method: 'dialog' },
      el('fieldset', { class: 'radios' }, el('legend', { text: 'Transfer to' }),
        el('label', {}, kindGroup, ' A skill group'), el('label', {}, kindAgent, ' A colleague')),
      el('label', { class: 'field' }, targetLabel, target), datalist, agentList,
      el('label', { class: 'field' }, el('span', { text: 'Handoff note (required)' }), note),
      el('p', { id: 'note-help', class: 'help muted', text: 'Say what the customer asked, what you found, and what the next handler must do.' }),
      counter,
      el('label', { class: 'check' }, holding, ' First tell the customer: "Your question has been passed to the right colleague, please wait."'),
      el('p', { class: 'help muted', text: 'Moving the chat to another skill group asks the customer for consent first.' }),
      err,
      el('div', { class: 'dialog-actions' },
        el('button', { class: 'btn', type: 'button', text: 'Cancel', onclick: () => node.close() }),
        submit));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = note.value.trim();
      if (text.length < noteMin) return;
      submit.disabled = true;
      err.hidden = true;
      const to = { kind: kindAgent.checked ? 'agent' : 'group', id: target.value.trim() };
      const doTransfer = () => client.send({ type: 'transfer', session: s.id, to, note: text }, (answer) => {
        if (answer.type === 'error') {
          err.textContent = errorText(answer);
          err.hidden = false;
          submit.disabled = false;
          return;
        }
        if (to.kind === 'group' && to.id !== s.group) {
          s.consentPending = to.id;
          s.history.push({ from: 'system', text: `Transfer to ${to.id} requested; waiting for the customer's consent.` });
        } else s.history.push({ from: 'system', text: `Transfer to ${to.kind} ${to.id} sent.` });
        node.close();
        if (selected === s.id) renderPane();
      });
      if (holding.checked && !holdingSent.has(s.id)) {
        holdingSent.add(s.id);
        reply(s, 'Your question has been passed to the right colleague, please wait.');
      }
      doTransfer();
    });
    const node = dialog(`Transfer chat #${s.id}`, form);
    node.classList.add('transfer-dialog');
    update();
    target.focus();
  }
  const holdingSent = new Set();

  function openCloseDialog(s) {
    const reason = el('select', { name: 'reason' }, ...CLOSE_REASONS.map(([value, label]) => el('option', { value, text: label })));
    const warn = el('p', { class: 'form-warn', role: 'status' });
    const err = el('p', { class: 'form-error', role: 'alert', hidden: true });
    const update = () => {
      const notes = [];
      if (s.clockSince != null) notes.push('The customer\'s last message is unanswered: closing now is recorded as a conduct flag.');
      if (reason.value === 'resolved' && s.resolved !== true) notes.push('The customer has not confirmed the problem is resolved: use "Ask resolved" first, or the close is flagged.');
      warn.textContent = notes.join(' ');
      warn.hidden = !notes.length;
    };
    reason.addEventListener('change', update);
    const form = el('form', { class: 'dialog-form' },
      el('label', { class: 'field' }, el('span', { text: 'Reason' }), reason), warn, err,
      el('div', { class: 'dialog-actions' },
        el('button', { class: 'btn', type: 'button', text: 'Cancel', onclick: () => node.close() }),
        el('button', { class: 'btn btn-danger', type: 'submit', text: 'Close chat' })));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      client.send({ type: 'close', session: s.id, reason: reason.value }, (answer) => {
        if (answer.type === 'error') { err.textContent = errorText(answer); err.hidden = false; return; }
        node.close();
      });
    });
    const node = dialog(`Close chat #${s.id}`, form);
    update();
    reason.focus();
  }

  function openBreakDialog() {
    const reason = el('input', { name: 'reason', required: true, maxlength: '200', list: 'break-reasons', placeholder: 'e.g. lunch' });
    const err = el('p', { class: 'form-error', role: 'alert', hidden: true });
    const form = el('form', { class: 'dialog-form' },
      el('label', { class: 'field' }, el('span', { text: 'Reason for the break' }), reason),
      el('datalist', { id: 'break-reasons' }, ...['Lunch', 'Rest', 'Restroom', 'Meeting', 'Training'].map((v) => el('option', { value: v }))),
      el('p', { class: 'help muted', text: 'You keep your open chats; no new chats are assigned to you. Breaks that keep customers waiting are recorded.' }),
      err,
      el('div', { class: 'dialog-actions' },
        el('button', { class: 'btn', type: 'button', text: 'Cancel', onclick: () => node.close() }),
        el('button', { class: 'btn btn-primary', type: 'submit', text: 'Start break' })));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = reason.value.trim();
      if (!text) return;
      client.send({ type: 'set_availability', state: 'break', reason: text }, (answer) => {
        if (answer.type === 'error') { err.textContent = errorText(answer); err.hidden = false; return; }
        node.close();
      });
    });
    const node = dialog('Take a break', form);
    reason.focus();
  }

  // ---- conduct flags -----------------------------------------------------------
  function renderFlags() {
    if (!flagList) return;
    flagList.replaceChildren(...flags.map((f) => el('li', { class: 'flag' },
      el('span', { class: 'flag-kind', text: FLAG_TEXT[f.kind] || f.kind }),
      el('span', { class: 'muted small', text: `${f.category.replace(/_/g, ' ')}${f.session != null ? ` · chat #${f.session}` : ''} · ${formatBiz(f.at_ms)}` }))));
    if (!flags.length) flagList.append(el('li', { class: 'empty', text: 'None this session. Keep it that way.' }));
  }

  // Signed in before (a reload) with a token still valid: reconnect at once,
  // resuming after the last seq seen.
  if (store.agent && store.auth && store.auth.expiresAt > Date.now() + 1000) start(store.agent);
  else showSignIn(store.auth ? signInText({ code: 'token_expired' }) : undefined);

  // Debug and test hook.
  window.switchboardConsole = { sessions: () => [...sessions.values()].map((s) => ({ ...s })), clock };
}

if (!document.body.classList.contains('supervisor')) main();
