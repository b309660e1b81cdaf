// API Keys tab: the key table (copy, rotate, revoke) and the "Create a new
// API key" form, with capabilities picked per resource or as a restriction.

import { $, h, replace, announce, showError, messageOf, fmtTime, confirmDialog, copyText } from './dom.js';

/** Capability operations (Ably's list); the first ones are shown at once. */
const COMMON_OPS = ['publish', 'subscribe', 'presence', 'history', 'stats', 'channel-metadata',
  'push-subscribe', 'push-admin'];
const MORE_OPS = ['privileged-headers', 'object-subscribe', 'object-publish', 'annotation-subscribe',
  'annotation-publish', 'message-update-own', 'message-update-any', 'message-delete-own', 'message-delete-any'];

const RESTRICTION_LABELS = {
  all: 'All channels and queues',
  channels: 'All channels',
  queues: 'All queues',
};

let rowSeq = 0;

/**
 * opsFieldset builds a group of operation checkboxes: "*" (every
 * operation), the common ones, and the rest behind a disclosure.
 */
function opsFieldset(prefix, legend, checked = []) {
  const box = (op, label) => {
    const id = `${prefix}-op-${op === '*' ? 'all' : op}`;
    return h('span', { className: 'check' },
      h('input', { type: 'checkbox', id, value: op, checked: checked.includes(op), className: 'op' }),
      h('label', { for: id }, label || op));
  };
  const all = box('*', 'All operations (*)');
  const fs = h('fieldset', { className: 'ops' }, h('legend', {}, legend), all,
    ...COMMON_OPS.map((op) => box(op)),
    h('details', {}, h('summary', {}, 'More operations'), ...MORE_OPS.map((op) => box(op))));
  const allInput = all.querySelector('input');
  const sync = () => {
    for (const el of fs.querySelectorAll('input.op')) if (el !== allInput) el.disabled = allInput.checked;
  };
  allInput.addEventListener('change', sync);
  sync();
  return fs;
}

function selectedOps(fs) {
  const ops = [...fs.querySelectorAll('input.op:checked')].map((el) => el.value);
  return ops.includes('*') ? ['*'] : ops;
}

/** capRow is one resource of the per-resource capability editor. */
function capRow(resource = '', ops = []) {
  const n = ++rowSeq;
  const input = h('input', { type: 'text', id: `cap-res-${n}`, className: 'cap-resource', value: resource,
    spellcheck: false, 'aria-describedby': `cap-res-${n}-help` });
  const remove = h('button', { type: 'button', className: 'secondary small cap-remove' }, 'Remove this resource');
  const row = h('fieldset', { className: 'cap-row' },
    h('legend', {}, 'Resource'),
    h('label', { for: input.id }, 'Channel or queue pattern'), input,
    h('p', { id: `cap-res-${n}-help`, className: 'hint' },
      '* for every channel, chat:* for a namespace, [queue]* for queues, [*]* for both.'),
    opsFieldset(`cap-${n}`, 'Operations', ops), remove);
  remove.addEventListener('click', () => {
    row.remove();
    numberRows();
    $('cap-add').focus();
  });
  return row;
}

function numberRows() {
  const rows = [...$('cap-rows').children];
  rows.forEach((row, i) => {
    row.querySelector('legend').textContent = `Resource ${i + 1}`;
    row.querySelector('.cap-remove').hidden = rows.length === 1;
  });
}

function resetForm() {
  $('key-form').reset();
  replace($('cap-rows'), capRow('*', ['publish', 'subscribe']));
  numberRows();
  $('restriction-ops').replaceWith(restrictionOps());
  syncGrant();
}

function restrictionOps() {
  const fs = opsFieldset('restrict', 'Operations', ['publish', 'subscribe']);
  fs.id = 'restriction-ops';
  return fs;
}

function grantMode() { return $('key-form').elements.grant.value; }
function restrictMode() { return $('key-form').elements.restrict.value; }

function syncGrant() {
  const restriction = grantMode() === 'restriction';
  $('cap-editor').hidden = restriction;
  $('restriction-editor').hidden = !restriction;
  $('restriction-patterns-box').hidden = restrictMode() !== 'patterns';
}

/** fieldError is a validation problem found before sending: message + element to focus. */
class FieldError extends Error {
  constructor(message, el) { super(message); this.el = el; }
}

/** body reads the form into a Control API key_post body. */
function body() {
  const name = $('key-name').value.trim();
  if (!name) throw new FieldError('Give the key a name.', $('key-name'));
  const out = { name, revocableTokens: $('key-revocable').checked };
  if (grantMode() === 'capability') {
    const capability = {};
    for (const row of $('cap-rows').children) {
      const input = row.querySelector('.cap-resource');
      const res = input.value.trim();
      if (!res) throw new FieldError('Enter a channel or queue pattern, or remove the resource.', input);
      if (capability[res]) throw new FieldError(`The resource ${res} is listed twice.`, input);
      const ops = selectedOps(row.querySelector('fieldset.ops'));
      if (!ops.length) throw new FieldError(`Pick at least one operation for ${res}.`, row.querySelector('input.op'));
      capability[res] = ops;
    }
    out.capability = capability;
  } else {
    const ops = selectedOps($('restriction-ops'));
    if (!ops.length) throw new FieldError('Pick at least one operation.', $('restriction-ops').querySelector('input.op'));
    const restriction = { type: restrictMode(), ops };
    if (restriction.type === 'patterns') {
      restriction.patterns = $('restriction-patterns').value.split('\n').map((s) => s.trim()).filter(Boolean);
      if (!restriction.patterns.length) {
        throw new FieldError('List at least one channel or queue pattern.', $('restriction-patterns'));
      }
    }
    out.restriction = restriction;
  }
  return out;
}

/** fieldElement maps a Control API error's details.field to the input at fault. */
function fieldElement(field) {
  if (!field) return null;
  if (field === 'name') return $('key-name');
  if (field.startsWith('restriction.patterns')) return $('restriction-patterns');
  if (field.startsWith('restriction')) return $('restriction-ops').querySelector('input.op');
  if (field.startsWith('capability')) return $('cap-rows').querySelector('.cap-resource');
  return null;
}

async function onCreate(ctx, e) {
  e.preventDefault();
  const errEl = $('key-form-error');
  let b;
  try {
    b = body();
  } catch (err) {
    showError(errEl, err);
    err.el.focus();
    return;
  }
  const submit = $('key-form').querySelector('button[type=submit]');
  submit.disabled = true;
  try {
    const key = await ctx.api.createKey(ctx.app.id, b);
    showError(errEl, null);
    resetForm();
    await ctx.reloadKeys();
    announce(`Created key ${key.name} (${key.appId}.${key.id}). Its key string is in the table.`);
    const row = rowOf(key.id);
    if (row) {
      row.classList.add('fresh');
      row.querySelector('.copy').focus();
    }
  } catch (err) {
    if (ctx.onAuthError(err)) return;
    showError(errEl, err);
    (fieldElement(err.field) || $('key-name')).focus();
  } finally {
    submit.disabled = false;
  }
}

function rowOf(keyId) {
  return $('keys-table').querySelector(`tr[data-key-id="${CSS.escape(keyId)}"]`);
}

/** capabilitySummary describes a key's capability, as its restriction when it has one. */
function capabilitySummary(k) {
  const opsText = (ops) => (!Array.isArray(ops) ? String(ops) : ops.includes('*') ? 'every operation' : ops.join(', '));
  const r = k.restriction;
  const cap = k.capability || {};
  if (r && RESTRICTION_LABELS[r.type]) {
    return h('div', {}, `${RESTRICTION_LABELS[r.type]}: ${opsText(r.ops)}`,
      h('div', {}, h('code', { className: 'hint' }, JSON.stringify(cap))));
  }
  return h('ul', { className: 'plain' }, Object.entries(cap).map(([res, ops]) =>
    h('li', {}, h('code', {}, res), ' ', opsText(ops))));
}

/** masked shows a key string's name and hides its secret. */
function masked(key) {
  const i = key.indexOf(':');
  return `${key.slice(0, i + 1)}${'•'.repeat(16)}`;
}

function keyCell(k) {
  const name = k.name || k.id;
  const input = h('input', { type: 'text', readOnly: true, value: masked(k.key), className: 'keystring',
    id: `key-${k.id}`, 'aria-label': `Key string of ${name}`, spellcheck: false, autocomplete: 'off' });
  const show = h('button', { type: 'button', className: 'secondary small show', 'aria-pressed': 'false',
    'aria-controls': input.id, 'aria-label': `Show the secret of ${name}` }, 'Show');
  const reveal = (on) => {
    input.value = on ? k.key : masked(k.key);
    show.setAttribute('aria-pressed', String(on));
  };
  show.addEventListener('click', () => reveal(show.getAttribute('aria-pressed') !== 'true'));
  const copy = h('button', { type: 'button', className: 'secondary small copy', 'aria-label': `Copy the key string of ${name}` }, 'Copy');
  copy.addEventListener('click', async () => {
    const shown = show.getAttribute('aria-pressed') === 'true';
    const ok = await copyText(k.key, () => {
      reveal(true);
      return () => reveal(shown);
    }, input);
    announce(ok ? `Copied the key string of ${name}.` : 'Could not copy: press Show, select the key string and copy it.');
  });
  return h('td', {},
    h('div', { className: 'keybox' }, input, show, copy),
    k.previousSecretExpires ? h('p', { className: 'hint' }, `The previous secret works until ${fmtTime(k.previousSecretExpires)}.`) : null);
}

function actionsCell(ctx, k) {
  const name = k.name || k.id;
  const buttons = [];
  if (k.status === 0 && ctx.can('write:key')) {
    const rotate = h('button', { type: 'button', className: 'secondary small rotate', 'aria-label': `Rotate key ${name}` }, 'Rotate…');
    rotate.addEventListener('click', () => onRotate(ctx, k));
    const revoke = h('button', { type: 'button', className: 'danger small revoke', 'aria-label': `Revoke key ${name}` }, 'Revoke…');
    revoke.addEventListener('click', () => onRevoke(ctx, k));
    buttons.push(rotate, revoke);
  }
  if (k.status === 0 && k.revocableTokens) {
    const tokens = h('button', { type: 'button', className: 'secondary small', 'aria-label': `Revoke tokens of key ${name}` }, 'Revoke tokens…');
    tokens.addEventListener('click', () => {
      ctx.preselectKey = k.id;
      ctx.openTab('revocation');
    });
    buttons.push(tokens);
  }
  return h('td', {}, h('div', { className: 'buttons' }, buttons.length ? buttons : h('span', { className: 'hint' }, '—')));
}

/** render fills the key table from ctx.keys. */
export function render(ctx) {
  const rows = ctx.keys.map((k) => h('tr', { 'data-key-id': k.id, 'data-key-name': `${k.appId}.${k.id}`, className: k.status ? 'revoked' : '' },
    h('th', { scope: 'row' }, k.name || h('span', { className: 'hint' }, '(unnamed)'),
      h('div', { className: 'hint' }, `created ${fmtTime(k.created)}`),
      k.revocableTokens ? h('span', { className: 'badge' }, 'revocable tokens') : null),
    keyCell(k),
    h('td', {}, capabilitySummary(k)),
    h('td', {}, k.status === 0 ? 'Enabled' : h('span', { className: 'badge danger' }, 'Revoked')),
    actionsCell(ctx, k)));
  replace($('keys-table').tBodies[0], rows.length ? rows : h('tr', {}, h('td', { colSpan: 5 }, 'This app has no keys.')));
  const writable = ctx.can('write:key');
  $('key-form').hidden = !writable;
  $('key-form-denied').hidden = writable;
}

async function onRotate(ctx, k) {
  const name = k.name || k.id;
  const overlap = h('input', { type: 'number', id: 'rotate-overlap', min: 0, max: 2592000, value: 3600, step: 1,
    'aria-describedby': 'rotate-overlap-help' });
  const extra = h('div', { className: 'stack' },
    h('label', { for: 'rotate-overlap' }, 'Keep the old secret working for (seconds)'), overlap,
    h('p', { id: 'rotate-overlap-help', className: 'hint' }, '0 stops the old secret at once; at most 30 days.'));
  const ok = await confirmDialog({
    title: `Rotate key ${name}?`,
    body: 'The key gets a new secret. Clients using the old key string keep working during the overlap and are refused after it.',
    confirmLabel: 'Rotate key',
    extra,
  });
  if (!ok) return;
  try {
    const seconds = Math.max(0, Math.floor(Number(overlap.value) || 0));
    await ctx.api.rotateKey(ctx.app.id, k.id, seconds);
    await ctx.reloadKeys();
    announce(`Rotated key ${name}. Copy the new key string from the table.`);
    const row = rowOf(k.id);
    if (row) row.querySelector('.copy').focus();
  } catch (err) {
    if (!ctx.onAuthError(err)) {
      showError($('key-form-error'), err);
      announce(`Rotating key ${name} failed: ${messageOf(err)}`);
    }
  }
}

async function onRevoke(ctx, k) {
  const name = k.name || k.id;
  const ok = await confirmDialog({
    title: `Revoke key ${name}?`,
    body: `Every request, token and connection using ${k.appId}.${k.id} is refused at once. This cannot be undone.`,
    confirmLabel: 'Revoke key',
    danger: true,
  });
  if (!ok) return;
  try {
    await ctx.api.revokeKey(ctx.app.id, k.id);
    await ctx.reloadKeys();
    announce(`Revoked key ${name}.`);
    const row = rowOf(k.id);
    if (row) row.querySelector('.copy').focus();
  } catch (err) {
    if (!ctx.onAuthError(err)) {
      showError($('key-form-error'), err);
      announce(`Revoking key ${name} failed: ${messageOf(err)}`);
    }
  }
}

/** setup binds the form once. */
export function setup(ctx) {
  const form = $('key-form');
  form.addEventListener('submit', (e) => onCreate(ctx, e));
  form.addEventListener('change', (e) => {
    if (e.target.name === 'grant' || e.target.name === 'restrict') syncGrant();
  });
  $('cap-add').addEventListener('click', () => {
    const row = capRow();
    $('cap-rows').append(row);
    numberRows();
    row.querySelector('.cap-resource').focus();
  });
  resetForm();
}

/** show runs when the tab opens (the keys are loaded by then). */
export async function show() {}
