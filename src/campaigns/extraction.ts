/**
 * Post-call structured extraction: the transcript of an answered campaign call goes to the LLM
 * with the campaign's `extractionSchema` as structured output (`response_format: json_schema`);
 * the reply is parsed and validated with Ajv before it lands on the contact.
 *
 * Structured output makes a schema-conforming reply likely, not certain (compatible servers
 * may ignore `response_format`), so an invalid reply is retried once with the validation errors
 * in the prompt, and a second failure is recorded on the contact (`resultError`), never lost.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Campaign, Store, TranscriptItem } from '../store/types.js';
import type { LlmClient } from '../providers/llm/types.js';

// ajv-formats is CommonJS with `exports.default`: depending on the loader the default import is
// the function or the module object holding it.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

// strict: false — schemas are written by hand and often carry annotation keywords (`examples`,
// `title`) that Ajv's strict mode rejects; only the structure matters here.
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);

/** Attempts per call: the first, and one retry after an invalid reply (issue 8). */
const MAX_TRIES = 2;
/** Realtime agents have no chat model; extraction still needs one. */
export const DEFAULT_EXTRACTION_MODEL = 'gpt-4o-mini';
/** One completion of a short JSON object; a stuck request must not hold the contact forever. */
const COMPLETION_TIMEOUT_MS = 60_000;

/** Compiles `schema`; returns the problem when it is not a usable extraction schema. */
export function extractionSchemaProblem(schema: Record<string, unknown>): string | null {
  if (schema.type !== 'object') return 'extractionSchema must be a JSON Schema with "type": "object"';
  const props = schema.properties;
  if (props === null || typeof props !== 'object' || Array.isArray(props)) {
    return 'extractionSchema must have "properties" (an object): they become the result columns';
  }
  try {
    ajv.compile(schema);
    return null;
  } catch (err) {
    return `extractionSchema is not a valid JSON Schema: ${(err as Error).message}`;
  }
}

/** The result columns: the schema's top-level property names, in order. */
export function extractionColumns(schema: Record<string, unknown> | null): string[] {
  const props = schema?.properties;
  return props && typeof props === 'object' && !Array.isArray(props) ? Object.keys(props) : [];
}

// Compiling costs milliseconds; campaigns produce many results with one schema.
const compiled = new Map<string, ValidateFunction>();
function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let v = compiled.get(key);
  if (!v) {
    if (compiled.size > 500) compiled.clear();
    v = ajv.compile(schema);
    compiled.set(key, v);
  }
  return v;
}

export type ExtractionOutcome = { ok: true; result: Record<string, unknown> } | { ok: false; error: string };

export interface ExtractionDeps {
  store: Store;
  /** Null when no OpenAI credentials are configured: the outcome records that. */
  llm: LlmClient | null;
  timeoutMs?: number;
}

export async function extractCallResult(deps: ExtractionDeps, campaign: Campaign, callId: string): Promise<ExtractionOutcome> {
  const schema = campaign.extractionSchema;
  if (!schema) return { ok: false, error: 'extraction_failed: the campaign has no extractionSchema' };
  if (!deps.llm) return { ok: false, error: 'extraction_failed: OpenAI credentials are not configured (OPENAI_API_KEY)' };
  const transcript = await deps.store.listTranscript(callId);
  if (transcript.length === 0) return { ok: false, error: 'extraction_failed: the call has no transcript' };
  const agent = await deps.store.getAgent(campaign.agentId);
  const model = agent?.model ?? DEFAULT_EXTRACTION_MODEL;
  let validate: ValidateFunction;
  try {
    validate = validatorFor(schema);
  } catch (err) {
    return { ok: false, error: `extraction_failed: invalid extractionSchema: ${(err as Error).message}` };
  }

  const messages = [
    { role: 'system' as const, content: systemPrompt(campaign) },
    { role: 'user' as const, content: renderTranscript(transcript) },
  ];
  let lastProblem = '';
  for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
    let text: string;
    try {
      text = await deps.llm.complete({
        model,
        messages,
        jsonSchema: { name: 'call_result', schema },
        temperature: 0,
        signal: AbortSignal.timeout(deps.timeoutMs ?? COMPLETION_TIMEOUT_MS),
      });
    } catch (err) {
      lastProblem = `LLM request failed: ${(err as Error).message}`;
      continue;
    }
    const checked = check(validate, text);
    if (checked.ok) return checked;
    lastProblem = checked.error;
    // Tell the model what was wrong; the retry is cheap compared with losing the result.
    messages.push({ role: 'user', content: `Your reply was invalid (${checked.error}). Reply again with only JSON matching the schema.` });
  }
  return { ok: false, error: `extraction_failed: ${lastProblem}` };
}

function check(validate: ValidateFunction, text: string): ExtractionOutcome {
  let value: unknown;
  try {
    value = JSON.parse(text.trim());
  } catch {
    return { ok: false, error: 'the reply is not valid JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, error: 'the reply is not a JSON object' };
  if (!validate(value)) return { ok: false, error: `the reply does not match the schema: ${describe(validate.errors)}` };
  return { ok: true, result: value as Record<string, unknown> };
}

function describe(errors: ErrorObject[] | null | undefined): string {
  if (!errors?.length) return 'invalid';
  return errors
    .slice(0, 5)
    .map((e) => {
      if (e.keyword === 'required') return `missing '${String(e.params['missingProperty'])}'`;
      return `${e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'value'} ${e.message ?? 'is invalid'}`;
    })
    .join('; ');
}

function systemPrompt(campaign: Campaign): string {
  const purpose = campaign.purpose ? ` The campaign's purpose: ${campaign.purpose}.` : '';
  return (
    'You read the transcript of a finished phone call between an AI agent and a person and extract ' +
    `structured data from it.${purpose} Reply with only a JSON object matching the given schema. ` +
    'Use only what was said in the call; where the schema allows null and the call did not say, use null.'
  );
}

function renderTranscript(items: TranscriptItem[]): string {
  const label: Record<TranscriptItem['role'], string> = { user: 'Person', agent: 'Agent', tool: 'Tool', system: 'System' };
  return `Transcript:\n${items.map((i) => `${label[i.role]}: ${i.text}`).join('\n')}`;
}
