// Switchboard supervisor view (/supervisor). A supervisor connects on the agent
// endpoint (role "supervisor"); the page asks for a `snapshot` (every skill
// group and agent at a glance) every couple of seconds and at once after each
// alert, and shows the alerts (alert_slow_reply, alert_conduct_flagged,
// alert_complaint_tendency) as a live feed.
import { Wire, el, formatDuration } from '/wire.js';
import {
  toast, loadStore, saveStore, signInView, agentUrl, connectionBadge, FLAG_TEXT, SIGNAL_TEXT, errorText,
  login, signInText, tokenProtocols, TokenKeeper,
} from '/console.js';

const app = document.getElementById('app');
const store = loadStore();
const KEY = 'supervisor';
let client = null;
let me = null;
let conn = { status: 'connecting', detail: {} };
const events = []; // newest first
let top; let board;
let snapshot = null; // the latest answer to `snapshot`
let snapshotAt = 0;
let snapshotError = null;
const SNAPSHOT_EVERY = 2000;

const sup = store[KEY] || {};

let keeper = null; // renews the token before it expires

function showSignIn(error) {
  app.replaceChildren(signInView({
    title: 'Supervisor view', subtitle: 'Sign in with a supervisor ID and password from the roster.', error,
    agent: sup.agent || sup.lastAgent || store.agent,
    onSubmit: async ({ agent, password }) => {
      const issued = await login(agent, password);
      if (issued.role === 'agent') throw { code: 'forbidden', message: 'not a supervisor' };
      sup.auth = { token: issued.token, expiresAt: issued.expires_at };
      start(agent);
    },
  }));
  const field = app.querySelector('input[name="agent"]');
  if (field) field.focus();
}

function persist() { store[KEY] = sup; saveStore(store); }

function start(agent) {
  if (sup.agent !== agent) { sup.lastSeq = 0; sup.events = []; }
  sup.agent = agent;
  sup.lastAgent = agent;
  persist();
  keeper = new TokenKeeper({
    ...sup.auth,
    onToken: (fresh) => {
      sup.auth = { token: fresh.token, expiresAt: fresh.expires_at };
      persist();
      if (client) client.send({ type: 'token', token: fresh.token });
    },
    onLost: (refusal) => signOut(signInText(refusal)),
  });
  // Events already seen (kept across reloads, since seq-deduplicated replays skip them).
  events.length = 0;
  for (const e of (sup.events || []).slice().reverse()) record(e, false);
  top = el('header', { class: 'topbar' });
  board = el('main', { class: 'board', 'aria-labelledby': 'board-title' });
  app.replaceChildren(top, board);
  renderTop();
  render();
  client = new Wire({
    idPrefix: 's',
    lastSeq: sup.lastSeq || 0,
    url: () => agentUrl(agent, client.lastSeq),
    protocols: () => tokenProtocols(sup.auth.token),
    onMessage: handle,
    onStatus: (status, detail) => {
      conn = { status, detail };
      if (status === 'failed' && detail.reason !== 'replaced') {
        signOut(signInText({ code: detail.reason, message: detail.error && detail.error.message }));
        return;
      }
      renderTop();
    },
    onPersist: (wire) => { sup.lastSeq = wire.lastSeq; persist(); },
  });
  client.start();
}

function signOut(error) {
  if (client) client.stop();
  client = null;
  if (keeper) keeper.stop();
  keeper = null;
  delete sup.agent;
  delete sup.auth;
  sup.lastSeq = 0;
  sup.events = [];
  persist();
  showSignIn(error);
}

function handle(msg) {
  switch (msg.type) {
    case 'welcome':
      me = { agent: msg.agent, name: msg.name, role: msg.role };
      snapshotInFlight = false; // an answer lost with the old connection never comes
      if (msg.role !== 'supervisor') toast(`${msg.name} is not a supervisor: only your own alerts would show here. Agents use /agent.`, 'warn');
      renderTop();
      requestSnapshot();
      break;
    case 'snapshot':
      snapshot = msg;
      snapshotAt = Date.now();
      snapshotError = null;
      render();
      break;
    case 'alert_slow_reply':
      record({ kind: 'slow', agent: msg.agent, session: msg.session, group: msg.group, at: Date.now() }, true);
      break;
    case 'alert_conduct_flagged':
      record({ kind: 'flag', agent: msg.flag.agent, session: msg.flag.session, flag: msg.flag.kind, category: msg.flag.category, atMs: msg.flag.at_ms, at: Date.now() }, true);
      break;
    case 'alert_complaint_tendency':
      record({ kind: 'complaint', agent: msg.agent || null, session: msg.session, group: msg.group, signal: msg.signal, at: Date.now() }, true);
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

function record(event, live) {
  events.unshift(event);
  if (events.length > 200) events.pop();
  if (live) {
    sup.events = events.slice(0, 200);
    persist();
    render();
    requestSnapshot();
  }
}

let snapshotInFlight = false;
function requestSnapshot() {
  if (!client || !client.open || snapshotInFlight || (me && me.role !== 'supervisor')) return;
  snapshotInFlight = true;
  client.send({ type: 'snapshot' }, (answer) => {
    snapshotInFlight = false;
    if (answer.type === 'error') { snapshotError = errorText(answer); render(); }
  });
}
setInterval(requestSnapshot, SNAPSHOT_EVERY);

function renderTop() {
  if (!top) return;
  top.replaceChildren(
    el('div', { class: 'brand' }, el('span', { class: 'brand-mark small', 'aria-hidden': 'true', text: 'S' }), el('span', { text: 'Switchboard' }), el('span', { class: 'muted', text: '· Supervisor' })),
    el('div', { class: 'who' }, el('strong', { text: me ? me.name : sup.agent || '' })),
    el('div', { class: 'spacer' }),
    connectionBadge(conn.status, conn.detail),
    el('a', { class: 'btn btn-quiet', href: '/agent', text: 'Agent console' }),
    el('button', { class: 'btn btn-quiet', type: 'button', text: 'Sign out', onclick: () => signOut() }));
}

function ago(at) {
  const ms = Date.now() - at;
  return ms < 5000 ? 'just now' : `${formatDuration(ms)} ago`;
}

function describe(e) {
  const session = e.session != null ? `chat #${e.session}` : null;
  if (e.kind === 'slow') return [`Slow reply by ${e.agent}`, [session, e.group].filter(Boolean).join(' · ')];
  if (e.kind === 'flag') return [`${e.agent}: ${FLAG_TEXT[e.flag] || e.flag}`, [session, e.category && e.category.replace(/_/g, ' ')].filter(Boolean).join(' · ')];
  return [`Complaint tendency: ${SIGNAL_TEXT[e.signal] || e.signal}`, [session, e.group, e.agent ? `agent ${e.agent}` : 'waiting'].filter(Boolean).join(' · ')];
}

const STATES = [['available', 'Available'], ['busy', 'Busy'], ['break', 'On break'], ['disconnected', 'Disconnected'], ['offline', 'Offline']];
const stateClass = (state) => (state === 'break' ? 'on_break' : state);
const STATE_NAME = { available: 'Available', busy: 'Busy', on_break: 'On break', break: 'On break', disconnected: 'Disconnected', offline: 'Offline' };

function render() {
  if (!board) return;
  const groups = snapshot ? snapshot.groups : [];
  const agents = snapshot ? snapshot.agents.filter((a) => a.role !== 'supervisor') : [];
  const waiting = groups.reduce((sum, g) => sum + g.waiting, 0);
  const oldest = groups.reduce((max, g) => Math.max(max, g.oldest_wait_ms || 0), 0);
  const serving = groups.reduce((sum, g) => sum + g.active, 0);
  const online = agents.filter((a) => a.state !== 'offline');
  const available = agents.filter((a) => a.state === 'available');
  const stat = (value, label, kind, name) => el('div', { class: `stat ${kind || ''}`, 'data-stat': name },
    el('div', { class: 'stat-value', text: snapshot ? String(value) : '–' }), el('div', { class: 'stat-label', text: label }));
  const summary = el('section', { class: 'card wide', 'aria-label': 'Summary' },
    el('h2', {}, 'Right now', el('span', { class: 'muted small live', 'data-at': String(snapshotAt), 'data-prefix': 'updated ', text: snapshot ? `updated ${ago(snapshotAt)}` : (snapshotError || 'loading…') })),
    el('div', { class: 'stats' },
      stat(waiting, 'Customers waiting', waiting ? 'warn' : '', 'waiting'),
      stat(oldest ? formatDuration(oldest) : '0:00', 'Longest wait (business time)', oldest >= 60000 ? 'bad' : '', 'oldest'),
      stat(serving, 'Chats in progress', '', 'serving'),
      stat(`${available.length} / ${online.length}`, 'Agents available / online', online.length && !available.length ? 'bad' : '', 'agents')));

  const groupTable = el('section', { class: 'card wide', 'aria-label': 'Skill groups' },
    el('h2', { text: 'Skill groups' }),
    el('table', {},
      el('thead', {}, el('tr', {}, el('th', { text: 'Group' }), el('th', { class: 'num', text: 'Waiting' }), el('th', { class: 'num', text: 'Oldest wait' }),
        el('th', { class: 'num', text: 'In progress' }), el('th', { text: 'Agents' }))),
      el('tbody', {}, ...(groups.length ? groups.map((g) => el('tr', { 'data-group': g.id },
        el('td', {}, el('strong', { text: g.name }), el('span', { class: 'muted small', text: ` ${g.id}` })),
        el('td', { class: `num ${g.waiting ? 'hot' : ''}`, 'data-cell': 'waiting', text: String(g.waiting) }),
        el('td', { class: `num ${(g.oldest_wait_ms || 0) >= 60000 ? 'hot' : ''}`, 'data-cell': 'oldest', text: g.oldest_wait_ms != null ? formatDuration(g.oldest_wait_ms) : '–' }),
        el('td', { class: 'num', 'data-cell': 'active', text: String(g.active) }),
        el('td', { class: 'pills' }, ...STATES.filter(([k]) => (g.agents || {})[k]).map(([k, label]) => el('span', { class: `state-pill state-${stateClass(k)}`, text: `${g.agents[k]} ${label.toLowerCase()}` })))))
        : [el('tr', {}, el('td', { colspan: '5', class: 'muted', text: snapshotError || 'Loading…' }))]))));

  const agentTable = el('section', { class: 'card wide', 'aria-label': 'Agents' },
    el('h2', { text: 'Agents' }),
    el('table', {},
      el('thead', {}, el('tr', {}, el('th', { text: 'Agent' }), el('th', { text: 'State' }), el('th', { text: 'Load' }), el('th', { text: 'Groups' }),
        el('th', { class: 'num', text: 'Chats' }), el('th', { class: 'num', text: 'Warnings' }), el('th', { class: 'num', text: 'Slow replies' }),
        el('th', { class: 'num', text: 'Ratings' }), el('th', { text: 'Conduct flags' }))),
      el('tbody', {}, ...(agents.length ? agents.map((a) => {
        const r = a.record || {};
        const flagEntries = Object.entries(r.flags || {}).filter(([, n]) => n > 0);
        return el('tr', { 'data-agent': a.id },
          el('td', {}, el('strong', { text: a.name }), el('span', { class: 'muted small', text: ` ${a.id}` })),
          el('td', {}, el('span', { class: `state-pill state-${stateClass(a.state)}`, 'data-cell': 'state', text: STATE_NAME[a.state] || a.state }),
            a.break_reason ? el('span', { class: 'muted small', text: ` ${a.break_reason}` }) : null),
          el('td', {}, el('span', { class: 'load', 'data-cell': 'load', text: `${a.load} / ${a.capacity}` }),
            el('span', { class: 'bar', 'aria-hidden': 'true' }, el('span', { class: 'bar-fill' }))),
          el('td', { class: 'small', text: a.groups.join(', ') }),
          el('td', { class: 'num', text: `${r.sessions_closed || 0} / ${r.sessions_assigned || 0}`, title: 'closed / assigned' }),
          el('td', { class: 'num', text: String(r.reply_warnings || 0) }),
          el('td', { class: `num ${r.slow_replies ? 'hot' : ''}`, 'data-cell': 'slow', text: String(r.slow_replies || 0) }),
          el('td', { class: 'num', text: `${r.satisfied || 0} good · ${r.dissatisfied || 0} bad` }),
          el('td', { class: 'small', 'data-cell': 'flags' }, ...(flagEntries.length
            ? flagEntries.map(([kind, n]) => el('span', { class: 'flag-chip', title: FLAG_TEXT[kind] || kind, text: `${FLAG_TEXT[kind] || kind} ×${n}` }))
            : [el('span', { class: 'muted', text: 'none' })])));
      }) : [el('tr', {}, el('td', { colspan: '9', class: 'muted', text: snapshotError || 'Loading…' }))]))));
  // Load bars: width from data, set through the CSSOM (allowed by the page's CSP).
  for (const row of agentTable.querySelectorAll('tr[data-agent]')) {
    const a = agents.find((x) => x.id === row.dataset.agent);
    const fill = row.querySelector('.bar-fill');
    if (a && fill) {
      fill.style.width = `${Math.min(100, Math.round((100 * a.load) / Math.max(1, a.capacity)))}%`;
      if (a.load >= a.capacity) fill.classList.add('full');
    }
  }

  const feed = el('ul', { class: 'feed', 'aria-live': 'polite', 'aria-label': 'Recent violations and flags' },
    ...events.slice(0, 100).map((e) => {
      const [title, detail] = describe(e);
      return el('li', { 'data-kind': e.kind },
        el('span', { class: `kind kind-${e.kind}`, text: { slow: 'Slow reply', flag: 'Flag', complaint: 'Complaint risk' }[e.kind] }),
        el('span', {}, el('strong', { text: title }), el('br'), el('span', { class: 'muted small', text: detail })),
        el('span', { class: 'when', 'data-at': String(e.at), text: ago(e.at) }));
    }));
  if (!events.length) feed.append(el('li', { class: 'empty' }, el('span'), el('span', { text: 'No violations or flags yet. They appear here the moment they happen.' }), el('span')));

  board.replaceChildren(el('h1', { id: 'board-title', class: 'visually-hidden', text: 'Supervisor view' }), summary, groupTable, agentTable,
    el('section', { class: 'card wide', 'aria-label': 'Live feed' }, el('h2', { text: 'Recent violations and flags' }), feed));
}

setInterval(() => {
  for (const node of document.querySelectorAll('[data-at]')) node.textContent = `${node.dataset.prefix || ''}${ago(Number(node.dataset.at))}`;
}, 1000);

// Signed in before (a reload) with a token still valid: reconnect at once.
if (sup.agent && sup.auth && sup.auth.expiresAt > Date.now() + 1000) start(sup.agent);
else showSignIn(sup.auth ? signInText({ code: 'token_expired' }) : undefined);
