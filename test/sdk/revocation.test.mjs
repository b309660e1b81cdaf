// Token revocation: revokeTokens by clientId, revocationKey and channel
// targets, the effect on live connections and REST requests,
// allowReauthMargin, request errors, and key revocation through the CLI,
// driven through ably-js's rest.auth.revokeTokens where it can do the work
// and through raw HTTP where it cannot (ably-auth.md §6, §8.1, §8.4).
//
// Every test provisions its own app, so revocation rules never leak from
// one test into another.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import Ably from 'ably';

import {
  baseURL,
  clientOptions,
  deleteApp,
  eventually,
  expectAblyError,
  haveCLI,
  protocol,
  provisionApp,
  revokeKeyWithCLI,
  sleep,
  closeClient,
  describeError,
  waitForState,
} from './helpers.mjs';

const HOUR = 3_600_000;
const REVOCABLE = { revocableTokens: true };
const REAUTH_MARGIN = 30_000;

function rest(extra) {
  return new Ably.Rest(clientOptions(extra));
}

/**
 * Provisions body, runs fn(app, realtime) with a factory for Realtime
 * clients, then closes every client and deletes the app, whatever happened.
 */
async function withApp(body, fn) {
  const app = await provisionApp(body);
  const clients = [];
  const realtime = (extra) => {
    const c = new Ably.Realtime(clientOptions(extra));
    clients.push(c);
    return c;
  };
  try {
    return await fn(app, realtime);
  } finally {
    await Promise.all(clients.map(closeClient));
    await deleteApp(app).catch(() => {});
  }
}

/** Records the connection's state changes, and counts its 'update' events. */
function recordStates(conn) {
  const rec = { changes: [], updates: 0 };
  conn.on((change) => {
    if (change.previous === change.current) rec.updates++;
    else rec.changes.push(change);
  });
  return rec;
}

/**
 * An authCallback that hands out what issue() returns and keeps every
 * token it handed out (cb.issued) and its call count (cb.calls).
 */
function tokenCallback(issue) {
  const cb = (params, done) => {
    cb.calls++;
    Promise.resolve()
      .then(() => issue(params))
      .then(
        (t) => {
          cb.issued.push(typeof t === 'string' ? t : t.token);
          done(null, t);
        },
        (e) => done(e, null),
      );
  };
  cb.calls = 0;
  cb.issued = [];
  return cb;
}

function b64url(s) {
  return Buffer.from(s, 'utf8').toString('base64url');
}

/** An Ably JWT (ably-auth.md §4.1): HS256 over the key secret, kid = keyName. */
function ablyJwt(key, { iat = Math.floor(Date.now() / 1000), ttlSec = 600, clientId, revocationKey } = {}) {
  const claims = { iat, exp: iat + ttlSec, 'x-ably-capability': '{"*":["*"]}' };
  if (clientId !== undefined) claims['x-ably-clientId'] = clientId;
  if (revocationKey !== undefined) claims['x-ably-revocation-key'] = revocationKey;
  const header = { typ: 'JWT', alg: 'HS256', kid: key.keyName };
  const signed = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = createHmac('sha256', Buffer.from(key.keySecret, 'utf8')).update(signed).digest('base64url');
  return `${signed}.${sig}`;
}

const basic = (key) => 'Basic ' + Buffer.from(key.keyStr, 'utf8').toString('base64');
const bearer = (token) => 'Bearer ' + Buffer.from(token, 'utf8').toString('base64');

async function rawRequest(method, path, authorization, body, headers = {}) {
  const res = await fetch(`${baseURL}${path}`, {
    method,
    headers: {
      Accept: 'application/json',
      ...(authorization ? { Authorization: authorization } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // leave the text as it is
  }
  return { status: res.status, body: parsed };
}

/** POST /keys/{keyName}/revokeTokens as JSON; version null leaves out X-Ably-Version. */
function rawRevoke(keyName, authorization, body, { version = '6' } = {}) {
  const headers = version === null ? {} : { 'X-Ably-Version': version };
  return rawRequest('POST', `/keys/${encodeURIComponent(keyName)}/revokeTokens`, authorization, body, headers);
}

/** GET /channels/{channel}/messages: the REST request used to probe a token. */
function rawHistory(authorization, channel = 'probe') {
  return rawRequest('GET', `/channels/${encodeURIComponent(channel)}/messages`, authorization);
}

function expectRawError(res, status, code) {
  const err = res.body && res.body.error;
  const seen = `status ${res.status}, body ${JSON.stringify(res.body)}`;
  assert.equal(res.status, status, seen);
  assert.ok(err && typeof err === 'object', `no error object: ${seen}`);
  assert.equal(err.code, code, seen);
  assert.equal(err.statusCode, status, seen);
  return err;
}

async function expectAccepted(authorization, channel, what) {
  const res = await rawHistory(authorization, channel);
  assert.equal(res.status, 200, `${what}: ${JSON.stringify(res.body)}`);
}

/** Checks one successful BatchResult entry (ably-auth.md §6.2). */
function assertSuccess(result, target, { after, marginMs = 0 }) {
  const seen = JSON.stringify(result);
  assert.equal(result.target, target, seen);
  assert.equal(result.error, undefined, seen);
  assert.ok(Number.isInteger(result.issuedBefore), `issuedBefore: ${seen}`);
  assert.ok(Number.isInteger(result.appliesAt), `appliesAt: ${seen}`);
  assert.ok(result.issuedBefore >= after - 1000 && result.issuedBefore <= Date.now() + 1000, `issuedBefore is not now: ${seen}`);
  assert.ok(result.appliesAt >= after + marginMs, `appliesAt before serverTime + ${marginMs}: ${seen}`);
  assert.ok(result.appliesAt <= Date.now() + marginMs + 2000, `appliesAt too late: ${seen}`);
}

describe(`token revocation (${protocol})`, () => {
  test('clientId target: a live connection goes DISCONNECTED 40141, renews and resumes; REST refuses the old token', () =>
    withApp({ keys: [REVOCABLE] }, async (app, realtime) => {
      const keyRest = rest({ key: app.keys[0].keyStr });
      const cb = tokenCallback(() => keyRest.auth.requestToken({ clientId: 'alice' }));
      const c = realtime({ authCallback: cb });
      await waitForState(c.connection, 'connected');
      assert.equal(c.auth.clientId, 'alice');
      // Bob's token comes from the same key but has another clientId.
      const bobCb = tokenCallback(() => keyRest.auth.requestToken({ clientId: 'bob' }));
      const bob = realtime({ authCallback: bobCb });
      await waitForState(bob.connection, 'connected');
      const bobStates = recordStates(bob.connection);

      const oldToken = cb.issued[0];
      const connectionId = c.connection.id;
      await expectAccepted(bearer(oldToken), 'probe', 'the token before revocation');

      const serverTime = await keyRest.time();
      const disconnected = waitForState(c.connection, 'disconnected');
      const res = await keyRest.auth.revokeTokens([{ type: 'clientId', value: 'alice' }]);
      assert.equal(res.successCount, 1, JSON.stringify(res));
      assert.equal(res.failureCount, 0, JSON.stringify(res));
      assert.equal(res.results.length, 1, JSON.stringify(res));
      assertSuccess(res.results[0], 'clientId:alice', { after: serverTime });

      const change = await disconnected;
      assert.equal(change.reason?.code, 40141, `reason ${describeError(change.reason)}`);
      assert.equal(change.reason?.statusCode, 401, `reason ${describeError(change.reason)}`);

      // 40141 is a token error: the SDK asks its authCallback again and resumes.
      await waitForState(c.connection, 'connected');
      assert.ok(cb.calls >= 2, `authCallback called ${cb.calls} time(s)`);
      assert.equal(c.connection.id, connectionId, 'the connection resumed rather than starting afresh');
      assert.equal(c.auth.clientId, 'alice');
      const ch = c.channels.get('after-revocation');
      await ch.attach();
      await ch.publish('still', 'here');

      // REST: the revoked token is refused; ably-js, with no way to renew a
      // token literal, turns the server's token error into 40171.
      expectRawError(await rawHistory(bearer(oldToken)), 401, 40141);
      await expectAblyError(rest({ token: oldToken }).channels.get('probe').history(), 40171, 403);
      const fresh = await keyRest.auth.requestToken({ clientId: 'alice' });
      await expectAccepted(bearer(fresh.token), 'probe', 'a token issued after the revocation');
      await rest({ token: fresh.token }).channels.get('probe').history();

      assert.equal(bob.connection.state, 'connected');
      assert.deepEqual(bobStates.changes.map((s) => s.current), [], 'bob was not disconnected');
    }));

  test('revocationKey target: JWTs with that x-ably-revocation-key are refused 40141, others keep working', () =>
    withApp({ keys: [REVOCABLE] }, async (app, realtime) => {
      const key = app.keys[0];
      // iat is whole seconds and compared as such: sign these well before
      // the revocation's second.
      const iat = Math.floor(Date.now() / 1000) - 2;
      const group1 = ablyJwt(key, { iat, clientId: 'carol', revocationKey: 'group-1' });
      const group2 = ablyJwt(key, { iat, clientId: 'carol', revocationKey: 'group-2' });
      const noKey = ablyJwt(key, { iat, clientId: 'carol' });
      for (const jwt of [group1, group2, noKey]) await expectAccepted(bearer(jwt), 'probe', 'a JWT before revocation');

      const cb = tokenCallback(() => (cb.calls === 1 ? group1 : ablyJwt(key, { clientId: 'carol', revocationKey: 'group-1' })));
      const c = realtime({ authCallback: cb });
      await waitForState(c.connection, 'connected');
      const disconnected = waitForState(c.connection, 'disconnected');

      const keyRest = rest({ key: key.keyStr });
      const serverTime = await keyRest.time();
      const res = await keyRest.auth.revokeTokens([{ type: 'revocationKey', value: 'group-1' }]);
      assert.equal(res.successCount, 1, JSON.stringify(res));
      assert.equal(res.failureCount, 0, JSON.stringify(res));
      assertSuccess(res.results[0], 'revocationKey:group-1', { after: serverTime });

      expectRawError(await rawHistory(bearer(group1)), 401, 40141);
      await expectAccepted(bearer(group2), 'probe', 'a JWT with another revocation key');
      await expectAccepted(bearer(noKey), 'probe', 'a JWT without a revocation key (same clientId)');
      const fresh = ablyJwt(key, { clientId: 'carol', revocationKey: 'group-1' });
      await expectAccepted(bearer(fresh), 'probe', 'a group-1 JWT signed after the revocation');

      // The live connection on the revoked JWT is dropped and comes back on a fresh one.
      const change = await disconnected;
      assert.equal(change.reason?.code, 40141, `reason ${describeError(change.reason)}`);
      await waitForState(c.connection, 'connected');
      assert.ok(cb.calls >= 2, `authCallback called ${cb.calls} time(s)`);
      assert.notEqual(cb.issued.at(-1), group1);
    }));

  describe('channel target', () => {
    test('revokes tokens whose capability holds exactly that resource', () =>
      withApp({ keys: [REVOCABLE], revokeByChannel: true }, async (app) => {
        const keyRest = rest({ key: app.keys[0].keyStr });
        const wide = await keyRest.auth.requestToken({ capability: { 'chat:*': ['*'] } });
        const narrow = await keyRest.auth.requestToken({ capability: { 'chat:room1': ['*'] } });
        const inherited = await keyRest.auth.requestToken(); // the key's {"*":["*"]}
        for (const td of [wide, narrow, inherited]) await expectAccepted(bearer(td.token), 'chat:room1', 'before revocation');

        const serverTime = await keyRest.time();
        const res = await keyRest.auth.revokeTokens([{ type: 'channel', value: 'chat:*' }]);
        assert.equal(res.successCount, 1, JSON.stringify(res));
        // The target is split at the first ':' only.
        assertSuccess(res.results[0], 'channel:chat:*', { after: serverTime });

        expectRawError(await rawHistory(bearer(wide.token), 'chat:room1'), 401, 40141);
        await expectAccepted(bearer(narrow.token), 'chat:room1', 'a chat:room1-only token');
        await expectAccepted(bearer(inherited.token), 'chat:room1', 'a token with the key\'s "*" capability');

        // The inherited "*" resource is matched by channel:* (and by nothing else).
        await keyRest.auth.revokeTokens([{ type: 'channel', value: '*' }]);
        expectRawError(await rawHistory(bearer(inherited.token), 'chat:room1'), 401, 40141);
        await expectAccepted(bearer(narrow.token), 'chat:room1', 'a chat:room1-only token after channel:*');
      }));

    test('without the app switch it is a per-target error 40121', () =>
      withApp({ keys: [REVOCABLE] }, async (app) => {
        const keyRest = rest({ key: app.keys[0].keyStr });
        const wide = await keyRest.auth.requestToken({ capability: { 'chat:*': ['*'] } });
        const res = await keyRest.auth.revokeTokens([
          { type: 'channel', value: 'chat:*' },
          { type: 'clientId', value: 'dave' },
        ]);
        const seen = JSON.stringify(res);
        assert.equal(res.successCount, 1, seen);
        assert.equal(res.failureCount, 1, seen);
        assert.equal(res.results[0].target, 'channel:chat:*', seen);
        assert.equal(res.results[0].error?.code, 40121, seen);
        assert.equal(res.results[0].error?.statusCode, 401, seen);
        assert.equal(res.results[1].target, 'clientId:dave', seen);
        assert.equal(res.results[1].error, undefined, seen);
        await expectAccepted(bearer(wide.token), 'chat:room1', 'a chat:* token after the refused channel target');
      }));
  });

  test('allowReauthMargin: an AUTH at once, the client switches token and stays connected', () =>
    withApp({ keys: [REVOCABLE] }, async (app, realtime) => {
      const keyRest = rest({ key: app.keys[0].keyStr });
      const cb = tokenCallback(() => keyRest.auth.requestToken({ clientId: 'erin' }));
      const c = realtime({ authCallback: cb });
      await waitForState(c.connection, 'connected');
      assert.equal(cb.calls, 1);
      const connectionId = c.connection.id;
      const rec = recordStates(c.connection);
      const oldToken = cb.issued[0];

      const serverTime = await keyRest.time();
      const res = await keyRest.auth.revokeTokens([{ type: 'clientId', value: 'erin' }], { allowReauthMargin: true });
      assert.equal(res.successCount, 1, JSON.stringify(res));
      assertSuccess(res.results[0], 'clientId:erin', { after: serverTime, marginMs: REAUTH_MARGIN });
      assert.ok(res.results[0].appliesAt >= serverTime + REAUTH_MARGIN, JSON.stringify(res.results[0]));

      // The AUTH hint: ably-js fetches a new token and re-authenticates in band.
      await eventually(() => cb.calls >= 2, { timeoutMs: 5000, intervalMs: 50, what: 'authCallback called again after the AUTH hint' });
      await eventually(() => rec.updates >= 1, { timeoutMs: 5000, intervalMs: 50, what: "an 'update' event after the in-band re-auth" });
      assert.notEqual(c.auth.tokenDetails?.token, oldToken, 'the client switched tokens');

      // Enforcement waits for appliesAt: the old token still works for now.
      await expectAccepted(bearer(oldToken), 'probe', 'the revoked token inside the reauth margin');

      await sleep(2000);
      assert.equal(c.connection.state, 'connected');
      assert.equal(c.connection.id, connectionId);
      assert.deepEqual(rec.changes.map((s) => `${s.current} ${describeError(s.reason)}`), [], 'no state change besides updates');
      const ch = c.channels.get('margin');
      await ch.attach();
      await ch.publish('after', 'reauth');
    }));

  describe('request errors', () => {
    test('revoking for another key is refused with 40133 / 401', () =>
      withApp({ keys: [REVOCABLE, REVOCABLE, {}] }, async (app) => {
        const [a, b, plain] = app.keys;
        const body = { targets: ['clientId:alice'] };
        expectRawError(await rawRevoke(a.keyName, basic(b), body), 401, 40133);
        expectRawError(await rawRevoke(a.keyName, basic(plain), body), 401, 40133);
        // The same request with key A's own credentials goes through.
        const ok = await rawRevoke(a.keyName, basic(a), body);
        assert.equal(ok.status, 201, JSON.stringify(ok.body));
        assert.equal(ok.body.successCount, 1, JSON.stringify(ok.body));
      }));

    test('token auth is refused with 40162 / 401, by ably-js and by the server', () =>
      withApp({ keys: [REVOCABLE] }, async (app) => {
        const key = app.keys[0];
        const td = await rest({ key: key.keyStr }).auth.requestToken();
        const targets = [{ type: 'clientId', value: 'alice' }];
        await expectAblyError(rest({ token: td.token }).auth.revokeTokens(targets), 40162, 401);
        const body = { targets: ['clientId:alice'] };
        expectRawError(await rawRevoke(key.keyName, bearer(td.token), body), 401, 40162);
        expectRawError(await rawRevoke(key.keyName, bearer(ablyJwt(key)), body), 401, 40162);
      }));

    test('a key without revocableTokens is refused with 40163 / 401', () =>
      withApp({ keys: [{}] }, async (app) => {
        const client = rest({ key: app.keys[0].keyStr });
        await expectAblyError(client.auth.revokeTokens([{ type: 'clientId', value: 'alice' }]), 40163, 401);
      }));

    test('an invalid target type is a per-target 400 / 40000', () =>
      withApp({ keys: [REVOCABLE] }, async (app) => {
        const client = rest({ key: app.keys[0].keyStr });
        const res = await client.auth.revokeTokens([
          { type: 'invalidType', value: 'abc' },
          { type: 'clientId', value: 'alice' },
        ]);
        const seen = JSON.stringify(res);
        assert.equal(res.successCount, 1, seen);
        assert.equal(res.failureCount, 1, seen);
        assert.equal(res.results[0].target, 'invalidType:abc', seen);
        assert.equal(res.results[0].error?.statusCode, 400, seen);
        assert.equal(res.results[0].error?.code, 40000, seen);
        assert.equal(res.results[0].issuedBefore, undefined, seen);
        assert.equal(res.results[1].target, 'clientId:alice', seen);
        assert.ok(Number.isInteger(res.results[1].issuedBefore), seen);
      }));

    test('issuedBefore more than an hour ago or in the future is refused with 40003 / 400', () =>
      withApp({ keys: [REVOCABLE] }, async (app) => {
        const keyRest = rest({ key: app.keys[0].keyStr });
        const targets = [{ type: 'clientId', value: 'gina' }];
        const now = await keyRest.time();
        await expectAblyError(keyRest.auth.revokeTokens(targets, { issuedBefore: now - 2 * HOUR }), 40003, 400);
        await expectAblyError(keyRest.auth.revokeTokens(targets, { issuedBefore: now + HOUR }), 40003, 400);

        // Ten minutes ago is fine, is echoed, and spares a token issued since.
        const td = await keyRest.auth.requestToken({ clientId: 'gina' });
        const issuedBefore = now - 10 * 60_000;
        const res = await keyRest.auth.revokeTokens(targets, { issuedBefore });
        assert.equal(res.results[0].issuedBefore, issuedBefore, JSON.stringify(res));
        await expectAccepted(bearer(td.token), 'probe', 'a token issued after issuedBefore');
      }));

    test('without X-Ably-Version the legacy response shapes are used', () =>
      withApp({ keys: [REVOCABLE] }, async (app) => {
        const key = app.keys[0];
        const ok = await rawRevoke(key.keyName, basic(key), { targets: ['clientId:hal'] }, { version: null });
        assert.equal(ok.status, 201, JSON.stringify(ok.body));
        assert.ok(Array.isArray(ok.body), JSON.stringify(ok.body));
        assert.equal(ok.body[0].target, 'clientId:hal', JSON.stringify(ok.body));
        const mixed = await rawRevoke(key.keyName, basic(key), { targets: ['clientId:hal', 'nope:x'] }, { version: null });
        assert.equal(mixed.status, 400, JSON.stringify(mixed.body));
        assert.equal(mixed.body.error?.code, 40020, JSON.stringify(mixed.body));
        assert.equal(mixed.body.batchResponse?.[1]?.error?.code, 40000, JSON.stringify(mixed.body));
      }));
  });

  describe('key revocation through the CLI', { skip: !haveCLI && 'HERALD_BIN / HERALD_DATA_DIR not set' }, () => {
    test('a live connection on a token of the key fails with 40131 and its tokens are refused', () =>
      withApp({ keys: [{}, REVOCABLE] }, async (app, realtime) => {
        const [sibling, victim] = app.keys;
        const keyRest = rest({ key: victim.keyStr });
        const cb = tokenCallback(() => keyRest.auth.requestToken({ clientId: 'ivy' }));
        const c = realtime({ authCallback: cb });
        await waitForState(c.connection, 'connected');
        const td = await keyRest.auth.requestToken();
        const jwt = ablyJwt(victim, { clientId: 'ivy' });
        await expectAccepted(bearer(td.token), 'probe', 'a token before the key is revoked');

        const failed = waitForState(c.connection, 'failed');
        await revokeKeyWithCLI(victim.keyName);
        const change = await failed;
        assert.equal(change.reason?.code, 40131, `reason ${describeError(change.reason)}`);
        assert.equal(change.reason?.statusCode, 401, `reason ${describeError(change.reason)}`);
        assert.equal(cb.calls, 1, 'a key revocation is not a token error: no renewal');

        expectRawError(await rawHistory(bearer(td.token)), 401, 40131);
        expectRawError(await rawHistory(bearer(jwt)), 401, 40131);
        await expectAblyError(rest({ token: td.token }).channels.get('probe').history(), 40131, 401);
        await expectAblyError(keyRest.auth.requestToken(), 40131, 401);
        await rest({ key: sibling.keyStr }).channels.get('probe').history();
      }));
  });
});
