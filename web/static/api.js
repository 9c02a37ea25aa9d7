// SPDX-License-Identifier: MIT
// api.js - the page's only back end: nbgate's admin JSON API (ThingsBoard's REST subset,
// specs/rest-api.md), same origin, over the gateway's HTTPS.
//
// Session safety. The API authenticates with `X-Authorization: Bearer <JWT>`. The access and
// refresh tokens live only in this module's variables: not in localStorage, sessionStorage or a
// cookie, so no other script (an injected one included, were one ever to run) can read them from
// storage, and the browser never attaches them by itself. A reload of the page therefore asks for
// the password again; that is the price of keeping the tokens out of storage. Because the token
// travels in a header that only this code sets, a request forged by another site (a form post,
// an image, a fetch without CORS) arrives without it and the API refuses it with 401: this is
// the CSRF defence, and the browser test checks it. The access token is renewed with the refresh
// token shortly before it expires (its `exp` claim), and once more when the API answers 401/11.

let access = null;
let refreshTok = null;
let refreshTimer = 0;
let refreshing = null;
let onEnd = () => {};

export class ApiError extends Error {
  constructor(status, code, message, path) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.path = path;
  }

  // True when the gateway does not serve this path (or method) yet: the generic 404 of an
  // unknown /api/ path, or a 405.
  get isMissingApi() {
    return this.status === 405 ||
      (this.status === 404 && this.message === "Requested item wasn't found!");
  }
}

function claims(token) {
  try {
    const b64 = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(b64.padEnd(b64.length + (4 - b64.length % 4) % 4, '=')));
  } catch {
    return {};
  }
}

export function sessionUser() {
  return access ? claims(access).sub || '' : null;
}

export function isLoggedIn() {
  return access !== null;
}

// Called with a reason when the session ends without a logout (expired, revoked).
export function onSessionEnd(fn) {
  onEnd = fn;
}

export function setTokens(pair) {
  access = pair.token;
  refreshTok = pair.refreshToken;
  clearTimeout(refreshTimer);
  const exp = Number(claims(access).exp) * 1000;
  if (Number.isFinite(exp)) {
    const inMs = Math.max(5000, exp - Date.now() - 60000);
    refreshTimer = setTimeout(() => { renew().catch(() => {}); }, Math.min(inMs, 2 ** 31 - 1));
  }
}

export function clearTokens() {
  access = null;
  refreshTok = null;
  clearTimeout(refreshTimer);
}

function withQuery(path, query) {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function raw(method, path, body, isAuth) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (isAuth && access) headers['X-Authorization'] = `Bearer ${access}`;
  const r = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
    redirect: 'error',
  });
  const text = await r.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!r.ok) {
    const m = data && typeof data === 'object' ? data.message : null;
    throw new ApiError(r.status, data && data.errorCode, m || `HTTP ${r.status}`, path);
  }
  return data;
}

async function renew() {
  if (!refreshTok) throw new ApiError(401, 10, 'Not logged in');
  if (!refreshing) {
    refreshing = raw('POST', '/api/auth/token', { refreshToken: refreshTok }, false)
      .then((pair) => setTokens(pair))
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

function ended(reason) {
  clearTokens();
  onEnd(reason);
}

// One API call. path may carry a query object; body is JSON-encoded when given.
export async function api(method, path, { query, body, isAuth = true } = {}) {
  const p = withQuery(path, query);
  try {
    return await raw(method, p, body, isAuth);
  } catch (e) {
    if (!(e instanceof ApiError) || !isAuth || e.status !== 401) throw e;
    if (e.code === 11 && refreshTok) {
      try {
        await renew();
      } catch {
        ended('Your session has ended. Please log in again.');
        throw e;
      }
      return raw(method, p, body, isAuth);
    }
    ended('Your session has ended. Please log in again.');
    throw e;
  }
}

export const get = (path, query) => api('GET', path, { query });
export const post = (path, body, query) => api('POST', path, { body, query });
export const del = (path, query) => api('DELETE', path, { query });

export async function login(username, password) {
  setTokens(await api('POST', '/api/auth/login', { body: { username, password }, isAuth: false }));
}

export async function setup(setupToken, username, password) {
  setTokens(await api('POST', '/api/nbgate/setup',
    { body: { setupToken, username, password }, isAuth: false }));
}

export async function logout() {
  try {
    if (access) await raw('POST', '/api/auth/logout', undefined, true);
  } finally {
    clearTokens();
  }
}

// Reads every page of a paged endpoint (at most max items).
export async function allPages(path, query, max = 1000) {
  const out = [];
  for (let page = 0; out.length < max; page++) {
    const d = await get(path, { ...query, pageSize: 100, page });
    out.push(...d.data);
    if (!d.hasNext) break;
  }
  return out;
}

// A random access token like the gateway's own: 20 alphanumerics.
export function randomToken(n = 20) {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const r = crypto.getRandomValues(new Uint8Array(n * 2));
  let s = '';
  for (let i = 0; i < r.length && s.length < n; i++) {
    if (r[i] < 248) s += abc[r[i] % 62];
  }
  return s;
}
