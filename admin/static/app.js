// Herald dashboard entry point: sign-in with an access token (kept in
// sessionStorage), the apps list, the hash router (#/apps/{id}/{tab}) and the
// app tabs. Each tab lives in its own module with setup(ctx) and show(ctx).

import { ControlAPI } from './api.js';
import { $, h, replace, announce, showError, fmtTime } from './dom.js';
import * as keys from './keys.js';
import * as revocation from './revocation.js';
import * as audit from './audit.js';
import * as stats from './stats.js';

const TOKEN_KEY = 'herald.dashboard.accessToken';
const TABS = { keys, revocation, audit, stats };
const TAB_NAMES = Object.keys(TABS);

/**
 * ctx is what the tabs share: the Control API client, the signed-in token
 * (me), the selected app and its keys. reloadKeys refreshes the keys and
 * every tab that shows them.
 */
const ctx = {
  api: null,
  me: null,
  apps: [],
  app: null,
  keys: [],
  tab: 'keys',
  can(cap) { return Boolean(this.me && this.me.token.capabilities.includes(cap)); },
  async reloadKeys() {
    if (!this.app) return;
    this.keys = await this.api.keys(this.app.id);
    keys.render(this);
    revocation.render(this);
  },
  /** Opens tab of the current app (used by the key table's shortcuts). */
  openTab(tab, focus = true) { location.hash = `#/apps/${encodeURIComponent(this.app.id)}/${tab}`; if (focus) pendingFocus = tab; },
  /** Signs out when the Control API says the token no longer works. */
  onAuthError(err) {
    if (err && err.statusCode === 401) {
      signOut(`Signed out: ${err.message}`);
      return true;
    }
    return false;
  },
};

let pendingFocus = '';

function showView(name) {
  $('login-view').hidden = name !== 'login';
  $('dashboard-view').hidden = name !== 'dashboard';
  $('logout').hidden = name !== 'dashboard';
}

function signOut(message = '') {
  sessionStorage.removeItem(TOKEN_KEY);
  stats.stop();
  Object.assign(ctx, { api: null, me: null, apps: [], app: null, keys: [] });
  $('account').textContent = '';
  showView('login');
  showError($('login-error'), message ? { message } : null);
  $('login-token').value = '';
  $('login-token').focus();
  if (!message) announce('Signed out.');
}

/** signIn checks token with GET /v1/me and loads the apps. */
async function signIn(token) {
  const api = new ControlAPI(document.body.dataset.controlApi || '/v1', token);
  const me = await api.me();
  // A token that cannot list apps (no read:app) is of no use here: refuse
  // it on the sign-in form rather than show an empty dashboard.
  const apps = await api.apps(me.account.id);
  Object.assign(ctx, { api, me, apps });
  sessionStorage.setItem(TOKEN_KEY, token);
  $('account').textContent = `Account ${me.account.name} (${me.account.id}) · access token “${me.token.name || me.token.id}”`;
  showView('dashboard');
  renderApps();
  route();
}

async function loadApps() {
  ctx.apps = await ctx.api.apps(ctx.me.account.id);
  renderApps();
}

function renderApps() {
  const current = ctx.app && ctx.app.id;
  const items = ctx.apps.map((a) => h('li', {},
    h('a', { href: `#/apps/${encodeURIComponent(a.id)}/keys`, 'aria-current': a.id === current ? 'page' : null },
      a.name || a.id, ' ', h('span', { className: 'hint' }, `(${a.id})`),
      a.status !== 'enabled' ? h('span', { className: 'badge' }, a.status) : null)));
  replace($('app-list'), items.length ? items : h('li', { className: 'hint' }, 'No apps yet.'));
  $('create-app-form').hidden = !ctx.can('write:app');
}

/** route renders the app and tab named by the location hash. */
function route() {
  if (!ctx.api) return;
  const m = location.hash.match(/^#\/apps\/([^/]+)(?:\/([a-z]+))?/);
  let app = m ? ctx.apps.find((a) => a.id === decodeURIComponent(m[1])) : null;
  if (!app && !m && ctx.apps.length === 1) app = ctx.apps[0];
  const tab = m && TAB_NAMES.includes(m[2]) ? m[2] : 'keys';
  const changedApp = app !== ctx.app;
  ctx.app = app || null;
  renderApps();
  if (!app) {
    $('app-title').textContent = m ? 'No such app' : 'Select an app';
    $('app-meta').textContent = m ? `There is no app “${decodeURIComponent(m[1])}” in this account.` : '';
    $('app-tabs').hidden = true;
    stats.stop();
    return;
  }
  $('app-title').textContent = app.name || app.id;
  $('app-meta').textContent = `App ID ${app.id} · ${app.status} · created ${fmtTime(app.created)}` +
    (app.revokeByChannel ? ' · revocation by channel enabled' : '');
  $('app-tabs').hidden = false;
  selectTab(tab, changedApp);
  if (changedApp) {
    document.title = `${app.name || app.id} · Herald dashboard`;
    if (!pendingFocus) $('app-title').focus();
  }
}

async function selectTab(tab, reload) {
  ctx.tab = tab;
  for (const name of TAB_NAMES) {
    const t = $(`tab-${name}`);
    const on = name === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    $(`panel-${name}`).hidden = !on;
  }
  if (tab !== 'stats') stats.stop();
  if (pendingFocus === tab) {
    pendingFocus = '';
    $(`tab-${tab}`).focus();
  }
  try {
    if (reload || tab === 'keys' || tab === 'revocation' || !ctx.keys.length) {
      ctx.keys = await ctx.api.keys(ctx.app.id);
      keys.render(ctx);
      revocation.render(ctx);
    }
    await TABS[tab].show(ctx);
  } catch (err) {
    if (!ctx.onAuthError(err)) {
      showError($(tab === 'keys' ? 'key-form-error' : tab === 'audit' ? 'audit-error' : tab === 'stats' ? 'stats-error' : 'revoke-error'), err);
    }
  }
}

/** Arrow keys, Home and End move between tabs (WAI-ARIA tabs pattern). */
function onTabKey(e) {
  const i = TAB_NAMES.indexOf(ctx.tab);
  let next = -1;
  if (e.key === 'ArrowRight') next = (i + 1) % TAB_NAMES.length;
  else if (e.key === 'ArrowLeft') next = (i - 1 + TAB_NAMES.length) % TAB_NAMES.length;
  else if (e.key === 'Home') next = 0;
  else if (e.key === 'End') next = TAB_NAMES.length - 1;
  if (next < 0) return;
  e.preventDefault();
  ctx.openTab(TAB_NAMES[next]);
}

function bind() {
  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = $('login-token').value.trim();
    if (!token) {
      showError($('login-error'), { message: 'Enter an access token.' });
      $('login-token').focus();
      return;
    }
    showError($('login-error'), null);
    try {
      await signIn(token);
      announce(`Signed in to ${ctx.me.account.name}.`);
    } catch (err) {
      showError($('login-error'), err);
      $('login-token').focus();
    }
  });
  $('logout').addEventListener('click', () => signOut());
  $('create-app-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = $('new-app-name').value.trim();
    const errEl = $('create-app-error');
    if (!name) {
      showError(errEl, { message: 'Enter a name for the app.' });
      return;
    }
    try {
      const app = await ctx.api.createApp(ctx.me.account.id, name);
      showError(errEl, null);
      $('new-app-name').value = '';
      await loadApps();
      announce(`Created app ${app.name} (${app.id}) with a root key.`);
      location.hash = `#/apps/${encodeURIComponent(app.id)}/keys`;
    } catch (err) {
      if (!ctx.onAuthError(err)) showError(errEl, err);
    }
  });
  for (const name of TAB_NAMES) {
    const t = $(`tab-${name}`);
    t.addEventListener('click', () => ctx.openTab(name, false));
    t.addEventListener('keydown', onTabKey);
  }
  window.addEventListener('hashchange', route);
  for (const tab of Object.values(TABS)) tab.setup(ctx);
}

async function start() {
  bind();
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    showView('login');
    return;
  }
  try {
    await signIn(token);
  } catch (err) {
    signOut(`Your session ended: ${err.message}`);
  }
}

start();
