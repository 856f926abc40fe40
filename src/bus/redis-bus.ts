/**
 * The cluster bus: Redis pub/sub through ioredis, so SSE readers and call control work from
 * any node. Two connections per node, because a connection in subscriber mode can run nothing
 * but (UN)SUBSCRIBE and PING: one publishes, one holds every subscription of this node.
 *
 * Channels: `<prefix>:call:<callId>` carries a call's events, `<prefix>:control` carries every
 * control message (each node checks whether it holds the call). Payloads are JSON.
 *
 * A node subscribes to a call's channel once, however many local readers it has: local
 * handlers hang off one Redis subscription, which is dropped when the last one leaves.
 * `subscribe…()` resolves only after Redis acknowledged SUBSCRIBE, so a message published after
 * that reaches the handler. Delivery stays best-effort (pub/sub has no replay): readers replay
 * from the store, which is written before anything is published.
 */
import { Redis } from 'ioredis';
import type { CallControlMessage, CallEventMessage, EventBus, Unsubscribe } from './types.js';
import { DEFAULT_PREFIX, defaultOnError, deliver, reconnectDelayMs, type BusOptions } from './options.js';
import { ServiceUnavailableError, asUnavailable, isConnectionError } from '../faults/index.js';

type Handler = (msg: unknown) => void;

/**
 * Commands issued while Redis is unreachable wait for a reconnect this many times before they
 * fail. ioredis' default (20, ~10 s of back-off) would let publishes from live calls pile up;
 * the bus is at-most-once anyway, so failing fast is the honest outcome.
 */
const MAX_RETRIES_PER_REQUEST = 3;

export class RedisBus implements EventBus {
  readonly kind = 'redis' as const;
  private readonly handlers = new Map<string, Set<Handler>>();
  /** SUBSCRIBE commands sent but not yet acknowledged, by channel. */
  private readonly pending = new Map<string, Promise<unknown>>();
  private readonly controlChannel: string;
  private readonly reconnectHandlers = new Set<() => void>();
  /** The subscriber lost its connection since it was last ready: its next `ready` is a reconnect. */
  private subLost = false;
  private closed = false;

  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly prefix: string,
    private readonly onError: (err: unknown) => void,
  ) {
    this.controlChannel = `${prefix}:control`;
    sub.on('message', (channel: string, raw: string) => this.dispatch(channel, raw));
    sub.on('close', () => {
      if (!this.closed) this.subLost = true;
    });
    sub.on('ready', () => {
      if (!this.subLost || this.closed) return;
      this.subLost = false;
      void this.announceReconnect();
    });
  }

  /**
   * ioredis re-sends this node's SUBSCRIBEs on `ready` (autoResubscribe). A PING on the same
   * connection is answered after them (one connection runs its commands in order), so once it
   * is answered every subscription is back and readers may re-read the store without missing
   * anything published after that.
   */
  private async announceReconnect(): Promise<void> {
    try {
      await this.sub.ping();
    } catch {
      return; // lost again before it settled: the next `ready` announces
    }
    for (const handler of this.reconnectHandlers) {
      try {
        handler();
      } catch (err) {
        this.onError(err);
      }
    }
  }

  onReconnect(handler: () => void): () => void {
    const entry = (): void => handler();
    this.reconnectHandlers.add(entry);
    return () => void this.reconnectHandlers.delete(entry);
  }

  static async connect(url: string, options: BusOptions = {}): Promise<RedisBus> {
    const onError = options.onError ?? defaultOnError;
    const make = (name: string): Redis => {
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST, connectionName: name, retryStrategy: reconnectDelayMs });
      // Connection errors are reported here; ioredis reconnects by itself and re-subscribes
      // the subscriber's channels after a reconnect (autoResubscribe). One report per outage:
      // ioredis emits an error for every reconnect attempt (every 50 ms..2 s).
      let reported = false;
      client.on('ready', () => (reported = false));
      client.on('error', (err: unknown) => {
        if (isConnectionError(err)) {
          if (reported) return;
          reported = true;
        }
        onError(err);
      });
      return client;
    };
    const pub = make('voxgate-pub');
    const sub = make('voxgate-sub');
    try {
      await Promise.all([pub.connect(), sub.connect()]);
    } catch (err) {
      pub.disconnect();
      sub.disconnect();
      throw err;
    }
    return new RedisBus(pub, sub, options.prefix ?? DEFAULT_PREFIX, onError);
  }

  private callChannel(callId: string): string {
    return `${this.prefix}:call:${callId}`;
  }

  private dispatch(channel: string, raw: string): void {
    const set = this.handlers.get(channel);
    if (!set) return;
    let msg: unknown;
    try {
      msg = JSON.parse(raw);
    } catch (err) {
      this.onError(new Error(`undecodable message on ${channel}: ${(err as Error).message}`));
      return;
    }
    deliver(set, msg, this.onError);
  }

  private async subscribe(channel: string, entry: Handler): Promise<Unsubscribe> {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      this.pending.set(channel, this.sub.subscribe(channel));
    }
    set.add(entry);
    const ack = this.pending.get(channel);
    if (ack) {
      try {
        await ack;
      } catch (err) {
        await this.remove(channel, entry);
        throw asUnavailable('bus', err);
      } finally {
        if (this.pending.get(channel) === ack) this.pending.delete(channel);
      }
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      await this.remove(channel, entry);
    };
  }

  private async remove(channel: string, entry: Handler): Promise<void> {
    const set = this.handlers.get(channel);
    if (!set || !set.delete(entry) || set.size > 0) return;
    this.handlers.delete(channel);
    // Commands on one connection run in order, so a SUBSCRIBE sent after this UNSUBSCRIBE
    // (a new reader arriving) still ends subscribed.
    if (this.closed) return;
    await this.sub.unsubscribe(channel).catch(this.onError);
  }

  async publishCallEvent(msg: CallEventMessage): Promise<void> {
    await this.publish(this.callChannel(msg.callId), JSON.stringify(msg));
  }

  private async publish(channel: string, payload: string): Promise<void> {
    // Not connected: fail now rather than wait in ioredis' offline queue for reconnects. A
    // publish is at-most-once anyway; callers retry what must arrive (control) and readers
    // re-read the store for the rest.
    if (this.pub.status !== 'ready') throw new ServiceUnavailableError('bus', new Error(`redis connection is ${this.pub.status}`));
    try {
      await this.pub.publish(channel, payload);
    } catch (err) {
      throw asUnavailable('bus', err);
    }
  }

  subscribeCallEvents(callId: string, handler: (msg: CallEventMessage) => void): Promise<Unsubscribe> {
    return this.subscribe(this.callChannel(callId), (m) => handler(m as CallEventMessage));
  }

  async publishControl(msg: CallControlMessage): Promise<void> {
    await this.publish(this.controlChannel, JSON.stringify(msg));
  }

  subscribeControl(handler: (msg: CallControlMessage) => void): Promise<Unsubscribe> {
    return this.subscribe(this.controlChannel, (m) => handler(m as CallControlMessage));
  }

  async ping(): Promise<void> {
    if (this.pub.status !== 'ready') throw new ServiceUnavailableError('bus', new Error(`redis connection is ${this.pub.status}`));
    try {
      await this.pub.ping();
    } catch (err) {
      throw asUnavailable('bus', err);
    }
    if (this.sub.status !== 'ready') throw new Error(`redis subscriber connection is ${this.sub.status}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    this.pending.clear();
    this.reconnectHandlers.clear();
    await Promise.all(
      [this.pub, this.sub].map((c) =>
        c.quit().then(
          () => undefined,
          () => c.disconnect(),
        ),
      ),
    );
  }
}
