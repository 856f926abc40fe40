/**
 * Prometheus metrics, one registry per process. Hot-path code increments counters it was handed
 * (children bound once per call), never looks metrics up by name per frame.
 */
import client from 'prom-client';
import { createFaultMetrics, type FaultMetrics } from './faults.js';

export type { FaultMetrics } from './faults.js';

export type MalformedReason =
  | 'invalid_json'
  | 'binary_frame'
  | 'unknown_event'
  | 'missing_field'
  | 'media_before_start'
  | 'bad_payload'
  | 'oversized'
  | 'bad_frame'
  | 'wrong_stream'
  | 'duplicate_start'
  | 'token_missing'
  | 'token_invalid'
  | 'token_expired'
  | 'token_reused'
  | 'call_mismatch';

export interface Metrics {
  registry: client.Registry;
  activeCalls: client.Gauge;
  framesIn: client.Counter<'transport'>;
  framesOut: client.Counter<'transport'>;
  malformed: client.Counter<'transport' | 'reason'>;
  callDuration: client.Histogram<'direction'>;
  callsTotal: client.Counter<'direction' | 'engine'>;
  /** Per-turn latency parts, labelled by engine and part (stt_final, llm_first_token, …). */
  turnLatency: client.Histogram<'engine' | 'part'>;
  bargeIns: client.Counter<'engine'>;
  providerErrors: client.Counter<'provider' | 'kind'>;
  providerReconnects: client.Counter<'provider'>;
  /**
   * The local VAD's windows of ended calls, by outcome: `skipped` windows were not analysed
   * because the model fell behind (they repeat the last probability and can end a turn a window late).
   */
  vadWindows: client.Counter<'outcome'>;
  /** Backing-service faults and overload (faults.ts). */
  faults: FaultMetrics;
}

export function createMetrics(): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const m: Metrics = {
    registry,
    activeCalls: new client.Gauge({
      name: 'voxgate_active_calls',
      help: 'Calls with a live media connection on this node',
      registers: [registry],
    }),
    framesIn: new client.Counter({
      name: 'voxgate_media_frames_in_total',
      help: 'Caller audio frames received',
      labelNames: ['transport'],
      registers: [registry],
    }),
    framesOut: new client.Counter({
      name: 'voxgate_media_frames_out_total',
      help: 'Agent audio sent, in 20 ms frames',
      labelNames: ['transport'],
      registers: [registry],
    }),
    malformed: new client.Counter({
      name: 'voxgate_media_malformed_messages_total',
      help: 'Media socket messages dropped as malformed, by reason',
      labelNames: ['transport', 'reason'],
      registers: [registry],
    }),
    callDuration: new client.Histogram({
      name: 'voxgate_call_duration_seconds',
      help: 'Duration of ended calls',
      labelNames: ['direction'],
      buckets: [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
      registers: [registry],
    }),
    callsTotal: new client.Counter({
      name: 'voxgate_calls_total',
      help: 'Calls started, by direction and engine',
      labelNames: ['direction', 'engine'],
      registers: [registry],
    }),
    turnLatency: new client.Histogram({
      name: 'voxgate_turn_latency_ms',
      help: 'Per-turn latency breakdown in milliseconds',
      labelNames: ['engine', 'part'],
      buckets: [5, 10, 25, 50, 100, 150, 200, 300, 400, 500, 700, 1000, 1500, 2000, 3000, 5000],
      registers: [registry],
    }),
    bargeIns: new client.Counter({
      name: 'voxgate_barge_ins_total',
      help: 'Agent utterances interrupted by the caller',
      labelNames: ['engine'],
      registers: [registry],
    }),
    providerErrors: new client.Counter({
      name: 'voxgate_provider_errors_total',
      help: 'Provider failures, by provider and kind',
      labelNames: ['provider', 'kind'],
      registers: [registry],
    }),
    providerReconnects: new client.Counter({
      name: 'voxgate_provider_reconnects_total',
      help: 'Provider sockets re-opened during a call',
      labelNames: ['provider'],
      registers: [registry],
    }),
    vadWindows: new client.Counter({
      name: 'voxgate_vad_windows_total',
      help: 'Local VAD windows of ended calls, by outcome (inferred, gated as quiet, skipped because the model fell behind)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    faults: createFaultMetrics(registry),
  };
  return m;
}
