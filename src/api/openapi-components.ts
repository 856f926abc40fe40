/**
 * Named component schemas for the OpenAPI document, made by post-processing what
 * `@fastify/swagger` generated rather than by `$id` + `addSchema`: a shared schema with an `$id`
 * changes how Fastify compiles and serialises every route using it, while the document only
 * needs names. Each component is taken from one place in the generated document (`from`), and
 * every schema in the document that is structurally identical to it becomes a `$ref`. The route
 * schemas stay the one definition; the names are only a view of them.
 */
import type { Agent, Architecture } from '../store/types.js';
import { agentProblems } from './agent-schema.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Component name → where in the generated document its schema is: "METHOD path status|body [items]". */
const COMPONENTS: Array<[name: string, from: string]> = [
  ['Error', 'GET /v1/agents 401'],
  ['Me', 'GET /v1/me 200'],
  ['ApiKey', 'GET /v1/keys 200 items'],
  ['ApiKeyCreate', 'POST /v1/keys body'],
  ['ApiKeyCreated', 'POST /v1/keys 201'],
  ['Agent', 'GET /v1/agents/{id} 200'],
  ['AgentUpdate', 'PATCH /v1/agents/{id} body'],
  ['AgentTool', 'GET /v1/agents/{id}/tools 200 items'],
  ['AgentToolCreate', 'POST /v1/agents/{id}/tools body'],
  ['Voice', 'GET /v1/voices 200 items'],
  ['KnowledgeDocument', 'GET /v1/knowledge 200 items'],
  ['KnowledgeDocumentCreated', 'POST /v1/knowledge/text 201'],
  ['KnowledgeTextCreate', 'POST /v1/knowledge/text body'],
  ['KnowledgeUrlCreate', 'POST /v1/knowledge/url body'],
  ['PhoneNumber', 'GET /v1/phone-numbers/{id} 200'],
  ['PhoneNumberCreate', 'POST /v1/phone-numbers body'],
  ['Call', 'GET /v1/calls/{id} 200'],
  ['CallCreate', 'POST /v1/calls body'],
  ['Transcript', 'GET /v1/calls/{id}/transcript 200'],
  ['WebCall', 'POST /v1/web-calls 201'],
  ['WebCallCreate', 'POST /v1/web-calls body'],
  ['Campaign', 'GET /v1/campaigns/{id} 200'],
  ['CampaignCreate', 'POST /v1/campaigns body'],
  ['CampaignResults', 'GET /v1/campaigns/{id}/results 200'],
  ['Contact', 'GET /v1/campaigns/{id}/contacts 200 items'],
  ['ContactUpload', 'POST /v1/campaigns/{id}/contacts body'],
  ['ContactUploadResult', 'POST /v1/campaigns/{id}/contacts 200'],
  ['ActionAccepted', 'POST /v1/campaigns/{id}/start 202'],
  ['Action', 'GET /v1/actions/{id} 200'],
  ['Approval', 'GET /v1/approvals 200 items'],
];

/** Examples of the main objects (API.md field lists), shown by doc viewers and SDK generators. */
const EXAMPLES: Record<string, Json> = {
  Error: { error: { code: 'validation_failed', message: 'agent is invalid: stt is required for pipeline agents', details: [{ field: 'stt', path: 'body/stt', message: 'is required for pipeline agents' }] } },
  Agent: {
    id: 'agt_01JF3Q8Z6V9XK2M4N7P0R5S8TW',
    name: 'Front desk',
    architecture: 'pipeline',
    systemPrompt: 'You are the front desk of {{company}}. Be brief.',
    firstMessage: 'Hello, how can I help?',
    language: 'en',
    model: 'gpt-4o-mini',
    stt: 'deepgram',
    sttModel: 'nova-3',
    tts: 'elevenlabs',
    ttsModel: null,
    voiceId: '21m00Tcm4TlvDq8ikWAM',
    realtimeProvider: null,
    llm: null,
    temperature: 0.7,
    voiceMode: 'web_and_phone',
    turnDetection: null,
    pronunciations: { voxgate: 'vox gate' },
    variables: { company: 'Acme' },
    knowledgeIds: [],
    disabledTools: [],
    active: true,
    metadata: null,
    createdAt: '2026-01-05T10:00:00.000Z',
    updatedAt: '2026-01-05T10:00:00.000Z',
  },
  Call: {
    id: 'call_01JF3QB2W8T3H6J9K1M4N7P0QR',
    agentId: 'agt_01JF3Q8Z6V9XK2M4N7P0R5S8TW',
    direction: 'outbound',
    status: 'completed',
    fromNumber: '+14155550100',
    toNumber: '+14155550123',
    phoneNumberId: 'num_01JF3QA0R3S6T9V2W5X8Y1Z4AB',
    twilioCallSid: 'CA0123456789abcdef0123456789abcdef',
    startedAt: '2026-01-05T10:01:00.000Z',
    answeredAt: '2026-01-05T10:01:04.000Z',
    endedAt: '2026-01-05T10:03:10.000Z',
    durationSeconds: 126,
    endReason: 'caller_hangup',
    variables: { name: 'Ada' },
    metadata: {},
    recordingAvailable: true,
    latency: { turns: 7, p50Ms: 640, p95Ms: 910, recent: [{ voiceToVoiceMs: 640, endpointingMs: 120, sttFinalMs: 150, llmFirstTokenMs: 280, ttsFirstByteMs: 90 }] },
    createdAt: '2026-01-05T10:00:58.000Z',
  },
  PhoneNumber: { id: 'num_01JF3QA0R3S6T9V2W5X8Y1Z4AB', phoneNumber: '+14155550100', label: 'Sales line', agentId: 'agt_01JF3Q8Z6V9XK2M4N7P0R5S8TW', createdAt: '2026-01-05T10:00:30.000Z' },
  KnowledgeDocument: { id: 'doc_01JF3QC4Y0A3B6C9D2E5F8G1H4JK', name: 'Opening hours', sourceUrl: null, createdAt: '2026-01-05T09:00:00.000Z' },
  Campaign: {
    id: 'cmp_01JF3QD6Z2B5C8D1E4F7G0H3J6KM',
    name: 'Renewal reminders',
    agentId: 'agt_01JF3Q8Z6V9XK2M4N7P0R5S8TW',
    fromNumberId: 'num_01JF3QA0R3S6T9V2W5X8Y1Z4AB',
    purpose: 'Remind customers their plan renews next week',
    schedule: { timezone: 'America/New_York', callingHours: { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] } },
    maxConcurrentCalls: 5,
    maxAttempts: 3,
    retryDelayMinutes: 60,
    extractionSchema: { type: 'object', properties: { renews: { type: 'boolean' } } },
    status: 'draft',
    contacts: { total: 120, pending: 120, calling: 0, retry: 0, completed: 0, failed: 0, exhausted: 0 },
    createdAt: '2026-01-05T10:04:00.000Z',
    updatedAt: '2026-01-05T10:04:00.000Z',
  },
  Action: {
    id: 'act_01JF3QE8A4C7D0E3F6G9H2J5K8MN',
    campaignId: 'cmp_01JF3QD6Z2B5C8D1E4F7G0H3J6KM',
    action: 'start',
    status: 'awaiting_approval',
    requestedBy: 'acme-agent',
    requestedByKeyId: 'key_01JF3Q7X4T7VJ0K3M6N9P2Q5R8ST',
    decidedBy: null,
    decidedByKeyId: null,
    reason: null,
    createdAt: '2026-01-05T10:05:00.000Z',
    decidedAt: null,
  },
  ActionAccepted: { actionId: 'act_01JF3QE8A4C7D0E3F6G9H2J5K8MN', status: 'awaiting_approval' },
};

function locate(doc: Json, from: string): Json | undefined {
  const [method, path, where, items] = from.split(' ');
  const op = doc.paths?.[path!]?.[method!.toLowerCase()];
  if (!op) return undefined;
  const schema = where === 'body' ? op.requestBody?.content?.['application/json']?.schema : op.responses?.[where!]?.content?.['application/json']?.schema;
  return items ? schema?.properties?.items?.items : schema;
}

/** JSON with sorted keys: two schemas are the same component when these strings are equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const obj = value as Json;
    return `{${Object.keys(obj)
      .filter((k) => k !== 'description' && k !== 'examples')
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Replaces, below `node`, every schema equal to a named one by its `$ref` (top-down, so the biggest match wins). */
function refUnder(node: unknown, byCanonical: Map<string, string>, skipSelf: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => refUnder(n, byCanonical, false));
  if (!node || typeof node !== 'object') return node;
  if (!skipSelf) {
    const name = byCanonical.get(canonical(node));
    if (name) return { $ref: `#/components/schemas/${name}` };
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    // `properties` and `examples` hold names and sample values, not schemas to name.
    out[k] = k === 'examples' || k === 'example' ? v : refUnder(v, byCanonical, k === 'properties');
  }
  return out;
}

/**
 * The per-architecture request schemas of `POST /v1/agents`, derived from `agentProblems` (the
 * server's one source of truth): a field is required for an architecture when an agent of that
 * architecture without it has a problem naming it. A field the rules make conditional (e.g.
 * `model`, not required when an `llm` conversation server answers) is stated with an `anyOf`.
 */
function agentCreateVariants(base: Json): Record<string, Json> {
  const out: Record<string, Json> = {};
  const archs: Architecture[] = ['pipeline', 'realtime', 'text'];
  for (const arch of archs) {
    const missing = (agent: Partial<Agent>) => new Set(agentProblems({ architecture: arch, ...agent }).map((p) => p.field as string));
    const required = missing({});
    const properties: Json = { ...base.properties, architecture: { type: 'string', enum: [arch] } };
    const variant: Json = { type: 'object', additionalProperties: false, properties, required: ['architecture', ...[...required].sort()] };
    // Conversation servers (`llm`), when the schema has them, can make `model` unnecessary.
    if (base.properties?.llm && required.has('model')) {
      const serverProviders = ['webhook', 'websocket'].filter((p) => !missing({ llm: { provider: p } } as Partial<Agent>).has('model'));
      if (serverProviders.length > 0) {
        variant.required = variant.required.filter((f: string) => f !== 'model');
        variant.anyOf = [
          { required: ['model'] },
          { required: ['llm'], properties: { llm: { type: 'object', required: ['provider'], properties: { provider: { enum: serverProviders } } } } },
        ];
      }
    }
    // voiceMode values the rules refuse for this architecture (a text agent takes no calls).
    const modes: string[] = (base.properties?.voiceMode?.anyOf ?? []).flatMap((s: Json) => s.enum ?? []);
    const allowed = modes.filter((m) => !agentProblems({ architecture: arch, voiceMode: m } as Partial<Agent>).some((p) => p.field === 'voiceMode'));
    if (modes.length > 0 && allowed.length < modes.length) properties.voiceMode = { type: 'string', enum: allowed };
    const label = arch[0]!.toUpperCase() + arch.slice(1);
    out[`AgentCreate${label}`] = {
      ...variant,
      description: `A ${arch} agent. Required: ${variant.required.join(', ')}${variant.anyOf ? '; model unless llm is a conversation server' : ''}.`,
    };
  }
  return out;
}

/** Adds `components.schemas`, turns identical inline schemas into `$ref`s, and states the agent rules. */
export function addComponents(doc: Json): void {
  const schemas: Json = (doc.components ??= {}).schemas ??= {};
  const createOp = doc.paths['/v1/agents']?.post;
  const createSchema = createOp?.requestBody?.content?.['application/json'];
  if (createSchema?.schema && !createSchema.schema.$ref) {
    const variants = agentCreateVariants(createSchema.schema);
    Object.assign(schemas, variants);
    const mapping: Record<string, string> = {};
    for (const name of Object.keys(variants)) mapping[name.replace('AgentCreate', '').toLowerCase()] = `#/components/schemas/${name}`;
    createSchema.schema = {
      oneOf: Object.values(mapping).map(($ref) => ({ $ref })),
      discriminator: { propertyName: 'architecture', mapping },
    };
  }
  const byCanonical = new Map<string, string>();
  for (const [name, from] of COMPONENTS) {
    const schema = locate(doc, from);
    if (!schema || schema.$ref) continue;
    const key = canonical(schema);
    if (byCanonical.has(key)) continue;
    byCanonical.set(key, name);
    schemas[name] = structuredClone(schema);
  }
  for (const [name, schema] of Object.entries(schemas)) schemas[name] = refUnder(schema, byCanonical, true);
  doc.paths = refUnder(doc.paths, byCanonical, false);

  for (const [name, example] of Object.entries(EXAMPLES)) if (schemas[name]) schemas[name].examples = [example];
}
