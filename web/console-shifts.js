// The agent console's "Shifts" panel (docs/shifts.md): the agent's shifts of
// today and the coming days from `GET /v1/shifts` (their own only), each with
// its times in this browser's time zone, its groups and its leave; "Request
// leave…" on a shift still to come; and the agent's discipline standing
// (`GET /v1/discipline`, their own) in one line when there is any.
//
// Leave asked less than `leave_notice_ms` before the shift breaks the leave
// rule and counts as a warning: the console asks before sending it. The time
// left is counted from the answer's `now` (the server's wall clock, which the
// records and the leave rule use), never from this computer's clock alone.
// A running, past or cancelled shift has no leave button; the server refuses
// those anyway (shift_running, shift_over, shift_cancelled) and its message
// is shown.
import { el, requestJson } from '/wire.js';
import { dialog, dialogActions, toast } from '/ui.js';
import { SHIFT_PHASE_TEXT, WARNING_CAUSES, shiftErrorText } from '/texts.js';

const POLL_EVERY = 60000;
const HOUR = 3600000;

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** "Wed 4 Mar, 09:00–11:00" in this browser's time zone (an end on the next day says so). */
export function shiftTimes(shift) {
  const start = new Date(shift.starts_at);
  const end = new Date(shift.ends_at);
  const nextDay = dayFormat.format(start) !== dayFormat.format(end) ? ' (next day)' : '';
  return `${dayFormat.format(start)}, ${timeFormat.format(start)}–${timeFormat.format(end)}${nextDay}`;
}

/** A moment (ms) as "4 Mar 2026, 09:00" in this browser's time zone. */
export const moment = (ms) => dateTimeFormat.format(new Date(ms));

/** "2 hours", "90 minutes": the leave notice as the question says it. */
export function noticeText(ms) {
  if (ms % HOUR === 0) return ms === HOUR ? '1 hour' : `${ms / HOUR} hours`;
  return `${Math.round(ms / 60000)} minutes`;
}

/** The groups of a shift ("the agent's roster groups" when it names none). */
export const groupsText = (shift) => (shift.groups && shift.groups.length ? shift.groups.join(', ') : 'roster groups');

/** A shift's leave as words, and a short key for styling and tests. */
export function leaveText(leave) {
  if (!leave) return { key: 'none', text: '' };
  return leave.late ? { key: 'late', text: 'Leave asked late (a warning)' } : { key: 'on-time', text: 'Leave asked' };
}

/** The warnings of a standing, weighted as the rules count them (absence is two). */
export const warningCount = (standing) => standing.warnings.reduce((n, w) => n + ((WARNING_CAUSES[w.cause] || {}).weight || 1), 0);

/** One agent's discipline in a line: warnings by cause, and a suspension or disqualification. */
export function standingText(standing) {
  const n = warningCount(standing);
  const causes = [...new Set(standing.warnings.map((w) => (WARNING_CAUSES[w.cause] || { text: w.cause }).text))];
  const parts = [`${n} ${n === 1 ? 'warning' : 'warnings'}${causes.length ? ` (${causes.join(', ')})` : ''}`];
  const bar = standing.barred;
  if (bar && bar.state === 'suspended') parts.push(`suspended until ${moment(bar.until)}`);
  if (bar && bar.state === 'disqualified') parts.push(`disqualified since ${moment(bar.since)}`);
  return parts.join('; ');
}

const panel = {
  token: () => null, node: null, count: null, list: null, status: null, standing: null, timer: null, stopped: false, answer: null, fetchedAt: 0,
};

const call = (path, options = {}) => requestJson(path, { ...options, token: panel.token() });

/** The server's wall clock now, from the last answer's `now`. */
const serverNow = () => panel.answer.now + (Date.now() - panel.fetchedAt);

async function refresh() {
  clearTimeout(panel.timer);
  if (panel.stopped) return;
  try {
    const answer = await call('/v1/shifts');
    Object.assign(panel, { answer, fetchedAt: Date.now() });
    panel.status.textContent = '';
    render();
  } catch (refusal) {
    panel.status.textContent = shiftErrorText(refusal);
  }
  await refreshStanding();
  schedule();
}

/** The next fetch: phases move on (a shift starts, ends) while the console stays open. */
function schedule() {
  clearTimeout(panel.timer);
  if (!panel.stopped) panel.timer = setTimeout(() => (document.hidden ? schedule() : refresh()), POLL_EVERY);
}

async function refreshStanding() {
  try {
    const { agents } = await call('/v1/discipline');
    const mine = agents[0];
    panel.standing.hidden = !mine;
    panel.standing.textContent = mine ? `Discipline: ${standingText(mine)}` : '';
  } catch (_) {
    panel.standing.hidden = true; // the shifts' status line says why the records cannot be read
  }
}

/** Today's shifts (from this browser's midnight) and the coming ones, soonest first. */
function shown(shifts) {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  return shifts.filter((s) => s.ends_at > midnight.getTime()).sort((a, b) => a.starts_at - b.starts_at);
}

function shiftItem(s) {
  const leave = leaveText(s.leave);
  const canAsk = s.phase === 'upcoming' && !s.leave;
  return el('li', { class: 'shift-item', 'data-shift': s.shift, 'data-phase': s.phase, 'data-leave': leave.key },
    el('div', { class: 'session-top' },
      el('span', { class: 'session-name', text: shiftTimes(s) }),
      el('span', { class: `tag ${s.phase === 'running' ? 'tag-note' : ''}`, text: SHIFT_PHASE_TEXT[s.phase] || s.phase })),
    el('span', { class: 'session-last', text: `${groupsText(s)} · ${s.level}` }),
    leave.text ? el('span', { class: `tag ${s.leave.late ? 'tag-urgent' : ''}`, 'data-cell': 'leave', text: leave.text }) : null,
    canAsk ? el('button', { class: 'btn', type: 'button', text: 'Request leave…', onclick: () => askLeave(s) }) : null);
}

function render() {
  const shifts = shown(panel.answer.shifts);
  panel.count.textContent = String(shifts.filter((s) => s.phase !== 'cancelled').length);
  panel.list.replaceChildren(...(shifts.length ? shifts.map(shiftItem) : [el('li', { class: 'muted small', text: 'No shifts today or in the next two weeks.' })]));
}

/** The leave dialog: a reason, then (if late) the question whether to ask anyway. */
function askLeave(shift) {
  let node = null;
  const reason = el('textarea', { name: 'reason', rows: '3', required: true, maxlength: '500', placeholder: 'Why you cannot work this shift' });
  const submit = el('button', { class: 'btn btn-primary', type: 'submit', text: 'Request leave' });
  const problem = el('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = el('form', { class: 'dialog-form' },
    el('label', { class: 'field' }, el('span', { text: 'Reason' }), reason), problem, dialogActions(() => node, submit));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!reason.value.trim()) return;
    const notice = panel.answer.leave_notice_ms;
    if (shift.starts_at - serverNow() < notice) confirmLate(form, node, notice, () => send(shift, reason.value.trim(), node, problem));
    else send(shift, reason.value.trim(), node, problem);
  });
  node = dialog(`Request leave: ${shiftTimes(shift)}`, form);
}

/** Replaces the dialog's form with the late-leave question. */
function confirmLate(form, node, notice, go) {
  const ask = el('button', { class: 'btn btn-primary', type: 'button', text: 'Ask anyway', onclick: () => { ask.disabled = true; go(); } });
  const question = el('div', { class: 'dialog-form', 'data-question': 'late-leave' },
    el('p', { role: 'alert', text: `This is less than ${noticeText(notice)} before the shift and counts as a warning. Ask anyway?` }),
    form.querySelector('.form-error'),
    dialogActions(() => node, ask));
  form.replaceWith(question);
}

async function send(shift, reason, node, problem) {
  try {
    const answer = await call(`/v1/shifts/${encodeURIComponent(shift.shift)}/leave`, { method: 'POST', body: { reason } });
    toast(answer.late ? 'Leave asked. It was late: it counts as a warning.' : 'Leave asked.');
    node.close();
  } catch (refusal) {
    problem.textContent = shiftErrorText(refusal);
    problem.hidden = false;
    for (const button of node.querySelectorAll('button:disabled')) button.disabled = false;
    return;
  }
  await refresh();
}

/**
 * Adds the "Shifts" panel at the foot of the console's sidebar (built by
 * buildShell); `getToken()` gives the agent's current token. Returns `stop()`.
 */
export function mountShiftsPanel({ app, getToken }) {
  Object.assign(panel, { token: getToken, stopped: false });
  panel.count = el('span', { class: 'count', text: '0' });
  panel.status = el('p', { class: 'muted small', role: 'status' });
  panel.standing = el('p', { class: 'small discipline-line', hidden: true });
  panel.list = el('ul', { class: 'session-list shift-list', 'aria-label': 'Your shifts' });
  panel.node = el('details', { class: 'flags-box shifts-box', open: true },
    el('summary', { class: 'side-title' }, 'Shifts ', panel.count), panel.standing, panel.status, panel.list);
  app.querySelector('.sidebar').append(panel.node);
  refresh();
  return { stop: () => { panel.stopped = true; clearTimeout(panel.timer); } };
}
