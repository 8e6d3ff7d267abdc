// Takes the screenshots of the complaint and spot check views into
// docs/screenshots/ (apart from the others, so that retaking these leaves
// them alone): the widget's complaint form and its past conversations with
// an upheld complaint, the supervisor's review of a complaint.
//
//   node web/tests/screenshots-quality.mjs   (after `cargo build -p switchboard-server`)
import { expect } from './expect.mjs';
import { takeScreenshots } from './shots.mjs';

await takeScreenshots(async ({ cast, shot }) => {
  const alice = await cast.agent('alice');
  const rosa = await cast.customer('Rosa');
  await expect(rosa.locator('.sub')).toHaveText('You are chatting with Alice');
  await rosa.getByLabel('Message', { exact: true }).fill('My parcel is three days late.');
  await rosa.getByLabel('Message', { exact: true }).press('Enter');
  await expect(alice.locator('.history .customer .bubble')).toHaveCount(1);
  await alice.locator('textarea[name="reply"]').fill('Not my problem, ask the courier.');
  await alice.locator('textarea[name="reply"]').press('Enter');
  await alice.getByRole('button', { name: 'Close…' }).click();
  await alice.getByRole('dialog', { name: /Close chat/ }).getByRole('button', { name: 'Close chat' }).click();
  await rosa.getByRole('button', { name: 'Complain about this chat' }).click();
  await rosa.getByLabel('What went wrong?').selectOption('attitude');
  await rosa.getByLabel('Tell us what happened').fill('The agent told me it was not his problem and to ask the courier.');
  await shot(rosa, 'widget-complaint.png');
  await rosa.getByRole('button', { name: 'Send complaint' }).click();
  await expect(rosa.locator('.complaint-state')).toHaveAttribute('data-state', 'open');

  const sam = await cast.supervisor('sam');
  const complaints = sam.getByRole('region', { name: 'Open complaints' });
  for (let i = 0; i < 50 && !(await complaints.locator('tbody tr').count()); i += 1) {
    await complaints.getByRole('button', { name: 'Refresh' }).click();
    await sam.waitForTimeout(200);
  }
  await complaints.getByRole('button', { name: /Review the complaint/ }).click();
  const review = sam.getByRole('dialog', { name: /Complaint about chat/ });
  await review.getByLabel('Upheld').check();
  await review.getByLabel(/^Non-business/).check();
  await review.getByLabel('Public comment (the customer reads it)').fill('You are right: that was rude. We have spoken with the agent.');
  await review.getByRole('button', { name: 'Decide…' }).click();
  await review.getByRole('button', { name: 'Confirm decision' }).scrollIntoViewIfNeeded();
  await shot(sam, 'supervisor-complaint-review.png');
  await review.getByRole('button', { name: 'Confirm decision' }).click();
  await expect(review).toBeHidden();

  await rosa.reload();
  await expect(rosa.locator('.complaint-state')).toHaveAttribute('data-state', 'upheld');
  await shot(rosa, 'widget-past-conversations.png');
});
