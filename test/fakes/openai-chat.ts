/**
 * A protocol-faithful fake of OpenAI Chat Completions (PROTOCOLS.md §6), for tests and bench/.
 * `POST /v1/chat/completions`, streaming (SSE `chat.completion.chunk` frames, tool-call deltas
 * split over several chunks, `data: [DONE]`) and non-streaming (`response_format` honoured by
 * returning the scripted JSON). Checks `Authorization: Bearer <key>`. Scripted per request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptToken {
  text: string;
  /** Wait this long before sending this token (after the previous one). */
  delayMs?: number;
}

export interface ChatScript {
  /** Reply with this HTTP error status and an OpenAI error body instead of a completion. */
  status?: number;
  errorMessage?: string;
  /** Delay before the first chunk (time to first token). */
  firstTokenDelayMs?: number;
  /** Text tokens, each sent as one `delta.content`. */
  tokens?: Array<string | ScriptToken>;
  /** Default delay between tokens. */
  tokenDelayMs?: number;
  /** Tool calls; each call's arguments are split over several chunks. */
  toolCalls?: Array<{ id?: string; name: string; arguments: string }>;
  /** Non-streaming or `response_format` replies: this value (JSON-encoded unless a string). */
  json?: unknown;
  /** Keep the stream open after the last token without finishing (for abort tests). */
  hang?: boolean;
  /** Send an in-stream `data: {"error":…}` after the tokens. */
  streamError?: string;
}

export interface RecordedChatRequest {
  body: {
    model: string;
    stream?: boolean;
    messages: Array<Record<string, unknown>>;
    tools?: Array<{ type: string; function: { name: string; description?: string; parameters?: unknown } }>;
    response_format?: { type: string; json_schema?: { name: string; schema: unknown; strict?: boolean } };
    [k: string]: unknown;
  };
  headers: http.IncomingHttpHeaders;
  /** True once the client went away before the response finished (abort). */
  aborted: boolean;
  /** True once the response was fully written. */
  completed: boolean;
}

export type ChatResponder = (request: RecordedChatRequest, index: number) => ChatScript;

export interface FakeOpenAiChat {
  /** Base URL including `/v1`, as the SDK's `baseURL` wants it. */
  url: string;
  port: number;
  requests: RecordedChatRequest[];
  /** Replace the responder (e.g. per test phase). */
  respond(fn: ChatResponder): void;
  close(): Promise<void>;
}

export interface FakeOpenAiChatOptions {
  apiKey?: string;
  respond?: ChatResponder;
}

const CREATED = 1723031665;

export async function startFakeOpenAiChat(opts: FakeOpenAiChatOptions = {}): Promise<FakeOpenAiChat> {
  const apiKey = opts.apiKey ?? 'sk-test';
  let responder: ChatResponder = opts.respond ?? (() => ({ tokens: ['Hello', '.'] }));
  const requests: RecordedChatRequest[] = [];
  let seq = 0;
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer((req, res) => {
    void handle(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/chat/completions') {
      return sendError(res, 404, 'Not found', 'invalid_request_error');
    }
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return sendError(res, 401, 'Incorrect API key provided', 'invalid_request_error', 'invalid_api_key');
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: RecordedChatRequest['body'];
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RecordedChatRequest['body'];
    } catch {
      return sendError(res, 400, 'We could not parse the JSON body of your request.', 'invalid_request_error');
    }
    if (typeof body.model !== 'string' || !Array.isArray(body.messages)) {
      return sendError(res, 400, "Missing required parameter: 'model' or 'messages'.", 'invalid_request_error');
    }
    const invalid = validateRequest(body);
    if (invalid) return sendError(res, 400, invalid.message, 'invalid_request_error', null, invalid.param);
    const rec: RecordedChatRequest = { body, headers: req.headers, aborted: false, completed: false };
    const index = requests.length;
    requests.push(rec);
    res.on('close', () => {
      if (!rec.completed) rec.aborted = true;
    });
    const script = responder(rec, index);
    if (script.status) {
      if (script.firstTokenDelayMs) await sleep(script.firstTokenDelayMs);
      return sendError(res, script.status, script.errorMessage ?? 'scripted error', script.status >= 500 ? 'server_error' : 'invalid_request_error');
    }
    const id = `chatcmpl-${++seq}`;
    if (body.stream) await streamReply(res, rec, body, script, id);
    else await jsonReply(res, rec, body, script, id);
  }

  async function jsonReply(
    res: http.ServerResponse,
    rec: RecordedChatRequest,
    body: RecordedChatRequest['body'],
    script: ChatScript,
    id: string,
  ): Promise<void> {
    if (script.firstTokenDelayMs) await sleep(script.firstTokenDelayMs);
    const content =
      script.json !== undefined
        ? typeof script.json === 'string'
          ? script.json
          : JSON.stringify(script.json)
        : (script.tokens ?? []).map((t) => (typeof t === 'string' ? t : t.text)).join('');
    const toolCalls = script.toolCalls?.map((c, i) => ({
      id: c.id ?? `call_${i}`,
      type: 'function',
      function: { name: c.name, arguments: c.arguments },
    }));
    const payload = {
      id,
      object: 'chat.completion',
      created: CREATED,
      model: body.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: toolCalls ? null : content, refusal: null, ...(toolCalls ? { tool_calls: toolCalls } : {}) },
          logprobs: null,
          finish_reason: toolCalls ? 'tool_calls' : 'stop',
        },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    };
    rec.completed = true;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(payload));
  }

  async function streamReply(
    res: http.ServerResponse,
    rec: RecordedChatRequest,
    body: RecordedChatRequest['body'],
    script: ChatScript,
    id: string,
  ): Promise<void> {
    const frame = (choices: unknown[], extra: Record<string, unknown> = {}): boolean => {
      if (res.destroyed) return false;
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: CREATED, model: body.model, choices, ...extra })}\n\n`);
      return true;
    };
    const choice = (delta: Record<string, unknown>, finish: string | null = null) => ({ index: 0, delta, logprobs: null, finish_reason: finish });

    if (script.firstTokenDelayMs) await sleep(script.firstTokenDelayMs);
    if (res.destroyed) return;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    frame([choice({ role: 'assistant', content: script.toolCalls && !script.tokens ? null : '' })]);

    const tokens = script.tokens ?? (script.json !== undefined ? [typeof script.json === 'string' ? script.json : JSON.stringify(script.json)] : []);
    for (const t of tokens) {
      const tok = typeof t === 'string' ? { text: t } : t;
      const delay = tok.delayMs ?? script.tokenDelayMs ?? 0;
      if (delay > 0) await sleep(delay);
      if (!frame([choice({ content: tok.text })])) return;
    }
    if (script.toolCalls) {
      for (const [i, call] of script.toolCalls.entries()) {
        // First fragment carries id + name and empty arguments; the arguments follow split in
        // pieces of at most 8 characters (real fragment boundaries are arbitrary).
        if (!frame([choice({ tool_calls: [{ index: i, id: call.id ?? `call_${i}`, type: 'function', function: { name: call.name, arguments: '' } }] })])) return;
        for (let p = 0; p < call.arguments.length; p += 8) {
          if (script.tokenDelayMs) await sleep(script.tokenDelayMs);
          if (!frame([choice({ tool_calls: [{ index: i, function: { arguments: call.arguments.slice(p, p + 8) } }] })])) return;
        }
      }
    }
    if (script.streamError) {
      if (!res.destroyed) res.write(`data: ${JSON.stringify({ error: { message: script.streamError, type: 'server_error', param: null, code: null } })}\n\n`);
      rec.completed = true;
      res.end();
      return;
    }
    if (script.hang) return; // left open until the client aborts or the server closes
    if (!frame([choice({}, script.toolCalls ? 'tool_calls' : 'stop')])) return;
    // The usage chunk (`choices: []`) only comes when asked for (stream_options.include_usage).
    const streamOptions = body['stream_options'] as { include_usage?: boolean } | undefined;
    if (streamOptions?.include_usage) frame([], { usage: { prompt_tokens: 10, completion_tokens: tokens.length, total_tokens: 10 + tokens.length } });
    rec.completed = true;
    res.end('data: [DONE]\n\n');
  }

  function sendError(res: http.ServerResponse, status: number, message: string, type: string, code: string | null = null, param: string | null = null): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message, type, param, code } }));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    respond(fn) {
      responder = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The request checks the real API makes that a client can get wrong (400s, PROTOCOLS.md §6):
 * tool results must answer the assistant message that asked for them, every tool call must be
 * answered before the conversation goes on, and a `strict` json_schema must be one Structured
 * Outputs accepts (every object closed with `additionalProperties: false`, all properties required).
 * Messages follow the real API's wording.
 */
export function validateRequest(body: RecordedChatRequest['body']): { message: string; param: string } | null {
  const msgs = body.messages;
  let open: { index: number; ids: Set<string> } | null = null;
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i]!;
    if (m['role'] === 'tool') {
      const id = m['tool_call_id'];
      if (!open || typeof id !== 'string' || !open.ids.has(id)) {
        return { message: "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.", param: `messages.[${i}].role` };
      }
      open.ids.delete(id);
      continue;
    }
    if (open && open.ids.size > 0) {
      return {
        message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open.ids].join(', ')}`,
        param: `messages.[${open.index}].role`,
      };
    }
    open = null;
    const calls = m['tool_calls'];
    if (m['role'] === 'assistant' && Array.isArray(calls) && calls.length > 0) {
      for (const c of calls as Array<Record<string, any>>) {
        if (typeof c['id'] !== 'string' || c['type'] !== 'function' || typeof c['function']?.name !== 'string' || typeof c['function']?.arguments !== 'string') {
          return { message: `Invalid value for 'tool_calls' in messages.[${i}].`, param: `messages.[${i}].tool_calls` };
        }
      }
      open = { index: i, ids: new Set((calls as Array<{ id: string }>).map((c) => c.id)) };
    }
  }
  if (open && open.ids.size > 0) {
    return {
      message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open.ids].join(', ')}`,
      param: `messages.[${open.index}].role`,
    };
  }
  const rf = body.response_format;
  if (rf?.type === 'json_schema' && rf.json_schema?.strict === true) {
    const problem = strictProblem(rf.json_schema.schema, '()');
    if (problem) return { message: `Invalid schema for response_format '${rf.json_schema.name}': ${problem}`, param: 'response_format' };
  }
  return null;
}

function strictProblem(schema: unknown, context: string): string | null {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return null;
  const s = schema as Record<string, unknown>;
  if (s['type'] === 'object' || 'properties' in s) {
    if (s['additionalProperties'] !== false) return `In context=${context}, 'additionalProperties' is required to be supplied and to be false.`;
    const props = Object.keys((s['properties'] as object | undefined) ?? {});
    const required = Array.isArray(s['required']) ? (s['required'] as unknown[]) : [];
    const missing = props.find((p) => !required.includes(p));
    if (missing) return `In context=${context}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing}'.`;
    for (const [k, v] of Object.entries((s['properties'] as Record<string, unknown> | undefined) ?? {})) {
      const p = strictProblem(v, `('properties', '${k}')`);
      if (p) return p;
    }
  }
  if (s['items']) return strictProblem(s['items'], `${context}, 'items'`);
  return null;
}
