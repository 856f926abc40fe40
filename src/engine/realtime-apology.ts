/**
 * The realtime engine's last words (issue 5, "Bad input"). The provider is the engine's voice,
 * so when it cannot be reached the call would end in silence. Instead the pipeline's apology
 * is synthesised by the OpenAI-compatible TTS (`/v1/audio/speech`), played like any utterance,
 * and the call ends with the same reason once it has been heard. Without a TTS that answers in
 * time the call ends at once, as it did before; either way the call record says which.
 */
import { lacksRequiredKey } from '../providers/openai-key.js';
import { DEFAULT_OPENAI_VOICE, OpenAiCompatibleTts } from '../providers/tts/openai-compatible.js';
import { APOLOGY } from './pipeline.js';
import type { EngineHost } from './types.js';
import { bytesPerMs } from '../transport/types.js';

/**
 * Budget for the whole apology audio to arrive. The caller has already sat through the connect
 * retries in silence; a TTS slower than this ends the call unspoken rather than add to that.
 */
export const APOLOGY_FETCH_MS = 4_000;
/**
 * Wait beyond the apology's own length for its final mark: marks trail the audio by the
 * playback lead and a network round trip, and audio a lost session had queued plays first.
 * Bounds the call's end when marks never come.
 */
export const APOLOGY_PLAYOUT_MARGIN_MS = 5_000;
/** The apology's utterance id in playback; realtime item ids (`item_…`) never collide with it. */
export const APOLOGY_UTTERANCE_ID = 'apology';

/** Apologises to the caller if a TTS can, then ends the call with `reason`. Only `host.end` may throw, as before. */
export async function endWithApology(host: EngineHost, reason: string): Promise<void> {
  try {
    const note = await apologise(host);
    if (note) host.note(note);
  } catch (err) {
    // The call ending meanwhile (caller hung up) is an outcome, not a failure to report.
    if (!host.signal.aborted) {
      host.log.warn({ err: (err as Error).message }, 'apology could not be spoken');
      host.note(`apology not spoken: ${(err as Error).message}`);
    }
  }
  await host.end(reason);
}

/** What to note on the call record, or null when the call ended before there was anything to say. */
async function apologise(host: EngineHost): Promise<string | null> {
  if (host.signal.aborted) return null;
  const tts = apologyTts(host);
  if (!tts) return 'apology not spoken: no TTS configured (TTS_API_KEY is not set)';
  const audio = await synthesize(tts, host.signal);
  const heard = await play(host, audio);
  return heard ? 'apology spoken to the caller' : 'apology sent to the caller; its playback was not confirmed';
}

function apologyTts(host: EngineHost): OpenAiCompatibleTts | null {
  const oc = host.config.providers.openaiCompatible;
  if (lacksRequiredKey(oc.ttsBaseUrl, oc.ttsApiKey)) return null;
  return new OpenAiCompatibleTts({
    baseUrl: oc.ttsBaseUrl,
    apiKey: oc.ttsApiKey,
    // Not the agent's voice: that is a realtime voice name the speech endpoint may not know,
    // and a refused voice here means silence.
    voiceId: DEFAULT_OPENAI_VOICE,
    format: host.outputFormat,
  });
}

/** The whole apology in the call's format, or a throw: a cut-off apology is never played. */
async function synthesize(tts: OpenAiCompatibleTts, callSignal: AbortSignal): Promise<Buffer> {
  const signal = AbortSignal.any([callSignal, AbortSignal.timeout(APOLOGY_FETCH_MS)]);
  const stream = tts.stream(signal);
  stream.push(APOLOGY);
  stream.end();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk.audio);
  // An abort ends the stream quietly, with whatever had arrived.
  if (callSignal.aborted) throw new Error('the call ended');
  if (signal.aborted) throw new Error(`the TTS took longer than ${APOLOGY_FETCH_MS} ms`);
  const audio = Buffer.concat(chunks);
  if (audio.length === 0) throw new Error('the TTS returned no audio');
  return audio;
}

/** Plays the apology; true once its final mark came back, false on the bound or the call's end. */
function play(host: EngineHost, audio: Buffer): Promise<boolean> {
  const audioMs = audio.length / bytesPerMs(host.outputFormat);
  return new Promise((resolve) => {
    const done = (heard: boolean): void => {
      clearTimeout(timer);
      host.signal.removeEventListener('abort', ended);
      resolve(heard);
    };
    const ended = (): void => done(false);
    const timer = setTimeout(ended, audioMs + APOLOGY_PLAYOUT_MARGIN_MS);
    host.signal.addEventListener('abort', ended, { once: true });
    host.playback.onUtteranceDone((pos) => {
      if (pos.utteranceId === APOLOGY_UTTERANCE_ID) done(true);
    });
    host.playback.enqueue(APOLOGY_UTTERANCE_ID, audio);
    host.playback.finish(APOLOGY_UTTERANCE_ID);
  });
}
