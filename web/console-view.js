// The agent console's view: the top bar, the list of chats, the chat pane
// with its reply box, and the conduct flags. Built from `state` only; every
// string from a customer or an agent is set with textContent (el()).
import { el } from '/wire.js';
import { connectionBadge, hoursBadge, toast } from '/ui.js';
import { STATE_TEXT, errorText, flagText } from '/texts.js';
import {
  state, send, selectedChat, authorOf, agentName, groupName, levelOf, timerText, orderedChats,
} from '/console-state.js';
import { openTransferDialog, openCloseDialog, openBreakDialog, reply, askResolved } from '/console-actions.js';
import { openTurnIntoTicket } from '/console-tickets.js';
import { attachCanned } from '/console-canned.js';
import { attachmentNode, mountPicker, uploadFile } from '/files.js';

const TYPING_SEND_EVERY = 3000;
export const HOLDING_REPLY = 'Your question has been passed to the right colleague, please wait.';
const QUICK_REPLIES = ['Thanks for waiting, let me check that for you.', HOLDING_REPLY];

const token = () => state.page.store.auth && state.page.store.auth.token;
const parts = { top: null, list: null, pane: null, flagList: null, count: null, typing: null };
// The reply box of each chat outlives re-renders (an IME composition, undo history).
const composers = new WeakMap();

export function buildShell({ requestSignOut }) {
  parts.requestSignOut = requestSignOut;
  parts.top = el('header', { class: 'topbar' });
  parts.count = el('span', { class: 'count', text: '0' });
  parts.list = el('ul', { class: 'session-list', 'aria-label': 'Your chats' });
  parts.flagList = el('ul', { class: 'flag-list', 'aria-label': 'Conduct flags against you' });
  parts.flagCount = el('span', { class: 'count', text: '0' });
  parts.pane = el('section', { class: 'pane', 'aria-label': 'Chat' });
  // On a phone the flags fold away so the chat starts above the fold.
  const flagsBox = el('details', { class: 'flags-box', open: !matchMedia('(max-width: 760px)').matches },
    el('summary', { class: 'side-title' }, 'Conduct flags ', parts.flagCount), parts.flagList);
  document.getElementById('app').replaceChildren(parts.top, el('main', { class: 'layout' },
    el('aside', { class: 'sidebar', 'aria-label': 'Chats and flags' },
      el('h2', { class: 'side-title' }, 'Chats ', parts.count), parts.list, flagsBox),
    parts.pane));
  renderAll();
}

export function renderAll() {
  renderTop();
  renderList();
  renderPane();
  renderFlags();
}

// ---- the top bar --------------------------------------------------------------
const activeAvailability = (s) => ({ available: 'available', busy: 'available', on_break: 'break', offline: 'offline' }[s] || null);

function availabilityButton(value, label) {
  const active = activeAvailability(state.myState || 'offline') === value;
  return el('button', {
    type: 'button', class: `seg ${active ? 'is-active' : ''}`, 'aria-pressed': String(active), 'data-availability': value, text: label,
    onclick: () => setAvailability(value),
  });
}

function setAvailability(value) {
  if (value === 'break') { openBreakDialog(); return; }
  send({ type: 'set_availability', state: value }, (answer) => {
    if (answer.type === 'error') toast(errorText(answer), 'error');
  });
}

export function renderTop() {
  if (!parts.top) return;
  const { page, me, hold } = state;
  const mine = state.myState || 'offline';
  const conn = page.conn;
  parts.top.replaceChildren(...[
    el('div', { class: 'brand' }, el('span', { class: 'brand-mark small', 'aria-hidden': 'true', text: 'S' }), el('span', { class: 'brand-name', text: 'Switchboard' })),
    el('div', { class: 'who' },
      el('strong', { class: 'me-name', text: me ? me.name : page.store.agent }),
      el('span', { class: `state-pill state-${mine}`, 'data-state': mine, text: STATE_TEXT[mine] || mine })),
    el('div', { class: 'segmented', role: 'group', 'aria-label': 'Availability' },
      availabilityButton('available', 'Available'), availabilityButton('break', 'Break'), availabilityButton('offline', 'Offline')),
    groupHoursBar(),
    el('div', { class: 'spacer' }),
    hold && conn.status === 'open' ? connectionBadge('held', hold) : connectionBadge(conn.status, conn.detail),
    conn.status === 'failed' && conn.detail.reason === 'replaced'
      ? el('button', { class: 'btn', type: 'button', text: 'Use this window', onclick: () => page.takeOver() })
      : null,
    el('button', { class: 'btn btn-quiet', type: 'button', text: 'Sign out', onclick: () => parts.requestSignOut() }),
  ].filter(Boolean));
}

/** Open or closed per group with service hours (groups that never close are left out). */
function groupHoursBar() {
  const groups = [...state.groupHours.values()].filter((g) => !g.open || g.next_change_at != null);
  if (!groups.length) return null;
  return el('div', { class: 'group-hours', 'aria-label': 'Service hours' }, ...groups.map((g) =>
    el('span', { class: 'group-hours-item', 'data-group': g.id }, `${groupName(g.id)} `, hoursBadge(g))));
}

/** "overflow from <group>": the chat came from a group whose queue overflowed to yours. */
function overflowTag(s) {
  if (!s.overflowedFrom) return null;
  return el('span', { class: 'tag tag-overflow', 'data-overflow': s.overflowedFrom, title: 'Its own group had nobody free in time: it overflowed to yours', text: `overflow from ${groupName(s.overflowedFrom)}` });
}

// ---- the list of chats -----------------------------------------------------------
/** "✓ verified · user-42" or "(unverified)": whether the name can be trusted. */
function identityTag(s) {
  return s.verified
    ? el('span', { class: 'tag tag-verified', 'data-identity': 'verified', title: 'Verified by the site the customer came from', text: `✓ verified · ${s.customerId}` })
    : el('span', { class: 'tag tag-unverified', 'data-identity': 'unverified', title: 'The name is what the customer typed: not verified', text: '(unverified)' });
}

/** The last message of a chat, as the list previews it: who wrote it, then the text. */
function preview(s) {
  const last = [...s.history].reverse().find((h) => h.from !== 'system');
  if (!last) return 'No messages yet';
  return last.from === 'customer' ? last.text : `${authorOf(last)}: ${last.text}`;
}

function chatItem(s) {
  const level = levelOf(s);
  const current = state.selected === s.id;
  return el('li', {},
    el('button', {
      type: 'button', class: `session-item ${current ? 'is-selected' : ''} level-${level}`,
      'aria-current': current ? 'true' : null, 'data-session': String(s.id), onclick: () => select(s.id),
    },
    el('span', { class: 'session-top' },
      el('span', { class: 'session-name', text: s.customer }),
      el('span', { class: `timer timer-${level}`, 'data-timer': String(s.id), 'data-level': level, text: timerText(s) })),
    el('span', { class: 'session-meta' },
      identityTag(s),
      el('span', { class: 'tag', text: s.group }),
      overflowTag(s),
      s.priority !== 'normal' ? el('span', { class: `tag tag-${s.priority}`, text: s.priority }) : null,
      s.notes.length ? el('span', { class: 'tag tag-note', text: 'transferred' }) : null,
      s.unread ? el('span', { class: 'unread', text: `${s.unread} new`, 'aria-label': `${s.unread} unread` }) : null),
    el('span', { class: 'session-last', text: preview(s) })));
}

export function renderList() {
  if (!parts.list) return;
  parts.count.textContent = String(state.sessions.size);
  parts.list.replaceChildren(...orderedChats().map(chatItem));
  if (!state.sessions.size) {
    parts.list.append(el('li', { class: 'empty', text: state.myState === 'available' ? 'Waiting for the next chat…' : 'Go available to receive chats.' }));
  }
}

export function select(id) {
  const s = state.sessions.get(id);
  if (!s) return;
  state.selected = id;
  s.unread = 0;
  renderList();
  renderPane();
  const box = parts.pane.querySelector('textarea');
  if (box) box.focus();
}

/** Live timers: the labels and levels move on without rebuilding anything. */
export function tickTimers() {
  for (const s of state.sessions.values()) {
    const level = levelOf(s);
    for (const node of document.querySelectorAll(`[data-timer="${s.id}"]`)) {
      node.textContent = timerText(s);
      if (node.dataset.level === level) continue;
      node.dataset.level = level;
      node.className = node.className.replace(/timer-(ok|warn|late)/, `timer-${level}`);
      const item = node.closest('.session-item');
      if (item) item.className = item.className.replace(/level-\w+/, `level-${level}`);
    }
  }
}

// ---- the chat pane -------------------------------------------------------------
function emptyPane() {
  parts.typing = null;
  const serving = state.myState === 'available' || state.myState === 'busy';
  parts.pane.replaceChildren(el('div', { class: 'pane-empty' },
    el('p', { class: 'pane-empty-title', text: state.sessions.size ? 'Select a chat' : 'No open chats' }),
    el('p', { class: 'muted', text: serving ? 'New chats appear in the list as they are assigned to you.' : 'Set yourself Available to receive chats.' })));
}

function paneHead(s) {
  const level = levelOf(s);
  return el('div', { class: 'pane-head' },
    el('div', { class: 'pane-title' },
      el('h1', { text: s.customer }),
      el('p', { class: 'muted' }, `#${s.id} · ${groupName(s.group)} `, overflowTag(s), identityTag(s), s.priority !== 'normal' ? el('span', { class: `tag tag-${s.priority}`, text: s.priority }) : null)),
    el('span', { class: `timer timer-big timer-${level}`, 'data-timer': String(s.id), 'data-level': level, 'aria-label': 'Reply timer', text: timerText(s) }),
    el('div', { class: 'pane-actions' },
      el('button', { class: 'btn', type: 'button', text: 'Ask resolved', onclick: () => askResolved(s) }),
      el('button', { class: 'btn', type: 'button', text: 'Transfer…', onclick: () => openTransferDialog(s) }),
      el('button', { class: 'btn', type: 'button', text: 'Turn into ticket…', onclick: () => openTurnIntoTicket(s) }),
      el('button', { class: 'btn btn-danger-quiet', type: 'button', text: 'Close…', onclick: () => openCloseDialog(s) })));
}

function handoffNotes(s) {
  if (!s.notes.length) return null;
  return el('section', { class: 'notes', 'aria-label': 'Handoff notes' },
    el('h2', { text: s.notes.length > 1 ? `Handoff notes (${s.notes.length} transfers)` : 'Handoff note' }),
    ...s.notes.map((n) => el('div', { class: 'note' },
      el('div', { class: 'note-head' }, el('strong', { text: agentName(n.from) }), ` → ${n.target.kind === 'group' ? groupName(n.target.id) : agentName(n.target.id)}`,
        el('span', { class: 'muted', text: ` · ${state.clock.wallTime(n.at_ms)}` })),
      el('p', { class: 'note-text', text: n.text }))));
}

export function historyNode(h, session) {
  if (h.from === 'system') return el('div', { class: `line system ${h.kind ? `system-${h.kind}` : ''}`, text: h.text });
  const mine = h.from === 'agent';
  // A file alone comes with its name as the text (for clients without files): the file says it.
  const file = h.attachment ? attachmentNode({ base: location.origin, token: token(), session, attachment: h.attachment }) : null;
  const text = file && h.text === `[${h.attachment.name}]` ? '' : h.text;
  return el('div', { class: `line ${mine ? 'agent' : 'customer'} ${h.state ? `is-${h.state}` : ''}` },
    el('span', { class: 'line-who', text: mine ? authorOf(h) : 'Customer' }),
    text ? el('p', { class: 'bubble', text }) : null,
    file,
    h.state === 'failed' ? el('span', { class: 'line-error', text: h.error }) : null,
    h.at_ms != null ? el('span', { class: 'line-time', text: state.clock.wallTime(h.at_ms) }) : null);
}

export function renderPane() {
  if (!parts.pane) return;
  const s = selectedChat();
  if (!s) { emptyPane(); return; }
  const history = el('div', { class: 'history', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages', tabindex: '0' },
    ...s.history.map((h) => historyNode(h, s.id)));
  parts.typing = el('div', { class: 'typing', 'aria-live': 'polite' });
  const composer = composerFor(s);
  const above = [paneHead(s), handoffNotes(s), history, parts.typing].filter(Boolean);
  // The reply box stays the very same node: rebuilt on every message, it
  // would drop a half-typed IME composition (Chinese input) and the undo history.
  if (parts.pane.lastChild === composer) {
    while (parts.pane.firstChild !== composer) parts.pane.firstChild.remove();
    composer.before(...above);
  } else {
    parts.pane.replaceChildren(...above, composer);
  }
  history.scrollTop = history.scrollHeight;
  renderTyping();
}

/** Re-renders the pane if `s` is the chat on screen. */
export const renderPaneOf = (s) => { if (state.selected === s.id) renderPane(); };

function replyForm(s) {
  const box = el('textarea', { name: 'reply', rows: '2', placeholder: 'Write a reply… (Enter to send, Shift+Enter for a new line)', 'aria-label': `Reply to ${s.customer}`, maxlength: '5000' });
  box.value = s.draft || '';
  let lastTyping = 0;
  box.addEventListener('input', () => {
    s.draft = box.value;
    if (!box.value.trim() || Date.now() - lastTyping <= TYPING_SEND_EVERY) return;
    lastTyping = Date.now();
    send({ type: 'typing', session: s.id });
  });
  const form = el('form', { class: 'reply' }, box, el('button', { class: 'btn btn-primary', type: 'submit', text: 'Send' }));
  box.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = box.value.trim();
    if (!text) return;
    form.parentNode?.querySelector('.reply-blocked')?.remove();
    reply(s, text);
    lastTyping = 0; // the next keystroke says "typing" again at once (as the widget does)
    box.value = '';
    s.draft = '';
    box.focus();
  });
  return { form, box };
}

/** The composer of a chat (quick replies, the reply box), built once per chat. */
function composerFor(s) {
  if (composers.has(s)) return composers.get(s);
  const { form, box } = replyForm(s);
  const quick = el('div', { class: 'quick' },
    el('span', { class: 'muted', text: 'Quick replies:' }),
    ...QUICK_REPLIES.map((text) => el('button', { type: 'button', class: 'chip', text, onclick: () => { box.value = text; s.draft = text; box.focus(); } })));
  const composer = el('div', { class: 'composer' }, quick, form);
  attachCanned(box, form, s);
  mountPicker({
    form,
    input: box,
    upload: (file, onProgress) => uploadFile({ base: location.origin, token: token(), session: s.id, file, onProgress }),
    sendAttachment: (attachment) => reply(s, '', attachment),
    onError: (error) => toast(`File not sent: ${errorText(error)}`),
  });
  composers.set(s, composer);
  return composer;
}

/**
 * A reply a content rule blocked (`content_blocked`): its text is put back
 * in the box (unless the agent already typed something else) and the reason
 * stays above it until the next send.
 */
export function showBlocked(s, text, why) {
  const composer = composerFor(s);
  const box = composer.querySelector('textarea');
  if (!box.value.trim()) { box.value = text; s.draft = text; }
  let note = composer.querySelector('.reply-blocked');
  if (!note) { note = el('p', { class: 'form-error reply-blocked', role: 'alert' }); composer.prepend(note); }
  note.textContent = `Not sent: ${why}`;
}

export function renderTyping() {
  const s = selectedChat();
  if (!parts.typing || !s) return;
  parts.typing.textContent = Date.now() < s.typingUntil ? `${s.customer} is typing…` : '';
}

// ---- conduct flags -----------------------------------------------------------------
export function renderFlags() {
  if (!parts.flagList) return;
  parts.flagCount.textContent = String(state.flags.length);
  parts.flagList.replaceChildren(...state.flags.map((f) => el('li', { class: 'flag' },
    el('span', { class: 'flag-kind', text: flagText(f.kind, f.rule) }),
    el('span', { class: 'muted small', text: `${f.category.replace(/_/g, ' ')}${f.session != null ? ` · chat #${f.session}` : ''} · ${state.clock.wallTime(f.at_ms)}` }))));
  if (!state.flags.length) parts.flagList.append(el('li', { class: 'empty', text: 'None so far. Keep it that way.' }));
}
