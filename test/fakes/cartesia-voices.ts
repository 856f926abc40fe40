/**
 * The REST half of the Cartesia fake: `GET /voices` and the voice catalogue it serves, with
 * Cartesia's auth and version rules (sources: see test/fakes/cartesia.ts).
 */
import type http from 'node:http';

/** A key from `Authorization: Bearer`, `X-API-Key`, or (browsers) `?api_key=` / `?access_token=`. */
export function authOf(headers: http.IncomingHttpHeaders, q: URLSearchParams): string | undefined {
  const bearer = /^Bearer (.+)$/.exec(String(headers.authorization ?? ''))?.[1];
  return bearer ?? (headers['x-api-key'] as string | undefined) ?? q.get('api_key') ?? q.get('access_token') ?? undefined;
}

/** The API version: `?cartesia_version=` wins over the `Cartesia-Version` header. */
export function versionOf(headers: http.IncomingHttpHeaders, q: URLSearchParams): string | undefined {
  return q.get('cartesia_version') ?? (headers['cartesia-version'] as string | undefined);
}

export interface CartesiaVoice {
  id: string;
  name: string;
  description: string;
  language: string;
  gender?: 'masculine' | 'feminine' | 'gender_neutral' | null;
  is_owner: boolean;
  created_at: string;
  access: 'private' | 'public';
  visibility: 'owner' | 'all';
  tagline: string;
  locales: Array<{ is_native: boolean; locale: string }>;
  preview_file_url?: string | null;
}

export const FAKE_CARTESIA_VOICES: CartesiaVoice[] = [
  voice('f786b574-daa5-4673-aa0c-cbe3e8534c02', 'Katie', 'en', 'feminine'),
  voice('a0e99841-438c-4a64-b679-ae501e7d6091', 'Barbershop Man', 'en', 'masculine'),
  voice('6ccbfb76-1fc6-48f7-b71d-91ac6298247b', 'Tessa', 'en', 'feminine'),
  voice('9626c31c-bec5-4cca-baa8-f8ba9e84c8bc', 'Jacqueline', 'en', 'feminine'),
  voice('694f9389-aac1-45b6-b726-9d9369183238', 'Sarah', 'en', 'feminine'),
  voice('5c3c89e5-535f-43ef-b14d-f8ffe148c1f0', 'Sébastien', 'fr', 'masculine'),
];

function voice(id: string, name: string, language: string, gender: CartesiaVoice['gender']): CartesiaVoice {
  return {
    id,
    name,
    description: `${name}, a test voice`,
    language,
    gender,
    is_owner: false,
    created_at: '2026-01-01T00:00:00Z',
    access: 'public',
    visibility: 'all',
    tagline: '',
    locales: [{ is_native: true, locale: language === 'fr' ? 'fr-FR' : 'en-US' }],
    preview_file_url: `https://files.cartesia.ai/previews/${id}.wav`,
  };
}

/** `GET /voices` → `{data, has_more, next_page}`, cursor by `starting_after`, `limit` 1..100 (default 10). */
export function serveVoices(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  o: { apiKey: string; voices: CartesiaVoice[]; voicesStatus?: number; requests: Array<{ query: Record<string, string | string[]>; headers: http.IncomingHttpHeaders }> },
): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method !== 'GET' || url.pathname !== '/voices') return json(404, { error: 'not found' });
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? ([] as string[]).concat(query[k]!, v) : v;
  o.requests.push({ query, headers: req.headers });
  if (!versionOf(req.headers, url.searchParams)) return json(400, { title: 'Missing version', message: 'The Cartesia-Version header is required.', error_code: 'missing_version' });
  if (authOf(req.headers, url.searchParams) !== o.apiKey) return json(401, { title: 'Unauthorized', message: 'Invalid API key.', error_code: 'unauthorized' });
  if (o.voicesStatus) return json(o.voicesStatus, { title: 'Error', message: 'voices unavailable', error_code: 'internal' });
  const limit = Number(url.searchParams.get('limit') ?? 10);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) return json(400, { title: 'Invalid limit', message: 'limit must be between 1 and 100', error_code: 'invalid_request' });
  const after = url.searchParams.get('starting_after');
  let start = 0;
  if (after) {
    const i = o.voices.findIndex((v) => v.id === after);
    if (i < 0) return json(400, { title: 'Invalid cursor', message: 'starting_after is not a voice id', error_code: 'invalid_request' });
    start = i + 1;
  }
  const expand = url.searchParams.getAll('expand[]');
  const page = o.voices.slice(start, start + limit).map((v) => {
    const { preview_file_url, ...rest } = v;
    return expand.includes('preview_file_url') ? { ...rest, preview_file_url } : rest;
  });
  const hasMore = start + limit < o.voices.length;
  json(200, { data: page, has_more: hasMore, next_page: hasMore ? page[page.length - 1]!.id : null });
}
