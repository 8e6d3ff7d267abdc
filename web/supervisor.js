// Switchboard supervisor view (/supervisor). A supervisor connects on the agent
// endpoint (role "supervisor"), signed in by signin.js like an agent; the page
// asks for a `snapshot` (every skill group and agent at a glance) every couple
// of seconds and at once after each alert, and shows the alerts
// (alert_reply_warning, alert_slow_reply, alert_conduct_flagged,
// alert_closed_with_cause, alert_complaint_tendency, alert_ticket_breach,
// alert_ticket_complaint_tendency) as a live feed beside the tables.
// Below the board, panels that keep their own state across the board's redraws:
// agents' performance (supervisor-performance.js), past chats (supervisor-records.js, with
// their spot checks), ticket breaches (supervisor-breaches.js), open complaints
// (supervisor-quality.js), shifts and discipline (supervisor-shifts.js).
import { el } from '/wire.js';
import { SignedInPage } from '/signin.js';
import { toast, connectionBadge, ago, tickAgoLabels } from '/ui.js';
import { errorText } from '/texts.js';
import { summaryCard, groupsCard, agentsCard, feedCard } from '/supervisor-view.js';
import { recordsPanel } from '/supervisor-records.js';
import { breachesPanel, breachAlert } from '/supervisor-breaches.js';
import { performancePanel } from '/supervisor-performance.js';
import { disciplineByAgent, disciplinePanel, shiftsPanel } from '/supervisor-shifts.js';
import { complaintsPanel, spotCheckSection, spotChecksPanel } from '/supervisor-quality.js';

const SNAPSHOT_EVERY = 2000;
const FEED_LIMIT = 200;

const view = {
  me: null,
  top: null,
  board: null,
  events: [], // newest first
  snapshot: null, // the latest answer to `snapshot`
  snapshotAt: 0,
  snapshotError: null,
  snapshotInFlight: false,
  records: null, // the past chats panel, made once
  spotChecks: null, // the spot checks panel, made once (it opens chats in the past chats' dialog)
  breaches: null, // the ticket breaches panel, per sign-in
  performance: null, // the performance panel, per sign-in
  complaints: null, // the open complaints panel, per sign-in
};

/** An alert as a feed entry (kept in sessionStorage across reloads). */
const ALERTS = {
  alert_reply_warning: (msg) => ({ kind: 'warning', agent: msg.agent, session: msg.session, group: msg.group }),
  alert_slow_reply: (msg) => ({ kind: 'slow', agent: msg.agent, session: msg.session, group: msg.group }),
  alert_conduct_flagged: (msg) => ({ kind: 'flag', agent: msg.flag.agent, session: msg.flag.session, flag: msg.flag.kind, rule: msg.flag.rule, category: msg.flag.category, atMs: msg.flag.at_ms }),
  alert_closed_with_cause: (msg) => ({ kind: 'closed', agent: msg.agent, session: msg.session, group: msg.group, reason: msg.reason }),
  alert_complaint_tendency: (msg) => ({ kind: 'complaint', agent: msg.agent || null, session: msg.session, group: msg.group, signal: msg.signal }),
  alert_ticket_breach: breachAlert,
  alert_ticket_complaint_tendency: (msg) => ({ kind: 'complaint', agent: msg.agent || null, ticket: msg.ticket, group: msg.group, signal: msg.signal }),
};

function handle(msg) {
  if (ALERTS[msg.type]) {
    record({ ...ALERTS[msg.type](msg), at: Date.now() });
    if (msg.type === 'alert_ticket_breach' && view.breaches) view.breaches.refresh();
    return;
  }
  switch (msg.type) {
    case 'welcome': welcomed(msg); break;
    case 'snapshot':
      if (!view.snapshot && view.performance) queueMicrotask(view.performance.redraw);
      Object.assign(view, { snapshot: msg, snapshotAt: Date.now(), snapshotError: null });
      render();
      break;
    case 'error': if (msg.id == null) toast(errorText(msg), 'error'); break;
    case 'shutdown': toast('The server is restarting; reconnecting…', 'warn'); break;
    default: break;
  }
}

function welcomed(msg) {
  view.me = { agent: msg.agent, name: msg.name, role: msg.role };
  view.snapshotInFlight = false; // an answer lost with the old connection never comes
  if (msg.role !== 'supervisor') toast(`${msg.name} is not a supervisor: only your own alerts would show here. Agents use /agent.`, 'warn');
  renderTop();
  requestSnapshot();
}

function record(event) {
  view.events.unshift(event);
  if (view.events.length > FEED_LIMIT) view.events.pop();
  page.store.events = view.events.slice(0, FEED_LIMIT);
  page.save();
  render();
  requestSnapshot();
}

function requestSnapshot() {
  if (!page.open || view.snapshotInFlight || (view.me && view.me.role !== 'supervisor')) return;
  view.snapshotInFlight = true;
  page.send({ type: 'snapshot' }, (answer) => {
    view.snapshotInFlight = false;
    if (answer.type === 'error') { view.snapshotError = errorText(answer); render(); }
  });
}

function renderTop() {
  if (!view.top) return;
  view.top.replaceChildren(
    el('div', { class: 'brand' }, el('span', { class: 'brand-mark small', 'aria-hidden': 'true', text: 'S' }), el('span', { text: 'Switchboard' }), el('span', { class: 'muted', text: '· Supervisor' })),
    el('div', { class: 'who' }, el('strong', { text: view.me ? view.me.name : page.store.agent || '' })),
    el('div', { class: 'spacer' }),
    connectionBadge(page.conn.status, page.conn.detail),
    el('a', { class: 'btn btn-quiet', href: '/agent', text: 'Agent console' }),
    el('button', { class: 'btn btn-quiet', type: 'button', text: 'Sign out', onclick: () => page.signOut() }));
}

function render() {
  if (!view.board) return;
  const status = view.snapshot ? `updated ${ago(view.snapshotAt)}` : (view.snapshotError || 'loading…');
  // The feed first in the page: beside the tables on a wide screen, above them on a narrow one.
  view.board.replaceChildren(el('h1', { id: 'board-title', class: 'visually-hidden', text: 'Supervisor view' }),
    feedCard(view.events, view.snapshot),
    summaryCard(view.snapshot, { status, at: view.snapshotAt }),
    groupsCard(view.snapshot, view.snapshotError),
    agentsCard(view.snapshot, view.snapshotError));
}

function started() {
  // Alerts already seen (kept across reloads, since seq-deduplicated replays skip them).
  view.events = (page.store.events || []).slice(0, FEED_LIMIT);
  view.top = el('header', { class: 'topbar' });
  view.board = el('main', { class: 'board', 'aria-labelledby': 'board-title' });
  const token = () => page.store.auth && page.store.auth.token;
  if (!view.records) view.records = recordsPanel({ token, chatExtras: (chat) => spotCheckSection(chat, token) });
  if (!view.spotChecks) view.spotChecks = spotChecksPanel({ token, openChat: view.records.open });
  if (view.breaches) view.breaches.stop();
  view.breaches = breachesPanel({ token });
  if (view.complaints) view.complaints.stop();
  view.complaints = complaintsPanel({ token });
  if (view.performance) view.performance.stop();
  const nameOf = (id) => ((view.snapshot && view.snapshot.agents.find((a) => a.id === id)) || { name: id }).name;
  view.performance = performancePanel({ token, nameOf, disciplineOf: () => disciplineByAgent(token) });
  const shifts = shiftsPanel({ token });
  const discipline = disciplinePanel({ token });
  document.getElementById('app').replaceChildren(view.top, view.board,
    el('div', { class: 'extra-panels' }, view.performance.node, view.complaints.node, view.spotChecks.node,
      view.breaches.node, shifts.node, discipline.node, view.records.node));
  view.performance.refresh();
  renderTop();
  render();
}

const page = new SignedInPage({
  storeKey: 'switchboard.supervisor',
  idPrefix: 's',
  title: 'Supervisor view',
  subtitle: 'Sign in with a supervisor ID and password from the roster.',
  admit: (issued) => { if (issued.role === 'agent') throw { code: 'forbidden', message: 'not a supervisor' }; },
  onStart: started,
  onMessage: handle,
  onStatus: renderTop,
  onSignOut: () => {
    view.events = [];
    view.snapshot = null;
    if (view.records) view.records.reset();
    if (view.breaches) view.breaches.stop();
    if (view.performance) view.performance.stop();
    if (view.complaints) view.complaints.stop();
  },
});
page.begin();
setInterval(requestSnapshot, SNAPSHOT_EVERY);
tickAgoLabels();
