/**
 * The event bus carries what must reach every node of a cluster: a call's events (transcript,
 * status) for SSE readers, and call-control commands (end, transfer) for the node that holds the
 * call's media socket. In-process by default (`memory-bus.ts`); Redis pub/sub when `REDIS_URL`
 * is set. Delivery is best-effort and at-most-once: anything that must not be lost is written
 * to the store first and published second, and SSE readers replay from the store.
 */
import type { CallEventType, CallStatus } from '../store/types.js';

/** A call event as published: stored events carry their seq; partials carry the last stored seq. */
export interface CallEventMessage {
  callId: string;
  seq: number;
  type: CallEventType;
  data: Record<string, unknown>;
}

export type CallControlCommand =
  /** `status`: the terminal status the sender knows best (Twilio's `busy`, the API's `canceled`). */
  | { command: 'end'; reason: string; status?: CallStatus }
  | { command: 'transfer'; toNumber: string };

export interface CallControlMessage {
  callId: string;
  control: CallControlCommand;
}

export type Unsubscribe = () => Promise<void>;

export interface EventBus {
  readonly kind: 'memory' | 'redis';
  publishCallEvent(msg: CallEventMessage): Promise<void>;
  subscribeCallEvents(callId: string, handler: (msg: CallEventMessage) => void): Promise<Unsubscribe>;
  publishControl(msg: CallControlMessage): Promise<void>;
  /** Every control message for any call; the node checks whether it holds that call. */
  subscribeControl(handler: (msg: CallControlMessage) => void): Promise<Unsubscribe>;
  ping(): Promise<void>;
  /**
   * Calls `handler` each time the bus is back after losing its connection, once this node's
   * subscriptions are in place again. Whatever was published meanwhile is gone (pub/sub has no
   * replay), so readers re-read from the store here. The in-process bus never disconnects.
   */
  onReconnect(handler: () => void): () => void;
  close(): Promise<void>;
}
