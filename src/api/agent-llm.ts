/**
 * The agent field `llm` (API.md, "Conversation servers: bring your own brain"). The JSON schema
 * only bounds the shape; which keys a provider needs is checked here, so a 422 names the exact
 * field (`llm.url`) instead of an opaque union mismatch. URLs follow the private-address rule of
 * webhook tools (checked when the agent is saved, and again on every connection).
 */
import { Type } from '@sinclair/typebox';
import type { AgentLlm } from '../store/types.js';
import { VoxgateError, type ErrorDetail } from '../errors.js';
import { checkUrlAllowed } from '../net/index.js';
import { isConversationServer } from '../providers/llm/index.js';
import { ENV_VAR_NAME } from './env-vars.js';

const lit = <T extends string>(...values: T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const LLM_PROVIDERS = ['openai', 'openai-compatible', 'webhook', 'websocket'] as const;

/** API.md: webhook `timeoutMs` defaults to 8000; 60 s bounds a caller left waiting in silence. */
export const MAX_BRAIN_TIMEOUT_MS = 60_000;

const EnvName = Type.String({ minLength: 1, maxLength: 100, pattern: ENV_VAR_NAME });
const Url = Type.String({ minLength: 1, maxLength: 2000 });

export const AgentLlmSchema = Type.Object(
  {
    provider: lit(...LLM_PROVIDERS),
    baseUrl: Type.Optional(Url),
    apiKeyEnv: Type.Optional(EnvName),
    url: Type.Optional(Url),
    secretEnv: Type.Optional(EnvName),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: MAX_BRAIN_TIMEOUT_MS })),
  },
  { additionalProperties: false },
);

export const AgentLlmJson = Type.Object(
  {
    provider: Type.String(),
    baseUrl: Type.Optional(Type.String()),
    apiKeyEnv: Type.Optional(Type.String()),
    url: Type.Optional(Type.String()),
    secretEnv: Type.Optional(Type.String()),
    timeoutMs: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

/** Keys each provider accepts, the first `required` ones mandatory. */
const KEYS: Record<AgentLlm['provider'], { required: string[]; optional: string[]; schemes: string[] }> = {
  openai: { required: [], optional: [], schemes: [] },
  'openai-compatible': { required: ['baseUrl'], optional: ['apiKeyEnv'], schemes: ['http:', 'https:'] },
  webhook: { required: ['url'], optional: ['secretEnv', 'timeoutMs'], schemes: ['http:', 'https:'] },
  websocket: { required: ['url'], optional: ['secretEnv'], schemes: ['ws:', 'wss:'] },
};

const detail = (key: string, message: string): ErrorDetail => ({ field: `llm.${key}`, path: `body/llm/${key}`, message });

/** Shape problems of `llm` for its provider (keys missing, keys of another provider, URL scheme). */
export function llmProblems(llm: AgentLlm | null | undefined): ErrorDetail[] {
  if (!llm) return [];
  const spec = KEYS[llm.provider];
  const problems: ErrorDetail[] = [];
  const given = llm as Record<string, unknown>;
  for (const key of spec.required) if (typeof given[key] !== 'string' || given[key] === '') problems.push(detail(key, `is required for provider "${llm.provider}"`));
  for (const key of Object.keys(given)) {
    if (key === 'provider' || spec.required.includes(key) || spec.optional.includes(key)) continue;
    problems.push(detail(key, `is not a setting of provider "${llm.provider}"`));
  }
  const urlKey = spec.required[0];
  const raw = urlKey ? given[urlKey] : undefined;
  if (typeof raw === 'string' && raw !== '') {
    let url: URL | null = null;
    try {
      url = new URL(raw);
    } catch {
      problems.push(detail(urlKey!, 'is not a valid URL'));
    }
    if (url && !spec.schemes.includes(url.protocol)) problems.push(detail(urlKey!, `must use ${spec.schemes.map((s) => s.slice(0, -1)).join(' or ')}`));
    if (url && (url.username || url.password)) problems.push(detail(urlKey!, 'must not carry credentials (use apiKeyEnv / secretEnv)'));
  }
  return problems;
}

/** The private-address rule (DNS included), after the shape is known to be right. */
export async function assertLlmUrlAllowed(llm: AgentLlm | null | undefined, allowPrivate: boolean): Promise<void> {
  if (!llm || llm.provider === 'openai') return;
  const key = llm.provider === 'openai-compatible' ? 'baseUrl' : 'url';
  const raw = llm.provider === 'openai-compatible' ? llm.baseUrl : llm.url;
  // The check speaks http(s); a WebSocket URL resolves and connects the same way.
  const probe = raw.replace(/^ws(s?):/i, 'http$1:');
  try {
    await checkUrlAllowed(probe, allowPrivate);
  } catch (err) {
    if (!(err instanceof VoxgateError)) throw err;
    throw new VoxgateError('validation_failed', `llm.${key}: ${err.message}`, [detail(key, err.message)]);
  }
}

/** The stored value without empty optional keys. */
export function normaliseLlm(llm: { provider: string } | null | undefined): AgentLlm | null {
  if (!llm) return null;
  return Object.fromEntries(Object.entries(llm).filter(([, v]) => v !== undefined && v !== '')) as AgentLlm;
}

/** The agent's replies come from a conversation server (webhook or WebSocket): no `model`. */
export const isServerBrain = isConversationServer;
