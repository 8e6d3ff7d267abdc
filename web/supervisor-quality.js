// The supervisor view's service quality (docs/quality.md): the spot check of
// a past chat (a section of the chat's dialog, supervisor-records.js), the
// "Spot checks" panel (an agent's month so far, and the next chat of theirs
// nobody has checked), and the "Open complaints" panel, whose review dialog shows what is complained
// about (the chat's record, or the ticket) and decides the complaint once.
//
// A spot check may be marked again (it replaces the verdict); a review is
// final, so it asks for a confirmation first.
import { el, requestJson } from '/wire.js';
import { dialog, toast } from '/ui.js';
import { QUALITY_TEXT, qualityErrorText } from '/texts.js';
import { chatDetail } from '/supervisor-records.js';

/** Open complaints are looked at again this often while the page is open. */
const POLL_EVERY = 15000;
/** The longest comment the server keeps (quality::MAX_TEXT). */
const MAX_TEXT = 1000;

const when = (ms) => (ms == null ? '–' : new Date(ms).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }));
const subjectName = (c) => `${c.subject_kind === 'chat' ? 'Chat' : 'Ticket'} #${c.subject_id}`;

/** A fieldset of radio buttons, one per `[value, label]`; `name` is the form key. */
function choices(legend, name, options, hint) {
  return el('fieldset', { class: 'choice-set' },
    el('legend', { text: legend }),
    ...options.map(([value, label]) => el('label', { class: 'choice-line' },
      el('input', { type: 'radio', name, value, required: true }), el('span', { text: label }))),
    hint ? el('p', { class: 'muted small', text: hint }) : null);
}

const commentField = (label) => el('label', { class: 'field' }, el('span', { text: label }),
  el('textarea', { name: 'comment', rows: '3', maxlength: String(MAX_TEXT) }));

function verdictText(check) {
  if (!check) return 'Not checked yet.';
  const comment = check.comment ? `: “${check.comment}”` : '';
  return `${QUALITY_TEXT.result[check.result] || check.result} (agent ${check.agent}), by ${check.checked_by} on ${when(check.checked_at)}${comment}`;
}

/**
 * The spot check section of a past chat's dialog: the verdict so far and a
 * form to mark it (again). `token()` gives the sign-in token.
 */
export function spotCheckSection(chat, token) {
  const current = el('p', { 'data-spot-check': chat.spot_check ? chat.spot_check.result : 'none', text: verdictText(chat.spot_check) });
  const status = el('p', { class: 'muted small', role: 'status', 'aria-live': 'polite' });
  const section = el('section', { class: 'spot-check', 'aria-label': 'Spot check' }, el('h3', { text: 'Spot check' }), current);
  if (!chat.agents.length) {
    section.append(el('p', { class: 'muted', text: qualityErrorText({ code: 'nobody_served' }) }));
    return section;
  }
  const form = el('form', { class: 'quality-form' },
    choices('Result', 'result', Object.entries(QUALITY_TEXT.result)),
    commentField('Comment'),
    el('div', { class: 'dialog-actions' },
      el('button', { class: 'btn btn-primary', type: 'submit', text: chat.spot_check ? 'Replace spot check' : 'Save spot check' })),
    status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { result: data.get('result'), comment: String(data.get('comment') || '').trim() };
    status.textContent = 'Saving…';
    try {
      const check = await requestJson(`/v1/records/chats/${chat.session}/spot-check`, { method: 'PUT', token: token(), body });
      current.textContent = verdictText(check);
      current.dataset.spotCheck = check.result;
      status.textContent = 'Spot check saved.';
      form.querySelector('button[type="submit"]').textContent = 'Replace spot check';
    } catch (refusal) {
      status.textContent = qualityErrorText(refusal);
    }
  });
  section.append(form);
  return section;
}

/** What the complaint is about: the chat's record or the ticket, as the supervisor reads it. */
async function subjectDetail(c, token) {
  if (c.subject_kind === 'chat') {
    const origin = new URLSearchParams({ origin: c.origin });
    const chat = await requestJson(`/v1/records/chats/${c.subject_id}?${origin}`, { token: token() });
    return chatDetail(chat);
  }
  const { ticket } = await requestJson(`/v1/tickets/${c.subject_id}`, { token: token() });
  const lines = ticket.messages.map((m) => el('li', { class: `said said-${m.from}` },
    el('span', { class: 'muted small', text: `${when(m.at)} · ${m.from === 'agent' ? m.agent || 'agent' : m.from}` }),
    el('p', { text: m.text })));
  return [el('section', { 'aria-label': 'Ticket messages' }, el('h3', { text: `Ticket #${ticket.id} · ${ticket.group}` }),
    lines.length ? el('ol', { class: 'transcript' }, ...lines) : el('p', { class: 'muted', text: 'No messages.' }))];
}

/** The review form; asks for a confirmation before `decide(body)` (a review is final). */
function reviewForm(decide) {
  const status = el('p', { class: 'muted small', role: 'status', 'aria-live': 'polite' });
  const confirmRow = el('div', { class: 'confirm', role: 'group', 'aria-label': 'Confirm the decision', hidden: true });
  const submit = el('button', { class: 'btn btn-primary', type: 'submit', text: 'Decide…' });
  const form = el('form', { class: 'quality-form' },
    choices('Outcome', 'outcome', Object.entries(QUALITY_TEXT.outcome)),
    choices('Category', 'category', Object.entries(QUALITY_TEXT.category), QUALITY_TEXT.categoryHint),
    commentField('Public comment (the customer reads it)'),
    el('div', { class: 'dialog-actions' }, submit), confirmRow, status);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { outcome: data.get('outcome'), category: data.get('category'), comment: String(data.get('comment') || '').trim() };
    const summary = `${QUALITY_TEXT.outcome[body.outcome]}, ${QUALITY_TEXT.categoryShort[body.category]}.`;
    const back = el('button', { class: 'btn', type: 'button', text: 'Back', onclick: () => { confirmRow.hidden = true; submit.hidden = false; submit.focus(); } });
    const yes = el('button', {
      class: 'btn btn-primary', type: 'button', text: 'Confirm decision',
      onclick: async () => {
        yes.disabled = true;
        status.textContent = 'Saving…';
        status.textContent = (await decide(body)) || '';
        yes.disabled = false;
      },
    });
    confirmRow.replaceChildren(el('p', { text: `${summary} ${QUALITY_TEXT.final}` }), el('div', { class: 'dialog-actions' }, back, yes));
    confirmRow.hidden = false;
    submit.hidden = true;
    yes.focus();
  });
  return form;
}

/** The review dialog of one complaint; `onDecided()` after the review is saved. */
async function showReview(c, token, onDecided) {
  let node = null;
  const decide = async (body) => {
    try {
      await requestJson(`/v1/complaints/${encodeURIComponent(c.complaint)}/review`, { method: 'POST', token: token(), body });
    } catch (refusal) {
      return qualityErrorText(refusal);
    }
    node.close();
    toast(`Complaint about ${subjectName(c).toLowerCase()}: ${QUALITY_TEXT.outcome[body.outcome].toLowerCase()}.`, 'info');
    onDecided();
    return null;
  };
  let detail;
  try {
    detail = await subjectDetail(c, token);
  } catch (refusal) {
    detail = [el('p', { class: 'form-error', role: 'alert', text: qualityErrorText(refusal) })];
  }
  const close = el('button', { class: 'btn', type: 'button', text: 'Close', onclick: () => node.close() });
  node = dialog(`Complaint about ${subjectName(c).toLowerCase()}`, el('div', { class: 'record-detail' },
    el('section', { 'aria-label': 'The complaint' }, el('h3', { text: 'The complaint' }),
      el('p', { text: c.reason }),
      el('p', { class: 'muted small', text: `Filed ${when(c.created_at)} · agent ${c.agent || '(not known yet)'} · ${c.group || '–'}` })),
    ...detail,
    el('section', { 'aria-label': 'Review' }, el('h3', { text: 'Review' }), reviewForm(decide)),
    el('div', { class: 'dialog-actions' }, close)));
  node.classList.add('dialog-wide');
}

function complaintRow(c, onReview) {
  return el('tr', { 'data-complaint': c.complaint },
    el('td', { text: when(c.created_at) }),
    el('td', { text: subjectName(c) }),
    el('td', { text: c.group || '–' }),
    el('td', { text: c.agent || '–' }),
    el('td', { text: c.reason }),
    el('td', {}, el('button', { class: 'link', type: 'button', text: 'Review', 'aria-label': `Review the complaint about ${subjectName(c).toLowerCase()}`, onclick: () => onReview(c) })));
}

/**
 * The "Open complaints" panel; `token()` gives the sign-in token. Returns
 * `{ node, refresh(), stop() }`.
 */
export function complaintsPanel({ token }) {
  const status = el('p', { class: 'muted small', role: 'status', text: 'Loading…' });
  const body = el('div', { class: 'records-results' });
  let timer = null;
  let stopped = false;
  const refresh = async () => {
    clearTimeout(timer);
    if (stopped) return;
    try {
      const { complaints } = await requestJson('/v1/complaints?state=open', { token: token() });
      status.textContent = complaints.length ? QUALITY_TEXT.openCount(complaints.length) : QUALITY_TEXT.noComplaints;
      const review = (c) => showReview(c, token, refresh);
      body.replaceChildren(complaints.length ? el('table', { class: 'records-table' },
        el('thead', {}, el('tr', {}, ...['Filed', 'About', 'Group', 'Agent', 'Reason'].map((text) => el('th', { text })),
          el('th', {}, el('span', { class: 'visually-hidden', text: 'Review' })))),
        el('tbody', {}, ...complaints.map((c) => complaintRow(c, review)))) : '');
    } catch (refusal) {
      status.textContent = qualityErrorText(refusal);
    }
    if (!stopped) timer = setTimeout(refresh, POLL_EVERY);
  };
  const node = el('section', { class: 'card complaints-card', id: 'open-complaints', 'aria-label': 'Open complaints' },
    el('div', { class: 'card-head' }, el('h2', { text: 'Open complaints' }),
      el('button', { class: 'btn btn-quiet', type: 'button', text: 'Refresh', onclick: refresh })),
    status, body);
  refresh();
  return { node, refresh, stop: () => { stopped = true; clearTimeout(timer); } };
}

/** The first day of this month (UTC, as the records lookups read days). */
const monthStart = () => new Date().toISOString().slice(0, 8) + '01';

function tally({ checked, passed, pass_rate: rate }, agent) {
  const share = rate == null ? '' : ` (${Math.round(rate * 100)} % passed)`;
  return `${agent}: ${checked} checked this month, ${passed} passed${share}. ${QUALITY_TEXT.monthGoal}`;
}

/**
 * The "Spot checks" panel: an agent's checks this month with the pass rate,
 * and their next unchecked chat, opened with `openChat(summary)` (the past
 * chat's dialog, where the check is marked). Returns `{ node }`.
 */
export function spotChecksPanel({ token, openChat }) {
  const agent = el('input', { name: 'agent', type: 'text', autocomplete: 'off', spellcheck: 'false', required: true });
  const status = el('p', { class: 'muted small', role: 'status', 'aria-live': 'polite', text: QUALITY_TEXT.spotHint });
  const query = () => new URLSearchParams({ agent: agent.value.trim(), from: monthStart() });
  const month = async () => {
    try {
      status.textContent = tally(await requestJson(`/v1/spot-checks?${query()}`, { token: token() }), agent.value.trim());
    } catch (refusal) {
      status.textContent = qualityErrorText(refusal);
    }
  };
  const next = async () => {
    if (!agent.reportValidity()) return;
    try {
      const { chat } = await requestJson(`/v1/spot-checks/next?${query()}`, { token: token() });
      if (chat) openChat(chat);
      else status.textContent = QUALITY_TEXT.allChecked(agent.value.trim());
    } catch (refusal) {
      status.textContent = qualityErrorText(refusal);
    }
  };
  const form = el('form', { class: 'records-filters', 'aria-label': 'An agent\'s spot checks' },
    el('label', { class: 'field' }, el('span', { text: 'Agent ID' }), agent),
    el('div', { class: 'records-actions' },
      el('button', { class: 'btn btn-primary', type: 'submit', text: 'This month' }),
      el('button', { class: 'btn', type: 'button', text: 'Open next unchecked chat', onclick: next })));
  form.addEventListener('submit', (event) => { event.preventDefault(); month(); });
  return { node: el('section', { class: 'card spot-checks-card', 'aria-label': 'Spot checks' }, el('h2', { text: 'Spot checks' }), form, status) };
}
