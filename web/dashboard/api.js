// The REST face of the suite, same origin: sign-in, token refresh, and JSON calls that refresh an
// expired access token once before giving up. The session lives in sessionStorage (this tab only).
import { localeTag } from './i18n.js';

const KEY = 'cp.session';

// An error's sentence for the person (the gateway's google.rpc.LocalizedMessage, in the language
// the page asked for), else its developer message.
function errorText(status, body) {
  const localized = (body?.details ?? []).find((d) => d['@type']?.endsWith('LocalizedMessage'));
  return localized?.message || body?.message || `HTTP ${status}`;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(errorText(status, body));
    this.status = status;
    this.body = body;
  }
}

export class SessionExpired extends Error {}

export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY));
  } catch {
    return null;
  }
}

function keep(tokens) {
  sessionStorage.setItem(KEY, JSON.stringify({
    access: tokens.accessToken, refresh: tokens.refreshToken,
  }));
}

export function forget() {
  sessionStorage.removeItem(KEY);
}

async function send(method, path, body, token) {
  const headers = { Accept: 'application/json', 'Accept-Language': localeTag() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  // A busy gateway says how long to wait (429 with Retry-After): wait up to twice, briefly.
  for (let tries = 0; ; tries += 1) {
    res = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const wait = Number(res.headers.get('Retry-After') || 0);
    if (res.status !== 429 || tries >= 2 || wait > 5) break;
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, wait) * 1000));
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { message: text };
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

// Signs in; returns the login answer (passwordChangeRequired tells the page to stop there).
export async function signIn(phone, password) {
  const answer = await send('POST', '/v1/auth:login', {
    phone, password, deviceName: 'dashboard',
  });
  if (!answer.passwordChangeRequired) keep(answer.tokens);
  return answer;
}

export async function signOut() {
  const s = session();
  forget();
  if (s?.refresh) {
    try {
      await send('POST', '/v1/auth:logout', { refreshToken: s.refresh });
    } catch {
      // Signed out here either way.
    }
  }
}

async function refresh() {
  const s = session();
  if (!s?.refresh) throw new SessionExpired();
  try {
    const answer = await send('POST', '/v1/auth:refresh', { refreshToken: s.refresh });
    keep(answer.tokens);
  } catch (e) {
    forget();
    throw new SessionExpired();
  }
}

// A GET of a public method (no token), with the same waits when the gateway is busy.
export async function getPublic(path) {
  return send('GET', path);
}

// A GET with the session's token; an expired token is refreshed once. Throws SessionExpired when
// the session cannot go on, ApiError for any other refusal.
export async function get(path) {
  const s = session();
  if (!s) throw new SessionExpired();
  try {
    return await send('GET', path, undefined, s.access);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
  }
  await refresh();
  return send('GET', path, undefined, session().access);
}
