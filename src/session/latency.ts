/** Per-call turn latency: the `latency` field of the call record and the Prometheus parts. */
import type { CallLatency, TurnLatency } from '../store/types.js';

/** The call record keeps the last 20 turns' breakdowns (bounded: calls can be long). */
export const RECENT_TURNS = 20;

/** `TurnLatency` field → the `part` label of `voxgate_turn_latency_ms`. */
export const LATENCY_PARTS: ReadonlyArray<readonly [keyof TurnLatency, string]> = [
  ['endpointingMs', 'endpointing'],
  ['sttFinalMs', 'stt_final'],
  ['llmFirstTokenMs', 'llm_first_token'],
  ['ttsFirstByteMs', 'tts_first_byte'],
  ['firstAudioDeltaMs', 'first_audio_delta'],
  ['firstAudioSentMs', 'first_audio_sent'],
  ['voiceToVoiceMs', 'voice_to_voice'],
];

export class LatencyStats {
  private readonly voiceToVoice: number[] = [];
  private readonly recent: TurnLatency[] = [];

  add(turn: TurnLatency): CallLatency {
    this.voiceToVoice.push(turn.voiceToVoiceMs);
    this.recent.push(turn);
    if (this.recent.length > RECENT_TURNS) this.recent.shift();
    return this.snapshot();
  }

  snapshot(): CallLatency {
    const sorted = [...this.voiceToVoice].sort((a, b) => a - b);
    return {
      turns: sorted.length,
      p50Ms: percentile(sorted, 0.5),
      p95Ms: percentile(sorted, 0.95),
      recent: [...this.recent],
    };
  }
}

/** Nearest-rank percentile of an ascending array; null when empty. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil(p * sorted.length);
  return Math.round(sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!);
}
