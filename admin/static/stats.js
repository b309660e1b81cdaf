// Live counts tab: server-wide gauges and counters from /metrics, and the
// app's counts for the current minute and hour from the REST /stats
// endpoint, read with one of the app's keys that may see stats. Polls every
// 5 seconds while the tab is open and the page is visible.

import { metrics, latestStats } from './api.js';
import { $, h, replace, showError, messageOf } from './dom.js';

const INTERVAL_MS = 5000;

const SERVER_COUNTERS = [
  ['herald_connections', 'Realtime connections open now', 'stat-connections'],
  ['herald_connections_opened_total', 'Realtime connections opened since start', 'stat-connections-opened'],
  ['herald_messages_in_total', 'Realtime messages received since start', 'stat-messages-in'],
  ['herald_messages_out_total', 'Realtime messages delivered since start', 'stat-messages-out'],
];

const APP_COUNTERS = [
  ['messages.inbound.all.messages.count', 'Messages published'],
  ['messages.outbound.all.messages.count', 'Messages delivered'],
  ['connections.all.opened', 'Connections opened'],
  ['apiRequests.all.succeeded', 'REST requests'],
];

let timer = 0;

/** statsKey picks an enabled key that may read the app's stats, preferring the narrowest. */
function statsKey(keys) {
  const grants = (k) => ['*', '[*]*'].some((res) => {
    const ops = k.capability && k.capability[res];
    return Array.isArray(ops) && (ops.includes('stats') || ops.includes('*'));
  });
  const usable = keys.filter((k) => k.status === 0 && grants(k));
  return usable.find((k) => !Object.values(k.capability).some((ops) => ops.includes('*'))) || usable[0] || null;
}

function counters(list) {
  // A div may group a dt with its dd (HTML dl content model).
  return list.map(([label, value, id]) => h('div', {}, h('dt', {}, label), h('dd', { id: id || null }, value)));
}

function fmt(n) {
  return typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString() : '—';
}

async function refreshServer() {
  const m = await metrics();
  replace($('stats-server'), counters(SERVER_COUNTERS.map(([name, label, id]) => [label, fmt(m[name] || 0), id])));
}

async function refreshApp(ctx) {
  const key = statsKey(ctx.keys);
  if (!key) {
    $('stats-app-note').textContent = 'No enabled key of this app grants the stats operation on * or [*]*, so the app\'s counts cannot be read.';
    replace($('stats-app'));
    return;
  }
  $('stats-app-note').textContent = `Read with key ${key.name || key.id} (${key.appId}.${key.id}) from GET /stats.`;
  const now = new Date();
  const minute = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), now.getUTCHours(), now.getUTCMinutes());
  const hour = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), now.getUTCHours());
  const [m, hr] = await Promise.all([latestStats(key.key, 'minute', minute), latestStats(key.key, 'hour', hour)]);
  const val = (iv, name) => (iv && iv.entries && iv.entries[name]) || 0;
  const list = [];
  for (const [name, label] of APP_COUNTERS) {
    const slug = name.replace(/[^a-z]+/gi, '-');
    list.push([`${label}, this minute`, fmt(val(m, name)), `stat-app-minute-${slug}`]);
    list.push([`${label}, this hour`, fmt(val(hr, name)), `stat-app-hour-${slug}`]);
  }
  replace($('stats-app'), counters(list));
}

async function refresh(ctx) {
  const errors = [];
  await Promise.all([
    refreshServer().catch((err) => errors.push(`Server counts: ${messageOf(err)}`)),
    refreshApp(ctx).catch((err) => errors.push(`App counts: ${messageOf(err)}`)),
  ]);
  showError($('stats-error'), errors.length ? { message: errors.join(' ') } : null);
  $('stats-updated').textContent = `Last updated ${new Date().toLocaleTimeString()}.`;
}

/** stop ends polling (tab closed, app changed or signed out). */
export function stop() {
  clearInterval(timer);
  timer = 0;
}

/** setup pauses polling while the page is hidden. */
export function setup(ctx) {
  document.addEventListener('visibilitychange', () => {
    if (ctx.tab === 'stats' && ctx.app && !document.hidden && timer) refresh(ctx);
  });
}

/** show refreshes now and every INTERVAL_MS while the tab stays open. */
export async function show(ctx) {
  stop();
  timer = setInterval(() => {
    if (!document.hidden && ctx.tab === 'stats' && ctx.app) refresh(ctx);
  }, INTERVAL_MS);
  await refresh(ctx);
}
