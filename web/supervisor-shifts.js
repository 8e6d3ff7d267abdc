// The supervisor view's "Shifts" and "Discipline" panels (docs/shifts.md).
//
// Shifts: the shifts of one day (`GET /v1/shifts?from=DAY&to=DAY`; the day is
// the business calendar's date, the times are shown in this browser's time
// zone) with agent, times, groups, level, leave (late or not, with the
// reason) and state; a small form adds a shift (`POST /v1/shifts`), a Cancel
// button cancels one after a confirmation (`DELETE /v1/shifts/{id}`).
//
// Discipline: every agent with a warning (`GET /v1/discipline`): warnings by
// cause, suspensions and a disqualification. Fetched when unfolded and by its
// Refresh button (it changes with leave and reviews, not every second).
//
// Both live outside the board the snapshot redraws every 2 s, so what is typed
// in the form stays.
import { el, requestJson } from '/wire.js';
import { dialog, dialogActions, toast } from '/ui.js';
import { SHIFT_PHASE_TEXT, shiftErrorText } from '/texts.js';
import { shiftTimes, groupsText, leaveText, moment, standingText } from '/console-shifts.js';

const LEVELS = ['beginner', 'rising'];

/** Today in this browser as YYYY-MM-DD (what an `<input type="date">` holds). */
function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

const field = (label, input) => el('label', { class: 'field' }, el('span', { text: label }), input);

/** The add-a-shift form; `onAdded()` after a shift was added. */
function addForm(call, day, onAdded) {
  const inputs = {
    agent: el('input', { name: 'agent', required: true, autocomplete: 'off', spellcheck: 'false' }),
    date: el('input', { name: 'date', type: 'date', required: true, value: day() }),
    start: el('input', { name: 'start', type: 'time', required: true }),
    end: el('input', { name: 'end', type: 'time', required: true }),
    groups: el('input', { name: 'groups', autocomplete: 'off', spellcheck: 'false', placeholder: 'roster groups' }),
    level: el('select', { name: 'level' }, ...LEVELS.map((l) => el('option', { value: l, text: l }))),
  };
  const problem = el('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = el('form', { class: 'records-filters', 'aria-label': 'Add a shift' },
    field('Agent ID', inputs.agent), field('Date', inputs.date), field('Start', inputs.start), field('End', inputs.end),
    field('Groups (comma-separated, optional)', inputs.groups), field('Level', inputs.level),
    el('div', { class: 'records-actions' }, el('button', { class: 'btn btn-primary', type: 'submit', text: 'Add shift' })), problem);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { agent: inputs.agent.value.trim(), date: inputs.date.value, start: inputs.start.value, end: inputs.end.value, level: inputs.level.value };
    const groups = inputs.groups.value.split(',').map((g) => g.trim()).filter(Boolean);
    if (groups.length) body.groups = groups;
    try {
      const shift = await call('/v1/shifts', { method: 'POST', body });
      problem.hidden = true;
      toast(`Shift added: ${shift.agent}, ${shiftTimes(shift)}.`);
      onAdded(shift);
    } catch (refusal) {
      problem.textContent = shiftErrorText(refusal);
      problem.hidden = false;
    }
  });
  return form;
}

function leaveCell(s) {
  const leave = leaveText(s.leave);
  if (!s.leave) return el('td', { 'data-cell': 'leave', class: 'muted', text: '–' });
  return el('td', { 'data-cell': 'leave', 'data-leave': leave.key },
    el('span', { class: `tag ${s.leave.late ? 'tag-urgent' : ''}`, text: s.leave.late ? 'late' : 'in time' }),
    ` ${s.leave.reason}`);
}

function shiftRow(s, onCancel) {
  const cancellable = s.phase === 'upcoming' || s.phase === 'running';
  return el('tr', { 'data-shift': s.shift, 'data-phase': s.phase },
    el('td', { text: s.agent }),
    el('td', { text: shiftTimes(s) }),
    el('td', { text: groupsText(s) }),
    el('td', { text: s.level }),
    leaveCell(s),
    el('td', { 'data-cell': 'phase', text: SHIFT_PHASE_TEXT[s.phase] || s.phase }),
    el('td', {}, cancellable ? el('button', { class: 'btn', type: 'button', text: 'Cancel…', 'aria-label': `Cancel ${s.agent}'s shift ${shiftTimes(s)}`, onclick: () => onCancel(s) }) : null));
}

function confirmCancel(call, s, done) {
  let node = null;
  const submit = el('button', { class: 'btn btn-primary', type: 'submit', text: 'Cancel the shift' });
  const problem = el('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = el('form', { class: 'dialog-form' },
    el('p', { text: `${s.agent}'s shift ${shiftTimes(s)} will be cancelled. It stays in the records, marked cancelled.` }),
    problem, dialogActions(() => node, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await call(`/v1/shifts/${encodeURIComponent(s.shift)}`, { method: 'DELETE' });
      node.close();
      toast('Shift cancelled.');
      done();
    } catch (refusal) {
      problem.textContent = shiftErrorText(refusal);
      problem.hidden = false;
    }
  });
  node = dialog(`Cancel ${s.agent}'s shift?`, form);
}

/** The "Shifts" panel; `token()` gives the current sign-in token. Returns `{ node, refresh() }`. */
export function shiftsPanel({ token }) {
  const call = (path, options = {}) => requestJson(path, { ...options, token: token() });
  const dayInput = el('input', { name: 'day', type: 'date', value: today() });
  const status = el('p', { class: 'muted small', role: 'status' });
  const body = el('div', { class: 'records-results' });
  let node = null;
  const refresh = async () => {
    if (!node.open || !dayInput.value) return;
    const day = dayInput.value;
    try {
      const { shifts } = await call(`/v1/shifts?${new URLSearchParams({ from: day, to: day })}`);
      const sorted = [...shifts].sort((a, b) => a.starts_at - b.starts_at || a.agent.localeCompare(b.agent));
      status.textContent = sorted.length ? `${sorted.length} ${sorted.length === 1 ? 'shift' : 'shifts'} on ${day}.` : `No shifts on ${day}.`;
      body.replaceChildren(sorted.length ? el('table', { class: 'shifts-table' },
        el('thead', {}, el('tr', {}, ...['Agent', 'Time', 'Groups', 'Level', 'Leave', 'State', ''].map((text) => el('th', { text })))),
        el('tbody', {}, ...sorted.map((s) => shiftRow(s, (shift) => confirmCancel(call, shift, refresh))))) : '');
    } catch (refusal) {
      status.textContent = shiftErrorText(refusal);
    }
  };
  dayInput.addEventListener('change', refresh);
  const form = addForm(call, () => dayInput.value || today(), (shift) => { dayInput.value = shift.day; refresh(); });
  node = el('details', { class: 'card fold-card shifts-card' },
    el('summary', {}, el('h2', { text: 'Shifts' })),
    el('div', { class: 'records-filters' }, field('Day (business calendar)', dayInput)),
    status, body,
    el('h3', { class: 'small', text: 'Add a shift' }), form);
  node.addEventListener('toggle', refresh);
  return { node, refresh };
}

function standingRow(s) {
  const bar = s.barred;
  const state = !bar ? 'active' : bar.state;
  return el('tr', { 'data-agent': s.agent, 'data-state': state },
    el('td', { text: s.agent }),
    el('td', { 'data-cell': 'warnings', text: standingText({ ...s, barred: null }) }),
    el('td', { text: s.suspensions.length ? s.suspensions.map((p) => `${moment(p.from)} – ${moment(p.until)}`).join('; ') : '–' }),
    el('td', { 'data-cell': 'state', text: !bar ? 'may work' : bar.state === 'suspended' ? `suspended until ${moment(bar.until)}` : `disqualified since ${moment(bar.since)}` }));
}

/** Every agent with a warning, as `{agent: words}` for the performance panel's column (`{}` when refused). */
export async function disciplineByAgent(token) {
  try {
    const { agents } = await requestJson('/v1/discipline', { token: token() });
    return Object.fromEntries(agents.map((s) => [s.agent, standingText(s)]));
  } catch {
    return {};
  }
}

/** The "Discipline" panel; `token()` gives the current sign-in token. Returns `{ node, refresh() }`. */
export function disciplinePanel({ token }) {
  const status = el('p', { class: 'muted small', role: 'status' });
  const body = el('div', { class: 'records-results' });
  let node = null;
  const refresh = async () => {
    if (!node.open) return;
    try {
      const { agents } = await requestJson('/v1/discipline', { token: token() });
      status.textContent = agents.length ? `${agents.length} ${agents.length === 1 ? 'agent has' : 'agents have'} warnings.` : 'No agent has a warning.';
      body.replaceChildren(agents.length ? el('table', { class: 'discipline-table' },
        el('thead', {}, el('tr', {}, ...['Agent', 'Warnings', 'Suspensions', 'Now'].map((text) => el('th', { text })))),
        el('tbody', {}, ...agents.map(standingRow))) : '');
    } catch (refusal) {
      status.textContent = shiftErrorText(refusal);
    }
  };
  node = el('details', { class: 'card fold-card discipline-card' },
    el('summary', {}, el('h2', { text: 'Discipline' })),
    el('button', { class: 'btn', type: 'button', text: 'Refresh', onclick: refresh }),
    status, body);
  node.addEventListener('toggle', refresh);
  return { node, refresh };
}
