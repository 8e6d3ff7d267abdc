// End-to-end tests: the real `switchboard` binary, the pages it serves, and
// headless Chromium driving a customer and agents at once.
//
// The test config runs the business clock 60 times faster than real time
// (one business minute = 1 s), so the 1-minute reply warning arrives after
// about a second and the 3-minute violation after about three.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { expect } from './expect.mjs';
import { demoPassword, launchBrowser, startProxy, startServer, watchErrors } from './harness.mjs';

let browser;
let server;
let errors;
const contexts = [];

before(async () => { browser = await launchBrowser(); });
after(async () => { await browser.close(); });
beforeEach(async () => { server = await startServer(); errors = []; });
afterEach(async (t) => {
  for (const context of contexts.splice(0)) await context.close().catch(() => {});
  await server.stop();
  assert.deepEqual(errors, [], `${t.name}: no script errors in the pages`);
});

/**
 * A page in a browser context of its own. `expected`: console errors that are
 * part of the test (e.g. refused WebSockets while the server is down);
 * `setup(context)` runs before the page opens (routes).
 */
async function open(path, { expected = [], setup, device } = {}) {
  const context = await browser.person(device);
  contexts.push(context);
  if (setup) await setup(context);
  const page = await context.newPage();
  watchErrors(page, errors, expected);
  await page.goto(`${server.base}${path}`);
  return page;
}

/** An agent signed in on /agent (and Available unless told otherwise). */
async function agentPage(id, { available = true, ...options } = {}) {
  const page = await open('/agent', options);
  await page.getByLabel('Agent ID').fill(id);
  await page.getByLabel('Password').fill(demoPassword(id));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.conn')).toHaveText('Connected');
  if (available) {
    await page.getByRole('button', { name: 'Available', exact: true }).click();
    await expect(page.locator('.state-pill')).toHaveText('Available');
  }
  return page;
}

/** A customer on the demo shop who opened the widget and started a chat. */
async function customerPage(name = 'Wei', options = {}) {
  const page = await open('/', options);
  await page.getByRole('button', { name: 'Chat with us' }).click();
  await page.getByLabel('Your name (optional)').fill(name);
  await page.getByRole('button', { name: 'Start chat' }).click();
  return page;
}

/** Another site (its own origin) serving `html(url)`: `{ base, close() }`. */
async function hostSite(html) {
  const site = http.createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(html(request.url));
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${site.address().port}`,
    close: async () => { site.closeAllConnections(); await new Promise((resolve) => site.close(resolve)); },
  };
}

/** A page of `site` at `path`, in a browser context of its own. */
async function sitePage(site, path) {
  const context = await browser.person();
  contexts.push(context);
  const page = await context.newPage();
  watchErrors(page, errors);
  await page.goto(`${site.base}${path}`);
  return { page, context };
}

/** The screens the layout tests hold the pages to. */
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const LAPTOP = { viewport: { width: 1366, height: 768 } };

const overlaps = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
/** A box wholly within the viewport of `page` (no scrolling needed to see it). */
const inView = (page, box) => box && box.y >= 0 && box.x >= 0 && box.y + box.height <= page.viewportSize().height + 0.5 && box.x + box.width <= page.viewportSize().width + 0.5;

/** The visible buttons, links and summaries smaller than 44 x 44 px: of the page, or (`widget`) of the widget only. */
const smallTargets = (page, scope = 'page') => page.evaluate((widgetOnly) => {
  const shadows = [...document.querySelectorAll('*')].filter((n) => n.shadowRoot).map((n) => n.shadowRoot);
  const roots = widgetOnly ? shadows : [document, ...shadows];
  return roots.flatMap((root) => [...root.querySelectorAll('button, a[href], summary, input[type="radio"], input[type="checkbox"]')])
    .map((node) => ({ node, box: node.getBoundingClientRect() }))
    .filter(({ box }) => box.width > 0 && box.height > 0)
    .filter(({ box }) => box.width < 44 || box.height < 44)
    .map(({ node, box }) => `${node.tagName.toLowerCase()}.${node.className} "${node.textContent.trim().slice(0, 30) || node.getAttribute('aria-label')}" ${Math.round(box.width)}x${Math.round(box.height)}`);
}, scope === 'widget');

/**
 * The words of a page a person meets (its text, the widget's too, and the
 * labels, titles and placeholders) that call a chat anything but a chat.
 * Stable error codes in parentheses, e.g. "(open_sessions)", are not words.
 */
const otherWordsForAChat = (page) => page.evaluate(() => {
  const roots = [document.body, ...[...document.querySelectorAll('*')].filter((n) => n.shadowRoot).map((n) => n.shadowRoot)];
  const said = roots.flatMap((root) => [root.textContent, ...[...root.querySelectorAll('[aria-label], [title], [placeholder]')]
    .flatMap((node) => ['aria-label', 'title', 'placeholder'].map((a) => node.getAttribute(a) || ''))]);
  return said.map((text) => text.replace(/\([a-z_]+\)/g, '')).join(' ').match(/\b(sessions?|conversations?)\b/gi) || [];
});

const widgetLog = (page) => page.locator('.log .entry');
const customerSays = async (page, text) => {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
};
const agentSays = async (page, text) => {
  const box = page.locator('textarea[name="reply"]');
  await box.fill(text);
  await box.press('Enter');
};

describe('widget and console', () => {
  test('a full chat from joining to rating, customer and agent in one browser', { timeout: 60000 }, async () => {
    const customer = await customerPage('Wei');
    // Nobody online yet: the widget says so, with the group's service hours, and shows the queue.
    await expect(customer.locator('.banner')).toContainText('No agent is online right now');
    await expect(customer.locator('.banner')).toContainText('every day 08:00-22:00');
    await expect(customer.locator('.queue')).toContainText('You are next in line');
    await expect(customer.locator('.queue')).toContainText('Estimated wait');

    const alice = await agentPage('alice');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    await expect(customer.locator('.banner')).toBeHidden();
    await expect(alice.locator('.session-item')).toHaveCount(1);
    await expect(alice.locator('.pane-title h1')).toHaveText('Wei');

    // Text from either side is shown as text, never parsed as HTML.
    const hostile = 'Where is my parcel? <img src=x onerror="window.pwned=1"><b>bold</b>';
    await customerSays(customer, hostile);
    await expect(alice.locator('.history .line.customer .bubble').last()).toHaveText(hostile);
    await expect(alice.locator('.history img, .history b')).toHaveCount(0);
    await expect(customer.locator('.log .mine .meta').last()).toHaveText('Sent');
    await customer.getByLabel('Message', { exact: true }).fill('and also');
    await expect(alice.locator('.typing')).toHaveText('Wei is typing…');
    await customer.getByLabel('Message', { exact: true }).fill('');

    // Typing indicator, then the reply.
    await alice.locator('textarea[name="reply"]').fill('Let me c');
    await expect(customer.locator('.typing')).toHaveText('Alice is typing…');
    // A message arriving while the agent types keeps the very same reply box,
    // focused and with its text (a half-typed IME composition survives).
    const box = alice.locator('textarea[name="reply"]');
    await box.evaluate((node) => { node.dataset.mark = 'kept'; });
    await customerSays(customer, 'one more thing');
    await expect(alice.locator('.history')).toContainText('one more thing');
    assert.equal(await box.evaluate((node) => node.dataset.mark === 'kept' && document.activeElement === node), true);
    await expect(box).toHaveValue('Let me c');
    await agentSays(alice, 'Let me check. <script>alert(1)</script> Found it: it arrives tomorrow.');
    await expect(customer.locator('.log .theirs .bubble').last()).toHaveText('Let me check. <script>alert(1)</script> Found it: it arrives tomorrow.');
    await expect(customer.locator('.log .theirs .who').last()).toHaveText('Alice');
    await expect(customer.locator('.typing')).toHaveText('');
    assert.equal(await customer.evaluate(() => window.pwned), undefined);
    assert.equal(await alice.evaluate(() => window.pwned), undefined);

    // Ask resolved: the customer confirms.
    await alice.getByRole('button', { name: 'Ask resolved' }).click();
    await customer.getByRole('button', { name: 'Yes, resolved' }).click();
    await expect(alice.locator('.history')).toContainText('The customer confirmed the problem is resolved.');

    // Close as resolved; the customer rates.
    await alice.getByRole('button', { name: 'Close…' }).click();
    const dialog = alice.getByRole('dialog', { name: /Close chat/ });
    await expect(dialog.getByLabel('Reason')).toHaveValue('resolved');
    await expect(dialog.locator('.form-warn')).toBeHidden();
    await dialog.getByRole('button', { name: 'Close chat' }).click();
    await expect(alice.locator('.session-item')).toHaveCount(0);
    await expect(customer.locator('.log')).toContainText('We are glad we could help');
    await expect(customer.getByRole('group', { name: 'Rate this chat' })).toContainText('How did we do?');
    await expect(customer.getByLabel('Message', { exact: true })).toBeHidden();
    await customer.getByRole('button', { name: /Satisfied/ }).click();
    await expect(customer.locator('.prompt')).toContainText('Thank you for your feedback!');

    // A clean chat raises no conduct flag.
    await expect(alice.locator('.flag-list')).toContainText('None so far');
    // Every message shown once on each side.
    await expect(widgetLog(customer).filter({ hasText: hostile })).toHaveCount(1);
    await expect(alice.locator('.session-list .empty')).toBeVisible();
  });

  test('a reload of the customer page mid-chat resumes it with nothing lost or shown twice', { timeout: 60000 }, async () => {
    const alice = await agentPage('alice');
    const customer = await customerPage('Lin');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    await customerSays(customer, 'first question');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['first question']);
    await agentSays(alice, 'first answer');
    await expect(customer.locator('.log .theirs .bubble')).toHaveText(['first answer']);
    await customerSays(customer, 'second question');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['first question', 'second question']);

    // The customer's page goes away (the tab navigates off the site); the
    // agent answers while it is gone; then the customer comes back.
    await customer.goto('about:blank');
    await agentSays(alice, 'answer while you were away');
    await expect(alice.locator('.history .agent.is-sending')).toHaveCount(0);
    const again = customer;
    await again.goto(`${server.base}/`);
    // The panel reopens by itself on the same chat; the missed reply is replayed once.
    await expect(again.locator('.sub')).toHaveText('You are chatting with Alice');
    await expect(again.locator('.log .theirs .bubble')).toHaveText(['first answer', 'answer while you were away']);
    await expect(again.locator('.log .mine .bubble')).toHaveText(['first question', 'second question']);

    // And a reload right away (nothing new in between) duplicates nothing.
    await again.reload();
    await expect(again.locator('.sub')).toHaveText('You are chatting with Alice');
    await expect(again.locator('.log .theirs .bubble')).toHaveText(['first answer', 'answer while you were away']);
    await expect(again.locator('.log .entry.system').filter({ hasText: 'Alice joined the chat.' })).toHaveCount(1);

    // The chat goes on in both directions on the same session.
    await customerSays(again, 'third question');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['first question', 'second question', 'third question']);
    await agentSays(alice, 'third answer');
    await expect(again.locator('.log .theirs .bubble')).toHaveText(['first answer', 'answer while you were away', 'third answer']);
    await expect(alice.locator('.session-item')).toHaveCount(1);

    // The agent reloads the console too: still signed in, the chat comes back
    // with its history (it does not flow to someone else), and goes on.
    await alice.reload();
    await expect(alice.locator('.conn')).toHaveText('Connected');
    await expect(alice.locator('.me-name')).toHaveText('Alice');
    await expect(alice.locator('.session-item')).toHaveCount(1);
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['first question', 'second question', 'third question']);
    await expect(alice.locator('.history .agent .bubble')).toHaveText(['first answer', 'answer while you were away', 'third answer']);
    await expect(again.locator('.sub')).toHaveText('You are chatting with Alice');
    await customerSays(again, 'after the agent reloaded');
    await expect(alice.locator('.history .customer .bubble').last()).toHaveText('after the agent reloaded');
    await expect(alice.locator('.flag-list')).toContainText('None so far');
  });

  test('a transcript at its 500-entry limit still shows new messages, marked sent on the right bubble', { timeout: 60000 }, async () => {
    const alice = await agentPage('alice');
    const customer = await customerPage('Max');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    // Fill the kept transcript up to the limit (the widget resumes from sessionStorage on reload).
    await customer.evaluate(() => {
      const key = 'switchboard.widget.general';
      const saved = JSON.parse(sessionStorage.getItem(key));
      const filler = Array.from({ length: 500 - saved.entries.length }, (_, i) => ({ from: 'system', text: `old line ${i}`, at: 0 }));
      saved.entries = [...filler, ...saved.entries];
      sessionStorage.setItem(key, JSON.stringify(saved));
    });
    await customer.reload();
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    await expect(widgetLog(customer)).toHaveCount(500);

    await customerSays(customer, 'message past the limit');
    await expect(customer.locator('.log .mine .bubble')).toHaveText(['message past the limit']);
    await expect(customer.locator('.log .mine .meta')).toHaveText(['Sent']);
    await agentSays(alice, 'reply past the limit');
    await expect(customer.locator('.log .theirs .bubble')).toHaveText(['reply past the limit']);
    // The oldest entries made room, in the page and in what is kept.
    await expect(widgetLog(customer)).toHaveCount(500);
    await expect(widgetLog(customer).first()).toHaveText('old line 2');
    const kept = await customer.evaluate(() => window.switchboardWidget.state().entries);
    assert.equal(kept.length, 500);
    assert.deepEqual(kept.slice(-2).map((entry) => entry.text), ['message past the limit', 'reply past the limit']);
    assert.equal(kept.at(-2).state, 'sent');
  });

  test('a dropped network: the widget says so, retries, and resumes with nothing lost or doubled', { timeout: 60000 }, async () => {
    const alice = await agentPage('alice');
    const proxy = await startProxy(server.port);
    try {
      const context = await browser.person();
      contexts.push(context);
      const customer = await context.newPage();
      watchErrors(customer, errors, [/ERR_CONNECTION_(RESET|CLOSED|REFUSED)|ERR_EMPTY_RESPONSE|WebSocket connection to/]);
      await customer.goto(`${proxy.base}/`);
      await customer.getByRole('button', { name: 'Chat with us' }).click();
      await customer.getByRole('button', { name: 'Start chat' }).click();
      await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
      await customerSays(customer, 'before the drop');
      await expect(alice.locator('.history .customer .bubble')).toHaveText(['before the drop']);

      proxy.cut();
      await expect(customer.locator('.banner')).toContainText('Connection lost. Reconnecting');
      // Both sides go on while the customer is cut off.
      await agentSays(alice, 'sent during the drop');
      await customerSays(customer, 'typed during the drop');
      await expect(customer.locator('.log .mine .meta').last()).toHaveText('Sending…');
      await customer.waitForTimeout(1500);
      proxy.restore();

      await expect(customer.locator('.banner')).toBeHidden({ timeout: 15000 });
      await expect(customer.locator('.log .theirs .bubble')).toHaveText(['sent during the drop']);
      await expect(customer.locator('.log .mine .meta').last()).toHaveText('Sent');
      await expect(alice.locator('.history .customer .bubble')).toHaveText(['before the drop', 'typed during the drop']);
      await agentSays(alice, 'after the drop');
      await expect(customer.locator('.log .theirs .bubble')).toHaveText(['sent during the drop', 'after the drop']);
    } finally {
      await proxy.close();
    }
  });

  test('the widget works embedded with one script tag in another site', { timeout: 60000 }, async () => {
    // Another origin: a plain page with nothing but the tag.
    const site = await hostSite(() => `<!doctype html><html><head><title>Another shop</title><style>button { all: unset; color: red; }</style></head>
        <body><h1>Another shop</h1><script src="${server.base}/widget.js" data-group="general" data-name="Guest 7" data-title="Help desk"></script></body></html>`);
    try {
      const alice = await agentPage('alice');
      const { page } = await sitePage(site, '/');
      // The host page's CSS does not reach into the widget (shadow root).
      const launcher = page.getByRole('button', { name: 'Chat with us' });
      await expect(launcher).toBeVisible();
      const style = await launcher.evaluate((node) => ({ color: getComputedStyle(node).color, position: getComputedStyle(node).position }));
      assert.deepEqual(style, { color: 'rgb(255, 255, 255)', position: 'fixed' });
      await launcher.click();
      await expect(page.getByRole('dialog', { name: 'Help desk' })).toBeVisible();
      await expect(page.getByLabel('Your name (optional)')).toHaveValue('Guest 7');
      await page.getByRole('button', { name: 'Start chat' }).click();
      await expect(page.locator('.sub')).toHaveText('You are chatting with Alice');
      await expect(alice.locator('.pane-title h1')).toHaveText('Guest 7');
      await customerSays(page, 'hello from another site');
      await expect(alice.locator('.history .customer .bubble')).toHaveText(['hello from another site']);
    } finally {
      await site.close();
    }
  });

  test('nobody online: the wait estimate says unknown; overflow is told to the customer and shown to the agent', { timeout: 60000 }, async () => {
    const site = await hostSite(() => `<!doctype html><html><head><title>Returns desk</title></head>
        <body><h1>Returns</h1><script src="${server.base}/widget.js" data-group="returns" data-name="Lin"></script></body></html>`);
    try {
      const { page } = await sitePage(site, '/');
      await page.getByRole('button', { name: 'Chat with us' }).click();
      await page.getByRole('button', { name: 'Start chat' }).click();
      // Nobody can serve returns (nor logistics, where it overflows): no number, and no promise.
      await expect(page.locator('.queue')).toContainText('unknown');
      assert.doesNotMatch(await page.locator('.queue').textContent(), /less than a minute|\d+ min/);
      // Carol serves logistics: after overflow_after the customer hears that logistics may answer too,
      // and Carol's console says where the chat came from.
      const carol = await agentPage('carol');
      await expect(page.locator('.log')).toContainText('To help you sooner, Shipping and logistics can now answer you too.', { timeout: 10000 });
      await expect(page.locator('.sub')).toHaveText('You are chatting with Carol');
      const tag = carol.locator('.session-item [data-overflow="returns"]');
      await expect(tag).toHaveText('overflow from Returns');
      await expect(carol.locator('.pane [data-overflow="returns"]')).toBeVisible();
    } finally {
      await site.close();
    }
  });

  test('a verified customer from a site with data-identifier: the console shows the id and the mark; others are unverified', { timeout: 60000 }, async () => {
    // The site's server computes the hash with the shared secret (test-config.toml); the page only carries it.
    const secret = 'web-tests-identity-secret';
    const hash = (id) => createHmac('sha256', secret).update(id).digest('hex');
    const site = await hostSite((url) => `<!doctype html><html><head><title>Member shop</title></head>
        <body><h1>Member shop</h1><script src="${server.base}/widget.js" data-group="general" data-name="Wei Zhang"
          data-identifier="user-42" data-identifier-hash="${hash(url === '/forged' ? 'user-43' : 'user-42')}"></script></body></html>`);
    try {
      const alice = await agentPage('alice');
      const { page, context } = await sitePage(site, '/');
      await page.getByRole('button', { name: 'Chat with us' }).click();
      await page.getByRole('button', { name: 'Start chat' }).click();
      await expect(page.locator('.sub')).toHaveText('You are chatting with Alice');
      await expect(alice.locator('.pane-title h1')).toHaveText('Wei Zhang');
      await expect(alice.locator('.pane-title [data-identity]')).toHaveText('✓ verified · user-42');

      // A customer of the demo shop gives only a name: marked unverified.
      await customerPage('Wei');
      const item = alice.locator('.session-item', { hasText: 'Wei' }).filter({ hasNotText: 'Zhang' });
      await expect(item.locator('[data-identity]')).toHaveText('(unverified)');

      // A hash made for someone else is refused, and the widget says the chat is unavailable.
      const forged = await context.newPage();
      watchErrors(forged, errors);
      await forged.goto(`${site.base}/forged`);
      await forged.getByRole('button', { name: 'Chat with us' }).click();
      await forged.getByRole('button', { name: 'Start chat' }).click();
      await expect(forged.locator('.banner')).toContainText('identity_invalid');
    } finally {
      await site.close();
    }
  });

  test('a connection that goes silent without closing is noticed by the heartbeat and resumed', { timeout: 60000 }, async () => {
    const alice = await agentPage('alice');
    const proxy = await startProxy(server.port);
    const site = http.createServer((request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(`<!doctype html><title>t</title><script src="${proxy.base}/widget.js" data-group="general" data-heartbeat-ms="500"></script>`);
    });
    await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
    try {
      const context = await browser.person();
      contexts.push(context);
      const page = await context.newPage();
      watchErrors(page, errors);
      await page.goto(`http://127.0.0.1:${site.address().port}/`);
      await page.getByRole('button', { name: 'Chat with us' }).click();
      await page.getByRole('button', { name: 'Start chat' }).click();
      await expect(page.locator('.sub')).toHaveText('You are chatting with Alice');
      const sockets = [];
      page.on('websocket', (ws) => sockets.push(ws));
      proxy.freeze(); // no close, no error: just silence
      await agentSays(alice, 'said into the silence');
      await customerSays(page, 'typed into the silence');
      // Within about two heartbeats the widget gives up on the silent socket and resumes on a new one.
      await expect(page.locator('.log .theirs .bubble')).toHaveText(['said into the silence'], { timeout: 10000 });
      await expect(alice.locator('.history .customer .bubble')).toHaveText(['typed into the silence']);
      await expect(page.locator('.log .mine .meta')).toHaveText(['Sent']);
      assert.ok(sockets.length >= 1, 'a new WebSocket was opened');
    } finally {
      site.closeAllConnections();
      await new Promise((resolve) => site.close(resolve));
      await proxy.close();
    }
  });

  test('a transfer with a handoff note arrives at a second agent with the note visible', { timeout: 60000 }, async () => {
    const alice = await agentPage('alice');
    const customer = await customerPage('Ana');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    const bob = await agentPage('bob');
    await customerSays(customer, 'I was charged twice for order 123');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['I was charged twice for order 123']);

    await alice.getByRole('button', { name: 'Transfer…' }).click();
    const dialog = alice.getByRole('dialog', { name: /Transfer chat/ });
    await dialog.getByLabel('A colleague').check();
    const target = dialog.getByLabel('Agent ID');
    // The colleagues offered come from the server's welcome: the other agents, not Alice nor the supervisor.
    await expect(target).toHaveAttribute('list', 'agent-options');
    const offered = await dialog.locator('#agent-options option').evaluateAll((os) => os.map((o) => [o.value, o.label]));
    assert.deepEqual(offered, [['bob', 'Bob · general'], ['carol', 'Carol · logistics']]);
    const groups = await dialog.locator('#group-options option').evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(groups, ['general', 'logistics', 'returns']);
    const note = dialog.getByLabel('Handoff note (required)');
    const submit = dialog.getByRole('button', { name: 'Transfer', exact: true });
    await target.fill('zed');
    await expect(submit).toBeDisabled();
    await note.fill('too short');
    await expect(submit).toBeDisabled();
    await expect(dialog.locator('.counter')).toHaveText('9 / 10 characters minimum');
    const handoff = 'Charged twice for order 123; payment log shows two captures. Please refund one.';
    await note.fill(handoff);
    await expect(submit).toBeEnabled();
    // The server's refusal is shown in the dialog.
    await submit.click();
    await expect(dialog.locator('.form-error')).toContainText('unknown_agent');
    await target.fill('bob');
    await submit.click();
    await expect(dialog).toBeHidden();

    // Bob has the chat, with the note and the history; Alice does not.
    await expect(bob.locator('.session-item')).toHaveCount(1);
    await expect(bob.getByRole('region', { name: 'Handoff notes' })).toContainText(handoff);
    await expect(bob.getByRole('region', { name: 'Handoff notes' })).toContainText('Alice');
    await expect(bob.locator('.history .customer .bubble')).toHaveText(['I was charged twice for order 123']);
    await expect(bob.locator('.history .agent .bubble')).toContainText(['Your question has been passed to the right colleague, please wait.']);
    await expect(bob.locator('.session-item .tag-note')).toHaveText('transferred');
    // Alice's messages are hers, by name: in the chat and in the list's preview.
    await expect(bob.locator('.history .agent .line-who')).toHaveText(['Alice']);
    await expect(bob.locator('.session-last')).toHaveText('Alice: Your question has been passed to the right colleague, please wait.');
    // The toasts name the customer and the colleague.
    await expect(bob.locator('.toast', { hasText: 'Ana' })).toHaveText('Ana\'s chat was transferred to you with a handoff note.');
    await expect(alice.locator('.toast', { hasText: 'The chat with Ana' })).toHaveText('The chat with Ana was transferred to Bob.');
    await expect(alice.locator('.session-item')).toHaveCount(0);

    // The customer sees the new agent, and the chat goes on with Bob.
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Bob');
    await expect(customer.locator('.log')).toContainText('Bob has taken over your chat.');
    await agentSays(bob, 'Refund issued.');
    await expect(bob.locator('.history .agent .line-who')).toHaveText(['Alice', 'You']);
    await expect(bob.locator('.session-last')).toHaveText('You: Refund issued.');
    await expect(customer.locator('.log .theirs .bubble').last()).toHaveText('Refund issued.');
    await expect(customer.locator('.log .theirs .who').last()).toHaveText('Bob');
  });

  test('a transfer to another skill group asks the customer first', { timeout: 60000 }, async () => {
    const alice = await agentPage('alice');
    const carol = await agentPage('carol');
    const customer = await customerPage('Kai');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    await customerSays(customer, 'My parcel is lost');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['My parcel is lost']);

    const requestTransfer = async () => {
      await alice.getByRole('button', { name: 'Transfer…' }).click();
      const dialog = alice.getByRole('dialog', { name: /Transfer chat/ });
      await dialog.getByLabel('Skill group ID').fill('logistics');
      await dialog.getByLabel('Handoff note (required)').fill('Parcel lost in transit, tracking 456; open a claim.');
      await dialog.getByRole('button', { name: 'Transfer', exact: true }).click();
      await expect(dialog).toBeHidden();
    };
    await requestTransfer();
    await expect(alice.locator('.history')).toContainText('waiting for the customer\'s consent');
    const consent = customer.getByRole('alertdialog', { name: 'Transfer request' });

    // First the customer says no: the chat stays with Alice.
    await expect(consent).toContainText('If you say no, or do not answer, you stay with Alice.');
    await consent.getByRole('button', { name: 'No, stay here' }).click();
    await expect(alice.locator('.history')).toContainText('The customer declined the transfer; the chat stays with you.');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    await expect(carol.locator('.session-item')).toHaveCount(0);

    // Asked again, the customer agrees.
    await requestTransfer();
    await expect(consent).toContainText('Move your chat to Shipping and logistics?');
    await consent.getByRole('button', { name: 'Yes, move me' }).click();
    await expect(carol.locator('.session-item')).toHaveCount(1);
    await expect(carol.getByRole('region', { name: 'Handoff notes' })).toContainText('tracking 456');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Carol');
    await expect(alice.locator('.session-item')).toHaveCount(0);
    await expect(alice.locator('.flag-list')).toContainText('None so far');
  });

  test('the 1-minute warning and the 3-minute violation show on a scaled clock, and the supervisor sees both at 1366x768', { timeout: 60000 }, async () => {
    const supervisor = await open('/supervisor', { device: LAPTOP });
    await supervisor.getByLabel('Agent ID').fill('sam');
    await supervisor.getByLabel('Password').fill(demoPassword('sam'));
    await supervisor.getByRole('button', { name: 'Sign in' }).click();
    await expect(supervisor.locator('.conn')).toHaveText('Connected');

    // The supervisor sees the queue and the agents live (from `snapshot`).
    const customer = await customerPage('Mo');
    await expect(customer.locator('.queue')).toBeVisible();
    const general = supervisor.locator('tr[data-group="general"]');
    await expect(general.locator('[data-cell="waiting"]')).toHaveText('1');
    await expect(supervisor.locator('[data-stat="waiting"] .stat-value')).toHaveText('1');
    await expect(supervisor.locator('tr[data-agent="alice"] [data-cell="state"]')).toHaveText('Offline');
    const alice = await agentPage('alice');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    await expect(general.locator('[data-cell="waiting"]')).toHaveText('0');
    await expect(general.locator('[data-cell="active"]')).toHaveText('1');
    await expect(supervisor.locator('tr[data-agent="alice"] [data-cell="state"]')).toHaveText('Available');
    await expect(supervisor.locator('tr[data-agent="alice"] [data-cell="load"]')).toHaveText('1 / 3');
    const timer = alice.locator('.session-item .timer');
    await expect(timer).toHaveText('Replied');
    await expect(timer).toHaveAttribute('data-level', 'ok');

    const sent = Date.now();
    await customerSays(customer, 'Hello? Anyone there?');
    await expect(timer).toHaveAttribute('data-level', 'ok');
    // One business minute later (about 1 s): amber, and the console says why.
    await expect(alice.locator('.history .system-warn')).toContainText('Reply now: the customer has waited 1:00', { timeout: 5000 });
    await expect(timer).toHaveAttribute('data-level', 'warn');
    await expect(timer).toHaveClass(/timer-warn/);
    assert.ok(Date.now() - sent >= 700, 'the warning comes after about a business minute, not at once');
    // Three business minutes: red, a violation.
    await expect(alice.locator('.history .system-late')).toContainText('Slow reply', { timeout: 6000 });
    await expect(timer).toHaveAttribute('data-level', 'late');
    await expect(timer).toHaveClass(/timer-late/);
    // The timer counts in business time (the clock and its scale from the welcome).
    assert.deepEqual(await alice.evaluate(() => [window.switchboardConsole.clock.exact, window.switchboardConsole.clock.scale]), [true, 60]);
    const shown = await timer.textContent();
    const [m, s] = shown.split(':').map(Number);
    assert.ok(m * 60 + s >= 170, `the timer shows at least ~3 business minutes, got ${shown}`);

    // The supervisor sees the warning and the violation live, the agent by name,
    // without scrolling on a 1366x768 laptop.
    const warned = supervisor.locator('.feed li[data-kind="warning"]');
    const slow = supervisor.locator('.feed li[data-kind="slow"]');
    await expect(warned).toHaveCount(1);
    await expect(warned).toContainText('1-minute warningAlice has not replied for a minute');
    await expect(slow).toHaveCount(1);
    await expect(slow).toContainText('Slow reply by Alice');
    await expect(warned).toContainText('General questions');
    assert.doesNotMatch(await supervisor.locator('.feed').textContent(), /\balice\b/, 'agents are named by name, not id');
    await expect(supervisor.locator('tr[data-agent="alice"] [data-cell="slow"]')).toHaveText('1');
    await expect(supervisor.locator('tr[data-agent="alice"] [data-cell="warnings"]')).toHaveText('1');
    for (const alert of [warned, slow]) assert.ok(inView(supervisor, await alert.boundingBox()), `${alert} is in view without scrolling`);
    assert.equal(await supervisor.evaluate(() => window.scrollY), 0);

    // A reply stops the timer.
    await agentSays(alice, 'Sorry for the wait!');
    await expect(timer).toHaveText('Replied');
    await expect(timer).toHaveAttribute('data-level', 'ok');

    // The supervisor view survives a reload: still signed in, the feed kept (not doubled), the tables live.
    await supervisor.reload();
    await expect(supervisor.locator('.conn')).toHaveText('Connected');
    await expect(supervisor.locator('tr[data-agent="alice"] [data-cell="load"]')).toHaveText('1 / 3');
    await expect(supervisor.locator('.feed li[data-kind="slow"]')).toHaveCount(1);
  });

  test('closing with the customer unanswered raises a conduct flag shown to the agent and the supervisor', { timeout: 60000 }, async () => {
    const supervisor = await open('/supervisor');
    await supervisor.getByLabel('Agent ID').fill('sam');
    await supervisor.getByLabel('Password').fill(demoPassword('sam'));
    await supervisor.getByRole('button', { name: 'Sign in' }).click();
    const alice = await agentPage('alice');
    const customer = await customerPage('Jo');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    await customerSays(customer, 'Please help');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['Please help']);
    await alice.getByRole('button', { name: 'Close…' }).click();
    const dialog = alice.getByRole('dialog', { name: /Close chat/ });
    await dialog.getByLabel('Reason').selectOption('other');
    await expect(dialog.locator('.form-warn')).toContainText('unanswered');
    await dialog.getByRole('button', { name: 'Close chat' }).click();
    await expect(alice.locator('.flag-list .flag')).toContainText('Closed with the customer\'s message unanswered');
    await expect(supervisor.locator('.feed li[data-kind="flag"]')).toContainText('Alice:');
    await expect(supervisor.locator('tr[data-agent="alice"] [data-cell="flags"]')).toContainText('Closed with the customer\'s message unanswered ×1');
    await expect(customer.locator('.log')).toContainText('The agent has closed the chat.');
  });

  test('a close as a duplicate is no flag, and the supervisor sees it in the feed; a break shows as on_break', { timeout: 60000 }, async () => {
    const supervisor = await open('/supervisor');
    await supervisor.getByLabel('Agent ID').fill('sam');
    await supervisor.getByLabel('Password').fill(demoPassword('sam'));
    await supervisor.getByRole('button', { name: 'Sign in' }).click();
    const alice = await agentPage('alice');
    const customer = await customerPage('Kim');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    await customerSays(customer, 'Same question as in my other chat');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['Same question as in my other chat']);
    await agentSays(alice, 'I answer you in your other chat.');
    await expect(alice.locator('.history .agent .bubble')).toContainText(['I answer you in your other chat.']);
    await alice.getByRole('button', { name: 'Close…' }).click();
    const dialog = alice.getByRole('dialog', { name: /Close chat/ });
    await dialog.getByLabel('Reason').selectOption('duplicate');
    await dialog.getByRole('button', { name: 'Close chat' }).click();
    const closed = supervisor.locator('.feed li[data-kind="closed"]');
    await expect(closed).toContainText('Alice closed chat #');
    await expect(closed).toContainText('as a duplicate');
    await expect(alice.locator('.flag-list .flag')).toHaveCount(0);
    // A break: the group's pill and the agent's row say "on break" (state `on_break` on the wire and in the snapshot).
    await alice.getByRole('button', { name: 'Break' }).click();
    const breakDialog = alice.getByRole('dialog', { name: 'Take a break' });
    await breakDialog.getByLabel('Reason for the break').fill('Tea');
    await breakDialog.getByRole('button', { name: 'Start break' }).click();
    await expect(supervisor.locator('tr[data-agent="alice"] [data-cell="state"]')).toHaveText('On break');
    await expect(supervisor.locator('tr[data-group="general"] .state-on_break')).toContainText('1 on break');
  });

  test('an unknown group or agent is said plainly', { timeout: 60000 }, async () => {
    const site = http.createServer((request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(`<!doctype html><title>t</title><script src="${server.base}/widget.js" data-group="no-such-group"></script>`);
    });
    await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
    try {
      const context = await browser.person();
      contexts.push(context);
      const page = await context.newPage();
      watchErrors(page, errors, [/WebSocket connection to/]);
      await page.goto(`http://127.0.0.1:${site.address().port}/`);
      await page.getByRole('button', { name: 'Chat with us' }).click();
      await page.getByRole('button', { name: 'Start chat' }).click();
      await expect(page.locator('.banner')).toHaveText('Chat is unavailable (unknown_group).');
    } finally {
      site.closeAllConnections();
      await new Promise((resolve) => site.close(resolve));
    }
    const page = await open('/agent', { expected: [/status of 401/] });
    await page.getByLabel('Agent ID').fill('mallory');
    await page.getByLabel('Password').fill(demoPassword('mallory'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toHaveText('Wrong agent ID or password.');
    await expect(page.getByLabel('Agent ID')).toBeVisible();
  });

  test('sign-in: refusals said plainly, the token renewed before it expires, a disabled agent signed out, sign out forgets the token', { timeout: 60000 }, async () => {
    // Tokens of 3 s: the console must renew them itself, on the live connection too.
    await server.stop();
    server = await startServer({ env: { SWITCHBOARD_AUTH__TOKEN_TTL: '3s' } });
    const refusedFetch = [/status of 40[13]/];
    const page = await open('/agent', { expected: refusedFetch });
    const auth = () => page.evaluate(() => (JSON.parse(sessionStorage.getItem('switchboard.console') || '{}')).auth);
    await page.getByLabel('Agent ID').fill('alice');
    await page.getByLabel('Password').fill('not her password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByLabel('Password')).toHaveValue('');
    await expect(page.getByRole('alert')).toHaveText('Wrong agent ID or password.');
    assert.equal(await auth(), undefined, 'no token after a refusal');

    await page.getByLabel('Password').fill(demoPassword('alice'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.locator('.conn')).toHaveText('Connected');
    const first = await auth();
    assert.ok(first.token && first.expiresAt > Date.now(), 'the token is kept in sessionStorage');
    // Past two expiries of the first token: renewed each time, the connection never dropped.
    await page.waitForTimeout(6500);
    await expect(page.locator('.conn')).toHaveText('Connected');
    const renewed = await auth();
    assert.notEqual(renewed.token, first.token);
    assert.ok(renewed.expiresAt > first.expiresAt);
    await page.getByRole('button', { name: 'Available', exact: true }).click();
    await expect(page.locator('.state-pill')).toHaveText('Available');

    // An admin (sam) disables alice: her console is cut off and says why.
    const admin = await fetch(`${server.base}/v1/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'sam', password: demoPassword('sam') }),
    }).then((r) => r.json());
    const adminApi = (action) => fetch(`http://127.0.0.1:${server.adminPort}/v1/admin/agents/alice/${action}`, {
      method: 'POST', headers: { authorization: `Bearer ${admin.token}` },
    });
    assert.equal((await adminApi('disable')).status, 200);
    await expect(page.getByRole('alert')).toHaveText('This account has been disabled. Ask an admin.');
    await expect(page.getByLabel('Password')).toBeVisible();
    assert.equal(await auth(), undefined, 'signed out: the token is gone');
    await page.getByLabel('Password').fill(demoPassword('alice'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    // A refused sign-in clears the password: the answer has come.
    await expect(page.getByLabel('Password')).toHaveValue('');
    await expect(page.getByRole('alert')).toHaveText('This account has been disabled. Ask an admin.');

    // Enabled again: sign in, then sign out forgets the token.
    assert.equal((await adminApi('enable')).status, 200);
    await page.getByLabel('Password').fill(demoPassword('alice'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.locator('.conn')).toHaveText('Connected');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByLabel('Password')).toBeVisible();
    assert.equal(await auth(), undefined);
  });

  test('an agent signed in twice: the older window says so and can take over again', { timeout: 60000 }, async () => {
    const first = await agentPage('bob', { available: false });
    const second = await agentPage('bob', { available: false });
    await expect(first.locator('.conn')).toHaveText('Signed in elsewhere');
    await expect(second.locator('.conn')).toHaveText('Connected');
    await first.getByRole('button', { name: 'Use this window' }).click();
    await expect(first.locator('.conn')).toHaveText('Connected');
    await expect(second.locator('.conn')).toHaveText('Signed in elsewhere');
  });

  test('the pages pass an axe-core accessibility audit (WCAG 2.1 A and AA) in every state', { timeout: 60000 }, async () => {
    // axe is injected as a script, which our pages' CSP forbids: these contexts bypass it.
    const axe = readFileSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
    const audited = [];
    const audit = async (page, name) => {
      await page.addScriptTag({ content: axe });
      const result = await page.evaluate(() => window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }));
      const problems = result.violations.map((v) => `${name}: ${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      assert.deepEqual(problems, [], `${name}: no accessibility violations`);
      audited.push(name);
    };
    const person = async (path) => {
      const context = await browser.person({ bypassCSP: true });
      contexts.push(context);
      const page = await context.newPage();
      watchErrors(page, errors);
      await page.goto(`${server.base}${path}`);
      return page;
    };
    const agent = await person('/agent');
    await audit(agent, 'sign-in');
    await agent.getByLabel('Agent ID').fill('alice');
    await agent.getByLabel('Password').fill(demoPassword('alice'));
    await agent.getByRole('button', { name: 'Sign in' }).click();
    await expect(agent.locator('.conn')).toHaveText('Connected');
    await audit(agent, 'console, offline');

    const customer = await person('/');
    await customer.getByRole('button', { name: 'Chat with us' }).click();
    await audit(customer, 'widget, start');
    await customer.getByRole('button', { name: 'Start chat' }).click();
    await expect(customer.locator('.banner')).toContainText('No agent is online');
    await audit(customer, 'widget, waiting with no agent online');

    await agent.getByRole('button', { name: 'Available', exact: true }).click();
    await customerSays(customer, 'hello');
    await expect(agent.locator('.history .customer .bubble')).toHaveText(['hello']);
    await agentSays(agent, 'hi, how can I help?');
    await expect(customer.locator('.log .theirs .bubble')).toHaveText(['hi, how can I help?']);
    await audit(customer, 'widget, chatting');
    await audit(agent, 'console, chatting');
    await agent.getByRole('button', { name: 'Transfer…' }).click();
    await audit(agent, 'transfer dialog');
    await agent.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await agent.getByRole('button', { name: 'Ask resolved' }).click();
    await expect(customer.getByRole('alertdialog', { name: 'Is your problem resolved?' })).toBeVisible();
    await audit(customer, 'widget, resolve question');
    await customer.getByRole('button', { name: 'Yes, resolved' }).click();
    await agent.getByRole('button', { name: 'Close…' }).click();
    await audit(agent, 'close dialog');
    await agent.getByRole('dialog').getByRole('button', { name: 'Close chat' }).click();
    await expect(customer.getByRole('group', { name: 'Rate this chat' })).toBeVisible();
    await audit(customer, 'widget, rating');

    const supervisor = await person('/supervisor');
    await supervisor.getByLabel('Agent ID').fill('sam');
    await supervisor.getByLabel('Password').fill(demoPassword('sam'));
    await supervisor.getByRole('button', { name: 'Sign in' }).click();
    await expect(supervisor.locator('tr[data-agent="alice"]')).toHaveCount(1);
    await audit(supervisor, 'supervisor view');
    assert.equal(audited.length, 11);
  });

  test('break with a reason, offline refused while sessions are open, and the phone-sized widget', { timeout: 60000 }, async () => {
    const alice = await agentPage('alice');
    await alice.getByRole('button', { name: 'Break' }).click();
    const dialog = alice.getByRole('dialog', { name: 'Take a break' });
    await dialog.getByLabel('Reason for the break').fill('Lunch');
    await dialog.getByRole('button', { name: 'Start break' }).click();
    await expect(alice.locator('.state-pill')).toHaveText('On break');
    await alice.getByRole('button', { name: 'Available', exact: true }).click();
    await expect(alice.locator('.state-pill')).toHaveText('Available');

    const context = await browser.person({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
    contexts.push(context);
    const phone = await context.newPage();
    watchErrors(phone, errors);
    await phone.goto(`${server.base}/`);
    // Keyboard only: tab to the launcher, open, start, type, send.
    await phone.getByRole('button', { name: 'Chat with us' }).focus();
    await phone.keyboard.press('Enter');
    const panel = phone.getByRole('dialog', { name: 'Northwind support' });
    await expect(panel).toBeVisible();
    const box = await panel.boundingBox();
    assert.ok(box.width >= 370 && box.height >= 660, `the panel fills the phone screen (${box.width}x${box.height})`);
    await expect(phone.getByLabel('Your name (optional)')).toBeFocused();
    await phone.keyboard.type('Pat');
    await phone.keyboard.press('Enter');
    await expect(phone.locator('.sub')).toHaveText('You are chatting with Alice');
    await expect(phone.getByLabel('Message', { exact: true })).toBeFocused();
    await phone.keyboard.type('typed on a phone');
    await phone.keyboard.press('Enter');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['typed on a phone']);
    await alice.getByRole('button', { name: 'Offline' }).click();
    await expect(alice.locator('.toast-error')).toContainText('open_sessions');
    await expect(alice.locator('.state-pill')).toHaveText('Available');
    await alice.getByRole('button', { name: 'Sign out' }).click();
    await expect(alice.locator('.toast-error').last()).toContainText('Cannot sign out yet');
    await expect(alice.locator('.conn')).toHaveText('Connected');
    await phone.keyboard.press('Escape');
    await expect(panel).toBeHidden();
    await expect(phone.getByRole('button', { name: /Back to chat/ })).toBeFocused();
    // A reply while the panel is closed shows on the button.
    await agentSays(alice, 'Still there?');
    await expect(phone.locator('.launcher .badge')).toHaveText('1');
    await expect(phone.locator('.launcher .badge')).toHaveAttribute('aria-label', '1 new message');

    // The customer ends the chat from the widget; the agent is told; the rating is offered.
    await phone.keyboard.press('Enter');
    await expect(phone.locator('.launcher .badge')).toBeHidden();
    await phone.getByRole('button', { name: 'End chat' }).click();
    await phone.getByRole('alertdialog', { name: 'End the chat?' }).getByRole('button', { name: 'End chat' }).click();
    await expect(phone.locator('.log')).toContainText('You ended the chat.');
    await expect(phone.getByRole('group', { name: 'Rate this chat' })).toBeVisible();
    await expect(alice.locator('.toast')).toContainText('the customer left');
    await expect(alice.locator('.session-item')).toHaveCount(0);
    await phone.getByRole('button', { name: /Not satisfied/ }).click();
    await expect(phone.locator('.prompt')).toContainText('Thank you for your feedback!');
    // Nothing to resume after a reload: the ended chat stays ended, a new one can start.
    await phone.reload();
    await expect(phone.getByRole('button', { name: 'Start a new chat' })).toBeVisible();
    await phone.getByRole('button', { name: 'Start a new chat' }).click();
    await expect(phone.getByRole('button', { name: 'Start chat' })).toBeVisible();
    // With no open session, offline is accepted, and so is signing out.
    await alice.getByRole('button', { name: 'Offline' }).click();
    await expect(alice.locator('.state-pill')).toHaveText('Offline');
    await alice.getByRole('button', { name: 'Sign out' }).click();
    await expect(alice.getByLabel('Agent ID')).toBeVisible();


  });
});

describe('layout: a phone and a laptop', () => {
  test('the console on a phone: one-row top bar, the chat above the fold, toasts clear of the reply box, 44 px targets', { timeout: 60000 }, async () => {
    const alice = await agentPage('alice', { device: PHONE });
    const customer = await customerPage('Wei');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    // The assignment's toast names the customer, never a number.
    await expect(alice.locator('.toast', { hasText: 'New chat' })).toHaveText('New chat with Wei (General questions).');
    await customerSays(customer, 'Hello from the shop');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['Hello from the shop']);

    // The top bar is one row: every part of it shares one line, no taller than a 44 px target and its padding.
    const bar = await alice.locator('.topbar').boundingBox();
    assert.ok(bar.height <= 60, `the top bar is one row (${bar.height} px high)`);
    const rows = await alice.locator('.topbar > *').evaluateAll((nodes) => nodes
      .map((n) => n.getBoundingClientRect()).filter((r) => r.width > 0 && r.height > 0).map((r) => [r.top, r.bottom]));
    assert.ok(Math.max(...rows.map(([top]) => top)) < Math.min(...rows.map(([, bottom]) => bottom)), `one row: ${JSON.stringify(rows)}`);
    // ...and all of it on the screen: nothing cut off at the right edge.
    for (const part of await alice.locator('.topbar > *').all()) {
      const box = await part.boundingBox();
      if (box && box.width > 0) assert.ok(inView(alice, box), `${await part.textContent()} is cut off: ${JSON.stringify(box)}`);
    }
    assert.equal(await alice.locator('.segmented').evaluate((n) => n.scrollWidth <= n.clientWidth), true, 'the availability switch is not clipped');

    // The chat is on the first screen: its header, the customer's message and the reply box.
    const reply = alice.locator('textarea[name="reply"]');
    for (const part of [alice.locator('.pane-title h1'), alice.locator('.history .customer .bubble'), reply, alice.getByRole('button', { name: 'Send' })]) {
      assert.ok(inView(alice, await part.boundingBox()), `${part} is above the fold: ${JSON.stringify(await part.boundingBox())}`);
    }
    assert.equal(await alice.evaluate(() => window.scrollY), 0);

    // Toasts never cover the reply box (nor the Send button, nor the quick replies).
    await customer.waitForTimeout(0);
    await expect(alice.locator('.toast-warn')).toContainText('Wei has waited 1:00: reply now.', { timeout: 5000 });
    const composerBox = await alice.locator('.composer').boundingBox();
    for (const node of await alice.locator('.toast').all()) {
      const box = await node.boundingBox();
      assert.ok(box && !overlaps(box, composerBox), `a toast ${JSON.stringify(box)} covers the reply box ${JSON.stringify(composerBox)}`);
    }

    // Touch targets: the quick replies, the availability switch, the chat's actions, all at least 44 x 44.
    await expect(alice.locator('.quick .chip')).toHaveCount(2);
    assert.deepEqual(await smallTargets(alice), []);
  });

  test('the widget on a phone: 44 px targets, and the rating card leaves the last line of the chat in view', { timeout: 60000 }, async () => {
    const alice = await agentPage('alice');
    const phone = await customerPage('Pat', { device: PHONE });
    await expect(phone.locator('.sub')).toHaveText('You are chatting with Alice');
    // Minimise and End chat are real targets.
    for (const name of ['Minimize chat', 'End chat']) {
      const box = await phone.getByRole('button', { name, exact: true }).boundingBox();
      assert.ok(box.width >= 44 && box.height >= 44, `${name}: ${box.width}x${box.height}`);
    }
    assert.deepEqual(await smallTargets(phone, 'widget'), []);
    // A chat long enough to scroll.
    for (let i = 1; i <= 8; i += 1) {
      await customerSays(phone, `question number ${i} about my order`);
      await agentSays(alice, `answer number ${i}: it is on its way`);
    }
    await expect(phone.locator('.log .theirs .bubble')).toHaveCount(8);
    await alice.getByRole('button', { name: 'Close…' }).click();
    await alice.getByRole('dialog', { name: /Close chat/ }).getByLabel('Reason').selectOption('other');
    await alice.getByRole('dialog', { name: /Close chat/ }).getByRole('button', { name: 'Close chat' }).click();
    const rating = phone.getByRole('group', { name: 'Rate this chat' });
    await expect(rating).toContainText('How did we do?');
    // The last line (the agent closed the chat) shows above the rating card, not behind it.
    const last = phone.locator('.log .entry').last();
    await expect(last).toHaveText('The agent has closed the chat.');
    const [lastBox, logBox, cardBox] = [await last.boundingBox(), await phone.locator('.log').boundingBox(), await rating.boundingBox()];
    assert.ok(lastBox.y >= logBox.y && lastBox.y + lastBox.height <= logBox.y + logBox.height + 0.5, `the last line ${JSON.stringify(lastBox)} is inside the transcript ${JSON.stringify(logBox)}`);
    assert.ok(!overlaps(lastBox, cardBox), 'the rating card does not cover the last line');
    assert.ok(inView(phone, lastBox) && inView(phone, cardBox));
    assert.deepEqual(await smallTargets(phone, 'widget'), []);
  });

  test('the pages call a chat a chat, in every state', { timeout: 60000 }, async () => {
    const alice = await agentPage('alice');
    const bob = await agentPage('bob', { available: false });
    const customer = await customerPage('Ana');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    await customerSays(customer, 'hello');
    await expect(alice.locator('.toast-warn')).toContainText('Ana has waited 1:00', { timeout: 5000 });
    assert.deepEqual(await otherWordsForAChat(alice), [], 'console, chatting');
    assert.deepEqual(await otherWordsForAChat(customer), [], 'widget, chatting');
    await alice.getByRole('button', { name: 'Transfer…' }).click();
    assert.deepEqual(await otherWordsForAChat(alice), [], 'transfer dialog');
    await alice.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await alice.getByRole('button', { name: 'Offline' }).click();
    await expect(alice.locator('.toast-error')).toContainText('Transfer or close your open chats before going offline. (open_sessions)');
    await alice.getByRole('button', { name: 'Close…' }).click();
    assert.deepEqual(await otherWordsForAChat(alice), [], 'close dialog');
    await alice.getByRole('dialog').getByRole('button', { name: 'Close chat' }).click();
    await expect(alice.locator('.toast', { hasText: 'The chat with Ana' })).toHaveText('The chat with Ana ended: closed as resolved.');
    await expect(customer.getByRole('group', { name: 'Rate this chat' })).toBeVisible();
    assert.deepEqual(await otherWordsForAChat(alice), [], 'console, after the chat');
    assert.deepEqual(await otherWordsForAChat(customer), [], 'widget, rating');
    assert.deepEqual(await otherWordsForAChat(bob), [], 'console, offline');
    const supervisor = await open('/supervisor');
    assert.deepEqual(await otherWordsForAChat(supervisor), [], 'supervisor, sign-in');
    await supervisor.getByLabel('Agent ID').fill('sam');
    await supervisor.getByLabel('Password').fill(demoPassword('sam'));
    await supervisor.getByRole('button', { name: 'Sign in' }).click();
    await expect(supervisor.locator('.feed li[data-kind="flag"]')).toHaveCount(0);
    await expect(supervisor.locator('tr[data-agent="alice"]')).toHaveCount(1);
    assert.deepEqual(await otherWordsForAChat(supervisor), [], 'supervisor view');
  });
});

// Which connection refusals are final (docs/protocol.md, Connection-level
// failures): reconnecting with the same URL or token cannot help, so the Wire
// stops and the page says why; every other close is retried with backoff.
describe('final refusals', () => {
  const CLOSE_CODE = { overloaded: 1013, storage_unavailable: 1013, message_too_big: 1009, shutting_down: 1001 };
  const protocolDoc = () => readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

  /** The codes of the protocol doc's table of connection-level failures. */
  function documentedCodes() {
    const table = protocolDoc().split('### Connection-level failures')[1].split('\n\n')[2];
    return table.split('\n').map((row) => /^\| `([a-z_]+)` \|/.exec(row)).filter(Boolean).map((m) => m[1]);
  }

  /** The codes the doc's "Final refusals:" line names. */
  function documentedFinal() {
    const line = protocolDoc().split('\n').find((l) => l.startsWith('Final refusals: '));
    return [...line.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
  }

  test('every documented refusal is final or retried as the doc says, and a final one stops the retries', { timeout: 60000 }, async () => {
    const codes = documentedCodes();
    const FINAL = documentedFinal();
    assert.ok(FINAL.includes('invalid_command'), `a bad query (the widget's data-priority) is final: ${FINAL}`);
    assert.ok(codes.length >= 20 && codes.includes('invalid_command'), `the doc's table: ${codes}`);
    const page = await open('/', {
      setup: (context) => context.routeWebSocket(/\/v1\/ws\/refused\//, (ws) => {
        const code = new URL(ws.url()).pathname.split('/').pop();
        ws.send(JSON.stringify({ type: 'error', id: null, code, message: `refused: ${code}` }));
        ws.close({ code: CLOSE_CODE[code] || 1008, reason: code }).catch(() => {});
      }),
    });
    const outcomes = await page.evaluate(async (all) => {
      const { Wire, FATAL_REASONS, wsOrigin } = await import('/wire.js');
      const outcome = (code) => new Promise((resolve) => {
        const wire = new Wire({
          url: () => `${wsOrigin(location.href)}/v1/ws/refused/${code}`,
          onMessage: () => {},
          onStatus: (status, detail) => {
            if (status !== 'failed' && status !== 'retrying') return;
            // Once the status is out: is a reconnect armed?
            setTimeout(() => { resolve([code, status, detail.reason, wire.timer !== null]); wire.stop(); }, 0);
          },
        });
        wire.start();
      });
      return { listed: [...FATAL_REASONS], outcomes: await Promise.all(all.map(outcome)) };
    }, codes);
    for (const [code, status, reason, retryArmed] of outcomes.outcomes) {
      const final = FINAL.includes(code);
      assert.deepEqual([code, status, reason, retryArmed], [code, final ? 'failed' : 'retrying', code, !final]);
    }
    assert.deepEqual(outcomes.listed.slice().sort(), FINAL.slice().sort(), 'wire.js lists exactly the final refusals');
    assert.deepEqual(FINAL.filter((code) => !codes.includes(code)), [], 'every final refusal is documented');
  });

  test('a widget with a bad data-priority stops at the first refusal and says the chat is unavailable', { timeout: 60000 }, async () => {
    const site = await hostSite(() => `<!doctype html><title>t</title><script src="${server.base}/widget.js" data-group="general" data-priority="extreme"></script>`);
    try {
      const { page } = await sitePage(site, '/');
      const sockets = [];
      page.on('websocket', (ws) => sockets.push(ws));
      await page.getByRole('button', { name: 'Chat with us' }).click();
      await page.getByRole('button', { name: 'Start chat' }).click();
      await expect(page.locator('.banner')).toHaveText('Chat is unavailable (invalid_command).');
      assert.equal(sockets.length, 1, 'one connection, no retry');
      assert.equal(await page.evaluate(() => window.switchboardWidget.state().phase), 'waiting');
    } finally {
      await site.close();
    }
  });
});

/**
 * Presses a leave-a-message button, leaves a message in the form it opens and
 * returns what the widget asked the ticket API for (group, reason, text).
 */
async function leaveMessage(page, button) {
  await button.click();
  await page.getByLabel('Your message').fill('Left while closed.');
  const [request] = await Promise.all([
    page.waitForRequest((r) => r.url().endsWith('/v1/tickets') && r.method() === 'POST'),
    page.getByRole('button', { name: 'Send message' }).click(),
  ]);
  const { group, reason, text } = request.postDataJSON();
  await expect(page.locator('.tickets-title')).toHaveText(/Your message #\d+/);
  return { group, reason, text };
}

describe('service hours', () => {
  test('a closed group: the widget says when it opens in local time and takes a message; the console shows the closed badge', { timeout: 60000 }, async () => {
    // Friday 22:30 in Shanghai: general (08:00-22:00 every day) and logistics (Mon-Fri 09:00-18:00) are closed.
    await server.stop();
    server = await startServer({ env: { SWITCHBOARD_CLOCK__START: '2026-03-06T22:30:00' } });
    // bypassCSP: the axe-core audit at the end is injected as a script.
    const berlin = { timezoneId: 'Europe/Berlin', locale: 'en-GB', bypassCSP: true };
    const axe = readFileSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
    const audit = async (page, name) => {
      await page.addScriptTag({ content: axe });
      const result = await page.evaluate(() => window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }));
      assert.deepEqual(result.violations.map((v) => `${name}: ${v.id} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), []);
    };
    const page = await open('/', { device: berlin });
    const sockets = [];
    page.on('websocket', (ws) => sockets.push(ws));
    await page.getByRole('button', { name: 'Chat with us' }).click();
    await page.getByRole('button', { name: 'Start chat' }).click();
    const card = page.locator('[data-card="group-closed"]');
    await expect(card).toContainText('General questions is closed right now');
    // Saturday 08:00 in Shanghai is 01:00 in Berlin, where this browser is.
    await expect(card.locator('[data-opens]')).toHaveText('It opens Saturday 7 March at 01:00 (your time).');
    assert.equal(await card.locator('[data-opens]').getAttribute('data-opens'), '1772841600000');
    assert.match(sockets[0].url(), /time_zone=Europe%2FBerlin/, 'the widget sends its time zone');
    assert.equal(await page.evaluate(() => window.switchboardWidget.state().phase), 'group_closed');
    await expect(page.locator('.banner')).toBeHidden();
    assert.deepEqual(await leaveMessage(page, page.locator('#leave-message')), { group: 'general', reason: 'group_closed', text: 'Left while closed.' });
    assert.equal(sockets.length, 1, 'a closed group is not retried');
    await audit(page, 'widget: group closed');

    const carol = await agentPage('carol', { available: false, device: berlin });
    const badge = (group) => carol.locator(`.group-hours-item[data-group="${group}"] .hours-badge`);
    await expect(badge('logistics')).toHaveText('closed · opens Mon 02:00');
    await expect(badge('general')).toHaveText('closed · opens Sat 01:00');
    await expect(carol.locator('.group-hours-item[data-group="returns"]')).toHaveCount(0);
    await audit(carol, 'console: closed groups');

    const supervisor = await open('/supervisor', { device: { ...berlin, ...LAPTOP } });
    await supervisor.getByLabel('Agent ID').fill('sam');
    await supervisor.getByLabel('Password').fill(demoPassword('sam'));
    await supervisor.getByRole('button', { name: 'Sign in' }).click();
    await expect(supervisor.locator('tr[data-group="logistics"] .hours-badge')).toHaveText('closed · opens Mon 02:00');
    await expect(supervisor.locator('tr[data-group="returns"] .hours-badge')).toHaveText('open');
  });

  test('nobody online in an open group: the banner offers to leave a message, which takes the place of the wait', { timeout: 60000 }, async () => {
    const page = await open('/');
    await page.getByRole('button', { name: 'Chat with us' }).click();
    await page.getByRole('button', { name: 'Start chat' }).click();
    await expect(page.locator('.banner')).toContainText('No agent is online right now.');
    assert.deepEqual(await leaveMessage(page, page.locator('.banner #leave-message')), { group: 'general', reason: 'nobody_available', text: 'Left while closed.' });
    // The message takes the place of the wait: the customer leaves the queue.
    await page.waitForFunction(() => window.switchboardWidget.state().phase === 'closed', null, { timeout: 5000 });
  });
});

describe('signed priority', () => {
  test('a signed priority moves a verified customer up; a forged signature stops the widget at the first refusal', { timeout: 60000 }, async () => {
    const secret = 'web-tests-identity-secret';
    const hmac = (text) => createHmac('sha256', secret).update(text).digest('hex');
    const tag = (id, priorityHash) => `<script src="${server.base}/widget.js" data-group="logistics" data-identifier="${id}"
        data-identifier-hash="${hmac(id)}" data-priority="urgent" data-priority-hash="${priorityHash}"></script>`;
    const site = await hostSite((url) => `<!doctype html><title>t</title>${url === '/forged'
      ? tag('user-9', hmac('user-9\npriority=high'))
      : tag('user-8', hmac('user-8\npriority=urgent'))}`);
    try {
      const { page: forged } = await sitePage(site, '/forged');
      const sockets = [];
      forged.on('websocket', (ws) => sockets.push(ws));
      await forged.getByRole('button', { name: 'Chat with us' }).click();
      await forged.getByRole('button', { name: 'Start chat' }).click();
      await expect(forged.locator('.banner')).toHaveText('Chat is unavailable (priority_invalid).');
      await forged.waitForTimeout(1500);
      assert.equal(sockets.length, 1, 'one connection, no retry');

      const { page: signed } = await sitePage(site, '/');
      await signed.getByRole('button', { name: 'Chat with us' }).click();
      await signed.getByRole('button', { name: 'Start chat' }).click();
      const carol = await agentPage('carol');
      await expect(signed.locator('.sub')).toHaveText('You are chatting with Carol');
      await expect(carol.locator('.session-item .tag-urgent')).toHaveText('urgent');
    } finally {
      await site.close();
    }
  });
});

// What the pages see of a durable server: a crash and a restart on the same
// data_dir look like a network drop, and while the server cannot save
// (storage_unavailable) it refuses connections (error, then close 1013) and
// commands, which the pages must take as "try again later".
describe('server restarts and storage outages', () => {
  // Chromium logs every refused WebSocket while the server is down.
  const serverDown = [/WebSocket connection to .* failed|ERR_CONNECTION_REFUSED/];
  // What the widget shows: system lines and message bubbles, in page order.
  const transcript = (page) => page.locator('.log .entry.system, .log .entry .bubble');

  test('a kill -9 and a restart on the same data_dir: both pages carry on by themselves, nothing lost or shown twice', { timeout: 90000 }, async () => {
    const alice = await agentPage('alice', { expected: serverDown });
    const customer = await customerPage('Wei', { expected: serverDown });
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    await customerSays(customer, 'my order 42 has not arrived');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['my order 42 has not arrived']);
    await agentSays(alice, 'let me look it up');
    await expect(customer.locator('.log .theirs .bubble')).toHaveText(['let me look it up']);
    await expect(customer.locator('.log .mine .meta')).toHaveText(['Sent']);
    await expect(alice.locator('.history .agent.is-sending')).toHaveCount(0);

    // The server dies without a word; both pages notice and keep trying.
    const first = server;
    await first.kill();
    await expect(customer.locator('.banner')).toContainText('Connection lost. Reconnecting');
    await expect(alice.locator('.conn')).toContainText(/Connection lost|Reconnecting/);
    // Both type while it is down: kept, shown as sending, not failed.
    await customerSays(customer, 'typed while the server was down');
    await agentSays(alice, 'replied while the server was down');
    await expect(customer.locator('.log .mine .meta')).toHaveText(['Sent', 'Sending…']);
    await expect(alice.locator('.history .agent.is-sending .bubble')).toHaveText(['replied while the server was down']);

    // A new server on the same data_dir and ports; no page is reloaded.
    server = await first.restart();
    await expect(customer.locator('.banner')).toBeHidden({ timeout: 20000 });
    await expect(alice.locator('.conn')).toHaveText('Connected', { timeout: 20000 });

    // The widget: the whole conversation once, in order, both late messages delivered.
    const conversation = [
      'You joined the queue. An agent will be with you shortly.',
      'Alice joined the chat.',
      'my order 42 has not arrived',
      'let me look it up',
      'typed while the server was down',
      'replied while the server was down',
    ];
    await expect(transcript(customer)).toHaveText(conversation);
    await expect(customer.locator('.log .mine .meta')).toHaveText(['Sent', 'Sent']);
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    // The console: the same session, still Alice's, with its whole history once.
    await expect(alice.locator('.session-item')).toHaveCount(1);
    await expect(alice.locator('.pane-title h1')).toHaveText('Wei');
    await expect(alice.locator('.state-pill')).toHaveText('Available');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['my order 42 has not arrived', 'typed while the server was down']);
    await expect(alice.locator('.history .agent .bubble')).toHaveText(['let me look it up', 'replied while the server was down']);
    await expect(alice.locator('.history .agent.is-sending, .history .line-error')).toHaveCount(0);

    // And the chat goes on, both ways.
    await customerSays(customer, 'after the restart');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['my order 42 has not arrived', 'typed while the server was down', 'after the restart']);
    await agentSays(alice, 'found it: it ships today');
    await expect(transcript(customer)).toHaveText([...conversation, 'after the restart', 'found it: it ships today']);
    await expect(customer.locator('.log .mine .meta')).toHaveText(['Sent', 'Sent', 'Sent']);
    await expect(alice.locator('.history .agent .bubble')).toHaveText(['let me look it up', 'replied while the server was down', 'found it: it ships today']);
    await expect(alice.locator('.flag-list')).toContainText('None so far');
  });

  /**
   * Stands between a page and the real server (Playwright's WebSocket route)
   * and plays a server whose log cannot be written: with `connections` set, a
   * new connection gets an `error` storage_unavailable and close 1013; with
   * `commands` set, every command but ping and snapshot (which change
   * nothing) gets an `error` storage_unavailable (with its id) and never
   * reaches the server.
   * `loseAckOf(type)` swallows the server's ack of the next such command,
   * then drops the connection (a crash after the command was saved).
   */
  async function storageFault(context) {
    const message = 'the server cannot save new work right now; try again shortly';
    const fault = {
      connections: false, commands: false, refusedConnections: 0, refused: [], page: null,
      loseAck: null, lostAcks: [],
      loseAckOf(type) { this.loseAck = { type, id: null }; },
      drop() { if (this.page) this.page.close({ code: 1001, reason: 'going_away' }).catch(() => {}); },
    };
    await context.routeWebSocket(/\/v1\/ws\//, (ws) => {
      if (fault.connections) {
        fault.refusedConnections += 1;
        ws.send(JSON.stringify({ type: 'error', id: null, code: 'storage_unavailable', message }));
        ws.close({ code: 1013, reason: 'storage_unavailable' }).catch(() => {});
        return;
      }
      fault.page = ws;
      const upstream = ws.connectToServer();
      ws.onMessage((text) => {
        let command = null;
        try { command = JSON.parse(String(text)); } catch (_) { /* not ours to judge */ }
        if (fault.commands && command && !['ping', 'snapshot'].includes(command.type)) {
          if (command.type !== 'typing') fault.refused.push(command);
          ws.send(JSON.stringify({ type: 'error', id: command.id, code: 'storage_unavailable', message }));
          return;
        }
        if (command && fault.loseAck && !fault.loseAck.id && command.type === fault.loseAck.type) fault.loseAck.id = command.id;
        upstream.send(text);
      });
      upstream.onMessage((text) => {
        let msg = null;
        try { msg = JSON.parse(String(text)); } catch (_) { /* pass it on */ }
        if (msg && msg.type === 'ack' && fault.loseAck && msg.id === fault.loseAck.id) {
          fault.lostAcks.push(msg.id);
          fault.loseAck = null;
          ws.close({ code: 1001, reason: 'going_away' }).catch(() => {});
          return;
        }
        ws.send(text);
      });
    });
    return fault;
  }

  const waitFor = async (what, check, timeout = 15000) => {
    const deadline = Date.now() + timeout;
    while (!check()) {
      if (Date.now() > deadline) throw new assert.AssertionError({ message: `timed out waiting for ${what}` });
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  test('storage_unavailable in the widget: refused connections and messages are retried, said calmly, and delivered once', { timeout: 60000 }, async () => {
    const alice = await agentPage('alice');
    let fault;
    const customer = await customerPage('Ines', { setup: async (context) => { fault = await storageFault(context); } });
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    await customerSays(customer, 'hello');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['hello']);
    // Every text the banner shows from now on.
    await customer.evaluate(() => {
      const banner = document.querySelector('.switchboard-widget-host').shadowRoot.querySelector('.banner');
      window.bannerSeen = new Set();
      new MutationObserver(() => window.bannerSeen.add(banner.hidden ? '' : banner.textContent))
        .observe(banner, { subtree: true, childList: true, characterData: true, attributes: true });
    });

    // The disk fills up: the message is refused "for now", kept, and tried again by itself.
    fault.commands = true;
    await customerSays(customer, 'my card was charged twice');
    await waitFor('the refused message to be sent again', () => fault.refused.length >= 2);
    assert.equal(new Set(fault.refused.map((c) => c.id)).size, 1, 'sent again with the same id');
    assert.equal(fault.refused[0].text, 'my card was charged twice');
    await expect(customer.locator('.log .mine .meta')).toHaveText(['Sent', 'Sending…']);
    await expect(customer.locator('.banner')).toHaveText('Saving is temporarily unavailable; retrying…');
    // Typed meanwhile: waits behind it.
    await customerSays(customer, 'and I was not refunded');
    await expect(customer.locator('.log .mine .meta')).toHaveText(['Sent', 'Sending…', 'Sending…']);
    await expect(customer.locator('.log .failed')).toHaveCount(0);

    // The connection drops, and new ones are refused (error, close 1013): retried with backoff.
    fault.connections = true;
    fault.drop();
    await waitFor('reconnects refused with 1013', () => fault.refusedConnections >= 2);
    await expect(customer.locator('.banner')).toContainText('Saving is temporarily unavailable; retrying in');
    await expect(customer.locator('.log .mine .meta')).toHaveText(['Sent', 'Sending…', 'Sending…']);
    await expect(customer.getByLabel('Message', { exact: true })).toBeEnabled();
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['hello']);

    // Saving works again: the widget reconnects by itself and both messages arrive once, in order.
    fault.connections = false;
    fault.commands = false;
    await expect(customer.locator('.log .mine .meta')).toHaveText(['Sent', 'Sent', 'Sent'], { timeout: 20000 });
    await expect(customer.locator('.banner')).toBeHidden();
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['hello', 'my card was charged twice', 'and I was not refunded']);
    await agentSays(alice, 'refunded, sorry about that');
    await expect(transcript(customer)).toHaveText([
      'You joined the queue. An agent will be with you shortly.',
      'Alice joined the chat.',
      'hello',
      'my card was charged twice',
      'and I was not refunded',
      'refunded, sorry about that',
    ]);
    // Said calmly all along: never an error, a failure or a server message
    // (and the drop provoked above said as a drop).
    const seen = await customer.evaluate(() => [...window.bannerSeen]);
    const calm = [/^$/, /^Connection lost\. Reconnecting in \d+ s…Retry now$/, /^Saving is temporarily unavailable; retrying…$/, /^Saving is temporarily unavailable; retrying in \d+ s…Retry now$/, /^Reconnecting…$/];
    assert.deepEqual(seen.filter((text) => !calm.some((ok) => ok.test(text))), [], `the banner said: ${JSON.stringify(seen)}`);
  });

  test('storage_unavailable in the console: a refused reply waits and is sent once; a lost ack is not shown twice', { timeout: 60000 }, async () => {
    let fault;
    const alice = await agentPage('alice', { setup: async (context) => { fault = await storageFault(context); } });
    const customer = await customerPage('Ola');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    await customerSays(customer, 'is anyone there?');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['is anyone there?']);

    // A reply refused "for now": shown as sending, the badge says why, no error.
    fault.commands = true;
    await agentSays(alice, 'yes, one moment please');
    await waitFor('the refused reply to be sent again', () => fault.refused.length >= 2);
    assert.equal(new Set(fault.refused.map((c) => c.id)).size, 1, 'sent again with the same id');
    await expect(alice.locator('.history .agent.is-sending .bubble')).toHaveText(['yes, one moment please']);
    await expect(alice.locator('.history .line-error, .toast-error')).toHaveCount(0);
    await expect(alice.locator('.conn')).toHaveText('Saving is temporarily unavailable; retrying…');
    fault.commands = false;
    await expect(alice.locator('.conn')).toHaveText('Connected', { timeout: 20000 });
    await expect(alice.locator('.history .agent.is-sending')).toHaveCount(0);
    await expect(customer.locator('.log .theirs .bubble')).toHaveText(['yes, one moment please']);

    // New connections refused with 1013: "try again later", not "Disconnected".
    fault.connections = true;
    fault.drop();
    await waitFor('reconnects refused with 1013', () => fault.refusedConnections >= 2);
    await expect(alice.locator('.conn')).toContainText('Saving is temporarily unavailable; retrying in');
    fault.connections = false;
    await expect(alice.locator('.conn')).toHaveText('Connected', { timeout: 20000 });
    await expect(alice.locator('.session-item')).toHaveCount(1);
    await expect(alice.locator('.history .bubble')).toHaveText(['is anyone there?', 'yes, one moment please']);

    // Saved, but the ack is lost with the connection: sent again, acked as a
    // duplicate, and shown once (the server's history already has it).
    fault.loseAckOf('reply');
    await agentSays(alice, 'I see the order now');
    await waitFor('the lost ack', () => fault.lostAcks.length === 1);
    await expect(alice.locator('.conn')).toHaveText('Connected', { timeout: 20000 });
    await expect(alice.locator('.history .bubble')).toHaveText(['is anyone there?', 'yes, one moment please', 'I see the order now']);
    await expect(alice.locator('.history .agent.is-sending, .history .line-error')).toHaveCount(0);
    await expect(customer.locator('.log .theirs .bubble')).toHaveText(['yes, one moment please', 'I see the order now']);
    await customerSays(customer, 'thanks');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['is anyone there?', 'thanks']);
  });
});

describe('pictures and files', () => {
  // A real 1x1 PNG, and a small PDF.
  const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
  const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');

  test('the customer sends a picture the agent sees as a thumbnail and opens; the agent sends a PDF the customer gets as a link', { timeout: 60000 }, async () => {
    const customer = await customerPage('Wei');
    const alice = await agentPage('alice');
    await expect(alice.locator('.session-item')).toHaveCount(1);
    await customerSays(customer, 'My parcel arrived broken');
    await expect(alice.locator('.history .line.customer .bubble').last()).toHaveText('My parcel arrived broken');

    // Picked, previewed, uploaded with a progress bar, then sent as a message.
    await customer.locator('input.file-input').setInputFiles({ name: 'parcel.png', mimeType: 'image/png', buffer: PNG });
    await expect(customer.locator('.file-preview .file-name')).toHaveText('parcel.png');
    await expect(customer.locator('.file-preview img')).toHaveCount(1);
    await customer.getByRole('button', { name: 'Send file' }).click();
    await expect(customer.locator('.file-preview')).toBeHidden();
    await expect(customer.locator('.log .mine .meta').last()).toHaveText('Sent');

    const thumb = alice.locator('.history .line.customer img.file-thumb');
    await expect(thumb).toHaveAttribute('src', /^blob:/);
    assert.equal(await thumb.evaluate((img) => img.complete && img.naturalWidth), 1, 'the picture itself, fetched with the token');
    const [full] = await Promise.all([alice.waitForEvent('popup'), thumb.click()]);
    await full.waitForLoadState();
    assert.match(full.url(), /^blob:/, 'opens full size');
    await full.close();

    await alice.locator('input.file-input').setInputFiles({ name: 'invoice.pdf', mimeType: 'application/pdf', buffer: PDF });
    await alice.getByRole('button', { name: 'Send file' }).click();
    const link = customer.locator('.log .theirs a.file-download');
    await expect(link).toContainText('invoice.pdf');
    await expect(link).toHaveAttribute('href', /^blob:/);
    await expect(link).toHaveAttribute('download', 'invoice.pdf');
    await expect(alice.locator('.history .line.agent a.file-download')).toContainText('invoice.pdf');
  });
});
