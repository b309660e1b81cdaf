// Audit log tab: GET /v1/apps/{id}/audit, newest first, filtered by kind,
// with "Load older entries" following the Link rel="next" header.

import { $, h, replace, announce, showError, fmtTime } from './dom.js';

const KIND_LABELS = {
  'app.create': 'App created',
  'app.update': 'App changed',
  'app.delete': 'App deleted',
  'key.create': 'Key created',
  'key.update': 'Key changed',
  'key.revoke': 'Key revoked',
  'key.rotate': 'Key rotated',
  'accessToken.create': 'Access token created',
  'accessToken.revoke': 'Access token revoked',
  'tokens.revoke': 'Tokens revoked',
  'token.issue': 'Tokens issued',
  'auth.failure': 'Authentication refused',
};

let next = '';
let loading = null;

/** detailText renders an entry's details object as "name: value" pairs. */
function detailText(e) {
  const parts = [];
  if (e.count > 1) parts.push(`${e.count} times`);
  if (e.code) parts.push(`error ${e.code}`);
  if (e.address) parts.push(`from ${e.address}`);
  if (e.details && typeof e.details === 'object') {
    for (const [k, v] of Object.entries(e.details)) {
      const value = typeof v === 'object' ? JSON.stringify(v) : String(v);
      parts.push(`${k}: ${/(^|[a-z])(At|Before|Expires)$|^issuedBefore$|^appliesAt$/.test(k) && typeof v === 'number' ? fmtTime(v) : value}`);
    }
  }
  return parts.join(' · ');
}

function row(e) {
  return h('tr', { 'data-kind': e.kind },
    h('td', {}, h('time', { dateTime: new Date(e.time).toISOString() }, fmtTime(e.time))),
    h('td', {}, KIND_LABELS[e.kind] || e.kind, ' ', h('code', { className: 'hint' }, e.kind)),
    h('td', {}, e.actor || '—'),
    h('td', {}, e.target ? h('code', {}, e.target) : '—'),
    h('td', { className: 'details' }, detailText(e)));
}

async function load(ctx, append) {
  const errEl = $('audit-error');
  const body = $('audit-table').tBodies[0];
  try {
    const page = await ctx.api.audit(ctx.app.id, append ? { url: next } : { kind: $('audit-kind').value });
    showError(errEl, null);
    next = page.next;
    const rows = page.entries.map(row);
    if (append) body.append(...rows);
    else replace(body, rows.length ? rows : h('tr', {}, h('td', { colSpan: 5 }, 'No entries.')));
    $('audit-more').hidden = !next;
    return page.entries.length;
  } catch (err) {
    if (!ctx.onAuthError(err)) showError(errEl, err);
    return 0;
  }
}

/** setup binds the filter and the "Load older entries" button once. */
export function setup(ctx) {
  $('audit-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const n = await load(ctx, false);
    announce(`Audit log refreshed: ${n} entries.`);
  });
  $('audit-kind').addEventListener('change', () => load(ctx, false));
  $('audit-more').addEventListener('click', async () => {
    const n = await load(ctx, true);
    announce(`Loaded ${n} older entries.`);
    if ($('audit-more').hidden) $('audit-table').focus();
  });
}

/** show loads the newest entries. */
export async function show(ctx) {
  if (loading) return loading;
  loading = load(ctx, false).finally(() => { loading = null; });
  return loading;
}
