// The agent console's Tickets tab and its "Turn into ticket" action, over the
// ticket HTTP API (docs/tickets.md, "HTTP API"): the open tickets of the agent
// ("mine") or of their groups, most urgent first as the server orders them,
// each with its next deadline ("due in 12 min", overdue in red); one opens
// beside the list to reply (naming the state it leaves the ticket in, and an
// expected resolution time), transfer with a note, or set its priority.
//
// Times are the server's business time (`now` in every answer), so "due in"
// is counted from the answer's `now`, never from this computer's clock. The
// list is fetched again every POLL_EVERY while the tab is open and the page
// visible; nothing is fetched before the tab is first opened, and the count on
// the tab is the list's as last fetched. A `ticket_assigned` message on the
// console's WebSocket (a ticket became this agent's) says so in a toast and
// fetches the list at once, so a new ticket shows on the tab from the Chats tab too.
import { el, requestJson } from '/wire.js';
import { dialog, dialogActions, toast } from '/ui.js';
import { TICKET_STATE_TEXT, TICKET_DEADLINE_TEXT, ticketAgentErrorText } from '/texts.js';

const POLL_EVERY = 3000;
const HOUR = 3600000;

// The states an agent's reply may leave a ticket in, from each state (docs/tickets.md, Transitions).
const AGENT_MOVES = {
  assigned: ['processing', 'awaiting_feedback', 'pending_confirmation'],
  processing: ['processing', 'awaiting_feedback', 'pending_confirmation'],
  awaiting_feedback: ['awaiting_feedback', 'processing'],
  customer_replied: ['processing', 'awaiting_feedback', 'pending_confirmation', 'resolved'],
  pending_confirmation: ['pending_confirmation', 'processing'],
};
const OPEN_STATES = Object.keys(AGENT_MOVES);

let token = () => null;

/** A request to the ticket API with the agent's token. */
const call = (path, options = {}) => requestJson(path, { ...options, token: token() });

/** "12 min", "3 h 05 min", "2 d 4 h": a business-time span. */
export function spanText(ms) {
  const minutes = Math.round(Math.abs(ms) / 60000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** "due in 12 min" or "overdue by 5 min" (business time), and whether it is overdue. */
export function dueText(due, now) {
  if (due == null) return { text: 'no running deadline', overdue: false };
  return due < now ? { text: `overdue by ${spanText(now - due)}`, overdue: true } : { text: `due in ${spanText(due - now)}`, overdue: false };
}

const stateText = (s) => TICKET_STATE_TEXT[s] || s;

const tab = {
  root: null, list: null, detail: null, status: null, scope: 'mine', state: '', open: null, timer: null, visible: false,
  tickets: [], now: 0, ticket: null, ticketNow: 0, tabButtons: null,
};

function option(value, text, selected) { return el('option', { value, text, selected: selected || null }); }

function controls() {
  const scope = el('select', { name: 'scope', onchange: () => { tab.scope = scope.value; refresh(); } },
    option('mine', 'Mine', tab.scope === 'mine'), option('groups', 'My groups', tab.scope === 'groups'));
  const state = el('select', { name: 'state', onchange: () => { tab.state = state.value; refresh(); } },
    option('', 'Every open state', !tab.state), ...OPEN_STATES.map((s) => option(s, stateText(s), tab.state === s)));
  return el('div', { class: 'tickets-controls' },
    el('label', { class: 'field' }, el('span', { text: 'Show' }), scope),
    el('label', { class: 'field' }, el('span', { text: 'State' }), state),
    tab.status);
}

function ticketRow(t) {
  const due = dueText(t.due, tab.now);
  const current = tab.open === t.id;
  return el('tr', { 'data-ticket': String(t.id), class: current ? 'is-selected' : null },
    el('td', {}, el('button', { class: 'link', type: 'button', text: `#${t.id}`, onclick: () => openTicket(t.id) })),
    el('td', { class: due.overdue ? 'overdue' : null, 'data-cell': 'due', text: due.text }),
    el('td', { 'data-cell': 'state', text: stateText(t.state) }),
    el('td', {}, t.priority === 'urgent' ? el('span', { class: 'tag tag-urgent', text: 'urgent' }) : el('span', { class: 'muted', text: 'normal' })),
    el('td', { text: t.customer_name || '–' }),
    el('td', { text: t.group }),
    el('td', { text: t.owner || 'waiting' }));
}

function renderList() {
  if (!tab.list) return;
  const head = ['Ticket', 'Due', 'State', 'Priority', 'Customer', 'Group', 'Owner'];
  tab.list.replaceChildren(tab.tickets.length
    ? el('table', { class: 'tickets-table' }, el('thead', {}, el('tr', {}, ...head.map((text) => el('th', { text })))),
      el('tbody', {}, ...tab.tickets.map(ticketRow)))
    : el('p', { class: 'muted', text: tab.scope === 'mine' ? 'No open tickets of yours.' : 'No open tickets in your groups.' }));
  if (tab.tabButtons) tab.tabButtons.count.textContent = String(tab.tickets.length);
}

async function refresh() {
  const query = new URLSearchParams({ scope: tab.scope });
  if (tab.state) query.set('state', tab.state);
  try {
    const answer = await call(`/v1/tickets?${query}`);
    Object.assign(tab, { tickets: answer.tickets, now: answer.now });
    tab.status.textContent = '';
  } catch (refusal) {
    tab.status.textContent = ticketAgentErrorText(refusal);
  }
  renderList();
  if (tab.open != null) await loadTicket(tab.open, { keepForms: true });
}

// ---- one ticket -------------------------------------------------------------------
async function openTicket(id) {
  tab.open = id;
  renderList();
  await loadTicket(id, { keepForms: false });
}

async function loadTicket(id, { keepForms }) {
  try {
    const answer = await call(`/v1/tickets/${id}`);
    Object.assign(tab, { ticket: answer.ticket, ticketNow: answer.now });
  } catch (refusal) {
    tab.ticket = null;
    tab.detail.replaceChildren(el('p', { class: 'form-error', role: 'alert', text: ticketAgentErrorText(refusal) }));
    return;
  }
  renderTicket(keepForms);
}

function messageNode(m, t) {
  const who = m.from === 'customer' ? (t.customer_name || 'Customer') : m.from === 'agent' ? (m.agent || 'Agent') : 'System';
  return el('div', { class: `line ${m.from === 'agent' ? 'agent' : m.from === 'customer' ? 'customer' : 'system'}` },
    el('span', { class: 'line-who', text: who }),
    el('p', { class: 'bubble', text: m.text }),
    el('span', { class: 'line-time', text: `${spanText(tab.ticketNow - m.at)} ago` }));
}

function deadlines(t) {
  // Limits that passed and are still owed first (they are overdue), then the running ones.
  const owed = (t.overdue || []).map(({ limit, deadline }) => [limit, deadline]);
  const entries = [...owed, ...Object.entries(t.deadlines || {}).filter(([, at]) => at != null)];
  if (!entries.length) return el('p', { class: 'muted small', text: 'No running deadline.' });
  return el('ul', { class: 'deadlines' }, ...entries.map(([kind, at]) => {
    const due = dueText(at, tab.ticketNow);
    return el('li', { 'data-deadline': kind }, el('span', { text: `${TICKET_DEADLINE_TEXT[kind] || kind}: ` }),
      el('strong', { class: due.overdue ? 'overdue' : null, text: due.text }));
  }));
}

/** Handoff notes: of transfers (`to` an agent) and of the chat it was made from (`to` null). */
function notes(t) {
  if (!(t.notes || []).length) return null;
  return el('section', { class: 'notes', 'aria-label': 'Handoff notes' },
    el('h2', { text: t.notes.length > 1 ? `Handoff notes (${t.notes.length})` : 'Handoff note' }),
    ...t.notes.map((n) => el('div', { class: 'note' },
      el('div', { class: 'note-head' }, el('strong', { text: n.from }), n.to ? ` → ${n.to}` : ' (from the chat)',
        el('span', { class: 'muted', text: ` · ${spanText(tab.ticketNow - n.at)} ago` })),
      el('p', { class: 'note-text', text: n.text }))));
}

// The forms of the ticket on screen: kept across the poll's re-renders (typed text stays).
const forms = { id: null, reply: null, manage: null };

function replyForm(t) {
  const text = el('textarea', { name: 'text', rows: '3', maxlength: '5000', 'aria-label': 'Reply to the customer', placeholder: 'Write a reply…' });
  const moves = AGENT_MOVES[t.state] || [];
  const state = el('select', { name: 'state' }, ...moves.map((s) => option(s, stateText(s), s === moves[0])));
  const expected = el('input', { name: 'expected', type: 'number', min: '0', step: '0.5', placeholder: 'e.g. 4' });
  const form = el('form', { class: 'ticket-form', 'aria-label': 'Reply' }, text,
    el('div', { class: 'ticket-form-row' },
      el('label', { class: 'field' }, el('span', { text: 'Leave it as' }), state),
      el('label', { class: 'field' }, el('span', { text: 'Resolved within (hours, optional)' }), expected),
      el('button', { class: 'btn btn-primary', type: 'submit', text: 'Send reply' })));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!text.value.trim()) return;
    const body = { text: text.value.trim(), state: state.value };
    if (expected.value) body.expected_resolution = Math.round(tab.ticketNow + Number(expected.value) * HOUR);
    act(`/v1/tickets/${t.id}/reply`, body, () => { text.value = ''; expected.value = ''; });
  });
  return form;
}

function manageForm(t) {
  const to = el('input', { name: 'to', autocomplete: 'off', spellcheck: 'false', placeholder: 'agent id' });
  const note = el('input', { name: 'note', autocomplete: 'off', placeholder: 'what the colleague needs to know' });
  const transfer = el('form', { class: 'ticket-form-row', 'aria-label': 'Transfer' },
    el('label', { class: 'field' }, el('span', { text: 'Transfer to' }), to),
    el('label', { class: 'field grow' }, el('span', { text: 'Handoff note' }), note),
    el('button', { class: 'btn', type: 'submit', text: 'Transfer' }));
  transfer.addEventListener('submit', (event) => {
    event.preventDefault();
    act(`/v1/tickets/${t.id}/transfer`, { to: to.value.trim(), note: note.value.trim() }, () => { to.value = ''; note.value = ''; });
  });
  const urgent = t.priority === 'urgent';
  const priority = el('button', {
    class: 'btn', type: 'button', text: urgent ? 'Set priority normal' : 'Mark urgent',
    onclick: () => act(`/v1/tickets/${t.id}/priority`, { priority: urgent ? 'normal' : 'urgent' }),
  });
  return el('div', { class: 'ticket-manage' }, transfer, priority);
}

async function act(path, body, done) {
  try {
    const answer = await call(path, { method: 'POST', body });
    if (done) done();
    if (answer.ticket) Object.assign(tab, { ticket: answer.ticket, ticketNow: answer.now || tab.ticketNow });
    toast('Saved.');
  } catch (refusal) {
    toast(ticketAgentErrorText(refusal), 'error');
    return;
  }
  forms.id = null; // the state changed: new choices
  await refresh();
}

function renderTicket(keepForms) {
  const t = tab.ticket;
  if (!t) return;
  if (!keepForms || forms.id !== `${t.id}:${t.state}:${t.priority}`) {
    Object.assign(forms, { id: `${t.id}:${t.state}:${t.priority}`, reply: replyForm(t), manage: manageForm(t) });
  }
  const history = el('div', { class: 'history', role: 'log', 'aria-label': 'Ticket messages' }, ...t.messages.map((m) => messageNode(m, t)));
  // (replaceChildren would show a null as the text "null")
  tab.detail.replaceChildren(...[
    el('div', { class: 'pane-head' },
      el('div', { class: 'pane-title' },
        el('h1', { text: `Ticket #${t.id} · ${t.customer_name || 'Customer'}` }),
        el('p', { class: 'muted' }, `${t.group} · ${stateText(t.state)} · ${t.owner ? `owner ${t.owner}` : 'waiting for an owner'} `,
          t.priority === 'urgent' ? el('span', { class: 'tag tag-urgent', text: 'urgent' }) : null))),
    deadlines(t),
    notes(t),
    t.expected_resolution != null ? el('p', { class: 'small', text: `Expected resolution: ${dueText(t.expected_resolution, tab.ticketNow).text.replace('due in', 'in')}` }) : null,
    history,
    t.can_reply ? forms.reply : el('p', { class: 'muted', text: 'Only the owner replies to this ticket.' }),
    forms.manage].filter(Boolean));
  history.scrollTop = history.scrollHeight;
}

// ---- the tab ----------------------------------------------------------------------
function poll() {
  clearTimeout(tab.timer);
  if (!tab.visible) return;
  tab.timer = setTimeout(async () => { if (!document.hidden) await refresh(); poll(); }, POLL_EVERY);
}

function showTab(tickets) {
  tab.visible = tickets;
  tab.root.hidden = !tickets;
  tab.chats.hidden = tickets;
  for (const [button, on] of [[tab.tabButtons.chats, !tickets], [tab.tabButtons.tickets, tickets]]) {
    button.setAttribute('aria-selected', String(on));
    button.classList.toggle('is-active', on);
  }
  if (tickets) refresh();
  poll();
}

/**
 * Adds the Chats / Tickets tabs to the console built by buildShell: `app` is
 * the page's root, `getToken()` the agent's current token. Returns `stop()`.
 */
export function mountTicketsTab({ app, getToken }) {
  token = getToken;
  tab.chats = app.querySelector('main.layout');
  tab.status = el('span', { class: 'muted small', role: 'status' });
  tab.list = el('div', { class: 'tickets-list' });
  tab.detail = el('section', { class: 'pane ticket-pane', 'aria-label': 'Ticket' },
    el('div', { class: 'pane-empty' }, el('p', { class: 'pane-empty-title', text: 'Select a ticket' })));
  tab.root = el('main', { class: 'tickets-view', hidden: true, 'aria-label': 'Tickets' },
    el('div', { class: 'tickets-side' }, controls(), tab.list), tab.detail);
  const count = el('span', { class: 'count', text: '0' });
  const button = (text, onclick, extra) => el('button', { type: 'button', role: 'tab', class: 'tab', onclick }, text, extra);
  tab.tabButtons = { count, chats: button('Chats', () => showTab(false)), tickets: button('Tickets ', () => showTab(true), count) };
  tab.chats.before(el('nav', { class: 'tabs', role: 'tablist', 'aria-label': 'Chats or tickets' }, tab.tabButtons.chats, tab.tabButtons.tickets));
  tab.chats.after(tab.root);
  showTab(false);
  return {
    stop: () => { tab.visible = false; clearTimeout(tab.timer); tab.open = null; },
    /** `ticket_assigned`: a ticket became this agent's. */
    assigned: (msg) => { toast(`New ticket #${msg.ticket} (${msg.group}) in your Tickets tab.`); refresh(); },
  };
}

/** "Turn into ticket…" on a live chat: a note for whoever answers it later, then POST /v1/tickets/from-chat. */
export function openTurnIntoTicket(chat) {
  let node = null;
  const note = el('textarea', { name: 'note', rows: '3', required: true, minlength: '10', placeholder: 'What is left to do, and what the customer was told' });
  const submit = el('button', { class: 'btn btn-primary', type: 'submit', text: 'Turn into ticket' });
  const form = el('form', { class: 'dialog-form' },
    el('p', { class: 'muted', text: 'The chat so far is copied into the ticket. The customer reads the answer on the same browser later.' }),
    el('label', { class: 'field' }, el('span', { text: 'Note' }), note),
    dialogActions(() => node, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const answer = await call('/v1/tickets/from-chat', { method: 'POST', body: { session: chat.id, note: note.value.trim() } });
      const made = answer.ticket || answer;
      toast(`The chat with ${chat.customer} is now ticket #${made.id}.`);
      node.close();
      refresh();
    } catch (refusal) {
      toast(ticketAgentErrorText(refusal), 'error');
      submit.disabled = false;
    }
  });
  node = dialog(`Turn the chat with ${chat.customer} into a ticket`, form);
}
