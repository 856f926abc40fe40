/**
 * Chat-completions LLM, streaming, with tool calls. One implementation per vendor
 * (`openai.ts` covers OpenAI and every OpenAI-compatible server: vLLM, Ollama, llama.cpp).
 * Conversation servers (`webhook.ts`, `websocket.ts`) are brains behind the same seam.
 */
import type { ProviderError } from '../../errors.js';

export interface ToolCall {
  id: string;
  name: string;
  /** The raw JSON text the model produced; the tool layer parses and validates it. */
  arguments: string;
}

export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema object for the arguments. */
  parameters: Record<string, unknown>;
}

export type LlmEvent =
  | { type: 'delta'; text: string }
  /** Complete tool calls, emitted once the stream has delivered all their argument deltas. */
  | { type: 'tool_calls'; calls: ToolCall[] }
  /**
   * The producer went quiet mid-reply (a conversation server between chunks): what it said so
   * far should be voiced now rather than wait for the rest of a clause or the TTS schedule.
   */
  | { type: 'pause' }
  | { type: 'done'; finishReason: string };

export interface LlmStreamRequest {
  model: string;
  /**
   * The engine's id for the reply this request feeds (a conversation server's `turnId`). A
   * request whose messages hold no user message yet asks for the greeting.
   */
  turnId?: string;
  messages: ChatMessage[];
  tools?: ToolSpec[];
  temperature?: number;
  signal: AbortSignal;
  /** First-token and between-chunk limits (stall.ts); a stall throws `LlmStallError`. */
  stallLimits?: import('./stall.js').StallLimits;
}

export interface LlmCompleteRequest {
  model: string;
  messages: ChatMessage[];
  /** Structured output: the reply must be JSON matching this schema (`response_format: json_schema`). */
  jsonSchema?: { name: string; schema: Record<string, unknown> };
  temperature?: number;
  signal: AbortSignal;
}

/** What a brain may tell the engine between turns (a WebSocket server speaks when it likes). */
export interface BrainEvents {
  /** Speech or actions nobody asked for (`say`, `end_call`, `transfer`): played like a reply. */
  unprompted(events: LlmEvent[]): void;
  /** The brain is gone for good (API.md: apology, then `error:<provider>`). */
  failed(error: ProviderError): void;
}

/** How the call ended, for a brain's `call.ended` notice. */
export interface BrainCallEnd {
  endReason: string;
  durationSeconds: number;
  /** The conversation as the engine recorded it (user and agent words). */
  transcript?: Array<{ role: 'user' | 'agent'; text: string }>;
}

export interface LlmCapabilities {
  streaming?: boolean;
  tools?: boolean;
  jsonSchema?: boolean;
  /**
   * Replies may be started speculatively (at the STT's early end of speech) and dropped if the
   * caller goes on; `false` asks only for committed turns.
   */
  speculative?: boolean;
  /** Writes the greeting when the agent has no `firstMessage`. */
  greets?: boolean;
}

export interface LlmClient {
  readonly capabilities?: LlmCapabilities;
  /** The call's media connected: a conversation server opens its connection, sends its notice. */
  open?(events: BrainEvents): void;
  /** The caller cut the reply to `turnId` short; `heardText` is what they heard of it. */
  interrupted?(turnId: string, heardText: string): void;
  /** The call is over (never awaited by the call: a notice must not hold it up). */
  close?(end: BrainCallEnd): void;
  /** Streams a reply. Aborting `signal` ends the iteration without an error. */
  stream(request: LlmStreamRequest): AsyncIterable<LlmEvent>;
  /** One non-streaming completion; returns the message text. */
  complete(request: LlmCompleteRequest): Promise<string>;
}
