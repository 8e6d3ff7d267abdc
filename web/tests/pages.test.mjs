// Browser tests of the records and tickets pages: the supervisor view's past
// chats (records looked up over the public listener) and the tickets of the
// widget, the console and the supervisor view. The real binary, headless
// Chromium, a browser context per person (people.mjs).
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { expect } from './expect.mjs';
import { demoPassword, launchBrowser, startServer } from './harness.mjs';
import { people } from './people.mjs';

let browser;
let server;
let errors;
let cast;

before(async () => { browser = await launchBrowser(); });
after(async () => { await browser.close(); });
afterEach(async (t) => {
  await cast.closeAll();
  await server.stop();
  assert.deepEqual(errors, [], `${t.name}: no script errors in the pages`);
});

const customerSays = async (page, text) => {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
};

/** Presses Search in the past chats panel until `rows` results show (records arrive moments after a close). */
async function searchUntil(supervisor, rows) {
  const panel = supervisor.getByRole('region', { name: 'Past chats' });
  const deadline = Date.now() + 10000;
  for (;;) {
    await panel.getByRole('button', { name: 'Search' }).click();
    await expect(panel.locator('[role="status"]')).toContainText(/found|No closed chat|\(/);
    if (await panel.locator('tbody tr').count() === rows) return panel;
    assert.ok(Date.now() < deadline, `past chats: never ${rows} rows; the panel says ${await panel.textContent()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('past chats in the supervisor view', () => {
  beforeEach(async () => { server = await startServer(); errors = []; cast = people(browser, server, errors); });

  test('a chat ends; the supervisor finds it by agent and by flag and reads it', { timeout: 60000 }, async () => {
    const alice = await cast.agent('alice');
    const customer = await cast.customer('Rosa');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    await customerSays(customer, 'Where is my parcel?');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['Where is my parcel?']);
    await alice.locator('textarea[name="reply"]').fill('It ships today.');
    await alice.locator('textarea[name="reply"]').press('Enter');
    await customerSays(customer, 'And the invoice?');
    await expect(alice.locator('.history .customer .bubble')).toHaveCount(2);
    // Closed with the customer's last message unanswered: a conduct flag on the chat.
    await alice.getByRole('button', { name: 'Close…' }).click();
    const closing = alice.getByRole('dialog', { name: /Close chat/ });
    await closing.getByLabel('Reason').selectOption('other');
    await closing.getByRole('button', { name: 'Close chat' }).click();
    await expect(alice.locator('.flag-list .flag')).toContainText('unanswered');

    const sam = await cast.supervisor('sam');
    const panel = sam.getByRole('region', { name: 'Past chats' });
    await panel.getByLabel('Agent ID').fill('alice');
    await searchUntil(sam, 1);
    const row = panel.locator('tbody tr');
    await expect(row).toContainText('Rosa');
    await expect(row).toContainText('Closed with the customer\'s message unanswered');
    await panel.getByLabel('Agent ID').fill('bob');
    await searchUntil(sam, 0);
    await expect(panel).toContainText('No closed chat matches these filters.');
    // By flag only: the same chat; another flag: none.
    await panel.getByLabel('Agent ID').fill('');
    await panel.getByLabel('Conduct flag').selectOption('break_too_many');
    await searchUntil(sam, 0);
    await panel.getByLabel('Conduct flag').selectOption('close_unanswered');
    await searchUntil(sam, 1);
    // The snapshot's redraws every 2 s leave the filters alone.
    await new Promise((r) => setTimeout(r, 2500));
    await expect(panel.getByLabel('Conduct flag')).toHaveValue('close_unanswered');

    await panel.locator('tbody tr button').click();
    const chat = sam.getByRole('dialog', { name: /Chat #\d+ · general/ });
    await expect(chat.locator('.transcript li')).toHaveCount(3);
    await expect(chat.locator('.transcript')).toContainText(['Where is my parcel?', 'It ships today.', 'And the invoice?']);
    await expect(chat.locator('[data-flag="close_unanswered"]')).toContainText('alice');
    await expect(chat.locator('.kv-grid')).toContainText('Not rated');
    await expect(chat.locator('.kv-grid')).toContainText('Rosa');
    await chat.getByRole('button', { name: 'Close' }).click();
    await expect(chat).toBeHidden();
  });
});

describe('content rules in the console', () => {
  beforeEach(async () => { server = await startServer(); errors = []; cast = people(browser, server, errors); });

  test('a blocked reply stays in the box with the rule shown, reaches nobody, and is flagged', { timeout: 60000 }, async () => {
    const alice = await cast.agent('alice');
    const customer = await cast.customer('Rosa');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    await customerSays(customer, 'Can I pay another way?');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['Can I pay another way?']);
    const box = alice.locator('textarea[name="reply"]');
    const blocked = '加我微信 wx_alice88，我私下帮你';
    await box.fill(blocked);
    await box.press('Enter');
    const reason = alice.locator('.reply-blocked');
    await expect(reason).toContainText('off_platform');
    await expect(reason).toContainText('content_blocked');
    await expect(box).toHaveValue(blocked);
    await expect(alice.locator('.flag-list .flag')).toContainText('A reply broke a content rule: off_platform');
    await expect(alice.locator('.history .agent .bubble')).toHaveCount(0);

    // Rewritten, it goes out, and the reason goes away.
    await box.fill('You can pay with WeChat Pay on the checkout page.');
    await box.press('Enter');
    await expect(customer.locator('.log .theirs .bubble')).toHaveText(['You can pay with WeChat Pay on the checkout page.']);
    await expect(reason).toHaveCount(0);
    await expect(box).toHaveValue('');
  });
});

/** The widget's pane (in its shadow root: locators pierce it). */
const ticketPane = (page) => page.locator('.tickets');
const widgetLog = (page) => page.locator('.log .entry');

/** The agent's ticket detail: the reply with the state it leaves the ticket in. */
async function agentReplies(agent, text, state, hours) {
  const pane = agent.getByRole('region', { name: 'Ticket' });
  await pane.getByLabel('Reply to the customer').fill(text);
  await pane.getByLabel('Leave it as').selectOption(state);
  if (hours) await pane.getByLabel('Resolved within (hours, optional)').fill(String(hours));
  await pane.getByRole('button', { name: 'Send reply' }).click();
}

describe('tickets in the pages', () => {
  beforeEach(async () => {
    server = await startServer();
    errors = [];
    cast = people(browser, server, errors);
  });

  test('a customer leaves a message, an agent answers, the customer comes back, replies and confirms', { timeout: 90000 }, async (t) => {
    const customer = await cast.customer();
    await customer.getByRole('button', { name: 'Leave a message instead' }).click();
    const pane = ticketPane(customer);
    await expect(pane).toContainText('No e-mail: come back to this page on this browser to read our answer.');
    await pane.getByLabel('Your name (optional)').fill('Ines');
    await pane.getByLabel('Your message').fill('My order 1234 never arrived.');
    await pane.getByRole('button', { name: 'Send message' }).click();
    await expect(pane.locator('.tickets-title')).toHaveText(/Your message #\d+/);
    await expect(customer.locator('.sub')).toHaveText('Your message to us');
    await expect(pane.locator('.ticket-state')).toHaveText('We have your message and will answer it soon.');
    await expect(pane.locator('.entry.mine .bubble')).toHaveText(['My order 1234 never arrived.']);
    // Waiting in the queue is over: the message replaces the chat.
    await expect(customer.locator('.panel')).toHaveAttribute('data-phase', /closed|gone/);

    const alice = await cast.agent('alice');
    await alice.getByRole('tab', { name: /Tickets/ }).click();
    const row = alice.locator('.tickets-table tbody tr').first();
    await expect(row).toContainText('Ines');
    await expect(row.locator('[data-cell="due"]')).toHaveText(/due in \d+ min|overdue by/);
    await row.getByRole('button').click();
    const detail = alice.getByRole('region', { name: 'Ticket' });
    await expect(detail.locator('.history')).toContainText('My order 1234 never arrived.');
    await agentReplies(alice, 'We found it: it arrives on Monday.', 'processing', 4);
    await expect(detail.locator('.history .agent .bubble')).toHaveText(['We found it: it arrives on Monday.']);
    await expect(detail).toContainText(/Expected resolution: in (4 h 00|3 h 59) min/);
    // Nothing missing is shown as "null" (the customer and the agent see the same words).
    assert.doesNotMatch(await detail.textContent(), /\bnull\b/);

    // The customer comes back (a reload, same browser): the answer is there, the widget open by itself.
    await customer.reload();
    const back = ticketPane(customer);
    await expect(back.locator('.entry.theirs .bubble')).toHaveText(['We found it: it arrives on Monday.']);
    await expect(back.locator('.ticket-state')).toHaveText('We are working on your request.');
    assert.doesNotMatch(await back.textContent(), /\bnull\b/);
    await back.getByLabel('Your reply').fill('Thanks! Will it need a signature?');
    await back.getByRole('button', { name: 'Send reply' }).click();
    await expect(back.locator('.ticket-state')).toHaveText('Thanks for your reply. We will answer soon.');

    // The agent's tab polls: the customer's reply arrives; the agent asks for confirmation.
    await expect(detail.locator('.history .customer .bubble')).toHaveText(['My order 1234 never arrived.', 'Thanks! Will it need a signature?']);
    await expect(row.locator('[data-cell="state"]')).toHaveText('Customer replied');
    await agentReplies(alice, 'No signature needed. Is everything solved?', 'pending_confirmation');
    await expect(row.locator('[data-cell="state"]')).toHaveText('Pending the customer\'s confirmation');

    await customer.reload();
    await expect(ticketPane(customer).locator('.entry.theirs .bubble')).toHaveCount(2);
    await ticketPane(customer).getByRole('button', { name: 'Yes, it is solved' }).click();
    await expect(ticketPane(customer).locator('.ticket-state')).toHaveText('Solved. Thank you!');
    await expect(ticketPane(customer).getByRole('button', { name: 'Forget this message' })).toBeVisible();
    // Done: off the agent's list of open tickets.
    await expect(alice.locator('.tickets-table tbody tr')).toHaveCount(0);
  });
  test('a live chat turned into a ticket; the hook for closed groups; the breaches panel', { timeout: 60000 }, async () => {
    const alice = await cast.agent('alice');
    const customer = await cast.customer('Omar');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    await customerSays(customer, 'I need a refund for a broken lamp.');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['I need a refund for a broken lamp.']);
    await alice.getByRole('button', { name: 'Turn into ticket…' }).click();
    const dialog = alice.getByRole('dialog', { name: /Turn the chat with Omar into a ticket/ });
    await dialog.getByLabel('Note').fill('Refund needs the warehouse: answer by Monday.');
    await dialog.getByRole('button', { name: 'Turn into ticket' }).click();
    await expect(alice.locator('.toast', { hasText: 'is now ticket' })).toHaveText(/The chat with Omar is now ticket #\d+\./);
    // The server tells the customer in the chat (ticket_created): the widget keeps the ticket and shows it once the chat is over.
    await expect(widgetLog(customer).last()).toContainText(/Your chat is now request #\d+/);
    await alice.getByRole('button', { name: 'Close…' }).click();
    await alice.getByRole('dialog', { name: /Close chat/ }).getByRole('button', { name: 'Close chat' }).click();
    await customer.reload();
    await expect(ticketPane(customer).locator('.entry.mine .bubble')).toContainText(['I need a refund for a broken lamp.']);
    await alice.getByRole('tab', { name: /Tickets/ }).click();
    await expect(alice.locator('.tickets-table tbody tr')).toHaveCount(1);
    await expect(alice.getByRole('tab', { name: /Tickets/ })).toHaveText('Tickets 1');
    // Urgent, then handed to Bob with a note: it leaves Alice's list.
    await alice.locator('.tickets-table tbody tr button').click();
    const detail = alice.getByRole('region', { name: 'Ticket' });
    await expect(detail.locator('.notes')).toContainText('Refund needs the warehouse: answer by Monday.');
    await expect(detail.locator('.history')).toContainText('I need a refund for a broken lamp.');
    await detail.getByRole('button', { name: 'Mark urgent' }).click();
    await expect(alice.locator('.tickets-table tbody tr')).toContainText('urgent');
    await expect(detail.getByRole('button', { name: 'Set priority normal' })).toBeVisible();
    await cast.agent('bob');
    // The customer's message is the last word: the rules want a reply before the transfer.
    await detail.getByLabel('Transfer to').fill('bob');
    await detail.getByRole('textbox', { name: 'Handoff note' }).fill('Bob knows the warehouse people.');
    await detail.getByRole('button', { name: 'Transfer' }).click();
    await expect(alice.locator('.toast', { hasText: 'ticket_reply_first' })).toHaveText('Reply to the customer first (say who will answer), then transfer. (ticket_reply_first)');
    // The browser logs that refused request as an error: expected here, once, and nothing else.
    const conflict = (e) => e.includes('status of 409 (Conflict)');
    assert.equal(errors.filter(conflict).length, 1, errors.join('\n'));
    errors.splice(0, errors.length, ...errors.filter((e) => !conflict(e)));
    await agentReplies(alice, 'Bob from our warehouse team will answer you.', 'processing');
    await expect(detail.locator('.history .agent .bubble')).toContainText(['Bob from our warehouse team will answer you.']);
    await detail.getByLabel('Transfer to').fill('bob');
    await detail.getByRole('textbox', { name: 'Handoff note' }).fill('Bob knows the warehouse people.');
    await detail.getByRole('button', { name: 'Transfer' }).click();
    await expect(alice.locator('.tickets-table tbody tr')).toHaveCount(0);
    await alice.locator('select[name="scope"]').selectOption('groups');
    await expect(alice.locator('.tickets-table tbody tr')).toContainText('bob');

    // The closed-group notice (service hours) opens the form through the widget's hook.
    const other = await cast.open('/');
    await other.waitForFunction(() => typeof window.switchboardLeaveMessage === 'function');
    await other.evaluate(() => window.switchboardLeaveMessage({ group: 'general', reason: 'group_closed' }));
    await expect(ticketPane(other)).toContainText('We are closed right now.');
    await expect(other.getByLabel('Your message')).toBeVisible();
    await ticketPane(other).getByRole('button', { name: 'Back' }).click();
    await expect(ticketPane(other)).toBeHidden();
    await expect(other.getByRole('button', { name: 'Start chat' })).toBeVisible();

    const sam = await cast.supervisor('sam');
    const breaches = sam.locator('.breaches-card');
    await breaches.locator('summary').click();
    await expect(breaches.locator('[role="status"]')).toHaveText(/No ticket has missed a limit\.|\d+ missed ticket limits\./);
  });
});

describe('a message left from another site', () => {
  beforeEach(async () => { server = await startServer(); errors = []; cast = people(browser, server, errors); });

  test('the widget embedded in another origin leaves a message and shows it again after a reload (CORS, localStorage)', { timeout: 60000 }, async () => {
    const html = `<!doctype html><title>Another shop</title><h1>Another shop</h1><script src="${server.base}/widget.js" data-group="general"></script>`;
    const site = http.createServer((request, response) => { response.writeHead(200, { 'content-type': 'text/html' }); response.end(html); });
    await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
    try {
      const shopper = await cast.open('/');
      await shopper.goto(`http://127.0.0.1:${site.address().port}/`);
      await shopper.getByRole('button', { name: 'Chat with us' }).click();
      await shopper.getByRole('button', { name: 'Start chat' }).click();
      await shopper.getByRole('button', { name: 'Leave a message instead' }).click();
      await shopper.getByLabel('Your message').fill('Written on another site.');
      await shopper.getByRole('button', { name: 'Send message' }).click();
      await expect(ticketPane(shopper).locator('.ticket-state')).toHaveText('We have your message and will answer it soon.');
      await shopper.reload();
      await expect(ticketPane(shopper).locator('.entry.mine .bubble')).toHaveText(['Written on another site.']);
      assert.ok(await shopper.evaluate(() => !!localStorage.getItem('switchboard.ticket')), 'the token is kept on the site\'s own origin');
    } finally {
      site.closeAllConnections();
      await new Promise((resolve) => site.close(resolve));
    }
  });
});

// The test: a message left at night, answered the next working
// morning. The clock starts at 05:00 UTC, three hours before the general
// group opens (every day 08:00-22:00), and runs an hour a second; only
// working time counts towards a ticket's limits.
const NIGHT = { SWITCHBOARD_CLOCK__START: '2026-11-27T05:00:00Z', SWITCHBOARD_CLOCK__SCALE: '3600', SWITCHBOARD_CALENDAR__TIME_ZONE: 'UTC' };
const MORNING = Date.UTC(2026, 10, 27, 8, 0);

/** A token of sam (an admin), signed in once: sign-ins are rate limited per address. */
async function adminToken() {
  const login = await fetch(`${server.base}/v1/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ agent: 'sam', password: demoPassword('sam') }) });
  return (await login.json()).token;
}

/** The server's business time now, from the ticket API. */
async function businessNow(token) {
  const answer = await fetch(`${server.base}/v1/tickets?scope=all`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(answer.status, 200, `the ticket API answers: ${answer.status === 200 ? '' : await answer.text()}`);
  return (await answer.json()).now;
}

describe('a ticket left at night, on a scaled clock', () => {
  beforeEach(async () => {
    server = await startServer({ env: NIGHT });
    errors = [];
    cast = people(browser, server, errors);
  });

  test('left at night in the widget, answered next morning, read on the same browser, replied to, confirmed', { timeout: 90000 }, async () => {
    const customer = await cast.customer('Night Owl');
    // At night the group is closed: the widget says when it opens and offers to leave a message.
    await expect(customer.locator('.sub')).toHaveText('Closed right now');
    await customer.locator('#leave-message').click();
    const pane = ticketPane(customer);
    await pane.getByLabel('Your message').fill('Sent at night: my invoice shows the wrong address.');
    await pane.getByRole('button', { name: 'Send message' }).click();
    await expect(pane.locator('.ticket-state')).toHaveText('We have your message and will answer it soon.');
    const token = await adminToken();
    assert.ok(await businessNow(token) < MORNING, 'the message was left at night');

    // A supervisor watches through the night.
    const sam = await cast.supervisor('sam');

    // The next working morning (business time), an agent signs in and answers.
    const deadline = Date.now() + 20000;
    while (await businessNow(token) < MORNING) {
      assert.ok(Date.now() < deadline, 'business time reaches the morning');
      await new Promise((r) => setTimeout(r, 250));
    }
    const alice = await cast.agent('alice');
    // On duty, the ticket becomes hers: the console says so while she is on the Chats tab.
    await expect(alice.locator('.toast', { hasText: 'New ticket' })).toHaveText(/^New ticket #\d+ \(general\) in your Tickets tab\.$/);
    await expect(alice.getByRole('tab', { name: /Tickets/ })).toHaveText('Tickets 1');
    await alice.getByRole('tab', { name: /Tickets/ }).click();
    const row = alice.locator('.tickets-table tbody tr').first();
    await expect(row).toContainText('Night Owl');
    // Its first response was due 15 working minutes after the opening, long gone at an hour a second: still owed.
    await expect(row.locator('[data-cell="due"]')).toHaveText(/^overdue by /);
    await expect(row.locator('[data-cell="due"]')).toHaveClass('overdue');
    await row.getByRole('button').click();
    await expect(alice.getByRole('region', { name: 'Ticket' }).locator('[data-deadline="first_response"] strong')).toHaveText(/^overdue by /);
    await agentReplies(alice, 'Good morning! I have corrected the address.', 'processing');
    const detail = alice.getByRole('region', { name: 'Ticket' });
    await expect(detail.locator('.history .agent .bubble')).toHaveText(['Good morning! I have corrected the address.']);

    // The first response was due 15 working minutes after the opening: missed at an hour a second.
    // The supervisor saw the alert come in, and finds it among the breaches.
    await expect(sam.locator('.feed li[data-kind="breach"]')).toContainText([/Ticket #\d+: First response missed/]);
    const breaches = sam.locator('.breaches-card');
    await breaches.locator('summary').click();
    await expect(breaches.locator('tbody tr')).toContainText(['First response']);

    // The customer comes back on the same browser: the answer is there.
    await customer.reload();
    const back = ticketPane(customer);
    await expect(back.locator('.entry.theirs .bubble')).toHaveText(['Good morning! I have corrected the address.']);
    await back.getByLabel('Your reply').fill('Thank you, and the postcode too? Please call me.');
    await back.getByRole('button', { name: 'Send reply' }).click();
    await expect(back.locator('.ticket-state')).toHaveText('Thanks for your reply. We will answer soon.');
    // Asking for a call is a complaint tendency: the supervisor is told, with the ticket.
    await expect(sam.locator('.feed li[data-kind="complaint"]')).toContainText([/Complaint tendency: .*ticket #\d+/s]);

    await expect(row.locator('[data-cell="state"]')).toHaveText('Customer replied');
    await agentReplies(alice, 'The postcode too. Is it all right now?', 'pending_confirmation');
    await expect(row.locator('[data-cell="state"]')).toHaveText('Pending the customer\'s confirmation');

    await customer.reload();
    await ticketPane(customer).getByRole('button', { name: 'Yes, it is solved' }).click();
    await expect(ticketPane(customer).locator('.ticket-state')).toHaveText('Solved. Thank you!');
    await expect(alice.locator('.tickets-table tbody tr')).toHaveCount(0);
  });
});

/** An axe-core audit of the page as it is (WCAG 2.1 A and AA); its context must bypass the CSP. */
async function audit(page, name) {
  const axe = readFileSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
  await page.addScriptTag({ content: axe });
  const result = await page.evaluate(() => window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }));
  const problems = result.violations.map((v) => `${name}: ${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(problems, [], `${name}: no accessibility violations`);
}

/** A server and people whose pages axe can audit (axe is injected as a script, which our pages' CSP forbids). */
async function startForAudits() {
  server = await startServer();
  errors = [];
  cast = people(browser, server, errors, { contextOptions: { bypassCSP: true } });
}

describe('accessibility of the ticket and past chat views', () => {
  beforeEach(startForAudits);

  test('the widget message pane, the Tickets tab and the supervisor panels pass axe-core (WCAG 2.1 A and AA)', { timeout: 60000 }, async () => {
    const customer = await cast.customer('Ada');
    await customer.getByRole('button', { name: 'Leave a message instead' }).click();
    await audit(customer, 'widget, leave a message');
    await customer.getByLabel('Your message').fill('Where is my order?');
    await customer.getByRole('button', { name: 'Send message' }).click();
    await expect(ticketPane(customer).locator('.ticket-state')).toHaveText('We have your message and will answer it soon.');
    await audit(customer, 'widget, the ticket');

    const alice = await cast.agent('alice');
    await alice.getByRole('tab', { name: /Tickets/ }).click();
    await expect(alice.locator('.tickets-table tbody tr')).toHaveCount(1);
    await audit(alice, 'console, tickets list');
    await alice.locator('.tickets-table tbody tr button').click();
    await expect(alice.getByRole('region', { name: 'Ticket' }).locator('.history')).toContainText('Where is my order?');
    await audit(alice, 'console, a ticket');

    const sam = await cast.supervisor('sam');
    await sam.locator('.breaches-card summary').click();
    await expect(sam.locator('.breaches-card [role="status"]')).toHaveText(/missed|No ticket/);
    // Ada's chat ended when she left a message instead: it is a past chat.
    await searchUntil(sam, 1);
    await audit(sam, 'supervisor, breaches and past chats');
    await sam.getByRole('region', { name: 'Past chats' }).locator('tbody tr button').click();
    await expect(sam.getByRole('dialog', { name: /Chat #\d+/ })).toContainText('the customer left');
    await audit(sam, 'supervisor, a past chat');
  });
});

/**
 * Adds a shift over the shifts API as sam (a supervisor): `startsAt` and
 * `endsAt` are wall-clock ms, sent as the date and times of day in the test
 * config's calendar zone (docs/shifts.md).
 */
async function addShift({ agent, startsAt, endsAt, groups }) {
  const [start, end] = [startsAt, endsAt].map((ms) => localIn('Asia/Shanghai', ms));
  const answer = await fetch(`${server.base}/v1/shifts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await adminToken()}` },
    body: JSON.stringify({ agent, date: start.date, start: start.time, end: end.time, groups }),
  });
  assert.equal(answer.status, 201, `the shift is added: ${await answer.text()}`);
}

/** Wall-clock ms of the business calendar's last midnight (Asia/Shanghai, UTC+8 all year). */
const shanghaiMidnight = (now) => Math.floor((now + 8 * 3600000) / 86400000) * 86400000 - 8 * 3600000;

describe('performance panel in the supervisor view', () => {
  beforeEach(startForAudits);

  test('performance panel: an agent who signed in late shows late and a missed service ratio, said in words; axe passes', { timeout: 60000 }, async () => {
    // Records and the figures are wall-clock: a shift that began 10 minutes ago (not before
    // today's midnight on the business calendar, so it is today's) and lasts an hour more.
    const now = Date.now();
    const startsAt = Math.max(now - 10 * 60000, shanghaiMidnight(now));
    await addShift({ agent: 'alice', startsAt, endsAt: now + 60 * 60000, groups: ['general'] });
    await cast.agent('alice');

    const sam = await cast.supervisor('sam');
    const panel = sam.getByRole('group', { name: 'Performance' });
    await expect(panel.getByRole('button', { name: 'Today' })).toHaveAttribute('aria-pressed', 'true');
    const row = panel.locator('tbody tr[data-agent="alice"]');
    await expect(row.locator('th')).toContainText('Alice');
    await expect(row.locator('[data-cell="punctuality"]')).toContainText('late');
    await expect(row.locator('[data-cell="punctuality"]')).toContainText('not punctual');
    // Signed in (at best) 10 minutes into a shift of 10 minutes so far: far below 80%, in words and with a labelled icon.
    const ratio = row.locator('[data-cell="service_ratio"]');
    await expect(ratio).toContainText('below target (at least 80%)');
    await expect(ratio.getByRole('img', { name: 'Missed target' })).toHaveCount(1);
    await expect(row).toHaveAttribute('data-met', 'false');
    // No ratings yet: nothing to measure, not a missed target.
    await expect(row.locator('[data-cell="satisfaction"]')).toHaveText('–');
    // Nobody has a discipline warning: no Discipline column.
    await expect(panel.locator('th', { hasText: 'Discipline' })).toHaveCount(0);
    await expect(panel).toContainText('15 customers an hour');

    await audit(sam, 'supervisor, performance today');

    // This month: the same shift, in the month's row.
    await panel.getByRole('button', { name: 'This month' }).click();
    await expect(panel.getByRole('button', { name: 'This month' })).toHaveAttribute('aria-pressed', 'true');
    await expect(panel.locator('[role="status"]')).toContainText('this month');
    await expect(row.locator('[data-cell="punctuality"]')).toContainText('late');
    await expect(row.locator('[data-cell="service_ratio"]')).toContainText('below target');
    await audit(sam, 'supervisor, performance this month');
  });
});

/** A wall-clock moment (ms) as the date and time of day in `zone`: { date: 'YYYY-MM-DD', time: 'HH:MM' }. */
function localIn(zone, ms) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}

describe('shifts, leave and discipline in the pages', () => {
  // Bob's shift starts about an hour from now (wall clock: shifts and leave are
  // wall-clock, docs/shifts.md), in the calendar's zone (Asia/Shanghai, the default).
  const ZONE = 'Asia/Shanghai';
  const start = localIn(ZONE, Date.now() + 61 * 60000);
  const end = localIn(ZONE, Date.now() + 181 * 60000);
  const shiftId = `config:bob:${start.date}:${start.time.replace(':', '')}`;
  let configFile;

  beforeEach(async () => {
    configFile = path.join(os.tmpdir(), `switchboard-shifts-${process.pid}-${Date.now()}.toml`);
    writeFileSync(configFile, `${readFileSync(new URL('./test-config.toml', import.meta.url), 'utf8')}
[shifts]
leave_notice = "2h"

[[shifts.schedule]]
agent = "bob"
date = "${start.date}"
start = "${start.time}"
end = "${end.time}"
groups = ["general"]
`);
    server = await startServer({ config: configFile });
    errors = [];
    // axe is injected as a script, which our pages' CSP forbids: these contexts bypass it.
    cast = people(browser, server, errors, { contextOptions: { bypassCSP: true } });
  });
  afterEach(() => rmSync(configFile, { force: true }));

  test('shifts and leave: late leave asked with a warning, seen by the supervisor with the discipline list', { timeout: 90000 }, async () => {

    const bob = await cast.agent('bob', { available: false });
    const shift = bob.getByRole('list', { name: 'Your shifts' }).locator(`[data-shift="${shiftId}"]`);
    await expect(shift).toContainText('Upcoming');
    await expect(shift).toContainText('general · beginner');
    await audit(bob, 'console, shifts panel');
    await shift.getByRole('button', { name: 'Request leave…' }).click();
    const asking = bob.getByRole('dialog', { name: /Request leave/ });
    await asking.getByLabel('Reason').fill('My child is ill.');
    await asking.getByRole('button', { name: 'Request leave' }).click();
    // Less than the 2 hours' notice: the console asks before sending anything.
    await expect(asking.getByRole('alert')).toHaveText('This is less than 2 hours before the shift and counts as a warning. Ask anyway?');
    await audit(bob, 'console, the late leave question');
    await asking.getByRole('button', { name: 'Ask anyway' }).click();
    await expect(asking).toBeHidden();
    await expect(bob.locator('.toast', { hasText: 'Leave asked' })).toHaveText('Leave asked. It was late: it counts as a warning.');
    await expect(shift).toHaveAttribute('data-leave', 'late');
    await expect(shift.locator('[data-cell="leave"]')).toHaveText('Leave asked late (a warning)');
    await expect(shift.getByRole('button', { name: 'Request leave…' })).toHaveCount(0);
    await expect(bob.locator('.discipline-line')).toHaveText('Discipline: 1 warning (leave asked late)');

    const sam = await cast.supervisor('sam');
    const shifts = sam.locator('.shifts-card');
    await shifts.locator('summary').click();
    await shifts.getByLabel('Day (business calendar)').fill(start.date);
    const row = shifts.locator(`tbody tr[data-shift="${shiftId}"]`);
    await expect(row).toContainText('bob');
    await expect(row.locator('[data-cell="leave"]')).toHaveAttribute('data-leave', 'late');
    await expect(row.locator('[data-cell="leave"]')).toHaveText('late My child is ill.');
    await expect(row.locator('[data-cell="phase"]')).toHaveText('Upcoming');

    // Add a shift for Alice at the same hours (errors say the server's message), then cancel it.
    const form = shifts.getByRole('form', { name: 'Add a shift' });
    await form.getByLabel('Agent ID').fill('zed');
    await form.getByLabel('Date').fill(start.date);
    await form.getByLabel('Start').fill(start.time);
    await form.getByLabel('End').fill(end.time);
    await form.getByRole('button', { name: 'Add shift' }).click();
    await expect(form.getByRole('alert')).toHaveText('No such agent in the roster (unknown_agent)');
    // The browser logs that refused request as an error: expected here, once.
    const refused = (e) => e.includes('status of 404 (Not Found)');
    assert.equal(errors.filter(refused).length, 1, errors.join('\n'));
    errors.splice(0, errors.length, ...errors.filter((e) => !refused(e)));
    await form.getByLabel('Agent ID').fill('alice');
    await form.getByRole('button', { name: 'Add shift' }).click();
    const added = shifts.locator('tbody tr', { hasText: 'alice' });
    await expect(added.locator('[data-cell="phase"]')).toHaveText('Upcoming');
    await expect(form.getByRole('alert')).toBeHidden();
    await added.getByRole('button', { name: /Cancel alice's shift/ }).click();
    const cancelling = sam.getByRole('dialog', { name: 'Cancel alice\'s shift?' });
    await cancelling.getByRole('button', { name: 'Cancel the shift' }).click();
    await expect(cancelling).toBeHidden();
    await expect(added.locator('[data-cell="phase"]')).toHaveText('Cancelled');
    await expect(added.getByRole('button', { name: /Cancel alice's shift/ })).toHaveCount(0);

    const discipline = sam.locator('.discipline-card');
    await discipline.locator('summary').click();
    const bobs = discipline.locator('tbody tr[data-agent="bob"]');
    await expect(bobs.locator('[data-cell="warnings"]')).toHaveText('1 warning (leave asked late)');
    await expect(bobs.locator('[data-cell="state"]')).toHaveText('may work');
    await expect(discipline.locator('tbody tr')).toHaveCount(1);
    await audit(sam, 'supervisor, shifts and discipline');
  });
});

describe('complaints and spot checks', () => {
  beforeEach(startForAudits);

  test('complaints and spot checks: the customer complains from the widget, the supervisor checks the chat and upholds it, the customer sees it after a reload', { timeout: 90000 }, async () => {
    const alice = await cast.agent('alice');
    const customer = await cast.customer('Rosa');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    await customerSays(customer, 'My parcel is late.');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['My parcel is late.']);
    await alice.locator('textarea[name="reply"]').fill('Not my problem.');
    await alice.locator('textarea[name="reply"]').press('Enter');
    await expect(widgetLog(customer).last()).toContainText('Not my problem.');
    await alice.getByRole('button', { name: 'Close…' }).click();
    await alice.getByRole('dialog', { name: /Close chat/ }).getByRole('button', { name: 'Close chat' }).click();

    // The chat is over: next to the rating, the customer complains.
    await customer.getByRole('button', { name: 'Complain about this chat' }).click();
    const pane = customer.locator('.complaints');
    await expect(pane.locator('h3')).toHaveText(/Complain about chat #\d+/);
    await expect(customer.getByLabel('What went wrong?')).toBeFocused();
    await customer.getByLabel('What went wrong?').selectOption('attitude');
    await customer.getByLabel('Tell us what happened').fill('The agent said it was not his problem.');
    await expect(pane.locator('.count')).toHaveText('38 / 1000');
    await audit(customer, 'widget, the complaint form');
    await pane.getByRole('button', { name: 'Send complaint' }).click();
    await expect(pane.getByRole('status')).toContainText('Your complaint is filed');
    await expect(pane.locator('.complaint-state')).toHaveAttribute('data-state', 'open');
    await expect(customer.locator('.sub')).toHaveText('Your past conversations');
    await audit(customer, 'widget, past conversations');

    // The supervisor: Alice's next unchecked chat, spot checked from its dialog (marked, then replaced)...
    const sam = await cast.supervisor('sam');
    await searchUntil(sam, 1); // the chat's record is there
    const spot = sam.getByRole('region', { name: 'Spot checks' });
    await spot.getByLabel('Agent ID').fill('alice');
    await spot.getByRole('button', { name: 'Open next unchecked chat' }).click();
    const chat = sam.getByRole('dialog', { name: /Chat #\d+ · general/ });
    const check = chat.getByRole('region', { name: 'Spot check' });
    await expect(check.locator('[data-spot-check]')).toHaveText('Not checked yet.');
    await check.getByLabel('Pass').check();
    await check.getByRole('button', { name: 'Save spot check' }).click();
    await expect(check.locator('[data-spot-check]')).toHaveAttribute('data-spot-check', 'pass');
    await check.getByLabel('Fail').check();
    await check.getByLabel('Comment').fill('Brushed the customer off.');
    await check.getByRole('button', { name: 'Replace spot check' }).click();
    await expect(check.locator('[data-spot-check]')).toHaveText(/^Fail \(agent alice\), by sam .*Brushed the customer off\./);
    await chat.getByRole('button', { name: 'Close', exact: true }).click();
    await expect(chat).toBeHidden();
    // One verdict per chat: the month counts the replaced one once, and nothing of Alice's is left unchecked.
    await spot.getByRole('button', { name: 'This month' }).click();
    await expect(spot.getByRole('status')).toContainText('alice: 1 checked this month, 0 passed (0 % passed).');
    await spot.getByRole('button', { name: 'Open next unchecked chat' }).click();
    await expect(spot.getByRole('status')).toHaveText('Every chat alice served this month is checked already.');

    // ... and the complaint, reviewed against the transcript, upheld as non-business after a confirmation.
    const complaints = sam.getByRole('region', { name: 'Open complaints' });
    await complaints.getByRole('button', { name: 'Refresh' }).click();
    await expect(complaints.locator('tbody tr')).toHaveCount(1);
    await expect(complaints.locator('tbody tr')).toContainText('attitude: The agent said it was not his problem.');
    await complaints.getByRole('button', { name: /Review the complaint about chat #\d+/ }).click();
    const review = sam.getByRole('dialog', { name: /Complaint about chat #\d+/ });
    await expect(review.locator('.transcript')).toContainText(['My parcel is late.', 'Not my problem.']);
    await expect(review).toContainText('Non-business: about conduct');
    await review.getByLabel('Upheld').check();
    await review.getByLabel(/^Non-business/).check();
    await review.getByLabel('Public comment (the customer reads it)').fill('You are right: that was rude. We are sorry.');
    await review.getByRole('button', { name: 'Decide…' }).click();
    await expect(review.getByRole('group', { name: 'Confirm the decision' })).toContainText('Upheld, non-business. A review is final');
    await audit(sam, 'supervisor, the complaint review');
    await review.getByRole('button', { name: 'Confirm decision' }).click();
    await expect(review).toBeHidden();
    await expect(complaints.getByRole('status')).toHaveText('No open complaints.');
    await audit(sam, 'supervisor, open complaints');

    // The customer comes back (same browser): the outcome opens the past conversations.
    await customer.reload();
    const back = customer.locator('.complaints');
    await expect(back.locator('.complaint-state')).toHaveAttribute('data-state', 'upheld');
    await expect(back.locator('.complaint-state')).toContainText('Complaint: upheld');
    await expect(back.locator('.complaint-state .comment')).toHaveText('Supervisor: You are right: that was rude. We are sorry.');
    assert.doesNotMatch(await back.textContent(), /\bnull\b|undefined/);
  });
});

describe('canned replies in the console', () => {
  beforeEach(startForAudits);

  test('canned replies: /wa inserts the holding reply with the customer\'s name, sent by the agent; an own reply survives a reload', { timeout: 90000 }, async () => {
    const alice = await cast.agent('alice');
    const customer = await cast.customer('Rosa');
    await expect(customer.locator('.sub')).toHaveText('You are chatting with Alice');
    await customerSays(customer, 'Where is my refund?');
    await expect(alice.locator('.history .customer .bubble')).toHaveText(['Where is my refund?']);
    const box = alice.locator('textarea[name="reply"]');
    const list = alice.getByRole('listbox', { name: 'Canned replies' });
    const holding = 'One moment please, Rosa, I\'m checking that for you.';

    await box.pressSequentially('/wa');
    await expect(box).toHaveAttribute('aria-expanded', 'true');
    await expect(list.getByRole('option').first()).toContainText(holding);
    await expect(list.getByRole('option').first()).toHaveAttribute('aria-selected', 'true');
    await expect(list.getByRole('option').nth(1)).toContainText('请您稍等');
    await audit(alice, 'console, the canned replies list');
    // An Enter that ends an input method's composition (Chinese) is the IME's: nothing inserted, nothing sent.
    await box.evaluate((node) => node.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', isComposing: true, bubbles: true, cancelable: true })));
    await expect(box).toHaveValue('/wa');
    await expect(list).toBeVisible();
    await box.press('Enter');
    await expect(box).toHaveValue(holding);
    await expect(list).toBeHidden();
    // Inserting never sends: the customer has nothing until the agent presses Enter again.
    await new Promise((r) => setTimeout(r, 300));
    await expect(customer.locator('.log .theirs .bubble')).toHaveCount(0);
    await box.press('Enter');
    await expect(customer.locator('.log .theirs .bubble')).toHaveText([holding]);
    await expect(box).toHaveValue('');

    // Arrows move through the list; Esc closes it and leaves the text typed.
    await box.pressSequentially('/tr');
    await box.press('ArrowDown');
    await expect(list.getByRole('option').nth(1)).toHaveAttribute('aria-selected', 'true');
    await expect(box).toHaveAttribute('aria-activedescendant', await list.getByRole('option').nth(1).getAttribute('id'));
    await box.press('Escape');
    await expect(list).toBeHidden();
    await expect(box).toHaveValue('/tr');
    await box.fill('');

    // The agent's own reply, kept by the server: still there after a reload.
    await alice.getByRole('button', { name: 'My canned replies…' }).click();
    const editor = alice.getByRole('dialog', { name: 'My canned replies' });
    await editor.getByRole('button', { name: 'Add a reply' }).click();
    await editor.getByLabel('Shortcut').fill('Bad Shortcut');
    await editor.getByLabel('Text').fill('Thank you, {customer}! {agent} here.');
    await audit(alice, 'console, my canned replies');
    await editor.getByRole('button', { name: 'Save' }).click();
    await expect(editor.locator('.form-error')).toContainText('shortcut');
    // The browser logs the refused save (HTTP 400): expected here, and only once.
    for (let i = 0; i < 20 && !errors.some((e) => e.includes('status of 400')); i += 1) await new Promise((r) => setTimeout(r, 100));
    const refused = errors.filter((e) => e.includes('status of 400'));
    assert.equal(refused.length, 1, errors.join('\n'));
    errors.splice(errors.indexOf(refused[0]), 1);
    await editor.getByLabel('Shortcut').fill('thanks');
    await editor.getByRole('button', { name: 'Save' }).click();
    await expect(editor).toBeHidden();

    await alice.reload();
    await expect(alice.locator('.conn')).toHaveText('Connected');
    await alice.locator('.session-item').first().click();
    await box.pressSequentially('/than');
    await expect(list.getByRole('option').first()).toContainText('Thank you, Rosa! Alice here.');
    await expect(list.getByRole('option').first()).toContainText('mine');
    await box.press('Tab');
    await expect(box).toHaveValue('Thank you, Rosa! Alice here.');
    await alice.getByRole('button', { name: 'My canned replies…' }).click();
    await expect(alice.getByRole('dialog', { name: 'My canned replies' }).getByLabel('Shortcut')).toHaveValue('thanks');
  });
});
