// Pictures and files in chats (docs/files.md), for the widget and the console.
// Upload: the bytes as the body of POST /v1/files (XMLHttpRequest, for its
// upload progress); the answer is the `attachment` a message carries. Show:
// the file is fetched with the token in the Authorization header (never in a
// URL) and shown through a blob: URL, a picture as a thumbnail that opens full
// size, a PDF as a download link. File names are set with textContent only.
import { el } from '/wire.js';

export const ACCEPT = 'image/png,image/jpeg,image/gif,image/webp,application/pdf';
const IMAGE = /^image\//;

const TEXTS = {
  attach: 'Attach a picture or PDF',
  send: 'Send file',
  cancel: 'Cancel',
  uploading: 'Uploading…',
  failed: 'Could not send the file',
  open: 'Open full size',
  download: 'Download',
};

/** Uploads `file` to the chat; resolves with the attachment, rejects with `{code, message}`. */
export function uploadFile({ base, token, session, file, onProgress }) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const url = new URL(`/v1/files?session=${encodeURIComponent(session)}&name=${encodeURIComponent(file.name || 'pasted.png')}`, base);
    xhr.open('POST', url.href);
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (event) => { if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total); };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { body = null; }
      if (xhr.status === 201 && body) resolve(body);
      else reject(body && body.code ? body : { code: 'file_store_failed', message: `HTTP ${xhr.status}` });
    };
    xhr.onerror = () => reject({ code: 'network', message: 'the connection failed' });
    xhr.send(file);
  });
}

/** The file's bytes as a blob: URL (cached per file), fetched with the token. */
const blobs = new Map();
export function fileUrl({ base, token, session, attachment }) {
  const key = `${session}/${attachment.id}`;
  if (!blobs.has(key)) {
    const url = new URL(`/v1/files/${session}/${attachment.id}`, base);
    blobs.set(key, fetch(url.href, { headers: { Authorization: `Bearer ${token}` } })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((blob) => URL.createObjectURL(blob))
      .catch((error) => { blobs.delete(key); throw error; }));
  }
  return blobs.get(key);
}

/** A message's file: a thumbnail that opens full size, or a download link. */
export function attachmentNode(where) {
  const { attachment } = where;
  const size = attachment.size >= 1048576 ? `${(attachment.size / 1048576).toFixed(1)} MB` : `${Math.ceil(attachment.size / 1024)} KB`;
  if (IMAGE.test(attachment.content_type)) {
    const img = el('img', { class: 'file-thumb', alt: attachment.name });
    img.style.cssText = 'max-width: 180px; max-height: 140px; display: block; border-radius: 6px; cursor: zoom-in';
    const link = el('a', { class: 'file-link file-image', href: '#', title: TEXTS.open, 'data-file': attachment.id }, img);
    fileUrl(where).then((url) => { img.src = url; link.href = url; link.target = '_blank'; link.rel = 'noopener'; })
      .catch(() => { link.replaceChildren(el('span', { text: `${attachment.name} (${TEXTS.failed})` })); });
    return link;
  }
  const link = el('a', { class: 'file-link file-download', href: '#', download: attachment.name, 'data-file': attachment.id },
    `📄 ${attachment.name} · ${size} · ${TEXTS.download}`);
  fileUrl(where).then((url) => { link.href = url; }).catch(() => { link.textContent = `${attachment.name} (${TEXTS.failed})`; });
  return link;
}

/**
 * Adds a picker button, paste and drag-and-drop of files to a composer
 * `form` (text box `input`), with a preview and a progress bar before the
 * file goes. `upload(file, onProgress)` returns a promise of the attachment;
 * `sendAttachment(attachment)` sends the message.
 */
export function mountPicker({ form, input, upload, sendAttachment, onError }) {
  const picker = el('input', { type: 'file', accept: ACCEPT, hidden: true, class: 'file-input', 'aria-label': TEXTS.attach });
  const button = el('button', { type: 'button', class: 'attach', title: TEXTS.attach, 'aria-label': TEXTS.attach, text: '📎' });
  const preview = el('div', { class: 'file-preview', hidden: true });
  form.prepend(picker, button);
  form.before(preview);
  button.addEventListener('click', () => picker.click());
  picker.addEventListener('change', () => { if (picker.files[0]) choose(picker.files[0]); picker.value = ''; });
  input.addEventListener('paste', (event) => {
    const file = [...(event.clipboardData?.files || [])][0];
    if (file) { event.preventDefault(); choose(file); }
  });
  form.addEventListener('dragover', (event) => { event.preventDefault(); });
  form.addEventListener('drop', (event) => {
    const file = [...(event.dataTransfer?.files || [])][0];
    if (file) { event.preventDefault(); choose(file); }
  });

  function choose(file) {
    const shown = IMAGE.test(file.type) ? el('img', { class: 'file-preview-image', alt: file.name, src: URL.createObjectURL(file) }) : null;
    if (shown) shown.style.cssText = 'max-width: 120px; max-height: 90px; display: block';
    const bar = el('progress', { class: 'file-progress', max: '1', value: '0', hidden: true, 'aria-label': TEXTS.uploading });
    const go = el('button', { type: 'button', class: 'file-send', text: TEXTS.send });
    const cancel = el('button', { type: 'button', class: 'file-cancel', text: TEXTS.cancel });
    preview.replaceChildren(shown || '', el('span', { class: 'file-name', text: file.name || 'pasted.png' }), bar, go, cancel);
    preview.hidden = false;
    const close = () => { preview.hidden = true; preview.replaceChildren(); if (shown) URL.revokeObjectURL(shown.src); };
    cancel.addEventListener('click', close);
    go.addEventListener('click', () => {
      go.disabled = true;
      bar.hidden = false;
      upload(file, (part) => { bar.value = part; })
        .then((attachment) => { close(); sendAttachment(attachment); })
        .catch((error) => { close(); if (onError) onError(error); });
    });
  }
}
