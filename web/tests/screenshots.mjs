// Takes the README's screenshots into docs/screenshots/: the widget (waiting,
// chatting, on a phone), the agent console (and on a phone), the transfer
// dialog and the supervisor view (on a 1366x768 laptop), against a real
// server with the test config.
//
//   node web/tests/screenshots.mjs      (after `cargo build -p switchboard-server`)
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from './expect.mjs';
import { demoPassword, launchBrowser, repo, startServer } from './harness.mjs';

const out = path.join(repo, 'docs', 'screenshots');
mkdirSync(out, { recursive: true });
const server = await startServer();
const browser = await launchBrowser();
const shot = async (page, name, options = {}) => {
  await page.waitForTimeout(250); // let transitions settle
  await page.screenshot({ path: path.join(out, name), ...options });
  console.log('saved', path.join('docs', 'screenshots', name));
};

async function customer(name, options) {
  const context = await browser.person(options);
  const page = await context.newPage();
  await page.goto(`${server.base}/`);
  await page.getByRole('button', { name: 'Chat with us' }).click();
  await page.getByLabel('Your name (optional)').fill(name);
  await page.getByRole('button', { name: 'Start chat' }).click();
  return page;
}
async function signIn(pathname, id, options) {
  const context = await browser.person(options);
  const page = await context.newPage();
  await page.goto(`${server.base}${pathname}`);
  await page.getByLabel('Agent ID').fill(id);
  await page.getByLabel('Password').fill(demoPassword(id));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.conn')).toHaveText('Connected');
  return page;
}
const say = async (page, text) => {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
};
const reply = async (page, text) => {
  const box = page.locator('textarea[name="reply"]');
  await box.fill(text);
  await box.press('Enter');
};

try {
  const supervisor = await signIn('/supervisor', 'sam', { viewport: { width: 1366, height: 768 } });

  // 1. Waiting: nobody online yet.
  const wei = await customer('Wei Zhang');
  await expect(wei.locator('.queue')).toContainText('next in line');
  await expect(wei.locator('.banner')).toContainText('No agent is online');
  await shot(wei, 'widget-waiting.png');

  // 2. Chatting.
  const alice = await signIn('/agent', 'alice');
  await alice.getByRole('button', { name: 'Available', exact: true }).click();
  await expect(wei.locator('.sub')).toHaveText('You are chatting with Alice');
  await say(wei, 'Hi! My order #40213 says delivered but nothing arrived.');
  await expect(alice.locator('.history .customer')).toHaveCount(1);
  await reply(alice, 'Hello Wei, sorry about that. Let me look up the tracking for #40213.');
  await say(wei, 'Thanks. It was a linen throw.');
  await expect(alice.locator('.history .customer')).toHaveCount(2);
  await reply(alice, 'The carrier left it at the parcel locker on Elm Street. Code 7731 opens it until Friday.');
  await expect(wei.locator('.log .theirs')).toHaveCount(2);
  await alice.locator('textarea[name="reply"]').fill('Is there anything else');
  await expect(wei.locator('.typing')).toContainText('typing');
  await shot(wei, 'widget-chatting.png');
  await alice.locator('textarea[name="reply"]').fill('');

  // 3. More chats for the console; one waits past the 1-minute warning.
  const amara = await customer('Amara Okafor');
  await expect(amara.locator('.sub')).toHaveText('You are chatting with Alice');
  await say(amara, 'Can I change the delivery address of an order that has shipped?');
  const lucas = await customer('Lucas Martin');
  await expect(lucas.locator('.sub')).toHaveText('You are chatting with Alice');
  await say(lucas, 'I want a refund for the mug, it arrived broken. Call me please!');
  await alice.locator('.session-item', { hasText: 'Amara Okafor' }).click();
  await expect(alice.locator('.history .system-warn')).toHaveCount(1, { timeout: 5000 });
  await reply(alice, 'Thanks for waiting, let me check that for you.');
  await expect(alice.locator('.session-item .timer-late')).toHaveCount(1, { timeout: 8000 });
  await alice.locator('.session-item', { hasText: 'Lucas Martin' }).click();
  await alice.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
  await alice.locator('textarea[name="reply"]').fill('So sorry to hear that, Lucas. I can refund the mug right away; ');
  await shot(alice, 'console.png');
  await alice.locator('textarea[name="reply"]').fill('');

  // 4. The transfer dialog.
  await alice.locator('.session-item', { hasText: 'Amara Okafor' }).click();
  await alice.getByRole('button', { name: 'Transfer…' }).click();
  const dialog = alice.getByRole('dialog', { name: /Transfer chat/ });
  await dialog.getByLabel('Skill group ID').fill('logistics');
  await dialog.getByLabel('Handoff note (required)').fill('Order #40388 shipped yesterday (DHL 5521). Customer moved house and wants it delivered to 12 Oak Lane instead. Please ask the carrier for a redirect.');
  await alice.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
  await shot(alice, 'transfer-dialog.png');
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // 5. The supervisor view: Alice is full, a customer waits, Bob is on a break,
  // and the alerts so far plus a conduct flag.
  const bob = await signIn('/agent', 'bob');
  await bob.getByRole('button', { name: 'Break' }).click();
  await bob.getByRole('dialog').getByLabel('Reason for the break').fill('Lunch');
  await bob.getByRole('dialog').getByRole('button', { name: 'Start break' }).click();
  const noah = await customer('Noah Fischer');
  await expect(noah.locator('.queue')).toBeVisible();
  await alice.locator('.session-item', { hasText: 'Wei Zhang' }).click();
  await alice.getByRole('button', { name: 'Close…' }).click();
  await alice.getByRole('dialog').getByLabel('Reason').selectOption('resolved');
  await alice.getByRole('dialog').getByRole('button', { name: 'Close chat' }).click();
  await expect(supervisor.locator('.feed li[data-kind="flag"]')).toHaveCount(1);
  // Noah takes Wei's place with Alice; one more customer now waits.
  await expect(noah.locator('.sub')).toHaveText('You are chatting with Alice');
  const ines = await customer('Ines Duarte');
  await expect(ines.locator('.queue')).toBeVisible();
  await expect(supervisor.locator('tr[data-group="general"] [data-cell="waiting"]')).toHaveText('1');
  await supervisor.waitForTimeout(2500); // let the oldest wait grow a little
  await shot(supervisor, 'supervisor.png');
  await bob.getByRole('button', { name: 'Available', exact: true }).click();
  await expect(ines.locator('.sub')).toHaveText('You are chatting with Bob');

  // 6. The console on a phone: Carol (logistics) with a chat moved to her group.
  const carol = await signIn('/agent', 'carol', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await carol.getByRole('button', { name: 'Available', exact: true }).click();
  const kim = await customer('Kim Lee');
  await expect(kim.locator('.sub')).toHaveText(/You are chatting with/);
  await say(kim, 'My parcel to Oslo has been stuck in customs for a week.');
  const kimsAgent = (await kim.locator('.sub').textContent()).includes('Bob') ? bob : alice;
  await kimsAgent.locator('.session-item', { hasText: 'Kim Lee' }).click();
  await kimsAgent.getByRole('button', { name: 'Transfer…' }).click();
  const handoff = kimsAgent.getByRole('dialog', { name: /Transfer chat/ });
  await handoff.getByLabel('Skill group ID').fill('logistics');
  await handoff.getByLabel('Handoff note (required)').fill('Parcel to Oslo held in customs for a week (DHL 8812). Ask the carrier what papers customs needs.');
  await handoff.getByRole('button', { name: 'Transfer', exact: true }).click();
  await kim.getByRole('button', { name: 'Yes, move me' }).click();
  await expect(carol.locator('.session-item', { hasText: 'Kim Lee' })).toHaveCount(1);
  await reply(carol, 'Hello Kim, I have your note: I am asking DHL which papers customs needs.');
  await expect(carol.locator('.history .agent.is-sending')).toHaveCount(0);
  await shot(carol, 'console-phone.png');

  // 7. The widget on a phone.
  const phone = await customer('Sofia', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await expect(phone.locator('.sub')).toHaveText('You are chatting with Bob');
  await say(phone, 'Do you ship to Norway?');
  await expect(bob.locator('.session-item', { hasText: 'Sofia' })).toHaveCount(1);
  await bob.locator('.session-item', { hasText: 'Sofia' }).click();
  await reply(bob, 'Yes! Delivery to Norway takes 3-5 working days and costs €9.');
  await expect(phone.locator('.log .theirs')).toHaveCount(1);
  await shot(phone, 'widget-phone.png');

  // 8. The rating prompt.
  await bob.getByRole('button', { name: 'Ask resolved' }).click();
  await phone.getByRole('button', { name: 'Yes, resolved' }).click();
  await expect(bob.locator('.history')).toContainText('confirmed');
  await bob.getByRole('button', { name: 'Close…' }).click();
  await bob.getByRole('dialog').getByRole('button', { name: 'Close chat' }).click();
  await expect(phone.locator('.prompt')).toContainText('How did we do?');
  await shot(phone, 'widget-rating.png');
} finally {
  await browser.close();
  await server.stop();
}
