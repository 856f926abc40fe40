/**
 * 405 for a wrong method on a known `/v1` path. Fastify answers unknown method+path pairs
 * with its not-found handler; the routes seen at registration are kept here so that handler
 * can tell "no such path" (404) from "no such method here" (405, with `Allow`).
 */
import type { FastifyInstance } from 'fastify';

interface Pattern {
  re: RegExp;
  /** Segments that are literal text: the router prefers a static segment over a parameter. */
  staticSegments: number;
  methods: Set<string>;
  /** Declared scope per method, for the deny-by-default audit test. */
  scopes: Map<string, string | undefined>;
}

const registries = new WeakMap<object, Map<string, Pattern>>();

function toRegExp(url: string): RegExp {
  const body = url
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${body}/?$`);
}

/** Records every route of `app` (and its children) whose url starts with `prefix`. */
export function trackRoutes(app: FastifyInstance, root: object, prefix: string): void {
  let reg = registries.get(root);
  if (!reg) registries.set(root, (reg = new Map()));
  const registry = reg;
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith(prefix)) return;
    // The /v1 catch-all (index.ts) answers 404/405 itself; it is not a method of any path.
    if ((route.config as { catchAll?: boolean } | undefined)?.catchAll) return;
    let p = registry.get(route.url);
    if (!p) {
      const staticSegments = route.url.split('/').filter((seg) => seg && !seg.startsWith(':') && seg !== '*').length;
      registry.set(route.url, (p = { re: toRegExp(route.url), staticSegments, methods: new Set(), scopes: new Map() }));
    }
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) {
      p.methods.add(m);
      p.scopes.set(m, (route.config as { scope?: string } | undefined)?.scope);
    }
  });
}

/**
 * The methods allowed on `path`, or null when no tracked route matches it. Only the most
 * specific routes count: `/v1/knowledge/url` is the POST route, not an id of
 * `DELETE /v1/knowledge/:id`, so its `Allow` is `POST`.
 */
export function allowedMethods(root: object, path: string): string[] | null {
  const reg = registries.get(root);
  if (!reg) return null;
  const matching = [...reg.values()].filter((p) => p.re.test(path));
  if (matching.length === 0) return null;
  const best = Math.max(...matching.map((p) => p.staticSegments));
  const out = new Set<string>();
  for (const p of matching) if (p.staticSegments === best) for (const m of p.methods) out.add(m);
  return [...out].sort();
}

/** Every tracked route with the scope it declared (undefined: none, refused at runtime). */
export function trackedRoutes(root: object): Array<{ method: string; url: string; scope: string | undefined }> {
  const out: Array<{ method: string; url: string; scope: string | undefined }> = [];
  for (const [url, p] of registries.get(root) ?? []) for (const [method, scope] of p.scopes) out.push({ method, url, scope });
  return out;
}
