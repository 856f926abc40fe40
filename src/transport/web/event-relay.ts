/**
 * Forwards a call's events to its browser: the same events, shapes and order as the SSE
 * stream (`GET /v1/calls/:id/transcript/stream`), from the same source — the bus, backed by
 * the store. One source of truth means the page also hears what other writers publish: the
 * `call.ended` of `POST /v1/calls/:id/end` (written by the API, possibly on another node).
 *
 * Stored events go out once each, in seq order: a duplicate is dropped, a gap (the bus is
 * at-most-once) is filled from the store. Partials carry the last stored seq and always pass.
 * What the bus lost with nothing after it to show the gap (the `call.ended` another node wrote
 * while Redis was down) is read from the store when the bus reconnects and when the call ends
 * here (`catchUp`).
 */
import type { CallEventMessage, EventBus, Unsubscribe } from '../../bus/types.js';
import type { Store } from '../../store/types.js';

export interface CallEventSink {
  sendCallEvent(event: { type: string; seq: number; data: Record<string, unknown> }): void;
}

export interface CallEventRelayOptions {
  store: Pick<Store, 'listCallEvents'>;
  bus: Pick<EventBus, 'subscribeCallEvents' | 'onReconnect'>;
  callId: string;
  onError(err: unknown): void;
}

export class CallEventRelay {
  private lastSent = 0;
  private chain: Promise<void> = Promise.resolve();
  private unsubscribe: Unsubscribe | null = null;
  private offReconnect: (() => void) | null = null;
  private stopped = false;

  constructor(
    private readonly sink: CallEventSink,
    private readonly opts: CallEventRelayOptions,
  ) {}

  /** Subscribes, then sends whatever is already stored; resolves once live. */
  async start(): Promise<void> {
    this.unsubscribe = await this.opts.bus.subscribeCallEvents(this.opts.callId, (msg) => this.onMessage(msg));
    this.offReconnect = this.opts.bus.onReconnect(() => this.catchUp());
    if (this.stopped) return void this.release();
    this.enqueue(() => this.sendStoredAfter(this.lastSent));
    await this.chain;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.release();
  }

  /** Sends what the store holds beyond what the page has. */
  catchUp(): void {
    if (!this.stopped) this.enqueue(() => this.sendStoredAfter(this.lastSent));
  }

  private onMessage(msg: CallEventMessage): void {
    if (this.stopped) return;
    this.enqueue(async () => {
      if (msg.type === 'transcript.partial') {
        if (msg.seq > this.lastSent) await this.sendStoredAfter(this.lastSent);
        this.sink.sendCallEvent(msg);
        return;
      }
      if (msg.seq <= this.lastSent) return;
      if (msg.seq === this.lastSent + 1) return this.send(msg);
      await this.sendStoredAfter(this.lastSent);
    });
  }

  /** Serialised: a gap fill finishes before the next message is looked at. */
  private enqueue(fn: () => Promise<void> | void): void {
    this.chain = this.chain.then(() => (this.stopped ? undefined : fn())).catch((err: unknown) => this.opts.onError(err));
  }

  private async sendStoredAfter(seq: number): Promise<void> {
    for (const ev of await this.opts.store.listCallEvents(this.opts.callId, seq)) {
      if (this.stopped) return;
      if (ev.seq > this.lastSent) this.send(ev);
    }
  }

  private send(ev: { type: string; seq: number; data: Record<string, unknown> }): void {
    this.lastSent = ev.seq;
    this.sink.sendCallEvent(ev);
  }

  private async release(): Promise<void> {
    this.offReconnect?.();
    this.offReconnect = null;
    const unsub = this.unsubscribe;
    this.unsubscribe = null;
    if (unsub) await unsub().catch(() => {});
  }
}
