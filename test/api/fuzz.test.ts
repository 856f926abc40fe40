/**
 * Fires random and garbage requests at every route of the OpenAPI document: whatever comes in,
 * the answer is never a 5xx, and every error carries the error body. Seeded, so a failure
 * reproduces: the failing request is printed in the assertion message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let agentId: string;

/** mulberry32: a tiny deterministic PRNG. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

beforeAll(async () => {
  t = await createTestApp({ env: { RATE_LIMIT_RPM: '100000', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' } });
  agentId = (await t.api('POST', '/v1/agents', { name: 'f', architecture: 'pipeline', systemPrompt: 'p', model: 'm', stt: 'deepgram', tts: 'elevenlabs' })).body.id;
});
afterAll(async () => t.close());

describe('fuzz', () => {
  it('no route answers a random or garbage request with a 5xx or a malformed error', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const routes: Array<{ method: string; path: string }> = [];
    for (const [p, ops] of Object.entries<Record<string, unknown>>(doc.paths)) {
      if (!p.startsWith('/v1/')) continue;
      // Streams stay open by design; they are covered by their own tests.
      if (p.endsWith('/stream')) continue;
      for (const m of Object.keys(ops)) routes.push({ method: m.toUpperCase(), path: p });
    }
    expect(routes.length).toBeGreaterThan(15);

    const r = rng(20260611);
    const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
    const str = (): string => pick(['', 'x', 'ü😀', '../../etc/passwd', "' OR 1=1 --", '%00', 'a'.repeat(5000), '{{env.X}}', '+14155550100', agentId, 'agt_0000000000AAAAAAAAAAAAAAAA']);
    const value = (depth = 0): unknown => {
      const k = Math.floor(r() * (depth > 3 ? 6 : 9));
      switch (k) {
        case 0: return null;
        case 1: return r() < 0.5;
        case 2: return Math.floor(r() * 2e9) - 1e9;
        case 3: return r() * 1e308 * (r() < 0.5 ? -1 : 1);
        case 4: return str();
        case 5: return pick(['pipeline', 'text', 'realtime', 'web', 'phone', 'POST', 'end_call', 'admin', 'agents:read']);
        case 6: return Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1));
        default: {
          const o: Record<string, unknown> = Object.create(null); // so "__proto__" is an own key
          const keys = ['name', 'architecture', 'systemPrompt', 'model', 'stt', 'tts', 'phoneNumber', 'agentId', 'scopes', 'owner', 'messages', 'documentIds', 'url', 'text', 'value', 'parameters', 'toNumber', 'contacts', '__proto__', 'constructor', str()];
          for (let i = 0; i < Math.floor(r() * 6); i++) o[pick(keys)] = value(depth + 1);
          return o;
        }
      }
    };
    const garbage = (): { payload: string | Buffer; type: string } => {
      switch (Math.floor(r() * 6)) {
        case 0: return { payload: JSON.stringify(value()), type: 'application/json' };
        case 1: return { payload: JSON.stringify(value()).slice(0, -1) + '', type: 'application/json' };
        case 2: return { payload: Buffer.from(Array.from({ length: 64 }, () => Math.floor(r() * 256))), type: 'application/json' };
        case 3: return { payload: '[' .repeat(2000), type: 'application/json' };
        case 4: return { payload: 'a=b', type: pick(['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) };
        default: return { payload: JSON.stringify(value()), type: 'application/json; charset=utf-8' };
      }
    };

    const failures: string[] = [];
    for (let i = 0; i < 400; i++) {
      const route = pick(routes);
      const url = route.path.replace(/\{(\w+)\}/g, () => encodeURIComponent(pick([agentId, str(), 'num_x', 'call_0000000000AAAAAAAAAAAAAAAA']))) +
        (r() < 0.3 ? `?limit=${encodeURIComponent(JSON.stringify(value()) ?? "")}&cursor=${encodeURIComponent(str())}` : '');
      const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : garbage();
      const key = pick([t.adminKey, t.adminKey, 'vg_wrong', '']);
      const res = await t.app.inject({
        method: route.method as 'GET',
        url,
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body ? { 'content-type': body.type } : {}), ...(r() < 0.2 ? { 'idempotency-key': str().slice(0, 300) || 'k' } : {}) },
        payload: body?.payload,
      });
      const label = `${route.method} ${url.slice(0, 120)} body=${String(body?.payload).slice(0, 120)}`;
      if (res.statusCode >= 500 && res.statusCode !== 502 && res.statusCode !== 503) failures.push(`${res.statusCode} ${label} → ${res.body.slice(0, 200)}`);
      if (res.statusCode >= 400) {
        let ok = false;
        try {
          const b = res.json();
          ok = typeof b.error?.code === 'string' && typeof b.error?.message === 'string' && Array.isArray(b.error?.details);
        } catch {
          ok = false;
        }
        if (!ok) failures.push(`bad error body ${res.statusCode} ${label} → ${res.body.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
