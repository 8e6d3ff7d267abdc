// The agent console's state: who is signed in, the chats assigned, the flags,
// the business clock, and what the server's `welcome` told (thresholds,
// colleagues). Everything the console shows is computed from here.
import { formatDuration } from '/wire.js';
import { BizClock } from '/clock.js';

/**
 * The server's default, used when its `welcome` does not say
 * (`handoff_note_min_chars`); the server has the last word (handoff_note_too_short).
 */
const HANDOFF_NOTE_MIN = 10;

export const state = {
  page: null, // the SignedInPage (connection, store)
  me: null, // { agent, name, role }
  myState: null,
  sessions: new Map(), // id -> chat model
  selected: null,
  flags: [],
  clock: new BizClock(),
  thresholds: { warn: 60000, late: 180000, fromServer: false },
  noteMin: HANDOFF_NOTE_MIN,
  // Where a chat may be transferred (the welcome's transfer_groups / transfer_agents).
  directory: { groups: [], agents: [] },
  // Each group's service hours: id -> { id, open, next_change_at } (welcome, then `group_hours`).
  groupHours: new Map(),
  hold: null, // commands refused "for now" (storage_unavailable) wait to be sent again
  replaying: false,
};

export const send = (command, callback) => state.page.send(command, callback);
export const selectedChat = () => (state.selected != null ? state.sessions.get(state.selected) : null);

/** A colleague's display name (from the welcome's transfer_agents); the id when unknown. */
export function agentName(id) {
  if (state.me && id === state.me.agent) return state.me.name;
  const known = state.directory.agents.find((a) => a.id === id);
  return (known && known.name) || id;
}

/** A skill group's display name (from the welcome's transfer_groups). */
export function groupName(id) {
  const known = state.directory.groups.find((g) => g.id === id);
  return (known && known.name) || id;
}

/** Who wrote an agent line: "You" for this agent, else the colleague's name. */
export const authorOf = (line) => (line.agent && state.me && line.agent !== state.me.agent ? agentName(line.agent) : 'You');

/** The optional parts of the agent's welcome (older servers leave them out: keep the fallbacks). */
export function learnFromWelcome(msg) {
  const { clock, thresholds } = state;
  if (typeof msg.now_ms === 'number') clock.sync(msg.now_ms, msg.scale);
  if (msg.reply_warning_ms > 0 && msg.reply_violation_ms > 0) {
    Object.assign(thresholds, { warn: msg.reply_warning_ms, late: msg.reply_violation_ms, fromServer: true });
  }
  if (Number.isInteger(msg.handoff_note_min_chars) && msg.handoff_note_min_chars >= 0) state.noteMin = msg.handoff_note_min_chars;
  if (Array.isArray(msg.transfer_groups)) state.directory.groups = msg.transfer_groups.filter((g) => g && typeof g.id === 'string');
  if (Array.isArray(msg.transfer_agents)) state.directory.agents = msg.transfer_agents.filter((a) => a && typeof a.id === 'string');
  if (Array.isArray(msg.group_hours)) learnGroupHours(msg.group_hours, true);
}

/** Groups opened or closed (all of them from a welcome: `replace`). */
export function learnGroupHours(groups, replace) {
  if (replace) state.groupHours.clear();
  for (const g of groups) if (g && typeof g.id === 'string') state.groupHours.set(g.id, g);
}

/** Colleagues a chat may go to: everyone in the directory but this agent. */
export const colleagues = () => state.directory.agents.filter((a) => !state.me || a.id !== state.me.agent);

/** A chat as the console keeps it, from the server's session view (and what the page had of it). */
export function model(view, previous) {
  const clockSince = view.reply_clock_since_ms ?? view.unanswered_since_ms ?? null;
  for (const entry of view.history || []) state.clock.bound(entry.at_ms);
  state.clock.bound(view.assigned_at_ms);
  const s = {
    id: view.session,
    group: view.group,
    customer: view.customer_name || (view.verified && view.customer_id) || `Customer #${view.session}`,
    // Verified: the host site vouched for this customer (HMAC of its id).
    // Otherwise the name is only what the customer typed: marked as such.
    verified: view.verified === true,
    customerId: view.verified === true ? view.customer_id || null : null,
    priority: view.priority || 'normal',
    // The group whose queue overflowed to one of yours (docs/protocol.md, overflow).
    overflowedFrom: view.overflowed_from || null,
    // The server's history, then our own replies it has not answered yet
    // (sent again after a reconnect) or refused: those exist only here.
    history: [...(view.history || []).map((h) => ({ ...h })),
      ...(previous ? previous.history.filter((h) => h.state === 'sending' || h.state === 'failed') : [])],
    notes: view.notes || [],
    assignedAt: view.assigned_at_ms,
    clockSince,
    clockLocal: null,
    level: 'ok',
    typingUntil: 0,
    ...carriedOver(previous),
  };
  if (clockSince != null && previous && previous.clockSince != null) s.level = previous.level;
  return s;
}

/** What only the page knows of a chat, kept when the server sends it again. */
function carriedOver(previous) {
  if (!previous) return { unread: 0, draft: '', signals: [], consentPending: null, resolved: null };
  const { unread, draft, signals, consentPending, resolved } = previous;
  return { unread, draft, signals, consentPending, resolved };
}

const LEVEL_RANK = { ok: 0, warn: 1, late: 2 };

/** ok, warn (past the 1-minute warning) or late (past the 3-minute violation), on the business clock. */
export function levelOf(s) {
  if (s.clockSince == null) return 'ok';
  const now = state.clock.now();
  const waited = now == null ? 0 : now - s.clockSince;
  const computed = waited >= state.thresholds.late ? 'late' : waited >= state.thresholds.warn ? 'warn' : 'ok';
  return LEVEL_RANK[computed] > LEVEL_RANK[s.level] ? computed : s.level;
}

export function timerText(s) {
  if (s.clockSince == null) return 'Replied';
  const now = state.clock.now();
  return now == null ? 'Waiting' : formatDuration(now - s.clockSince);
}

const priorityRank = (s) => ({ urgent: 2, high: 1 }[s.priority] || 0);

/** The chats in the order the agent should look at them: priority, then the oldest assignment. */
export const orderedChats = () => [...state.sessions.values()].sort((a, b) => priorityRank(b) - priorityRank(a) || a.assignedAt - b.assignedAt);
