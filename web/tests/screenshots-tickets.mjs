// Takes the screenshots of the ticket and past chat views into
// docs/screenshots/ (apart from screenshots.mjs, so that retaking these leaves
// the others alone): the widget's ticket, the console's Tickets tab, the
// supervisor view's past chats with one open. A real server with the test
// config (and its ticket API).
//
//   node web/tests/screenshots-tickets.mjs   (after `cargo build -p switchboard-server`)
import { expect } from './expect.mjs';
import { takeScreenshots } from './shots.mjs';

await takeScreenshots(async ({ cast, shot }) => {
  // A customer leaves a message instead of waiting; Alice answers it.
  const ines = await cast.customer('Ines');
  await ines.getByRole('button', { name: 'Leave a message instead' }).click();
  await ines.getByLabel('Your message').fill('My order 1234 never arrived. Can you check where it is?');
  await ines.getByRole('button', { name: 'Send message' }).click();
  await expect(ines.locator('.ticket-state')).toHaveText('We have your message and will answer it soon.');

  const alice = await cast.agent('alice');
  await alice.getByRole('tab', { name: /Tickets/ }).click();
  await alice.locator('.tickets-table tbody tr button').first().click();
  const detail = alice.getByRole('region', { name: 'Ticket' });
  await detail.getByLabel('Reply to the customer').fill('We found it at the depot: it arrives on Monday. I will check again then.');
  await detail.getByLabel('Resolved within (hours, optional)').fill('8');
  await detail.getByRole('button', { name: 'Send reply' }).click();
  await expect(detail.locator('.history .agent .bubble')).toHaveCount(1);
  await shot(alice, 'console-tickets.png');

  // Ines comes back later on the same browser.
  await ines.reload();
  await expect(ines.locator('.tickets .entry.theirs .bubble')).toHaveCount(1);
  await shot(ines, 'widget-ticket.png');

  // The supervisor looks up Ines's chat (it ended when she left the message) and opens it.
  const sam = await cast.supervisor('sam');
  const panel = sam.getByRole('region', { name: 'Past chats' });
  await panel.getByLabel('Customer (name or id)').fill('Ines');
  for (let i = 0; i < 50 && !(await panel.locator('tbody tr').count()); i += 1) {
    await panel.getByRole('button', { name: 'Search' }).click();
    await sam.waitForTimeout(200);
  }
  await panel.locator('tbody tr button').first().click();
  await expect(sam.getByRole('dialog', { name: /Chat #\d+/ })).toBeVisible();
  await shot(sam, 'supervisor-past-chat.png');
});
