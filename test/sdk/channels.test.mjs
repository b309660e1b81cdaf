// REST channel API through ably-js: publish and history with pagination
// and time bounds, capability denials, clientId stamping and mismatch,
// binary payloads across wire formats, batch publish and batch presence,
// REST publishes reaching realtime subscribers, channel status and
// enumeration, presence (fixtures, realtime members, presence history)
// and history untilAttach (ably-protocol.md §B, §F; ably-auth.md §5, §7.4).

import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import Ably from 'ably';

import {
  clientOptions, closeClient, deleteApp, describeError, eventually, expectAblyError, protocol, provisionApp, sleep,
} from './helpers.mjs';

/** Presence fixtures provisioned on persisted:presence_fixtures. */
const FIXTURES = [
  { clientId: 'fx-ann', data: 'ann was here' },
  { clientId: 'fx-ben', data: '{"seat":3}', encoding: 'json' },
  { clientId: 'fx-cat', data: '3q2+7w==', encoding: 'base64' },
];
const FIXTURE_CHANNEL = 'persisted:presence_fixtures';
const BYTES = Buffer.from([0xde, 0xad, 0xbe, 0xef]);

/** A channel name unique to this run. */
function uniq(prefix) {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Asserts a 40160 / 401 whose message names the channel. */
async function expectDenied(promise, channel) {
  const err = await expectAblyError(promise, 40160, 401);
  assert.ok(String(err.message).includes(channel), `message does not name ${channel}: ${err.message}`);
  return err;
}

/** Runs fn with a Realtime factory and closes every client afterwards. */
async function withRealtime(fn) {
  const clients = [];
  const make = (extra) => {
    const c = new Ably.Realtime(clientOptions(extra));
    clients.push(c);
    return c;
  };
  try {
    return await fn(make);
  } finally {
    await Promise.all(clients.map(closeClient));
  }
}

/** Subscribes and collects messages; resolves once attached. */
async function collect(channel) {
  const msgs = [];
  await channel.subscribe((m) => msgs.push(m));
  return {
    msgs,
    until: (n, what = `${n} message(s) on ${channel.name}`) =>
      eventually(() => msgs.length >= n, { timeoutMs: 5000, intervalMs: 25, what }),
  };
}

function b64url(s) {
  return Buffer.from(s, 'utf8').toString('base64url');
}

/** An Ably JWT (ably-auth.md §4.1): HS256 over the key secret, kid = keyName. */
function signJwt(key, { capability = '{"*":["*"]}', clientId, claims = {} } = {}) {
  const iat = Math.floor(Date.now() / 1000) - 1;
  const body = { iat, exp: iat + 3600, 'x-ably-capability': capability, ...claims };
  if (clientId !== undefined) body['x-ably-clientId'] = clientId;
  const header = { typ: 'JWT', alg: 'HS256', kid: key.keyName };
  const signed = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(body))}`;
  const sig = createHmac('sha256', Buffer.from(key.keySecret, 'utf8')).update(signed).digest('base64url');
  return `${signed}.${sig}`;
}

/** Reads every page of a PaginatedResult; returns [pages of items]. */
async function allPages(first, maxPages = 10) {
  const pages = [];
  let page = first;
  for (;;) {
    pages.push(page);
    if (!page.hasNext()) break;
    assert.ok(pages.length < maxPages, `more than ${maxPages} pages`);
    page = await page.next();
    assert.ok(page, 'next() returned nothing although hasNext() was true');
  }
  return pages;
}

function isBytes(v) {
  return Buffer.isBuffer(v) || v instanceof Uint8Array || v instanceof ArrayBuffer;
}

function assertBytes(data, expected, what) {
  assert.ok(isBytes(data), `${what}: data arrived as ${typeof data} ${JSON.stringify(data)}`);
  assert.ok(Buffer.from(data).equals(expected), `${what}: bytes ${Buffer.from(data).toString('hex')}`);
}

describe(`channels (${protocol})`, () => {
  let app;
  let root; // {"*":["*"]}
  let admin; // REST client with the root key, in this pass's format

  before(async () => {
    app = await provisionApp({
      keys: [{}],
      namespaces: [{ id: 'persisted', persisted: true }],
      channels: [{ name: FIXTURE_CHANNEL, presence: FIXTURES }],
    });
    root = app.keys[0];
    admin = rest({ key: root.keyStr });
  });

  after(async () => {
    if (app) await deleteApp(app);
  });

  function rest(extra) {
    return new Ably.Rest(clientOptions(extra));
  }

  /** A REST client holding a token string with capability (and clientId). */
  async function tokenRest(capability, clientId, extra = {}) {
    const td = await admin.auth.requestToken({ capability, clientId });
    return rest({ token: td.token, ...extra });
  }

  describe('publish and history', () => {
    test('7 messages paginate newest-first backwards and oldest-first forwards, 3 per page', async () => {
      const name = uniq('hist');
      const ch = admin.channels.get(name);
      const names = Array.from({ length: 7 }, (_, i) => `m${i}`);
      const res = await ch.publish(names.slice(0, 4).map((n, i) => ({ name: n, data: `d${i}` })));
      assert.equal(res?.serials?.length, 4, `publish result ${JSON.stringify(res)}`);
      await ch.publish(names.slice(4).map((n, i) => ({ name: n, data: `d${i + 4}` })));

      for (const [direction, expected] of [
        ['backwards', [...names].reverse()],
        ['forwards', names],
      ]) {
        const params = direction === 'backwards' ? { limit: 3 } : { limit: 3, direction };
        const pages = await allPages(await ch.history(params));
        const seen = pages.map((p) => p.items.map((m) => m.name));
        assert.deepEqual(seen, [expected.slice(0, 3), expected.slice(3, 6), expected.slice(6)], `${direction} pages`);
        assert.equal(pages[0].hasNext(), true);
        assert.equal(pages[0].isLast(), false);
        assert.equal(pages[1].isLast(), false);
        assert.equal(pages[2].isLast(), true, `${direction}: last page isLast()`);
        assert.equal(pages[2].hasNext(), false);
        const all = pages.flatMap((p) => p.items);
        assert.equal(new Set(all.map((m) => m.id)).size, 7, `${direction}: every message exactly once`);
        for (const m of all) assert.equal(m.data, `d${m.name.slice(1)}`);
        // first() returns to the first page.
        const again = await pages[2].first();
        assert.deepEqual(again.items.map((m) => m.name), expected.slice(0, 3), `${direction}: first()`);
      }
      const page = await ch.history();
      assert.equal(page.items.length, 7, 'default limit returns everything');
      assert.equal(page.isLast(), true);
    });

    test('start and end bound history by timestamp, inclusively', async () => {
      const ch = admin.channels.get(uniq('bounds'));
      await ch.publish('early', 'e');
      await sleep(25);
      await ch.publish([{ name: 'mid1', data: '1' }, { name: 'mid2', data: '2' }]);
      await sleep(25);
      await ch.publish('late', 'l');
      const all = (await ch.history({ direction: 'forwards' })).items;
      assert.deepEqual(all.map((m) => m.name), ['early', 'mid1', 'mid2', 'late']);
      const ts = Object.fromEntries(all.map((m) => [m.name, m.timestamp]));
      assert.ok(ts.early < ts.mid1 && ts.mid2 < ts.late, `timestamps ${JSON.stringify(ts)}`);

      const names = async (params) => (await ch.history(params)).items.map((m) => m.name);
      assert.deepEqual(await names({ start: ts.mid1, end: ts.mid2, direction: 'forwards' }), ['mid1', 'mid2']);
      assert.deepEqual(await names({ start: ts.mid1 }), ['late', 'mid2', 'mid1']);
      assert.deepEqual(await names({ end: ts.mid2 }), ['mid2', 'mid1', 'early']);
      assert.deepEqual(await names({ start: ts.late + 1 }), []);
      assert.deepEqual(await names({ start: ts.early, end: ts.late, limit: 2 }), ['late', 'mid2']);
    });

    test('end before start and a limit over 1000 are refused with 400', async () => {
      const ch = admin.channels.get(uniq('badparams'));
      await assert.rejects(ch.history({ start: 2000, end: 1000 }), (err) => {
        assert.equal(err.statusCode, 400, describeError(err));
        return true;
      });
      await assert.rejects(ch.history({ limit: 1001 }), (err) => {
        assert.equal(err.statusCode, 400, describeError(err));
        return true;
      });
    });
  });

  describe('message ids', () => {
    test('REST publishes without client-supplied ids still get message ids', () =>
      withRealtime(async (make) => {
        const name = uniq('noid');
        const sub = make({ key: root.keyStr });
        const got = await collect(sub.channels.get(name));
        const c = rest({ key: root.keyStr, idempotentRestPublishing: false });
        await c.channels.get(name).publish([{ name: 'a', data: '1' }, { name: 'b', data: '2' }]);
        await got.until(2);
        const items = (await admin.channels.get(name).history({ direction: 'forwards' })).items;
        assert.deepEqual(items.map((m) => m.name), ['a', 'b']);
        for (const m of [...items, ...got.msgs]) {
          assert.equal(typeof m.id, 'string', `message ${m.name} has no id: ${JSON.stringify(m)}`);
        }
        assert.notEqual(items[0].id, items[1].id);
        assert.deepEqual(got.msgs.map((m) => m.id), items.map((m) => m.id), 'same ids live and in history');
      }));

    test('client-supplied (idempotent) ids are kept', async () => {
      const name = uniq('withid');
      await admin.channels.get(name).publish([{ id: 'my-id:0', name: 'a', data: '1' }]);
      const [m] = (await admin.channels.get(name).history()).items;
      assert.equal(m?.id, 'my-id:0');
    });
  });

  describe('capability denials (40160 / 401, naming the channel)', () => {
    test('publish with a subscribe-only token', async () => {
      const name = uniq('deny-pub');
      const c = await tokenRest('{"*":["subscribe"]}');
      await expectDenied(c.channels.get(name).publish('x', 'y'), name);
      assert.deepEqual((await admin.channels.get(name).history()).items, [], 'nothing stored');
    });

    test('history with a publish-only token', async () => {
      const name = uniq('deny-hist');
      const c = await tokenRest('{"*":["publish"]}');
      await c.channels.get(name).publish('allowed', 'x');
      await expectDenied(c.channels.get(name).history(), name);
    });

    test('presence.get without subscribe; presence.history without history', async () => {
      const name = uniq('deny-pres');
      const noSub = await tokenRest('{"*":["publish","history","presence"]}');
      await expectDenied(noSub.channels.get(name).presence.get(), name);
      await noSub.channels.get(name).presence.history(); // history is granted
      const noHist = await tokenRest('{"*":["subscribe","publish"]}');
      await expectDenied(noHist.channels.get(name).presence.history(), name);
      await noHist.channels.get(name).presence.get(); // subscribe is granted
    });

    test('channel.status() without channel-metadata', async () => {
      const name = uniq('deny-status');
      const c = await tokenRest('{"*":["subscribe","publish","history","presence"]}');
      await expectDenied(c.channels.get(name).status(), name);
      const ok = await tokenRest(`{"${name}":["channel-metadata"]}`);
      const details = await ok.channels.get(name).status();
      assert.equal(details.channelId, name);
    });

    test('a channel outside the capability is denied for every operation', async () => {
      const name = uniq('outside');
      const c = await tokenRest('{"inside:*":["*"]}');
      const ch = c.channels.get(name);
      await expectDenied(ch.publish('x', 'y'), name);
      await expectDenied(ch.history(), name);
      await expectDenied(ch.presence.get(), name);
      await expectDenied(ch.status(), name);
    });

    test('extras.privileged needs the privileged-headers capability', async () => {
      const name = uniq('priv');
      const c = await tokenRest('{"*":["publish","subscribe","history"]}');
      const msg = { name: 'p', data: 'x', extras: { privileged: { skipRule: '*' } } };
      await expectDenied(c.channels.get(name).publish(msg), name);
      assert.deepEqual((await admin.channels.get(name).history()).items, [], 'nothing stored');
      const allowed = await tokenRest('{"*":["publish","privileged-headers"]}');
      await allowed.channels.get(name).publish(msg);
      const [m] = (await admin.channels.get(name).history()).items;
      assert.deepEqual(m?.extras?.privileged, { skipRule: '*' }, `extras ${JSON.stringify(m?.extras)}`);
    });
  });

  describe('clientId', () => {
    test('a token bound to alice stamps alice on REST publishes', async () => {
      const name = uniq('stamp-token');
      const td = await admin.auth.requestToken({ clientId: 'alice' });
      const c = rest({ tokenDetails: td });
      await c.channels.get(name).publish('m', 'x');
      await c.channels.get(name).publish({ name: 'explicit', data: 'y', clientId: 'alice' });
      const items = (await admin.channels.get(name).history({ direction: 'forwards' })).items;
      assert.deepEqual(items.map((m) => [m.name, m.clientId]), [['m', 'alice'], ['explicit', 'alice']]);
    });

    test('Basic auth with the clientId option stamps that clientId', async () => {
      const name = uniq('stamp-basic');
      const c = rest({ key: root.keyStr, clientId: 'carol' });
      await c.channels.get(name).publish('m', 'x');
      const [m] = (await admin.channels.get(name).history()).items;
      assert.equal(m?.clientId, 'carol');
    });

    test('Basic auth without clientId publishes any explicit clientId, or none', async () => {
      const name = uniq('basic-any');
      await admin.channels.get(name).publish([{ name: 'a', data: '1', clientId: 'dave' }, { name: 'b', data: '2' }]);
      const items = (await admin.channels.get(name).history({ direction: 'forwards' })).items;
      assert.deepEqual(items.map((m) => [m.name, m.clientId]), [['a', 'dave'], ['b', undefined]]);
    });

    test('a token bound to alice publishing as bob is refused with 40012 and nothing is stored', async () => {
      const name = uniq('mismatch');
      const td = await admin.auth.requestToken({ clientId: 'alice' });
      const c = rest({ token: td.token }); // a raw token string: the SDK cannot check
      const ch = c.channels.get(name);
      await expectAblyError(ch.publish({ name: 'forged', data: 'x', clientId: 'bob' }), 40012, 400);
      // An array with one bad message is refused as a whole.
      await expectAblyError(
        ch.publish([{ name: 'ok', data: '1' }, { name: 'forged', data: '2', clientId: 'bob' }]),
        40012,
        400,
      );
      assert.deepEqual((await admin.channels.get(name).history()).items, [], 'nothing stored');
    });

    test('an anonymous token cannot publish with an explicit clientId', async () => {
      const name = uniq('anon');
      const c = await tokenRest('{"*":["*"]}');
      await expectAblyError(c.channels.get(name).publish({ name: 'x', data: 'y', clientId: 'eve' }), 40012, 400);
      await c.channels.get(name).publish('plain', 'ok');
      const items = (await admin.channels.get(name).history()).items;
      assert.deepEqual(items.map((m) => [m.name, m.clientId]), [['plain', undefined]]);
    });
  });

  describe('binary payloads across formats (§F)', () => {
    const binary = () => rest({ key: root.keyStr, useBinaryProtocol: true });
    const text = () => rest({ key: root.keyStr, useBinaryProtocol: false });

    for (const [writer, reader, label] of [
      [binary, text, 'msgpack publish, JSON history'],
      [text, binary, 'JSON publish, msgpack history'],
      [binary, binary, 'msgpack publish, msgpack history'],
      [text, text, 'JSON publish, JSON history'],
    ]) {
      test(label, async () => {
        const name = uniq('bin');
        await writer().channels.get(name).publish('bytes', BYTES);
        const [m] = (await reader().channels.get(name).history()).items;
        assert.ok(m, 'message in history');
        assertBytes(m.data, BYTES, label);
        assert.ok(!m.encoding, `encoding left after decoding: ${m.encoding}`);
      });
    }

    test('JSON data and strings keep their encoding across formats', async () => {
      const name = uniq('bin-json');
      const obj = { seat: 7, tags: ['a', 'b'] };
      await binary().channels.get(name).publish([{ name: 'obj', data: obj }, { name: 'str', data: 'héllo' }]);
      const items = (await text().channels.get(name).history({ direction: 'forwards' })).items;
      assert.deepEqual(items.map((m) => m.data), [obj, 'héllo']);
    });
  });

  describe('batch', () => {
    test('batchPublish with one denied channel: 1 success, 1 failure 40160', async () => {
      const ok = uniq('batch-ok:room');
      const no = uniq('batch-no');
      const c = await tokenRest('{"batch-ok:*":["publish"]}');
      const results = await c.batchPublish([{ channels: [ok, no], messages: [{ name: 'x', data: 'y' }] }]);
      assert.ok(Array.isArray(results), `array form answers an array: ${JSON.stringify(results)}`);
      assert.equal(results.length, 1);
      const [r] = results;
      assert.equal(r.successCount, 1, JSON.stringify(r));
      assert.equal(r.failureCount, 1, JSON.stringify(r));
      const good = r.results.find((x) => x.channel === ok);
      const bad = r.results.find((x) => x.channel === no);
      assert.ok(good && !good.error, `allowed result ${JSON.stringify(good)}`);
      assert.equal(bad?.error?.code, 40160, `denied result ${JSON.stringify(bad)}`);
      assert.equal(bad.error.statusCode, 401);
      assert.ok(String(bad.error.message).includes(no), `message names ${no}: ${bad.error.message}`);

      const okItems = (await admin.channels.get(ok).history()).items;
      assert.deepEqual(okItems.map((m) => [m.name, m.data]), [['x', 'y']]);
      assert.deepEqual((await admin.channels.get(no).history()).items, [], 'nothing stored on the denied channel');
      // BatchPublishSuccessResult.messageId (ably-js batchPublish sends no ids).
      assert.equal(typeof good.messageId, 'string', `allowed result ${JSON.stringify(good)}`);
    });

    test('single-spec batchPublish answers one BatchResult; binary data survives', async () => {
      const a = uniq('batch-a');
      const b = uniq('batch-b');
      // batchPublish sends the spec as given (no data encoding): a JSON
      // client must base64 binary itself; a msgpack client sends bin.
      const bin = protocol === 'msgpack' ? { data: BYTES } : { data: BYTES.toString('base64'), encoding: 'base64' };
      const messages = [{ name: 'one', ...bin }, { name: 'two', data: 'txt' }];
      const r = await admin.batchPublish({ channels: [a, b], messages });
      assert.ok(!Array.isArray(r), `single spec answers an object: ${JSON.stringify(r)}`);
      assert.equal(r.successCount, 2);
      assert.equal(r.failureCount, 0);
      assert.deepEqual(r.results.map((x) => x.channel), [a, b]);
      for (const n of [a, b]) {
        const items = (await admin.channels.get(n).history({ direction: 'forwards' })).items;
        assert.deepEqual(items.map((m) => m.name), ['one', 'two'], n);
        assertBytes(items[0].data, BYTES, `${n} binary`);
        assert.equal(items[1].data, 'txt');
      }
    });

    test('batchPresence reports members per channel and denials per channel', async () => {
      const empty = uniq('bp-empty');
      const denied = uniq('bp-denied');
      const c = await tokenRest(`{"${FIXTURE_CHANNEL}":["subscribe"],"${empty}":["subscribe"]}`);
      const res = await c.batchPresence([FIXTURE_CHANNEL, empty, denied]);
      assert.equal(res.successCount, 2, JSON.stringify(res));
      assert.equal(res.failureCount, 1, JSON.stringify(res));
      const by = Object.fromEntries(res.results.map((x) => [x.channel, x]));
      const members = by[FIXTURE_CHANNEL]?.presence;
      assert.ok(Array.isArray(members), `fixture presence is ${typeof members}: ${JSON.stringify(members)}`);
      assert.deepEqual(members.map((m) => m.clientId).sort(), FIXTURES.map((f) => f.clientId));
      assert.deepEqual(by[empty]?.presence, []);
      assert.equal(by[denied]?.error?.code, 40160, JSON.stringify(by[denied]));
      assert.equal(by[denied].error.statusCode, 401);
    });
  });

  describe('REST publish to realtime subscribers', () => {
    test('a subscriber receives a REST publish with the stamped clientId', () =>
      withRealtime(async (make) => {
        const name = uniq('rest-to-rt');
        const sub = make({ key: root.keyStr });
        const got = await collect(sub.channels.get(name));
        const td = await admin.auth.requestToken({ clientId: 'rest-pub' });
        const c = rest({ token: td.token });
        await c.channels.get(name).publish([{ name: 'hello', data: 'world' }, { name: 'bin', data: BYTES }]);
        await got.until(2);
        assert.deepEqual(got.msgs.map((m) => [m.name, m.clientId]), [['hello', 'rest-pub'], ['bin', 'rest-pub']]);
        assert.equal(got.msgs[0].data, 'world');
        assertBytes(got.msgs[1].data, BYTES, 'binary to realtime');
        assert.equal(typeof got.msgs[0].id, 'string');
        assert.ok(got.msgs[0].timestamp > 0);
      }));

    test('a JWT ably.channel.* claim becomes extras.userClaim on REST publishes', () =>
      withRealtime(async (make) => {
        const name = uniq('claims:room');
        const sub = make({ key: root.keyStr });
        const got = await collect(sub.channels.get(name));
        const jwt = signJwt(root, { clientId: 'mod', claims: { 'ably.channel.claims:*': 'moderator' } });
        await rest({ token: jwt }).channels.get(name).publish({ name: 'm', data: 'x', extras: { userClaim: 'forged' } });
        await got.until(1);
        assert.equal(got.msgs[0].clientId, 'mod');
        assert.equal(got.msgs[0].extras?.userClaim, 'moderator', `extras ${JSON.stringify(got.msgs[0].extras)}`);
        const [h] = (await admin.channels.get(name).history()).items;
        assert.equal(h?.extras?.userClaim, 'moderator', 'the claim is stored in history too');
      }));
  });

  describe('status, enumeration and presence', () => {
    test('channel.status() shows the occupancy of an attached realtime client', () =>
      withRealtime(async (make) => {
        const name = uniq('occ');
        const inactive = await admin.channels.get(uniq('idle')).status();
        assert.equal(inactive.status?.isActive, false, `idle channel ${JSON.stringify(inactive)}`);

        const sub = make({ key: root.keyStr });
        await collect(sub.channels.get(name));
        const d = await admin.channels.get(name).status();
        assert.equal(d.channelId, name);
        assert.equal(d.status?.isActive, true, JSON.stringify(d));
        const m = d.status.occupancy?.metrics;
        assert.ok(m, `no occupancy metrics: ${JSON.stringify(d)}`);
        for (const k of ['connections', 'publishers', 'subscribers', 'presenceConnections', 'presenceMembers', 'presenceSubscribers']) {
          assert.equal(typeof m[k], 'number', `metrics.${k}: ${JSON.stringify(m)}`);
        }
        assert.ok(m.connections >= 1, `connections ${m.connections}`);
        assert.ok(m.subscribers >= 1, `subscribers ${m.subscribers}`);
        assert.equal(m.presenceMembers, 0);
      }));

    test('GET /channels enumerates active channels, with prefix, by=id and limit', () =>
      withRealtime(async (make) => {
        const prefix = uniq('enum');
        const names = [`${prefix}-a`, `${prefix}-b`];
        const sub = make({ key: root.keyStr });
        for (const n of names) await sub.channels.get(n).attach();

        const all = await admin.request('get', '/channels', 3);
        assert.equal(all.statusCode, 200, `${all.errorCode} ${all.errorMessage}`);
        const listed = all.items.map((x) => x.channelId);
        for (const n of names) assert.ok(listed.includes(n), `${n} not in ${JSON.stringify(listed)}`);
        const one = all.items.find((x) => x.channelId === names[0]);
        assert.equal(one.status?.isActive, true, JSON.stringify(one));

        const ids = await admin.request('get', '/channels', 3, { prefix, by: 'id' });
        assert.deepEqual(ids.items, names);

        const paged = await admin.request('get', '/channels', 3, { prefix, by: 'id', limit: 1 });
        assert.deepEqual(paged.items, [names[0]]);
        assert.equal(paged.hasNext(), true);
        const second = await paged.next();
        assert.deepEqual(second.items, [names[1]]);
        assert.equal(second.hasNext(), false);
      }));

    test('GET /channels needs channel-metadata on "*"', async () => {
      const c = await tokenRest('{"enum:*":["channel-metadata"],"*":["subscribe"]}');
      const res = await c.request('get', '/channels', 3);
      assert.equal(res.statusCode, 401, `status ${res.statusCode}`);
      assert.equal(res.errorCode, 40160, `errorCode ${res.errorCode} ${res.errorMessage}`);
      assert.equal(res.success, false);
      const ok = await tokenRest('{"*":["channel-metadata"]}');
      assert.equal((await ok.request('get', '/channels', 3)).statusCode, 200);
    });

    test('presence fixtures are visible through presence.get()', async () => {
      const page = await admin.channels.get(FIXTURE_CHANNEL).presence.get();
      const members = page.items;
      assert.equal(page.isLast(), true);
      assert.deepEqual(members.map((m) => m.clientId).sort(), FIXTURES.map((f) => f.clientId));
      const by = Object.fromEntries(members.map((m) => [m.clientId, m]));
      assert.equal(by['fx-ann'].data, 'ann was here');
      assert.deepEqual(by['fx-ben'].data, { seat: 3 });
      assertBytes(by['fx-cat'].data, BYTES, 'fixture base64 data');
      for (const m of members) assert.equal(m.action, 'present', `${m.clientId} action ${m.action}`);
      const only = (await admin.channels.get(FIXTURE_CHANNEL).presence.get({ clientId: 'fx-ben' })).items;
      assert.deepEqual(only.map((m) => m.clientId), ['fx-ben']);
      const limited = (await admin.channels.get(FIXTURE_CHANNEL).presence.get({ limit: 2 })).items;
      assert.equal(limited.length, 2, 'limit');
      const jsonReader = rest({ key: root.keyStr, useBinaryProtocol: false });
      const viaJson = (await jsonReader.channels.get(FIXTURE_CHANNEL).presence.get({ clientId: 'fx-cat' })).items;
      assertBytes(viaJson[0]?.data, BYTES, 'fixture base64 data via JSON');
    });

    test('a realtime member is visible through REST presence.get, and presence history shows enter and leave', () =>
      withRealtime(async (make) => {
        const name = uniq('pres');
        const amy = make({ key: root.keyStr, clientId: 'amy' });
        const ch = amy.channels.get(name);
        await ch.presence.enter({ mood: 'ok' });
        const restCh = admin.channels.get(name);
        const get = async (params) => (await restCh.presence.get(params)).items;
        const members = await get();
        assert.deepEqual(members.map((m) => [m.clientId, m.connectionId, m.action]), [['amy', amy.connection.id, 'present']]);
        assert.deepEqual(members[0].data, { mood: 'ok' });
        assert.equal((await get({ clientId: 'amy' })).length, 1);
        assert.deepEqual(await get({ clientId: 'nobody' }), []);
        assert.equal((await get({ connectionId: amy.connection.id })).length, 1);
        assert.deepEqual(await get({ connectionId: 'not-a-connection' }), []);

        const d = await restCh.status();
        assert.equal(d.status?.occupancy?.metrics?.presenceMembers, 1, JSON.stringify(d));

        await ch.presence.leave();
        await eventually(async () => (await get()).length === 0, { what: 'amy gone from presence.get' });
        const events = await eventually(async () => {
          const items = (await restCh.presence.history({ direction: 'forwards' })).items;
          return items.length >= 2 && items;
        }, { what: 'enter and leave in presence history' });
        assert.deepEqual(events.map((p) => [p.action, p.clientId]), [['enter', 'amy'], ['leave', 'amy']]);
        const backwards = (await restCh.presence.history()).items;
        assert.deepEqual(backwards.map((p) => p.action), ['leave', 'enter'], 'backwards by default');
        const paged = await restCh.presence.history({ limit: 1 });
        assert.equal(paged.items.length, 1);
        assert.equal(paged.hasNext(), true);
        const next = await paged.next();
        assert.deepEqual(next.items.map((p) => p.action), ['enter']);
        assert.equal(next.hasNext(), false);
      }));
  });

  describe('untilAttach', () => {
    // untilAttach sends the ATTACHED channelSerial as from_serial (§A.7).
    async function checkUntilAttach(make, name) {
      const restCh = admin.channels.get(name);
      await restCh.publish([{ name: 'before1', data: '1' }, { name: 'before2', data: '2' }]);
      const rt = make({ key: root.keyStr });
      const ch = rt.channels.get(name);
      const got = await collect(ch);
      assert.equal(typeof ch.properties.attachSerial, 'string', `ATTACHED channelSerial: ${ch.properties.attachSerial}`);
      await restCh.publish('after', '3');
      await got.until(1);
      assert.deepEqual(got.msgs.map((m) => m.name), ['after']);

      assert.deepEqual((await ch.history()).items.map((m) => m.name), ['after', 'before2', 'before1']);
      const until = (await ch.history({ untilAttach: true })).items.map((m) => m.name);
      assert.deepEqual(until, ['before2', 'before1']);
      const fwd = await ch.history({ untilAttach: true, direction: 'forwards', limit: 1 });
      assert.deepEqual(fwd.items.map((m) => m.name), ['before1']);
      const fwd2 = await fwd.next();
      assert.deepEqual(fwd2.items.map((m) => m.name), ['before2']);
      assert.equal(fwd2.hasNext(), false, 'the page at the attach point is the last');
    }

    test('on an active channel, history({untilAttach:true}) returns only messages published before the attach', () =>
      withRealtime(async (make) => {
        const name = uniq('until-active');
        await make({ key: root.keyStr }).channels.get(name).attach(); // keeps the channel active
        await checkUntilAttach(make, name);
      }));

    test('on an idle channel with history, history({untilAttach:true}) returns only messages published before the attach', () =>
      withRealtime((make) => checkUntilAttach(make, uniq('until-idle'))));

    test('on a brand-new channel, untilAttach returns nothing', () =>
      withRealtime(async (make) => {
        const name = uniq('until-new');
        const ch = make({ key: root.keyStr }).channels.get(name);
        const got = await collect(ch);
        assert.equal(typeof ch.properties.attachSerial, 'string', `ATTACHED channelSerial: ${ch.properties.attachSerial}`);
        await admin.channels.get(name).publish('after', 'x');
        await got.until(1);
        assert.deepEqual((await ch.history({ untilAttach: true })).items, []);
      }));

    test('REST from_serial bounds history at that serial, inclusively', async () => {
      const ch = admin.channels.get(uniq('from-serial'));
      const res = await ch.publish([{ name: 'a', data: '1' }, { name: 'b', data: '2' }, { name: 'c', data: '3' }]);
      assert.equal(res?.serials?.length, 3, JSON.stringify(res));
      const names = async (params) => (await ch.history(params)).items.map((m) => m.name);
      assert.deepEqual(await names({ from_serial: res.serials[1] }), ['b', 'a']);
      assert.deepEqual(await names({ from_serial: res.serials[1], direction: 'forwards' }), ['a', 'b']);
    });
  });
});
