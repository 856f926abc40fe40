/**
 * One SSE reader of a call's events (`GET /v1/calls/:id/transcript/stream`).
 *
 * Order of operations, so nothing falls between replay and live:
 *   1. subscribe to the bus (live messages are queued while replaying);
 *   2. replay stored events after `Last-Event-ID` from the store;
 *   3. drain the queue and go live, dropping anything already sent (dedupe by seq).
 * A stored event that arrives with a gap (the bus is at-most-once) is filled from the store,
 * which always has it: writers store first, publish second.
 *
 * The bus can also lose messages wholesale: while Redis is away nothing published reaches
 * anyone. So the reader re-reads the store when the bus is back (`onReconnect`) and at every
 * keep-alive ping: a reader always gets `call.ended`, at worst one ping interval late.
 *
 * Ids: stored events carry `id: <seq>`. Partials carry the last stored seq on the bus and are
 * sent WITHOUT an `id:` line, so a browser's lastEventId stays at the last stored event and a
 * resume replays exactly what was stored after it (partials are ephemeral, never replayed).
 */
import type { ServerResponse } from 'node:http';
import type { CallEventMessage, EventBus, Unsubscribe } from '../bus/types.js';
import type { CallEvent, Store } from '../store/types.js';
import type { FastifyBaseLogger } from 'fastify';

export interface CallEventStreamOptions {
  store: Pick<Store, 'listCallEvents' | 'getCall'>;
  bus: Pick<EventBus, 'subscribeCallEvents' | 'onReconnect'>;
  log: Pick<FastifyBaseLogger, 'warn'>;
  callId: string;
  /** Seq of the last event the client has (Last-Event-ID); 0 for everything. */
  afterSeq: number;
  pingIntervalMs: number;
  /** The call was already over when the client connected: replay, then close. */
  alreadyEnded: boolean;
}

/**
 * A reader that stops reading gets dropped rather than buffered without bound; it can resume
 * with Last-Event-ID. 1 MiB is thousands of transcript events.
 */
const MAX_BUFFERED_BYTES = 1024 * 1024;

type Outgoing = Pick<CallEvent, 'seq' | 'type' | 'data'>;

export class CallEventStream {
  private lastSent: number;
  private replaying = true;
  private readonly queued: CallEventMessage[] = [];
  private chain: Promise<void> = Promise.resolve();
  private unsubscribe: Unsubscribe | null = null;
  private offReconnect: (() => void) | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly opts: CallEventStreamOptions,
  ) {
    this.lastSent = opts.afterSeq;
    res.on('close', () => void this.close());
  }

  async start(): Promise<void> {
    this.unsubscribe = await this.opts.bus.subscribeCallEvents(this.opts.callId, (msg) => this.onLive(msg));
    if (this.closed) return void this.releaseSubscription();
    this.offReconnect = this.opts.bus.onReconnect(() => this.catchUp('bus reconnected'));
    this.pingTimer = setInterval(() => {
      this.write(': ping\n\n');
      this.catchUp('ping');
    }, this.opts.pingIntervalMs);

    await this.sendStoredAfter(this.lastSent);
    if (this.closed) return;
    if (this.opts.alreadyEnded) return void this.close();
    this.replaying = false;
    for (const msg of this.queued.splice(0)) this.onLive(msg);
  }

  private onLive(msg: CallEventMessage): void {
    if (this.closed) return;
    if (this.replaying) {
      this.queued.push(msg);
      return;
    }
    // Serialised: a gap fill must finish before the next message is looked at.
    this.chain = this.chain
      .then(() => this.deliver(msg))
      .catch((err: unknown) => {
        this.opts.log.warn({ err, callId: this.opts.callId }, 'SSE delivery failed; closing');
        void this.close();
      });
  }

  /**
   * Sends whatever the store has that this reader has not seen (messages the bus lost). A
   * failed read (the store is away too) is tried again at the next ping, not fatal.
   */
  private catchUp(why: string): void {
    if (this.closed || this.replaying) return;
    this.chain = this.chain
      .then(() => this.sendStoredAfter(this.lastSent))
      .catch((err: unknown) => this.opts.log.warn({ err, callId: this.opts.callId, why }, 'SSE catch-up from the store failed; retrying at the next ping'));
  }

  private async deliver(msg: CallEventMessage): Promise<void> {
    if (this.closed) return;
    if (msg.type === 'transcript.partial') {
      // A partial after stored events we have not seen: send those first, in order.
      if (msg.seq > this.lastSent) await this.sendStoredAfter(this.lastSent);
      if (!this.closed) this.write(format(null, msg.type, msg.data));
      return;
    }
    if (msg.seq <= this.lastSent) return; // already replayed or sent
    if (msg.seq === this.lastSent + 1) return this.send(msg);
    await this.sendStoredAfter(this.lastSent);
  }

  private async sendStoredAfter(seq: number): Promise<void> {
    const events = await this.opts.store.listCallEvents(this.opts.callId, seq);
    for (const ev of events) {
      if (this.closed) return;
      if (ev.seq > this.lastSent) this.send(ev);
    }
  }

  private send(ev: Outgoing): void {
    this.lastSent = ev.seq;
    this.write(format(ev.seq, ev.type, ev.data));
    if (ev.type === 'call.ended') void this.close();
  }

  private write(chunk: string): void {
    if (this.closed) return;
    this.res.write(chunk);
    if (this.res.writableLength > MAX_BUFFERED_BYTES) {
      this.opts.log.warn({ callId: this.opts.callId }, 'SSE reader too slow; dropped');
      void this.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.offReconnect?.();
    this.offReconnect = null;
    this.queued.length = 0;
    if (!this.res.writableEnded) this.res.end();
    await this.releaseSubscription();
  }

  private async releaseSubscription(): Promise<void> {
    const unsub = this.unsubscribe;
    this.unsubscribe = null;
    if (unsub) await unsub().catch((err: unknown) => this.opts.log.warn({ err }, 'SSE unsubscribe failed'));
  }
}

/** One SSE event. `data` is one line of JSON (JSON.stringify never emits raw newlines). */
export function format(id: number | null, type: string, data: Record<string, unknown>): string {
  return `${id === null ? '' : `id: ${id}\n`}event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}
