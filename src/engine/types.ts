/**
 * The contract between a `CallSession` (src/session) and the conversation logic (an engine).
 * Engines never see a transport, Twilio JSON or browser frames: only caller audio frames in
 * `inputFormat`, and the `EngineHost` that plays audio, records transcripts and ends the call.
 */
import type { Agent, Call, Store, TurnLatency } from '../store/types.js';
import type { AudioFormat } from '../transport/types.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import type { ToolRunner } from '../tools/types.js';
import type { KnowledgeSearch } from '../knowledge/types.js';

/** What an interruption or a finished utterance reports: how much the caller really heard. */
export interface PlaybackPosition {
  utteranceId: string | null;
  /** Audio of the utterance acknowledged as played (marks), in ms. */
  heardMs: number;
  /** Audio of the utterance handed to the transport, in ms (always >= heardMs). */
  sentMs: number;
}

/**
 * Paced agent playback. Audio goes out slightly ahead of real time (PLAYBACK_LEAD_MS) in
 * 20 ms frames with a mark per chunk, so the session always knows what the caller heard.
 */
export interface Playback {
  /** Queues audio (in the host's `outputFormat`) for the utterance. Never blocks. */
  enqueue(utteranceId: string, audio: Buffer): void;
  /** Everything of the utterance is queued; `onUtteranceDone` fires once it has been played. */
  finish(utteranceId: string): void;
  /** Barge-in: transport `clear`, queue dropped. Reports what the caller heard of the current utterance. */
  clear(): PlaybackPosition;
  /** Where playback of `utteranceId` is now. */
  position(utteranceId: string): PlaybackPosition;
  /** True while agent audio is queued or sent but not yet acknowledged as played. */
  readonly active: boolean;
  /** Called once per utterance with the wall-clock ms (host clock) its first frame went to the transport. */
  onFirstAudioSent(listener: (utteranceId: string, atMs: number) => void): void;
  /** Called when a finished utterance has been fully played (its last mark acknowledged). */
  onUtteranceDone(listener: (position: PlaybackPosition) => void): void;
}

export interface TranscriptInput {
  role: 'user' | 'agent' | 'tool' | 'system';
  text: string;
  /** ms since the call's media started (the host clock `nowMs()`). */
  startMs: number;
  endMs: number;
  interrupted?: boolean;
}

export interface EngineHost {
  readonly call: Call;
  readonly agent: Agent;
  /** Call variables merged over the agent's defaults (for `{{var}}`). */
  readonly variables: Record<string, string>;
  /** 'phone' (Twilio) or 'web' (browser): decides formats and which built-in tools exist. */
  readonly channel: 'phone' | 'web';
  /** Format of caller frames handed to `Engine.onAudio`. */
  readonly inputFormat: AudioFormat;
  /** Format `playback.enqueue` expects. */
  readonly outputFormat: AudioFormat;
  /** Aborted when the call ends for any reason. */
  readonly signal: AbortSignal;
  readonly config: Config;
  readonly store: Store;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly playback: Playback;
  /** Ranked passages of the agent's knowledge documents (`agent.knowledgeIds`). */
  readonly knowledge: KnowledgeSearch;
  /** The call's tools (built-ins + the agent's webhook tools), loaded once and memoised. */
  loadTools(): Promise<ToolRunner>;
  /** The agent's env vars, decrypted once per call (a brain's key or signing secret). Never log them. */
  agentEnv(): Promise<Record<string, string>>;
  /** ms since the call's media started; transcript times use this clock. */
  nowMs(): number;
  /** Persists a final transcript item and publishes `transcript.final` (or `agent.interrupted` data). */
  transcript(item: TranscriptInput): Promise<void>;
  /** Publishes `transcript.partial` (never stored). */
  partial(role: 'user' | 'agent', text: string): void;
  /** Records one turn's latency on the call record and in Prometheus (`engine` label from the agent). */
  recordTurn(latency: TurnLatency): void;
  /** Notes something worth knowing on the call record (reconnects, fallbacks, provider errors). */
  note(text: string): void;
  /** Ends the call: 'agent_hangup', 'error:<what>', ... Idempotent. */
  end(reason: string): Promise<void>;
  /** Phone calls only: hands the call to another number (Twilio REST), then ends with 'transfer'. */
  transfer(toNumber: string): Promise<void>;
}

export interface Engine {
  /**
   * Called when the call is announced (webhook, outbound create, web-call create), before any
   * media: open provider sockets here. Failures are recorded, never thrown.
   */
  prepare(): Promise<void>;
  /** Media is connected: greet (`firstMessage`) and start listening. */
  start(): Promise<void>;
  /** One caller frame in `host.inputFormat`. Hot path: no logging, little allocation. */
  onAudio(frame: Buffer): void;
  onDtmf(digit: string): void;
  /** The call is over: close provider sockets, flush what is pending. Idempotent. */
  close(end?: CallEnd): Promise<void>;
}

/** How a call ended, handed to `Engine.close` (a conversation server is told). */
export interface CallEnd {
  endReason: string;
  durationSeconds: number;
}

export type EngineFactory = (host: EngineHost) => Engine;
