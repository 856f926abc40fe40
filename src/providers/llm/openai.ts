/**
 * Chat-completions client for OpenAI and every OpenAI-compatible server (vLLM, Ollama,
 * llama.cpp), on the official `openai` SDK. PROTOCOLS.md §6 is the wire format.
 */
import OpenAI, { APIError, APIUserAbortError } from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { ProviderError, isAbortError } from '../../errors.js';
import { StallWatch } from './stall.js';
import type {
  ChatMessage,
  LlmClient,
  LlmCompleteRequest,
  LlmEvent,
  LlmStreamRequest,
  ToolCall,
  ToolSpec,
} from './types.js';

export interface OpenAiLlmOptions {
  baseUrl: string;
  apiKey?: string;
  /**
   * The SDK's request timeout, which ends once the response headers are in. 30 s: for a
   * non-streaming completion (campaign extraction). A voice reply's stream is bounded by its
   * `stallLimits` (first token, between chunks), seconds, not this.
   */
  timeoutMs?: number;
  /** Hot path: 0, a retry doubles the caller's wait. The engine decides on a single retry itself. */
  maxRetries?: number;
}

const PROVIDER = 'openai';

export class OpenAiLlmClient implements LlmClient {
  readonly capabilities = { streaming: true, tools: true, jsonSchema: true } as const;
  private readonly client: OpenAI;

  constructor(opts: OpenAiLlmOptions) {
    this.client = new OpenAI({
      apiKey: opts.apiKey ?? 'missing',
      baseURL: opts.baseUrl,
      maxRetries: opts.maxRetries ?? 0,
      timeout: opts.timeoutMs ?? 30_000,
    });
  }

  async *stream(request: LlmStreamRequest): AsyncIterable<LlmEvent> {
    if (request.signal.aborted) return;
    const body: ChatCompletionCreateParamsStreaming = {
      model: request.model,
      stream: true,
      messages: request.messages.map(toWire),
    };
    if (request.tools && request.tools.length > 0) {
      body.tools = request.tools.map(toolToWire);
      body.tool_choice = 'auto';
    }
    if (request.temperature !== undefined) body.temperature = request.temperature;

    // The SDK's `timeout` ends at the response headers; the watch covers the body too.
    const watch = new StallWatch(PROVIDER, request.stallLimits);
    const signal = AbortSignal.any([request.signal, watch.controller.signal]);
    let stream: AsyncIterable<ChatCompletionChunk>;
    try {
      stream = await this.client.chat.completions.create(body, { signal });
    } catch (err) {
      watch.stop();
      if (watch.stalled && !request.signal.aborted) throw watch.stalled;
      if (request.signal.aborted || isAbortError(err) || err instanceof APIUserAbortError) return;
      throw toProviderError(err);
    }

    // Tool-call deltas are merged by `index` (PROTOCOLS §6): id/name arrive in the first
    // fragment of a call, arguments are concatenated in arrival order.
    const calls = new Map<number, { id: string; name: string; args: string[] }>();
    let finishReason = 'stop';
    try {
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        if (!choice) continue;
        const delta = choice.delta;
        // Only content moves the clock: a role-only first chunk is not a first token.
        if (delta?.content || delta?.tool_calls || choice.finish_reason) watch.progress();
        if (delta?.content) yield { type: 'delta', text: delta.content };
        if (delta?.tool_calls) {
          for (const tc of delta.tool_calls) {
            let acc = calls.get(tc.index);
            if (!acc) {
              acc = { id: '', name: '', args: [] };
              calls.set(tc.index, acc);
            }
            if (tc.id) acc.id = tc.id;
            if (tc.function?.name) acc.name = tc.function.name;
            if (tc.function?.arguments) acc.args.push(tc.function.arguments);
          }
        }
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
    } catch (err) {
      if (watch.stalled && !request.signal.aborted) throw watch.stalled;
      if (request.signal.aborted || isAbortError(err) || err instanceof APIUserAbortError) return;
      throw toProviderError(err);
    } finally {
      watch.stop();
    }
    if (watch.stalled && !request.signal.aborted) throw watch.stalled;
    if (request.signal.aborted) return;
    if (calls.size > 0) {
      const assembled: ToolCall[] = [...calls.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([, c]) => ({ id: c.id, name: c.name, arguments: c.args.join('') }));
      yield { type: 'tool_calls', calls: assembled };
    }
    yield { type: 'done', finishReason };
  }

  async complete(request: LlmCompleteRequest): Promise<string> {
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: request.model,
      messages: request.messages.map(toWire),
    };
    if (request.temperature !== undefined) body.temperature = request.temperature;
    if (request.jsonSchema) {
      body.response_format = {
        type: 'json_schema',
        json_schema: {
          name: request.jsonSchema.name,
          schema: request.jsonSchema.schema,
          strict: isStrictCompatible(request.jsonSchema.schema),
        },
      };
    }
    try {
      const res = await this.client.chat.completions.create(body, { signal: request.signal });
      return res.choices[0]?.message?.content ?? '';
    } catch (err) {
      if (isAbortError(err) || err instanceof APIUserAbortError) throw err;
      throw toProviderError(err);
    }
  }
}

function toWire(m: ChatMessage): ChatCompletionMessageParam {
  switch (m.role) {
    case 'system':
    case 'user':
      return { role: m.role, content: m.content };
    case 'assistant':
      return m.toolCalls && m.toolCalls.length > 0
        ? {
            role: 'assistant',
            content: m.content,
            tool_calls: m.toolCalls.map((c) => ({
              id: c.id,
              type: 'function' as const,
              function: { name: c.name, arguments: c.arguments },
            })),
          }
        : { role: 'assistant', content: m.content ?? '' };
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    default: {
      const never: never = m;
      throw new Error(`unknown message ${String(never)}`);
    }
  }
}

/**
 * OpenAI's Structured Outputs refuse a `strict: true` schema (HTTP 400 "Invalid schema for
 * response_format") unless every object in it has `additionalProperties: false` and lists all of
 * its properties in `required`. Campaign extraction schemas are written by users and rarely look
 * like that, so such a schema goes out with `strict: false`: the model still gets the schema,
 * and the caller validates the reply itself (campaigns/extraction.ts retries on a mismatch).
 */
export function isStrictCompatible(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(isStrictCompatible);
  if (typeof schema !== 'object' || schema === null) return true;
  const s = schema as Record<string, unknown>;
  const isObject = s['type'] === 'object' || (Array.isArray(s['type']) && s['type'].includes('object')) || 'properties' in s;
  if (isObject) {
    if (s['additionalProperties'] !== false) return false;
    const props = typeof s['properties'] === 'object' && s['properties'] !== null ? Object.keys(s['properties']) : [];
    const required = Array.isArray(s['required']) ? (s['required'] as unknown[]) : [];
    if (props.some((p) => !required.includes(p))) return false;
  }
  for (const [k, v] of Object.entries(s)) {
    // Values under these keys are schemas (or maps / lists of schemas); everything else is data.
    if (k === 'properties' || k === '$defs' || k === 'definitions') {
      if (typeof v === 'object' && v !== null && !Object.values(v).every(isStrictCompatible)) return false;
    } else if (k === 'items' || k === 'anyOf' || k === 'allOf' || k === 'oneOf' || k === 'not') {
      if (!isStrictCompatible(v)) return false;
    }
  }
  return true;
}

function toolToWire(t: ToolSpec): ChatCompletionTool {
  return { type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } };
}

function toProviderError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof APIError) {
    // `status` is undefined for connection errors and in-stream `error` chunks: treat those as
    // the provider's fault (retryable), like a 502.
    if (typeof err.status === 'number') return ProviderError.fromStatus(PROVIDER, err.status, err.message);
    return new ProviderError(PROVIDER, err.message, undefined, true);
  }
  return new ProviderError(PROVIDER, err instanceof Error ? err.message : String(err), undefined, true);
}
