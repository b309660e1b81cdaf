// Realtime: connect with every credential kind, publish/subscribe,
// presence, capability enforcement, in-band re-auth and token expiry,
// identified clients, JWT user claims and rate limits, and resume after a
// dropped socket, all through ably-js's Realtime client (ably-protocol.md
// §A; ably-auth.md §4.3-4.4, §7, §8).
//
// sdk_test.go runs the server with AuthLeadTime 3 s so the renewal tests
// take seconds rather than minutes.

import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import Ably from 'ably';

import {
  clientOptions, closeClient, deleteApp, describeError, eventually, expectAblyError, protocol, provisionApp, sleep, waitForState,
} from './helpers.mjs';

const ALL = '{"*":["*"]}';

/** A channel name unique to this run. */
function uniq(prefix) {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/**
 * Runs fn with a factory for Realtime clients and closes every client it
 * made afterwards, whatever happened, so node can exit.
 */
async function withClients(fn) {
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

/** Records every state change of emitter (including 'update' events). */
function recordStates(emitter) {
  const changes = [];
  emitter.on((change) => changes.push(change));
  return changes;
}

/** Subscribes to channel and collects what arrives; resolves once attached. */
async function collect(channel, event) {
  const msgs = [];
  const listener = (m) => msgs.push(m);
  if (event) await channel.subscribe(event, listener);
  else await channel.subscribe(listener);
  return {
    msgs,
    until: (n, what = `${n} message(s) on ${channel.name}`) =>
      eventually(() => msgs.length >= n, { timeoutMs: 5000, intervalMs: 25, what }),
  };
}

/** Collects presence events on channel; resolves once attached. */
async function collectPresence(channel) {
  const events = [];
  await channel.presence.subscribe((p) => events.push(p));
  return {
    events,
    until: (pred, what) => eventually(() => events.find(pred), { timeoutMs: 5000, intervalMs: 25, what }),
  };
}

function b64url(s) {
  return Buffer.from(s, 'utf8').toString('base64url');
}

/** An Ably JWT (ably-auth.md §4.1): HS256 over the key secret, kid = keyName. */
function signJwt(key, { ttlSec = 3600, capability = ALL, clientId, claims = {} } = {}) {
  const iat = Math.floor(Date.now() / 1000) - 1;
  const body = { iat, exp: iat + ttlSec, 'x-ably-capability': capability, ...claims };
  if (clientId !== undefined) body['x-ably-clientId'] = clientId;
  const header = { typ: 'JWT', alg: 'HS256', kid: key.keyName };
  const signed = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(body))}`;
  const sig = createHmac('sha256', Buffer.from(key.keySecret, 'utf8')).update(signed).digest('base64url');
  return `${signed}.${sig}`;
}

/**
 * An authCallback handing out, call after call, the results of makers
 * (the last one repeats); it counts its calls.
 */
function tokenCallback(...makers) {
  const cb = (params, done) => {
    const make = makers[Math.min(cb.calls, makers.length - 1)];
    cb.calls++;
    Promise.resolve()
      .then(() => make(params))
      .then(
        (v) => done(null, v),
        (e) => done(e, null),
      );
  };
  cb.calls = 0;
  return cb;
}

describe(`realtime (${protocol})`, () => {
  let app;
  let root; // the app's key: {"*":["*"]}
  let keyRest; // REST client with that key, to issue tokens

  before(async () => {
    app = await provisionApp({ keys: [{}] });
    root = app.keys[0];
    keyRest = new Ably.Rest(clientOptions({ key: root.keyStr }));
  });

  after(async () => {
    if (app) await deleteApp(app);
  });

  const token = (params = {}) => keyRest.auth.requestToken(params);

  describe('connect', () => {
    test('with a key (Basic auth over the socket)', () =>
      withClients(async (make) => {
        const c = make({ key: root.keyStr });
        await waitForState(c.connection, 'connected');
        assert.equal(typeof c.connection.id, 'string');
        assert.ok(c.connection.id.length > 0, 'connection.id is empty');
        assert.equal(typeof c.connection.key, 'string');
        assert.ok(c.connection.key.length > 0, 'connection.key is empty');
        assert.equal(c.auth.clientId ?? undefined, undefined, 'a key without clientId is unidentified');
      }));

    test('with an Ably token string from requestToken', () =>
      withClients(async (make) => {
        const td = await token({ clientId: 'token-user' });
        const c = make({ token: td.token });
        await waitForState(c.connection, 'connected');
        assert.equal(c.auth.clientId, 'token-user', 'clientId learned from CONNECTED');
        const ch = c.channels.get(uniq('tok'));
        await ch.attach();
        await ch.publish('hello', 'world');
      }));

    test('with an Ably JWT signed with the key secret', () =>
      withClients(async (make) => {
        const jwt = signJwt(root, { capability: '{"jwt:*":["publish","subscribe"]}', clientId: 'jwt-user' });
        const c = make({ token: jwt });
        await waitForState(c.connection, 'connected');
        assert.equal(c.auth.clientId, 'jwt-user', 'clientId learned from the x-ably-clientId claim');
        const ch = c.channels.get(uniq('jwt:room'));
        const got = await collect(ch);
        await ch.publish('hello', 'jwt');
        await got.until(1);
        assert.equal(got.msgs[0].clientId, 'jwt-user');
        await expectAblyError(c.channels.get(uniq('elsewhere')).attach(), 40160, 401);
      }));

    test('with an authCallback returning a TokenRequest', () =>
      withClients(async (make) => {
        const cb = tokenCallback(() => keyRest.auth.createTokenRequest({ clientId: 'cb-user' }));
        const c = make({ authCallback: cb });
        await waitForState(c.connection, 'connected');
        assert.ok(cb.calls >= 1, 'authCallback was called');
        assert.equal(c.auth.clientId, 'cb-user');
      }));
  });

  describe('publish and subscribe', () => {
    test('string, JSON object and binary data travel between two clients', () =>
      withClients(async (make) => {
        const name = uniq('pubsub');
        const sub = make({ key: root.keyStr });
        const pub = make({ key: root.keyStr });
        const got = await collect(sub.channels.get(name));
        const bytes = Buffer.from([0, 1, 2, 127, 128, 254, 255]);
        const object = { seat: 7, tags: ['a', 'b'], nested: { ok: true, none: null } };
        const ch = pub.channels.get(name); // publish without attach (RTL6c)
        await ch.publish('text', 'hello, world');
        await ch.publish('object', object);
        await ch.publish('binary', bytes);
        await got.until(3);
        const byName = Object.fromEntries(got.msgs.map((m) => [m.name, m]));
        assert.equal(byName.text.data, 'hello, world');
        assert.deepEqual(byName.object.data, object);
        const bin = byName.binary.data;
        assert.ok(Buffer.isBuffer(bin) || bin instanceof Uint8Array, `binary arrived as ${typeof bin}: ${JSON.stringify(bin)}`);
        assert.ok(Buffer.from(bin).equals(bytes), `binary bytes: ${Buffer.from(bin).toString('hex')}`);
        for (const m of got.msgs) {
          assert.equal(m.connectionId, pub.connection.id, 'connectionId of the publisher');
          assert.equal(typeof m.id, 'string');
          assert.ok(m.timestamp > 0, 'timestamp');
        }
      }));

    test('publish resolves with the serials from the ACK, and echo reaches the publisher', () =>
      withClients(async (make) => {
        const c = make({ key: root.keyStr });
        const ch = c.channels.get(uniq('ack'));
        const got = await collect(ch);
        const res = await ch.publish([{ name: 'a', data: '1' }, { name: 'b', data: '2' }]);
        if (res !== undefined) {
          assert.equal(res.serials.length, 2, `publish result: ${JSON.stringify(res)}`);
        }
        await got.until(2);
        assert.deepEqual(got.msgs.map((m) => m.name), ['a', 'b']);
      }));
  });

  describe('presence', () => {
    test('enter, update, get and leave are seen across clients', () =>
      withClients(async (make) => {
        const name = uniq('presence');
        const alice = make({ key: root.keyStr, clientId: 'alice' });
        const bob = make({ key: root.keyStr, clientId: 'bob' });
        const aliceCh = alice.channels.get(name);
        await aliceCh.presence.enter('hi');

        // bob attaches after alice is in: he learns of her from the SYNC.
        const bobCh = bob.channels.get(name);
        const members = await bobCh.presence.get();
        assert.deepEqual(members.map((m) => [m.clientId, m.data]), [['alice', 'hi']]);
        assert.equal(members[0].connectionId, alice.connection.id);

        const seen = await collectPresence(bobCh);
        await aliceCh.presence.update('busy');
        await seen.until((p) => p.action === 'update' && p.clientId === 'alice' && p.data === 'busy', 'alice update');
        // bob's ACK and alice's copy of his enter travel on two sockets, in
        // no guaranteed order (as with Ably): alice's set is complete once
        // she has seen the event.
        const aliceSeen = await collectPresence(aliceCh);
        await bobCh.presence.enter('hello');
        await aliceSeen.until((p) => p.action === 'enter' && p.clientId === 'bob', 'bob enter seen by alice');
        const both = await aliceCh.presence.get();
        assert.deepEqual(both.map((m) => m.clientId).sort(), ['alice', 'bob']);

        await aliceCh.presence.leave();
        await seen.until((p) => p.action === 'leave' && p.clientId === 'alice', 'alice leave');
        assert.deepEqual((await bobCh.presence.get()).map((m) => m.clientId), ['bob']);
      }));

    test('members leave when their client closes', () =>
      withClients(async (make) => {
        const name = uniq('presence-close');
        const watcher = make({ key: root.keyStr, clientId: 'watcher' });
        const carol = make({ key: root.keyStr, clientId: 'carol' });
        const seen = await collectPresence(watcher.channels.get(name));
        await carol.channels.get(name).presence.enter();
        await seen.until((p) => p.action === 'enter' && p.clientId === 'carol', 'carol enter');
        await closeClient(carol);
        await seen.until((p) => p.action === 'leave' && p.clientId === 'carol', 'carol leave after close');
        assert.deepEqual(await watcher.channels.get(name).presence.get(), []);
      }));

    test('enterClient works for a key without clientId', () =>
      withClients(async (make) => {
        const name = uniq('enter-client');
        const c = make({ key: root.keyStr });
        const ch = c.channels.get(name);
        await ch.presence.enterClient('dave', 'one');
        await ch.presence.enterClient('erin', 'two');
        const members = await ch.presence.get();
        assert.deepEqual(members.map((m) => m.clientId).sort(), ['dave', 'erin']);
      }));
  });

  describe('capabilities', () => {
    test('attach to a channel outside the capability fails the channel with 40160', () =>
      withClients(async (make) => {
        const td = await token({ capability: '{"chat:*":["*"]}' });
        const c = make({ token: td.token });
        const denied = c.channels.get(uniq('other'));
        await expectAblyError(denied.attach(), 40160, 401);
        assert.equal(denied.state, 'failed');
        assert.equal(denied.errorReason?.code, 40160);
        assert.equal(c.connection.state, 'connected', 'a channel error does not touch the connection');
        await c.channels.get(uniq('chat:ok')).attach();
      }));

    test('publish without the publish capability is refused with 40160', () =>
      withClients(async (make) => {
        const td = await token({ capability: '{"*":["subscribe"]}' });
        const c = make({ token: td.token });
        await waitForState(c.connection, 'connected');
        // not attached: the server checks the credential directly
        await expectAblyError(c.channels.get(uniq('ro')).publish('x', 'y'), 40160, 401);
        // attached (subscribe is allowed): the attachment checks it
        const ch = c.channels.get(uniq('ro'));
        await ch.attach();
        await expectAblyError(ch.publish('x', 'y'), 40160, 401);
        assert.equal(ch.state, 'attached');
        assert.equal(c.connection.state, 'connected');
      }));
  });

  describe('token expiry and renewal', () => {
    test('a 5 s token is renewed in-band (AUTH) without a disconnect', { timeout: 30_000 }, () =>
      withClients(async (make) => {
        const cb = tokenCallback(() => token({ ttl: 5000 }));
        const c = make({ authCallback: cb });
        await waitForState(c.connection, 'connected');
        const id = c.connection.id;
        const changes = recordStates(c.connection);
        const ch = c.channels.get(uniq('renew'));
        const got = await collect(ch);
        await sleep(7000);
        const left = changes.filter((x) => x.current !== 'connected');
        assert.deepEqual(left.map((x) => `${x.current} (${describeError(x.reason)})`), [], 'connection left connected');
        assert.ok(changes.some((x) => x.previous === 'connected' && x.current === 'connected'), 'a CONNECTED after AUTH shows as an update event');
        assert.equal(c.connection.state, 'connected');
        assert.equal(c.connection.id, id, 'connection.id kept across re-auth');
        assert.ok(cb.calls >= 2, `authCallback called ${cb.calls} times`);
        await ch.publish('after', 'renewal');
        await got.until(1);
        assert.equal(ch.state, 'attached');
      }));

    // ably-js's auth_token_expires: a 5 s token with Ably's 30 s lead time
    // gets no AUTH; it expires (DISCONNECTED 40142) and the SDK renews and
    // resumes. Here: a 3 s token with the 3 s lead time.
    test('a renewable token no longer than the lead time expires with 40142, then the SDK renews and resumes', { timeout: 30_000 }, () =>
      withClients(async (make) => {
        const cb = tokenCallback(() => {
          if (cb.calls > 10) throw new Error(`authCallback called ${cb.calls} times in a row`);
          return token({ ttl: 3000 });
        });
        const c = make({ authCallback: cb });
        await waitForState(c.connection, 'connected');
        const id = c.connection.id;
        const changes = recordStates(c.connection);
        const disconnected = await waitForState(c.connection, 'disconnected', 6000);
        assert.equal(disconnected.reason?.code, 40142, describeError(disconnected.reason));
        assert.equal(disconnected.reason?.statusCode, 401);
        await waitForState(c.connection, 'connected');
        assert.equal(c.connection.id, id, 'resumed with the renewed token');
        assert.equal(cb.calls, 2, `authCallback calls (states: ${changes.map((x) => x.current).join(' ')})`);
      }));

    test('a token string that cannot be renewed ends DISCONNECTED 40142 then FAILED 40171', { timeout: 30_000 }, () =>
      withClients(async (make) => {
        const td = await token({ ttl: 3000 });
        const c = make({ token: td.token });
        const changes = recordStates(c.connection);
        await waitForState(c.connection, 'connected');
        await eventually(() => c.connection.state === 'failed', { timeoutMs: 10_000, what: 'connection failed' }).catch(() => {});
        const seq = changes.filter((x) => x.previous !== x.current).map((x) => `${x.current}:${x.reason?.code ?? ''}`);
        const disconnected = changes.find((x) => x.current === 'disconnected');
        assert.ok(disconnected, `no disconnected state; states: ${seq.join(' ')}`);
        assert.equal(disconnected.reason?.code, 40142, `disconnect reason; states: ${seq.join(' ')}`);
        assert.equal(disconnected.reason?.statusCode, 401);
        assert.equal(c.connection.state, 'failed', `states: ${seq.join(' ')}`);
        assert.equal(c.connection.errorReason?.code, 40171, `states: ${seq.join(' ')}`);
        assert.ok(
          changes.indexOf(disconnected) < changes.findIndex((x) => x.current === 'failed'),
          `disconnected before failed; states: ${seq.join(' ')}`,
        );
      }));
  });

  describe('auth.authorize() on a live connection', () => {
    test('upgrades the capability: publish is refused, then allowed', () =>
      withClients(async (make) => {
        const cb = tokenCallback(
          () => token({ capability: '{"*":["subscribe"]}' }),
          () => token({ capability: '{"*":["publish","subscribe"]}' }),
        );
        const c = make({ authCallback: cb });
        const ch = c.channels.get(uniq('upgrade'));
        const got = await collect(ch);
        const id = c.connection.id;
        await expectAblyError(ch.publish('before', 'x'), 40160, 401);
        await c.auth.authorize();
        assert.equal(c.connection.state, 'connected');
        assert.equal(c.connection.id, id, 'same connection after re-auth');
        await ch.publish('after', 'y');
        await got.until(1);
        assert.equal(got.msgs[0].name, 'after');
        assert.equal(ch.state, 'attached');
      }));

    test('downgrades the capability: a channel no longer allowed goes FAILED with 40160', () =>
      withClients(async (make) => {
        const cb = tokenCallback(
          () => token({ capability: '{"chat:*":["*"]}' }),
          () => token({ capability: '{"other:*":["*"]}' }),
        );
        const c = make({ authCallback: cb });
        const chat = c.channels.get(uniq('chat:room'));
        await chat.attach();
        const id = c.connection.id;
        const failed = waitForState(chat, 'failed').catch((e) => e);
        await c.auth.authorize();
        const change = await failed;
        assert.ok(!(change instanceof Error), String(change));
        assert.equal(chat.errorReason?.code, 40160, `channel reason ${describeError(chat.errorReason)}`);
        assert.equal(c.connection.state, 'connected');
        assert.equal(c.connection.id, id);
        await c.channels.get(uniq('other:room')).attach();
      }));

    test('losing only publish keeps the channel attached and refuses publish', () =>
      withClients(async (make) => {
        const cb = tokenCallback(
          () => token({ capability: ALL }),
          () => token({ capability: '{"*":["subscribe"]}' }),
        );
        const c = make({ authCallback: cb });
        const ch = c.channels.get(uniq('lose-publish'));
        const got = await collect(ch);
        await ch.publish('allowed', '1');
        await got.until(1);
        const channelChanges = recordStates(ch);
        await c.auth.authorize();
        await expectAblyError(ch.publish('refused', '2'), 40160, 401);
        assert.equal(ch.state, 'attached');
        assert.deepEqual(channelChanges.map((x) => x.current), [], 'channel state unchanged');
      }));
  });

  describe('identified clients', () => {
    test('a token bound to alice: messages are stamped alice; clientId bob is refused with 40012', () =>
      withClients(async (make) => {
        const name = uniq('ident');
        const td = await token({ clientId: 'alice' });
        const alice = make({ token: td.token });
        const watcher = make({ key: root.keyStr });
        const got = await collect(watcher.channels.get(name));
        const ch = alice.channels.get(name);
        await ch.publish('mine', '1');
        await expectAblyError(ch.publish({ name: 'forged', data: '2', clientId: 'bob' }), 40012, 400);
        await ch.publish({ name: 'explicit', data: '3', clientId: 'alice' });
        await got.until(2);
        await sleep(200);
        assert.deepEqual(got.msgs.map((m) => [m.name, m.clientId]), [['mine', 'alice'], ['explicit', 'alice']]);
        assert.equal(alice.connection.state, 'connected');
      }));

    test('an anonymous token cannot enter presence', () =>
      withClients(async (make) => {
        const name = uniq('anon');
        const td = await token();
        const c = make({ token: td.token });
        const ch = c.channels.get(name);
        await ch.attach();
        assert.equal(c.auth.clientId ?? undefined, undefined, 'anonymous');
        // ably-js refuses this one itself (RTP8j)...
        await assert.rejects(ch.presence.enter('x'));
        // ...but not an explicit clientId: the server refuses it.
        await expectAblyError(ch.presence.enterClient('mallory', 'x'), 40012, 400);
        // A presence message with no clientId at all reaches the server
        // through ably-js's internal sender: 91000 (ably-auth.md §7.5).
        await expectAblyError(ch.presence._enterOrUpdateClient(undefined, undefined, 'x', 'enter'), 91000, 400);
        assert.deepEqual(await ch.presence.get(), []);
        assert.equal(c.connection.state, 'connected');
      }));
  });

  describe('JWT claims', () => {
    test('ably.channel.<resource> becomes extras.userClaim on messages', () =>
      withClients(async (make) => {
        const room = uniq('chat:lobby');
        const plain = uniq('plain');
        const jwt = signJwt(root, { clientId: 'mod', claims: { 'ably.channel.chat:*': 'moderator' } });
        const mod = make({ token: jwt });
        const watcher = make({ key: root.keyStr });
        const inRoom = await collect(watcher.channels.get(room));
        const inPlain = await collect(watcher.channels.get(plain));
        await mod.channels.get(room).publish({ name: 'm', data: 'hi', extras: { headers: { k: 'v' } } });
        await mod.channels.get(plain).publish('m', 'hi');
        await inRoom.until(1);
        await inPlain.until(1);
        const m = inRoom.msgs[0];
        assert.equal(m.extras?.userClaim, 'moderator', `extras: ${JSON.stringify(m.extras)}`);
        assert.deepEqual(m.extras?.headers, { k: 'v' }, 'other extras kept');
        assert.equal(m.clientId, 'mod');
        assert.equal(inPlain.msgs[0].extras?.userClaim, undefined, 'no claim on a channel the claim does not cover');
      }));

    test('a client cannot set extras.userClaim itself', () =>
      withClients(async (make) => {
        const name = uniq('forge-claim');
        const c = make({ key: root.keyStr });
        const ch = c.channels.get(name);
        const got = await collect(ch);
        await ch.publish({ name: 'm', data: '1', extras: { userClaim: 'admin' } });
        await got.until(1);
        assert.equal(got.msgs[0].extras?.userClaim, undefined, `extras: ${JSON.stringify(got.msgs[0].extras)}`);
      }));

    test('ably.limits.publish.perAttachment.maxRate.<resource> NACKs with 42911', () =>
      withClients(async (make) => {
        const jwt = signJwt(root, { claims: { 'ably.limits.publish.perAttachment.maxRate.limited': 1 } });
        const c = make({ token: jwt });
        const ch = c.channels.get('limited');
        await ch.attach();
        const [first, second] = await Promise.allSettled([ch.publish('a', '1'), ch.publish('b', '2')]);
        assert.equal(first.status, 'fulfilled', `first publish: ${describeError(first.reason)}`);
        assert.equal(second.status, 'rejected', 'second immediate publish is rate limited');
        assert.equal(second.reason.code, 42911, describeError(second.reason));
        assert.equal(second.reason.statusCode, 429, describeError(second.reason));
        assert.equal(c.connection.state, 'connected');
        assert.equal(ch.state, 'attached');
        // Other channels are not limited; after a second the limit refills.
        const free = c.channels.get(uniq('free'));
        await free.attach();
        await free.publish('c', '3');
        await free.publish('d', '4');
        await sleep(1100);
        await ch.publish('e', '5');
      }));
  });

  describe('resume', () => {
    test('after a dropped socket: same connection, no message lost or repeated', { timeout: 30_000 }, () =>
      withClients(async (make) => {
        const name = uniq('resume');
        const sub = make({ key: root.keyStr });
        const pub = make({ key: root.keyStr });
        const ch = sub.channels.get(name);
        const got = await collect(ch);
        await waitForState(pub.connection, 'connected');
        const id = sub.connection.id;
        const channelChanges = recordStates(ch);

        // Hold back ably-js's immediate reconnect until the message has
        // been published, so the server has to keep it for the resume.
        const cm = sub.connection.connectionManager;
        const connectImpl = cm.connectImpl;
        let release;
        const gate = new Promise((resolve) => (release = resolve));
        cm.connectImpl = function (...args) {
          gate.then(() => connectImpl.apply(this, args));
        };
        const resumeParams = [];
        const getTransportParams = cm.getTransportParams;
        cm.getTransportParams = function (callback) {
          return getTransportParams.call(this, (params) => {
            resumeParams.push(params.mode);
            callback(params);
          });
        };
        try {
          const ws = cm.activeProtocol.getTransport().wsConnection;
          assert.equal(typeof ws?.terminate, 'function', 'ably-js on node uses the ws package');
          ws.terminate(); // drop the socket without a DISCONNECT or close frame
          await waitForState(sub.connection, 'disconnected', 5000).catch(() => {});
          await sleep(300); // let the server notice the dead socket
          await pub.channels.get(name).publish('while-away', 'kept');
          await sleep(200);
          assert.equal(got.msgs.length, 0, 'nothing arrives while disconnected');
        } finally {
          cm.connectImpl = connectImpl;
          release();
        }
        await waitForState(sub.connection, 'connected');
        cm.getTransportParams = getTransportParams;
        assert.equal(sub.connection.id, id, `connection resumed (modes tried: ${resumeParams.join(',')})`);
        await got.until(1, 'the message published while disconnected');
        await sleep(500);
        assert.deepEqual(got.msgs.map((m) => m.name), ['while-away'], 'delivered exactly once');
        assert.equal(ch.state, 'attached');
        const reattached = channelChanges.filter((x) => x.current === 'attached');
        assert.ok(reattached.length > 0, 'the channel was re-attached after the resume');
        assert.ok(reattached.every((x) => x.resumed === true), 'ATTACHED carries the RESUMED flag');
        // The resumed connection keeps working both ways.
        await ch.publish('after', 'resume');
        await got.until(2);
        assert.equal(got.msgs[1].name, 'after');
      }));
  });
});
