// Drives the Herald dashboard in Debian's headless Chromium (playwright-core)
// and checks what it does with the official Ably SDK: sign in with an access
// token, create a key with a capability and revocable tokens, use it (allowed
// channel, refused channel 40160), revoke a token with the revocation form,
// rotate the key (the new key string works), revoke the key with
// confirmation (40131), then the audit log, live counts, keyboard use, and
// that the page fetched nothing from elsewhere and logged no errors.
//
// run.sh starts the server and sets:
//   HERALD_URL, HERALD_PORT      the server (herald serve --dev on 127.0.0.1)
//   HERALD_ACCESS_TOKEN          the access token the first start printed
//   CHROMIUM                     the browser (default /usr/bin/chromium)
//   KEYS_SCREENSHOT              optional: write a PNG of the API Keys tab there
// The steps run in order and share state; a failed step saves a screenshot
// to artifacts/<step>.png.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Ably from 'ably';
import { chromium } from 'playwright-core';

const env = process.env;
const baseURL = env.HERALD_URL || 'http://127.0.0.1:8080';
const port = Number(env.HERALD_PORT || new URL(baseURL).port);
const accessToken = env.HERALD_ACCESS_TOKEN;
const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url));
const KEY_NAME = 'browser-test';

const sdkOptions = { endpoint: 'localhost', port, tls: false, logLevel: 0 };

let context;
let page;
let userDataDir;
const external = []; // requests to anything but the server
const pageErrors = []; // uncaught exceptions and console errors

// Shared by the steps, in order.
const state = { keyId: '', key: '', rotatedKey: '', token: '' };

before(async () => {
  assert.ok(accessToken, 'HERALD_ACCESS_TOKEN is not set: run ./run.sh');
  userDataDir = mkdtempSync(join(tmpdir(), 'herald-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(10_000);
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(baseURL) || url.startsWith('data:')) return route.continue();
    external.push(url);
    return route.abort();
  });
  page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(`console: ${msg.text()}`);
  });
});

after(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

/** step runs fn as a test and saves a screenshot when it fails. */
function step(name, fn) {
  test(name, async () => {
    try {
      await fn();
    } catch (err) {
      if (page) {
        mkdirSync(artifacts, { recursive: true });
        const file = join(artifacts, `${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
        await page.screenshot({ path: file, fullPage: true }).catch(() => {});
        console.error(`screenshot: ${file}`);
      }
      throw err;
    }
  });
}

/** expectRefused awaits p and checks that it fails with an Ably error code. */
async function expectRefused(p, codes, what) {
  const list = [codes].flat();
  try {
    await p;
  } catch (err) {
    assert.ok(list.includes(err.code), `${what}: got ${err.code} ${err.message}, want ${list.join(' or ')}`);
    return err;
  }
  assert.fail(`${what}: succeeded, want error ${list.join(' or ')}`);
}

function sdk(key) {
  return new Ably.Rest({ key, ...sdkOptions });
}

function keyRow() {
  return page.locator(`#keys-table tr[data-key-id="${state.keyId}"]`);
}

/** copyKey presses a key row's Copy button and returns what reached the clipboard. */
async function copyKey(row) {
  await page.evaluate(() => navigator.clipboard.writeText(''));
  await row.getByRole('button', { name: /^Copy the key string of/ }).click();
  await page.waitForFunction(async () => (await navigator.clipboard.readText()) !== '');
  return page.evaluate(() => navigator.clipboard.readText());
}

async function keyString() {
  return copyKey(keyRow());
}

async function announced(text) {
  await page.waitForFunction((t) => document.getElementById('announcer').textContent.includes(t), text);
}

step('refuses a wrong access token and signs in with the right one', async () => {
  await page.goto(`${baseURL}/dashboard`);
  await page.getByRole('heading', { name: 'Sign in to the dashboard' }).waitFor();
  await page.getByLabel('Access token').fill('not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: '40101' }).waitFor();

  await page.getByLabel('Access token').fill(accessToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const apps = page.getByRole('navigation', { name: 'Apps' });
  await apps.getByRole('link', { name: /default/ }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('herald.dashboard.accessToken')), accessToken);
  // A reload keeps the session (sessionStorage) and the only app opens.
  await page.reload();
  await page.getByRole('tab', { name: 'API Keys', selected: true }).waitFor();
  await apps.getByRole('link', { name: /default/ }).click();
  await page.getByRole('table', { name: 'API keys of this app' }).getByText('Root').waitFor();
});

step('creates a key with a capability and revocable tokens and lists it', async () => {
  const form = page.locator('#key-form');
  await form.getByLabel('Name', { exact: true }).fill(KEY_NAME);
  const resource = form.getByRole('group', { name: 'Resource 1' });
  await resource.getByLabel('Channel or queue pattern').fill('chat:*');
  await resource.getByLabel('publish', { exact: true }).check();
  await resource.getByLabel('subscribe', { exact: true }).uncheck();
  await resource.getByLabel('history', { exact: true }).check();
  await form.getByLabel('Revocable tokens').check();
  await form.getByRole('button', { name: 'Create key' }).click();

  await announced(`Created key ${KEY_NAME}`);
  const row = page.locator('#keys-table tr', { hasText: KEY_NAME });
  await row.waitFor();
  state.keyId = await row.getAttribute('data-key-id');
  assert.ok(state.keyId, 'the new row names its key');
  await assert.doesNotReject(row.getByText('revocable tokens').waitFor());
  assert.match(await row.locator('td').nth(1).innerText(), /chat:\*\s+history, publish/);
  state.key = await keyString();
  assert.match(state.key, new RegExp(`^[\\w-]+\\.${state.keyId}:[\\w-]+$`));
  // The secret is masked until shown.
  const field = row.getByRole('textbox', { name: `Key string of ${KEY_NAME}` });
  const secret = state.key.split(':')[1];
  assert.equal((await field.inputValue()).includes(secret), false, 'secret shown before Show');
  const show = row.getByRole('button', { name: `Show the secret of ${KEY_NAME}` });
  await show.click();
  assert.equal(await field.inputValue(), state.key);
  assert.equal(await show.getAttribute('aria-pressed'), 'true');
  await show.click();
  assert.equal((await field.inputValue()).includes(secret), false, 'secret still shown after hiding');

  if (env.KEYS_SCREENSHOT) {
    await page.locator('#app-detail').screenshot({ path: env.KEYS_SCREENSHOT });
  }
});

step('the SDK publishes with the new key on chat:* and is refused elsewhere (40160)', async () => {
  const rest = sdk(state.key);
  await rest.channels.get('chat:lobby').publish('greeting', 'hello from the dashboard test');
  const page1 = await rest.channels.get('chat:lobby').history();
  assert.equal(page1.items[0]?.data, 'hello from the dashboard test');
  await expectRefused(rest.channels.get('news:today').publish('x', 'no'), 40160, 'publish outside chat:*');
});

step('revokes a token with the revocation form', async () => {
  const td = await sdk(state.key).auth.requestToken({ clientId: 'alice' });
  state.token = td.token;
  await new Ably.Rest({ token: td.token, ...sdkOptions }).channels.get('chat:alice').publish('m', 'before');

  await page.getByRole('tab', { name: 'Token revocation' }).click();
  const form = page.locator('#revoke-form');
  await form.getByLabel('Key').selectOption(state.keyId);
  await form.getByLabel('Targets, one per line').fill('clientId:alice');
  await form.getByRole('button', { name: 'Revoke tokens' }).click();
  const dialog = page.getByRole('dialog', { name: /Revoke tokens of/ });
  await dialog.getByRole('button', { name: 'Revoke tokens' }).click();
  await page.locator('#revoke-results').getByText('Revoked tokens for 1 target.').waitFor();

  // Raw HTTP shows the server's 40141; the SDK, holding a bare token it
  // cannot renew, reports 40171.
  const res = await fetch(`${baseURL}/channels/chat:alice/messages`, {
    headers: { Authorization: `Bearer ${Buffer.from(state.token).toString('base64')}` },
  });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error.code, 40141);
  await expectRefused(new Ably.Rest({ token: state.token, ...sdkOptions }).channels.get('chat:alice').publish('m', 'after'),
    40171, 'publish with a revoked token');
  // The key itself still works.
  await sdk(state.key).channels.get('chat:lobby').publish('m', 'key still fine');
});

step('rotates the key; the new key string works and the old one stops', async () => {
  await page.getByRole('tab', { name: 'API Keys' }).click();
  await keyRow().getByRole('button', { name: `Rotate key ${KEY_NAME}` }).click();
  const dialog = page.getByRole('dialog', { name: `Rotate key ${KEY_NAME}?` });
  await dialog.getByLabel('Keep the old secret working for (seconds)').fill('0');
  await dialog.getByRole('button', { name: 'Rotate key' }).click();
  await announced(`Rotated key ${KEY_NAME}`);
  state.rotatedKey = await keyString();
  assert.notEqual(state.rotatedKey, state.key);
  assert.equal(state.rotatedKey.split(':')[0], state.key.split(':')[0], 'rotation keeps the key name');

  await sdk(state.rotatedKey).channels.get('chat:lobby').publish('m', 'with the new secret');
  await expectRefused(sdk(state.key).channels.get('chat:lobby').publish('m', 'old secret'), [40101, 40100],
    'publish with the old secret after a rotation without overlap');
});

step('revokes the key after confirmation; the SDK is refused (40131)', async () => {
  const revoke = keyRow().getByRole('button', { name: `Revoke key ${KEY_NAME}` });
  // Cancelling changes nothing and returns focus to the button.
  await revoke.click();
  const dialog = page.getByRole('dialog', { name: `Revoke key ${KEY_NAME}?` });
  await dialog.getByText('This cannot be undone').waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await revoke.evaluate((el) => el === document.activeElement), true, 'focus returns to the Revoke button');
  await sdk(state.rotatedKey).channels.get('chat:lobby').publish('m', 'still enabled');

  await revoke.click();
  await dialog.getByRole('button', { name: 'Revoke key' }).click();
  await announced(`Revoked key ${KEY_NAME}`);
  await keyRow().getByText('Revoked').waitFor();
  assert.equal(await keyRow().getByRole('button', { name: /Rotate|Revoke key/ }).count(), 0);
  await expectRefused(sdk(state.rotatedKey).channels.get('chat:lobby').publish('m', 'revoked'), 40131,
    'publish with a revoked key');
});

step('the audit log shows the changes', async () => {
  await page.getByRole('tab', { name: 'Audit log' }).click();
  const table = page.getByRole('table', { name: 'Audit entries, newest first' });
  for (const kind of ['key.create', 'tokens.revoke', 'key.rotate', 'key.revoke']) {
    await table.locator(`tr[data-kind="${kind}"]`).first().waitFor();
  }
  const created = await table.locator('tr[data-kind="key.create"]', { hasText: state.keyId }).innerText();
  assert.match(created, /accessToken:/);
  await page.getByLabel('Entries to show').selectOption({ label: 'Key changes' });
  await page.waitForFunction(() => [...document.querySelectorAll('#audit-table tbody tr[data-kind]')]
    .every((tr) => tr.dataset.kind.startsWith('key.')));
});

step('live counts show connections and messages', async () => {
  // A realtime connection with the app's root key, read from the key table.
  await page.getByRole('tab', { name: 'API Keys' }).click();
  const rootKey = await copyKey(page.locator('#keys-table tr', { hasText: 'Root' }));
  const realtime = new Ably.Realtime({ key: rootKey, ...sdkOptions });
  try {
    await realtime.connection.once('connected');
    await page.getByRole('tab', { name: 'Live counts' }).click();
    await page.waitForFunction(() => Number(document.getElementById('stat-connections')?.textContent) >= 1, null, { timeout: 15_000 });
    // Five publishes succeeded above (the minute may have turned since: the hour counts too).
    await page.locator('#stat-app-hour-messages-inbound-all-messages-count').waitFor();
    const published = await page.locator('#stat-app-minute-messages-inbound-all-messages-count, #stat-app-hour-messages-inbound-all-messages-count')
      .allInnerTexts();
    assert.ok(published.some((t) => Number(t.replace(/\D/g, '')) >= 5), `messages published: ${published}`);
  } finally {
    realtime.close();
  }
});

step('tabs work from the keyboard and sign-out clears the session', async () => {
  await page.getByRole('tab', { name: 'Live counts' }).focus();
  await page.keyboard.press('Home');
  await page.getByRole('tab', { name: 'API Keys', selected: true }).waitFor();
  await page.keyboard.press('ArrowRight');
  const revocation = page.getByRole('tab', { name: 'Token revocation', selected: true });
  await revocation.waitFor();
  assert.equal(await revocation.evaluate((el) => el === document.activeElement), true);
  assert.equal(await page.getByRole('tabpanel', { name: 'Token revocation' }).isVisible(), true);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Access token').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('herald.dashboard.accessToken')), null);
});

step('the page fetched nothing from elsewhere and logged no unexpected errors', async () => {
  await sleep(100);
  assert.deepEqual(external, [], 'requests outside the server');
  // The deliberate wrong-token sign-in logs one failed request (401).
  const unexpected = pageErrors.filter((e) => !(e.startsWith('console:') && e.includes('401')));
  assert.deepEqual(unexpected, []);
});
