/**
 * What the pipeline's turn rule costs by construction on the bench's caller audio, so the
 * voice-to-voice overhead subtracts it (issue 20). A complete-sounding turn ends when the VAD
 * reports a pause (SHORT_SILENCE_MS of decided silence); the reply was speculated at that moment
 * on the interim, so the path is: pause → LLM first token → first clause → TTS first byte.
 *
 * The pause is the Silero model's own decision on that audio, and it is not one number: the
 * model decides per 64 ms window, so where the clip falls on the window grid moves it by up to
 * ~140 ms (180–320 ms after the last voiced block of `question`), and the model's recurrent
 * state carries what the caller said before, which moves some decisions by a further window.
 * Two accountings:
 *   - exact (`replayPauses`): each call's caller stream — silence with its clips at the frames
 *     where they were sent — replayed offline through the same VAD with the same settings, frame
 *     by frame; a turn's pause is when that replay fires it. What remains of a turn's
 *     voice-to-voice after this and the providers' latencies is the gateway's own processing.
 *   - mean (`pipelineExpectedMs`): the pause averaged over the 16 ways 20 ms frames fall on
 *     64 ms windows, after a fresh model state (what the round-2 rows first used); its
 *     "overhead" also holds the spread of the model's decision around its mean.
 * Both time from the end of the clip's last voiced 20 ms block (what the callers time from).
 */
import { ulawDecode } from '../../src/media/index.js';
import { SileroVad, loadSilero } from '../../src/vad/index.js';
import { SHORT_SILENCE_MS } from '../../src/engine/turn-taking.js';
import { readUlawFixture } from '../../test/helpers/fixtures.js';
import { LATENCY, SPEECH_RMS, TURN } from './script.js';

export type CallerClip = 'question' | 'hello';

const FRAME = 160; // samples of one 20 ms frame at 8 kHz
/** After the last clip, enough silence for its pause to fire. */
const TAIL_FRAMES = 100;

interface DecodedClip {
  pcm: Int16Array;
  /** Frames in the clip, the last one zero-padded (the carrier pads it with silence). */
  frames: number;
  /** 0-based frame of the clip's last block with RMS ≥ SPEECH_RMS. */
  lastVoiced: number;
}

const clips = new Map<CallerClip, DecodedClip>();

function decoded(name: CallerClip): DecodedClip {
  let c = clips.get(name);
  if (c) return c;
  const pcm = ulawDecode(readUlawFixture(name));
  let lastVoiced = -1;
  for (let b = 0; b * FRAME < pcm.length; b++) {
    let sum = 0;
    const end = Math.min(pcm.length, (b + 1) * FRAME);
    for (let i = b * FRAME; i < end; i++) sum += pcm[i]! ** 2;
    if (Math.sqrt(sum / FRAME) >= SPEECH_RMS) lastVoiced = b;
  }
  c = { pcm, frames: Math.ceil(pcm.length / FRAME), lastVoiced };
  clips.set(name, c);
  return c;
}

/**
 * One caller stream replayed through the pipeline's VAD: `said` lists each clip and the frames
 * sent before it. Returns, per clip, ms from the end of its last voiced block to the first pause
 * the VAD reports after it (NaN if none fires before the next clip starts).
 */
export async function replayPauses(said: ReadonlyArray<readonly [CallerClip, number]>): Promise<number[]> {
  if (said.length === 0) return [];
  const model = await loadSilero();
  const vad = new SileroVad(model, { sampleRate: 8000, silenceMs: Math.min(TURN.silenceMs, SHORT_SILENCE_MS) });
  const ends: number[] = [];
  vad.onEvent((e) => {
    if (e.type === 'speech_end') ends.push(vad.nowMs);
  });
  const last = said[said.length - 1]!;
  const total = last[1] + decoded(last[0]).frames + TAIL_FRAMES;
  const silence = new Int16Array(FRAME);
  const frame = new Int16Array(FRAME);
  let k = 0;
  for (let f = 0; f < total; f++) {
    while (k + 1 < said.length && f >= said[k + 1]![1]) k++;
    const [name, start] = said[k]!;
    const c = decoded(name);
    const b = f - start;
    if (b >= 0 && b < c.frames) {
      frame.fill(0);
      frame.set(c.pcm.subarray(b * FRAME, Math.min(c.pcm.length, (b + 1) * FRAME)));
      vad.push(frame);
    } else vad.push(silence);
    await vad.settled();
  }
  vad.close();
  return said.map(([name, start], i) => {
    const voicedEndMs = (start + decoded(name).lastVoiced + 1) * 20;
    const nextStartMs = i + 1 < said.length ? said[i + 1]![1] * 20 : Infinity;
    const at = ends.find((t) => t > voicedEndMs);
    return at !== undefined && at <= nextStartMs + 20 ? at - voicedEndMs : NaN;
  });
}

/** ms after the clip's last voiced block at which Silero reports the short pause (mean over window phases). */
export async function sileroPauseMs(name: CallerClip): Promise<number> {
  let sum = 0;
  const PHASES = 16; // 16 frames of 20 ms = 5 windows of 64 ms: every alignment once
  for (let k = 0; k < PHASES; k++) sum += (await replayPauses([[name, 50 + k]]))[0]!;
  return Math.round(sum / PHASES);
}

/** The providers' part of a pipeline turn: LLM first token + first clause (0: "Sure. " is one token) + TTS first byte. */
export const PIPELINE_PROVIDERS_MS = LATENCY.llmFirstTokenMs + LATENCY.ttsFirstByteMs;

/** Expected voice-to-voice per clip with the mean pause. */
export async function pipelineExpectedMs(): Promise<Record<CallerClip, number>> {
  return { question: (await sileroPauseMs('question')) + PIPELINE_PROVIDERS_MS, hello: (await sileroPauseMs('hello')) + PIPELINE_PROVIDERS_MS };
}
