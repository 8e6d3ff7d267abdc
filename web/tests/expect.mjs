// A small web-first `expect` for playwright-core locators (the full one ships
// with @playwright/test, which would bring its own runner): every assertion
// retries until it holds or the timeout passes, then fails with what it saw.
import { AssertionError } from 'node:assert';

const DEFAULT_TIMEOUT = 10000;
const normalize = (text) => (text || '').replace(/\s+/g, ' ').trim();

async function poll(description, timeout, check) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const result = await check();
      if (result.ok) return;
      last = result.saw;
    } catch (error) {
      last = `error: ${error.message.split('\n')[0]}`;
    }
    if (Date.now() > deadline) {
      throw new AssertionError({ message: `expect(${description}) timed out after ${timeout} ms; last saw: ${JSON.stringify(last)}` });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const texts = async (locator) => (await locator.allTextContents()).map(normalize);
const matches = (actual, expected) => (expected instanceof RegExp ? expected.test(actual) : actual === normalize(expected));

export function expect(locator) {
  const name = String(locator);
  const run = (what, options, check) => poll(`${name}).${what}`, (options && options.timeout) || DEFAULT_TIMEOUT, check);
  return {
    toHaveText: (expected, options) => run(`toHaveText(${expected})`, options, async () => {
      const saw = await texts(locator);
      if (Array.isArray(expected)) {
        return { ok: saw.length === expected.length && saw.every((t, i) => matches(t, expected[i])), saw };
      }
      return { ok: saw.length === 1 && matches(saw[0], expected), saw };
    }),
    toContainText: (expected, options) => run(`toContainText(${expected})`, options, async () => {
      const saw = await texts(locator);
      const wanted = Array.isArray(expected) ? expected : [expected];
      const ok = saw.length > 0 && wanted.every((w) => saw.some((t) => (w instanceof RegExp ? w.test(t) : t.includes(normalize(w)))));
      return { ok, saw };
    }),
    toHaveCount: (count, options) => run(`toHaveCount(${count})`, options, async () => {
      const saw = await locator.count();
      return { ok: saw === count, saw };
    }),
    toBeVisible: (options) => run('toBeVisible()', options, async () => {
      const saw = await locator.isVisible();
      return { ok: saw, saw };
    }),
    toBeHidden: (options) => run('toBeHidden()', options, async () => {
      const saw = await locator.isHidden();
      return { ok: saw, saw };
    }),
    toBeEnabled: (options) => run('toBeEnabled()', options, async () => {
      const saw = await locator.isEnabled();
      return { ok: saw, saw };
    }),
    toBeDisabled: (options) => run('toBeDisabled()', options, async () => {
      const saw = await locator.isDisabled();
      return { ok: saw, saw };
    }),
    toHaveValue: (expected, options) => run(`toHaveValue(${expected})`, options, async () => {
      const saw = await locator.inputValue();
      return { ok: saw === expected, saw };
    }),
    toHaveAttribute: (attribute, expected, options) => run(`toHaveAttribute(${attribute}, ${expected})`, options, async () => {
      const saw = await locator.getAttribute(attribute);
      return { ok: expected instanceof RegExp ? expected.test(saw || '') : saw === expected, saw };
    }),
    toHaveClass: (expected, options) => run(`toHaveClass(${expected})`, options, async () => {
      const saw = (await locator.getAttribute('class')) || '';
      return { ok: expected instanceof RegExp ? expected.test(saw) : saw === expected, saw };
    }),
    toBeFocused: (options) => run('toBeFocused()', options, async () => {
      const saw = await locator.evaluate((node) => {
        let active = document.activeElement;
        while (active && active.shadowRoot && active.shadowRoot.activeElement) active = active.shadowRoot.activeElement;
        return active === node;
      });
      return { ok: saw, saw };
    }),
  };
}
