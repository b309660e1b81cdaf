// HTTP clients: the Control API (Bearer access token) for everything the
// dashboard changes, and the Ably REST API (Basic auth with an API key the
// Control API returned) for token revocation and stats, plus /metrics.

/** APIError carries the Ably error code, HTTP status and the field at fault. */
export class APIError extends Error {
  constructor(message, { code = 0, statusCode = 0, field = '' } = {}) {
    super(message);
    this.name = 'APIError';
    this.code = code;
    this.statusCode = statusCode;
    this.field = field;
  }
}

async function parse(res) {
  const text = await res.text();
  if (!text) return null;
  if ((res.headers.get('content-type') || '').includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** errorFrom turns a failed response's body into an APIError. */
function errorFrom(res, body) {
  // Control API errors are flat; REST errors are wrapped in {error: ...}.
  const e = (body && typeof body === 'object' && (body.error || body)) || {};
  const code = e.code || Number(res.headers.get('x-ably-errorcode')) || 0;
  const msg = e.message || res.headers.get('x-ably-errormessage') || `${res.status} ${res.statusText}`;
  return new APIError(msg, { code, statusCode: e.statusCode || res.status, field: e.details && e.details.field });
}

async function send(url, init) {
  let res;
  try {
    res = await fetch(url, { cache: 'no-store', credentials: 'omit', ...init });
  } catch (err) {
    throw new APIError(`Could not reach the server: ${err.message}`);
  }
  const body = await parse(res);
  if (!res.ok) throw errorFrom(res, body);
  return { body, headers: res.headers };
}

/** nextLink returns the rel="next" URL of a Link header, or "". */
export function nextLink(header, base) {
  for (const part of (header || '').split(',')) {
    const m = part.match(/<([^>]*)>\s*;\s*rel="?next"?/);
    if (m) return new URL(m[1], base).toString();
  }
  return '';
}

/** ControlAPI calls /v1 with an account access token. */
export class ControlAPI {
  constructor(base, token) {
    this.base = new URL(base, location.href).toString().replace(/\/$/, '');
    this.token = token;
  }

  async request(method, path, body) {
    const headers = { Accept: 'application/json', Authorization: `Bearer ${this.token}` };
    const init = { method, headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const url = path.startsWith('http') ? path : this.base + path;
    return send(url, init);
  }

  async get(path) { return (await this.request('GET', path)).body; }

  me() { return this.get('/me'); }
  apps(accountId) { return this.get(`/accounts/${enc(accountId)}/apps`); }
  async createApp(accountId, name) {
    return (await this.request('POST', `/accounts/${enc(accountId)}/apps`, { name })).body;
  }
  keys(appId) { return this.get(`/apps/${enc(appId)}/keys`); }
  async createKey(appId, body) {
    return (await this.request('POST', `/apps/${enc(appId)}/keys`, body)).body;
  }
  async rotateKey(appId, keyId, overlapSeconds) {
    return (await this.request('POST', `/apps/${enc(appId)}/keys/${enc(keyId)}/rotate`, { overlapSeconds })).body;
  }
  async revokeKey(appId, keyId) {
    await this.request('POST', `/apps/${enc(appId)}/keys/${enc(keyId)}/revoke`);
  }

  /** audit returns {entries, next}; pass next back as url for the next page. */
  async audit(appId, { kind = '', url = '' } = {}) {
    let path = url;
    if (!path) {
      const q = new URLSearchParams({ limit: '50' });
      if (kind) q.set('kind', kind);
      path = `/apps/${enc(appId)}/audit?${q}`;
    }
    const { body, headers } = await this.request('GET', path);
    return { entries: body || [], next: nextLink(headers.get('link'), this.base) };
  }
}

function enc(s) { return encodeURIComponent(s); }

/** basicAuth is the Authorization header for an Ably key string name:secret. */
export function basicAuth(key) { return `Basic ${btoa(key)}`; }

/**
 * rest calls the Ably REST API on this origin with a key's Basic auth, as
 * protocol version 3 (revokeTokens answers {successCount, failureCount,
 * results}; stats come flattened).
 */
export async function rest(method, path, key, body) {
  const headers = { Accept: 'application/json', Authorization: basicAuth(key), 'X-Ably-Version': '3' };
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return (await send(new URL(path, location.origin).toString(), init)).body;
}

/** revokeTokens calls POST /keys/{keyName}/revokeTokens (RSA17). */
export function revokeTokens(key, { targets, issuedBefore, allowReauthMargin }) {
  const keyName = key.split(':')[0];
  const body = { targets, allowReauthMargin: Boolean(allowReauthMargin) };
  if (issuedBefore) body.issuedBefore = issuedBefore;
  return rest('POST', `/keys/${enc(keyName)}/revokeTokens`, key, body);
}

/** latestStats returns the key's app's interval of unit starting at start (ms), or null. */
export async function latestStats(key, unit, start) {
  const q = new URLSearchParams({ unit, start: String(start), limit: '1' });
  const items = await rest('GET', `/stats?${q}`, key);
  return (Array.isArray(items) && items[0]) || null;
}

/** metrics reads the Prometheus text at /metrics into {name: value}. */
export async function metrics() {
  const { body } = await send(new URL('/metrics', location.origin).toString(), { headers: { Accept: 'text/plain' } });
  const out = {};
  for (const line of String(body || '').split('\n')) {
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/);
    if (!m) continue;
    out[m[1]] = (out[m[1]] || 0) + Number(m[3]);
  }
  return out;
}
