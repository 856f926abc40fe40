/**
 * Shared by the pipeline engine tests: a recording EngineHost whose playback marks the test
 * controls (`TestPlayback.play`), a level VAD that makes tone audio deterministic (speech after
 * 100 ms of tone, end after `silenceMs` of silence), and caller audio helpers.
 */
import { createPipelineEngine } from '../../src/engine/pipeline.js';
import type { Engine, EngineHost, Playback, PlaybackPosition, TranscriptInput } from '../../src/engine/types.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics/index.js';
import { ulawEncodeSample } from '../../src/media/index.js';
import { MULAW_8K } from '../../src/transport/types.js';
import type { Agent, Call, TurnLatency } from '../../src/store/types.js';
import type { VadListener, VadOptions, VadWindowListener, VoiceActivityDetector } from '../../src/vad/index.js';
import type { ToolRunner } from '../../src/tools/types.js';
import type { KnowledgeSearch } from '../../src/knowledge/types.js';

/** Level VAD: 20 ms frames, speech after 100 ms of tone, end after `silenceMs` of silence. */
export class LevelVad implements VoiceActivityDetector {
  readonly kind = 'energy' as const;
  speaking = false;
  probability = 0;
  nowMs = 0;
  stats = { windows: 0, inferences: 0, gated: 0, skipped: 0 };
  private run = 0;
  private quiet = 0;
  private readonly listeners: VadListener[] = [];
  private readonly windowListeners: VadWindowListener[] = [];
  constructor(private readonly silenceMs: number) {}
  push(frame: Int16Array): void {
    let peak = 0;
    for (const s of frame) peak = Math.max(peak, Math.abs(s));
    this.nowMs += (frame.length / 8000) * 1000;
    this.probability = peak > 1000 ? 1 : 0;
    if (peak > 1000) {
      this.run += 20;
      this.quiet = 0;
      if (!this.speaking && this.run >= 100) {
        this.speaking = true;
        for (const l of this.listeners) l({ type: 'speech_start', atMs: this.nowMs - this.run });
      }
    } else {
      this.quiet += 20;
      if (!this.speaking) this.run = 0;
      if (this.speaking && this.quiet >= this.silenceMs) {
        this.speaking = false;
        const d = this.run;
        this.run = 0;
        for (const l of this.listeners) l({ type: 'speech_end', atMs: this.nowMs - this.quiet, durationMs: d });
      }
    }
    for (const l of this.windowListeners) l(this.probability, this.nowMs);
  }
  onEvent(l: VadListener): void {
    this.listeners.push(l);
  }
  onWindow(l: VadWindowListener): void {
    this.windowListeners.push(l);
  }
  reset(): void {}
  close(): void {}
}

/** Playback whose marks the test acknowledges (`play`). */
export class TestPlayback implements Playback {
  readonly audio = new Map<string, number>(); // bytes queued per utterance
  readonly heard = new Map<string, number>();
  readonly finished = new Set<string>();
  readonly cleared: PlaybackPosition[] = [];
  current: string | null = null;
  private first: Array<(id: string, at: number) => void> = [];
  private done: Array<(p: PlaybackPosition) => void> = [];
  constructor(private readonly now: () => number) {}
  enqueue(id: string, audio: Buffer): void {
    if (!this.audio.has(id)) {
      this.audio.set(id, 0);
      this.heard.set(id, 0);
      this.current = id;
      for (const l of this.first) l(id, this.now());
    }
    this.audio.set(id, this.audio.get(id)! + audio.length);
  }
  finish(id: string): void {
    this.finished.add(id);
    this.maybeDone(id);
  }
  clear(): PlaybackPosition {
    const p = this.position(this.current ?? '');
    this.cleared.push(p);
    if (this.current) this.audio.set(this.current, this.heard.get(this.current)!);
    this.current = null;
    return p;
  }
  position(id: string): PlaybackPosition {
    return { utteranceId: id || null, heardMs: (this.heard.get(id) ?? 0) / 8, sentMs: (this.audio.get(id) ?? 0) / 8 };
  }
  get active(): boolean {
    return this.current !== null && this.heard.get(this.current)! < this.audio.get(this.current)!;
  }
  onFirstAudioSent(l: (id: string, at: number) => void): void {
    this.first.push(l);
  }
  onUtteranceDone(l: (p: PlaybackPosition) => void): void {
    this.done.push(l);
  }
  /** The caller heard `ms` more of the current utterance (or all of it). */
  play(ms = Infinity): void {
    const id = this.current;
    if (!id) return;
    this.heard.set(id, Math.min(this.audio.get(id)!, this.heard.get(id)! + ms * 8));
    this.maybeDone(id);
  }
  private maybeDone(id: string): void {
    if (this.finished.has(id) && this.heard.get(id) === this.audio.get(id) && this.current === id) {
      this.current = null;
      for (const l of this.done) l(this.position(id));
    }
  }
}

export interface HostOptions {
  tools?: ToolRunner;
  overrides?: Call['overrides'];
  env?: Record<string, string>;
  knowledge?: KnowledgeSearch;
}

/** A recording EngineHost; `baseEnv` aims the providers at the fakes. */
export function makeHost(baseEnv: Record<string, string>, agentOver: Partial<Agent> = {}, opts: HostOptions = {}) {
  const t0 = Date.now();
  const now = () => Date.now() - t0;
  const config = loadConfig({ LOG_LEVEL: 'silent', ...baseEnv, ...opts.env });
  const agent = {
    id: 'ag_1', owner: 'o', name: 'A', architecture: 'pipeline', systemPrompt: 'You help {{name}}.', firstMessage: 'Hi {{name}}, how can I help?',
    language: 'en-US', model: 'gpt-4o-mini', stt: 'deepgram', sttModel: null, tts: 'elevenlabs', ttsModel: null, voiceId: 'v1', realtimeProvider: null, temperature: null,
    voiceMode: 'web_and_phone', turnDetection: { silenceMs: 400, minInterruptionMs: 400 }, pronunciations: { nine: 'nyne' }, variables: { name: 'friend' },
    knowledgeIds: [], disabledTools: [], active: true, metadata: null, createdAt: '', updatedAt: '', ...agentOver,
  } as Agent;
  const call = { id: 'call_1', overrides: opts.overrides ?? {}, variables: {} } as unknown as Call;
  const transcripts: TranscriptInput[] = [];
  const turns: TurnLatency[] = [];
  const notes: string[] = [];
  const ended: string[] = [];
  const ac = new AbortController();
  const playback = new TestPlayback(now);
  const metrics = createMetrics();
  const host: EngineHost = {
    call, agent, variables: { name: 'Ada' }, channel: 'phone', inputFormat: MULAW_8K, outputFormat: MULAW_8K, signal: ac.signal, config,
    store: {} as never, log: createLogger(config), metrics, playback,
    knowledge: opts.knowledge ?? { search: async () => [] },
    loadTools: async () => opts.tools ?? { specs: [], run: async () => ({ ok: false, output: 'no tools' }) },
    agentEnv: async () => ({}),
    nowMs: now,
    transcript: async (i) => void transcripts.push(i),
    partial: () => {},
    recordTurn: (l) => void turns.push(l),
    note: (n) => void notes.push(n),
    end: async (r) => {
      ended.push(r);
      ac.abort();
    },
    transfer: async () => {},
  };
  return { host, playback, transcripts, turns, notes, ended, metrics };
}

export function frame(tone: boolean, n: number): Buffer {
  const b = Buffer.alloc(160, 0xff);
  if (tone) for (let i = 0; i < 160; i++) b[i] = ulawEncodeSample(Math.round(8000 * Math.sin((2 * Math.PI * 440 * (n * 160 + i)) / 8000)));
  return b;
}
let frameNo = 0;
/** Caller audio: `speechMs` of tone then `silenceMs` of silence, 20 ms frames, yielding to I/O. */
export async function say(e: Engine, speechMs: number, silenceMs: number): Promise<void> {
  for (let t = 0; t < speechMs; t += 20) {
    e.onAudio(frame(true, frameNo++));
    // A real wait, not just a turn of the loop: the STT's answers (interims) come from its
    // worker thread and the fake's socket, and the barge-in rules read them while speech goes on.
    if (t % 100 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  for (let t = 0; t < silenceMs; t += 20) {
    e.onAudio(frame(false, frameNo++));
    if (t % 100 === 0) await new Promise((r) => setTimeout(r, 5));
  }
}

export type TestHost = ReturnType<typeof makeHost>;

/** Starts an engine on the level VAD (deterministic on tone audio). */
export async function bootEngine(h: TestHost): Promise<Engine> {
  const engine = createPipelineEngine(h.host, { createVad: async (o: VadOptions) => new LevelVad(o.silenceMs ?? 500) });
  await engine.prepare();
  await engine.start();
  return engine;
}

