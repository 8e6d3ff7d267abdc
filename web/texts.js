// What the agent console and the supervisor view say for each name of the
// protocol (docs/protocol.md): flags, signals, states, close reasons, error
// codes. The pages call a session a "chat" (docs/domain.md, Glossary).

export const FLAG_TEXT = {
  transfer_without_consent: 'Transfer to another group without the customer\'s consent',
  transfer_ping_pong: 'Transfer back and forth (ping-pong)',
  transfer_dumping_late_session: 'Transfer of a late chat to offload it',
  transfer_too_many: 'Too many transfers of one chat',
  break_while_customers_wait: 'Break while customers were waiting',
  break_after_assignment: 'Break right after an assignment',
  break_too_many: 'Too many breaks this shift',
  break_too_long: 'Breaks too long this shift',
  close_unanswered: 'Closed with the customer\'s message unanswered',
  close_unconfirmed: 'Closed as resolved without the customer\'s confirmation',
  close_unresponsive_too_soon: 'Closed as customer unresponsive too soon',
  close_without_cause: 'Closed as "other" without the customer\'s confirmation',
  disconnect_shedding: 'Repeated disconnects moved chats to others',
  content_rule: 'A reply broke a content rule',
};

/** A conduct flag as people read it: its kind, and for a content rule the rule's name. */
export const flagText = (kind, rule) => `${FLAG_TEXT[kind] || kind}${rule ? `: ${rule}` : ''}`;

export const SIGNAL_TEXT = {
  phone_request: 'asks for a phone call',
  abusive_language: 'abusive or agitated language',
  repeated_question: 'same question repeated',
  message_burst: 'many messages in a short time',
};

/** An agent's state, as the console's pill and the supervisor's tables say it. */
export const STATE_TEXT = {
  available: 'Available', busy: 'Busy (full)', on_break: 'On break', disconnected: 'Disconnected', offline: 'Offline',
};

export const CLOSE_REASONS = [
  ['resolved', 'Resolved'],
  ['customer_unresponsive', 'Customer unresponsive'],
  ['duplicate', 'Duplicate'],
  ['abusive', 'Abusive customer'],
  ['other', 'Other'],
];

export const ENDED_TEXT = {
  agent_resolved: 'closed as resolved', agent_customer_unresponsive: 'closed: customer unresponsive',
  agent_duplicate: 'closed as duplicate', agent_abusive: 'closed: abusive', agent_other: 'closed',
  customer_left: 'the customer left', customer_idle: 'closed: customer idle', customer_lost: 'the customer\'s connection was lost',
};

const ERROR_TEXT = {
  handoff_note_missing: 'A handoff note is required.',
  handoff_note_too_short: 'The handoff note is too short.',
  handoff_note_too_long: 'The handoff note is too long.',
  target_agent_unavailable: 'That agent is offline, disconnected or on a break.',
  target_agent_full: 'That agent has no room for another chat.',
  transfer_to_self: 'You cannot transfer a chat to yourself.',
  unknown_agent: 'No agent with that ID.',
  unknown_group: 'No skill group with that ID.',
  consent_pending: 'A transfer is already waiting for the customer\'s consent.',
  open_sessions: 'Transfer or close your open chats before going offline.',
  not_your_session: 'This chat is not assigned to you any more.',
  session_closed: 'This chat is closed.',
  message_too_long: 'The message is too long.',
  message_empty: 'The message is empty.',
  supervisor_cannot_serve: 'Supervisors do not take chats.',
};

/** A refused command as a sentence, with its stable code for support. */
export const errorText = (msg) => (ERROR_TEXT[msg.code] ? `${ERROR_TEXT[msg.code]} (${msg.code})` : `${msg.message || 'Refused'} (${msg.code})`);

/** What each sign-in and token refusal means to a person (docs/security.md). */
const SIGNIN_TEXT = {
  invalid_credentials: 'Wrong agent ID or password.',
  login_rate_limited: 'Too many sign-in attempts.',
  agent_disabled: 'This account has been disabled. Ask an admin.',
  // Discipline (docs/shifts.md): the server's message says until when, so signInText adds it.
  agent_suspended: 'This account is suspended (discipline).',
  agent_disqualified: 'This account is disqualified (discipline). Ask an admin.',
  token_expired: 'Your sign-in has expired: sign in again.',
  token_invalid: 'Your sign-in is no longer valid: sign in again.',
  token_missing: 'Sign in first.',
  token_not_yet_valid: 'Your sign-in is not valid yet: check this computer\'s clock.',
  unknown_agent: 'This account is not in the roster.',
  forbidden: 'This account may not do that.',
  login_disabled: 'Sign in through your company\'s sign-in page.',
  network: 'The server cannot be reached. Check your connection and try again.',
  invalid_command: 'The server refused this page\'s connection (invalid_command): reload the page.',
};

const DISCIPLINE_BARS = new Set(['agent_suspended', 'agent_disqualified']);

/** A refusal (`{code, message, retryAfter}`) as a sentence. */
export function signInText(failure) {
  const code = (failure && failure.code) || 'internal';
  const text = SIGNIN_TEXT[code] || `Sign-in failed: ${(failure && failure.message) || code}.`;
  if (DISCIPLINE_BARS.has(code) && failure.message) return `${text} The server says: ${failure.message}.`;
  return code === 'login_rate_limited' && failure.retryAfter ? `${text} Try again in ${failure.retryAfter} s.` : text;
}

/** The supervisor view's "Past chats" panel (supervisor-records.js). */
export const RECORDS_TEXT = {
  hint: 'Closed chats from the records store, kept as long as the server\'s records.retention says (a year by default). Fill in any filters and press Search.',
  none: 'No closed chat matches these filters.',
  found: (n) => (n === 1 ? '1 chat found, newest first.' : `${n} chats found, newest first.`),
  rating: { satisfied: 'Satisfied', dissatisfied: 'Not satisfied', none: 'Not rated' },
};

const RECORDS_ERROR_TEXT = {
  records_disabled: 'Past chats are not kept on this server (records.enabled = false).',
  records_unavailable: 'The records database cannot be reached right now; try again in a moment.',
  chat_not_found: 'That chat is not in the records (yet: records arrive moments after a chat closes).',
  supervisors_only: 'Past chats are for supervisors and admins.',
  invalid_request: 'The server did not accept these filters',
  network: 'The server cannot be reached.',
};

/** A refused records lookup as a sentence, with its code. */
export function recordsErrorText(refusal) {
  const text = RECORDS_ERROR_TEXT[refusal.code] || SIGNIN_TEXT[refusal.code] || refusal.message || 'The lookup failed';
  const detail = refusal.code === 'invalid_request' && refusal.message ? `: ${refusal.message}` : '';
  return `${text}${detail} (${refusal.code})`;
}

/** What the widget says about a ticket (widget-tickets.js): the customer's words, not the desk's. */
export const TICKET_TEXT = {
  formTitle: 'Leave a message',
  noEmail: 'No e-mail: come back to this page on this browser to read our answer.',
  reason: {
    group_closed: 'We are closed right now. Leave a message and we answer it when we open.',
    nobody_available: 'Nobody is available right now. Leave a message and we answer it as soon as we can.',
    customer_choice: 'Rather not wait? Leave a message and we answer it as soon as we can.',
  },
  customerState: {
    assigned: 'We have your message and will answer it soon.',
    processing: 'We are working on your request.',
    awaiting_feedback: 'We need something from you: please reply below.',
    customer_replied: 'Thanks for your reply. We will answer soon.',
    pending_confirmation: 'We think this is solved. Is it? Confirm below, or reply if not.',
    resolved: 'Solved. Thank you!',
    closed: 'This request is closed.',
  },
  agentName: (agent) => (agent ? `Support (${agent})` : 'Support'),
};

const TICKET_ERROR_TEXT = {
  ticket_token_invalid: 'This message is no longer available on this browser.',
  bad_text: 'Please write a message (not too long).',
  unknown_group: 'This team cannot take messages.',
  bad_reason: 'This page could not leave the message (bad_reason).',
  ticket_done: 'This request is already finished.',
  ticket_transition_illegal: 'That is not possible at this step.',
  storage_unavailable: 'We cannot save right now: nothing was sent, please try again in a moment.',
  origin_not_allowed: 'This site may not leave messages with us.',
  rate_limited: 'Too many messages from here; please wait a moment.',
  network: 'We cannot reach the server. Check your connection and try again.',
};

/** A refused ticket request as a sentence for the customer, with its code. */
export const ticketErrorText = (refusal) => `${TICKET_ERROR_TEXT[refusal.code] || refusal.message || 'Something went wrong.'} (${refusal.code})`;

/** A ticket's state as the console and the supervisor view say it (docs/tickets.md, States). */
export const TICKET_STATE_TEXT = {
  assigned: 'New (not answered yet)',
  processing: 'Processing',
  awaiting_feedback: 'Awaiting the customer\'s feedback',
  customer_replied: 'Customer replied',
  pending_confirmation: 'Pending the customer\'s confirmation',
  resolved: 'Resolved',
  closed: 'Closed',
};

/** A ticket's limits (docs/tickets.md, Limits): deadlines and breach kinds. */
export const TICKET_DEADLINE_TEXT = {
  first_response: 'First response',
  expected_time: 'Reply with the expected resolution time',
  no_reply: 'Reply to the customer\'s message',
  feedback_wait: 'Customer feedback (then pending confirmation)',
  confirmation_wait: 'Confirmation (then closed)',
};

const TICKET_AGENT_ERROR_TEXT = {
  ticket_unknown: 'No such ticket.',
  ticket_not_visible: 'This ticket is not yours or your groups\'.',
  ticket_not_yours: 'Only the ticket\'s owner can do that.',
  ticket_done: 'This ticket is finished.',
  ticket_transition_illegal: 'The ticket cannot move to that state from here.',
  ticket_agent_unavailable: 'That agent is away.',
  ticket_agent_not_in_group: 'That agent is not in the ticket\'s group.',
  ticket_agent_full: 'That agent has no room for another ticket.',
  ticket_transfer_to_self: 'The ticket is already yours.',
  ticket_reply_first: 'Reply to the customer first (say who will answer), then transfer.',
  ticket_expected_time_invalid: 'The expected resolution time must be in the future.',
  handoff_note_too_short: 'The note is too short.',
  handoff_note_too_long: 'The note is too long.',
  session_unknown: 'This chat is no longer open.',
  chat_not_yours: 'Only the agent serving this chat can turn it into a ticket.',
  storage_unavailable: 'Saving is temporarily unavailable: nothing changed, try again in a moment.',
  invalid_request: 'The server did not understand this page\'s request',
  supervisors_only: 'Only supervisors see every ticket.',
  bad_scope: 'This page asked for an unknown list (bad_scope).',
  bad_text: 'The text is empty or too long.',
  network: 'The server cannot be reached.',
};

/** A refused ticket request as a sentence for an agent or a supervisor, with its code. */
export const ticketAgentErrorText = (refusal) => `${TICKET_AGENT_ERROR_TEXT[refusal.code] || SIGNIN_TEXT[refusal.code] || refusal.message || 'Refused'} (${refusal.code})`;

/**
 * Discipline warnings by cause (docs/shifts.md, Discipline): what the pages
 * call them and how many warnings each counts for. The server's unit test
 * (server/src/discipline) holds this list to the rules' causes and weights.
 */
export const WARNING_CAUSES = {
  late_leave: { weight: 1, text: 'leave asked late' },
  absence: { weight: 2, text: 'absent without leave' },
  upheld_complaint: { weight: 1, text: 'complaint upheld' },
};

/** A shift's phase (docs/shifts.md, API) as the console and the supervisor view say it. */
export const SHIFT_PHASE_TEXT = { upcoming: 'Upcoming', running: 'Running now', over: 'Over', cancelled: 'Cancelled' };

const SHIFT_ERROR_TEXT = {
  records_disabled: 'Shifts are not kept on this server (records.enabled = false).',
  records_unavailable: 'The records database cannot be reached right now; try again in a moment.',
  network: 'The server cannot be reached.',
};

/**
 * A refused shifts, leave or discipline request as a sentence with its code:
 * the server's own message (it names the rule: "no leave during a running
 * shift"), or ours where the server's is about configuration.
 */
export function shiftErrorText(refusal) {
  const said = SHIFT_ERROR_TEXT[refusal.code] || refusal.message || SIGNIN_TEXT[refusal.code] || 'Refused';
  return `${said.charAt(0).toUpperCase()}${said.slice(1)} (${refusal.code})`;
}

/**
 * What the widget says about complaints (widget-complaints.js, docs/quality.md).
 * `kind`, `state` keys are the server's names (quality::KINDS, quality::STATES:
 * a server test holds them together).
 */
export const COMPLAINT_TEXT = {
  kind: {
    attitude: 'Rude or unfriendly',
    wrong_answer: 'Wrong or unclear answer',
    slow: 'Slow replies',
    other: 'Something else',
  },
  // After "Complaint: <stateShort> · ".
  state: {
    open: 'a supervisor will look into it.',
    upheld: 'you were right, and we are sorry.',
    rejected: 'a supervisor found no fault.',
  },
  stateShort: { open: 'open', upheld: 'upheld', rejected: 'rejected' },
  filed: 'Thank you. Your complaint is filed: a supervisor reads the conversation and decides. Come back to "Past conversations" on this browser to see the outcome.',
  none: 'No past conversations on this browser yet.',
  keptHere: 'Kept on this browser only. Complaints are read by a supervisor, not by the agent.',
};

const COMPLAINT_ERROR_TEXT = {
  not_your_subject: 'This browser cannot complain about that conversation any more.',
  complaint_exists: 'You have already complained about this conversation; a supervisor is looking into it.',
  complaint_not_found: 'That complaint is no longer known.',
  invalid_request: 'Please say what went wrong (at most 1000 characters).',
  records_disabled: 'Complaints cannot be filed on this site.',
  records_unavailable: 'We cannot save your complaint right now; please try again in a moment.',
  origin_not_allowed: 'This site may not file complaints with us.',
  rate_limited: 'Too many complaints from here; please wait a minute.',
  token_missing: 'This browser has no key to that conversation.',
  network: 'We cannot reach the server. Check your connection and try again.',
};

/** A refused complaint request as a sentence for the customer, with its code. */
export const complaintErrorText = (refusal) => `${COMPLAINT_ERROR_TEXT[refusal.code] || refusal.message || 'Something went wrong.'} (${refusal.code})`;

/**
 * What the supervisor view says about spot checks and complaints
 * (supervisor-quality.js). `category` keys are quality::CATEGORIES.
 */
export const QUALITY_TEXT = {
  result: { pass: 'Pass', fail: 'Fail' },
  outcome: { upheld: 'Upheld', rejected: 'Rejected' },
  category: {
    business: 'Business: about the answer (wrong or unclear, passing the buck, slow replies)',
    non_business: 'Non-business: about conduct (attitude, insults or arguing, asking for unrelated information such as passwords or moving to QQ/WeChat, misuse of the customer\'s data)',
  },
  categoryShort: { business: 'business', non_business: 'non-business' },
  categoryHint: 'The handbook: any upheld complaint puts the agent\'s payout ratio at 70 % this month; an upheld non-business complaint is also a warning.',
  final: 'A review is final: it cannot be changed afterwards. The customer sees the outcome and your public comment.',
  noComplaints: 'No open complaints.',
  openCount: (n) => (n === 1 ? '1 open complaint, oldest first.' : `${n} open complaints, oldest first.`),
  pending: 'The chat\'s record has not arrived yet: review it in a moment.',
  spotHint: 'Name an agent to see their spot checks this month, or to open the next chat of theirs nobody has checked (mark it in the chat\'s dialog).',
  monthGoal: 'The handbook asks for 20 checked chats a month, at least 85 % passing.',
  allChecked: (agent) => `Every chat ${agent} served this month is checked already.`,
};

const QUALITY_ERROR_TEXT = {
  nobody_served: 'Nobody served this chat: there is no agent to check.',
  complaint_decided: 'This complaint was already decided.',
  complaint_pending: 'The chat\'s record has not arrived yet: try again in a moment.',
  complaint_not_found: 'No such complaint.',
  chat_not_found: 'That chat is not in the records (yet).',
  invalid_request: 'The server did not accept this',
};

/** A refused spot check or review as a sentence for a supervisor, with its code. */
export function qualityErrorText(refusal) {
  const own = QUALITY_ERROR_TEXT[refusal.code];
  if (!own) return recordsErrorText(refusal);
  const detail = refusal.code === 'invalid_request' && refusal.message ? `: ${refusal.message}` : '';
  return `${own}${detail} (${refusal.code})`;
}
