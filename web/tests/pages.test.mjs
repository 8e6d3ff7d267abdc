// Browser tests of the records and tickets pages: the supervisor view's past
// chats (records looked up over the public listener) and the tickets of the
// widget, the console and the supervisor view. The real binary, headless
// Chromium, a browser context per person (people.mjs).
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expect } from './expect.mjs';
import { launchBrowser, startServer } from './harness.mjs';
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
    const customer = await cast.open('/');
    await customer.getByRole('button', { name: 'Chat with us' }).click();
    await customer.getByLabel('Your name (optional)').fill('Rosa');
    await customer.getByRole('button', { name: 'Start chat' }).click();
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
