/**
 * Metrics of backing-service faults and overload: what an operator watches while PostgreSQL or
 * Redis is away (docs/operations-faults.md lists what each means).
 */
import client from 'prom-client';

export interface FaultMetrics {
  /** A supervised background loop's pass failed (it backs off and retries). */
  loopErrors: client.Counter<'loop'>;
  /** A rejection or exception reached the process-level handler instead of exiting. */
  processErrors: client.Counter<'kind'>;
  /** Requests answered 503 `service_unavailable`, by the service that was missing. */
  serviceUnavailable: client.Counter<'service'>;
  /** Rate-limit checks counted on this node alone because the shared store (Redis) failed. */
  rateLimitFallbacks: client.Counter;
  /** Live-call store writes waiting for the store to return. */
  writeQueueDepth: client.Gauge;
  /** Live-call store writes that had to wait (store down), and how they ended. */
  writesDeferred: client.Counter;
  writesLost: client.Counter<'reason'>;
  /** Call-control messages (end, transfer) whose publish had to be retried, and how it ended. */
  controlRetries: client.Counter<'outcome'>;
  /** New calls refused because the node is overloaded (event-loop lag above the threshold). */
  callsRefused: client.Counter<'channel' | 'reason'>;
  /** The event-loop lag the overload guard judges by (max over the last sample window). */
  eventLoopLagMs: client.Gauge;
}

export function createFaultMetrics(registry: client.Registry): FaultMetrics {
  const registers = [registry];
  return {
    loopErrors: new client.Counter({ name: 'voxgate_loop_errors_total', help: 'Failed passes of supervised background loops, by loop', labelNames: ['loop'], registers }),
    processErrors: new client.Counter({ name: 'voxgate_process_errors_total', help: 'Unhandled rejections and exceptions caught at process level', labelNames: ['kind'], registers }),
    serviceUnavailable: new client.Counter({ name: 'voxgate_service_unavailable_total', help: 'Requests answered 503 service_unavailable, by missing service', labelNames: ['service'], registers }),
    rateLimitFallbacks: new client.Counter({ name: 'voxgate_rate_limit_fallbacks_total', help: 'Rate-limit checks counted per node because Redis failed', registers }),
    writeQueueDepth: new client.Gauge({ name: 'voxgate_store_write_queue_depth', help: 'Live-call store writes waiting for the store', registers }),
    writesDeferred: new client.Counter({ name: 'voxgate_store_writes_deferred_total', help: 'Live-call store writes that waited for the store to return', registers }),
    writesLost: new client.Counter({ name: 'voxgate_store_writes_lost_total', help: 'Live-call store writes given up (logged with their content), by reason', labelNames: ['reason'], registers }),
    controlRetries: new client.Counter({ name: 'voxgate_call_control_retries_total', help: 'Call-control publishes retried because the bus failed, by outcome', labelNames: ['outcome'], registers }),
    callsRefused: new client.Counter({ name: 'voxgate_calls_refused_total', help: 'New calls refused, by channel and reason', labelNames: ['channel', 'reason'], registers }),
    eventLoopLagMs: new client.Gauge({ name: 'voxgate_event_loop_lag_ms', help: 'Max event-loop delay over the last sample window (overload guard)', registers }),
  };
}
