// DOM helpers: element building without innerHTML (every value from the
// server is text, never markup), the live-region announcer and the
// confirmation dialog.

/** Returns the element with id (throws when the page lacks it). */
export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`dashboard: no element #${id}`);
  return el;
}

/**
 * Builds an element. attrs: properties ("className", "onclick", ...) or,
 * for names with a dash or "for"/"role", attributes; false/null skip.
 * Children are nodes or strings (added as text).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.includes('-') || k === 'for' || k === 'role') el.setAttribute(k, v === true ? '' : String(v));
    else el[k] = v;
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces el's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** Says msg to screen readers (and nothing visible). */
export function announce(msg) {
  const el = $('announcer');
  // Clearing first makes a repeated message be read again.
  el.textContent = '';
  setTimeout(() => { el.textContent = msg; }, 50);
}

/** Shows err in el (a role=alert paragraph), or clears it when err is null. */
export function showError(el, err) {
  el.textContent = err ? messageOf(err) : '';
}

/** A readable message for an error from the API helpers. */
export function messageOf(err) {
  if (!err) return '';
  const code = err.code ? ` (error ${err.code})` : '';
  return `${err.message || String(err)}${code}`;
}

/** Formats ms since the epoch in the browser's locale, or "—". */
export function fmtTime(ms) {
  if (!ms) return '—';
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/**
 * Asks for confirmation in a modal dialog. extra is an optional node shown
 * under the text (say an input); resolves true when confirmed. Focus starts
 * on Cancel for destructive actions and returns to where it was.
 */
export function confirmDialog({ title, body, confirmLabel = 'Confirm', danger = false, extra = null }) {
  const dialog = $('confirm-dialog');
  const ok = $('confirm-ok');
  const cancel = $('confirm-cancel');
  const opener = document.activeElement;
  $('confirm-title').textContent = title;
  $('confirm-body').textContent = body;
  replace($('confirm-extra'), extra);
  ok.textContent = confirmLabel;
  ok.className = danger ? 'danger' : '';
  return new Promise((resolve) => {
    const done = (value) => {
      ok.onclick = cancel.onclick = dialog.oncancel = null;
      dialog.close();
      if (opener && opener.isConnected) opener.focus();
      resolve(value);
    };
    ok.onclick = () => done(true);
    cancel.onclick = () => done(false);
    dialog.oncancel = (e) => { e.preventDefault(); done(false); };
    dialog.showModal();
    (danger || !extra ? cancel : extra.querySelector('input') || cancel).focus();
  });
}

/**
 * Copies text to the clipboard. Without clipboard access (no permission,
 * not a secure context) it falls back to selecting input and the old copy
 * command; prepare() runs first and returns a function that undoes it.
 */
export async function copyText(text, prepare, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const undo = prepare();
    try {
      input.focus();
      input.select();
      return Boolean(document.execCommand && document.execCommand('copy'));
    } finally {
      undo();
    }
  }
}
