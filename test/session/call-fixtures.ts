/** Shared pieces of the media/session tests: a tone engine, calls in the store, sox checks. */
import { execFileSync, spawnSync } from 'node:child_process';
import { ulawEncode } from '../../src/media/index.js';
import { createStreamToken } from '../../src/transport/twilio/index.js';
import type { Engine, EngineHost, PlaybackPosition } from '../../src/engine/types.js';
import type { AppContext } from '../../src/app.js';
import type { Call, NewCall } from '../../src/store/types.js';
import { makeAgent, makeCall } from '../store/fixtures.js';

/** `ms` of a sine at `hz` as 8 kHz μ-law. */
export function toneUlaw(ms: number, hz = 1000, amplitude = 8000): Buffer {
  const n = ms * 8;
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / 8000));
  return ulawEncode(pcm);
}

/** What a test can see of the engine of each call. */
export interface ToneEngineProbe {
  host: EngineHost;
  framesIn: number;
  dtmf: string[];
  done: PlaybackPosition[];
  started: boolean;
  prepared: boolean;
  closed: boolean;
}

/** An engine that greets with a tone of `greetingMs` and listens. */
export function toneEngineFactory(greetingMs: number, probes: Map<string, ToneEngineProbe>) {
  return (host: EngineHost): Engine => {
    const probe: ToneEngineProbe = { host, framesIn: 0, dtmf: [], done: [], started: false, prepared: false, closed: false };
    probes.set(host.call.id, probe);
    host.playback.onUtteranceDone((p) => probe.done.push(p));
    return {
      async prepare() {
        probe.prepared = true;
      },
      async start() {
        probe.started = true;
        if (greetingMs > 0) {
          host.playback.enqueue('greeting', toneUlaw(greetingMs));
          host.playback.finish('greeting');
        }
      },
      onAudio() {
        probe.framesIn++;
      },
      onDtmf(d) {
        probe.dtmf.push(d);
      },
      async close() {
        probe.closed = true;
      },
    };
  };
}

export interface PlacedCall {
  call: Call;
  token: string;
}

/** An agent and a live-able phone call in the store, with a stream token for it. */
export async function createPhoneCall(ctx: AppContext, over: Partial<NewCall> = {}, tokenTtlMs = 60_000): Promise<PlacedCall> {
  const agent = await ctx.store.createAgent(makeAgent('owner-media', { knowledgeIds: [], disabledTools: [] }));
  const call = await ctx.store.createCall(makeCall('owner-media', agent.id, { direction: 'inbound', status: 'ringing', ...over }));
  const token = createStreamToken(ctx.secrets.tokenKey, { callId: call.id, expiresAt: new Date(Date.now() + tokenTtlMs) });
  return { call, token };
}

export interface SoxInfo {
  channels: number;
  rate: number;
  samples: number;
  bits: number;
}

/** Reads a WAV with sox's own `soxi`: proves the file is valid to an independent tool. */
export function soxi(path: string): SoxInfo {
  const q = (flag: string) => execFileSync('soxi', [flag, path], { encoding: 'utf8' }).trim();
  return { channels: Number(q('-c')), rate: Number(q('-r')), samples: Number(q('-s')), bits: Number(q('-b')) };
}

/** RMS level of one channel (sox `stat`, which reports on stderr), linear 0..1. */
export function channelRms(path: string, channel: 1 | 2): number {
  const r = spawnSync('sox', [path, '-n', 'remix', String(channel), 'stat'], { encoding: 'utf8' });
  const m = /RMS\s+amplitude:\s+([0-9.]+)/.exec(r.stderr);
  if (!m) throw new Error(`sox stat failed: ${r.stderr}`);
  return Number(m[1]);
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function metricValue(ctx: AppContext, name: string, labels: Record<string, string> = {}): Promise<number> {
  const json = await ctx.metrics.registry.getMetricsAsJSON();
  type Value = { value: number; labels: Record<string, string | number>; metricName?: string };
  // Histogram series (`_count`, `_sum`, `_bucket`) live inside their histogram's entry.
  const base = name.replace(/_(count|sum|bucket)$/, '');
  const metric = json.find((m) => m.name === name) ?? json.find((m) => m.name === base);
  if (!metric) return 0;
  let sum = 0;
  for (const v of metric.values as Value[]) {
    if (metric.name !== name && v.metricName !== name) continue;
    if (Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)) sum += v.value;
  }
  return sum;
}
