// The widget's complaints (docs/quality.md): "Complain about this chat" after
// a chat ends, and "Past conversations", the chats and messages (tickets) this
// browser had, each with its complaint's outcome. Loaded by widget.js, which
// hands it the panel; it adds a pane there that covers the chat while shown.
//
// Complaining needs a credential that outlives the chat: the `closed` frame's
// `receipt` (a chat) or the ticket's token (a message). Filing answers a
// complaint token, the only key to read the outcome. All three are kept in
// localStorage on this site, like the ticket's token (widget-tickets.js), so
// the same browser can complain and read the outcome days later.
import { el, requestJson } from '/wire.js';
import { COMPLAINT_TEXT, complaintErrorText } from '/texts.js';

const STORE_KEY = 'switchboard.history';
/** widget-tickets.js keeps the latest ticket there: picked up into the history. */
const TICKET_KEY = 'switchboard.ticket';
/** Chats and tickets remembered (the oldest are forgotten first). */
const MAX_KEPT = 50;
/** The longest reason the server keeps (docs/quality.md, quality::MAX_TEXT). */
const MAX_REASON = 1000;

const empty = () => ({ chats: [], tickets: [], complaints: [] });

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE_KEY) || 'null');
    if (saved && typeof saved === 'object') return { ...empty(), ...saved };
  } catch (_) { /* storage off or corrupt: start afresh */ }
  return empty();
}

/** A request to the complaint API of the server that served the widget. */
const call = (path, options) => requestJson(new URL(path, import.meta.url), options);

const when = (ms) => new Date(ms).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
const sameSubject = (a, b) => a.kind === b.kind && a.id === b.id;
const subjectName = (s) => (s.kind === 'chat' ? `chat #${s.id}` : `message #${s.id}`);

/**
 * Mounts the pane in `panel`. Options: `group` (the widget's group),
 * `open()` (open the panel), `onShown()` (the pane was shown or hidden: the
 * widget's header follows).
 */
export function mountComplaints({ panel, group, open, onShown }) {
  const pane = el('section', { class: 'complaints', 'aria-labelledby': 'sbw-complaints-title', hidden: true });
  panel.querySelector('.head').after(pane);
  const pastButton = el('button', { class: 'text-button past', type: 'button', text: 'Past conversations', hidden: true, onclick: () => showList() });
  panel.querySelector('.foot').prepend(pastButton);
  let kept = load();
  let view = null; // { kind: 'form', subject } | { kind: 'list' }
  let notice = null; // { text, error }

  const save = () => {
    kept.chats = kept.chats.slice(-MAX_KEPT);
    kept.tickets = kept.tickets.slice(-MAX_KEPT);
    try { localStorage.setItem(STORE_KEY, JSON.stringify(kept)); } catch (_) { /* storage off: kept for this page only */ }
    pastButton.hidden = !(kept.chats.length || kept.tickets.length);
  };

  /** The ticket widget-tickets.js holds now, into the history (it keeps one at a time). */
  function syncTicket() {
    let current = null;
    try { current = JSON.parse(localStorage.getItem(TICKET_KEY) || 'null'); } catch (_) { /* none */ }
    if (current && current.id != null && current.token) rememberTicket(current);
  }
  function rememberTicket({ id, token, group: ticketGroup }) {
    if (kept.tickets.some((t) => t.id === id)) return;
    kept.tickets.push({ id, token, group: ticketGroup || group, at: Date.now() });
    save();
  }
  function rememberChat({ session, receipt }) {
    if (session == null || !receipt || kept.chats.some((c) => c.session === session)) return;
    kept.chats.push({ session, receipt, group, at: Date.now() });
    save();
  }

  const credentialOf = (subject) => (subject.kind === 'chat'
    ? kept.chats.find((c) => c.session === subject.id)?.receipt
    : kept.tickets.find((t) => t.id === subject.id)?.token);
  /** The latest complaint about a subject (a decided one may be followed by a new one). */
  const complaintAbout = (subject) => kept.complaints.filter((c) => sameSubject(c.subject, subject)).pop() || null;

  const show = (visible) => {
    pane.hidden = !visible;
    panel.classList.toggle('showing-complaints', visible);
    if (!visible) view = null;
    onShown();
  };

  async function file(subject, kind, reason) {
    const body = { subject, reason };
    if (kind) body.kind = kind;
    try {
      const answer = await call('/v1/complaints', { method: 'POST', token: credentialOf(subject), body });
      kept.complaints.push({ complaint: answer.complaint, token: answer.token, subject, state: answer.state, comment: null, createdAt: answer.created_at });
      save();
      notice = { text: COMPLAINT_TEXT.filed, error: false };
      view = { kind: 'list' };
    } catch (refusal) {
      notice = { text: complaintErrorText(refusal), error: true };
    }
    render();
    focusFirst();
  }

  /** Reads the outcome of every complaint still open; true when one was decided since. */
  async function refresh() {
    let decided = false;
    for (const c of kept.complaints.filter((k) => k.state === 'open')) {
      try {
        const seen = await call(`/v1/complaints/${encodeURIComponent(c.complaint)}`, { token: c.token });
        if (seen.state !== 'open') decided = true;
        Object.assign(c, { state: seen.state, comment: seen.comment || null, reviewedAt: seen.reviewed_at ?? null, problem: null });
      } catch (refusal) {
        c.problem = complaintErrorText(refusal);
      }
    }
    save();
    return decided;
  }

  function formView(subject) {
    const kind = el('select', { id: 'sbw-complaint-kind', name: 'kind' },
      ...Object.entries(COMPLAINT_TEXT.kind).map(([value, text]) => el('option', { value, text })));
    const count = el('span', { id: 'sbw-complaint-count', class: 'count', text: `0 / ${MAX_REASON}` });
    const reason = el('textarea', {
      id: 'sbw-complaint-reason', name: 'reason', rows: '4', maxlength: String(MAX_REASON), required: true, class: 'input', 'aria-describedby': 'sbw-complaint-count',
    });
    reason.addEventListener('input', () => { count.textContent = `${reason.value.length} / ${MAX_REASON}`; });
    const form = el('form', { class: 'card', 'aria-label': 'Complaint' },
      el('p', { class: 'card-text', text: COMPLAINT_TEXT.keptHere }),
      el('label', { class: 'field' }, el('span', { text: 'What went wrong?' }), kind),
      el('label', { class: 'field' }, el('span', { text: 'Tell us what happened' }), reason), count,
      el('div', { class: 'choices' },
        el('button', { class: 'primary', type: 'submit', text: 'Send complaint' }),
        el('button', { class: 'secondary', type: 'button', text: 'Back', onclick: () => show(false) })));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = reason.value.trim();
      if (!text) { notice = { text: complaintErrorText({ code: 'invalid_request' }), error: true }; render(); reason.focus(); return; }
      file(subject, kind.value, text);
    });
    return form;
  }

  function complaintLine(c) {
    const decided = c.state !== 'open';
    return el('div', { class: 'complaint-state', 'data-state': c.state },
      el('p', {}, el('strong', { text: `Complaint: ${COMPLAINT_TEXT.stateShort[c.state] || c.state}` }),
        el('span', { text: ` · ${COMPLAINT_TEXT.state[c.state] || ''}` })),
      decided && c.comment ? el('p', { class: 'comment', text: `Supervisor: ${c.comment}` }) : null,
      c.problem ? el('p', { class: 'card-text', text: c.problem }) : null);
  }

  function itemView(subject, title, at, itemGroup) {
    const complaint = complaintAbout(subject);
    const canComplain = !complaint || complaint.state !== 'open';
    return el('li', { class: 'past-item', 'data-subject': `${subject.kind}-${subject.id}` },
      el('p', { class: 'card-title', text: title }),
      el('p', { class: 'card-text', text: `${itemGroup} · ${when(at)}` }),
      complaint ? complaintLine(complaint) : null,
      canComplain ? el('button', {
        class: 'text-button dark', type: 'button', text: `Complain about this ${subject.kind === 'chat' ? 'chat' : 'message'}`,
        'aria-label': `Complain about ${subjectName(subject)}`, onclick: () => complainAbout(subject),
      }) : null);
  }

  function listView() {
    const items = [
      ...kept.chats.map((c) => ({ at: c.at, node: () => itemView({ kind: 'chat', id: c.session }, `Chat #${c.session}`, c.at, c.group) })),
      ...kept.tickets.map((t) => ({ at: t.at, node: () => itemView({ kind: 'ticket', id: t.id }, `Message #${t.id}`, t.at, t.group) })),
    ].sort((a, b) => b.at - a.at);
    if (!items.length) return el('p', { class: 'card-text', text: COMPLAINT_TEXT.none });
    return el('div', {},
      el('ul', { class: 'past-list' }, ...items.map((i) => i.node())),
      el('button', { class: 'text-button dark', type: 'button', text: 'Back to chat', onclick: () => show(false) }));
  }

  function render() {
    const title = view && view.kind === 'form' ? `Complain about ${subjectName(view.subject)}` : 'Past conversations';
    pane.replaceChildren(...[
      el('h3', { id: 'sbw-complaints-title', class: 'tickets-title', tabindex: '-1', text: title }),
      // Results and refusals are read out as they come.
      el('p', { class: notice ? `banner banner-${notice.error ? 'error' : 'info'}` : 'visually-hidden', role: notice && notice.error ? 'alert' : 'status', 'aria-live': 'polite', text: notice ? notice.text : '' }),
      view && view.kind === 'form' ? formView(view.subject) : listView(),
    ]);
  }

  const focusFirst = () => {
    const target = view && view.kind === 'form' ? pane.querySelector('select') : pane.querySelector('h3');
    if (target) target.focus();
  };

  function complainAbout(subject) {
    const earlier = complaintAbout(subject);
    view = earlier && earlier.state === 'open' ? { kind: 'list' } : { kind: 'form', subject };
    notice = null;
    render();
    show(true);
    open();
    focusFirst();
  }

  async function showList() {
    syncTicket();
    view = { kind: 'list' };
    notice = null;
    render();
    show(true);
    open();
    focusFirst();
    await refresh();
    if (view && view.kind === 'list') render();
  }

  // Back on the page: an outcome arrived since the last visit opens the list.
  syncTicket();
  save();
  refresh().then((decided) => { if (decided) showList(); });

  return {
    /** The `closed` frame's session and receipt: the chat can be complained about from now on. */
    rememberChat,
    /** A ticket left or made from the chat (id, token). */
    rememberTicket,
    /** Picks up the ticket widget-tickets.js just stored. */
    syncTicket,
    /** Opens the form for a subject `{kind: 'chat' | 'ticket', id}`. */
    complainAbout,
    /** Whether this browser can complain about a chat (its receipt is kept). */
    canComplain: (session) => kept.chats.some((c) => c.session === session),
  };
}
