// The supervisor view's "Performance" panel: each agent's figures for today
// (refreshed every REFRESH_EVERY while the panel is open and the tab is
// visible) or this month, from `GET /v1/performance`
// (docs/performance-figures.md), with the handbook's targets. The server says
// which targets are met (`checks`); a missed one is said in words ("below
// target", "above target", "not punctual") beside an icon with a label, never
// by colour alone.
//
// "Today" and "this month" are the business calendar's (the server's
// `time_zone`): the month is asked for from the first of the month of the
// day the server calls today, so this computer's clock and zone do not matter.
import { el, requestJson } from '/wire.js';
import { FLAG_TEXT } from '/texts.js';

const REFRESH_EVERY = 30000;

/** The two periods the toggle offers: the query and the button's words. */
const MODES = {
  today: { label: 'Today', query: () => 'by=day' },
  month: { label: 'This month', query: (today) => `by=month&from=${today.slice(0, 8)}01&to=${today}` },
};

const percent = (bp) => (bp == null ? '–' : `${(bp / 100).toFixed(bp % 100 ? 1 : 0)}%`);
const perHour = (centi) => (centi == null ? '–' : (centi / 100).toFixed(1));

/** How a figure's value and target read (the `figure` names of the API's `checks`). */
const FIGURES = {
  service_ratio_bp: { show: percent, missed: 'below target' },
  served_per_hour_centi: { show: perHour, missed: 'below target' },
  satisfaction_bp: { show: percent, missed: 'below target' },
  dissatisfaction_bp: { show: percent, missed: 'above target' },
  upheld_complaints: { show: String, missed: 'above target' },
  spot_check_pass_bp: { show: percent, missed: 'below target' },
  punctuality: { show: String, missed: 'not punctual' },
};

/** "at least 80%" / "at most 5%" for a check. */
function targetText(check) {
  const shown = FIGURES[check.figure] ? FIGURES[check.figure].show(check.target) : String(check.target);
  if (check.figure === 'punctuality') return 'always on time';
  return `${check.bound === 'max' ? 'at most' : 'at least'} ${shown}`;
}

/** "below target (at least 80%)"; "not punctual". */
const missedText = (check) => (check.figure === 'punctuality' ? FIGURES.punctuality.missed : `${FIGURES[check.figure].missed} (${targetText(check)})`);

/** A cell with a figure; a missed target is said in words, with a labelled icon. */
function figureCell(text, check, name) {
  const cell = el('td', { 'data-cell': name }, el('span', { class: 'figure', text }));
  if (!check) return cell;
  cell.title = `Target: ${targetText(check)}`;
  if (check.met) return cell;
  cell.classList.add('missed');
  cell.append(' ', el('span', { class: 'missed-mark', role: 'img', 'aria-label': 'Missed target', text: '⚠' }),
    el('span', { class: 'missed-text', text: ` ${missedText(check)}` }));
  return cell;
}

function punctualityText(p) {
  const parts = [[p.late, 'late'], [p.left_early, 'left early'], [p.absent, 'absent']]
    .filter(([n]) => n > 0).map(([n, word]) => (n === 1 ? word : `${word} ×${n}`));
  if (!p.shifts) return 'no shift';
  return parts.length ? parts.join(', ') : 'on time';
}

function flagsText(flags) {
  const kinds = Object.entries(flags || {});
  if (!kinds.length) return 'none';
  return kinds.map(([kind, n]) => `${FLAG_TEXT[kind] || kind}: ${n}`).join('; ');
}

const ratio = (part, whole) => (whole ? `${part} of ${whole}` : '–');

/** The columns: heading and cell. Discipline is the last one, shown only when some agent has a warning. */
const COLUMNS = [
  ['Punctuality', (p, c) => figureCell(punctualityText(p), c.punctuality, 'punctuality')],
  ['Service ratio', (p, c) => figureCell(percent(p.service_ratio_bp), c.service_ratio_bp, 'service_ratio')],
  ['Customers an hour', (p, c) => figureCell(perHour(p.served_per_hour_centi), c.served_per_hour_centi, 'served_per_hour')],
  ['Satisfaction', (p, c) => figureCell(percent(p.satisfaction_bp), c.satisfaction_bp, 'satisfaction')],
  ['Dissatisfaction', (p, c) => figureCell(percent(p.dissatisfaction_bp), c.dissatisfaction_bp, 'dissatisfaction')],
  ['Slow replies', (p) => figureCell(String(p.slow_replies), null, 'slow_replies')],
  ['1-min warnings', (p) => figureCell(String(p.reply_warnings), null, 'reply_warnings')],
  ['Conduct flags', (p) => figureCell(flagsText(p.flags), null, 'flags')],
  ['Tickets within limits', (p) => figureCell(ratio(p.tickets_within_limits, p.tickets_answered), null, 'tickets')],
  ['Upheld complaints', (p, c) => figureCell(String(p.upheld_complaints), c.upheld_complaints, 'complaints')],
  ['Spot checks passed', (p, c) => figureCell(p.spot_checks ? `${percent(p.spot_check_pass_bp)} of ${p.spot_checks}` : '–', c.spot_check_pass_bp, 'spot_checks')],
];

/** The agent's row: its one period (a day or a month), or a row saying there is nothing yet. */
function agentRow(agent, nameOf, discipline) {
  const period = agent.periods[agent.periods.length - 1];
  const name = nameOf(agent.agent);
  const who = el('th', { scope: 'row' }, el('strong', { text: name }), name !== agent.agent ? el('span', { class: 'muted small', text: ` ${agent.agent}` }) : null);
  const row = el('tr', { 'data-agent': agent.agent }, who);
  if (!period) {
    row.append(el('td', { colspan: String(COLUMNS.length), class: 'muted', text: 'Nothing to show in this period.' }));
  } else {
    const checks = Object.fromEntries(period.checks.map((c) => [c.figure, c]));
    row.dataset.met = String(period.met);
    row.append(...COLUMNS.map(([, cell]) => cell(period, checks)));
  }
  // Discipline (GET /v1/discipline): shown only when some agent has a warning.
  if (discipline) row.append(el('td', { 'data-cell': 'discipline', text: discipline[agent.agent] || 'none' }));
  return row;
}

function table(answer, nameOf, discipline) {
  const heads = ['Agent', ...COLUMNS.map(([head]) => head), ...(discipline ? ['Discipline'] : [])];
  return el('table', { class: 'performance-table' },
    el('thead', {}, el('tr', {}, ...heads.map((text) => el('th', { scope: 'col', text })))),
    el('tbody', {}, ...answer.agents.map((a) => agentRow(a, nameOf, discipline))));
}

/** The server's targets (config `performance.*`; the handbook's by default) in a sentence. */
const targetsText = (t) => `Targets: service ratio at least ${percent(t.service_ratio_min_bp)}, `
  + `satisfaction at least ${percent(t.satisfaction_min_bp)}, dissatisfaction at most ${percent(t.dissatisfaction_max_bp)}, `
  + `${t.served_per_hour_min} customers an hour, spot checks passed at least ${percent(t.spot_check_min_bp)}. `
  + 'A missed target is marked ⚠ with what it missed; hover a figure for its target.';

/** A refusal as its message and stable code (docs/performance-figures.md, the API's codes). */
const refusalText = (refusal) => `Performance figures cannot be shown: ${refusal.message || 'refused'} (${refusal.code}).`;

/**
 * The panel; `token()` gives the current sign-in token, `nameOf(agent)` the
 * roster name (or the id), `disciplineOf()` every agent with a warning as
 * `{agent: words}` (the discipline column shows only when there is one).
 * Returns `{ node, refresh(), redraw(), stop() }`.
 */
export function performancePanel({ token, nameOf = (id) => id, disciplineOf = async () => ({}) }) {
  let mode = 'today';
  let today = null; // the server's business day, from its last answer
  let discipline = null;
  let timer = null;
  let stopped = false;
  let last = null;
  let asking = 0; // the newest request: an older answer arriving late is dropped
  const hint = el('p', { class: 'muted small' });
  const status = el('p', { class: 'muted small', role: 'status', text: 'Loading…' });
  // Focusable: a wide table scrolls sideways, and a keyboard user must be able to scroll it.
  const body = el('div', { class: 'records-results', tabindex: '0', role: 'region', 'aria-label': 'Performance figures' });
  const buttons = Object.entries(MODES).map(([key, m]) => el('button', {
    class: 'btn btn-quiet', type: 'button', 'data-mode': key, 'aria-pressed': String(key === mode), text: m.label,
    onclick: () => { mode = key; buttons.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.mode === mode))); refresh(); },
  }));
  let node = null;
  const visible = () => !stopped && node.open && !document.hidden;
  const draw = () => { if (last) body.replaceChildren(last.agents.length ? table(last, nameOf, discipline) : ''); };
  const refresh = async () => {
    clearTimeout(timer);
    if (!visible()) return;
    const asked = mode;
    const mine = ++asking;
    try {
      if (asked === 'month' && !today) today = (await requestJson('/v1/performance?by=day', { token: token() })).to;
      const answer = await requestJson(`/v1/performance?${MODES[asked].query(today)}`, { token: token() });
      if (mine !== asking) return; // asked again meanwhile (a toggle): that answer is on its way
      const standings = await disciplineOf();
      today = asked === 'today' ? answer.to : today;
      last = answer;
      discipline = Object.keys(standings).length ? standings : null;
      hint.textContent = targetsText(answer.targets);
      const when = asked === 'today' ? `today (${answer.to})` : `this month (${answer.from.slice(0, 7)})`;
      status.textContent = answer.agents.length
        ? `Figures for ${when}, ${answer.time_zone}. Updated ${new Date().toLocaleTimeString()}.`
        : `No agent has a shift ${asked === 'today' ? 'today' : 'this month'} (${answer.to}).`;
      draw();
    } catch (refusal) {
      if (mine !== asking) return;
      status.textContent = refusalText(refusal);
      body.replaceChildren();
    }
    if (visible() && mode === 'today') timer = setTimeout(refresh, REFRESH_EVERY);
  };
  node = el('details', { class: 'card performance-card', open: true, 'aria-label': 'Performance' },
    el('summary', {}, el('h2', { text: 'Performance' })),
    el('div', { class: 'performance-controls', role: 'group', 'aria-label': 'Period' }, ...buttons,
      el('button', { class: 'btn btn-quiet', type: 'button', text: 'Refresh', onclick: () => refresh() })),
    hint,
    status, body);
  node.addEventListener('toggle', refresh);
  const onVisibility = () => refresh();
  document.addEventListener('visibilitychange', onVisibility);
  return {
    node,
    refresh,
    /** Draws the last answer again: names arrive with the supervisor's first snapshot. */
    redraw: draw,
    stop: () => { stopped = true; clearTimeout(timer); document.removeEventListener('visibilitychange', onVisibility); },
  };
}
