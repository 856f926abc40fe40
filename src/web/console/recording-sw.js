// Service worker of the console (scope /console): it lets the <audio> element play a call
// recording straight from GET /v1/calls/:id/recording with HTTP Range requests — playback
// starts at once and every seek asks for just the bytes it needs — although an <audio>
// element cannot send the Authorization header the API requires. The worker adds it: for each
// recording request from a console page it asks that page for the key (the key lives in the
// tab's sessionStorage only; the worker never stores it), then forwards the request, Range and
// all. Every other request passes through untouched.

const RECORDING = /^\/v1\/calls\/[^/]+\/recording$/;

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (ev) => ev.waitUntil(self.clients.claim()));

/** The signed-in key of the page that made the request, asked over a MessageChannel. */
async function keyOf(clientId) {
  const client = clientId ? await self.clients.get(clientId) : null;
  if (!client) return null;
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    const timer = setTimeout(() => resolve(null), 2000);
    ch.port1.onmessage = (ev) => {
      clearTimeout(timer);
      resolve(typeof ev.data === 'string' && ev.data ? ev.data : null);
    };
    client.postMessage({ type: 'voxgate:key?' }, [ch.port2]);
  });
}

self.addEventListener('fetch', (ev) => {
  const url = new URL(ev.request.url);
  if (url.origin !== self.location.origin || ev.request.method !== 'GET' || !RECORDING.test(url.pathname)) return;
  // The console's own fetches carry the key already: leave them alone.
  if (ev.request.headers.has('authorization')) return;
  ev.respondWith(
    (async () => {
      const key = await keyOf(ev.clientId);
      if (!key) return fetch(ev.request);
      const headers = new Headers(ev.request.headers);
      headers.set('authorization', `Bearer ${key}`);
      const res = await fetch(url.href, { headers, cache: 'no-store' });
      const client = await self.clients.get(ev.clientId);
      client?.postMessage({ type: 'voxgate:recording-fetch', status: res.status, range: headers.get('range'), contentRange: res.headers.get('content-range') });
      return res;
    })(),
  );
});
