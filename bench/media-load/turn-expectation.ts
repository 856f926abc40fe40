/**
 * What the pipeline's turn rule costs by construction on the bench's caller clips, so the
 * voice-to-voice overhead subtracts it (issue 20). A complete-sounding turn ends when the VAD
 * reports a pause (SHORT_SILENCE_MS of decided silence); the reply was speculated at that moment
 * on the interim, so the path is: pause → LLM first token → first clause → TTS first byte.
 * The pause is the Silero model's own latency on that audio: measured here offline on the same
 * clip with the same model and settings, frame by frame, from the end of the clip's last voiced
 * 20 ms block (what the callers time from) to the frame on which the pause fires, averaged over
 * the 16 ways 20 ms frames fall on 64 ms windows (the callers start at any phase; the pause
 * moves by up to ~60 ms with it).
 */
import { ulawDecode } from '../../src/media/index.js';
import { SileroVad, loadSilero } from '../../src/vad/index.js';
import { SHORT_SILENCE_MS } from '../../src/engine/turn-taking.js';
import { readUlawFixture } from '../../test/helpers/fixtures.js';
import { LATENCY, SPEECH_RMS, TURN } from './script.js';

export type CallerClip = 'question' | 'hello';

/** ms after the clip's last voiced block at which Silero reports the short pause (mean over window phases). */
export async function sileroPauseMs(name: CallerClip): Promise<number> {
  let sum = 0;
  const PHASES = 16; // 16 frames of 20 ms = 5 windows of 64 ms: every alignment once
  for (let k = 0; k < PHASES; k++) sum += await pauseAt(name, 1000 + 20 * k);
  return Math.round(sum / PHASES);
}

async function pauseAt(name: CallerClip, leadMs: number): Promise<number> {
  const clip = ulawDecode(readUlawFixture(name));
  let lastVoiced = -1;
  for (let b = 0; b * 160 < clip.length; b++) {
    let sum = 0;
    const end = Math.min(clip.length, (b + 1) * 160);
    for (let i = b * 160; i < end; i++) sum += clip[i]! ** 2;
    if (Math.sqrt(sum / 160) >= SPEECH_RMS) lastVoiced = b;
  }
  const vad = new SileroVad(await loadSilero(), { sampleRate: 8000, silenceMs: Math.min(TURN.silenceMs, SHORT_SILENCE_MS) });
  let firedMs = -1;
  const voicedEndMs = leadMs + (lastVoiced + 1) * 20;
  // The pause after the clip: a pause inside it (a gap between words) is not the end.
  vad.onEvent((e) => {
    if (e.type === 'speech_end' && firedMs < 0 && vad.nowMs > voicedEndMs) firedMs = vad.nowMs;
  });
  const all = new Int16Array(8 * leadMs + clip.length + 8 * 2000);
  all.set(clip, 8 * leadMs);
  for (let i = 0; i + 160 <= all.length && firedMs < 0; i += 160) {
    vad.push(all.subarray(i, i + 160));
    await vad.settled();
  }
  vad.close();
  return firedMs - voicedEndMs;
}

/** Expected voice-to-voice per clip: pause + LLM first token + first clause (0: "Sure. " is one token) + TTS first byte. */
export async function pipelineExpectedMs(): Promise<Record<CallerClip, number>> {
  const rest = LATENCY.llmFirstTokenMs + LATENCY.ttsFirstByteMs;
  return { question: (await sileroPauseMs('question')) + rest, hello: (await sileroPauseMs('hello')) + rest };
}
