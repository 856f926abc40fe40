/**
 * Chat-completions LLM, streaming, with tool calls. One implementation per vendor
 * (`openai.ts` covers OpenAI and every OpenAI-compatible server: vLLM, Ollama, llama.cpp).
 */
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
  | { type: 'done'; finishReason: string };

export interface LlmStreamRequest {
  model: string;
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

export interface LlmClient {
  /** Streams a reply. Aborting `signal` ends the iteration without an error. */
  stream(request: LlmStreamRequest): AsyncIterable<LlmEvent>;
  /** One non-streaming completion; returns the message text. */
  complete(request: LlmCompleteRequest): Promise<string>;
}
