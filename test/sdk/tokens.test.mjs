// Tokens: TokenRequests, authCallback, authUrl, useTokenAuth, queryTime,
// identified clients, capability intersection, token request errors,
// expiry and renewal, and Ably JWTs, driven through the official ably-js
// SDK wherever it can do the work (ably-auth.md §3, §4.1, §5.5, §7, §8.1-8.2,
// §11; ably-protocol.md §B).

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import msgpack from '@ably/msgpack-js';
import Ably from 'ably';

import {
  KEY,
  appSetup,
  baseURL,
  clientOptions,
  deleteApp,
  expectAblyError,
  protocol,
  provisionApp,
  sleep,
} from './helpers.mjs';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ROOT_CAPABILITY = '{"*":["*"]}';

// Appended to the fixture's keys, so KEY.* indexes stay valid.
const KEY_SCOPED = 6; // channel-scoped, no stats: for intersection checks
const SCOPED_CAPABILITY = JSON.stringify({
  'cansubscribe:*': ['subscribe'],
  'canpublish:*': ['publish'],
  'canpresence:*': ['presence', 'subscribe'],
});

function rest(extra) {
  return new Ably.Rest(clientOptions(extra));
}

// ably-js 2.28 REST re-authorizes and retries on every token error (4014x)
// with no retry limit, so a callback that keeps handing out a token the
// server refuses would loop forever: callbacks give up after this many calls.
const CALLBACK_LIMIT = 4;
const SDK_RENEWAL_BUG = 'ably-js 2.28.0 REST retries a token error with the stale Authorization header (ably/ably-js#2193)';

/** An authCallback that hands out results in turn and counts its calls. */
function callbackFrom(...answers) {
  const cb = (params, done) => {
    cb.params.push(params);
    if (cb.calls >= CALLBACK_LIMIT) {
      cb.calls++;
      done(new Error(`authCallback called ${cb.calls} times: the server keeps refusing its tokens with a token error`), null);
      return;
    }
    const next = answers[Math.min(cb.calls, answers.length - 1)];
    cb.calls++;
    Promise.resolve(typeof next === 'function' ? next(params) : next).then(
      (v) => done(null, v),
      (e) => done(e, null),
    );
  };
  cb.calls = 0;
  cb.params = [];
  return cb;
}

/** The mac of a TokenRequest, computed as ably-auth.md §3.3 describes. */
function macOf(tr, secret) {
  const fields = [tr.keyName, tr.ttl, tr.capability, tr.clientId, tr.timestamp, tr.nonce];
  const text = fields.map((v) => `${v ?? ''}\n`).join('');
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(text, 'utf8').digest('base64');
}

function b64url(s) {
  return Buffer.from(s, 'utf8').toString('base64url');
}

/** An HS256 JWT over claims, signed with secret and carrying header. */
function signJwt(header, claims, secret) {
  const signed = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${signed}.${createHmac('sha256', Buffer.from(secret, 'utf8')).update(signed).digest('base64url')}`;
}

/** An Ably JWT (ably-auth.md §4.1) for key k. */
function ablyJwt(k, { ttlSec = 3600, iatSec, capability = ROOT_CAPABILITY, clientId, extra = {} } = {}) {
  const iat = iatSec ?? Math.floor(Date.now() / 1000) - 1;
  const claims = { iat, exp: iat + ttlSec, ...extra };
  if (capability !== null) claims['x-ably-capability'] = capability; // null: leave it out
  if (clientId !== undefined) claims['x-ably-clientId'] = clientId;
  return signJwt({ typ: 'JWT', alg: 'HS256', kid: k.keyName }, claims, k.keySecret);
}

async function readBody(res) {
  const type = res.headers.get('content-type') || '';
  const buf = Buffer.from(await res.arrayBuffer());
  if (type.startsWith('application/x-msgpack')) return msgpack.decode(buf);
  const text = buf.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** POSTs body to /keys/{keyName}/requestToken as JSON (or msgpack) with no auth unless given. */
async function postTokenRequest(keyName, body, { headers = {}, format = 'json' } = {}) {
  const type = format === 'msgpack' ? 'application/x-msgpack' : 'application/json';
  const res = await fetch(`${baseURL}/keys/${encodeURIComponent(keyName)}/requestToken`, {
    method: 'POST',
    headers: { 'Content-Type': type, Accept: type, ...headers },
    body: format === 'msgpack' ? msgpack.encode(body) : JSON.stringify(body),
  });
  return { status: res.status, body: await readBody(res) };
}

/** GET /stats with the given Authorization header value (and optional client id). */
async function rawStats(authorization, clientId) {
  const headers = { Accept: 'application/json', Authorization: authorization };
  if (clientId) headers['X-Ably-ClientId'] = Buffer.from(clientId).toString('base64');
  const res = await fetch(`${baseURL}/stats`, { headers });
  return { status: res.status, body: await readBody(res) };
}

function bearer(token, { raw = false } = {}) {
  return 'Bearer ' + (raw ? token : Buffer.from(token, 'utf8').toString('base64'));
}

function expectRawError(res, status, code) {
  const err = res.body && res.body.error;
  const seen = `status ${res.status}, body ${JSON.stringify(res.body)}`;
  assert.equal(res.status, status, seen);
  assert.ok(err && typeof err === 'object', `no error object: ${seen}`);
  if (code !== undefined) assert.equal(err.code, code, seen);
  assert.equal(err.statusCode, status, seen);
  return err;
}

/** Asserts a rejection with one of codes (and statusCode, when given). */
async function expectAblyErrorIn(promise, codes, statusCode) {
  let caught;
  await assert.rejects(promise, (err) => {
    caught = err;
    return true;
  });
  const seen = `got code=${caught?.code} statusCode=${caught?.statusCode} message=${JSON.stringify(caught?.message)}`;
  assert.ok(codes.includes(caught.code), `code not in ${codes}: ${seen}`);
  if (statusCode !== undefined) assert.equal(caught.statusCode, statusCode, seen);
  return caught;
}

function assertTokenDetails(td, { keyName, ttl, capability, clientId }) {
  const seen = JSON.stringify(td);
  assert.equal(typeof td.token, 'string', seen);
  assert.ok(td.token.length > 0, seen);
  assert.equal(td.keyName, keyName, seen);
  assert.ok(Number.isInteger(td.issued), `issued: ${seen}`);
  assert.ok(Math.abs(td.issued - Date.now()) < 60_000, `issued is not a current ms timestamp: ${seen}`);
  assert.ok(Number.isInteger(td.expires), `expires: ${seen}`);
  if (ttl !== undefined) assert.equal(td.expires - td.issued, ttl, `expires - issued: ${seen}`);
  if (capability !== undefined) assert.equal(td.capability, capability, `capability: ${seen}`);
  if (clientId === undefined) assert.equal(td.clientId ?? undefined, undefined, `clientId: ${seen}`);
  else assert.equal(td.clientId, clientId, `clientId: ${seen}`);
}

describe(`tokens (${protocol})`, () => {
  let app;
  let root; // {"*":["*"]}
  let scoped; // KEY_SCOPED
  let keyClient; // Rest with the root key (basic auth), used to mint tokens

  before(async () => {
    const setup = appSetup();
    setup.keys.push({ capability: SCOPED_CAPABILITY });
    app = await provisionApp(setup);
    root = app.keys[KEY.root];
    scoped = app.keys[KEY_SCOPED];
    keyClient = rest({ key: root.keyStr });
  });

  after(async () => {
    if (app) await deleteApp(app);
  });

  describe('createTokenRequest and requestToken', () => {
    test('a signed TokenRequest is exchanged for TokenDetails', async () => {
      const tr = await keyClient.auth.createTokenRequest({
        ttl: 120_000,
        clientId: 'carol',
        capability: { '*': ['subscribe', 'stats'] },
      });
      assert.equal(tr.keyName, root.keyName);
      assert.equal(tr.ttl, 120_000);
      assert.equal(tr.clientId, 'carol');
      assert.equal(tr.capability, '{"*":["stats","subscribe"]}', 'the SDK canonicalises the capability');
      assert.ok(typeof tr.nonce === 'string' && tr.nonce.length >= 16, `nonce ${tr.nonce}`);
      assert.equal(tr.mac, macOf(tr, root.keySecret), 'the SDK signs as §3.3 says');

      const cb = callbackFrom(tr);
      const td = await keyClient.auth.requestToken(null, { authCallback: cb });
      assert.equal(cb.calls, 1);
      assertTokenDetails(td, {
        keyName: root.keyName,
        ttl: 120_000,
        capability: '{"*":["stats","subscribe"]}',
        clientId: 'carol',
      });

      const user = rest({ tokenDetails: td, clientId: 'carol' });
      assert.ok(Array.isArray((await user.stats()).items));
    });

    test('requestToken signs locally with the key; default ttl is one hour', async () => {
      const td = await keyClient.auth.requestToken();
      assertTokenDetails(td, { keyName: root.keyName, ttl: HOUR, capability: ROOT_CAPABILITY });
      const td2 = await keyClient.auth.requestToken({ ttl: DAY });
      assert.equal(td2.expires - td2.issued, DAY, '24 h is the maximum and is allowed');
      assert.ok(Array.isArray((await rest({ token: td.token }).stats()).items));
    });

    test('a second client with an authCallback exchanges the TokenRequest', async () => {
      const tr = await keyClient.auth.createTokenRequest({ ttl: 300_000 });
      const cb = callbackFrom(tr);
      const client = rest({ authCallback: cb });
      const td = await client.auth.requestToken();
      assertTokenDetails(td, { keyName: root.keyName, ttl: 300_000, capability: ROOT_CAPABILITY });
      assert.equal(cb.calls, 1);
    });
  });

  describe('authCallback', () => {
    async function statsVia(answer) {
      const cb = callbackFrom(answer);
      const client = rest({ authCallback: cb });
      const page = await client.stats();
      assert.ok(Array.isArray(page.items));
      assert.equal(cb.calls, 1, 'the callback was used once');
      assert.equal(client.auth.method, 'token');
      assert.ok(client.auth.tokenDetails && client.auth.tokenDetails.token, 'the client holds a token');
      return client;
    }

    test('(a) returning a TokenRequest', async () => {
      const client = await statsVia(() => keyClient.auth.createTokenRequest({ ttl: 60_000 }));
      assert.equal(client.auth.tokenDetails.keyName, root.keyName);
      assert.equal(client.auth.tokenDetails.expires - client.auth.tokenDetails.issued, 60_000);
    });

    test('(b) returning TokenDetails', async () => {
      const td = await keyClient.auth.requestToken({ ttl: 60_000 });
      const client = await statsVia(td);
      assert.deepEqual(client.auth.tokenDetails, td);
    });

    test('(c) returning a token string', async () => {
      const td = await keyClient.auth.requestToken();
      const client = await statsVia(td.token);
      assert.equal(client.auth.tokenDetails.token, td.token);
    });

    test('(d) returning an Ably JWT signed with the key secret', async () => {
      const jwt = ablyJwt(root, { capability: '{"*":["stats","subscribe"]}', clientId: 'jwt-user' });
      const client = await statsVia(jwt);
      assert.equal(client.auth.tokenDetails.token, jwt);
    });

    test('(d) a JWT with clientId, used with the same clientId option', async () => {
      const jwt = ablyJwt(root, { clientId: 'jwt-same' });
      const cb = callbackFrom(jwt);
      const client = rest({ authCallback: cb, clientId: 'jwt-same' });
      assert.ok(Array.isArray((await client.stats()).items));
      assert.equal(client.auth.clientId, 'jwt-same');
      assert.equal(cb.calls, 1);
    });

    test('the callback receives the client tokenParams', async () => {
      const cb = callbackFrom((params) => keyClient.auth.createTokenRequest(params));
      const client = rest({ authCallback: cb, defaultTokenParams: { ttl: 90_000 }, clientId: 'param-user' });
      await client.stats();
      assert.equal(cb.params[0].ttl, 90_000);
      assert.equal(cb.params[0].clientId, 'param-user');
      assert.equal(client.auth.tokenDetails.clientId, 'param-user');
      assert.equal(client.auth.tokenDetails.expires - client.auth.tokenDetails.issued, 90_000);
    });
  });

  describe('authUrl', () => {
    let server;
    let authBase;
    const seen = []; // requests the auth server received

    before(async () => {
      server = createServer(async (req, res) => {
        const url = new URL(req.url, 'http://auth.local');
        let body = '';
        for await (const chunk of req) body += chunk;
        const form = Object.fromEntries(new URLSearchParams(body));
        const params = { ...Object.fromEntries(url.searchParams), ...form };
        seen.push({ method: req.method, path: url.pathname, params, headers: req.headers });
        if (seen.filter((s) => s.path === url.pathname && s.params.marker === params.marker).length > CALLBACK_LIMIT) {
          // Stop ably-js retrying forever when the server keeps refusing (see CALLBACK_LIMIT).
          const message = `test auth server: too many ${url.pathname} requests for marker ${params.marker}; Herald keeps refusing the tokens`;
          res.writeHead(403, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 40300, statusCode: 403, message } }));
          return;
        }
        try {
          const tokenParams = params.clientId ? { clientId: params.clientId } : {};
          let type;
          let out;
          switch (url.pathname) {
            case '/tokenrequest':
              type = 'application/json';
              out = JSON.stringify(await keyClient.auth.createTokenRequest(tokenParams));
              break;
            case '/tokendetails':
              type = 'application/json';
              out = JSON.stringify(await keyClient.auth.requestToken(tokenParams));
              break;
            case '/token':
              type = 'text/plain';
              out = (await keyClient.auth.requestToken(tokenParams)).token;
              break;
            case '/jwt':
              type = 'application/jwt';
              out = ablyJwt(root, { clientId: params.clientId });
              break;
            default:
              res.writeHead(404, { 'Content-Type': 'text/plain' });
              res.end('not found');
              return;
          }
          res.writeHead(200, { 'Content-Type': type });
          res.end(out);
        } catch (err) {
          res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end(String(err && err.stack));
        }
      });
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      authBase = `http://127.0.0.1:${server.address().port}`;
    });

    after(async () => {
      if (server) await new Promise((resolve) => server.close(resolve));
    });

    function lastSeen(path, marker) {
      const hits = seen.filter((s) => s.path === path && s.params.marker === marker);
      assert.ok(hits.length >= 1, `the auth server saw no ${path} request with marker ${marker}`);
      return hits[hits.length - 1];
    }

    test('a TokenRequest as application/json, with authParams and authHeaders', async () => {
      const client = rest({
        authUrl: `${authBase}/tokenrequest`,
        authParams: { marker: 'tr-get', user: 'u1' },
        authHeaders: { 'X-Test-Auth': 'yes' },
      });
      assert.ok(Array.isArray((await client.stats()).items));
      const hit = lastSeen('/tokenrequest', 'tr-get');
      assert.equal(hit.method, 'GET');
      assert.equal(hit.params.user, 'u1');
      assert.equal(hit.headers['x-test-auth'], 'yes');
      assert.equal(client.auth.tokenDetails.keyName, root.keyName);
    });

    test('authMethod POST sends the authParams as a form body', async () => {
      const client = rest({ authUrl: `${authBase}/tokenrequest`, authMethod: 'POST', authParams: { marker: 'tr-post' } });
      await client.stats();
      assert.equal(lastSeen('/tokenrequest', 'tr-post').method, 'POST');
    });

    test('the client clientId reaches the auth server and binds the token', async () => {
      const client = rest({ authUrl: `${authBase}/tokenrequest`, authParams: { marker: 'tr-cid' }, clientId: 'url-user' });
      await client.stats();
      assert.equal(lastSeen('/tokenrequest', 'tr-cid').params.clientId, 'url-user');
      assert.equal(client.auth.tokenDetails.clientId, 'url-user');
      assert.equal(client.auth.clientId, 'url-user');
    });

    test('TokenDetails as application/json', async () => {
      const client = rest({ authUrl: `${authBase}/tokendetails`, authParams: { marker: 'td' } });
      await client.stats();
      lastSeen('/tokendetails', 'td');
      assert.ok(client.auth.tokenDetails.issued > 0);
    });

    test('a token string as text/plain', async () => {
      const client = rest({ authUrl: `${authBase}/token`, authParams: { marker: 'tok' } });
      assert.ok(Array.isArray((await client.stats()).items));
      lastSeen('/token', 'tok');
      assert.equal(typeof client.auth.tokenDetails.token, 'string');
    });

    test('an Ably JWT as application/jwt', async () => {
      const client = rest({ authUrl: `${authBase}/jwt`, authParams: { marker: 'jwt' } });
      assert.ok(Array.isArray((await client.stats()).items));
      lastSeen('/jwt', 'jwt');
      assert.equal(client.auth.tokenDetails.token.split('.').length, 3);
    });
  });

  describe('useTokenAuth and queryTime', () => {
    test('useTokenAuth with a key signs TokenRequests locally', async () => {
      const client = rest({ key: root.keyStr, useTokenAuth: true });
      assert.equal(client.auth.tokenDetails ?? null, null);
      assert.ok(Array.isArray((await client.stats()).items));
      assert.equal(client.auth.method, 'token');
      assertTokenDetails(client.auth.tokenDetails, { keyName: root.keyName, ttl: HOUR, capability: ROOT_CAPABILITY });
    });

    test('useTokenAuth with a key and clientId gets a token bound to it', async () => {
      const client = rest({ key: root.keyStr, useTokenAuth: true, clientId: 'alice' });
      await client.stats();
      assert.equal(client.auth.clientId, 'alice');
      assert.equal(client.auth.tokenDetails.clientId, 'alice');
    });

    test('queryTime: true works with useTokenAuth', async () => {
      const client = rest({ key: root.keyStr, useTokenAuth: true, queryTime: true });
      assert.ok(Array.isArray((await client.stats()).items));
      assert.ok(client.auth.tokenDetails.token);
      const serverTime = await client.time();
      const tr = await client.auth.createTokenRequest(null, { key: root.keyStr, queryTime: true });
      assert.ok(Math.abs(tr.timestamp - serverTime) < 5000, `timestamp ${tr.timestamp} vs server ${serverTime}`);
    });

    test('queryTime corrects a skewed local clock (40104 without it)', async () => {
      const config = Ably.Rest.Platform.Config;
      const realNow = config.now;
      config.now = () => realNow.call(config) - 10 * 60_000; // the SDK's clock runs 10 min slow
      try {
        await expectAblyError(rest({ key: root.keyStr, useTokenAuth: true }).stats(), 40104, 401);
        const client = rest({ key: root.keyStr, useTokenAuth: true, queryTime: true });
        assert.ok(Array.isArray((await client.stats()).items));
      } finally {
        config.now = realNow;
      }
    });
  });

  describe('identified clients', () => {
    test('a wildcard token plus clientId option identifies the client as that id', async () => {
      const td = await keyClient.auth.requestToken({ clientId: '*' });
      assert.equal(td.clientId, '*');
      const client = rest({ tokenDetails: td, clientId: 'bob' });
      assert.ok(Array.isArray((await client.stats()).items));
      assert.equal(client.auth.clientId, 'bob');
      const raw = rest({ token: td.token, clientId: 'bob' });
      assert.ok(Array.isArray((await raw.stats()).items), 'the raw wildcard token string works too');
    });

    test('a token bound to alice gives auth.clientId alice', async () => {
      const td = await keyClient.auth.requestToken({ clientId: 'alice' });
      assert.equal(td.clientId, 'alice');
      const cb = callbackFrom(td);
      const client = rest({ authCallback: cb, clientId: 'alice' });
      await client.stats();
      assert.equal(client.auth.clientId, 'alice');
      assert.equal(client.auth.tokenDetails.clientId, 'alice');
      // Without a clientId option the same token is still accepted.
      assert.ok(Array.isArray((await rest({ token: td.token }).stats()).items));
    });

    test('a raw token string bound to alice used as bob is refused by the server with 40102', async () => {
      const td = await keyClient.auth.requestToken({ clientId: 'alice' });
      await expectAblyError(rest({ token: td.token, clientId: 'bob' }).stats(), 40102, 401);
      expectRawError(await rawStats(bearer(td.token), 'bob'), 401, 40102);
    });

    test('an anonymous token used with a clientId is refused with 40102', async () => {
      const td = await keyClient.auth.requestToken();
      assert.equal(td.clientId ?? undefined, undefined);
      await expectAblyError(rest({ token: td.token, clientId: 'bob' }).stats(), 40102, 401);
    });

    test('ably-js refuses a TokenDetails bound to another clientId client-side', async () => {
      const td = await keyClient.auth.requestToken({ clientId: 'alice' });
      await expectAblyError(rest({ tokenDetails: td, clientId: 'bob' }).stats(), 40102, 403);
    });

    test('an empty-string clientId is rejected (40012)', async () => {
      await expectAblyError(keyClient.auth.createTokenRequest({ clientId: '' }), 40012, 400);
      await expectAblyError(keyClient.auth.requestToken({ clientId: '' }), 40012, 400);
    });

    test('a signed TokenRequest with an empty-string clientId is refused by the server with 40012', async () => {
      const tr = { keyName: root.keyName, clientId: '', timestamp: Date.now(), nonce: `empty-cid-${Date.now()}-0001` };
      tr.mac = macOf(tr, root.keySecret);
      expectRawError(await postTokenRequest(root.keyName, tr), 400, 40012);
    });
  });

  describe('capability', () => {
    async function tokenFor(k, capability) {
      return rest({ key: k.keyStr }).auth.requestToken(capability === undefined ? {} : { capability });
    }

    test('ops are intersected with the key and returned canonical', async () => {
      const td = await tokenFor(scoped, { 'cansubscribe:check': ['subscribe', 'publish'] });
      assert.equal(td.capability, '{"cansubscribe:check":["subscribe"]}');
    });

    test('a requested * op takes the key ops; uncovered resources are dropped', async () => {
      const td = await tokenFor(scoped, {
        'canpresence:room': ['*'],
        'canpublish:x': ['publish'],
        channelx: ['subscribe'],
      });
      assert.equal(td.capability, '{"canpresence:room":["presence","subscribe"],"canpublish:x":["publish"]}');
    });

    test('a requested resource narrower than a key wildcard is kept', async () => {
      const td = await tokenFor(root, { 'cansubscribe:*': ['subscribe'], plain: ['history', 'publish'] });
      assert.equal(td.capability, '{"cansubscribe:*":["subscribe"],"plain":["history","publish"]}');
    });

    test('no requested capability gives the key capability byte for byte (blanket)', async () => {
      const k = app.keys[KEY.channels];
      assert.ok(k.capability.includes('["publish","subscribe","push-subscribe"]'), 'fixture has unsorted ops');
      assert.equal((await tokenFor(k)).capability, k.capability);
      assert.equal((await tokenFor(scoped)).capability, SCOPED_CAPABILITY);
    });

    test('an empty ops intersection is refused with 40160 / 401', async () => {
      await expectAblyError(tokenFor(scoped, { 'cansubscribe:x': ['publish'] }), 40160, 401);
    });

    test('an empty paths intersection is refused with 40160 / 401', async () => {
      await expectAblyError(tokenFor(scoped, { elsewhere: ['subscribe'] }), 40160, 401);
    });

    test('an invalid capability is refused with 400', async () => {
      await expectAblyError(tokenFor(root, { 'cansubscribe:x': ['publish_'] }), 40000, 400);
      await expectAblyErrorIn(tokenFor(root, { 'cansubscribe:x': ['*', 'publish'] }), [40000, 40003], 400);
      await expectAblyErrorIn(tokenFor(root, { 'cansubscribe:x': [] }), [40000, 40003], 400);
    });

    test('GET /stats needs stats on * or [*]*', async () => {
      await expectAblyError(rest({ token: (await tokenFor(app.keys[KEY.subscribeOnly])).token }).stats(), 40160, 401);
      await expectAblyError(rest({ token: (await tokenFor(scoped)).token }).stats(), 40160, 401);
      const qualified = await tokenFor(app.keys[KEY.qualified]);
      assert.equal(qualified.capability, '{"[*]*":["*"]}');
      assert.ok(Array.isArray((await rest({ token: qualified.token }).stats()).items));
      const statsOnly = await tokenFor(root, { '*': ['stats'] });
      assert.ok(Array.isArray((await rest({ token: statsOnly.token }).stats()).items));
    });
  });

  describe('token request errors', () => {
    function viaCallback(tr) {
      return keyClient.auth.requestToken(null, { authCallback: callbackFrom(tr) });
    }

    test('a tampered mac is refused with 40101 / 401', async () => {
      const tr = await keyClient.auth.createTokenRequest({ ttl: 60_000 });
      tr.mac = macOf({ ...tr, ttl: 120_000 }, root.keySecret);
      await expectAblyError(viaCallback(tr), 40101, 401);
      const other = await keyClient.auth.createTokenRequest({ ttl: 60_000 });
      other.mac = macOf(other, 'not-the-secret');
      await expectAblyError(viaCallback(other), 40101, 401);
    });

    test('a timestamp 30 minutes old (or ahead) is refused with 40104 / 401', async () => {
      const old = await keyClient.auth.createTokenRequest({ timestamp: Date.now() - 30 * 60_000 });
      await expectAblyError(viaCallback(old), 40104, 401);
      const ahead = await keyClient.auth.createTokenRequest({ timestamp: Date.now() + 30 * 60_000 });
      await expectAblyError(viaCallback(ahead), 40104, 401);
    });

    test('a replayed nonce is refused with 40105 / 401', async () => {
      const tr = await keyClient.auth.createTokenRequest({ ttl: 60_000 });
      const td = await viaCallback({ ...tr });
      assert.ok(td.token);
      await expectAblyError(viaCallback({ ...tr }), 40105, 401);
      expectRawError(await postTokenRequest(root.keyName, tr), 401, 40105);
    });

    test('ttl of 365 days is refused with 40003 / 400', async () => {
      await expectAblyError(keyClient.auth.requestToken({ ttl: 365 * DAY }), 40003, 400);
      await expectAblyError(keyClient.auth.requestToken({ ttl: DAY + 1 }), 40003, 400);
    });

    test('a negative or non-numeric ttl is refused with 400', async () => {
      const neg = await expectAblyErrorIn(keyClient.auth.requestToken({ ttl: -1 }), [40003, 40000, 40001], 400);
      assert.ok(neg);
      await expectAblyErrorIn(keyClient.auth.requestToken({ ttl: 'soon' }), [40003, 40000, 40001], 400);
    });

    test('a revocable key issues tokens of at most one hour', async () => {
      const rk = rest({ key: app.keys[KEY.revocable].keyStr });
      const td = await rk.auth.requestToken({ ttl: HOUR });
      assert.equal(td.expires - td.issued, HOUR);
      await expectAblyError(rk.auth.requestToken({ ttl: 2 * HOUR }), 40003, 400);
    });

    test('an unsigned TokenRequest needs Basic auth of the same key', async () => {
      const body = { keyName: root.keyName, ttl: 60_000, timestamp: Date.now() };
      const basic = 'Basic ' + Buffer.from(root.keyStr).toString('base64');
      const ok = await postTokenRequest(root.keyName, body, { headers: { Authorization: basic } });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assertTokenDetails(ok.body, { keyName: root.keyName, ttl: 60_000, capability: ROOT_CAPABILITY });
      expectRawError(await postTokenRequest(root.keyName, body), 401);
      const otherKey = 'Basic ' + Buffer.from(scoped.keyStr).toString('base64');
      const wrong = await postTokenRequest(root.keyName, body, { headers: { Authorization: otherKey } });
      assert.ok(wrong.status === 401 || wrong.status === 403, `another key's Basic auth: ${JSON.stringify(wrong)}`);
    });

    test('a signed TokenRequest posted as msgpack (as ably-go does) gets msgpack TokenDetails', async () => {
      const tr = await keyClient.auth.createTokenRequest({ ttl: 60_000, clientId: 'gopher', capability: { '*': ['stats'] } });
      const res = await postTokenRequest(root.keyName, tr, { format: 'msgpack' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assertTokenDetails(res.body, { keyName: root.keyName, ttl: 60_000, capability: '{"*":["stats"]}', clientId: 'gopher' });
    });
  });

  describe('Bearer tokens on REST', () => {
    test('accepts the token base64-encoded (as the SDKs send it) and raw', async () => {
      const td = await keyClient.auth.requestToken();
      assert.equal((await rawStats(bearer(td.token))).status, 200);
      assert.equal((await rawStats(bearer(td.token, { raw: true }))).status, 200);
    });

    test('token auth works in this pass (requestToken posted as JSON, stats in the pass format)', async () => {
      const client = rest({ key: root.keyStr, useTokenAuth: true });
      assert.equal(client.options.useBinaryProtocol, protocol === 'msgpack');
      const page = await client.stats({ unit: 'minute', limit: 5 });
      assert.ok(Array.isArray(page.items));
      assert.ok(client.auth.tokenDetails.token);
    });
  });

  describe('expiry and renewal', () => {
    async function expiredTokenDetails() {
      const td = await keyClient.auth.requestToken({ ttl: 1 });
      assert.equal(td.expires - td.issued, 1, 'a 1 ms ttl is allowed');
      await sleep(20);
      return td;
    }

    test('an expired token is refused with 40142 / 401', async () => {
      const td = await expiredTokenDetails();
      expectRawError(await rawStats(bearer(td.token)), 401, 40142);
    });

    // RSA4b/RSC10: one renewal, two callback calls, and the call succeeds.
    // ably-js 2.28.0 retries with the stale Authorization header and without
    // a retry limit (ably/ably-js#2193, fix in PR #2303), so against any
    // server the retry carries the expired token again; this stays a todo
    // until the pinned SDK has the fix.
    test('the SDK renews once through the authCallback after 40142 and retries', { todo: SDK_RENEWAL_BUG }, async () => {
      const expired = await expiredTokenDetails();
      const cb = callbackFrom(expired, () => keyClient.auth.requestToken());
      const client = rest({ authCallback: cb });
      assert.ok(Array.isArray((await client.stats()).items));
      assert.equal(cb.calls, 2, 'the callback ran exactly twice');
      assert.notEqual(client.auth.tokenDetails.token, expired.token);
    });

    test('the server 40142 makes the SDK go back to its authCallback', async () => {
      const expired = await expiredTokenDetails();
      const cb = callbackFrom(expired, () => keyClient.auth.requestToken());
      await rest({ authCallback: cb }).stats().catch(() => {}); // see SDK_RENEWAL_BUG
      assert.ok(cb.calls >= 2, `the callback ran ${cb.calls} time(s): the expired token was not refused as a token error`);
    });

    test('a locally expired TokenDetails is renewed once through the authCallback (server time known)', async () => {
      const expired = await expiredTokenDetails();
      const cb = callbackFrom(() => keyClient.auth.requestToken());
      const client = rest({ tokenDetails: expired, authCallback: cb });
      await client.time(); // gives the SDK the server time offset (RSA4b1)
      assert.ok(Array.isArray((await client.stats()).items));
      assert.equal(cb.calls, 1, 'the callback ran exactly once');
      assert.notEqual(client.auth.tokenDetails.token, expired.token);
    });

    test('an expired token with no means to renew fails', async () => {
      const td = await expiredTokenDetails();
      for (const client of [rest({ token: td.token }), rest({ tokenDetails: td })]) {
        const err = await expectAblyErrorIn(client.stats(), [40171, 40142]);
        assert.ok(err.code === 40171 ? err.statusCode === 403 : err.statusCode === 401, `statusCode ${err.statusCode}`);
      }
    });
  });

  describe('Ably JWT', () => {
    test('a JWT with a string capability authenticates REST calls', async () => {
      const jwt = ablyJwt(root, { capability: '{"*":["stats"]}' });
      assert.equal((await rawStats(bearer(jwt))).status, 200);
      assert.equal((await rawStats(bearer(jwt, { raw: true }))).status, 200);
      assert.ok(Array.isArray((await rest({ token: jwt }).stats()).items));
    });

    test('a JWT with an object capability is accepted', async () => {
      const jwt = ablyJwt(root, { capability: { '*': ['stats'] } });
      assert.ok(Array.isArray((await rest({ token: jwt }).stats()).items));
    });

    test('a JWT without x-ably-capability gets the key capability', async () => {
      const jwt = ablyJwt(root, { capability: null });
      assert.ok(Array.isArray((await rest({ token: jwt }).stats()).items));
    });

    test('a JWT capability is intersected with the key (no stats on a scoped key)', async () => {
      const jwt = ablyJwt(scoped, { capability: ROOT_CAPABILITY });
      await expectAblyError(rest({ token: jwt }).stats(), 40160, 401);
      const none = ablyJwt(scoped, { capability: '{"elsewhere":["subscribe"]}' });
      const res = await rawStats(bearer(none));
      assert.equal(res.status, 401, JSON.stringify(res.body));
    });

    test('a JWT bound to alice is refused as bob (40102) and accepted as alice', async () => {
      const jwt = ablyJwt(root, { clientId: 'alice' });
      await expectAblyError(rest({ token: jwt, clientId: 'bob' }).stats(), 40102, 401);
      assert.ok(Array.isArray((await rest({ token: jwt, clientId: 'alice' }).stats()).items));
    });

    test('a wildcard JWT plus clientId option identifies the client', async () => {
      const jwt = ablyJwt(root, { clientId: '*' });
      const client = rest({ token: jwt, clientId: 'bob' });
      assert.ok(Array.isArray((await client.stats()).items));
      assert.equal(client.auth.clientId, 'bob');
    });

    test('an expired JWT is refused with 40142 / 401', async () => {
      const nowSec = Math.floor(Date.now() / 1000);
      const expired = ablyJwt(root, { iatSec: nowSec - 120, ttlSec: 60 });
      expectRawError(await rawStats(bearer(expired)), 401, 40142);
      const cb = callbackFrom(expired, () => ablyJwt(root));
      await rest({ authCallback: cb }).stats().catch(() => {}); // see SDK_RENEWAL_BUG
      assert.ok(cb.calls >= 2, 'the 40142 made the SDK go back to its authCallback');
    });

    test('an expired JWT is renewed once by the SDK', { todo: SDK_RENEWAL_BUG }, async () => {
      const nowSec = Math.floor(Date.now() / 1000);
      const cb = callbackFrom(ablyJwt(root, { iatSec: nowSec - 120, ttlSec: 60 }), () => ablyJwt(root));
      const client = rest({ authCallback: cb });
      assert.ok(Array.isArray((await client.stats()).items));
      assert.equal(cb.calls, 2);
    });

    test('a JWT with a bad signature is refused with 401', async () => {
      const good = ablyJwt(root);
      const forged = good.slice(0, good.lastIndexOf('.') + 1) + createHmac('sha256', 'wrong').update('x').digest('base64url');
      const err = expectRawError(await rawStats(bearer(forged)), 401);
      assert.ok([40144, 40101].includes(err.code), `code ${err.code}`);
    });

    test('a JWT without kid is refused with 40144 / 401', async () => {
      const iat = Math.floor(Date.now() / 1000) - 1;
      const jwt = signJwt({ typ: 'JWT', alg: 'HS256' }, { iat, exp: iat + 600, 'x-ably-capability': ROOT_CAPABILITY }, root.keySecret);
      expectRawError(await rawStats(bearer(jwt)), 401, 40144);
    });

    test('a JWT without iat is refused', async () => {
      const exp = Math.floor(Date.now() / 1000) + 600;
      const jwt = signJwt({ typ: 'JWT', alg: 'HS256', kid: root.keyName }, { exp }, root.keySecret);
      const res = await rawStats(bearer(jwt));
      assert.ok(res.status === 401 || res.status === 400, JSON.stringify(res));
      assert.equal(res.body.error.code, 40144, JSON.stringify(res.body));
    });

    test('a JWT living longer than 24 h (1 h for revocable keys) is refused', async () => {
      const long = await rawStats(bearer(ablyJwt(root, { ttlSec: 25 * 3600 })));
      assert.ok(long.status === 400 || long.status === 401, JSON.stringify(long));
      const rk = app.keys[KEY.revocable];
      assert.equal((await rawStats(bearer(ablyJwt(rk, { ttlSec: 3600 })))).status, 200);
      const revocable = await rawStats(bearer(ablyJwt(rk, { ttlSec: 2 * 3600 })));
      assert.ok(revocable.status === 400 || revocable.status === 401, JSON.stringify(revocable));
    });
  });
});
