// The widget's "Leave a message": a ticket the customer leaves when a group is
// closed, nobody is available, or they would rather not wait, and reads again
// when they come back (docs/tickets.md, "Pages"). Loaded by widget.js, which
// hands it the panel; it adds a pane there that covers the chat while shown.
//
// There is no e-mail: the ticket's token (the customer's only key to it) is
// kept in localStorage on this site, so the same browser sees the answer on a
// later visit, days later. The pane says so in so many words.
//
// `window.switchboardLeaveMessage({group, reason})` opens the form (the
// widget's own buttons and the closed-group notice call it); `reason` is
// `group_closed`, `nobody_available` or `customer_choice`.
import { el, requestJson } from '/wire.js';
import { TICKET_TEXT, ticketErrorText } from '/texts.js';

const STORE_KEY = 'switchboard.ticket';
const POLL_EVERY = 5000;
const MAX_TEXT = 5000;

function loadStored() {
  try { return JSON.parse(localStorage.getItem(STORE_KEY) || 'null'); } catch (_) { return null; }
}
function saveStored(value) {
  try {
    if (value) localStorage.setItem(STORE_KEY, JSON.stringify(value));
    else localStorage.removeItem(STORE_KEY);
  } catch (_) { /* storage off: the ticket lasts as long as the page */ }
}

/** A request to the ticket API of the server that served the widget. */
const call = (path, options) => requestJson(new URL(path, import.meta.url), options);

const isDone = (ticket) => ticket.state === 'resolved' || ticket.state === 'closed';
const fromUs = (m) => m.from !== 'customer';

/**
 * Mounts the pane in `panel`. Options: `name()` (the name the customer gave
 * the chat), `chatToken()` (a live chat's token: the ticket may link it),
 * `open()` (open the panel), `onCreated(reason)` (a ticket left: the widget
 * leaves the queue if the customer was waiting in it), `onShown()` (the pane
 * was shown or hidden: the widget's header follows).
 */
export function mountTickets({ panel, group, name, chatToken, open, onCreated, onShown }) {
  const pane = el('section', { class: 'tickets', 'aria-label': 'Leave a message or read our answer', hidden: true });
  panel.querySelector('.head').after(pane);
  let stored = loadStored(); // { token, id, group, seen }
  let ticket = null;
  let problem = null;
  let pollTimer = null;
  let form = null; // { group, reason } while the form shows

  const show = (visible) => {
    pane.hidden = !visible;
    panel.classList.toggle('showing-ticket', visible);
    onShown();
    clearTimeout(pollTimer);
    if (visible && stored && !(ticket && isDone(ticket))) pollTimer = setTimeout(refresh, POLL_EVERY);
  };

  const fail = (refusal) => {
    problem = ticketErrorText(refusal);
    if (refusal.code === 'ticket_token_invalid') { stored = null; saveStored(null); ticket = null; }
    render();
  };

  async function refresh() {
    if (!stored) return;
    try {
      ({ ticket } = await call('/v1/ticket', { token: stored.token }));
      problem = null;
    } catch (refusal) { fail(refusal); return; }
    render();
    if (!pane.hidden) show(true); // next poll
  }

  async function create(text, customerName) {
    const body = { group: form.group, text, reason: form.reason };
    if (customerName) body.name = customerName;
    if (chatToken()) body.session_token = chatToken();
    const reason = form.reason;
    try {
      const answer = await call('/v1/tickets', { method: 'POST', body });
      ticket = answer.ticket;
      stored = { token: answer.token, id: ticket.id, group: ticket.group, seen: ticket.messages.length };
      saveStored(stored);
      form = null;
      problem = null;
      onCreated(reason);
    } catch (refusal) { fail(refusal); return; }
    render();
    show(true);
  }

  async function act(path, body) {
    try {
      ({ ticket } = await call(path, { method: 'POST', token: stored.token, body }));
      problem = null;
    } catch (refusal) { fail(refusal); return; }
    render();
    show(true);
  }

  const forget = () => { stored = null; ticket = null; saveStored(null); show(false); };

  function formView() {
    const text = el('textarea', { name: 'text', rows: '5', maxlength: String(MAX_TEXT), required: true, class: 'input' });
    const who = el('input', { name: 'name', type: 'text', maxlength: '60', autocomplete: 'name', value: name() || '' });
    const node = el('form', { class: 'card', 'aria-label': 'Leave a message' },
      el('p', { class: 'card-title', text: TICKET_TEXT.formTitle }),
      el('p', { class: 'card-text', text: TICKET_TEXT.reason[form.reason] || TICKET_TEXT.reason.customer_choice }),
      el('label', { class: 'field' }, el('span', { text: 'Your name (optional)' }), who),
      el('label', { class: 'field' }, el('span', { text: 'Your message' }), text),
      el('p', { class: 'card-text promise', text: TICKET_TEXT.noEmail }),
      el('div', { class: 'choices' },
        el('button', { class: 'primary', type: 'submit', text: 'Send message' }),
        el('button', { class: 'secondary', type: 'button', text: 'Back', onclick: () => { form = null; show(false); } })));
    node.addEventListener('submit', (event) => {
      event.preventDefault();
      if (text.value.trim()) create(text.value.trim(), who.value.trim());
    });
    return node;
  }

  function messageNode(m) {
    const mine = m.from === 'customer';
    if (m.from === 'system') return el('div', { class: 'entry system', text: m.text });
    return el('div', { class: `entry ${mine ? 'mine' : 'theirs'}` },
      el('span', { class: 'who', text: mine ? 'You' : TICKET_TEXT.agentName(m.agent) }),
      el('p', { class: 'bubble', text: m.text }));
  }

  function replyView() {
    const box = el('textarea', { name: 'reply', rows: '2', maxlength: String(MAX_TEXT), class: 'input', 'aria-label': 'Your reply', placeholder: 'Write a reply…' });
    const node = el('form', { class: 'ticket-reply' }, box, el('button', { class: 'send', type: 'submit', text: 'Send reply' }));
    node.addEventListener('submit', (event) => {
      event.preventDefault();
      if (box.value.trim()) act('/v1/ticket/messages', { text: box.value.trim() });
    });
    return node;
  }

  function ticketView() {
    const done = isDone(ticket);
    const unseen = ticket.messages.length > (stored.seen || 0);
    stored.seen = ticket.messages.length;
    saveStored(stored);
    const log = el('div', { class: 'log ticket-log', role: 'log', 'aria-label': 'Messages' }, ...ticket.messages.map(messageNode));
    const actions = el('div', { class: 'choices' },
      ticket.can_confirm ? el('button', { class: 'primary', type: 'button', text: 'Yes, it is solved', onclick: () => act('/v1/ticket/confirm') }) : null,
      done ? null : el('button', { class: 'secondary', type: 'button', text: 'Close my request', onclick: () => act('/v1/ticket/close') }),
      done ? el('button', { class: 'secondary', type: 'button', text: 'Forget this message', onclick: forget }) : null);
    const node = el('div', { class: 'ticket', 'data-state': ticket.state, 'data-unseen': String(unseen) },
      el('p', { class: 'ticket-state', role: 'status', text: TICKET_TEXT.customerState[ticket.state] || ticket.state }),
      el('p', { class: 'card-text promise', text: TICKET_TEXT.noEmail }),
      log,
      ticket.can_reply && !done ? replyView() : null,
      actions,
      el('button', { class: 'text-button dark', type: 'button', text: 'Back to chat', onclick: () => show(false) }));
    requestAnimationFrame(() => { log.scrollTop = log.scrollHeight; });
    return node;
  }

  function render() {
    const heading = form ? TICKET_TEXT.formTitle : ticket ? `Your message #${ticket.id}` : 'Your message';
    // (replaceChildren would show a null as the text "null")
    pane.replaceChildren(...[el('h3', { class: 'tickets-title', text: heading }),
      problem ? el('p', { class: 'banner banner-error', role: 'alert', text: problem }) : null,
      form ? formView() : ticket ? ticketView() : stored ? el('p', { class: 'card-text', text: 'Loading your message…' }) : null].filter(Boolean));
  }

  window.switchboardLeaveMessage = ({ group: chosen, reason } = {}) => {
    form = { group: chosen || group, reason: reason || 'customer_choice' };
    problem = null;
    render();
    show(true);
    open();
    const first = pane.querySelector('textarea');
    if (first) first.focus();
  };

  // Back on the page with a ticket left earlier: show it; open the panel when there is news.
  if (stored && !chatToken()) {
    render();
    show(true);
    refresh().then(() => {
      if (ticket && ticket.messages.filter(fromUs).length && pane.querySelector('[data-unseen="true"]')) open();
    });
  }
  return {
    /** A ticket made from the live chat (`ticket_created`): kept, and shown once the chat is over. */
    adopt: ({ id, token }) => { stored = { token, id, group, seen: 0 }; ticket = null; saveStored(stored); },
  };
}
