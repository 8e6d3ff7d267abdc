// The supervisor view's "Past chats" panel (the pages call a session a chat, never a
// conversation: docs/domain.md, Glossary): closed chats looked up in
// the records store over `GET /v1/records/chats` (the public listener's copy of
// the admin lookups, docs/records.md), filtered by customer, agent, group,
// closing day and conduct flag; one opens in a dialog with its transcript,
// handoff notes, flags, rating and timings.
//
// The panel lives outside the board the snapshot redraws every 2 s, so what a
// supervisor types in the filters is never wiped by a refresh.
import { el, formatDuration, requestJson } from '/wire.js';
import { dialog } from '/ui.js';
import { FLAG_TEXT, ENDED_TEXT, RECORDS_TEXT, recordsErrorText } from '/texts.js';

/** GET a records path with the supervisor's token. */
const lookup = (path, token) => requestJson(path, { token: token() });

const FILTERS = [
  ['customer', 'Customer (name or id)', 'text'],
  ['agent', 'Agent ID', 'text'],
  ['group', 'Group ID', 'text'],
  ['from', 'Closed from (UTC day)', 'date'],
  ['to', 'Closed until (UTC day)', 'date'],
];

/** A wall-clock time (records are in wall-clock ms) as a local date and time. */
const when = (ms) => (ms == null ? '–' : new Date(ms).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }));
const span = (from, to) => (from == null || to == null ? '–' : formatDuration(Math.max(0, to - from)));
const flagName = (kind) => FLAG_TEXT[kind] || kind;
const ratingText = (rating) => RECORDS_TEXT.rating[rating] || RECORDS_TEXT.rating.none;

function flagSelect() {
  return el('select', { name: 'flag' },
    el('option', { value: '', text: 'Any (or none)' }),
    ...Object.keys(FLAG_TEXT).map((kind) => el('option', { value: kind, text: flagName(kind) })));
}

function filterForm(onSearch) {
  const form = el('form', { class: 'records-filters', 'aria-label': 'Find past chats' },
    ...FILTERS.map(([name, label, type]) => el('label', { class: 'field' }, el('span', { text: label }),
      el('input', { name, type, autocomplete: 'off', spellcheck: 'false' }))),
    el('label', { class: 'field' }, el('span', { text: 'Conduct flag' }), flagSelect()),
    el('div', { class: 'records-actions' }, el('button', { class: 'btn btn-primary', type: 'submit', text: 'Search' })));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (String(value).trim()) query.set(key, String(value).trim());
    onSearch(query);
  });
  return form;
}

function resultRow(chat, onOpen) {
  return el('tr', { 'data-session': String(chat.session) },
    el('td', {}, el('button', { class: 'link', type: 'button', text: `Chat #${chat.session}`, onclick: () => onOpen(chat) })),
    el('td', { text: when(chat.closed_at) }),
    el('td', { text: chat.group }),
    el('td', { text: chat.customer_name || chat.customer_id || '–' }),
    el('td', { text: chat.agents.join(', ') || '–' }),
    el('td', { text: ENDED_TEXT[chat.close_reason] || chat.close_reason }),
    el('td', { text: ratingText(chat.rating) }),
    el('td', { class: 'small', 'data-cell': 'flags' }, ...(chat.flags.length
      ? chat.flags.map((kind) => el('span', { class: 'flag-chip', text: flagName(kind) }))
      : [el('span', { class: 'muted', text: 'none' })])));
}

function resultsTable(chats, onOpen) {
  const head = ['Chat', 'Closed', 'Group', 'Customer', 'Agents', 'Ended', 'Rating', 'Conduct flags'];
  return el('table', { class: 'records-table' },
    el('thead', {}, el('tr', {}, ...head.map((text) => el('th', { text })))),
    el('tbody', {}, ...chats.map((chat) => resultRow(chat, onOpen))));
}

const line = (label, value) => el('div', { class: 'kv' }, el('span', { class: 'muted', text: label }), el('strong', { text: value }));

function timings(chat) {
  return el('div', { class: 'kv-grid', 'aria-label': 'Timings' },
    line('Opened', when(chat.opened_at)), line('Assigned', when(chat.assigned_at)), line('Closed', when(chat.closed_at)),
    line('Waited', span(chat.opened_at, chat.assigned_at)), line('Lasted', span(chat.opened_at, chat.closed_at)),
    line('Ended', ENDED_TEXT[chat.close_reason] || chat.close_reason), line('Rating', ratingText(chat.rating)),
    line('Customer', chat.customer_name || chat.customer_id || '–'), line('Agents', chat.agents.join(', ') || '–'));
}

function transcript(chat) {
  const lines = chat.transcript.map((l) => el('li', { class: `said said-${l.from}` },
    el('span', { class: 'muted small', text: `${when(l.at)} · ${l.from === 'agent' ? l.agent || 'agent' : chat.customer_name || 'customer'}` }),
    el('p', { text: l.text })));
  return el('section', { 'aria-label': 'Transcript' }, el('h3', { text: 'Transcript' }),
    lines.length ? el('ol', { class: 'transcript' }, ...lines) : el('p', { class: 'muted', text: 'No messages.' }));
}

function notes(chat) {
  if (!chat.handoff_notes.length) return null;
  return el('section', { 'aria-label': 'Handoff notes' }, el('h3', { text: 'Handoff notes' }),
    el('ul', {}, ...chat.handoff_notes.map((n) => el('li', {},
      el('span', { class: 'muted small', text: `${when(n.at)} · ${n.from} → ${n.target}` }), el('p', { text: n.text })))));
}

function flags(chat) {
  if (!chat.flag_details.length) return el('p', { class: 'muted', text: 'No conduct flags.' });
  return el('section', { 'aria-label': 'Conduct flags' }, el('h3', { text: 'Conduct flags' }),
    el('ul', {}, ...chat.flag_details.map((f) => el('li', { 'data-flag': f.kind },
      el('strong', { text: flagName(f.kind) }), el('span', { class: 'muted small', text: ` · ${f.agent} · ${when(f.at)}` })))));
}

/** A chat's timings, flags, notes and transcript (also the complaint review's, supervisor-quality.js). */
export const chatDetail = (chat) => [timings(chat), flags(chat), notes(chat), transcript(chat)];

/** `extras(chat)`: more sections under the transcript (the spot check, supervisor-quality.js). */
function showChat(chat, extras) {
  let node = null;
  const close = el('button', { class: 'btn btn-primary', type: 'button', text: 'Close', onclick: () => node.close() });
  node = dialog(`Chat #${chat.session} · ${chat.group}`, el('div', { class: 'record-detail' },
    ...chatDetail(chat), extras ? extras(chat) : null, el('div', { class: 'dialog-actions' }, close)));
  node.classList.add('dialog-wide');
}

/**
 * The panel. `token()` gives the current sign-in token (renewed by the page);
 * `chatExtras(chat)`, if given, adds sections to an opened chat.
 * Returns `{ node, open(summary), reset() }`: `open` shows a chat found
 * elsewhere (a summary with `origin` and `session`); `reset()` forgets the
 * results (on sign-out).
 */
export function recordsPanel({ token, chatExtras }) {
  const status = el('p', { class: 'muted small', role: 'status', text: RECORDS_TEXT.hint });
  const results = el('div', { class: 'records-results' });
  const open = async (summary) => {
    const origin = new URLSearchParams({ origin: summary.origin });
    try {
      showChat(await lookup(`/v1/records/chats/${summary.session}?${origin}`, token), chatExtras);
    } catch (refusal) {
      status.textContent = recordsErrorText(refusal);
    }
  };
  const search = async (query) => {
    status.textContent = 'Searching…';
    try {
      const { chats } = await lookup(`/v1/records/chats?${query}`, token);
      status.textContent = RECORDS_TEXT.found(chats.length);
      results.replaceChildren(chats.length ? resultsTable(chats, open) : el('p', { class: 'muted', text: RECORDS_TEXT.none }));
    } catch (refusal) {
      status.textContent = recordsErrorText(refusal);
      results.replaceChildren();
    }
  };
  const node = el('section', { class: 'card records-card', id: 'past-chats', 'aria-label': 'Past chats' },
    el('h2', { text: 'Past chats' }), filterForm(search), status, results);
  return { node, open, reset: () => { results.replaceChildren(); status.textContent = RECORDS_TEXT.hint; } };
}
