/**
 * Finishing touches on the generated OpenAPI document (`@fastify/swagger` `transformObject`),
 * for what route schemas cannot say without changing how the route serialises:
 * - the media types of non-JSON responses (SSE streams, the WAV recording);
 * - the optional `{reason}` body of approve/reject (a body schema would make an empty body 422);
 * - the routes outside `/v1` (health, metrics, Twilio webhooks, WebSockets), which live in
 *   other plugins and are not seen by the swagger plugin.
 */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ERROR_REF = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'array', items: { type: 'object' } } },
      required: ['code', 'message', 'details'],
    },
  },
  required: ['error'],
};

const errorResponse = (description: string): Json => ({ description, content: { 'application/json': { schema: ERROR_REF } } });

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
  for (const [path, item] of Object.entries(PUBLIC_PATHS)) doc.paths[path] ??= item;
  return doc;
}
