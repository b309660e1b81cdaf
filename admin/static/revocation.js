// Token revocation tab: revokes tokens issued by a key with revocable
// tokens through the Ably REST endpoint POST /keys/{keyName}/revokeTokens,
// authenticated with that key (RSA17; the Control API has no such call).

import { revokeTokens } from './api.js';
import { $, h, replace, showError, messageOf, fmtTime, confirmDialog } from './dom.js';

const MAX_TARGETS = 100;

function revocableKeys(ctx) {
  return ctx.keys.filter((k) => k.status === 0 && k.revocableTokens);
}

/** render fills the key selector from ctx.keys. */
export function render(ctx) {
  const keys = revocableKeys(ctx);
  const select = $('revoke-key');
  const previous = ctx.preselectKey || select.value;
  replace(select, keys.map((k) => h('option', { value: k.id, selected: k.id === previous },
    `${k.name || '(unnamed)'} — ${k.appId}.${k.id}`)));
  ctx.preselectKey = '';
  $('revoke-none').hidden = keys.length > 0;
  $('revoke-form').hidden = keys.length === 0;
}

/** parseTargets reads one type:value target per line. */
function parseTargets(text) {
  const targets = text.split('\n').map((s) => s.trim()).filter(Boolean);
  if (!targets.length) throw new Error('List at least one target, such as clientId:alice.');
  if (targets.length > MAX_TARGETS) throw new Error(`List at most ${MAX_TARGETS} targets.`);
  const bad = targets.find((t) => !/^(clientId|revocationKey|channel):.+/.test(t));
  if (bad) throw new Error(`“${bad}” is not a target: write clientId:…, revocationKey:… or channel:….`);
  return targets;
}

function showResults(res) {
  const results = (res && res.results) || [];
  const ok = res && typeof res.successCount === 'number' ? res.successCount : results.filter((r) => !r.error).length;
  const failed = results.length - ok;
  const summary = failed
    ? `Revoked tokens for ${ok} of ${results.length} targets; ${failed} failed.`
    : `Revoked tokens for ${ok} target${ok === 1 ? '' : 's'}.`;
  const rows = results.map((r) => h('tr', {},
    h('th', { scope: 'row' }, h('code', {}, r.target)),
    h('td', {}, r.error ? h('span', { className: 'error' }, messageOf(r.error))
      : `Tokens issued before ${fmtTime(r.issuedBefore)} are refused from ${fmtTime(r.appliesAt)}.`)));
  replace($('revoke-results'), h('p', { className: failed ? 'error' : 'ok' }, summary),
    h('table', { className: 'data' }, h('caption', {}, 'Revocation results'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Target'), h('th', { scope: 'col' }, 'Result'))),
      h('tbody', {}, rows)));
}

async function onSubmit(ctx, e) {
  e.preventDefault();
  const errEl = $('revoke-error');
  const key = ctx.keys.find((k) => k.id === $('revoke-key').value);
  let targets;
  let issuedBefore = 0;
  try {
    if (!key) throw Object.assign(new Error('Pick a key.'), { el: $('revoke-key') });
    targets = parseTargets($('revoke-targets').value);
    const before = $('revoke-before').value;
    if (before) {
      issuedBefore = new Date(before).getTime();
      if (Number.isNaN(issuedBefore)) throw Object.assign(new Error('Issued before is not a date and time.'), { el: $('revoke-before') });
    }
  } catch (err) {
    showError(errEl, err);
    (err.el || $('revoke-targets')).focus();
    return;
  }
  showError(errEl, null);
  const confirmed = await confirmDialog({
    title: `Revoke tokens of ${key.name || key.id}?`,
    body: `Tokens issued by ${key.appId}.${key.id} ${issuedBefore ? `before ${fmtTime(issuedBefore)}` : 'until now'} ` +
      `for ${targets.join(', ')} stop working${$('revoke-margin').checked ? ' after a 30-second margin' : ' at once'}.`,
    confirmLabel: 'Revoke tokens',
    danger: true,
  });
  if (!confirmed) return;
  try {
    const res = await revokeTokens(key.key, { targets, issuedBefore, allowReauthMargin: $('revoke-margin').checked });
    showResults(res); // #revoke-results is a live region: the summary is read out
  } catch (err) {
    replace($('revoke-results'));
    showError(errEl, err);
  }
}

/** setup binds the form once. */
export function setup(ctx) {
  $('revoke-form').addEventListener('submit', (e) => onSubmit(ctx, e));
}

/** show runs when the tab opens. */
export async function show(ctx) {
  render(ctx);
}
