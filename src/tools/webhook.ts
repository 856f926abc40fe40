/**
 * Webhook tools (API.md, Tools): the model's arguments go to the agent's URL as
 * `{tool, arguments, callId, agentId}` (POST JSON) or as query parameters (GET), with
 * `{{env.NAME}}` secrets filled into URL and headers. Whatever happens, the model gets a
 * `ToolResult` — a slow or broken webhook is a tool error, never a dead call.
 */
import type { AgentTool } from '../store/types.js';
import type { Logger } from '../logger.js';
import { isAbortError } from '../errors.js';
import type { ToolResult } from './types.js';
import { fillEnv, scrubSecrets } from './env-template.js';
import { WebhookError, webhookFetch, type WebhookFetch } from './http.js';

/** API.md: `timeoutMs` defaults to 5000. */
export const DEFAULT_TOOL_TIMEOUT_MS = 5000;
/** Largest response accepted; a tool answer is a few hundred bytes, 256 KiB is generous. */
export const MAX_RESPONSE_BYTES = 256 * 1024;
/** Characters handed to the model: keeps one chatty webhook from flooding the context. */
export const MAX_OUTPUT_CHARS = 8000;
/** Characters of an error body shown to the model ("booking not found" helps it recover). */
const ERROR_SNIPPET_CHARS = 200;

export interface WebhookCall {
  tool: AgentTool;
  args: Record<string, unknown>;
  callId: string;
  agentId: string;
  env: Record<string, string>;
  allowPrivateUrls: boolean;
  signal: AbortSignal;
  log: Logger;
  fetch?: WebhookFetch;
}

export async function runWebhook(c: WebhookCall): Promise<ToolResult> {
  const { tool } = c;
  const secrets = Object.values(c.env);
  const fail = (reason: string): ToolResult => ({ ok: false, output: scrubSecrets(`tool ${tool.name} failed: ${reason}`, secrets) });

  const url = fillEnv(tool.url, c.env, encodeURIComponent);
  const headers: Record<string, string> = {};
  const missing = [...url.missing];
  for (const [name, value] of Object.entries(tool.headers ?? {})) {
    const filled = fillEnv(value, c.env);
    missing.push(...filled.missing);
    headers[name.toLowerCase()] = filled.text;
  }
  if (missing.length > 0) {
    // Names only: the configuration is wrong, the model cannot fix it, the operator can.
    c.log.warn({ tool: tool.name, missing }, 'webhook tool references undefined env vars');
    return fail('the tool is misconfigured (undefined environment variable)');
  }

  let target: URL;
  try {
    target = new URL(url.text);
  } catch {
    return fail('the tool URL is invalid');
  }
  let body: string | undefined;
  if (tool.method === 'GET') {
    // Top-level arguments become query parameters; nested values are sent as JSON text.
    for (const [k, v] of Object.entries(c.args)) {
      target.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
    }
  } else {
    headers['content-type'] = 'application/json';
    body = JSON.stringify({ tool: tool.name, arguments: c.args, callId: c.callId, agentId: c.agentId });
  }
  headers['accept'] ??= 'application/json, text/plain;q=0.9, */*;q=0.5';

  const timeoutMs = tool.timeoutMs > 0 ? tool.timeoutMs : DEFAULT_TOOL_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([c.signal, timeout]);
  const started = Date.now();
  try {
    const res = await (c.fetch ?? webhookFetch)(target.toString(), {
      method: tool.method,
      headers,
      body,
      signal,
      timeoutMs,
      maxBytes: MAX_RESPONSE_BYTES,
      allowPrivate: c.allowPrivateUrls,
    });
    const text = decodeBody(res.body, res.contentType);
    c.log.info({ tool: tool.name, status: res.status, ms: Date.now() - started }, 'webhook tool called');
    if (res.status < 200 || res.status >= 300) {
      const snippet = text.trim().slice(0, ERROR_SNIPPET_CHARS);
      return fail(`HTTP ${res.status}${snippet ? `: ${snippet}` : ''}`);
    }
    return { ok: true, output: scrubSecrets(truncate(text === '' ? '{"ok":true}' : text), secrets) };
  } catch (err) {
    if (c.signal.aborted) return fail('cancelled');
    if (timeout.aborted || isAbortError(err)) {
      c.log.info({ tool: tool.name, timeoutMs }, 'webhook tool timed out');
      return fail(`timed out after ${timeoutMs} ms`);
    }
    const kind = err instanceof WebhookError ? err.kind : 'network';
    if (kind === 'timeout') return fail(`timed out after ${timeoutMs} ms`);
    const reason = kind === 'refused' ? 'the tool URL is not allowed' : kind === 'too_large' ? 'the response is too large' : 'network error';
    // The message may carry the filled URL; log the tool name and a scrubbed message only.
    c.log.warn({ tool: tool.name, err: scrubSecrets((err as Error).message ?? String(err), secrets) }, 'webhook tool failed');
    return fail(reason);
  }
}

function decodeBody(body: Buffer, contentType: string | null): string {
  const text = body.toString('utf8');
  if (contentType && /\bjson\b/i.test(contentType)) {
    try {
      // Re-serialised compactly: pretty-printed JSON wastes the model's context.
      return JSON.stringify(JSON.parse(text));
    } catch {
      return text;
    }
  }
  return text;
}

function truncate(text: string): string {
  return text.length <= MAX_OUTPUT_CHARS ? text : `${text.slice(0, MAX_OUTPUT_CHARS)}… [truncated]`;
}
