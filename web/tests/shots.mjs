// What a screenshot script needs: a real server with the test config, one
// browser, the people of people.mjs, and `shot(page, name)`, which saves
// docs/screenshots/<name>. Script errors in the pages fail the run.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { launchBrowser, repo, startServer } from './harness.mjs';
import { people } from './people.mjs';

/** Runs `scene({ cast, shot })` and cleans up, whatever happens. */
export async function takeScreenshots(scene) {
  const out = path.join(repo, 'docs', 'screenshots');
  mkdirSync(out, { recursive: true });
  const server = await startServer();
  const browser = await launchBrowser();
  const errors = [];
  const cast = people(browser, server, errors);
  const shot = async (page, name) => {
    await page.waitForTimeout(250); // let transitions settle
    await page.screenshot({ path: path.join(out, name) });
    console.log('saved', path.join('docs', 'screenshots', name));
  };
  try {
    await scene({ cast, shot });
    if (errors.length) throw new Error(`script errors: ${errors.join('\n')}`);
  } finally {
    await cast.closeAll();
    await browser.close();
    await server.stop();
  }
}
