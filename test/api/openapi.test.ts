/**
 * The OpenAPI document (API.md, Conventions): 3.1 and valid by a real validator
 * (@readme/openapi-parser), every operation named and described, named component schemas with
 * examples that match them, the per-architecture agent rules stated as the server enforces
 * them, and — the drift check — a request derived from the document for every route, whose
 * answer must be one of the statuses the document lists and, when JSON, match its schema.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validate, compileErrors } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { newId } from '../../src/ids.js';

type Json = Record<string, any>;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

let t: TestApp;
let doc: Json;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

beforeAll(async () => {
  t = await createTestApp();
  doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
});
afterAll(async () => t?.close());

function operations(): Array<{ path: string; method: string; op: Json }> {
  const out: Array<{ path: string; method: string; op: Json }> = [];
  for (const [path, item] of Object.entries<Json>(doc.paths)) for (const method of METHODS) if (item[method]) out.push({ path, method, op: item[method] });
  return out;
}

function schemaAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...doc, $id: 'openapi' }, 'openapi');
  return ajv;
}
const ref = (schema: Json): Json => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'));

describe('the document', () => {
  it('is OpenAPI 3.1 and passes @readme/openapi-parser validation', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('names, summarises, describes and tags every operation, with unique operationIds', () => {
    const ids = new Set<string>();
    for (const { path, method, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(op.operationId, where).toMatch(/^[a-z][A-Za-z0-9]+$/);
      expect(ids.has(op.operationId), `duplicate ${op.operationId}`).toBe(false);
      ids.add(op.operationId);
      expect(op.summary, where).toBeTruthy();
      expect(op.description, where).toBeTruthy();
      expect(op.tags?.length, where).toBeGreaterThan(0);
    }
    expect(ids.size).toBeGreaterThan(50);
  });

  it('documents the shared error statuses on every /v1 operation with the error body', () => {
    for (const { path, method, op } of operations()) {
      if (!path.startsWith('/v1')) continue;
      const expected = ['400', '401', '403', '422', '429', '503'];
      if (path.includes('{')) expected.push('404');
      if (method !== 'get') expected.push('413', '415');
      for (const s of expected) {
        expect(op.responses[s]?.content?.['application/json']?.schema, `${method} ${path} ${s}`).toEqual({ $ref: '#/components/schemas/Error' });
      }
    }
    expect(doc.paths['/v1/campaigns/{id}/contacts'].post.responses['413'].description).toContain('too_many_contacts');
  });

  it('has named component schemas the routes refer to, and examples that match them', () => {
    const s = doc.components.schemas;
    for (const name of ['Agent', 'Call', 'Campaign', 'PhoneNumber', 'KnowledgeDocument', 'Contact', 'Action', 'Transcript', 'Error']) expect(s[name], name).toBeDefined();
    expect(doc.paths['/v1/agents/{id}'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Agent' });
    expect(doc.paths['/v1/calls'].get.responses['200'].content['application/json'].schema.properties.items.items).toEqual({ $ref: '#/components/schemas/Call' });
    expect(doc.paths['/v1/phone-numbers/{id}/calls'].get.responses['200'].content['application/json'].schema.properties.items.items).toEqual({ $ref: '#/components/schemas/Call' });
    const ajv = schemaAjv();
    let checked = 0;
    for (const [name, schema] of Object.entries<Json>(s)) {
      for (const example of schema.examples ?? []) {
        const check = ajv.compile({ $ref: `openapi#/components/schemas/${name}` });
        expect(check(example), `${name}: ${JSON.stringify(check.errors)}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(7);
  });
});

describe('POST /v1/agents states what the server requires per architecture', () => {
  const full: Record<string, Json> = {
    pipeline: { name: 'P', architecture: 'pipeline', systemPrompt: 'p', model: 'gpt-4o-mini', stt: 'deepgram', tts: 'elevenlabs' },
    realtime: { name: 'R', architecture: 'realtime', systemPrompt: 'p', realtimeProvider: 'openai' },
    text: { name: 'T', architecture: 'text', systemPrompt: 'p', model: 'gpt-4o-mini' },
  };

  it('is a oneOf discriminated on architecture', () => {
    const schema = doc.paths['/v1/agents'].post.requestBody.content['application/json'].schema;
    expect(schema.discriminator.propertyName).toBe('architecture');
    expect(Object.keys(schema.discriminator.mapping).sort()).toEqual(['pipeline', 'realtime', 'text']);
    expect(doc.components.schemas.AgentCreateText.properties.voiceMode.enum).toEqual(['off']);
  });

  it.each(['pipeline', 'realtime', 'text'])('%s: exactly the documented required fields are refused when missing', async (arch) => {
    const variant = doc.components.schemas[`AgentCreate${arch[0]!.toUpperCase()}${arch.slice(1)}`];
    // `model` sits in an anyOf (required unless `llm` is a conversation server): its first branch.
    const required: string[] = [...variant.required, ...(variant.anyOf?.[0]?.required ?? [])];
    // Only the documented fields: the server accepts it.
    const minimal = Object.fromEntries(required.map((f) => [f, full[arch]![f]]));
    expect(Object.keys(minimal).sort()).toEqual(Object.keys(full[arch]!).sort());
    expect((await t.api('POST', '/v1/agents', minimal)).status).toBe(201);
    for (const field of required) {
      const { [field]: _dropped, ...rest } = minimal;
      const res = await t.api('POST', '/v1/agents', rest);
      expect(res.status, field).toBe(422);
      expect(res.body.error.details.map((d: { field: string }) => d.field), field).toContain(field);
    }
  });
});

describe('Allow', () => {
  it('on /v1/knowledge/url lists only POST', async () => {
    const res = await t.api('GET', '/v1/knowledge/url');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });
});

/** A value the schema accepts, built from the document alone (no knowledge of the routes). */
function sample(schema: Json | undefined, depth = 0): unknown {
  if (!schema) return undefined;
  if (schema.$ref) return sample(doc.components.schemas[schema.$ref.split('/').pop()], depth);
  if (schema.examples?.length) return schema.examples[0];
  if (schema.default !== undefined) return schema.default;
  if (schema.oneOf) return sample(schema.oneOf[0], depth);
  if (schema.anyOf) return sample(schema.anyOf.find((s: Json) => s.type !== 'null') ?? schema.anyOf[0], depth);
  if (schema.enum) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  const type = Array.isArray(schema.type) ? schema.type.find((x: string) => x !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const out: Json = {};
      for (const k of schema.required ?? []) out[k] = sample(schema.properties?.[k], depth + 1);
      return out;
    }
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, (_, i) => (schema.items?.type === 'integer' ? i + 1 : sample(schema.items, depth + 1)));
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'string':
      if (schema.format === 'date-time') return new Date().toISOString();
      if (schema.pattern?.includes('\\+[1-9]')) return '+14155550100';
      if (schema.pattern === '^[A-Z_][A-Z0-9_]*$') return 'API_TOKEN';
      if (schema.pattern) return undefined;
      return 'x'.repeat(Math.max(schema.minLength ?? 1, 1));
    default:
      return undefined;
  }
}

describe('drift: a request derived from the document for every route', () => {
  it('is answered with a documented status, and a JSON 2xx body matches the documented schema', async () => {
    // Real objects for the path ids, so the 2xx paths are exercised, not only the 404s.
    const agent = (await t.api('POST', '/v1/agents', { name: 'A', architecture: 'pipeline', systemPrompt: 'p', model: 'm', stt: 'deepgram', tts: 'elevenlabs' })).body;
    const number = (await t.api('POST', '/v1/phone-numbers', { phoneNumber: '+14155550999', agentId: agent.id })).body;
    const docu = (await t.api('POST', '/v1/knowledge/text', { name: 'd', text: 'facts' })).body;
    const campaign = (await t.api('POST', '/v1/campaigns', { name: 'c', agentId: agent.id, fromNumberId: number.id })).body;
    const action = (await t.api('POST', `/v1/campaigns/${campaign.id}/start`)).body;
    const key = (await t.api('POST', '/v1/keys', { owner: 'drift', scopes: ['agents:read'] })).body;
    await t.api('POST', `/v1/agents/${agent.id}/tools`, { name: 'lookup', description: 'd', parameters: { type: 'object' }, url: 'http://127.0.0.1:9/x', method: 'POST' });
    await t.api('PUT', `/v1/agents/${agent.id}/env-vars/API_TOKEN`, { value: 'v' });
    const call = await t.ctx.store.createCall({
      id: newId('call'), owner: 'admin', agentId: agent.id, direction: 'outbound', status: 'completed', fromNumber: '+14155550999', toNumber: '+14155550123',
      phoneNumberId: number.id, twilioCallSid: null, startedAt: null, answeredAt: null, endedAt: new Date().toISOString(), durationSeconds: 0, endReason: 'api_end',
      variables: {}, metadata: {}, overrides: {}, record: false, recordingAvailable: false, latency: { turns: 0, p50Ms: null, p95Ms: null, recent: [] }, notes: [], campaignId: null, contactId: null,
    } as never);
    const ids: Array<[RegExp, string]> = [
      [/^\/v1\/agents\/\{id\}/, agent.id], [/^\/v1\/phone-numbers\/\{id\}/, number.id], [/^\/v1\/knowledge\/\{id\}/, docu.id],
      [/^\/v1\/campaigns\/\{id\}/, campaign.id], [/^\/v1\/(actions|approvals)\/\{id\}/, action.actionId], [/^\/v1\/keys\/\{id\}/, key.id], [/^\/v1\/calls\/\{id\}/, call.id],
    ];
    const ajv = schemaAjv();
    const ops = operations().filter(({ path }) => path.startsWith('/v1') || ['/healthz', '/readyz', '/metrics', '/openapi.json'].includes(path));
    // Deletes last (sub-resources first), so they do not remove what the others read.
    const rank = (o: { path: string; method: string }) => (o.method === 'delete' ? 1000 - o.path.length : 0);
    ops.sort((a, b) => rank(a) - rank(b));
    let checkedBodies = 0;
    for (const { path, method, op } of ops) {
      let url = path;
      for (const [re, id] of ids) if (re.test(url)) url = url.replace('{id}', id);
      url = url.replace('{name}', path.includes('env-vars') ? 'API_TOKEN' : 'lookup');
      const query = (op.parameters ?? []).filter((p: Json) => p.in === 'query' && p.required);
      if (query.length) url += '?' + query.map((p: Json) => `${p.name}=${encodeURIComponent(String(sample(p.schema)))}`).join('&');
      const bodySchema = op.requestBody?.content?.['application/json']?.schema;
      const body = bodySchema ? sample(bodySchema) : undefined;
      const abort = new AbortController();
      for (const auth of [true, false]) {
        const res = await fetch(t.baseUrl + url, {
          method: method.toUpperCase(),
          headers: { ...(auth ? { authorization: `Bearer ${t.adminKey}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: body !== undefined ? JSON.stringify(body) : undefined,
          signal: abort.signal,
        });
        const where = `${method.toUpperCase()} ${url} (${auth ? 'admin' : 'no key'}) → ${res.status}`;
        expect(Object.keys(op.responses), where).toContain(String(res.status));
        const type = res.headers.get('content-type') ?? '';
        if (type.includes('event-stream')) {
          abort.abort();
          break;
        }
        const text = await res.text();
        const schema = op.responses[String(res.status)]?.content?.['application/json']?.schema;
        if (schema && type.includes('application/json')) {
          const check = ajv.compile(ref(schema));
          expect(check(JSON.parse(text)), `${where}: ${JSON.stringify(check.errors)} ${text.slice(0, 300)}`).toBe(true);
          checkedBodies++;
        }
      }
    }
    expect(checkedBodies).toBeGreaterThan(80);
  }, 60_000);
});
