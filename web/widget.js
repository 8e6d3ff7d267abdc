// Switchboard chat widget. Embed with one tag:
//
//   <script src="https://chat.example.com/widget.js" data-group="general" defer></script>
//
// Optional attributes: data-title="Customer service", data-name="Wei" (the
// customer's name, if the site knows it), data-heartbeat-ms="25000" (how
// often to check that the connection lives).
// Verified customers: data-identifier="user-42" data-identifier-hash="<hex
// HMAC-SHA256 of the identifier with the server's customers.identity_secret,
// computed by the site's server, never in the page>"; agents then see the id
// marked verified. A wrong hash is refused (identity_invalid).
// Queue priority (verified customers only): data-priority="urgent"
// data-priority-hash="<hex HMAC-SHA256 of the identifier, a newline and
// "priority=urgent", same secret>". Without the hash the server ignores the
// priority; a wrong hash is refused (priority_invalid) and not retried.
//
// It adds a chat button and a panel (inside a shadow root, so the site's CSS
// and the widget's do not touch each other), talks to the server that served
// this script over the v1 WebSocket protocol, and keeps the session token, the
// transcript and the highest seq in sessionStorage so a reload or a dropped
// network resumes the same chat with nothing lost or shown twice. Every piece
// of text from either side is set with textContent, never parsed as HTML.
(function () {
  'use strict';
  const script = document.currentScript;
  if (!script || window.__switchboardWidget) return;
  window.__switchboardWidget = true;
  const base = new URL(script.src, location.href);
  const config = {
    group: script.dataset.group || 'general',
    title: script.dataset.title || 'Customer service',
    name: script.dataset.name || '',
    priority: script.dataset.priority || '',
    priorityHash: script.dataset.priorityHash || '',
    heartbeatMs: Number(script.dataset.heartbeatMs) || 25000,
    identifier: script.dataset.identifier || '',
    identifierHash: script.dataset.identifierHash || '',
  };
  const start = () => import(new URL('/wire.js', base).href)
    .then((wire) => mount(wire, base, config))
    .catch((error) => console.error('switchboard widget: could not load', error));
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();

function mount(wire, base, config) {
  const { Wire, wsOrigin, el } = wire;
  const storeKey = `switchboard.widget.${config.group}`;
  const TYPING_SEND_EVERY = 3000;
  const TYPING_SHOW_FOR = 5000;

  // ---- persisted state -------------------------------------------------
  const fresh = () => ({
    token: null, session: null, lastSeq: 0, pending: [], entries: [],
    phase: 'intro', // intro | waiting | assigned | closed | gone | group_closed
    agentName: null, leftForMessage: false, position: null, eta: null, etaBasis: null, noAgent: null, groupClosed: null,
    consent: null, resolve: null, closed: null, rated: null, open: false, name: config.name,
  });
  let S = fresh();
  try {
    const saved = JSON.parse(sessionStorage.getItem(storeKey) || 'null');
    if (saved && typeof saved === 'object') S = { ...S, ...saved };
  } catch (_) { /* storage unavailable or corrupt: start afresh */ }
  const save = () => {
    if (client) { S.lastSeq = client.lastSeq; S.pending = client.pendingCommands(); }
    try { sessionStorage.setItem(storeKey, JSON.stringify(S)); } catch (_) { /* private mode */ }
  };

  // ---- DOM -------------------------------------------------------------
  const host = el('div', { class: 'switchboard-widget-host' });
  const root = host.attachShadow({ mode: 'open' });
  root.append(el('link', { rel: 'stylesheet', href: new URL('/widget.css', base).href }));
  const icon = () => {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z');
    svg.append(path);
    return svg;
  };
  const face = (happy) => {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('class', 'face');
    const shapes = [
      ['circle', { cx: 12, cy: 12, r: 10, fill: 'none', 'stroke-width': 2 }],
      ['circle', { cx: 8.5, cy: 10, r: 1.3, stroke: 'none' }],
      ['circle', { cx: 15.5, cy: 10, r: 1.3, stroke: 'none' }],
      ['path', { d: happy ? 'M7.5 14.5q4.5 4 9 0' : 'M7.5 17q4.5-4 9 0', fill: 'none', 'stroke-width': 2, 'stroke-linecap': 'round' }],
    ];
    for (const [tag, attrs] of shapes) {
      const node = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
      svg.append(node);
    }
    return svg;
  };
  const ids = { panel: 'sbw-panel', title: 'sbw-title', input: 'sbw-input' };
  const launcher = el('button', {
    class: 'launcher', type: 'button', 'aria-controls': ids.panel, 'aria-expanded': 'false', part: 'launcher',
  }, icon(), el('span', { class: 'launcher-label', text: 'Chat with us' }), el('span', { class: 'badge', hidden: true }));
  const titleEl = el('h2', { id: ids.title, class: 'title', text: config.title });
  const subEl = el('p', { class: 'sub', 'aria-live': 'polite' });
  const endButton = el('button', { class: 'text-button end', type: 'button', text: 'End chat', hidden: true });
  const closeButton = el('button', { class: 'icon-button', type: 'button', 'aria-label': 'Minimize chat', text: '\u2013' });
  const banner = el('div', { class: 'banner', role: 'status', 'aria-live': 'polite', hidden: true });
  const queueCard = el('div', { class: 'queue', hidden: true, 'aria-live': 'polite' });
  const log = el('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Chat messages', tabindex: '0' });
  const typingEl = el('div', { class: 'typing', 'aria-live': 'polite' });
  const prompt = el('div', { class: 'prompt' });
  const input = el('textarea', {
    id: ids.input, class: 'input', rows: '1', maxlength: '5000', placeholder: 'Type your message…', autocomplete: 'off',
  });
  const sendButton = el('button', { class: 'send', type: 'submit', text: 'Send' });
  const composer = el('form', { class: 'composer' },
    el('label', { for: ids.input, class: 'visually-hidden', text: 'Message' }), input, sendButton);
  const panel = el('section', {
    id: ids.panel, class: 'panel', role: 'dialog', 'aria-labelledby': ids.title, hidden: true,
  },
  el('div', { class: 'head' },
    el('div', { class: 'avatar', 'aria-hidden': 'true' }, icon()),
    el('div', { class: 'head-text' }, titleEl, subEl),
    closeButton),
  banner, queueCard, log, typingEl, prompt, composer,
  el('div', { class: 'foot' }, endButton, el('span', { class: 'powered', text: 'Powered by Switchboard' })));
  root.append(launcher, panel);
  document.body.append(host);

  // Leave a message (a ticket): its own module and pane (widget-tickets.js).
  let tickets = null; // the message pane, once its module is loaded
  import(new URL('/widget-tickets.js', base).href)
    .then((module) => { tickets = module.mountTickets({
      panel, group: config.group, name: () => S.name, chatToken: liveChatToken, open: () => setOpen(true), onCreated: leftMessage, onShown: render,
    }); })
    .catch((error) => console.error('switchboard widget: leaving a message is unavailable', error));
  // Pictures and files (files.js): the picker joins the composer once loaded.
  let files = null;
  import(new URL('/files.js', base).href)
    .then((module) => {
      files = module;
      module.mountPicker({
        form: composer,
        input,
        upload: (file, onProgress) => (S.token
          ? module.uploadFile({ base, token: S.token, session: S.session, file, onProgress })
          : Promise.reject({ message: 'Send a message first to start the chat.' })),
        sendAttachment: (attachment) => sendMessage('', attachment),
        onError: (error) => showError(errorText(error)),
      });
      render();
    })
    .catch((error) => console.error('switchboard widget: sending files is unavailable', error));
  // Complaints and past conversations: their own module and pane (widget-complaints.js).
  let complaints = null;
  import(new URL('/widget-complaints.js', base).href)
    .then((module) => { complaints = module.mountComplaints({ panel, group: config.group, open: () => setOpen(true), onShown: render });
      // A closing card drawn before the module came gets its complaint button (other cards keep what was typed).
      if (S.phase === 'closed') promptKey = null;
      render();
    })
    .catch((error) => console.error('switchboard widget: complaints are unavailable', error));
  // The token of a chat still going on (a ticket may link it; a ticket left earlier waits behind it).
  // A chat left for a message is over for the page at once, even before the server has the
  // `leave`: a reload in between shows the message, not the chat (the `leave` is re-sent).
  const liveChatToken = () => (!S.leftForMessage && (S.phase === 'waiting' || S.phase === 'assigned') ? S.token : null);
  // A customer who left a message instead of waiting leaves the queue.
  function leftMessage() {
    if (complaints) complaints.syncTicket();
    if (S.phase === 'waiting' && client) {
      S.leftForMessage = true;
      client.send({ type: 'leave' });
      save();
    }
  }
  const leaveMessage = () => window.switchboardLeaveMessage({ group: config.group, reason: 'customer_choice' });

  // ---- connection ------------------------------------------------------
  let client = null;
  const wsBase = wsOrigin(base.href);
  const connect = () => {
    if (client) client.stop();
    holdInfo = null;
    pageRefusal = null;
    client = new Wire({
      idPrefix: 'c',
      heartbeatMs: config.heartbeatMs,
      lastSeq: S.lastSeq,
      pending: S.pending,
      url: () => {
        if (S.token) {
          return `${wsBase}/v1/ws/customer?token=${encodeURIComponent(S.token)}&last_seq=${client.lastSeq}`;
        }
        const q = new URLSearchParams({ group: config.group });
        if (S.name) q.set('name', S.name);
        if (config.priority) q.set('priority', config.priority);
        if (config.priorityHash) q.set('priority_hash', config.priorityHash);
        // So that a closed group's next opening is also given in the customer's own time.
        const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
        if (zone) q.set('time_zone', zone);
        if (config.identifier) {
          q.set('identifier', config.identifier);
          q.set('identifier_hash', config.identifierHash);
        }
        return `${wsBase}/v1/ws/customer?${q}`;
      },
      onMessage: handle,
      onStatus: connection,
      onPersist: save,
      onHold: (hold) => { holdInfo = hold; render(); },
    });
    client.start();
  };

  let connectionState = 'idle';
  let retryDetail = null;
  // Set while the server cannot save (storage_unavailable): messages wait and are sent again.
  let holdInfo = null;
  // Refusals of this page's own attributes: the same page would be refused
  // again, so stop instead of retrying (the wire client retries what it
  // does not know as final). Known from the error frame: the close that
  // follows does not always bring its reason.
  const PAGE_REFUSALS = new Set(['priority_invalid', 'time_zone_invalid', 'group_closed']);
  let pageRefusal = null;
  function refusePage(code) {
    pageRefusal = code;
    client.stop();
  }
  function connection(status, detail) {
    if (pageRefusal) {
      status = 'failed';
      detail = { reason: pageRefusal };
    }
    connectionState = status;
    retryDetail = detail;
    if (status === 'failed') {
      const reason = detail.reason;
      if (reason === 'invalid_token') {
        // The session is gone (closed long ago, or the server restarted).
        if (S.phase !== 'closed' || S.rated) S.phase = 'gone';
        S.token = null;
        S.consent = null;
        S.resolve = null;
      }
      save();
    }
    render();
  }

  const ownIndex = (id) => S.entries.findIndex((entry) => entry.cid === id);
  function handle(msg) {
    switch (msg.type) {
      case 'welcome':
        S.token = msg.token;
        S.session = msg.session;
        applyStatus(msg.status, !msg.resumed);
        break;
      case 'queued':
        S.phase = 'waiting';
        S.position = msg.position;
        // null when nobody can serve now (estimate_basis "unknown").
        S.eta = msg.estimated_wait_ms == null ? null : msg.estimated_wait_ms;
        S.etaBasis = msg.estimate_basis || null;
        break;
      case 'no_agent_online':
        S.noAgent = { serviceHours: msg.service_hours || null };
        break;
      case 'agent_online':
        S.noAgent = null;
        break;
      case 'group_closed':
        // Final: nothing was queued; the group takes new chats again at its next opening.
        S.phase = 'group_closed';
        S.groupClosed = { group: msg.group, name: msg.group_name || msg.group, opensAt: msg.opens_at ?? null, serviceHours: msg.service_hours || null };
        break;
      case 'ticket_created':
        // The agent turned this chat into a ticket: keep its token, to read the answer later.
        if (tickets) tickets.adopt({ id: msg.ticket, token: msg.token });
        if (complaints) complaints.rememberTicket({ id: msg.ticket, token: msg.token });
        push({ from: 'system', text: `Your chat is now request #${msg.ticket}: we will answer it later. No e-mail: come back to this page on this browser to read our answer.` });
        break;
      case 'overflowed': {
        const names = (msg.to_groups || []).map((g) => g.name || g.id);
        if (names.length) push({ from: 'system', text: `To help you sooner, ${listText(names)} can now answer you too.` });
        break;
      }
      case 'assigned': {
        const previous = S.agentName;
        S.phase = 'assigned';
        S.agentName = msg.agent_name;
        S.noAgent = null;
        S.consent = null;
        S.position = null;
        push({ from: 'system', text: previous && previous !== msg.agent_name
          ? `${msg.agent_name} has taken over your chat.` : `${msg.agent_name} joined the chat.` });
        break;
      }
      case 'agent_message':
        typingUntil = 0;
        push({ from: 'agent', name: msg.agent_name, text: msg.text, attachment: msg.attachment });
        if (!S.open) S.unread = (S.unread || 0) + 1;
        break;
      case 'agent_typing':
        typingUntil = Date.now() + TYPING_SHOW_FOR;
        setTimeout(render, TYPING_SHOW_FOR + 50);
        break;
      case 'consent_request':
        S.consent = { toGroup: msg.to_group, toGroupName: msg.to_group_name || msg.to_group };
        push({ from: 'system', text: `${S.agentName || 'Your agent'} would like to pass your chat to ${S.consent.toGroupName}.` });
        break;
      case 'resolve_request':
        S.resolve = { asked: true };
        break;
      case 'closed':
        S.phase = 'closed';
        // `session` and `receipt` (records on): the key to complain about this chat later.
        S.closed = { reason: msg.reason, canRate: !!msg.can_rate, session: msg.session ?? null, receipt: msg.receipt || null };
        if (complaints) complaints.rememberChat(S.closed);
        S.consent = null;
        S.resolve = null;
        push({ from: 'system', text: closedText(msg.reason) });
        break;
      case 'ack': {
        const i = ownIndex(msg.id);
        const entry = S.entries[i];
        if (entry) { entry.state = 'sent'; updateOwn(entryNodes[i], entry); }
        if (S.rated && S.rated.cid === msg.id) finishRating();
        break;
      }
      case 'error': {
        if (msg.id == null && PAGE_REFUSALS.has(msg.code)) { refusePage(msg.code); break; }
        if (msg.id == null) { showError(msg.message || msg.code); break; }
        const i = ownIndex(msg.id);
        const entry = S.entries[i];
        if (entry) { entry.state = 'failed'; entry.error = errorText(msg); updateOwn(entryNodes[i], entry); }
        else if (S.rated && S.rated.cid === msg.id) {
          if (msg.code === 'already_rated') finishRating();
          else { S.rated = null; showError(errorText(msg)); }
        } else showError(errorText(msg));
        break;
      }
      case 'shutdown':
        showError('The chat service is restarting. We will reconnect you.');
        break;
      default:
        return; // unknown types are ignored (protocol: additive changes)
    }
    save();
    render();
  }

  // The chat is over and rated: nothing more to say to the server.
  function finishRating() {
    S.rated.state = 'done';
    S.token = null;
    setTimeout(() => { if (client && !S.token) { client.stop(); client = null; } }, 0);
  }

  function applyStatus(status, isNew) {
    if (!status) return;
    if (status.state === 'waiting') {
      S.phase = 'waiting';
      S.position = status.position;
    } else if (status.state === 'assigned') {
      S.phase = 'assigned';
      S.agentName = status.agent_name;
      if (!status.consent_pending) S.consent = null;
    } else if (status.state === 'closed') {
      S.phase = 'closed';
      S.closed = { reason: status.reason, canRate: !!status.can_rate };
    }
    if (isNew) push({ from: 'system', text: 'You joined the queue. An agent will be with you shortly.' });
  }

  // The transcript keeps the last MAX_ENTRIES entries. Trimming happens only
  // here, together with the oldest bubble, so that entryNodes[i] stays the
  // bubble of S.entries[i] (render() adds the bubbles of entries not shown yet).
  const MAX_ENTRIES = 500;
  function push(entry) {
    S.entries.push({ ...entry, at: Date.now() });
    if (S.entries.length > MAX_ENTRIES) {
      S.entries.shift();
      const oldest = entryNodes.shift();
      if (oldest) oldest.remove();
    }
  }

  let errorMessage = null;
  let errorTimer = null;
  function showError(text) {
    errorMessage = text;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(() => { errorMessage = null; render(); }, 8000);
    render();
  }

  const ERRORS = {
    message_empty: 'The message is empty.',
    message_too_long: 'That message is too long.',
    session_closed: 'This chat has ended.',
    rating_not_open: 'Rating is no longer possible for this chat.',
    already_rated: 'You have already rated this chat.',
    no_consent_pending: 'That request is no longer open.',
    no_resolve_request: 'That question is no longer open.',
    shutting_down: 'The service is restarting; please try again in a moment.',
    rate_limited: 'You are sending messages too fast; please wait a moment.',
  };
  const errorText = (msg) => ERRORS[msg.code] || msg.message || msg.code;

  function closedText(reason) {
    switch (reason) {
      case 'agent_resolved': return 'The chat has ended. We are glad we could help.';
      case 'customer_left': return 'You ended the chat.';
      case 'customer_idle': return 'The chat was closed because it was quiet for a while.';
      case 'customer_lost': return 'The chat was closed after the connection was lost.';
      case 'agent_customer_unresponsive': return 'The agent closed the chat because there was no reply.';
      default: return 'The agent has closed the chat.';
    }
  }

  // ---- actions ---------------------------------------------------------
  function begin() {
    if (S.phase !== 'intro' && S.phase !== 'gone') return;
    const nameField = prompt.querySelector('input[name="name"]');
    const fields = { ...fresh(), open: true, name: (nameField && nameField.value.trim()) || config.name };
    S = fields;
    S.phase = 'waiting';
    clearTranscript();
    save();
    connect();
    render();
  }

  function sendMessage(text, attachment) {
    text = text.trim();
    if (!text && !attachment) return;
    if (S.phase === 'intro' || S.phase === 'gone') begin();
    const command = client.send({ type: 'message', text, ...(attachment ? { attachment } : {}) });
    lastTypingSent = 0; // the next keystroke says "typing" again at once
    push({ from: 'me', text, attachment, cid: command.id, state: 'sending' });
    save();
    render();
  }

  let lastTypingSent = 0;
  input.addEventListener('input', () => {
    autosize();
    if (S.phase !== 'assigned' || !client || !input.value.trim()) return;
    const now = Date.now();
    if (now - lastTypingSent > TYPING_SEND_EVERY) {
      lastTypingSent = now;
      client.send({ type: 'typing' });
    }
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  composer.addEventListener('submit', (event) => {
    event.preventDefault();
    if (S.phase === 'closed' || !input.value.trim()) return;
    sendMessage(input.value);
    input.value = '';
    autosize();
    input.focus();
  });
  function autosize() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
  }

  function setOpen(open) {
    S.open = open;
    if (open) S.unread = 0;
    save();
    render();
    if (open) {
      // The question being asked (name, consent, rating...) first, else the message box.
      const target = (!prompt.hidden && prompt.querySelector('input, button')) || (input.disabled ? null : input);
      if (target) target.focus();
    } else launcher.focus();
  }
  launcher.addEventListener('click', () => setOpen(!S.open));
  closeButton.addEventListener('click', () => setOpen(false));
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') { event.stopPropagation(); setOpen(false); }
  });

  let confirmingEnd = false;
  endButton.addEventListener('click', () => { confirmingEnd = true; render(); focusPrompt(); });

  function answerConsent(accept) {
    client.send({ type: 'consent', accept });
    push({ from: 'system', text: accept ? `You agreed to move to ${S.consent.toGroupName}.` : 'You chose to stay with your current agent.' });
    S.consent = null;
    save();
    render();
  }
  function answerResolved(resolved) {
    client.send({ type: 'confirm_resolved', resolved });
    push({ from: 'system', text: resolved ? 'You confirmed your problem is resolved.' : 'You said your problem is not resolved yet.' });
    S.resolve = null;
    save();
    render();
  }
  function rate(rating) {
    const command = client.send({ type: 'rate', rating });
    S.rated = { rating, cid: command.id, state: 'sending' };
    save();
    render();
    focusPrompt();
  }
  function newChat() {
    if (client) { client.stop(); client = null; }
    const open = S.open;
    S = { ...fresh(), open, name: S.name };
    clearTranscript();
    save();
    render();
    focusPrompt();
  }
  const focusPrompt = () => {
    const target = prompt.querySelector('button, input');
    if (target) target.focus();
  };

  // ---- rendering -------------------------------------------------------
  let typingUntil = 0;
  const entryNodes = []; // entryNodes[i] shows S.entries[i]; see push()
  // A new S (new chat) starts with an empty transcript.
  function clearTranscript() {
    log.replaceChildren();
    entryNodes.length = 0;
  }

  function render() {
    // Following the end of the transcript (new lines, a prompt card taking room
    // below it): keep its last line in view once the layout settles.
    const following = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
    panel.hidden = !S.open;
    launcher.setAttribute('aria-expanded', String(!!S.open));
    launcher.classList.toggle('is-open', !!S.open);
    panel.dataset.phase = S.phase;

    // Header line.
    const sub = {
      intro: 'We typically reply in a few minutes',
      waiting: 'Waiting for an agent',
      assigned: S.agentName ? `You are chatting with ${S.agentName}` : 'Connected',
      closed: 'Chat ended',
      gone: 'Chat ended',
      group_closed: 'Closed right now',
    }[S.phase];
    subEl.textContent = panel.classList.contains('showing-complaints') ? 'Your past conversations'
      : panel.classList.contains('showing-ticket') ? 'Your message to us' : sub;
    endButton.hidden = !(S.phase === 'waiting' || S.phase === 'assigned');

    // Connection and service banners.
    let bannerText = null;
    let bannerKind = 'info';
    let retry = false;
    let leaveReason = null;
    if (connectionState === 'retrying' && S.phase !== 'intro') {
      const seconds = Math.max(1, Math.round((retryDetail.delay || 0) / 1000));
      bannerText = retryDetail.reason === 'queue_full'
        ? `All agents are busy and the line is full. Trying again in ${seconds} s…`
        : retryDetail.reason === 'storage_unavailable'
          ? `Saving is temporarily unavailable; retrying in ${seconds} s…`
          : `Connection lost. Reconnecting in ${seconds} s…`;
      bannerKind = 'warn';
      retry = true;
    } else if (connectionState === 'connecting' && client && client.attempt > 0) {
      bannerText = 'Reconnecting…';
      bannerKind = 'warn';
    } else if (connectionState === 'failed' && retryDetail.reason === 'replaced') {
      bannerText = 'This chat is open in another tab or window.';
      bannerKind = 'warn';
      retry = true;
    } else if (connectionState === 'failed' && retryDetail.reason !== 'invalid_token' && S.phase !== 'group_closed') {
      bannerText = `Chat is unavailable (${retryDetail.reason || 'error'}).`;
      bannerKind = 'error';
    } else if (holdInfo && connectionState === 'open') {
      // Not a failure: what was typed is kept and sent again by itself.
      bannerText = 'Saving is temporarily unavailable; retrying…';
      bannerKind = 'warn';
    } else if (errorMessage) {
      bannerText = errorMessage;
      bannerKind = 'error';
    } else if (S.noAgent && S.phase === 'waiting') {
      leaveReason = 'nobody_available';
      bannerText = S.noAgent.serviceHours
        ? `No agent is online right now. Our service hours are ${S.noAgent.serviceHours}. You keep your place in line, or leave a message and we will answer it.`
        : 'No agent is online right now. You keep your place in line; leave a message and we will answer it.';
      bannerKind = 'notice';
    }
    banner.hidden = !bannerText;
    banner.className = `banner banner-${bannerKind}`;
    banner.replaceChildren();
    if (bannerText) {
      banner.append(el('span', { text: bannerText }));
      if (retry) {
        banner.append(el('button', {
          type: 'button', class: 'link', text: connectionState === 'failed' ? 'Continue here' : 'Retry now',
          onclick: () => { if (connectionState === 'failed') connect(); else client.connectNow(); },
        }));
      }
      if (leaveReason) banner.append(leaveMessageButton(leaveReason));
    }

    // Queue position.
    queueCard.hidden = S.phase !== 'waiting' || S.position == null;
    queueCard.replaceChildren();
    if (!queueCard.hidden) {
      queueCard.append(
        el('div', { class: 'queue-pos' },
          el('span', { class: 'queue-number', text: String(S.position) }),
          el('span', { class: 'queue-label', text: S.position === 1 ? 'You are next in line' : 'Your place in line' })),
        el('div', { class: 'queue-eta', text: etaText() }),
        el('button', { class: 'text-button dark', type: 'button', text: 'Leave a message instead', onclick: leaveMessage }),
      );
    }

    // Transcript: append the entries not shown yet (own messages' status is
    // updated where their ack or error arrives).
    const grew = entryNodes.length < S.entries.length;
    for (let i = entryNodes.length; i < S.entries.length; i += 1) {
      const node = entryNode(S.entries[i]);
      entryNodes.push(node);
      log.append(node);
    }

    typingEl.textContent = Date.now() < typingUntil && S.phase === 'assigned' ? `${S.agentName || 'Agent'} is typing…` : '';

    renderPrompt();
    const closed = S.phase === 'closed' || S.phase === 'gone' || S.phase === 'group_closed';
    composer.hidden = closed;
    input.disabled = closed;
    sendButton.disabled = closed;
    const badge = launcher.querySelector('.badge');
    badge.hidden = !(S.unread > 0 && !S.open);
    badge.textContent = S.unread > 0 ? String(S.unread) : '';
    badge.setAttribute('aria-label', `${S.unread || 0} new ${S.unread === 1 ? 'message' : 'messages'}`);
    launcher.querySelector('.launcher-label').textContent = S.open ? 'Close chat' : (S.phase === 'assigned' || S.phase === 'waiting' ? 'Back to chat' : 'Chat with us');
    // After the prompt and the composer changed size (the rating card hid the last line).
    if (grew || following) log.scrollTop = log.scrollHeight;
  }

  function entryNode(entry) {
    if (entry.from === 'system') return el('div', { class: 'entry system', text: entry.text });
    const mine = entry.from === 'me';
    const file = entry.attachment && files && S.token
      ? files.attachmentNode({ base, token: S.token, session: S.session, attachment: entry.attachment }) : null;
    // A file alone comes with its name as the text (for clients without files): the file says it.
    const text = file && (!entry.text || entry.text === `[${entry.attachment.name}]`) ? '' : entry.text;
    const node = el('div', { class: `entry ${mine ? 'mine' : 'theirs'}` },
      el('span', { class: 'who', text: mine ? 'You' : (entry.name || 'Agent') }),
      text || !file ? el('p', { class: 'bubble', text: text || (entry.attachment ? `[${entry.attachment.name}]` : '') }) : null,
      file,
      mine ? el('span', { class: 'meta' }) : null);
    if (mine) updateOwn(node, entry);
    return node;
  }
  // Shows an own message's status (sending, sent, failed) on its bubble.
  function updateOwn(node, entry) {
    const meta = node && node.querySelector('.meta');
    if (!meta) return;
    const text = entry.state === 'failed' ? `Not sent: ${entry.error || 'error'}` : entry.state === 'sending' ? 'Sending…' : 'Sent';
    if (meta.textContent !== text) meta.textContent = text;
    node.classList.toggle('failed', entry.state === 'failed');
    node.classList.toggle('sending', entry.state === 'sending');
  }

  let promptKey = null;
  function renderPrompt() {
    // Rebuild the prompt only when what it asks changes (keeps focus and typed text).
    const key = JSON.stringify([S.phase, !!S.consent, !!S.resolve, S.closed && S.closed.canRate, S.rated, confirmingEnd]);
    if (key === promptKey) return;
    promptKey = key;
    prompt.replaceChildren();
    prompt.hidden = false;
    if (S.phase === 'intro') {
      prompt.append(el('form', { class: 'card intro', onsubmit: (e) => { e.preventDefault(); begin(); focusInput(); } },
        el('p', { class: 'card-title', text: 'Hi there! How can we help?' }),
        el('p', { class: 'card-text', text: 'Start a chat and the next free agent will answer you.' }),
        el('label', { class: 'field' }, el('span', { text: 'Your name (optional)' }),
          el('input', { name: 'name', type: 'text', maxlength: '60', autocomplete: 'name', value: S.name || '' })),
        el('button', { class: 'primary', type: 'submit', text: 'Start chat' })));
      return;
    }
    if (S.phase === 'group_closed') {
      const c = S.groupClosed || {};
      prompt.append(el('div', { class: 'card', 'data-card': 'group-closed' },
        el('p', { class: 'card-title', text: `${c.name || 'This team'} is closed right now` }),
        el('p', { class: 'card-text', 'data-opens': c.opensAt ?? '', text: opensText(c) }),
        el('div', { class: 'choices' },
          leaveMessageButton('group_closed'),
          el('button', { class: 'secondary', type: 'button', text: 'Try again', onclick: newChat }))));
      return;
    }
    if (S.phase === 'gone') {
      prompt.append(el('div', { class: 'card' },
        el('p', { class: 'card-title', text: 'This chat has ended' }),
        el('p', { class: 'card-text', text: 'This chat is no longer available.' }),
        el('button', { class: 'primary', type: 'button', text: 'Start a new chat', onclick: newChat })));
      return;
    }
    if (S.phase === 'closed') {
      const card = el('div', { class: 'card rating', role: 'group', 'aria-label': 'Rate this chat' });
      if (S.closed && S.closed.canRate && !S.rated) {
        card.append(el('p', { class: 'card-title', text: 'How did we do?' }),
          el('p', { class: 'card-text', text: 'Your rating helps us improve.' }),
          el('div', { class: 'choices' },
            el('button', { class: 'choice good', type: 'button', onclick: () => rate('satisfied') }, face(true), 'Satisfied'),
            el('button', { class: 'choice bad', type: 'button', onclick: () => rate('dissatisfied') }, face(false), 'Not satisfied')));
      } else if (S.rated) {
        card.append(el('p', { class: 'card-title', text: S.rated.state === 'done' ? 'Thank you for your feedback!' : 'Sending your rating…' }));
      } else {
        card.append(el('p', { class: 'card-title', text: 'Thanks for chatting with us.' }));
      }
      card.append(el('button', { class: S.rated ? 'secondary' : 'text-button dark', type: 'button', text: 'Start a new chat', onclick: newChat }));
      if (complaints && S.closed && S.closed.receipt) {
        complaints.rememberChat(S.closed); // a closed frame that came before the module
        card.append(el('button', { class: 'text-button dark', type: 'button', text: 'Complain about this chat', onclick: () => complaints.complainAbout({ kind: 'chat', id: S.closed.session }) }));
      }
      prompt.append(card);
      return;
    }
    if (confirmingEnd) {
      prompt.append(el('div', { class: 'card', role: 'alertdialog', 'aria-label': 'End the chat?' },
        el('p', { class: 'card-title', text: 'End this chat?' }),
        el('div', { class: 'choices' },
          el('button', { class: 'primary danger', type: 'button', text: 'End chat', onclick: () => { confirmingEnd = false; client.send({ type: 'leave' }); render(); } }),
          el('button', { class: 'secondary', type: 'button', text: 'Keep chatting', onclick: () => { confirmingEnd = false; render(); focusInput(); } }))));
      return;
    }
    if (S.consent) {
      prompt.append(el('div', { class: 'card consent', role: 'alertdialog', 'aria-label': 'Transfer request' },
        el('p', { class: 'card-title', text: `Move your chat to ${S.consent.toGroupName}?` }),
        el('p', { class: 'card-text', text: `A colleague from that team can help you better, and your chat goes with you. If you say no, or do not answer, you stay with ${S.agentName || 'your agent'}.` }),
        el('div', { class: 'choices' },
          el('button', { class: 'primary', type: 'button', text: 'Yes, move me', onclick: () => answerConsent(true) }),
          el('button', { class: 'secondary', type: 'button', text: 'No, stay here', onclick: () => answerConsent(false) }))));
      return;
    }
    if (S.resolve) {
      prompt.append(el('div', { class: 'card resolve', role: 'alertdialog', 'aria-label': 'Is your problem resolved?' },
        el('p', { class: 'card-title', text: 'Is your problem resolved?' }),
        el('div', { class: 'choices' },
          el('button', { class: 'primary', type: 'button', text: 'Yes, resolved', onclick: () => answerResolved(true) }),
          el('button', { class: 'secondary', type: 'button', text: 'Not yet', onclick: () => answerResolved(false) }))));
      return;
    }
    prompt.hidden = true;
  }
  const focusInput = () => { if (!input.disabled) input.focus(); };

  // When a closed group opens, in this browser's time zone (the one sent in the join).
  function opensText(c) {
    if (c.opensAt != null) {
      const when = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(c.opensAt));
      return `It opens ${when} (your time).`;
    }
    return c.serviceHours ? `Our service hours are ${c.serviceHours}.` : 'No opening time is planned yet.';
  }

  // The hook for leaving a message instead of chatting: the tickets form
  // (web/widget-tickets.js) defines window.switchboardLeaveMessage.
  function leaveMessageButton(reason) {
    const group = (S.groupClosed && S.groupClosed.group) || config.group;
    return el('button', {
      id: 'leave-message', class: reason === 'group_closed' ? 'primary' : 'link', type: 'button', text: 'Leave a message',
      onclick: () => window.switchboardLeaveMessage?.({ group, reason }),
    });
  }

  // Never a made-up number: with nobody to serve, the wait is unknown.
  function etaText() {
    if (S.eta != null) return `Estimated wait: ${formatWait(S.eta)}`;
    return S.etaBasis === 'unknown' ? 'Estimated wait: unknown while no agent is online' : '';
  }
  const listText = (items) => (items.length < 2 ? items.join('')
    : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`);

  function formatWait(ms) {
    const minutes = Math.round(ms / 60000);
    if (ms < 60000) return 'less than a minute';
    if (minutes < 60) return `about ${minutes} min`;
    return `about ${Math.round(minutes / 60)} h`;
  }

  // ---- start -------------------------------------------------------------
  render();
  if (S.token || (S.phase !== 'intro' && S.phase !== 'gone' && S.pending.length)) connect();
  // Debug and test hook (read-only view of the state).
  window.switchboardWidget = { state: () => JSON.parse(JSON.stringify(S)), open: () => setOpen(true) };
}
