/**
 * The calls whose media lives on this node, by call id (cf. jambonz's session tracker).
 *
 * Control messages (end, transfer) arrive on the bus from whichever node served the API
 * request; every node receives them and only the one holding the call acts. Draining (SIGTERM)
 * lets live calls run on up to a deadline, then ends them with `gateway_shutdown`, which
 * finalises their recordings.
 */
import type { AppContext } from '../context.js';
import type { Agent, Call } from '../store/types.js';
import type { CallControlMessage, Unsubscribe } from '../bus/types.js';
import type { EngineFactory } from '../engine/types.js';
import { createEngine } from '../engine/index.js';
import { CallSession, type EndOverrides } from './call-session.js';
import { Pacer, systemClock, type Clock } from './pacer.js';
import { TERMINAL_CALL_STATUSES, type CallStatus } from '../store/types.js';

const isTerminal = (status: CallStatus): boolean => TERMINAL_CALL_STATUSES.includes(status);

/** Twilio rings for 60 s by default and the stream follows the answer within seconds: 2 min is ample. */
export const DEFAULT_MEDIA_CONNECT_TIMEOUT_MS = 120_000;

/** One live call on this node. */
export interface CallSessionHandle {
  readonly callId: string;
  /** Connects the caller's media; the engine starts (greeting). A second attach is refused. */
  attach(transport: import('../transport/types.js').Transport): void;
  /**
   * Ends the call locally (closes the transport, finalises recording, marks the call). Idempotent:
   * a second call waits for the first, whose reason stands. `final.status` is the terminal status
   * another reporter knows best (Twilio's `busy`, the API's `canceled`).
   */
  end(reason: string, final?: EndOverrides): Promise<void>;
}

export interface AnnounceRequest {
  call: Call;
  agent: Agent;
  channel: 'phone' | 'web';
  /**
   * How long the session waits for its media before giving up; defaults to the registry's
   * (2 min, longer than Twilio takes to connect a stream). Web calls pass their token lifetime:
   * a browser may open the link minutes after it was created.
   */
  mediaConnectTimeoutMs?: number;
}

export interface CallRegistryOptions {
  /** Defaults to `createEngine` (by the agent's architecture); tests plug in their own. */
  engineFactory?: EngineFactory;
  clock?: Clock;
  mediaConnectTimeoutMs?: number;
}

export class CallRegistry {
  private readonly sessions = new Map<string, CallSession>();
  private readonly idleWaiters = new Set<() => void>();
  private engineFactory: EngineFactory;
  private mediaConnectTimeoutMs: number;
  private unsubscribe: Unsubscribe | null = null;
  private offReconnect: (() => void) | null = null;
  private liveCount = 0;
  /** The node's single pacing clock, shared by every call's playback. */
  readonly pacer: Pacer;

  constructor(
    readonly ctx: AppContext,
    options: CallRegistryOptions = {},
  ) {
    this.engineFactory = options.engineFactory ?? createEngine;
    this.mediaConnectTimeoutMs = options.mediaConnectTimeoutMs ?? DEFAULT_MEDIA_CONNECT_TIMEOUT_MS;
    this.pacer = new Pacer(options.clock ?? systemClock, undefined, (err) => ctx.log.error({ err }, 'playback tick failed'));
  }

  /** Replaces the engine factory or the connect timeout (tests, embedding). */
  configure(options: Pick<CallRegistryOptions, 'engineFactory' | 'mediaConnectTimeoutMs'>): void {
    if (options.engineFactory) this.engineFactory = options.engineFactory;
    if (options.mediaConnectTimeoutMs !== undefined) this.mediaConnectTimeoutMs = options.mediaConnectTimeoutMs;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Calls with media connected on this node (the `voxgate_active_calls` gauge). */
  get live(): number {
    return this.liveCount;
  }

  /** Creates the session and its engine; `engine.prepare()` (provider sockets) starts now. */
  announce(req: AnnounceRequest): CallSession {
    const existing = this.sessions.get(req.call.id);
    if (existing && !existing.ended) return existing;
    const session = new CallSession({
      ctx: this.ctx,
      call: req.call,
      agent: req.agent,
      channel: req.channel,
      engineFactory: this.engineFactory,
      pacer: this.pacer,
      mediaConnectTimeoutMs: req.mediaConnectTimeoutMs ?? this.mediaConnectTimeoutMs,
      onLive: () => this.setLive(this.liveCount + 1),
      onClosed: (s) => this.remove(s),
    });
    this.sessions.set(req.call.id, session);
    void session.prepare();
    return session;
  }

  get(callId: string): CallSession | undefined {
    const s = this.sessions.get(callId);
    return s && !s.ended ? s : undefined;
  }

  /**
   * The session for the call, live or still tearing down. Whoever reports the end of a call
   * (Twilio's status callback, the API) must wait for a session that is finishing rather than
   * write the record under it: the session is the one writer of a live call's final record.
   */
  holding(callId: string): CallSession | undefined {
    const s = this.sessions.get(callId);
    return s && (!s.ended || s.finishing) ? s : undefined;
  }

  /** Subscribes to bus control messages (end/transfer from any node). */
  async start(): Promise<void> {
    if (this.unsubscribe) return;
    this.unsubscribe = await this.ctx.bus.subscribeControl((msg) => this.onControl(msg));
    this.offReconnect = this.ctx.bus.onReconnect(() => void this.endCallsEndedElsewhere());
  }

  /**
   * After a bus outage: an `end` published meanwhile may never arrive, so each live call here
   * whose record another node made terminal (API end, carrier status) is ended now.
   */
  private async endCallsEndedElsewhere(): Promise<void> {
    for (const session of [...this.sessions.values()]) {
      if (!session.live) continue;
      try {
        const stored = await this.ctx.store.getCall(session.callId);
        if (stored && isTerminal(stored.status)) await session.end(stored.endReason ?? stored.status);
      } catch (err) {
        this.ctx.log.warn({ err, callId: session.callId }, 'could not re-check a live call after the bus reconnected');
      }
    }
  }

  /**
   * Waits for live calls to finish, at most `deadlineMs`, then ends the rest with
   * `gateway_shutdown`. Announced calls that never connected here are dropped without touching
   * their record: their stream may still reach another node.
   */
  async drain(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    while (this.liveCount > 0 && Date.now() < deadline) {
      await this.waitIdle(deadline - Date.now());
    }
    const ends: Promise<void>[] = [];
    for (const s of [...this.sessions.values()]) ends.push(s.live ? s.end('gateway_shutdown') : s.abandon());
    await Promise.allSettled(ends);
    this.offReconnect?.();
    this.offReconnect = null;
    if (this.unsubscribe) {
      const unsubscribe = this.unsubscribe;
      this.unsubscribe = null;
      await unsubscribe().catch(() => {});
    }
    this.pacer.stop();
  }

  private onControl(msg: CallControlMessage): void {
    const session = this.get(msg.callId);
    if (!session) return;
    const control = msg.control;
    switch (control.command) {
      case 'end':
        void session.end(control.reason, control.status ? { status: control.status } : undefined);
        return;
      case 'transfer':
        session.transfer(control.toNumber).catch((err: unknown) => session.note(`transfer failed: ${(err as Error).message}`));
        return;
      default: {
        const never: never = control;
        this.ctx.log.warn({ control: never }, 'unknown call control command');
      }
    }
  }

  private remove(session: CallSession): void {
    if (this.sessions.get(session.callId) === session) this.sessions.delete(session.callId);
    if (session.wasLive) this.setLive(this.liveCount - 1);
    for (const w of this.idleWaiters) w();
  }

  private setLive(n: number): void {
    this.liveCount = Math.max(0, n);
    this.ctx.metrics.activeCalls.set(this.liveCount);
  }

  /** Resolves when a session closes or after `ms`, whichever is first. */
  private waitIdle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.idleWaiters.add(done);
    });
  }
}
