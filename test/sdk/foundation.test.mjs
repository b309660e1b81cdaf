// Foundation: sandbox-style provisioning, GET /time, GET /stats and the
// REST error mapping for bad, unknown, revoked and deleted keys, seen
// through the official ably-js SDK (protocol.md §B, §C; ably-auth.md §2, §10).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Ably from 'ably';

import {
  KEY,
  appSetup,
  clientOptions,
  deleteApp,
  eventually,
  expectAblyError,
  haveCLI,
  host,
  port,
  postApps,
  protocol,
  provisionApp,
  revokeKeyWithCLI,
  sleep,
} from './helpers.mjs';

const ROOT_CAPABILITY = '{"*":["*"]}';
const MINUTE_ID = /^\d{4}-\d{2}-\d{2}:\d{2}:\d{2}$/; // yyyy-mm-dd:hh:mm
const HOUR_ID = /^\d{4}-\d{2}-\d{2}:\d{2}$/; // yyyy-mm-dd:hh
const SUCCEEDED = 'apiRequests.all.succeeded';

function rest(key, extra = {}) {
  return new Ably.Rest({ key, ...clientOptions(extra) });
}

function succeeded(item) {
  return (item.entries && item.entries[SUCCEEDED]) || 0;
}

describe(`foundation (${protocol})`, () => {
  let request; // the body sent to POST /apps
  let app; // its 201 response
  let deleted = false;

  before(async () => {
    request = appSetup();
    app = await provisionApp(request);
  });

  after(async () => {
    if (app && !deleted) await deleteApp(app);
  });

  describe('POST /apps', () => {
    test('answers with the sandbox response shape', () => {
      assert.equal(typeof app.appId, 'string');
      assert.ok(app.appId.length > 0, 'appId is empty');
      assert.equal(typeof app.accountId, 'string');
      assert.ok(app.accountId.length > 0, 'accountId is empty');
      assert.equal(app.keys.length, request.keys.length, 'one key per requested key');
      assert.equal(app.namespaces.length, request.namespaces.length, 'one namespace per requested namespace');
      assert.equal(app.endpoint, host, 'endpoint is the host the request was sent to');
      assert.equal(app.port, port);
      assert.equal(app.tls, false);
    });

    test('returns keys in request order with consistent names and secrets', () => {
      const ids = new Set();
      app.keys.forEach((k, i) => {
        const where = `keys[${i}]`;
        assert.equal(typeof k.id, 'string', `${where}.id`);
        assert.ok(!ids.has(k.id), `${where}.id ${k.id} repeats`);
        ids.add(k.id);
        assert.equal(k.keyName, `${app.appId}.${k.id}`, `${where}.keyName`);
        assert.ok(k.keySecret.length > 0, `${where}.keySecret is empty`);
        assert.equal(k.value, k.keySecret, `${where}.value is the secret`);
        assert.equal(k.keyStr, `${k.keyName}:${k.keySecret}`, `${where}.keyStr`);
        const asked = request.keys[i].capability;
        assert.equal(k.capability, asked ?? ROOT_CAPABILITY, `${where}.capability`);
      });
    });

    test('gives a key without a capability {"*":["*"]}', () => {
      assert.equal(app.keys[KEY.root].capability, ROOT_CAPABILITY);
    });

    test('keeps a capability with unsorted ops exactly as written', () => {
      const cap = app.keys[KEY.channels].capability;
      assert.ok(
        cap.includes('"room-c":["publish","subscribe","push-subscribe"]'),
        `capability was rewritten: ${cap}`,
      );
      assert.equal(cap, request.keys[KEY.channels].capability);
    });

    test('echoes namespaces and channels in request order', () => {
      assert.deepEqual(app.namespaces.map((n) => n.id), request.namespaces.map((n) => n.id));
      assert.deepEqual(app.channels.map((c) => c.name), request.channels.map((c) => c.name));
    });

    test('refuses an invalid capability with an Ably error naming the field', async () => {
      const body = appSetup();
      body.keys[1].capability = '{"x":["publish_"]}';
      const res = await postApps(body);
      assert.equal(res.status, 400, `status: ${JSON.stringify(res.body)}`);
      assert.equal(res.headers.get('content-type'), 'application/json');
      const err = res.body && res.body.error;
      assert.ok(err && typeof err === 'object', `no error object in ${JSON.stringify(res.body)}`);
      assert.ok(Number.isInteger(err.code) && err.code >= 40000 && err.code <= 40099, `code ${err.code}`);
      assert.equal(err.statusCode, 400);
      assert.equal(typeof err.message, 'string');
      assert.ok(err.message.includes('keys[1].capability'), `message: ${err.message}`);
      assert.equal(typeof err.href, 'string');
      assert.ok(err.href.endsWith(String(err.code)), `href: ${err.href}`);
    });
  });

  describe('time()', () => {
    test('is close to the local clock', async () => {
      const t0 = Date.now();
      const t = await rest(app.keys[KEY.root].keyStr).time();
      const t1 = Date.now();
      assert.equal(typeof t, 'number');
      assert.ok(t >= t0 - 2000 && t <= t1 + 2000, `server time ${t} vs local ${t0}..${t1}`);
    });
  });

  describe('stats()', () => {
    test('counts succeeded REST requests in per-minute intervals', async () => {
      const client = rest(app.keys[KEY.root].keyStr);
      const first = await client.stats();
      assert.ok(Array.isArray(first.items), 'stats() returns a PaginatedResult with items');
      assert.equal(typeof first.hasNext, 'function');
      for (let i = 0; i < 3; i++) await client.stats();

      const item = await eventually(
        async () => (await client.stats()).items.find((it) => succeeded(it) >= 1),
        { timeoutMs: 5000, intervalMs: 250, what: `a stats item with ${SUCCEEDED} >= 1` },
      );
      assert.match(item.intervalId, MINUTE_ID);
      assert.equal(item.unit, 'minute');
      assert.equal(item.appId, app.appId);
      assert.equal(typeof item.schema, 'string');
    });

    test('aggregates by hour', async () => {
      const page = await rest(app.keys[KEY.root].keyStr).stats({ unit: 'hour' });
      assert.ok(page.items.length >= 1, 'no hourly interval');
      for (const it of page.items) {
        assert.equal(it.unit, 'hour');
        assert.match(it.intervalId, HOUR_ID);
      }
      const total = page.items.reduce((n, it) => n + succeeded(it), 0);
      assert.ok(total >= 1, `hourly ${SUCCEEDED} total is ${total}`);
    });

    test('paginates with limit', async () => {
      const page = await rest(app.keys[KEY.root].keyStr).stats({ limit: 1 });
      assert.ok(page.items.length <= 1, `limit 1 gave ${page.items.length} items`);
      if (page.hasNext()) {
        assert.equal(page.isLast(), false);
        const next = await page.next();
        assert.ok(next.items.length <= 1);
        if (next.items.length === 1) {
          // Newest first by default: the next page is an earlier interval.
          assert.ok(next.items[0].intervalId < page.items[0].intervalId,
            `${next.items[0].intervalId} should precede ${page.items[0].intervalId}`);
        }
      } else {
        assert.equal(page.isLast(), true);
      }
    });

    test('is allowed by {"[*]*":["*"]}', async () => {
      const page = await rest(app.keys[KEY.qualified].keyStr).stats();
      assert.ok(Array.isArray(page.items));
    });

    test('is refused with 40160 to a key without stats on "*"', async () => {
      await expectAblyError(rest(app.keys[KEY.subscribeOnly].keyStr).stats(), 40160, 401);
      await expectAblyError(rest(app.keys[KEY.namespaces].keyStr).stats(), 40160, 401);
    });
  });

  describe('credentials', () => {
    test('a wrong secret is refused with 40101', async () => {
      const key = `${app.keys[KEY.root].keyName}:not-the-right-secret`;
      await expectAblyError(rest(key).stats(), 40101, 401);
    });

    test('an unknown key of a real app is refused with 40400 / 401', async () => {
      const key = `${app.appId}.nokey9:${app.keys[KEY.root].keySecret}`;
      await expectAblyError(rest(key).stats(), 40400, 401);
    });

    test('a key that cannot be parsed is refused with 40005 / 400', async () => {
      await expectAblyError(rest('no-dot-in-this-name:secret').stats(), 40005, 400);
    });
  });

  describe('key revocation through the CLI', { skip: !haveCLI && 'HERALD_BIN / HERALD_DATA_DIR not set' }, () => {
    test('a revoked key is refused with 40131 while its sibling still works', async () => {
      const scratch = await provisionApp({ keys: [{}, {}] });
      try {
        const victim = scratch.keys[1];
        await rest(victim.keyStr).stats(); // works before revocation
        await revokeKeyWithCLI(victim.keyName);
        await sleep(300); // the server polls the store every 100 ms
        await expectAblyError(rest(victim.keyStr).stats(), 40131, 401);
        const page = await rest(scratch.keys[0].keyStr).stats();
        assert.ok(Array.isArray(page.items));
      } finally {
        await deleteApp(scratch);
      }
    });
  });

  describe('stats after another app is deleted', () => {
    test('GET /stats keeps working when an app with unflushed counts goes away', async () => {
      // The scratch app's stats() call is counted after its response is sent;
      // deleting the app right away leaves that count waiting for a flush.
      const scratch = await provisionApp({ keys: [{}] });
      await rest(scratch.keys[0].keyStr).stats();
      await deleteApp(scratch);
      const page = await rest(app.keys[KEY.root].keyStr).stats();
      assert.ok(Array.isArray(page.items));
      await sleep(400); // past the server's 200 ms flush interval
      const again = await rest(app.keys[KEY.root].keyStr).stats();
      assert.ok(again.items.some((it) => succeeded(it) >= 1), 'counts of the live app are still served');
    });
  });

  describe('DELETE /apps/{id}', () => {
    test('deletes the app and its keys stop working with 40400 / 401', async () => {
      const status = await deleteApp(app);
      deleted = true;
      assert.ok(status >= 200 && status < 300, `status ${status}`);
      await expectAblyError(rest(app.keys[KEY.root].keyStr).stats(), 40400, 401);
    });
  });
});
