// Canned replies in the agent console (docs/canned-replies.md).
//
// Typing `/` and a few letters in a reply box opens a list of the canned
// replies whose shortcut matches: the agent's own first, then the config's
// for this agent, for the chat's skill group, and for everyone; within each,
// those in the console's language first. Arrows move, Enter or Tab inserts,
// Esc closes. Inserting fills {customer} and {agent} and never sends: the
// agent reads it and sends it like any reply (content rules, timers).
// Keys pressed while an input method is composing (Chinese) are left alone.
//
// The list comes from `GET /v1/canned`; "My canned replies…" edits the
// agent's own with `PUT /v1/canned`, so they follow the agent to any browser.
import { el, requestJson } from '/wire.js';
import { dialog, dialogActions, toast } from '/ui.js';
import { state } from '/console-state.js';

const SHOWN = 8;
const SCOPE_TEXT = { own: 'mine', agent: 'for you', group: 'group', global: 'everyone' };
const LANG_TEXT = { zh: '中文', en: 'English' };
const canned = { replies: [], own: [], limits: { max_replies: 100, max_shortcut_chars: 32, max_text_chars: 1000, langs: ['zh', 'en'] }, token: null };
let nextListId = 0;

/** Loads the agent's canned replies and adds "My canned replies…" to the sidebar. */
export function mountCanned({ app, getToken }) {
  canned.token = getToken;
  load();
  const node = el('div', { class: 'canned-box' },
    el('button', { type: 'button', class: 'btn', 'data-canned-editor': '', text: 'My canned replies…', onclick: openEditor }),
    el('p', { class: 'muted small', text: 'Type / in a reply to insert one.' }));
  app.querySelector('.sidebar').append(node);
  return { stop: () => node.remove() };
}

async function load() {
  try {
    learn(await requestJson('/v1/canned', { token: canned.token() }));
  } catch (e) {
    toast(`Canned replies could not be loaded: ${e.message}`, 'error');
  }
}

function learn(answer) {
  canned.replies = Array.isArray(answer.replies) ? answer.replies : [];
  canned.own = Array.isArray(answer.own) ? answer.own : [];
  if (answer.limits) canned.limits = answer.limits;
}

const consoleLang = () => ((document.documentElement.lang || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en');
const SCOPE_ORDER = ['own', 'agent', 'group', 'global'];

/** The replies a chat is offered for `query`, best first. */
export function matches(query, chat) {
  const lang = consoleLang();
  const q = query.toLowerCase();
  const rank = (r) => SCOPE_ORDER.indexOf(r.scope) * 4 + (r.shortcut.startsWith(q) ? 0 : 2) + (!r.lang || r.lang === lang ? 0 : 1);
  return canned.replies
    .filter((r) => r.scope !== 'group' || r.group === chat.group)
    .filter((r) => r.shortcut.includes(q))
    .map((r, i) => ({ r, i }))
    .sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i)
    .slice(0, SHOWN)
    .map(({ r }) => r);
}

/** A reply's text with {customer} and {agent} filled. */
export function fill(text, chat) {
  const agent = (state.me && state.me.name) || (state.me && state.me.agent) || '';
  return text.replaceAll('{customer}', chat.customer || '').replaceAll('{agent}', agent);
}

/** The `/word` right before the caret (at the start or after a space), or null. */
function slashWord(box) {
  const before = box.value.slice(0, box.selectionStart);
  const found = /(^|\s)\/([a-z0-9_-]*)$/i.exec(before);
  return found ? { query: found[2], start: before.length - found[2].length - 1 } : null;
}

/**
 * Turns a chat's reply box into a combobox of canned replies. `form` is the
 * box's form: its key handler runs first (capture), so Enter picks a reply
 * instead of sending while the list is open.
 */
export function attachCanned(box, form, chat) {
  const id = `canned-list-${nextListId += 1}`;
  const list = el('ul', { class: 'canned-list', id, role: 'listbox', 'aria-label': 'Canned replies', hidden: true });
  const pick = { items: [], active: 0, word: null };
  box.setAttribute('role', 'combobox');
  box.setAttribute('aria-autocomplete', 'list');
  box.setAttribute('aria-controls', id);
  box.setAttribute('aria-expanded', 'false');
  form.before(list);

  const close = () => {
    pick.items = [];
    list.hidden = true;
    box.setAttribute('aria-expanded', 'false');
    box.removeAttribute('aria-activedescendant');
  };
  const show = () => {
    list.replaceChildren(...pick.items.map((r, i) => el('li', {
      id: `${id}-${i}`, role: 'option', class: 'canned-option', 'aria-selected': String(i === pick.active), 'data-shortcut': r.shortcut,
      onmousedown: (event) => { event.preventDefault(); pick.active = i; insert(); },
    }, el('span', { class: 'canned-shortcut', text: `/${r.shortcut}` }),
    el('span', { class: 'canned-text', text: fill(r.text, chat) }),
    el('span', { class: 'muted small', text: [SCOPE_TEXT[r.scope], LANG_TEXT[r.lang]].filter(Boolean).join(' · ') }))));
    list.hidden = false;
    box.setAttribute('aria-expanded', 'true');
    box.setAttribute('aria-activedescendant', `${id}-${pick.active}`);
  };
  const insert = () => {
    const reply = pick.items[pick.active];
    const { start } = pick.word;
    const end = box.selectionStart;
    const text = fill(reply.text, chat);
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.selectionStart = box.selectionEnd = start + text.length;
    chat.draft = box.value;
    close();
    box.focus();
  };
  box.addEventListener('input', () => {
    pick.word = slashWord(box);
    pick.items = pick.word ? matches(pick.word.query, chat) : [];
    pick.active = 0;
    if (pick.items.length) show(); else close();
  });
  box.addEventListener('blur', close);
  form.addEventListener('keydown', (event) => {
    if (event.target !== box || list.hidden || event.isComposing || event.keyCode === 229) return;
    const moves = { ArrowDown: 1, ArrowUp: -1 };
    if (event.key in moves) {
      pick.active = (pick.active + moves[event.key] + pick.items.length) % pick.items.length;
      show();
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      insert();
    } else if (event.key === 'Escape') {
      close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, true);
}

// ---- "My canned replies" -------------------------------------------------------------
function row(reply) {
  const { limits } = canned;
  const langs = el('select', { name: 'lang', 'aria-label': 'Language' },
    el('option', { value: '', text: 'Any language' }),
    ...limits.langs.map((l) => el('option', { value: l, text: LANG_TEXT[l] || l, selected: reply.lang === l })));
  const node = el('li', { class: 'canned-row' },
    el('input', { name: 'shortcut', 'aria-label': 'Shortcut', placeholder: 'shortcut', value: reply.shortcut || '', maxlength: String(limits.max_shortcut_chars), required: true }),
    langs,
    el('textarea', { name: 'text', 'aria-label': 'Text', rows: '2', placeholder: 'Hello {customer}, this is {agent}…', maxlength: String(limits.max_text_chars), required: true }),
    el('button', { type: 'button', class: 'btn btn-danger-quiet', text: 'Remove', onclick: () => node.remove() }));
  node.querySelector('textarea').value = reply.text || '';
  return node;
}

function openEditor() {
  const rows = el('ul', { class: 'canned-rows', 'aria-label': 'Your canned replies' }, ...canned.own.map(row));
  const error = el('p', { class: 'form-error', role: 'alert' });
  const add = el('button', { type: 'button', class: 'btn', text: 'Add a reply', onclick: () => { rows.append(row({})); rows.lastChild.querySelector('input').focus(); } });
  // novalidate: the server's rules are the one source; its message says what to fix.
  const form = el('form', { class: 'canned-editor', novalidate: true },
    el('p', { class: 'muted small', text: 'Shortcuts: a-z, 0-9, - and _. {customer} and {agent} are filled in when you insert a reply.' }),
    rows, add, error,
    dialogActions(() => node, el('button', { type: 'submit', class: 'btn btn-primary', text: 'Save' })));
  const node = dialog('My canned replies', form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const replies = [...rows.children].map((r) => {
      const lang = r.querySelector('select').value;
      return { shortcut: r.querySelector('input').value.trim(), text: r.querySelector('textarea').value, ...(lang ? { lang } : {}) };
    });
    try {
      learn(await requestJson('/v1/canned', { method: 'PUT', token: canned.token(), body: { replies } }));
      node.close();
      toast('Canned replies saved', 'info');
    } catch (e) {
      error.textContent = e.message;
    }
  });
}
