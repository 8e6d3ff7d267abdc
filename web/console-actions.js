// What an agent does to a chat from the console: reply, ask whether the
// problem is resolved, transfer (with a handoff note), close, take a break.
// Each is one command; the server's refusal is said where it was asked.
import { el } from '/wire.js';
import { toast, dialog, dialogActions } from '/ui.js';
import { CLOSE_REASONS, errorText } from '/texts.js';
import { state, send, colleagues } from '/console-state.js';
import { renderList, renderPane, renderPaneOf, showBlocked, HOLDING_REPLY } from '/console-view.js';

export function reply(s, text, attachment) {
  const entry = { at_ms: state.clock.now(), from: 'agent', agent: state.me && state.me.agent, text, attachment, state: 'sending' };
  s.history.push(entry);
  send({ type: 'reply', session: s.id, text, ...(attachment ? { attachment } : {}) }, (answer) => {
    // A reconnect in between rebuilds the chat from the server's `state`
    // (keeping this entry while it is unanswered): update the current one.
    const now = state.sessions.get(s.id) || s;
    if (answer.type === 'ack') replyAcked(now, entry, answer);
    else if (answer.code === 'content_blocked') replyBlocked(now, entry, errorText(answer));
    else Object.assign(entry, { state: 'failed', error: errorText(answer) });
    renderList();
    renderPaneOf(s);
  });
  renderList();
  renderPane();
}

/** Nothing reached the customer: the text goes back into the box, and the rule is said above it. */
function replyBlocked(s, entry, why) {
  const i = s.history.indexOf(entry);
  if (i >= 0) s.history.splice(i, 1);
  showBlocked(s, entry.text, why);
}

function replyAcked(s, entry, answer) {
  entry.state = null;
  if (!answer.duplicate) {
    Object.assign(s, { clockSince: null, clockLocal: null, level: 'ok' });
    return;
  }
  // A duplicate was applied before a reconnect (its ack was lost), so the
  // server's history in the `state` after that reconnect already shows it.
  const i = s.history.indexOf(entry);
  const shown = s.history.some((h, j) => j !== i && h.from === 'agent' && !h.state && h.text === entry.text);
  if (i >= 0 && shown) s.history.splice(i, 1);
}

export function askResolved(s) {
  send({ type: 'ask_resolved', session: s.id }, (answer) => {
    if (answer.type === 'error') { toast(errorText(answer), 'error'); return; }
    s.history.push({ from: 'system', text: 'You asked the customer whether the problem is resolved.' });
    renderPaneOf(s);
  });
}

/** A form's refusal line: hidden until the server refuses. */
const refusalLine = () => el('p', { class: 'form-error', role: 'alert', hidden: true });
const showRefusal = (line, answer) => { line.textContent = errorText(answer); line.hidden = false; };

// ---- transfer -----------------------------------------------------------------------
const holdingSent = new Set(); // chats told "passed to the right colleague" already

function groupOptions(s) {
  // The server's list first (with display names), then groups seen in chats and notes.
  const options = new Map(state.directory.groups.map((g) => [g.id, g.name && g.name !== g.id ? g.name : '']));
  for (const x of state.sessions.values()) if (!options.has(x.group)) options.set(x.group, '');
  for (const n of s.notes) if (n.target.kind === 'group' && !options.has(n.target.id)) options.set(n.target.id, '');
  return el('datalist', { id: 'group-options' }, ...[...options].map(([id, name]) => el('option', { value: id, label: name || null })));
}

function agentOptions() {
  const label = (a) => [a.name && a.name !== a.id ? a.name : null, (a.groups || []).join(', ') || null].filter(Boolean).join(' · ') || null;
  return el('datalist', { id: 'agent-options' }, ...colleagues().map((a) => el('option', { value: a.id, label: label(a) })));
}

function transferFields() {
  const f = {
    note: el('textarea', { name: 'note', rows: '5', required: true, maxlength: '2000', 'aria-describedby': 'note-help note-counter',
      placeholder: 'What the customer asked, what you found, what the next handler must do.' }),
    target: el('input', { name: 'target', required: true, list: 'group-options', autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. logistics' }),
    kindGroup: el('input', { type: 'radio', name: 'kind', value: 'group', checked: true }),
    kindAgent: el('input', { type: 'radio', name: 'kind', value: 'agent' }),
    targetLabel: el('span', { text: 'Skill group ID' }),
    holding: el('input', { type: 'checkbox', name: 'holding', checked: true }),
    counter: el('span', { class: 'counter', id: 'note-counter', 'aria-live': 'polite' }),
    submit: el('button', { class: 'btn btn-primary', type: 'submit', text: 'Transfer', disabled: true }),
    err: refusalLine(),
  };
  f.update = () => updateTransferForm(f);
  for (const input of [f.note, f.target, f.kindGroup, f.kindAgent]) input.addEventListener('input', f.update);
  return f;
}

function updateTransferForm(f) {
  const length = f.note.value.trim().length;
  const toAgent = f.kindAgent.checked;
  f.counter.textContent = length >= state.noteMin ? `${length} characters` : `${length} / ${state.noteMin} characters minimum`;
  f.counter.classList.toggle('counter-ok', length >= state.noteMin);
  f.submit.disabled = length < state.noteMin || !f.target.value.trim();
  f.targetLabel.textContent = toAgent ? 'Agent ID' : 'Skill group ID';
  f.target.placeholder = toAgent ? 'e.g. bob' : 'e.g. logistics';
  f.target.setAttribute('list', toAgent ? 'agent-options' : 'group-options');
}

function transferForm(s, f, node) {
  return el('form', { class: 'dialog-form', method: 'dialog' },
    el('fieldset', { class: 'radios' }, el('legend', { text: 'Transfer to' }),
      el('label', {}, f.kindGroup, ' A skill group'), el('label', {}, f.kindAgent, ' A colleague')),
    el('label', { class: 'field' }, f.targetLabel, f.target), groupOptions(s), agentOptions(),
    el('label', { class: 'field' }, el('span', { text: 'Handoff note (required)' }), f.note),
    el('p', { id: 'note-help', class: 'help muted', text: 'Say what the customer asked, what you found, and what the next handler must do.' }),
    f.counter,
    el('label', { class: 'check' }, f.holding, ` First tell the customer: "${HOLDING_REPLY}"`),
    el('p', { class: 'help muted', text: 'Moving the chat to another skill group asks the customer for consent first.' }),
    f.err,
    dialogActions(node, f.submit));
}

function transferSent(s, to) {
  if (to.kind === 'group' && to.id !== s.group) {
    s.consentPending = to.id;
    s.history.push({ from: 'system', text: `Transfer to ${to.id} requested; waiting for the customer's consent.` });
  } else s.history.push({ from: 'system', text: `Transfer to ${to.kind} ${to.id} sent.` });
  renderPaneOf(s);
}

function submitTransfer(s, f, node) {
  const text = f.note.value.trim();
  if (text.length < state.noteMin) return;
  f.submit.disabled = true;
  f.err.hidden = true;
  const to = { kind: f.kindAgent.checked ? 'agent' : 'group', id: f.target.value.trim() };
  // Before a transfer the agent tells the customer (docs/domain.md), once per chat.
  if (f.holding.checked && !holdingSent.has(s.id)) {
    holdingSent.add(s.id);
    reply(s, HOLDING_REPLY);
  }
  send({ type: 'transfer', session: s.id, to, note: text }, (answer) => {
    if (answer.type === 'error') { showRefusal(f.err, answer); f.submit.disabled = false; return; }
    node.close();
    transferSent(s, to);
  });
}

export function openTransferDialog(s) {
  const f = transferFields();
  let node = null;
  const form = transferForm(s, f, () => node);
  form.addEventListener('submit', (event) => { event.preventDefault(); submitTransfer(s, f, node); });
  node = dialog(`Transfer chat #${s.id}`, form);
  node.classList.add('transfer-dialog');
  f.update();
  f.target.focus();
}

// ---- close ------------------------------------------------------------------------
function closeWarnings(s, reason) {
  const notes = [];
  if (s.clockSince != null) notes.push('The customer\'s last message is unanswered: closing now is recorded as a conduct flag.');
  if (reason === 'resolved' && s.resolved !== true) notes.push('The customer has not confirmed the problem is resolved: use "Ask resolved" first, or the close is flagged.');
  return notes.join(' ');
}

export function openCloseDialog(s) {
  const reason = el('select', { name: 'reason' }, ...CLOSE_REASONS.map(([value, label]) => el('option', { value, text: label })));
  const warn = el('p', { class: 'form-warn', role: 'status' });
  const err = refusalLine();
  const update = () => { warn.textContent = closeWarnings(s, reason.value); warn.hidden = !warn.textContent; };
  reason.addEventListener('change', update);
  let node = null;
  const form = el('form', { class: 'dialog-form' },
    el('label', { class: 'field' }, el('span', { text: 'Reason' }), reason), warn, err,
    dialogActions(() => node, el('button', { class: 'btn btn-danger', type: 'submit', text: 'Close chat' })));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    send({ type: 'close', session: s.id, reason: reason.value }, (answer) => {
      if (answer.type === 'error') showRefusal(err, answer); else node.close();
    });
  });
  node = dialog(`Close chat #${s.id}`, form);
  update();
  reason.focus();
}

// ---- break --------------------------------------------------------------------------
export function openBreakDialog() {
  const reason = el('input', { name: 'reason', required: true, maxlength: '200', list: 'break-reasons', placeholder: 'e.g. lunch' });
  const err = refusalLine();
  let node = null;
  const form = el('form', { class: 'dialog-form' },
    el('label', { class: 'field' }, el('span', { text: 'Reason for the break' }), reason),
    el('datalist', { id: 'break-reasons' }, ...['Lunch', 'Rest', 'Restroom', 'Meeting', 'Training'].map((v) => el('option', { value: v }))),
    el('p', { class: 'help muted', text: 'You keep your open chats; no new chats are assigned to you. Breaks that keep customers waiting are recorded.' }),
    err,
    dialogActions(() => node, el('button', { class: 'btn btn-primary', type: 'submit', text: 'Start break' })));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = reason.value.trim();
    if (!text) return;
    send({ type: 'set_availability', state: 'break', reason: text }, (answer) => {
      if (answer.type === 'error') showRefusal(err, answer); else node.close();
    });
  });
  node = dialog('Take a break', form);
  reason.focus();
}
