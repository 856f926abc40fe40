/**
 * The in-process bus for a single node: a Map from call id to its handlers, delivered
 * synchronously in publish order with no serialisation. Handlers receive the published object
 * itself (not a copy), so they must treat it as read-only, exactly as they would a decoded
 * Redis message.
 */
import type { CallControlMessage, CallEventMessage, EventBus, Unsubscribe } from './types.js';
import { defaultOnError, deliver, type BusOptions } from './options.js';

type Handler<T> = (msg: T) => void;

export class MemoryBus implements EventBus {
  readonly kind = 'memory' as const;
  private readonly calls = new Map<string, Set<Handler<CallEventMessage>>>();
  private readonly control = new Set<Handler<CallControlMessage>>();
  private readonly onError: (err: unknown) => void;
  private closed = false;

  constructor(options: BusOptions = {}) {
    this.onError = options.onError ?? defaultOnError;
  }

  /** An in-process bus never loses its connection. */
  onReconnect(_handler: () => void): () => void {
    return () => undefined;
  }

  async publishCallEvent(msg: CallEventMessage): Promise<void> {
    deliver(this.calls.get(msg.callId), msg, this.onError);
  }

  async subscribeCallEvents(callId: string, handler: Handler<CallEventMessage>): Promise<Unsubscribe> {
    this.assertOpen();
    // A fresh wrapper per subscription: the same function subscribed twice is two
    // subscriptions, and unsubscribing one leaves the other.
    const entry: Handler<CallEventMessage> = (m) => handler(m);
    let set = this.calls.get(callId);
    if (!set) {
      set = new Set();
      this.calls.set(callId, set);
    }
    set.add(entry);
    return async () => {
      const current = this.calls.get(callId);
      if (!current) return;
      current.delete(entry);
      if (current.size === 0) this.calls.delete(callId);
    };
  }

  async publishControl(msg: CallControlMessage): Promise<void> {
    deliver(this.control, msg, this.onError);
  }

  async subscribeControl(handler: Handler<CallControlMessage>): Promise<Unsubscribe> {
    this.assertOpen();
    const entry: Handler<CallControlMessage> = (m) => handler(m);
    this.control.add(entry);
    return async () => {
      this.control.delete(entry);
    };
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.calls.clear();
    this.control.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event bus is closed');
  }
}
