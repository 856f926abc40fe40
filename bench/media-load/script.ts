/**
 * What every simulated call does and the fixed provider latencies, shared by the three
 * processes of the media-load bench (orchestrator, fakes, callers).
 */

/** Fixed fake latencies (issue 7). */
export const LATENCY = {
  /** Deepgram final Results this long after its endpointing fired (or a Finalize arrived). */
  sttFinalMs: 150,
  /** OpenAI chat: first streamed token. */
  llmFirstTokenMs: 300,
  /** ElevenLabs: first audio of each generation. */
  ttsFirstByteMs: 150,
  /** OpenAI Realtime: first audio delta after the response starts (at speech_stopped). */
  realtimeFirstDeltaMs: 300,
} as const;

/**
 * Turn detection of the bench agents. `silenceMs` 300: the pipeline asks Deepgram for
 * `endpointing=min(300, silenceMs)` = 300 and the local VAD ends the turn after 300 ms of
 * silence; the realtime agent's server VAD gets `silence_duration_ms` 300.
 * `minInterruptionMs` 150 (pipeline; the product default is 400, tuned to ignore backchannels):
 * the barge-in figure is then the gateway's detection + this hold.
 */
export const TURN = { silenceMs: 300, minInterruptionMs: 150 } as const;

/**
 * The latency the providers and the turn rules add by construction, which the
 * voice-to-voice overhead subtracts:
 *   pipeline, before issue 20: endpointing (300) + STT final (150) + LLM first token (300) + TTS first byte (150) = 900 ms;
 *     since: Silero's pause on the clip + LLM first token + first clause + TTS first byte, per clip
 *     (turn-expectation.ts; the STT final overlaps the speculative reply), ~708 ms for `question`
 *   realtime: server VAD silence (300) + first delta (300) = 600 ms
 */
export const EXPECTED_V2V_MS = {
  pipeline: TURN.silenceMs + LATENCY.sttFinalMs + LATENCY.llmFirstTokenMs + LATENCY.ttsFirstByteMs,
  /** The same pipeline speaking through Cartesia (same fixed TTS first byte). */
  'pipeline-cartesia': TURN.silenceMs + LATENCY.sttFinalMs + LATENCY.llmFirstTokenMs + LATENCY.ttsFirstByteMs,
  realtime: TURN.silenceMs + LATENCY.realtimeFirstDeltaMs,
} as const;

/** The pipeline agent's answer (~3.4 s of audio at TTS_MS_PER_CHAR), streamed word by word. */
export const PIPELINE_REPLY = 'Sure. We open at nine in the morning, and we close at five in the afternoon on weekdays.';
export const TTS_MS_PER_CHAR = 40;
export const REALTIME_REPLY_MS = 3400;

/** The caller's turn: `question` (1.6 s); the barge-in: `hello` said 1 s into an answer. */
export const CALLER_TURN = 'question' as const;
export const BARGE_IN_CLIP = 'hello' as const;
export const BARGE_IN_AFTER_MS = 1000;
/** Which caller turn (0-based) is interrupted. */
export const BARGE_IN_TURN = 1;
/** The agent is done when nothing is queued at the carrier and no audio came for this long. */
export const AGENT_IDLE_MS = 700;
/** Deepgram's fake counts a 20 ms block as speech from this RMS (its default), so we do too. */
export const SPEECH_RMS = 500;

export type EngineKind = 'pipeline' | 'pipeline-cartesia' | 'realtime';

export interface RunRequest {
  type: 'run';
  engine: EngineKind;
  calls: number;
  seconds: number;
  publicUrl: string;
  authToken: string;
  accountSid: string;
  toNumber: string;
}

export interface CallerResults {
  type: 'results';
  calls: number;
  connected: number;
  connectFailures: number;
  closedEarly: number;
  framesSent: number;
  framesReceived: number;
  v2vMs: number[];
  /** Which caller clip each v2vMs sample ended (the turn rule's cost depends on the audio). */
  v2vClips: Array<'question' | 'hello'>;
  /** Which call and which of its clips (index into callClips[call]) each v2vMs sample ended. */
  v2vRefs: Array<[number, number]>;
  /**
   * Per call (by its index when placed), every clip its caller said and the caller frames sent
   * before it. The caller's stream is silence but for these, so the bench can replay it exactly.
   */
  callClips: Array<Array<['question' | 'hello', number]>>;
  noAnswer: number;
  bargeInMs: number[];
  bargeInMissed: number;
  underruns: number;
  underrunMsTotal: number;
  /** [ms into the utterance, gap ms] of the first underruns, for diagnosis. */
  underrunSamples: Array<[number, number]>;
  utterancesHeard: number;
  protocolErrors: number;
  loadgenCpuPercent: number;
  loadgenLoopLagP99Ms: number;
  /** How late the load generator sent frames (actual − nominal), p99 over voiced-frame marks. */
  sendLateP99Ms: number;
}
