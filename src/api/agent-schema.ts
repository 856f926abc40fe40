/**
 * Agent request/response schemas and the architecture table of API.md, kept apart from the
 * routes so the rules are testable on their own and shared by create and PATCH.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { Agent, Architecture } from '../store/types.js';
import type { ErrorDetail } from '../errors.js';
import { AnyObject, Nullable, StringMap } from './schemas.js';
import { AgentLlmJson, AgentLlmSchema, isServerBrain, llmProblems } from './agent-llm.js';

const lit = <T extends string>(...values: T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const ArchitectureSchema = lit('pipeline', 'realtime', 'text');
export const VoiceModeSchema = lit('off', 'web', 'phone', 'web_and_phone');
const SttSchema = lit('deepgram', 'deepgram-flux', 'openai-compatible');
const TtsSchema = lit('elevenlabs', 'cartesia', 'openai-compatible');
const BuiltinToolSchema = lit('end_call', 'transfer_call');

const TurnDetectionSchema = Type.Object(
  {
    vadThreshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    silenceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    minInterruptionMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    interruptible: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const Text = (max: number) => Type.String({ maxLength: max });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const Prompt = Type.String({ minLength: 1, maxLength: 100_000 });
const KnowledgeIds = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100, uniqueItems: true });

/**
 * The fields a client may set. Every field is optional in the schema: which ones are required
 * depends on `architecture`, and `requiredFieldsMissing` reports all missing ones at once.
 */
const settable = {
  name: Name,
  architecture: ArchitectureSchema,
  systemPrompt: Prompt,
  firstMessage: Nullable(Text(10_000)),
  language: Type.String({ minLength: 2, maxLength: 35, pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$' }),
  model: Nullable(Type.String({ minLength: 1, maxLength: 200 })),
  stt: Nullable(SttSchema),
  sttModel: Nullable(Type.String({ minLength: 1, maxLength: 200 })),
  tts: Nullable(TtsSchema),
  ttsModel: Nullable(Type.String({ minLength: 1, maxLength: 200 })),
  voiceId: Nullable(Type.String({ minLength: 1, maxLength: 200 })),
  realtimeProvider: Nullable(Type.Union([Type.Literal('openai'), Type.Literal('xai')])),
  temperature: Nullable(Type.Number({ minimum: 0, maximum: 2 })),
  voiceMode: VoiceModeSchema,
  turnDetection: Nullable(TurnDetectionSchema),
  pronunciations: Nullable(StringMap),
  variables: Nullable(StringMap),
  knowledgeIds: KnowledgeIds,
  /** Built-in tools to switch off (voxgate extension; API.md: "unless disabled"). */
  disabledTools: Type.Array(BuiltinToolSchema, { uniqueItems: true }),
  active: Type.Boolean(),
  metadata: Nullable(AnyObject),
  /** Where replies come from (agent-llm.ts); null: the built-in LLM. */
  llm: Nullable(AgentLlmSchema),
};

function allOptional<T extends Record<string, TSchema>>(props: T) {
  return Type.Partial(Type.Object(props, { additionalProperties: false }));
}

export const CreateAgentBody = allOptional(settable);
export type CreateAgentBody = Static<typeof CreateAgentBody>;
/** PATCH: `null` clears an optional field; the required ones cannot be nulled (schema). */
export const PatchAgentBody = allOptional(settable);
export type PatchAgentBody = Static<typeof PatchAgentBody>;

export const AgentJson = Type.Object({
  id: Type.String(),
  name: Type.String(),
  architecture: ArchitectureSchema,
  systemPrompt: Type.String(),
  firstMessage: Nullable(Type.String()),
  language: Type.String(),
  model: Nullable(Type.String()),
  stt: Nullable(Type.String()),
  sttModel: Nullable(Type.String()),
  tts: Nullable(Type.String()),
  ttsModel: Nullable(Type.String()),
  voiceId: Nullable(Type.String()),
  realtimeProvider: Nullable(Type.String()),
  temperature: Nullable(Type.Number()),
  voiceMode: VoiceModeSchema,
  turnDetection: Nullable(Type.Object({}, { additionalProperties: true })),
  pronunciations: Nullable(Type.Record(Type.String(), Type.String())),
  variables: Nullable(Type.Record(Type.String(), Type.String())),
  knowledgeIds: Type.Array(Type.String()),
  disabledTools: Type.Array(Type.String()),
  active: Type.Boolean(),
  metadata: Nullable(Type.Object({}, { additionalProperties: true })),
  llm: Nullable(AgentLlmJson),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

/** Required fields by architecture (API.md, Agents). */
export const REQUIRED_BY_ARCHITECTURE: Record<Architecture, ReadonlyArray<keyof Agent>> = {
  pipeline: ['name', 'architecture', 'systemPrompt', 'model', 'stt', 'tts'],
  realtime: ['name', 'architecture', 'systemPrompt', 'realtimeProvider'],
  text: ['name', 'architecture', 'systemPrompt', 'model'],
};

const isMissing = (v: unknown): boolean => v === undefined || v === null || v === '';

/**
 * Every problem with an agent's merged fields, one detail each: the fields its architecture
 * requires, and voice settings a `text` agent cannot have.
 */
export function agentProblems(agent: Partial<Agent>): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const arch = agent.architecture;
  const required = arch ? REQUIRED_BY_ARCHITECTURE[arch] : (['name', 'architecture', 'systemPrompt'] as const);
  for (const field of required) {
    // A conversation server writes the replies itself: no model to name (API.md, `llm`).
    if (field === 'model' && isServerBrain(agent.llm)) continue;
    if (isMissing(agent[field])) {
      problems.push({
        field,
        path: `body/${field}`,
        message: arch && field !== 'name' && field !== 'architecture' && field !== 'systemPrompt' ? `is required for ${arch} agents` : 'is required',
      });
    }
  }
  if (arch === 'text' && agent.voiceMode !== undefined && agent.voiceMode !== 'off') {
    problems.push({ field: 'voiceMode', path: 'body/voiceMode', message: 'a text agent cannot take calls: voiceMode must be "off"' });
  }
  problems.push(...llmProblems(agent.llm));
  return problems;
}

export function agentToJson(a: Agent): Static<typeof AgentJson> {
  return {
    id: a.id,
    name: a.name,
    architecture: a.architecture,
    systemPrompt: a.systemPrompt,
    firstMessage: a.firstMessage,
    language: a.language,
    model: a.model,
    stt: a.stt,
    sttModel: a.sttModel,
    tts: a.tts,
    ttsModel: a.ttsModel,
    voiceId: a.voiceId,
    realtimeProvider: a.realtimeProvider,
    temperature: a.temperature,
    voiceMode: a.voiceMode,
    turnDetection: a.turnDetection,
    pronunciations: a.pronunciations,
    variables: a.variables,
    knowledgeIds: a.knowledgeIds,
    disabledTools: a.disabledTools,
    active: a.active,
    metadata: a.metadata,
    llm: a.llm ?? null,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
}
