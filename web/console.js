// Switchboard agent console (/agent). Vanilla ES modules, no build step; talks
// the v1 agent protocol (docs/protocol.md) through wire.js, signed in by
// signin.js (shared with the supervisor view). This module handles what the
// server says; console-view.js shows it, console-actions.js sends commands.
import { formatDuration } from '/wire.js';
import { SignedInPage } from '/signin.js';
import { toast } from '/ui.js';
import { SIGNAL_TEXT, ENDED_TEXT, errorText, flagText } from '/texts.js';
import { state, model, learnFromWelcome, learnGroupHours, agentName, groupName } from '/console-state.js';
import {
  buildShell, renderAll, renderTop, renderList, renderPane, renderPaneOf, renderFlags, renderTyping, tickTimers,
} from '/console-view.js';
import { mountTicketsTab } from '/console-tickets.js';
import { mountShiftsPanel } from '/console-shifts.js';
import { mountCanned } from '/console-canned.js';

const TYPING_SHOW_FOR = 5000;
const TITLE = 'Switchboard · Agent console';

/** The chat a message is about, or null (not ours any more). */
const chatOf = (msg) => state.sessions.get(msg.session) || null;

const handlers = {
  welcome(msg) {
    state.me = { agent: msg.agent, name: msg.name, role: msg.role };
    state.replaying = !!msg.resumed;
    learnFromWelcome(msg);
    if (msg.role === 'supervisor') {
      toast('You are a supervisor: opening the supervisor view.');
      state.page.client.stop();
      location.assign('/supervisor');
    }
  },
  state(msg) {
    state.replaying = false;
    state.myState = msg.state;
    const keep = new Map(state.sessions);
    state.sessions.clear();
    for (const view of msg.sessions || []) state.sessions.set(view.session, model(view, keep.get(view.session)));
    if (state.selected != null && !state.sessions.has(state.selected)) state.selected = null;
    if (state.selected == null && state.sessions.size) state.selected = state.sessions.keys().next().value;
    renderAll();
  },
  state_changed(msg) {
    state.myState = msg.state;
    renderAll();
  },
  session_assigned(msg) {
    if (!state.replaying) state.clock.observe(msg.session.assigned_at_ms);
    const s = model(msg.session, state.sessions.get(msg.session.session));
    state.sessions.set(s.id, s);
    if (state.selected == null) state.selected = s.id;
    toast(s.notes.length
      ? `${s.customer}'s chat was transferred to you with a handoff note.`
      : `New chat with ${s.customer} (${groupName(s.group)}${s.overflowedFrom ? ', through overflow' : ''}).`);
    renderList();
    renderPane();
  },
  customer_message(msg, s) {
    const now = state.replaying ? null : state.clock.now();
    s.history.push({ at_ms: now, from: 'customer', text: msg.text, attachment: msg.attachment });
    if (s.clockSince == null) Object.assign(s, { clockSince: now, clockLocal: performance.now(), level: 'ok' });
    s.typingUntil = 0;
    if (state.selected !== s.id) s.unread += 1;
    renderList();
    if (state.selected === s.id) renderPane(); else flashTitle();
  },
  customer_typing(msg, s) {
    s.typingUntil = Date.now() + TYPING_SHOW_FOR;
    setTimeout(() => { if (state.selected === s.id) renderTyping(); }, TYPING_SHOW_FOR + 50);
    if (state.selected === s.id) renderTyping();
  },
  reply_warning: (msg, s) => replyTimer(msg, s, 'warn'),
  slow_reply: (msg, s) => replyTimer(msg, s, 'late'),
  consent_outcome(msg, s) {
    s.consentPending = null;
    const text = {
      accepted: 'The customer accepted the transfer.',
      declined: 'The customer declined the transfer; the chat stays with you.',
      timed_out: 'The customer did not answer the transfer request; the chat stays with you.',
    }[msg.outcome] || msg.outcome;
    s.history.push({ from: 'system', text });
    renderPaneOf(s);
  },
  resolve_answer(msg, s) {
    s.resolved = msg.resolved;
    s.history.push({ from: 'system', kind: msg.resolved ? 'good' : 'warn', text: msg.resolved ? 'The customer confirmed the problem is resolved.' : 'The customer says the problem is not resolved yet.' });
    renderPaneOf(s);
  },
  priority_raised(msg, s) {
    s.priority = msg.priority;
    s.signals.push(msg.signal);
    s.history.push({ from: 'system', kind: 'warn', text: `Complaint tendency: the customer ${SIGNAL_TEXT[msg.signal] || msg.signal}. Attend to this chat first.` });
    renderList();
    renderPaneOf(s);
  },
  session_ended(msg, s) {
    state.sessions.delete(msg.session);
    toast(endedText(msg, s));
    if (state.selected === msg.session) state.selected = state.sessions.size ? state.sessions.keys().next().value : null;
    renderList();
    renderPane();
  },
  conduct_flagged(msg) {
    state.flags.unshift(msg.flag);
    if (state.flags.length > 50) state.flags.pop();
    toast(`Conduct flag: ${flagText(msg.flag.kind, msg.flag.rule)}`, 'error');
    renderFlags();
  },
  group_hours(msg) {
    learnGroupHours(msg.groups || [], false);
    renderTop();
  },
  ticket_assigned(msg) { if (ticketsTab) ticketsTab.assigned(msg); },
  error(msg) { if (msg.id == null) toast(errorText(msg), 'error'); },
  shutdown() { toast('The server is restarting; reconnecting…', 'warn'); },
};

// Messages about one chat: dropped when the chat is not (or no longer) ours.
const ABOUT_A_CHAT = new Set(['customer_message', 'customer_typing', 'reply_warning', 'slow_reply', 'consent_outcome', 'resolve_answer', 'priority_raised']);

function handle(msg) {
  const handler = handlers[msg.type];
  if (!handler) return; // unknown types are ignored (protocol: additive changes)
  const s = chatOf(msg);
  if (ABOUT_A_CHAT.has(msg.type) && !s) return;
  handler(msg, s);
}

function endedText(msg, s) {
  const who = s ? `The chat with ${s.customer}` : `Chat #${msg.session}`;
  const why = msg.why || {};
  if (why.kind === 'transferred') {
    const to = why.target.kind === 'group' ? groupName(why.target.id) : agentName(why.target.id);
    return `${who} was transferred to ${to}.`;
  }
  return `${who} ended: ${ENDED_TEXT[why.reason] || why.reason}.`;
}

/** The 1-minute warning (`warn`) or the 3-minute violation (`late`) of a chat's reply timer. */
function replyTimer(msg, s, level) {
  learnTimerScale(msg, s, level);
  if (s.clockSince == null) s.clockSince = state.clock.now() != null ? state.clock.now() - msg.waited_ms : null;
  s.level = level === 'late' || s.level === 'late' ? 'late' : 'warn';
  const waited = formatDuration(msg.waited_ms);
  s.history.push({ from: 'system', kind: level, text: level === 'late'
    ? `Slow reply: ${waited} without a reply. A service violation was recorded.`
    : `Reply now: the customer has waited ${waited}. Send at least a holding reply.` });
  if (level === 'late') toast(`Slow reply recorded: ${s.customer} waited ${waited}.`, 'error');
  else toast(`${s.customer} has waited ${waited}: reply now.`, 'warn');
  renderList();
  renderPaneOf(s);
}

// From a server whose welcome gives no clock, the warnings tell its scale and thresholds.
function learnTimerScale(msg, s, level) {
  const { clock, thresholds } = state;
  if (!state.replaying && s.clockSince != null && !clock.exact) {
    clock.observe(s.clockSince + msg.waited_ms);
    if (s.clockLocal != null && performance.now() - s.clockLocal > 200) clock.setScale(msg.waited_ms / (performance.now() - s.clockLocal));
  }
  if (!thresholds.fromServer) thresholds[level] = msg.waited_ms;
}

let titleTimer = null;
function flashTitle() {
  if (document.hasFocus()) return;
  clearInterval(titleTimer);
  let on = false;
  titleTimer = setInterval(() => {
    on = !on;
    document.title = on ? '● New message · Switchboard' : TITLE;
    if (document.hasFocus()) { clearInterval(titleTimer); document.title = TITLE; }
  }, 1000);
}

// Signing out goes offline first: the server refuses while chats are open
// (hand them over first), so nobody is left waiting on a closed window.
function requestSignOut() {
  if (!state.page.open || state.myState === 'offline') { state.page.signOut(); return; }
  state.page.send({ type: 'set_availability', state: 'offline' }, (answer) => {
    if (answer.type === 'error') { toast(`Cannot sign out yet: ${errorText(answer)}`, 'error'); return; }
    state.page.signOut();
  });
}

function forgetChats() {
  state.sessions.clear();
  state.flags.length = 0;
  state.selected = null;
}

let ticketsTab = null; // the Tickets tab (console-tickets.js), per sign-in
let shiftsPanel = null; // the Shifts panel (console-shifts.js), per sign-in
let cannedBox = null; // canned replies (console-canned.js), per sign-in
state.page = new SignedInPage({
  storeKey: 'switchboard.console',
  idPrefix: 'a',
  title: 'Agent console',
  subtitle: 'Sign in with your agent ID and password to start taking chats.',
  onStart: () => {
    state.hold = null;
    buildShell({ requestSignOut });
    const getToken = () => state.page.store.auth && state.page.store.auth.token;
    ticketsTab = mountTicketsTab({ app: document.getElementById('app'), getToken });
    if (shiftsPanel) shiftsPanel.stop();
    shiftsPanel = mountShiftsPanel({ app: document.getElementById('app'), getToken });
    if (cannedBox) cannedBox.stop();
    cannedBox = mountCanned({ app: document.getElementById('app'), getToken });
  },
  onMessage: handle,
  onStatus: renderTop,
  onHold: (hold) => { state.hold = hold; renderTop(); },
  onSignOut: () => { if (ticketsTab) ticketsTab.stop(); if (shiftsPanel) shiftsPanel.stop(); forgetChats(); },
});
state.page.begin();
setInterval(tickTimers, 250);

// Debug and test hook.
window.switchboardConsole = { sessions: () => [...state.sessions.values()].map((s) => ({ ...s })), clock: state.clock };
