// Switchboard supervisor view (/supervisor). A supervisor connects on the agent
// endpoint (role "supervisor") and receives the alerts of protocol v1:
// alert_slow_reply, alert_conduct_flagged, alert_complaint_tendency. This page
// shows them live and sums them up per agent and per group.
import { Wire, el, formatDuration } from '/wire.js';
import {
  toast, loadStore, saveStore, signInView, agentUrl, connectionBadge, FLAG_TEXT, SIGNAL_TEXT, errorText,
} from '/console.js';

const app = document.getElementById('app');
const store = loadStore();
const KEY = 'supervisor';
let client = null;
let me = null;
let conn = { status: 'connecting', detail: {} };
const events = []; // newest first
const perAgent = new Map(); // agent -> { slow, flags, complaints, last }
const perGroup = new Map(); // group -> { slow, complaints }
let top; let board;

const sup = store[KEY] || {};
if (sup.agent) start(sup.agent, sup.token); else showSignIn();

function showSignIn(error) {
  app.replaceChildren(signInView({
    title: 'Supervisor view', subtitle: 'Sign in with a supervisor ID from the roster.', error,
    agent: sup.agent || store.agent, onSubmit: ({ agent, token }) => start(agent, token),
  }));
  const field = app.querySelector('input[name="agent"]');
  if (field) field.focus();
}

function persist() { store[KEY] = sup; saveStore(store); }

function start(agent, token) {
  if (sup.agent !== agent) { sup.lastSeq = 0; sup.events = []; }
  sup.agent = agent;
  sup.token = token || '';
  persist();
  // Events already seen (kept across reloads, since seq-deduplicated replays skip them).
  events.length = 0; perAgent.clear(); perGroup.clear();
  for (const e of (sup.events || []).slice().reverse()) record(e, false);
  top = el('header', { class: 'topbar' });
  board = el('main', { class: 'board' });
  app.replaceChildren(top, board);
  renderTop();
  render();
  client = new Wire({
    idPrefix: 's',
    lastSeq: sup.lastSeq || 0,
    url: () => agentUrl(agent, sup.token, client.lastSeq),
    onMessage: handle,
    onStatus: (status, detail) => {
      conn = { status, detail };
      if (status === 'failed' && (detail.reason === 'unknown_agent' || detail.reason === 'missing_agent')) {
        signOut(`No "${agent}" in the roster.`);
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
  delete sup.agent;
  sup.lastSeq = 0;
  sup.events = [];
  persist();
  showSignIn(error);
}

function handle(msg) {
  switch (msg.type) {
    case 'welcome':
      me = { agent: msg.agent, name: msg.name, role: msg.role };
      if (msg.role !== 'supervisor') toast(`${msg.name} is not a supervisor: only your own alerts would show here. Agents use /agent.`, 'warn');
      renderTop();
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
  if (event.agent) {
    const a = perAgent.get(event.agent) || { slow: 0, flags: 0, complaints: 0, last: 0 };
    a[event.kind === 'slow' ? 'slow' : event.kind === 'flag' ? 'flags' : 'complaints'] += 1;
    a.last = Math.max(a.last, event.at);
    perAgent.set(event.agent, a);
  }
  if (event.group) {
    const g = perGroup.get(event.group) || { slow: 0, complaints: 0 };
    if (event.kind === 'slow') g.slow += 1;
    if (event.kind === 'complaint') g.complaints += 1;
    perGroup.set(event.group, g);
  }
  if (live) {
    sup.events = events.slice(0, 200);
    persist();
    render();
  }
}

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

function render() {
  if (!board) return;
  const count = (kind) => events.filter((e) => e.kind === kind).length;
  const stat = (value, label, kind) => el('div', { class: `stat ${value ? kind : ''}` }, el('div', { class: 'stat-value', text: String(value) }), el('div', { class: 'stat-label', text: label }));
  const summary = el('section', { class: 'card wide', 'aria-label': 'Summary' },
    el('h2', { text: 'Since you opened this view' }),
    el('div', { class: 'stats' },
      stat(count('slow'), 'Slow replies (3-minute violations)', 'bad'),
      stat(count('flag'), 'Conduct flags', 'warn'),
      stat(count('complaint'), 'Complaint-tendency signals', 'warn'),
      stat(perAgent.size, 'Agents with alerts', 'warn')));

  const feed = el('ul', { class: 'feed', 'aria-live': 'polite', 'aria-label': 'Recent violations and flags' },
    ...events.slice(0, 100).map((e) => {
      const [title, detail] = describe(e);
      return el('li', { 'data-kind': e.kind },
        el('span', { class: `kind kind-${e.kind}`, text: { slow: 'Slow reply', flag: 'Flag', complaint: 'Complaint risk' }[e.kind] }),
        el('span', {}, el('strong', { text: title }), el('br'), el('span', { class: 'muted small', text: detail })),
        el('span', { class: 'when', 'data-at': String(e.at), text: ago(e.at) }));
    }));
  if (!events.length) feed.append(el('li', { class: 'empty' }, el('span'), el('span', { text: 'No violations or flags yet. They appear here the moment they happen.' }), el('span')));

  const agentRows = [...perAgent.entries()].sort((a, b) => (b[1].slow + b[1].flags) - (a[1].slow + a[1].flags));
  const agents = el('section', { class: 'card', 'aria-label': 'Agents' },
    el('h2', { text: 'Agents' }),
    el('p', { class: 'card-note', text: 'Alerts per agent. Live state and load per agent are not sent to supervisors by protocol v1.' }),
    el('table', {},
      el('thead', {}, el('tr', {}, el('th', { text: 'Agent' }), el('th', { class: 'num', text: 'Slow replies' }), el('th', { class: 'num', text: 'Flags' }), el('th', { class: 'num', text: 'Complaint signals' }), el('th', { text: 'Last' }))),
      el('tbody', {}, ...(agentRows.length ? agentRows.map(([id, a]) => el('tr', {},
        el('td', { text: id }), el('td', { class: 'num', text: String(a.slow) }), el('td', { class: 'num', text: String(a.flags) }),
        el('td', { class: 'num', text: String(a.complaints) }), el('td', { class: 'muted', 'data-at': String(a.last), text: ago(a.last) })))
        : [el('tr', {}, el('td', { colspan: '5', class: 'muted', text: 'No alerts yet.' }))]))));

  const groupRows = [...perGroup.entries()];
  const groups = el('section', { class: 'card', 'aria-label': 'Skill groups' },
    el('h2', { text: 'Skill groups' }),
    el('p', { class: 'card-note', text: 'Alerts per group. Waiting counts and oldest wait are not sent to supervisors by protocol v1 (they are on the admin /metrics endpoint).' }),
    el('table', {},
      el('thead', {}, el('tr', {}, el('th', { text: 'Group' }), el('th', { class: 'num', text: 'Slow replies' }), el('th', { class: 'num', text: 'Complaint signals' }))),
      el('tbody', {}, ...(groupRows.length ? groupRows.map(([id, g]) => el('tr', {},
        el('td', { text: id }), el('td', { class: 'num', text: String(g.slow) }), el('td', { class: 'num', text: String(g.complaints) })))
        : [el('tr', {}, el('td', { colspan: '3', class: 'muted', text: 'No alerts yet.' }))]))));

  board.replaceChildren(summary,
    el('section', { class: 'card wide', 'aria-label': 'Live feed' }, el('h2', { text: 'Recent violations and flags' }), feed),
    agents, groups);
}

setInterval(() => {
  for (const node of document.querySelectorAll('[data-at]')) node.textContent = ago(Number(node.dataset.at));
}, 1000);
