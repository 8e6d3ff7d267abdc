// Pieces of the agent console and the supervisor view that are not about
// chats: toasts, the connection badge, modal dialogs, "3:05 ago".
import { el, formatDuration } from '/wire.js';

const TOAST_LIMIT = 4;

/** A short notice; click to dismiss. Errors stay longer. */
export function toast(text, kind = 'info') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const node = el('div', { class: `toast toast-${kind}`, text, title: 'Click to dismiss', onclick: () => node.remove() });
  box.append(node);
  while (box.children.length > TOAST_LIMIT) box.firstChild.remove();
  setTimeout(() => node.remove(), kind === 'error' ? 9000 : 5000);
}

function badgeText(status, detail) {
  const seconds = Math.max(1, Math.round((detail.delay || 0) / 1000));
  switch (status) {
    case 'connecting': return detail.attempt ? 'Reconnecting…' : 'Connecting…';
    case 'open': return 'Connected';
    // The server cannot save new work for now (close 1013 storage_unavailable, or
    // commands refused with it): not a failure, everything is sent again by itself.
    case 'retrying': return detail.reason === 'storage_unavailable'
      ? `Saving is temporarily unavailable; retrying in ${seconds} s`
      : `Connection lost, retrying in ${seconds} s`;
    case 'held': return 'Saving is temporarily unavailable; retrying…';
    case 'failed': return detail.reason === 'replaced' ? 'Signed in elsewhere' : `Disconnected (${detail.reason || 'error'})`;
    case 'closed': return 'Signed out';
    default: return status;
  }
}

/** The connection's state as a coloured badge (`role="status"`). */
export function connectionBadge(status, detail = {}) {
  const kind = status === 'open' ? 'ok' : status === 'failed' || status === 'closed' ? 'bad' : 'warn';
  return el('span', { class: `conn conn-${kind}`, role: 'status', 'data-status': status },
    el('span', { class: 'dot', 'aria-hidden': 'true' }), el('span', { class: 'conn-text', text: badgeText(status, detail || {}) }));
}

/** A modal dialog with `body`; removed from the page when it closes. */
export function dialog(title, body, { onClose } = {}) {
  const node = el('dialog', { class: 'dialog', 'aria-labelledby': 'dialog-title' },
    el('h2', { id: 'dialog-title', text: title }), body);
  node.addEventListener('close', () => { node.remove(); if (onClose) onClose(); });
  document.body.append(node);
  node.showModal();
  return node;
}

/** The Cancel / submit row at the foot of a dialog's form. */
export function dialogActions(node, submit) {
  return el('div', { class: 'dialog-actions' },
    el('button', { class: 'btn', type: 'button', text: 'Cancel', onclick: () => node().close() }),
    submit);
}

/** "just now", "1:05 ago": how long since the local time `at`. */
export function ago(at) {
  const ms = Date.now() - at;
  return ms < 5000 ? 'just now' : `${formatDuration(ms)} ago`;
}

/** Keeps every `[data-at]` label ("updated 0:05 ago") current. */
export function tickAgoLabels() {
  setInterval(() => {
    for (const node of document.querySelectorAll('[data-at]')) node.textContent = `${node.dataset.prefix || ''}${ago(Number(node.dataset.at))}`;
  }, 1000);
}

/**
 * A skill group's service hours as a small badge: "open", or "closed · opens
 * Mon 09:00" (the next change, in this browser's time zone), from a group with
 * `open` and `next_change_at` (unix ms; the welcome's `group_hours`, the snapshot's groups).
 */
export function hoursBadge(g) {
  const when = g.next_change_at != null
    ? new Intl.DateTimeFormat(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(g.next_change_at))
    : null;
  const text = g.open ? 'open' : `closed${when ? ` · opens ${when}` : ''}`;
  return el('span', { class: `hours-badge ${g.open ? 'is-open' : 'is-closed'}`, 'data-hours': g.open ? 'open' : 'closed', title: g.open && when ? `Closes ${when}` : null, text });
}
