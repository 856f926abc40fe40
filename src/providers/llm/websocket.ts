/**
 * The WebSocket brain (API.md, "WebSocket"): one signed connection per call, opened when the
 * call's media connects, so turns pay no connect cost. voxgate sends `call_started`, `turn`,
 * `interrupted`, `call_ended`; the server answers `response` chunks for the latest turn (chunks
 * for any other turn are dropped), `say` (unprompted speech), `end_call`, `transfer` — the last
 * two become the built-in `end_call` / `transfer_call` tool calls the engine already runs.
 *
 * A connection that fails or drops is retried once (the retry is earned back by a completed
 * answer, so a flapping server cannot loop); then the brain fails for good: the engine
 * apologises and ends the call with `error:conversation_server`. A turn the server leaves
 * unanswered for the turn timeout is an apology and a `system` item; the call goes on.
 */
import WebSocket from 'ws';
import { ProviderError } from '../../errors.js';
import { pinnedLookup } from '../../net/index.js';
import type { BrainCallEnd, BrainEvents, LlmClient, LlmCompleteRequest, LlmEvent, LlmStreamRequest } from './types.js';
import {
  BRAIN_PROVIDER,
  DEFAULT_BRAIN_TIMEOUT_MS,
  MAX_BRAIN_BYTES,
  MAX_TURN_CHARS,
  PAUSE_FLUSH_MS,
  TurnBudget,
  actionCalls,
  failTurn,
  isActionFollowUp,
  turnFromMessages,
  type BrainContext,
} from './brain-context.js';
import { BrainTurn } from './brain-turn.js';
import { signatureHeaders } from './signing.js';

export interface WebSocketBrainOptions {
  url: string;
  /** Per-turn wait for the first and each further chunk; also the handshake timeout. */
  timeoutMs?: number;
}

/** `system` items about unreadable or stale messages per call: enough to diagnose, not a flood. */
const MAX_PROTOCOL_NOTES = 5;

export class WebSocketBrain implements LlmClient {
  /** Speculative as the webhook (webhook.ts); a dropped early turn is reported as `interrupted` with no heard text. */
  readonly capabilities = { streaming: true, tools: false, speculative: true, greets: true } as const;
  private readonly timeoutMs: number;
  private ws: WebSocket | null = null;
  private connecting: Promise<WebSocket> | null = null;
  private events: BrainEvents | null = null;
  private closed = false;
  private retries = 1;
  private gone: ProviderError | null = null;
  private active: BrainTurn | null = null;
  private turnSeq = 0;
  private notes = 0;
  private readonly staleNoted = new Set<string>();
  /** Turns the engine dropped before anything was heard (an early turn the caller talked on past). */
  private readonly dropped = new Set<string>();
  private readonly interruptedTurns = new Set<string>();

  constructor(
    private readonly opts: WebSocketBrainOptions,
    private readonly ctx: BrainContext,
  ) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_BRAIN_TIMEOUT_MS;
  }

  open(events: BrainEvents): void {
    this.events = events;
    this.ensure().catch(() => {}); // a failure is reported through giveUp
  }

  interrupted(turnId: string, heardText: string): void {
    this.interruptedTurns.add(turnId);
    if (this.active?.turnId === turnId) this.active.done = true;
    this.send({ type: 'interrupted', turnId, heardText });
  }

  close(end: BrainCallEnd): void {
    if (this.closed) return;
    this.closed = true;
    if (this.active) this.active.done = true;
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: 'call_ended', endReason: end.endReason }));
      ws.close(1000, 'call ended');
    } else ws?.terminate();
  }

  async *stream(request: LlmStreamRequest): AsyncIterable<LlmEvent> {
    if (request.signal.aborted) return;
    if (isActionFollowUp(request.messages)) {
      yield { type: 'done', finishReason: 'stop' };
      return;
    }
    if (this.gone) throw this.gone;
    const t = turnFromMessages(request, `t${++this.turnSeq}`);
    const turn = new BrainTurn(
      t.turnId,
      JSON.stringify({ type: 'turn', turnId: t.turnId, text: t.text, ...(t.reason ? { reason: t.reason } : {}), transcript: t.transcript }),
    );
    if (this.active) this.active.done = true;
    this.active = turn;
    this.sendTurn(turn);
    if (!this.ws) this.ensure().then(() => this.sendTurn(turn), () => {});

    const budget = new TurnBudget();
    let action: { endCall?: boolean; transferTo?: string } = {};
    let paused = false;
    try {
      for (;;) {
        // First a short wait (a pause mid-answer is voiced), then the rest of the turn timeout.
        const wait = paused ? Math.max(1, this.timeoutMs - PAUSE_FLUSH_MS) : Math.min(PAUSE_FLUSH_MS, this.timeoutMs);
        const item = await turn.next(request.signal, wait);
        if (item === 'aborted') {
          // Dropped without a barge-in (the caller went on talking): the server may stop; its
          // late chunks for this turn are expected and dropped quietly.
          if (!this.interruptedTurns.has(turn.turnId) && !turn.done) {
            this.dropped.add(turn.turnId);
            this.send({ type: 'interrupted', turnId: turn.turnId, heardText: '' });
          }
          return;
        }
        if (item === 'timeout' && !paused) {
          paused = true;
          yield { type: 'pause' };
          continue;
        }
        paused = false;
        if (item === 'timeout') {
          turn.done = true;
          yield* failTurn(this.ctx, `no answer to turn ${turn.turnId} within ${this.timeoutMs} ms`);
          break;
        }
        if (item.type === 'failed') throw item.error;
        if (item.type === 'lost') {
          this.ctx.system(`conversation server: ${item.what}; the rest of the answer to turn ${turn.turnId} is lost`);
          break;
        }
        if (item.type === 'text') {
          const text = budget.take(item.text);
          if (text) yield { type: 'delta', text };
          if (budget.exceeded) {
            this.ctx.system(`conversation server: the answer to turn ${turn.turnId} was cut off at ${MAX_TURN_CHARS} characters`);
            break;
          }
          continue;
        }
        if (item.type === 'action') action = item;
        this.retries = 1; // a complete answer: the connection has proven itself
        break;
      }
    } finally {
      turn.done = true;
    }
    if (request.signal.aborted) return;
    const calls = actionCalls(action);
    if (calls.length > 0) yield { type: 'tool_calls', calls };
    yield { type: 'done', finishReason: 'stop' };
  }

  complete(_request: LlmCompleteRequest): Promise<string> {
    return Promise.reject(new ProviderError(BRAIN_PROVIDER, 'a WebSocket brain does not do completions'));
  }

  // ── connection ─────────────────────────────────────────────────────────────────────────

  private ensure(): Promise<WebSocket> {
    if (this.gone) return Promise.reject(this.gone);
    if (this.ws) return Promise.resolve(this.ws);
    this.connecting ??= this.connectOrRetry().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connectOrRetry(): Promise<WebSocket> {
    for (;;) {
      try {
        return await this.connectOnce();
      } catch (err) {
        const why = errText(err);
        if (this.closed) throw err;
        if (this.retries <= 0) throw this.giveUp(`could not connect (${why})`);
        this.retries--;
        this.ctx.system(`conversation server: could not connect (${why}); retrying once`);
      }
    }
  }

  private async connectOnce(): Promise<WebSocket> {
    const c = this.ctx;
    const secret = await c.secret();
    const url = new URL(this.opts.url);
    url.searchParams.set('callId', c.callId);
    const ws = new WebSocket(url, {
      headers: secret ? signatureHeaders(secret, c.callId) : {},
      lookup: pinnedLookup(c.allowPrivateUrls),
      maxPayload: MAX_BRAIN_BYTES,
      handshakeTimeout: this.timeoutMs,
      perMessageDeflate: false,
    });
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        reject(err);
      };
      ws.once('open', () => resolve());
      ws.once('error', fail);
      ws.once('unexpected-response', (_req, res) => fail(new Error(`HTTP ${res.statusCode} on the upgrade`)));
      ws.once('close', (code) => fail(new Error(`closed during the handshake (${code})`)));
    });
    ws.removeAllListeners();
    if (this.closed) {
      ws.close(1000, 'call ended');
      throw new Error('the call ended');
    }
    // `close` follows an error and is where a drop is handled; the error says why (e.g. a frame
    // over maxPayload, which `ws` reports as an error and a 1006 close on our side).
    let lastError = '';
    ws.on('error', (err) => (lastError = err.message));
    ws.on('message', (data, isBinary) => this.onMessage(ws, data as Buffer, isBinary));
    ws.on('close', (code, reason) => this.onDrop(ws, code, reason.toString() || lastError));
    this.ws = ws;
    ws.send(JSON.stringify({ type: 'call_started', call: c.call() }));
    return ws;
  }

  private onDrop(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws || this.closed) return;
    this.ws = null;
    const what = `the connection closed (${code}${reason ? `: ${reason}` : ''})`;
    const turn = this.active && !this.active.done ? this.active : null;
    if (turn) turn.sent = false;
    if (this.retries <= 0) return void this.giveUp(what);
    this.retries--;
    this.ctx.system(`conversation server: ${what}; reconnecting`);
    // The answer in progress cannot be resumed on a new connection; an unanswered turn is resent.
    if (turn?.received) turn.push({ type: 'lost', what });
    this.ensure().then(
      () => {
        if (turn && !turn.done && !turn.received) this.sendTurn(turn);
      },
      () => {},
    );
  }

  private giveUp(what: string): ProviderError {
    if (this.gone) return this.gone;
    this.gone = new ProviderError(BRAIN_PROVIDER, `${what}; gave up after one retry`, 502, false);
    this.ctx.system(`conversation server: ${what}; gave up after one retry`);
    const turn = this.active && !this.active.done ? this.active : null;
    if (turn) turn.push({ type: 'failed', error: this.gone });
    else if (!this.closed) this.events?.failed(this.gone);
    return this.gone;
  }

  private sendTurn(turn: BrainTurn): void {
    if (turn.sent || turn.done || !this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    turn.sent = true;
    this.ws.send(turn.payload);
  }

  private send(msg: Record<string, unknown>): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  // ── server messages ────────────────────────────────────────────────────────────────────

  private onMessage(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    if (ws !== this.ws || this.closed) return;
    if (isBinary) return this.protocolNote('a binary frame was ignored (text JSON frames only)');
    let msg: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(data.toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      msg = parsed as Record<string, unknown>;
    } catch {
      return this.protocolNote('a message that is not a JSON object was ignored');
    }
    const text = typeof msg.text === 'string' ? msg.text : undefined;
    const turn = this.active && !this.active.done ? this.active : null;
    switch (msg.type) {
      case 'response': {
        const turnId = typeof msg.turnId === 'string' ? msg.turnId : '';
        if (!turn || turn.turnId !== turnId) return this.stale(turnId);
        if (text) turn.push({ type: 'text', text });
        if (msg.final === true) turn.push({ type: 'final' });
        return;
      }
      case 'say':
        if (!text) return this.protocolNote('a "say" without text was ignored');
        if (turn) return turn.push({ type: 'text', text });
        return this.events?.unprompted([{ type: 'delta', text }, { type: 'done', finishReason: 'stop' }]);
      case 'end_call':
      case 'transfer': {
        const action = msg.type === 'end_call' ? { endCall: true } : { transferTo: typeof msg.toNumber === 'string' ? msg.toNumber : '' };
        if (turn) {
          if (text) turn.push({ type: 'text', text });
          return turn.push({ type: 'action', ...action });
        }
        const events: LlmEvent[] = text ? [{ type: 'delta', text }] : [];
        events.push({ type: 'tool_calls', calls: actionCalls(action) }, { type: 'done', finishReason: 'stop' });
        return this.events?.unprompted(events);
      }
      default:
        return this.protocolNote(`a message of unknown type ${JSON.stringify(String(msg.type)).slice(0, 60)} was ignored`);
    }
  }

  /** Chunks for a turn that is not the one being answered: never spoken (API.md). */
  private stale(turnId: string): void {
    if (this.staleNoted.has(turnId) || this.dropped.has(turnId)) return;
    this.staleNoted.add(turnId);
    this.protocolNote(`dropped a response for turn ${JSON.stringify(turnId).slice(0, 60)}, which is not the turn being answered`);
  }

  private protocolNote(text: string): void {
    if (this.notes >= MAX_PROTOCOL_NOTES) return;
    this.notes++;
    this.ctx.system(`conversation server: ${text}`);
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
