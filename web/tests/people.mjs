// The people of pages.test.mjs: a browser context per person on one server,
// signed in (agents, supervisors) or not (customers). Kept apart from
// e2e.test.mjs, whose helpers close over its own server and error list.
import { expect } from './expect.mjs';
import { demoPassword, watchErrors } from './harness.mjs';

/**
 * People of one test: `open(path)` gives a page in a context of its own;
 * `closeAll()` closes every context.
 * `errors` collects script errors; `setup(context)` runs on each new context,
 * made with `contextOptions` (Playwright's, e.g. `bypassCSP`).
 */
export function people(browser, server, errors, { setup, contextOptions } = {}) {
  const contexts = [];
  const open = async (path) => {
    const ctx = await browser.person(contextOptions);
    contexts.push(ctx);
    if (setup) await setup(ctx);
    const page = await ctx.newPage();
    watchErrors(page, errors);
    await page.goto(`${server.base}${path}`);
    return page;
  };
  const signIn = async (path, id) => {
    const page = await open(path);
    await page.getByLabel('Agent ID').fill(id);
    await page.getByLabel('Password').fill(demoPassword(id));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.locator('.conn')).toHaveText('Connected');
    return page;
  };
  return {
    open,
    /** An agent on /agent, Available unless `available: false`. */
    agent: async (id, { available = true } = {}) => {
      const page = await signIn('/agent', id);
      if (available) {
        await page.getByRole('button', { name: 'Available', exact: true }).click();
        await expect(page.locator('.state-pill')).toHaveText('Available');
      }
      return page;
    },
    supervisor: (id) => signIn('/supervisor', id),
    /** A customer on the demo shop who started a chat (named `name`, if given). */
    customer: async (name) => {
      const page = await open('/');
      await page.getByRole('button', { name: 'Chat with us' }).click();
      if (name) await page.getByLabel('Your name (optional)').fill(name);
      await page.getByRole('button', { name: 'Start chat' }).click();
      return page;
    },
    closeAll: async () => { for (const context of contexts.splice(0)) await context.close().catch(() => {}); },
  };
}
