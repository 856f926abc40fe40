/**
 * The webhook brain (API.md, "Webhook"): one signed POST per caller turn (and for the greeting
 * when the agent has no `firstMessage`), its answer spoken as it arrives. A failed turn (non-2xx,
 * timeout, oversized or unreadable body) is an apology and a `system` transcript item; the call
 * goes on. `endCall` / `transferTo` come out as the built-in `end_call` / `transfer_call` tool
 * calls, which the engine runs once the text before them has been spoken.
 */
import { isAbortError } from '../../errors.js';
import type { BrainCallEnd, BrainEvents, LlmClient, LlmCompleteRequest, LlmEvent, LlmStreamRequest } from './types.js';
import {
  BRAIN_PROVIDER,
  DEFAULT_BRAIN_TIMEOUT_MS,
  MAX_BRAIN_BYTES,
  MAX_TURN_CHARS,
  TurnBudget,
  actionCalls,
  failTurn,
  isActionFollowUp,
  messagesToTranscript,
  turnFromMessages,
  withPauses,
  type BrainContext,
} from './brain-context.js';
import { BrainBodyError, bodyKind, parseBody } from './brain-body.js';
import { BrainHttpError, brainNotify, brainPost } from './brain-http.js';
import { signatureHeaders } from './signing.js';
import { ProviderError } from '../../errors.js';

export interface WebhookBrainOptions {
  url: string;
  timeoutMs?: number;
}

/** A lifecycle notice must never hold anything up; 5 s bounds a server that takes it and stalls. */
const NOTICE_TIMEOUT_MS = 5000;

const ACCEPT = 'application/json, text/event-stream, application/x-ndjson, text/plain';

export class WebhookBrain implements LlmClient {
  /**
   * Speculative: a turn may be POSTed at the STT's early end of speech and aborted if the caller
   * goes on (the server sees the connection close); its endCall/transferTo only act once the turn
   * is committed. Without it every turn would wait the full end-of-turn silence first.
   */
  readonly capabilities = { streaming: true, tools: false, speculative: true, greets: true } as const;
  private readonly timeoutMs: number;
  private turnSeq = 0;
  /** The conversation as last sent, for `call.ended`. */
  private lastTranscript: ReturnType<typeof messagesToTranscript> = [];

  constructor(
    private readonly opts: WebhookBrainOptions,
    private readonly ctx: BrainContext,
  ) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_BRAIN_TIMEOUT_MS;
  }

  open(_events: BrainEvents): void {
    const c = this.ctx;
    if (c.notices === false) return;
    this.notify({
      type: 'call.started',
      callId: c.callId,
      agentId: c.agentId,
      direction: c.direction,
      ...(c.fromNumber ? { fromNumber: c.fromNumber } : {}),
      ...(c.toNumber ? { toNumber: c.toNumber } : {}),
      variables: c.variables,
      metadata: c.metadata,
    });
  }

  close(end: BrainCallEnd): void {
    if (this.ctx.notices === false) return;
    this.notify({
      type: 'call.ended',
      callId: this.ctx.callId,
      endReason: end.endReason,
      durationSeconds: end.durationSeconds,
      transcript: end.transcript ?? this.lastTranscript,
    });
  }

  async *stream(request: LlmStreamRequest): AsyncIterable<LlmEvent> {
    if (request.signal.aborted) return;
    if (isActionFollowUp(request.messages)) {
      yield { type: 'done', finishReason: 'stop' };
      return;
    }
    const c = this.ctx;
    const turn = turnFromMessages(request, `t${++this.turnSeq}`);
    this.lastTranscript = turn.transcript;
    const body = JSON.stringify({
      type: 'turn',
      callId: c.callId,
      agentId: c.agentId,
      turnId: turn.turnId,
      text: turn.text,
      ...(turn.reason ? { reason: turn.reason } : {}),
      transcript: turn.transcript,
      variables: c.variables,
      metadata: c.metadata,
      direction: c.direction,
      ...(c.fromNumber ? { fromNumber: c.fromNumber } : {}),
      ...(c.toNumber ? { toNumber: c.toNumber } : {}),
    });
    const budget = new TurnBudget();
    let failure: string | null = null;
    let action: { endCall?: boolean; transferTo?: string } = {};
    try {
      const res = await brainPost(this.opts.url, {
        headers: await this.headers(body),
        body,
        signal: request.signal,
        idleTimeoutMs: this.timeoutMs,
        maxBytes: MAX_BRAIN_BYTES,
        allowPrivate: c.allowPrivateUrls,
      });
      if (res.status === 204) {
        res.cancel();
      } else if (res.status < 200 || res.status > 299) {
        res.cancel();
        failure = `the webhook answered HTTP ${res.status}`;
      } else {
        const kind = bodyKind(res.mediaType);
        if (!kind) {
          res.cancel();
          failure = `the webhook answered an unsupported content-type "${res.mediaType || '(none)'}"`;
        } else {
          for await (const chunk of withPauses(parseBody(kind, res.body))) {
            if ('type' in chunk) {
              yield chunk;
              continue;
            }
            if (chunk.text) {
              const text = budget.take(chunk.text);
              if (text) yield { type: 'delta', text };
              if (budget.exceeded) {
                res.cancel();
                c.system(`conversation server: the reply was cut off at ${MAX_TURN_CHARS} characters`);
                break;
              }
            }
            if (chunk.endCall || chunk.transferTo !== undefined) action = chunk;
          }
        }
      }
    } catch (err) {
      if (request.signal.aborted || isAbortError(err)) return;
      if (err instanceof BrainHttpError || err instanceof BrainBodyError) failure = `the webhook ${describe(err)}`;
      else failure = `the webhook failed (${err instanceof Error ? err.message : String(err)})`;
    }
    if (request.signal.aborted) return;
    if (failure) {
      yield* failTurn(c, failure);
      yield { type: 'done', finishReason: 'error' };
      return;
    }
    const calls = actionCalls(action);
    if (calls.length > 0) yield { type: 'tool_calls', calls };
    yield { type: 'done', finishReason: 'stop' };
  }

  /** Conversation servers answer turns; one-shot completions (extraction) stay with the built-in LLM. */
  complete(_request: LlmCompleteRequest): Promise<string> {
    return Promise.reject(new ProviderError(BRAIN_PROVIDER, 'a webhook brain does not do completions'));
  }

  private async headers(body: string): Promise<Record<string, string>> {
    const secret = await this.ctx.secret();
    return {
      'content-type': 'application/json',
      accept: ACCEPT,
      'user-agent': 'voxgate',
      ...(secret ? signatureHeaders(secret, body) : {}),
    };
  }

  private notify(payload: Record<string, unknown>): void {
    const body = JSON.stringify(payload);
    const signal = AbortSignal.timeout(NOTICE_TIMEOUT_MS);
    void this.headers(body)
      .then((headers) => brainNotify(this.opts.url, { headers, body, signal, idleTimeoutMs: NOTICE_TIMEOUT_MS, allowPrivate: this.ctx.allowPrivateUrls }))
      .then(
        (status) => {
          if (status < 200 || status > 299) this.ctx.log.warn({ notice: payload.type, status }, 'conversation server refused a notice');
        },
        (err: unknown) => this.ctx.log.warn({ notice: payload.type, err: err instanceof Error ? err.message : String(err) }, 'conversation server notice failed'),
      );
  }
}

function describe(err: BrainHttpError | BrainBodyError): string {
  if (err instanceof BrainBodyError) return `sent an unreadable body: ${err.message}`;
  switch (err.kind) {
    case 'timeout':
      return `timed out: ${err.message}`;
    case 'too_large':
      return `sent too much: ${err.message}`;
    case 'refused':
      return `URL was refused: ${err.message}`;
    case 'network':
      return err.message;
    default: {
      const never: never = err.kind;
      return String(never);
    }
  }
}
