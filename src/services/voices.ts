/**
 * The voice catalogue (API.md, "Voices"): ElevenLabs and Cartesia voices from their APIs,
 * cached 10 minutes per provider and credential; OpenAI's and xAI's documented voices as
 * tables. A provider without credentials, or whose API fails, is named in `unavailable`: the
 * catalogue never fails as a whole. Shared by `GET /v1/voices`, agent validation and the MCP
 * `list_voices` tool, so it takes the AppContext and plain arguments, never a request.
 */
import { createHash } from 'node:crypto';
import { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';
import type { AppContext } from '../context.js';
import { VoxgateError, type ErrorDetail } from '../errors.js';
import { Cartesia } from '../providers/tts/cartesia-sdk.js';
import type { Agent } from '../store/types.js';

export const VOICE_PROVIDERS = ['elevenlabs', 'cartesia', 'openai', 'xai'] as const;
export type VoiceProvider = (typeof VOICE_PROVIDERS)[number];

export interface VoiceJson {
  id: string;
  name: string;
  provider: VoiceProvider;
  language?: string;
  gender?: string;
  previewUrl?: string;
}

export interface VoicesJson {
  items: VoiceJson[];
  next_cursor: null;
  unavailable: Array<{ provider: VoiceProvider; reason: string }>;
}

/** API.md: provider voice lists are cached for 10 minutes. */
export const VOICE_CACHE_MS = 10 * 60_000;
/** A voice list request gives up after 5 s: the catalogue answers with that provider unavailable. */
const FETCH_TIMEOUT_MS = 5000;
/** Cartesia pages hold at most 100 voices (SDK `VoiceListParams.limit`); 50 pages bound a runaway cursor. */
const CARTESIA_PAGE = 100;
const CARTESIA_MAX_PAGES = 50;

/**
 * OpenAI Realtime voices (PROTOCOLS.md §5.2, OpenAI Realtime session `audio.output.voice`).
 * Custom voices are `voice_…` ids, accepted as they are.
 */
export const OPENAI_VOICES = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'marin', 'cedar'];
/**
 * xAI Grok Voice Agent voices: the five of xAI's voice docs ("5 expressive voices"), as the
 * LiveKit xAI plugin types them (`'Ara' | 'Eve' | 'Leo' | 'Rex' | 'Sal'`); xAI's own examples
 * send them lower-case (`"voice": "eve"`), so ids are lower-case and matched case-insensitively.
 */
export const XAI_VOICES = ['Ara', 'Eve', 'Leo', 'Rex', 'Sal'];

type Fetched = { ok: true; voices: VoiceJson[] } | { ok: false; reason: string };

interface CacheEntry {
  at: number;
  pending: Promise<Fetched>;
}

/** Per process context, so two apps in one test process do not share lists. */
const caches = new WeakMap<AppContext, Map<string, CacheEntry>>();

/** `GET /v1/voices`: every provider's voices, or one provider's (`provider`); unknown provider → 422. */
export async function listVoices(ctx: AppContext, query: { provider?: string }): Promise<VoicesJson> {
  const wanted = query.provider === undefined || query.provider === '' ? [...VOICE_PROVIDERS] : [parseProvider(query.provider)];
  const results = await Promise.all(wanted.map(async (p) => [p, await providerVoices(ctx, p)] as const));
  const out: VoicesJson = { items: [], next_cursor: null, unavailable: [] };
  for (const [provider, r] of results) {
    if (r.ok) out.items.push(...r.voices);
    else out.unavailable.push({ provider, reason: r.reason });
  }
  return out;
}

function parseProvider(p: string): VoiceProvider {
  if ((VOICE_PROVIDERS as readonly string[]).includes(p)) return p as VoiceProvider;
  throw new VoxgateError('validation_failed', `provider "${p}" is not one of ${VOICE_PROVIDERS.join(', ')}`, [
    { field: 'provider', path: 'querystring/provider', message: `must be one of ${VOICE_PROVIDERS.join(', ')}` },
  ]);
}

/**
 * The provider that speaks an agent's voice: its TTS for a pipeline agent, its realtime
 * provider for a realtime agent; null where voices are free-form (OpenAI-compatible servers).
 */
export function voiceProviderOf(agent: Pick<Agent, 'architecture' | 'tts' | 'realtimeProvider'>): VoiceProvider | null {
  if (agent.architecture === 'pipeline') return agent.tts === 'elevenlabs' || agent.tts === 'cartesia' ? agent.tts : null;
  if (agent.architecture === 'realtime') {
    const rp = agent.realtimeProvider as string | null;
    return rp === 'openai' || rp === 'xai' ? rp : null;
  }
  return null;
}

/**
 * The problem with an agent's `voiceId`, if the catalogue can tell: a voice of another provider
 * (an OpenAI voice name on an ElevenLabs agent), or a name missing from a documented table.
 * An id no available list knows is allowed: it may be a private or library voice, or the
 * provider's list may be unavailable right now.
 */
export async function agentVoiceProblem(ctx: AppContext, agent: Pick<Agent, 'architecture' | 'tts' | 'realtimeProvider' | 'voiceId'>): Promise<ErrorDetail | null> {
  const voiceId = agent.voiceId;
  const own = voiceProviderOf(agent);
  if (!voiceId || !own) return null;
  const problem = (message: string): ErrorDetail => ({ field: 'voiceId', path: 'body/voiceId', message });
  if (own === 'openai' && !OPENAI_VOICES.includes(voiceId) && !voiceId.startsWith('voice_')) {
    return problem(`"${voiceId}" is not an OpenAI Realtime voice (${OPENAI_VOICES.join(', ')})`);
  }
  if (own === 'xai' && !XAI_VOICES.some((v) => v.toLowerCase() === voiceId.toLowerCase())) {
    return problem(`"${voiceId}" is not an xAI voice (${XAI_VOICES.join(', ')})`);
  }
  if (own === 'openai' || own === 'xai') return null;
  const mine = await providerVoices(ctx, own);
  if (mine.ok && mine.voices.some((v) => v.id === voiceId)) return null;
  for (const other of VOICE_PROVIDERS) {
    if (other === own) continue;
    const r = await providerVoices(ctx, other);
    if (r.ok && r.voices.some((v) => sameVoice(v, voiceId))) {
      return problem(`"${voiceId}" is a ${other} voice; this agent speaks with ${own}`);
    }
  }
  return null;
}

function sameVoice(v: VoiceJson, id: string): boolean {
  return v.provider === 'xai' ? v.id === id.toLowerCase() : v.id === id;
}

/** One provider's voices, from the cache when fresh. Failures are not cached: the next ask retries. */
async function providerVoices(ctx: AppContext, provider: VoiceProvider): Promise<Fetched> {
  const p = ctx.config.providers;
  switch (provider) {
    case 'openai':
      if (!p.openai.apiKey) return { ok: false, reason: 'OPENAI_API_KEY is not set' };
      return { ok: true, voices: OPENAI_VOICES.map((id) => ({ id, name: id, provider })) };
    case 'xai':
      // The xAI slice of the config arrives with the xAI realtime provider (issue 17, item 2).
      if (!p.xai.apiKey) return { ok: false, reason: 'XAI_API_KEY is not set' };
      return { ok: true, voices: XAI_VOICES.map((name) => ({ id: name.toLowerCase(), name, provider })) };
    case 'elevenlabs':
      if (!p.elevenlabs.apiKey) return { ok: false, reason: 'ELEVENLABS_API_KEY is not set' };
      return cached(ctx, provider, p.elevenlabs.baseUrl, p.elevenlabs.apiKey, fetchElevenLabs);
    case 'cartesia':
      if (!p.cartesia.apiKey) return { ok: false, reason: 'CARTESIA_API_KEY is not set' };
      return cached(ctx, provider, p.cartesia.baseUrl, p.cartesia.apiKey, fetchCartesia);
    default: {
      const never: never = provider;
      throw new Error(`unknown voice provider ${String(never)}`);
    }
  }
}

async function cached(
  ctx: AppContext,
  provider: VoiceProvider,
  baseUrl: string,
  apiKey: string,
  fetcher: (baseUrl: string, apiKey: string, signal: AbortSignal) => Promise<VoiceJson[]>,
): Promise<Fetched> {
  let cache = caches.get(ctx);
  if (!cache) caches.set(ctx, (cache = new Map()));
  // Per provider and credential: a rotated key or another base URL is another list. The key is hashed, never kept.
  const key = `${provider}:${createHash('sha256').update(`${baseUrl}\n${apiKey}`).digest('hex')}`;
  const now = ctx.now().getTime();
  const hit = cache.get(key);
  if (hit && now - hit.at < VOICE_CACHE_MS) return hit.pending;
  const entry: CacheEntry = {
    at: now,
    pending: fetcher(baseUrl, apiKey, AbortSignal.timeout(FETCH_TIMEOUT_MS)).then(
      (voices): Fetched => ({ ok: true, voices }),
      (err: unknown): Fetched => {
        cache!.delete(key);
        ctx.log.warn({ provider, err: errText(err) }, 'voice list unavailable');
        return { ok: false, reason: errText(err) };
      },
    ),
  };
  cache.set(key, entry);
  return entry.pending;
}

/** ElevenLabs `GET /v1/voices` through the SDK (`voices.getAll`). */
async function fetchElevenLabs(baseUrl: string, apiKey: string, signal: AbortSignal): Promise<VoiceJson[]> {
  const client = new ElevenLabsClient({ apiKey, baseUrl, maxRetries: 0, timeoutInSeconds: FETCH_TIMEOUT_MS / 1000 });
  const res = await client.voices.getAll({}, { abortSignal: signal });
  return res.voices.map((v) => {
    const language = v.verifiedLanguages?.[0]?.language ?? v.fineTuning?.language ?? v.labels?.language;
    return {
      id: v.voiceId,
      name: v.name ?? v.voiceId,
      provider: 'elevenlabs' as const,
      ...(language ? { language } : {}),
      ...(v.labels?.gender ? { gender: v.labels.gender } : {}),
      ...(v.previewUrl ? { previewUrl: v.previewUrl } : {}),
    };
  });
}

/** Cartesia's `gender` (SDK `GenderPresentation`) in the catalogue's words. */
const CARTESIA_GENDER: Record<string, string> = { masculine: 'male', feminine: 'female', gender_neutral: 'neutral' };

/**
 * Cartesia `GET /voices` through the SDK, every page. No `previewUrl`: Cartesia's preview URL
 * needs the account's own Authorization header (SDK `Voice.preview_file_url`), so a client could
 * not play it.
 */
async function fetchCartesia(baseUrl: string, apiKey: string, signal: AbortSignal): Promise<VoiceJson[]> {
  const client = new Cartesia({ apiKey, baseURL: baseUrl, maxRetries: 0, timeout: FETCH_TIMEOUT_MS });
  const out: VoiceJson[] = [];
  let page = await client.voices.list({ limit: CARTESIA_PAGE }, { signal });
  for (let n = 0; ; n++) {
    for (const v of page.data) {
      const gender = v.gender ? CARTESIA_GENDER[v.gender] : undefined;
      out.push({ id: v.id, name: v.name, provider: 'cartesia', ...(v.language ? { language: v.language } : {}), ...(gender ? { gender } : {}) });
    }
    if (!page.hasNextPage() || n + 1 >= CARTESIA_MAX_PAGES) break;
    page = await page.getNextPage();
  }
  return out;
}

function errText(err: unknown): string {
  const e = err as { statusCode?: number; status?: number; message?: string };
  const status = e?.statusCode ?? e?.status;
  const msg = e?.message ?? String(err);
  return status ? `voice list request failed (${status}): ${msg.split('\n')[0]}` : `voice list request failed: ${msg.split('\n')[0]}`;
}
