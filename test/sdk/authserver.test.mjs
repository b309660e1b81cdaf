// `herald authserver`: a browser-style ably-js client with authUrl (JWT)
// or authCallback (TokenRequest) pointed at the auth server connects to
// Herald with exactly the policy's templated capability, and renews
// through the auth server when its token expires (docs/auth-guide.md;
// ably-auth.md §3.2-3.3, §4.1, §8.4).
//
// Each spec starts its own auth server processes from HERALD_BIN, on
// 127.0.0.1:0, and reads the bound address from stdout. sdk_test.go runs
// Herald with AuthLeadTime 3 s, so a 5 s policy TTL renews in-band within
// seconds.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Ably from 'ably';

import {
  clientOptions, closeClient, deleteApp, expectAblyError, protocol, provisionApp, sleep, waitForState,
} from './helpers.mjs';

const BIN = process.env.HERALD_BIN;

const OPS = ['publish', 'subscribe', 'presence'];

function policy(ttl) {
  return {
    capability: { 'chat:{clientId}': OPS, notifications: ['subscribe'] },
    clientId: '{user}',
    ttl,
  };
}

/** The capability the policy gives user, in canonical form. */
function expectedCapability(user) {
  return JSON.stringify({ [`chat:${user}`]: [...OPS].sort(), notifications: ['subscribe'] });
}

/**
 * Starts `herald authserver` with key, policy and a bearer file mapping
 * users to secrets; resolves once it prints its address.
 */
async function startAuthServer(dir, name, key, pol, users) {
  const policyFile = join(dir, `${name}-policy.json`);
  const bearerFile = join(dir, `${name}-bearers.json`);
  writeFileSync(policyFile, JSON.stringify(pol));
  writeFileSync(bearerFile, JSON.stringify(users));
  // Leave out the harness's HERALD_* variables: the CLI reads HERALD_<FLAG>.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
  const child = spawn(
    BIN,
    ['authserver', '--key', key, '--policy', policyFile, '--bearer-file', bearerFile,
      '--listen', '127.0.0.1:0', '--rate', '20', '--burst', '50'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`authserver did not start: ${stderr}`)), 15_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`authserver exited with ${code}: ${stderr}`));
    });
  });
  return {
    base,
    logs: () => stderr,
    /** How many tokens the server issued to user on path. */
    issued: (user, path) =>
      stderr.split('\n').filter((l) => l.includes('msg="token issued"') && l.includes(`path=${path} `) && l.includes(`user=${user} `)).length,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

async function withClient(opts, fn) {
  const c = new Ably.Realtime(clientOptions(opts));
  try {
    return await fn(c);
  } finally {
    await closeClient(c);
  }
}

function jwtClaims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

/** Publishing on the user's own channel works; elsewhere it is 40160. */
async function checkTemplatedCapability(c, user) {
  const own = c.channels.get(`chat:${user}`);
  const got = [];
  await own.subscribe((m) => got.push(m));
  await own.publish('hello', 'own channel');
  for (let i = 0; i < 50 && got.length === 0; i++) await sleep(50);
  assert.equal(got.length, 1, 'own-channel message delivered');
  assert.equal(got[0].clientId, user);
  await expectAblyError(c.channels.get(`chat:someone-else-${user}`).attach(), 40160, 401);
  await expectAblyError(c.channels.get(`chat:${user}:sub`).attach(), 40160, 401);
  const notes = c.channels.get('notifications');
  await notes.attach(); // subscribe is granted
  await expectAblyError(notes.publish('x', 'y'), 40160, 401);
}

describe(`herald authserver (${protocol})`, { skip: !BIN && 'HERALD_BIN is not set' }, () => {
  let app;
  let dir;
  let long; // ttl 1h
  let short; // ttl 5s
  const suffix = randomBytes(3).toString('hex');
  const alice = `alice-${suffix}`;
  const eve = `eve:*-${suffix}`; // would widen chat:{clientId}
  const secrets = { [alice]: `alice-secret-${randomBytes(12).toString('hex')}`, [eve]: `eve-secret-${randomBytes(12).toString('hex')}` };
  const bearer = (user) => ({ Authorization: `Bearer ${secrets[user]}` });

  before(async () => {
    app = await provisionApp({ keys: [{}] });
    dir = mkdtempSync(join(tmpdir(), 'herald-authserver-'));
    long = await startAuthServer(dir, 'long', app.keys[0].keyStr, policy('1h'), secrets);
    short = await startAuthServer(dir, 'short', app.keys[0].keyStr, policy('5s'), secrets);
  });

  after(async () => {
    await Promise.all([long?.stop(), short?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (app) await deleteApp(app);
  });

  test('the JWT carries exactly the templated capability and clientId', async () => {
    const res = await fetch(`${long.base}/token`, { headers: bearer(alice) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/jwt');
    const claims = jwtClaims(await res.text());
    assert.equal(claims['x-ably-capability'], expectedCapability(alice));
    assert.equal(claims['x-ably-clientId'], alice);
    assert.equal(claims.exp - claims.iat, 3600);
  });

  test('authUrl (JWT): connects with the templated capability', () =>
    withClient({ authUrl: `${long.base}/token`, authHeaders: bearer(alice) }, async (c) => {
      await waitForState(c.connection, 'connected');
      assert.equal(c.auth.clientId, alice);
      await checkTemplatedCapability(c, alice);
      assert.ok(long.issued(alice, '/token') >= 1);
    }));

  test('authCallback (TokenRequest): connects with the templated capability', async () => {
    let calls = 0;
    const authCallback = (params, done) => {
      calls++;
      fetch(`${long.base}/token-request`, { headers: bearer(alice) })
        .then(async (r) => (r.ok ? r.json() : Promise.reject(new Error(`auth server ${r.status}: ${await r.text()}`))))
        .then((tr) => done(null, tr), (err) => done(err, null));
    };
    await withClient({ authCallback }, async (c) => {
      await waitForState(c.connection, 'connected');
      assert.equal(c.auth.clientId, alice);
      assert.equal(c.auth.tokenDetails.capability, expectedCapability(alice), 'TokenDetails from Herald');
      await checkTemplatedCapability(c, alice);
      assert.ok(calls >= 1);
    });
  });

  test('authUrl (JWT): a 5 s token is renewed through the auth server, connection stays up', { timeout: 40_000 }, (t) =>
    withClient({ authUrl: `${short.base}/token`, authHeaders: bearer(alice) }, async (c) => {
      const before = short.issued(alice, '/token');
      await waitForState(c.connection, 'connected');
      const id = c.connection.id;
      const first = c.auth.tokenDetails.token;
      const changes = [];
      c.connection.on((ch) => changes.push(ch));
      await sleep(8000);
      const left = changes.filter((x) => x.current !== 'connected');
      assert.deepEqual(left.map((x) => `${x.current} (${x.reason?.code})`), [], 'connection left connected');
      assert.equal(c.connection.id, id, 'same connection across renewals');
      const fetched = short.issued(alice, '/token') - before;
      t.diagnostic(`authUrl fetched ${fetched} time(s) in 8 s`);
      assert.ok(fetched >= 2, `authUrl fetched ${fetched} time(s)`);
      assert.notEqual(c.auth.tokenDetails.token, first, 'a new JWT is in use');
      await checkTemplatedCapability(c, alice);
    }));

  test('authCallback (TokenRequest): a 5 s token is renewed through the auth server', { timeout: 40_000 }, async (t) => {
    let calls = 0;
    const authCallback = (params, done) => {
      calls++;
      fetch(`${short.base}/token-request`, { headers: bearer(alice) })
        .then((r) => r.json())
        .then((tr) => done(null, tr), (err) => done(err, null));
    };
    await withClient({ authCallback }, async (c) => {
      await waitForState(c.connection, 'connected');
      const id = c.connection.id;
      const changes = [];
      c.connection.on((ch) => changes.push(ch));
      await sleep(8000);
      const left = changes.filter((x) => x.current !== 'connected');
      assert.deepEqual(left.map((x) => `${x.current} (${x.reason?.code})`), [], 'connection left connected');
      assert.equal(c.connection.id, id);
      t.diagnostic(`authCallback called ${calls} time(s) in 8 s`);
      assert.ok(calls >= 2, `authCallback called ${calls} time(s)`);
      assert.ok(short.issued(alice, '/token-request') >= 2);
      await checkTemplatedCapability(c, alice);
    });
  });

  test('a user whose name would widen the grant gets no token (403: the SDK stops)', async () => {
    const res = await fetch(`${long.base}/token`, { headers: bearer(eve) });
    assert.equal(res.status, 403);
    const body = await res.json();
    assert.equal(body.error.code, 40300);
    await withClient({ authUrl: `${long.base}/token`, authHeaders: bearer(eve) }, async (c) => {
      const change = await waitForState(c.connection, 'failed');
      assert.equal(change.reason?.statusCode, 403, JSON.stringify(change.reason));
    });
  });

  test('wrong bearer secret: 401', async () => {
    const res = await fetch(`${long.base}/token`, { headers: { Authorization: 'Bearer not-the-secret-at-all' } });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error.code, 40101);
  });

  test('the auth server logs no secrets or tokens', () => {
    for (const s of [long, short]) {
      const logs = s.logs();
      assert.ok(logs.includes('token issued'), 'it logs');
      for (const secret of [app.keys[0].keySecret, ...Object.values(secrets), 'eyJ']) {
        assert.ok(!logs.includes(secret), `log contains ${secret.slice(0, 6)}...`);
      }
    }
  });
});
