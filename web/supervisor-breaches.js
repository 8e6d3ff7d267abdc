// The supervisor view's "Ticket breaches" panel: every missed ticket limit
// (first response, expected resolution time, a reply to the customer) from
// `GET /v1/tickets/breaches` (docs/tickets.md, "HTTP API"), newest first.
// Fetched while the panel is unfolded: at once, every POLL_EVERY, and when a
// `ticket_breach` alert arrives (supervisor.js puts those in the live feed,
// which is what a supervisor watches; the panel is the list to go through).
//
// Deadlines are business time: "12 min ago" is counted from the answer's
// `now`, not from this computer's clock.
import { el, requestJson } from '/wire.js';
import { TICKET_DEADLINE_TEXT, ticketAgentErrorText } from '/texts.js';
import { spanText } from '/console-tickets.js';

const POLL_EVERY = 10000;
const fetchBreaches = (token) => requestJson('/v1/tickets/breaches', { token: token() });
const SHOWN = 100;

/** A `ticket_breach` alert as a feed entry (supervisor.js's ALERTS). */
export function breachAlert(msg) {
  const b = msg.breach || msg;
  return { kind: 'breach', agent: b.agent || null, ticket: typeof b.ticket === 'object' && b.ticket ? b.ticket.id : b.ticket, group: b.group || null, breach: b.kind };
}

/** The title and the detail line of a breach in the feed. */
export function describeBreach(e, who) {
  return [`Ticket #${e.ticket}: ${TICKET_DEADLINE_TEXT[e.breach] || e.breach} missed`, [e.group, who || 'no owner'].filter(Boolean).join(' · ')];
}

function row(b, now) {
  return el('tr', { 'data-ticket': String(b.ticket), 'data-kind': b.kind },
    el('td', { text: `#${b.ticket}` }),
    el('td', { text: TICKET_DEADLINE_TEXT[b.kind] || b.kind }),
    el('td', { text: b.group }),
    el('td', { text: b.agent || 'no owner' }),
    el('td', { class: 'overdue', text: `${spanText(now - b.deadline)} ago` }));
}

/**
 * The panel; `token()` gives the current sign-in token. Returns
 * `{ node, refresh(), stop() }`.
 */
export function breachesPanel({ token }) {
  const status = el('p', { class: 'muted small', role: 'status', text: 'Loading…' });
  const body = el('div', { class: 'records-results' });
  let timer = null;
  let stopped = false;
  let node = null;
  const refresh = async () => {
    clearTimeout(timer);
    if (stopped || !node.open) return;
    try {
      const { breaches, now } = await fetchBreaches(token);
      const newest = [...breaches].sort((a, b) => b.deadline - a.deadline).slice(0, SHOWN);
      status.textContent = breaches.length ? `${breaches.length} missed ticket limits.` : 'No ticket has missed a limit.';
      body.replaceChildren(newest.length ? el('table', {},
        el('thead', {}, el('tr', {}, ...['Ticket', 'Limit', 'Group', 'Agent', 'Deadline'].map((text) => el('th', { text })))),
        el('tbody', {}, ...newest.map((b) => row(b, now)))) : '');
    } catch (refusal) {
      status.textContent = ticketAgentErrorText(refusal);
    }
    if (!stopped && node.open) timer = setTimeout(refresh, POLL_EVERY);
  };
  node = el('details', { class: 'card breaches-card', 'aria-label': 'Ticket breaches' },
    el('summary', {}, el('h2', { text: 'Ticket breaches' })), status, body);
  node.addEventListener('toggle', refresh);
  return { node, refresh, stop: () => { stopped = true; clearTimeout(timer); } };
}
