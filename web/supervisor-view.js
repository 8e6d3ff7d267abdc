// The supervisor view's cards: the live feed of alerts, the summary, the skill
// groups and the agents, each built from the latest `snapshot` (agents are
// named by their roster name; the alerts carry ids).
import { el, formatDuration } from '/wire.js';
import { ago, hoursBadge } from '/ui.js';
import { FLAG_TEXT, SIGNAL_TEXT, STATE_TEXT, flagText } from '/texts.js';
import { describeBreach } from '/supervisor-breaches.js';

const LATE_WAIT_MS = 60000;
// The agent states, spelled as the wire, the snapshot and the metrics spell them (docs/protocol.md#agent-states).
const STATES = ['available', 'busy', 'on_break', 'disconnected', 'offline'];
const KIND_LABEL = { warning: '1-minute warning', slow: 'Slow reply', flag: 'Flag', complaint: 'Complaint risk', closed: 'Closed with a cause', breach: 'Ticket breach' };
const CAUSE_TEXT = { duplicate: 'as a duplicate', abusive: 'as abusive' };

/** An agent's roster name from the snapshot; the id until one arrives. */
function nameOf(snapshot, id) {
  const agent = snapshot && snapshot.agents.find((a) => a.id === id);
  return (agent && agent.name) || id;
}

function groupNameOf(snapshot, id) {
  const group = snapshot && snapshot.groups.find((g) => g.id === id);
  return (group && group.name) || id;
}

/** The title and the detail line of a feed entry. */
function describe(e, snapshot) {
  const who = e.agent ? nameOf(snapshot, e.agent) : null;
  const chat = e.session != null ? `chat #${e.session}` : e.ticket != null ? `ticket #${e.ticket}` : null;
  const group = e.group ? groupNameOf(snapshot, e.group) : null;
  switch (e.kind) {
    case 'warning': return [`${who} has not replied for a minute`, [chat, group].filter(Boolean).join(' · ')];
    case 'slow': return [`Slow reply by ${who}`, [chat, group].filter(Boolean).join(' · ')];
    case 'closed': return [`${who} closed ${chat} ${CAUSE_TEXT[e.reason] || `as ${e.reason}`}`, [group, 'no flag: review it'].filter(Boolean).join(' · ')];
    case 'breach': return describeBreach(e, who);
    case 'flag': return [`${who}: ${flagText(e.flag, e.rule)}`, [chat, e.category && e.category.replace(/_/g, ' ')].filter(Boolean).join(' · ')];
    default: return [`Complaint tendency: ${SIGNAL_TEXT[e.signal] || e.signal}`, [chat, group, who || 'waiting'].filter(Boolean).join(' · ')];
  }
}

function feedItem(e, snapshot) {
  const [title, detail] = describe(e, snapshot);
  return el('li', { 'data-kind': e.kind },
    el('span', { class: `kind kind-${e.kind}`, text: KIND_LABEL[e.kind] }),
    el('span', {}, el('strong', { text: title }), el('br'), el('span', { class: 'muted small', text: detail })),
    el('span', { class: 'when', 'data-at': String(e.at), text: ago(e.at) }));
}

export function feedCard(events, snapshot) {
  const feed = el('ul', { class: 'feed', 'aria-live': 'polite', 'aria-label': 'Recent alerts' },
    ...events.slice(0, 100).map((e) => feedItem(e, snapshot)));
  if (!events.length) feed.append(el('li', { class: 'empty' }, el('span'), el('span', { text: 'No alerts yet. Warnings, violations and flags appear here the moment they happen.' }), el('span')));
  return el('section', { class: 'card feed-card', 'aria-label': 'Live feed' },
    el('h2', { text: 'Alerts: warnings, violations and flags' }), feed);
}

const stat = (snapshot, { value, label, kind, name }) => el('div', { class: `stat ${kind || ''}`, 'data-stat': name },
  el('div', { class: 'stat-value', text: snapshot ? String(value) : '–' }), el('div', { class: 'stat-label', text: label }));

export function summaryCard(snapshot, { status, at }) {
  const groups = snapshot ? snapshot.groups : [];
  const agents = snapshot ? snapshot.agents.filter((a) => a.role !== 'supervisor') : [];
  const sum = (field) => groups.reduce((total, g) => total + (g[field] || 0), 0);
  const oldest = groups.reduce((max, g) => Math.max(max, g.oldest_wait_ms || 0), 0);
  const online = agents.filter((a) => a.state !== 'offline').length;
  const available = agents.filter((a) => a.state === 'available').length;
  return el('section', { class: 'card', 'aria-label': 'Summary' },
    el('h2', {}, 'Right now', el('span', { class: 'muted small live', 'data-at': String(at), 'data-prefix': 'updated ', text: status })),
    el('div', { class: 'stats' },
      stat(snapshot, { value: sum('waiting'), label: 'Customers waiting', kind: sum('waiting') ? 'warn' : '', name: 'waiting' }),
      stat(snapshot, { value: oldest ? formatDuration(oldest) : '0:00', label: 'Longest wait (business time)', kind: oldest >= LATE_WAIT_MS ? 'bad' : '', name: 'oldest' }),
      stat(snapshot, { value: sum('active'), label: 'Chats in progress', name: 'serving' }),
      stat(snapshot, { value: `${available} / ${online}`, label: 'Agents available / online', kind: online && !available ? 'bad' : '', name: 'agents' })));
}

const placeholderRow = (columns, text) => el('tr', {}, el('td', { colspan: String(columns), class: 'muted', text }));
const headRow = (...cells) => el('thead', {}, el('tr', {}, ...cells.map(([text, cls]) => el('th', { class: cls || null, text }))));

function groupRow(g) {
  const late = (g.oldest_wait_ms || 0) >= LATE_WAIT_MS;
  return el('tr', { 'data-group': g.id },
    el('td', {}, el('strong', { text: g.name }), el('span', { class: 'muted small', text: ` ${g.id} ` }), hoursBadge(g)),
    el('td', { class: `num ${g.waiting ? 'hot' : ''}`, 'data-cell': 'waiting', text: String(g.waiting) }),
    el('td', { class: `num ${late ? 'hot' : ''}`, 'data-cell': 'oldest', text: g.oldest_wait_ms != null ? formatDuration(g.oldest_wait_ms) : '–' }),
    el('td', { class: 'num', 'data-cell': 'active', text: String(g.active) }),
    el('td', { class: 'pills' }, ...STATES.filter((k) => (g.agents || {})[k])
      .map((k) => el('span', { class: `state-pill state-${k}`, text: `${g.agents[k]} ${STATE_TEXT[k].toLowerCase()}` }))));
}

export function groupsCard(snapshot, error) {
  const groups = snapshot ? snapshot.groups : [];
  return el('section', { class: 'card', 'aria-label': 'Skill groups' },
    el('h2', { text: 'Skill groups' }),
    el('table', {},
      headRow(['Group'], ['Waiting', 'num'], ['Oldest wait', 'num'], ['In progress', 'num'], ['Agents']),
      el('tbody', {}, ...(groups.length ? groups.map(groupRow) : [placeholderRow(5, error || 'Loading…')]))));
}

function loadCell(a) {
  const fill = el('span', { class: `bar-fill ${a.load >= a.capacity ? 'full' : ''}` });
  // Width from data, set through the CSSOM (allowed by the page's CSP).
  fill.style.width = `${Math.min(100, Math.round((100 * a.load) / Math.max(1, a.capacity)))}%`;
  return el('td', {}, el('span', { class: 'load', 'data-cell': 'load', text: `${a.load} / ${a.capacity}` }),
    el('span', { class: 'bar', 'aria-hidden': 'true' }, fill));
}

function flagsCell(record) {
  const entries = Object.entries(record.flags || {}).filter(([, n]) => n > 0);
  return el('td', { class: 'small', 'data-cell': 'flags' }, ...(entries.length
    ? entries.map(([kind, n]) => el('span', { class: 'flag-chip', title: FLAG_TEXT[kind] || kind, text: `${FLAG_TEXT[kind] || kind} ×${n}` }))
    : [el('span', { class: 'muted', text: 'none' })]));
}

function agentRow(a) {
  const r = a.record || {};
  return el('tr', { 'data-agent': a.id },
    el('td', {}, el('strong', { text: a.name }), el('span', { class: 'muted small', text: ` ${a.id}` })),
    el('td', {}, el('span', { class: `state-pill state-${a.state}`, 'data-cell': 'state', text: a.state === 'busy' ? 'Busy' : STATE_TEXT[a.state] || a.state }),
      a.break_reason ? el('span', { class: 'muted small', text: ` ${a.break_reason}` }) : null),
    loadCell(a),
    el('td', { class: 'small', text: a.groups.join(', ') }),
    el('td', { class: 'num', text: `${r.sessions_closed || 0} / ${r.sessions_assigned || 0}`, title: 'closed / assigned' }),
    el('td', { class: 'num', 'data-cell': 'warnings', text: String(r.reply_warnings || 0) }),
    el('td', { class: `num ${r.slow_replies ? 'hot' : ''}`, 'data-cell': 'slow', text: String(r.slow_replies || 0) }),
    el('td', { class: 'num', text: `${r.satisfied || 0} good · ${r.dissatisfied || 0} bad` }),
    flagsCell(r));
}

export function agentsCard(snapshot, error) {
  const agents = snapshot ? snapshot.agents.filter((a) => a.role !== 'supervisor') : [];
  return el('section', { class: 'card', 'aria-label': 'Agents' },
    el('h2', { text: 'Agents' }),
    el('table', {},
      headRow(['Agent'], ['State'], ['Load'], ['Groups'], ['Chats', 'num'], ['1-min warnings', 'num'], ['Slow replies', 'num'], ['Ratings', 'num'], ['Conduct flags']),
      el('tbody', {}, ...(agents.length ? agents.map(agentRow) : [placeholderRow(9, error || 'Loading…')]))));
}
