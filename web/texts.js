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
};

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

/** A refusal (`{code, message, retryAfter}`) as a sentence. */
export function signInText(failure) {
  const code = (failure && failure.code) || 'internal';
  const text = SIGNIN_TEXT[code] || `Sign-in failed: ${(failure && failure.message) || code}.`;
  return code === 'login_rate_limited' && failure.retryAfter ? `${text} Try again in ${failure.retryAfter} s.` : text;
}
