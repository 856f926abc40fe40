// The console's only way to the gateway: the public /v1 API with the signed-in key as Bearer.
// The key lives in this tab's sessionStorage (gone when the tab closes) and nowhere else.

const KEY_STORAGE = 'voxgate.consoleKey';

export const session = {
  get key() {
    return sessionStorage.getItem(KEY_STORAGE) || '';
  },
  set key(value) {
    if (value) sessionStorage.setItem(KEY_STORAGE, value);
    else sessionStorage.removeItem(KEY_STORAGE);
  },
  /** GET /v1/me of the signed-in key: {keyId, owner, scopes}. */
  me: null,
  /** The gateway's rule (src/api/auth-context.ts routeAllows): admin does anything, read:all reads. */
  can(scope) {
    const s = this.me ? this.me.scopes : [];
    return s.includes('admin') || s.includes(scope) || (scope.endsWith(':read') && s.includes('read:all'));
  },
};

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = Array.isArray(details) ? details : [];
  }
}

function headers(extra = {}) {
  return { authorization: `Bearer ${session.key}`, ...extra };
}

/** JSON in, JSON out; a non-2xx answer throws ApiError with the error body's code and details. */
export async function api(method, path, body, opts = {}) {
  const res = await fetch(path, {
    method,
    headers: headers(body !== undefined ? { 'content-type': 'application/json' } : {}),
    body: body !== undefined ? JSON.stringify(body) : undefined,
    signal: opts.signal,
  });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  // A key revoked while the console is open: back to sign-in (app.js listens).
  if (res.status === 401 && path !== '/v1/me') window.dispatchEvent(new Event('voxgate:unauthorized'));
  if (!res.ok) {
    const e = data && data.error ? data.error : { code: `http_${res.status}`, message: res.statusText };
    throw new ApiError(res.status, e.code, e.message, e.details);
  }
  return data;
}

/** Every page of a list endpoint (API.md: items + next_cursor), up to `max` items. */
export async function listAll(path, max = 500) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api('GET', `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

/** A binary resource (the recording) as a Blob; the <audio> element cannot send the key itself. */
export async function fetchBlob(path, opts = {}) {
  const res = await fetch(path, { headers: headers(), signal: opts.signal });
  if (!res.ok) {
    const data = await res.json().catch(() => null);
    const e = data && data.error ? data.error : { code: `http_${res.status}`, message: res.statusText };
    throw new ApiError(res.status, e.code, e.message, e.details);
  }
  return res.blob();
}

/**
 * Server-Sent Events over fetch: EventSource cannot send an Authorization header, so the stream
 * is read as text and parsed per the SSE format (fields `id`, `event`, `data`, lines starting
 * with `:` are comments, an empty line ends an event). `Last-Event-ID` resumes after a drop.
 * Resolves when the server closes the stream (after `call.ended`) or `signal` aborts.
 */
export async function readSse(path, onEvent, { signal, lastEventId } = {}) {
  const res = await fetch(path, {
    headers: headers({ accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': String(lastEventId) } : {}) }),
    signal,
  });
  if (!res.ok || !res.body) {
    const data = await res.json().catch(() => null);
    const e = data && data.error ? data.error : { code: `http_${res.status}`, message: res.statusText };
    throw new ApiError(res.status, e.code, e.message, e.details);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let ev = { id: null, event: 'message', data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let nl;
    while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + (buf[nl] === '\r' && buf[nl + 1] === '\n' ? 2 : 1));
      if (line === '') {
        if (ev.data.length > 0) {
          let data = ev.data.join('\n');
          try {
            data = JSON.parse(data);
          } catch {
            /* not JSON: keep the text */
          }
          onEvent({ id: ev.id, event: ev.event, data });
        }
        ev = { id: ev.id, event: 'message', data: [] };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let val = colon < 0 ? '' : line.slice(colon + 1);
      if (val.startsWith(' ')) val = val.slice(1);
      if (field === 'data') ev.data.push(val);
      else if (field === 'event') ev.event = val;
      else if (field === 'id') ev.id = val;
    }
  }
}

/** What the recording worker reported (tests and debugging read it: window.voxgateConsole). */
export const recordingFetches = [];
window.voxgateConsole = { recordingFetches };

let worker = null;
/**
 * Registers recording-sw.js (scope /console) and answers its requests for the key. Resolves
 * true once this page is controlled by it, false where service workers are unavailable
 * (a plain-http address other than localhost is not a secure context).
 */
export function recordingWorker() {
  if (worker) return worker;
  worker = (async () => {
    if (!('serviceWorker' in navigator) || !window.isSecureContext) return false;
    navigator.serviceWorker.addEventListener('message', (ev) => {
      const m = ev.data || {};
      if (m.type === 'voxgate:key?' && ev.ports[0]) ev.ports[0].postMessage(session.key);
      else if (m.type === 'voxgate:recording-fetch') recordingFetches.push({ status: m.status, range: m.range, contentRange: m.contentRange });
    });
    try {
      await navigator.serviceWorker.register('/console/recording-sw.js', { scope: '/console' });
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller) {
        // First visit: the worker claims this page when it activates.
        await new Promise((resolve) => {
          navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true });
          setTimeout(resolve, 3000);
        });
      }
      return Boolean(navigator.serviceWorker.controller);
    } catch {
      return false;
    }
  })();
  return worker;
}
