/**
 * A fake EngineHost for realtime-engine tests: records transcripts, notes, turns and the end;
 * its Playback is driven by the test (what the caller "heard" is set explicitly, like marks).
 */
import pino from 'pino';
import type { Config } from '../../src/config.js';
import type { EngineHost, Playback, PlaybackPosition, TranscriptInput } from '../../src/engine/types.js';
import { createMetrics } from '../../src/metrics/index.js';
import { createToolRunner } from '../../src/tools/index.js';
import type { ToolRunner } from '../../src/tools/types.js';
import type { Agent, AgentTool, Call, TurnLatency } from '../../src/store/types.js';
import { MULAW_8K, PCM16_16K, type AudioFormat } from '../../src/transport/types.js';
import { makeAgent, makeToolDeps } from '../tools/tool-fixtures.js';

interface Utt {
  id: string;
  bytes: number;
  heardMs: number;
  finished: boolean;
  done: boolean;
  cleared: boolean;
  chunks: Buffer[];
}

/** Playback whose marks the test controls: `hear(id, ms)`, `playOut(id)`; or `autoPlay`. */
export class FakePlayback implements Playback {
  readonly utterances = new Map<string, Utt>();
  readonly clears: PlaybackPosition[] = [];
  /** Audio enqueued for an utterance after it was cleared (must stay 0: late deltas are dropped). */
  lateEnqueues = 0;
  /** Finished utterances count as fully heard at once. */
  autoPlay = true;
  private firstSent: Array<(id: string, atMs: number) => void> = [];
  private doneListeners: Array<(p: PlaybackPosition) => void> = [];

  constructor(
    private readonly format: AudioFormat,
    private readonly now: () => number,
  ) {}

  private msOf(bytes: number): number {
    return this.format.encoding === 'mulaw' ? bytes / 8 : bytes / ((this.format.sampleRate / 1000) * 2);
  }

  enqueue(id: string, audio: Buffer): void {
    let u = this.utterances.get(id);
    if (!u) {
      u = { id, bytes: 0, heardMs: 0, finished: false, done: false, cleared: false, chunks: [] };
      this.utterances.set(id, u);
      const at = this.now();
      for (const l of this.firstSent) l(id, at);
    }
    if (u.cleared) {
      this.lateEnqueues++;
      return;
    }
    u.bytes += audio.length;
    u.chunks.push(Buffer.from(audio));
  }

  finish(id: string): void {
    const u = this.utterances.get(id);
    if (!u || u.finished) return;
    u.finished = true;
    if (this.autoPlay && !u.cleared) queueMicrotask(() => this.playOut(id));
  }

  /** The caller's playback reached `ms` of the utterance (a mark came back). */
  hear(id: string, ms: number): void {
    const u = this.utterances.get(id);
    if (u) u.heardMs = Math.min(ms, this.msOf(u.bytes));
  }

  /** The whole utterance was played (its final mark came back). */
  playOut(id: string): void {
    const u = this.utterances.get(id);
    if (!u || u.done || u.cleared) return;
    u.heardMs = this.msOf(u.bytes);
    u.done = true;
    for (const l of this.doneListeners) l(this.positionOf(u));
  }

  clear(): PlaybackPosition {
    const head = [...this.utterances.values()].find((u) => !u.done && !u.cleared);
    const pos = head ? this.positionOf(head) : { utteranceId: null, heardMs: 0, sentMs: 0 };
    for (const u of this.utterances.values()) if (!u.done) u.cleared = true;
    this.clears.push(pos);
    return pos;
  }

  position(id: string): PlaybackPosition {
    const u = this.utterances.get(id);
    return u ? this.positionOf(u) : { utteranceId: id, heardMs: 0, sentMs: 0 };
  }

  get active(): boolean {
    return [...this.utterances.values()].some((u) => !u.done && !u.cleared);
  }

  onFirstAudioSent(l: (id: string, atMs: number) => void): void {
    this.firstSent.push(l);
  }

  onUtteranceDone(l: (p: PlaybackPosition) => void): void {
    this.doneListeners.push(l);
  }

  /** All audio enqueued for an utterance, concatenated. */
  audioOf(id: string): Buffer {
    return Buffer.concat(this.utterances.get(id)?.chunks ?? []);
  }

  private positionOf(u: Utt): PlaybackPosition {
    return { utteranceId: u.id, heardMs: u.heardMs, sentMs: this.msOf(u.bytes) };
  }
}

export interface TestHost extends EngineHost {
  playback: FakePlayback;
  transcripts: TranscriptInput[];
  partials: Array<{ role: string; text: string }>;
  notes: string[];
  turns: TurnLatency[];
  ended: string[];
  transfers: string[];
  abort: AbortController;
}

export function makeHost(opts: {
  realtimeUrl: string;
  apiKey?: string;
  channel?: 'phone' | 'web';
  agent?: Partial<Agent>;
  call?: Partial<Call>;
  tools?: AgentTool[];
  variables?: Record<string, string>;
  /** 'xai': the agent's realtimeProvider, with `realtimeUrl`/`apiKey` as XAI_REALTIME_URL/XAI_API_KEY. */
  provider?: 'openai' | 'xai';
}): TestHost {
  const t0 = Date.now();
  const now = (): number => Date.now() - t0;
  const channel = opts.channel ?? 'phone';
  const format = channel === 'phone' ? MULAW_8K : PCM16_16K;
  const xai = opts.provider === 'xai';
  const agent = makeAgent({ ...(xai ? { realtimeProvider: 'xai' as const } : {}), ...opts.agent });
  const abort = new AbortController();
  const config = {
    allowPrivateUrls: true,
    media: { realtimeAppendMs: 20 },
    providers: {
      openai: xai
        ? { baseUrl: 'http://127.0.0.1:1/v1', realtimeUrl: 'ws://127.0.0.1:1/v1/realtime' }
        : { apiKey: opts.apiKey, baseUrl: 'http://127.0.0.1:1/v1', realtimeUrl: opts.realtimeUrl },
      xai: xai ? { apiKey: opts.apiKey, realtimeUrl: opts.realtimeUrl } : { realtimeUrl: 'ws://127.0.0.1:1/v1/realtime' },
      // No TTS listens here: an apology attempt fails fast and the call ends as it would without one.
      openaiCompatible: { sttBaseUrl: 'http://127.0.0.1:1/v1', ttsBaseUrl: 'http://127.0.0.1:1/v1' },
    },
  } as unknown as Config;
  const call = {
    id: 'call_rt',
    agentId: agent.id,
    direction: channel === 'phone' ? 'inbound' : 'web',
    variables: {},
    overrides: {},
    notes: [],
    ...opts.call,
  } as unknown as Call;
  let tools: Promise<ToolRunner> | null = null;
  const host: TestHost = {
    call,
    agent,
    variables: { ...(agent.variables ?? {}), ...(opts.variables ?? {}) },
    channel,
    inputFormat: format,
    outputFormat: format,
    signal: abort.signal,
    abort,
    config,
    store: {} as never,
    log: pino({ level: 'silent' }),
    metrics: createMetrics(),
    playback: new FakePlayback(format, now),
    knowledge: { search: async () => [] },
    transcripts: [],
    partials: [],
    notes: [],
    turns: [],
    ended: [],
    transfers: [],
    loadTools() {
      tools ??= createToolRunner({ ...makeToolDeps({ agent: opts.agent, tools: opts.tools, channel }).deps, callId: call.id, agent, channel, transfer: async (n) => void host.transfers.push(n) });
      return tools;
    },
    agentEnv: async () => ({}),
    nowMs: now,
    async transcript(item) {
      host.transcripts.push(item);
    },
    partial(role, text) {
      host.partials.push({ role, text });
    },
    recordTurn(latency) {
      host.turns.push(latency);
    },
    note(text) {
      host.notes.push(text);
    },
    async end(reason) {
      if (host.ended.length === 0) host.ended.push(reason);
      abort.abort();
    },
    async transfer(n) {
      host.transfers.push(n);
    },
  };
  return host;
}
