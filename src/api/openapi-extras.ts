/**
 * Finishing touches on the generated OpenAPI document (`@fastify/swagger` `transformObject`),
 * for what route schemas cannot say without changing how the route serialises:
 * - each operation's `operationId`, `summary`, `description` (openapi-operations.ts) and tags;
 * - every error status a `/v1` route can return, with the error body (the statuses the whole
 *   plugin answers — 401, 403, 429, 503, 413 … — are not repeated in every route schema);
 * - named component schemas and the per-architecture agent rules (openapi-components.ts);
 * - the media types of non-JSON responses (SSE streams, the WAV recording);
 * - the optional `{reason}` body of approve/reject (a body schema would make an empty body 422);
 * - the routes outside `/v1` (health, metrics, Twilio webhooks, WebSockets), which live in
 *   other plugins and are not seen by the swagger plugin.
 */
import { ERROR_CODES } from '../errors.js';
import { addComponents } from './openapi-components.js';
import { OPERATIONS, PUBLIC_OPERATION_IDS } from './openapi-operations.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const errorResponse = (description: string): Json => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

/** Rewrites the 2xx responses of one operation to `mediaType`. */
function setMediaType(doc: Json, path: string, method: string, statuses: string[], mediaType: string, schema: Json): void {
  const op = doc.paths?.[path]?.[method];
  if (!op) return;
  for (const status of statuses) {
    const res = op.responses?.[status];
    if (!res) continue;
    res.content = { [mediaType]: { schema } };
  }
}

const PUBLIC_PATHS: Json = {
  '/healthz': {
    get: {
      tags: ['operations'],
      summary: 'Liveness (no auth)',
      security: [],
      responses: { 200: { description: 'alive', content: { 'application/json': { schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } } } } },
    },
  },
  '/readyz': {
    get: {
      tags: ['operations'],
      summary: 'Readiness: store and bus reachable (no auth)',
      security: [],
      responses: {
        200: { description: 'ready', content: { 'application/json': { schema: { type: 'object', properties: { status: { type: 'string' }, checks: { type: 'object', additionalProperties: { type: 'string' } } } } } } },
        503: { description: 'not ready (a dependency is down or the node is draining)', content: { 'application/json': { schema: { type: 'object' } } } },
      },
    },
  },
  '/metrics': {
    get: {
      tags: ['operations'],
      summary: 'Prometheus metrics (no auth)',
      security: [],
      responses: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  },
  '/openapi.json': {
    get: { tags: ['operations'], summary: 'This document (no auth)', security: [], responses: { 200: { description: 'OpenAPI 3 document', content: { 'application/json': { schema: { type: 'object' } } } } } },
  },
  '/twilio/voice': {
    post: {
      tags: ['twilio'],
      summary: 'Inbound call webhook (Twilio signature, no API key): answers TwiML <Connect><Stream>, or <Say>+<Hangup/>',
      security: [],
      parameters: [{ in: 'header', name: 'X-Twilio-Signature', required: true, schema: { type: 'string' } }],
      requestBody: { content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', additionalProperties: { type: 'string' } } } } },
      responses: { 200: { description: 'TwiML', content: { 'text/xml': { schema: { type: 'string' } } } }, 403: errorResponse('twilio_signature_invalid') },
    },
  },
  '/twilio/status': {
    post: {
      tags: ['twilio'],
      summary: 'Call status callback (Twilio signature, no API key); idempotent and order-safe',
      security: [],
      parameters: [{ in: 'header', name: 'X-Twilio-Signature', required: true, schema: { type: 'string' } }],
      requestBody: { content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', additionalProperties: { type: 'string' } } } } },
      responses: { 204: { description: 'recorded' }, 200: { description: 'recorded' }, 403: errorResponse('twilio_signature_invalid') },
    },
  },
  '/twilio/media': {
    get: {
      tags: ['twilio'],
      summary: 'Twilio Media Streams WebSocket (stream token in start.customParameters)',
      security: [],
      responses: { 101: { description: 'WebSocket upgrade' }, 404: errorResponse('not a WebSocket upgrade') },
    },
  },
  '/web/media': {
    get: {
      tags: ['web-calls'],
      summary: 'Browser call WebSocket: PCM16 LE mono 16 kHz binary frames both ways, JSON control and transcript events',
      security: [],
      parameters: [{ in: 'query', name: 'token', required: true, schema: { type: 'string' } }],
      responses: { 101: { description: 'WebSocket upgrade' }, 404: errorResponse('not a WebSocket upgrade') },
    },
  },
  '/web/call': {
    get: {
      tags: ['web-calls'],
      summary: 'The web-call page (pageUrl)',
      security: [],
      parameters: [{ in: 'query', name: 'token', required: false, schema: { type: 'string' } }],
      responses: { 200: { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  },
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'];

/** The error codes answered with `status`, for the response's description. */
function codesFor(status: number): string {
  return Object.entries(ERROR_CODES)
    .filter(([code, s]) => s === status && code !== 'twilio_signature_invalid')
    .map(([code]) => `\`${code}\``)
    .join(', ');
}

/**
 * Error statuses every `/v1` operation can answer besides its own: bad URL encoding (400), key
 * missing or unknown (401), scope (403), a parameter or body schema (422), the rate limit (429),
 * the store or bus down or the node draining (503); a path id of no visible object (404); a
 * request body that is malformed (400), too big (413) or not JSON (415).
 */
function standardErrors(path: string, method: string): number[] {
  const out = [400, 401, 403, 422, 429, 503];
  if (path.includes('{')) out.push(404);
  if (method === 'post' || method === 'put' || method === 'patch' || method === 'delete') out.push(413, 415);
  return out;
}

const SUCCESS_TEXT: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted', '204': 'No content', '206': 'Partial content' };

const TAG_TEXT: Record<string, string> = {
  me: 'The calling key',
  keys: 'API keys and their scopes',
  agents: 'Voice and text agents, their tools, env vars and knowledge',
  voices: 'TTS and realtime voices',
  knowledge: 'Knowledge documents searched during calls',
  'phone-numbers': 'Twilio numbers registered with voxgate',
  calls: 'Phone and web calls, transcripts, recordings',
  'web-calls': 'Browser calls',
  campaigns: 'Outbound campaigns (human-gated)',
  approvals: 'Human approval of campaign actions',
  twilio: 'Endpoints Twilio calls (signed by Twilio, no API key)',
  operations: 'Health, readiness, metrics, this document',
};

function describeOperations(doc: Json): void {
  const ERROR = { $ref: '#/components/schemas/Error' };
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const key = `${method.toUpperCase()} ${path}`;
      const text = OPERATIONS[key];
      if (text) {
        op.operationId ??= text.operationId;
        op.summary ??= text.summary;
        if (text.description) op.description ??= text.description;
      }
      op.operationId ??= PUBLIC_OPERATION_IDS[key];
      op.description ??= op.summary;
      if (!op.tags || op.tags.length === 0) op.tags = [path.split('/')[path.startsWith('/v1/') ? 2 : 1] ?? 'operations'];
      if (!path.startsWith('/v1')) continue;
      op.responses ??= {};
      for (const status of standardErrors(path, method)) op.responses[status] ??= { description: '', content: { 'application/json': { schema: ERROR } } };
      for (const [status, res] of Object.entries<Json>(op.responses)) {
        if (Number(status) < 400) {
          if (res.description === 'Default Response') res.description = SUCCESS_TEXT[status] ?? 'Success';
          continue;
        }
        const codes = codesFor(Number(status));
        if (!res.description || res.description === 'Default Response') res.description = codes ? `Error: ${codes}` : 'Error';
      }
    }
  }
  const used = new Set<string>();
  for (const item of Object.values<Json>(doc.paths)) for (const m of METHODS) for (const t of item[m]?.tags ?? []) used.add(t);
  doc.tags = [...used].sort().map((name) => ({ name, ...(TAG_TEXT[name] ? { description: TAG_TEXT[name] } : {}) }));
}

export function transformOpenApi({ openapiObject }: { openapiObject: Json }): Json {
  const doc = openapiObject;
  doc.paths ??= {};
  const sse = { type: 'string', description: 'Server-sent events: `id:`, `event:`, `data:` (JSON) lines' };
  setMediaType(doc, '/v1/agents/{id}/chat', 'post', ['200'], 'text/event-stream', {
    ...sse,
    description: 'Server-sent events: `delta` events ({"content"}) and a final `done` event',
  });
  setMediaType(doc, '/v1/calls/{id}/transcript/stream', 'get', ['200'], 'text/event-stream', {
    ...sse,
    description: 'Server-sent events: transcript.partial, transcript.final, agent.interrupted, call.status, call.ended',
  });
  setMediaType(doc, '/v1/calls/{id}/recording', 'get', ['200', '206'], 'audio/wav', { type: 'string', format: 'binary' });
  for (const verb of ['approve', 'reject']) {
    const op = doc.paths[`/v1/approvals/{id}/${verb}`]?.post;
    if (op && !op.requestBody) {
      op.requestBody = {
        required: false,
        content: { 'application/json': { schema: { type: 'object', properties: { reason: { type: 'string', maxLength: 2000 } } } } },
      };
    }
  }
  for (const [path, item] of Object.entries(PUBLIC_PATHS)) doc.paths[path] ??= structuredClone(item);
  addComponents(doc);
  describeOperations(doc);
  return doc;
}
