/**
 * What a conversation server (webhook.ts, websocket.ts) needs of the call or chat it serves,
 * and the pieces both protocols share: the turn payload built from the engine's messages, the
 * apology, and the server's end/transfer requests turned into the built-in tool calls the
 * engine already knows how to act on (`end_call`, `transfer_call`).
 */
import { ProviderError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { ChatMessage, LlmEvent, LlmStreamRequest, ToolCall } from './types.js';

export const BRAIN_PROVIDER = 'conversation_server';

/** API.md: "a short apology" when a turn fails; the call goes on, so it invites a retry. */
export const BRAIN_APOLOGY = "Sorry, I'm having trouble answering right now. Could you say that again?";
/** API.md: webhook `timeoutMs` default; the WebSocket server gets the same budget per turn. */
export const DEFAULT_BRAIN_TIMEOUT_MS = 8000;
/**
 * Spoken characters accepted per turn: ~10 minutes of speech at 15 chars/s. A server that
 * streams megabytes is cut off here instead of keeping the caller listening for hours.
 */
export const MAX_TURN_CHARS = 10_000;
/**
 * A server quiet this long mid-answer has paused ("let me check…"): what it said is voiced now.
 * Token streams from an LLM arrive well under 100 ms apart, so they never trip it.
 */
export const PAUSE_FLUSH_MS = 250;
/** Largest webhook body or WebSocket frame read: a spoken reply is a few kB; 1 MiB is generous. */
export const MAX_BRAIN_BYTES = 1024 * 1024;

export interface BrainContext {
  callId: string;
  agentId: string;
  /** `inbound` | `outbound` | `web` for calls, `chat` for a text agent's exchange. */
  direction: string;
  fromNumber: string | null;
  toNumber: string | null;
  variables: Record<string, string>;
  metadata: Record<string, unknown>;
  /** The public call object (WebSocket `call_started`). */
  call(): Record<string, unknown>;
  /** The signing secret (the agent env var `secretEnv`), decrypted on first use; never logged. */
  secret(): Promise<string | undefined>;
  allowPrivateUrls: boolean;
  log: Logger;
  /** Leaves a `system` transcript item saying what went wrong (and a call note). */
  system(text: string): void;
  /**
   * `apologise` (calls): a failed turn is spoken as BRAIN_APOLOGY and the conversation goes on.
   * `throw` (chat): the failure is the request's error.
   */
  onFailure: 'apologise' | 'throw';
  /** Webhook `call.started` / `call.ended` notices (calls only; a chat is one `turn` POST). */
  notices?: boolean;
}

export interface TurnPayload {
  turnId: string;
  text: string | null;
  reason?: 'call_started';
  transcript: Array<{ role: 'user' | 'agent'; text: string }>;
}

/** The conversation so far (user and agent words only) and what this request asks. */
export function turnFromMessages(request: Pick<LlmStreamRequest, 'messages' | 'turnId'>, fallbackId: string): TurnPayload {
  const transcript = messagesToTranscript(request.messages);
  const last = lastSpoken(request.messages);
  const turnId = request.turnId ?? fallbackId;
  if (!last || last.role !== 'user') return { turnId, text: null, reason: 'call_started', transcript };
  return { turnId, text: last.content, transcript };
}

export function messagesToTranscript(messages: ChatMessage[]): TurnPayload['transcript'] {
  const out: TurnPayload['transcript'] = [];
  for (const m of messages) {
    if (m.role === 'user') out.push({ role: 'user', text: m.content });
    else if (m.role === 'assistant' && m.content) out.push({ role: 'agent', text: m.content });
  }
  return out;
}

function lastSpoken(messages: ChatMessage[]): ChatMessage | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'user' || m.role === 'assistant' || m.role === 'tool') return m;
  }
  return undefined;
}

/**
 * The engine comes back with the results of the end/transfer it ran for the server: the server
 * has nothing more to say about them, so no request goes out.
 */
export function isActionFollowUp(messages: ChatMessage[]): boolean {
  return messages.at(-1)?.role === 'tool';
}

let actionSeq = 0;

/** A server's "end the call" / "transfer to": the same tool calls the built-in LLM makes. */
export function actionCalls(a: { endCall?: boolean; transferTo?: string }): ToolCall[] {
  const calls: ToolCall[] = [];
  if (a.transferTo !== undefined) calls.push({ id: `brain_${++actionSeq}`, name: 'transfer_call', arguments: JSON.stringify({ toNumber: a.transferTo }) });
  else if (a.endCall) calls.push({ id: `brain_${++actionSeq}`, name: 'end_call', arguments: '{"reason":"the conversation server ended the call"}' });
  return calls;
}

/**
 * `source` with a `pause` whenever it stays quiet for PAUSE_FLUSH_MS (once per quiet spell).
 * Ending the iteration early releases `source`.
 */
export async function* withPauses<T>(source: AsyncIterable<T>): AsyncGenerator<T | { type: 'pause' }> {
  const it = source[Symbol.asyncIterator]();
  try {
    // A read still pending when the consumer stops may reject later (the body is torn down): it
    // is marked handled here so it cannot become an unhandled rejection.
    const next = (): Promise<IteratorResult<T>> => {
      const p = it.next();
      p.catch(() => {});
      return p;
    };
    let pending = next();
    let paused = false;
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const quiet = paused ? null : new Promise<'pause'>((resolve) => (timer = setTimeout(() => resolve('pause'), PAUSE_FLUSH_MS)));
      const r = await (quiet ? Promise.race([pending, quiet]) : pending);
      clearTimeout(timer);
      if (r === 'pause') {
        paused = true;
        yield { type: 'pause' };
        continue;
      }
      if (r.done) return;
      paused = false;
      pending = next();
      yield r.value;
    }
  } finally {
    it.return?.().catch(() => {});
  }
}

/** A failed turn: voice calls hear the apology and go on; chat gets the error. */
export function* failTurn(ctx: BrainContext, what: string): Generator<LlmEvent> {
  ctx.system(`conversation server: ${what}`);
  if (ctx.onFailure === 'throw') throw new ProviderError(BRAIN_PROVIDER, what, 502, false);
  yield { type: 'delta', text: BRAIN_APOLOGY };
}

/** Keeps a turn's spoken text under MAX_TURN_CHARS; returns what may still be said. */
export class TurnBudget {
  private used = 0;
  exceeded = false;
  take(text: string): string {
    const room = MAX_TURN_CHARS - this.used;
    if (text.length <= room) {
      this.used += text.length;
      return text;
    }
    this.exceeded = true;
    this.used = MAX_TURN_CHARS;
    return text.slice(0, Math.max(0, room));
  }
}
