// A stand-in for the server's ticket HTTP API (the contract of docs/tickets.md,
// "HTTP API"), answered inside the browser contexts with Playwright routes, for
// a server built without it: the pages' side of the ticket flow is then tested
// against the contract. Against a server that has the API, the tests use the
// real thing (see `hasTicketApi`). Business time here is real time.
//
// Kept small: one owner (`owner`, default alice), the legal moves of the
// transition table only where the pages rely on them (confirm, close).

const DONE = new Set(['resolved', 'closed']);
const json = (route, status, body) => route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
const refuse = (route, status, code) => json(route, status, { code, message: code.replace(/_/g, ' ') });

/** Whether the server answers the ticket API (a 404 `Not Found` without a code means no route). */
export async function hasTicketApi(base) {
  const response = await fetch(`${base}/v1/ticket`);
  return response.status !== 404;
}

export function fakeTicketDesk({ owner = 'alice' } = {}) {
  const tickets = new Map();
  let nextId = 1;
  const now = () => Date.now();

  const view = (t, { customer }) => {
    const { token, ...rest } = t;
    const shown = {
      ...rest, messages: t.messages.map((m) => ({ ...m })), can_reply: !DONE.has(t.state), can_confirm: t.state === 'pending_confirmation',
    };
    if (customer) delete shown.deadlines;
    return shown;
  };
  const summary = (t) => {
    const { messages, ...rest } = view(t, { customer: false });
    const due = Object.values(t.deadlines).filter((d) => d != null).sort((a, b) => a - b)[0] ?? null;
    return { ...rest, last_message_at: messages[messages.length - 1].at, due };
  };
  const create = ({ group, text, name, origin }) => {
    const at = now();
    const t = {
      id: nextId++, group, state: 'assigned', priority: 'normal', owner, customer_name: name || null, origin,
      created_at: at, expected_resolution: null, deadlines: { first_response: at + 15 * 60000 },
      messages: [{ from: 'customer', agent: null, text, at }], token: `tok-${Math.random().toString(36).slice(2)}`,
    };
    tickets.set(t.id, t);
    return t;
  };
  const bearer = (request) => (request.headers().authorization || '').replace(/^Bearer /, '');
  const byToken = (request) => [...tickets.values()].find((t) => t.token === bearer(request));

  function customer(route, request, path) {
    const body = request.postData() ? request.postDataJSON() : {};
    if (path === '/v1/tickets' && request.method() === 'POST') {
      if (!body.text || !body.text.trim()) return refuse(route, 422, 'bad_text');
      const t = create({ group: body.group, text: body.text, name: body.name, origin: body.reason });
      return json(route, 201, { ticket: view(t, { customer: true }), token: t.token, now: now() });
    }
    const t = byToken(request);
    if (!t) return refuse(route, 401, 'ticket_token_invalid');
    if (DONE.has(t.state) && request.method() === 'POST') return refuse(route, 409, 'ticket_done');
    if (path === '/v1/ticket/messages') {
      t.messages.push({ from: 'customer', agent: null, text: body.text, at: now() });
      if (t.state !== 'assigned') t.state = 'customer_replied';
    } else if (path === '/v1/ticket/confirm') {
      if (t.state !== 'pending_confirmation') return refuse(route, 409, 'ticket_transition_illegal');
      t.state = 'resolved';
    } else if (path === '/v1/ticket/close') {
      t.state = 'closed';
    }
    return json(route, 200, { ticket: view(t, { customer: true }), now: now() });
  }

  function agent(route, request, url) {
    const path = url.pathname;
    const body = request.postData() ? request.postDataJSON() : {};
    if (path === '/v1/tickets' && request.method() === 'GET') {
      const state = url.searchParams.get('state');
      const open = [...tickets.values()].filter((t) => !DONE.has(t.state) && (!state || t.state === state));
      return json(route, 200, { tickets: open.map(summary), now: now() });
    }
    if (path === '/v1/tickets/breaches') return json(route, 200, { breaches: [], now: now() });
    if (path === '/v1/tickets/from-chat') {
      const t = create({ group: 'general', text: `(chat #${body.session}) ${body.note}`, name: null, origin: 'from_chat' });
      return json(route, 201, { ticket: view(t, { customer: false }), now: now() });
    }
    const [, id, action] = path.match(/^\/v1\/tickets\/(\d+)(?:\/(\w+))?$/) || [];
    const t = tickets.get(Number(id));
    if (!t) return refuse(route, 404, 'ticket_unknown');
    if (action === 'reply') {
      t.messages.push({ from: 'agent', agent: owner, text: body.text, at: now() });
      t.state = body.state;
      t.deadlines = { first_response: null };
      if (body.expected_resolution) t.expected_resolution = body.expected_resolution;
    } else if (action === 'priority') {
      t.priority = body.priority;
    } else if (action === 'transfer') {
      t.owner = body.to;
    }
    return json(route, 200, { ticket: view(t, { customer: false }), now: now() });
  }

  return {
    tickets,
    /** Answers the ticket API in `context` (a browser context) from this desk. */
    async serve(context) {
      await context.route((url) => url.pathname.startsWith('/v1/ticket'), (route, request) => {
        const url = new URL(request.url());
        const isCustomer = url.pathname.startsWith('/v1/ticket/') || url.pathname === '/v1/ticket'
          || (url.pathname === '/v1/tickets' && request.method() === 'POST');
        return isCustomer ? customer(route, request, url.pathname) : agent(route, request, url);
      });
    },
  };
}
