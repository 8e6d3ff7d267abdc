// Signing in and the connection of a signed-in page, shared by the agent
// console and the supervisor view: the sign-in form, `POST /v1/login`, the
// token kept in sessionStorage and renewed before it expires, one Wire to the
// agent endpoint with the token as a subprotocol (never in the URL), and
// signing out when the server refuses the token.
import { Wire, wsOrigin, el } from '/wire.js';
import { signInText } from '/texts.js';

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

/** The agent endpoint's URL: never the token (URLs end up in access logs). */
export function agentUrl(agent, lastSeq) {
  const q = new URLSearchParams({ agent });
  if (lastSeq) q.set('last_seq', String(lastSeq));
  return `${wsOrigin(location.href)}/v1/ws/agent?${q}`;
}

/** The subprotocols that carry the token: the server selects `switchboard`. */
export const tokenProtocols = (token) => ['switchboard', `bearer.${token}`];

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
      this.renewFailed(refusal);
    }
  }

  renewFailed(refusal) {
    // A network blip: try again shortly while the token still holds.
    const transient = refusal.code === 'network' || refusal.code === 'internal';
    if (transient && this.expiresAt - Date.now() > 1500) {
      this.timer = setTimeout(() => this.renew(), 1000);
      return;
    }
    this.onLost(refusal);
  }

  stop() {
    this.stopped = true;
    document.removeEventListener('visibilitychange', this.onVisible);
    clearTimeout(this.timer);
    this.timer = null;
  }
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
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submitSignIn(form, { button, problem, onSubmit });
  });
  return el('main', { class: 'signin' }, form);
}

async function submitSignIn(form, { button, problem, onSubmit }) {
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
}

/**
 * A page for a signed-in agent or supervisor: the sign-in form until a token
 * is held, then the page's own view and one Wire to the agent endpoint.
 *
 * options: `storeKey` (sessionStorage), `idPrefix` (command ids), `title`
 * and `subtitle` (the form), `admit(issued)` (throws a refusal to refuse a
 * role), `onStart(page)` (build the view), `onMessage(msg)`,
 * `onStatus(conn)` (connection changes), `onHold(hold)`, `onSignOut()`.
 * `page.store` is the page's sessionStorage record (`page.save()` writes it).
 */
export class SignedInPage {
  constructor(options) {
    this.options = options;
    this.store = loadStore(options.storeKey);
    this.client = null;
    this.keeper = null;
    this.conn = { status: 'connecting', detail: {} };
  }

  /** Signed in before (a reload) with a token still valid: reconnect at once, resuming after the last seq seen. */
  begin() {
    const { agent, auth } = this.store;
    if (agent && auth && auth.expiresAt > Date.now() + 1000) this.start(agent);
    else this.showSignIn(auth ? signInText({ code: 'token_expired' }) : undefined);
  }

  save() { saveStore(this.options.storeKey, this.store); }

  send(command, callback) { return this.client ? this.client.send(command, callback) : null; }

  get open() { return !!(this.client && this.client.open); }

  showSignIn(error) {
    const app = document.getElementById('app');
    app.replaceChildren(signInView({
      title: this.options.title, subtitle: this.options.subtitle, error,
      agent: this.store.agent || this.store.lastAgent,
      onSubmit: (form) => this.signIn(form),
    }));
    const field = app.querySelector('input[name="agent"]');
    if (field) field.focus();
  }

  async signIn({ agent, password }) {
    const issued = await login(agent, password);
    if (this.options.admit) this.options.admit(issued);
    this.store.auth = { token: issued.token, expiresAt: issued.expires_at };
    this.start(agent);
  }

  start(agent) {
    // Another agent's numbering and history mean nothing to this one.
    if (this.store.lastSeqFor !== agent) Object.assign(this.store, { lastSeq: 0, lastSeqFor: agent, events: [] });
    Object.assign(this.store, { agent, lastAgent: agent });
    this.save();
    this.options.onStart(this);
    this.keeper = this.keepToken();
    this.client = this.connect(agent);
    this.client.start();
  }

  keepToken() {
    return new TokenKeeper({
      ...this.store.auth,
      onToken: (fresh) => {
        this.store.auth = { token: fresh.token, expiresAt: fresh.expires_at };
        this.save();
        // The live connection takes the new token too (else it closes at the old one's expiry).
        this.send({ type: 'token', token: fresh.token });
      },
      onLost: (refusal) => this.signOut(signInText(refusal)),
    });
  }

  connect(agent) {
    const client = new Wire({
      idPrefix: this.options.idPrefix,
      lastSeq: this.store.lastSeq || 0,
      url: () => agentUrl(agent, client.lastSeq),
      protocols: () => tokenProtocols(this.store.auth.token),
      onMessage: this.options.onMessage,
      onStatus: (status, detail) => this.connectionChanged(status, detail),
      onPersist: (wire) => { this.store.lastSeq = wire.lastSeq; this.save(); },
      onHold: this.options.onHold,
    });
    return client;
  }

  connectionChanged(status, detail) {
    this.conn = { status, detail };
    // A final refusal (docs/protocol.md): the token or the account; the form says which.
    if (status === 'failed' && detail.reason !== 'replaced') {
      this.signOut(signInText({ code: detail.reason, message: detail.error && detail.error.message }));
      return;
    }
    if (this.options.onStatus) this.options.onStatus(this.conn);
  }

  /** Takes the connection back from a newer window of the same agent. */
  takeOver() {
    if (!this.client) return;
    this.client.stopped = false;
    this.client.connectNow();
  }

  signOut(error) {
    if (this.client) this.client.stop();
    this.client = null;
    if (this.keeper) this.keeper.stop();
    this.keeper = null;
    delete this.store.agent;
    delete this.store.auth;
    Object.assign(this.store, { lastSeq: 0, events: [] });
    this.save();
    if (this.options.onSignOut) this.options.onSignOut();
    this.showSignIn(error);
  }
}

function loadStore(key) {
  try { return JSON.parse(sessionStorage.getItem(key) || 'null') || {}; } catch (_) { return {}; }
}

function saveStore(key, value) {
  try { sessionStorage.setItem(key, JSON.stringify(value)); } catch (_) { /* private mode */ }
}
