// Shared helpers for the SDK interop specs. sdk_test.go starts a Herald
// server and passes its address in the environment:
//
//   HERALD_HOST, HERALD_PORT   where the server listens (plain HTTP/WS)
//   HERALD_PROTOCOL            "json" or "msgpack" (ably-js on Node defaults to msgpack)
//   HERALD_BIN, HERALD_DATA_DIR  the herald binary and the server's data dir,
//                              for steps that go through the CLI
//
// The specs can also be run by hand against `herald serve --dev`:
//   HERALD_PORT=8080 node --test --test-reporter=spec
// (CLI-driven tests skip themselves when HERALD_BIN is not set).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const env = process.env;

export { sleep };

/** Host the SDK is pointed at; "localhost" is taken verbatim by `endpoint` (REC1b2). */
export const host = env.HERALD_HOST || 'localhost';
/** Port of the server under test. */
export const port = Number(env.HERALD_PORT || 8080);
/** Wire format for this pass: "json" or "msgpack". */
export const protocol = env.HERALD_PROTOCOL === 'json' ? 'json' : 'msgpack';
/** Base URL for the raw HTTP calls the SDK has no API for (/apps). */
export const baseURL = `http://${host}:${port}`;

/** Whether the herald binary and data dir are known, so the CLI can be driven. */
export const haveCLI = Boolean(env.HERALD_BIN && env.HERALD_DATA_DIR);

/**
 * Indexes into fixtures/app-setup.json's keys, by what each key is for.
 */
export const KEY = Object.freeze({
  root: 0, // no capability given: gets {"*":["*"]}
  namespaces: 1, // wildcards over namespaces only
  channels: 2, // per-channel ops; room-c's list is deliberately unsorted
  subscribeOnly: 3, // {"*":["subscribe"]}: every channel, but no stats
  revocable: 4, // revocableTokens: true
  qualified: 5, // {"[*]*":["*"]}
});

/**
 * ClientOptions that point an Ably client at the server under test, in this
 * pass's wire format, without TLS or fallback hosts.
 */
export function clientOptions(extra = {}) {
  return {
    endpoint: host,
    port,
    tls: false,
    useBinaryProtocol: protocol === 'msgpack',
    ...extra,
  };
}

/** A fresh copy of the provisioning body in fixtures/app-setup.json. */
export function appSetup() {
  const url = new URL('./fixtures/app-setup.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8'));
}

/**
 * POSTs body to /apps as the sandbox harnesses do (JSON, no auth) and
 * returns {status, headers, body}, whatever the status. body is parsed JSON
 * when the response says it is JSON, else the raw text.
 */
export async function postApps(body) {
  const res = await fetch(`${baseURL}/apps`, {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = text;
  if ((res.headers.get('content-type') || '').startsWith('application/json')) {
    parsed = JSON.parse(text);
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/**
 * Provisions an app (default: the fixture) and returns the parsed 201 body.
 * Any other status throws, with the server's answer in the message.
 */
export async function provisionApp(body = appSetup()) {
  const res = await postApps(body);
  if (res.status !== 201) {
    throw new Error(`POST /apps answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res.body;
}

/**
 * Deletes app with Basic auth of its first key, as the ably-js root
 * after-hook does; returns the HTTP status and throws unless it is 2xx.
 */
export async function deleteApp(app) {
  const res = await fetch(`${baseURL}/apps/${encodeURIComponent(app.appId)}`, {
    method: 'DELETE',
    headers: {
      Accept: 'application/json',
      Authorization: 'Basic ' + Buffer.from(app.keys[0].keyStr).toString('base64'),
    },
  });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`DELETE /apps/${app.appId} answered ${res.status}: ${text}`);
  }
  return res.status;
}

const execFileAsync = promisify(execFile);

/**
 * Revokes keyName through `herald keys revoke`, which writes the store
 * directly; the running server sees it within its key-cache poll interval.
 */
export async function revokeKeyWithCLI(keyName) {
  if (!haveCLI) {
    throw new Error('HERALD_BIN and HERALD_DATA_DIR must be set to drive the CLI');
  }
  const { stdout } = await execFileAsync(
    env.HERALD_BIN,
    ['--data-dir', env.HERALD_DATA_DIR, 'keys', 'revoke', keyName],
    { timeout: 30_000 },
  );
  return stdout;
}

/**
 * Asserts that promise rejects with an Ably ErrorInfo carrying code and
 * statusCode; returns the error for further checks.
 */
export async function expectAblyError(promise, code, statusCode) {
  let caught;
  await assert.rejects(promise, (err) => {
    caught = err;
    return true;
  });
  const seen = `got code=${caught?.code} statusCode=${caught?.statusCode} message=${JSON.stringify(caught?.message)}`;
  assert.equal(caught.code, code, `error code: ${seen}`);
  assert.equal(caught.statusCode, statusCode, `error statusCode: ${seen}`);
  return caught;
}

/**
 * Calls fn until it returns a truthy value or timeoutMs passes, and returns
 * that value; on timeout it throws with the last result (or error) seen.
 */
export async function eventually(fn, { timeoutMs = 5000, intervalMs = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.stack : JSON.stringify(last);
      throw new Error(`${what} not met within ${timeoutMs} ms; last: ${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** Formats an Ably ErrorInfo (or nothing) for assertion messages. */
export function describeError(err) {
  return err ? `code=${err.code} statusCode=${err.statusCode} message=${JSON.stringify(err.message)}` : 'none';
}

/** Closes a Realtime client and waits (at most 3 s) until it is closed or failed. */
export async function closeClient(c) {
  const state = c.connection.state;
  if (state === 'closed' || state === 'failed') return;
  const done = new Promise((resolve) => {
    c.connection.once('closed', resolve);
    c.connection.once('failed', resolve);
  });
  c.close();
  await Promise.race([done, sleep(3000)]);
}

/**
 * Resolves with the state change when emitter (a connection or a channel)
 * reaches state (null if it is there already); rejects on timeout, or early
 * if it goes failed instead.
 */
export function waitForState(emitter, state, timeoutMs = 10_000) {
  if (emitter.state === state) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const listener = (change) => {
      if (change.current === state) {
        finish();
        resolve(change);
      } else if (change.current === 'failed') {
        finish();
        reject(new Error(`went failed while waiting for ${state}: ${describeError(change.reason)}`));
      }
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`still ${emitter.state} after ${timeoutMs} ms, waiting for ${state}; reason ${describeError(emitter.errorReason)}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      emitter.off(listener);
    };
    emitter.on(listener);
  });
}
