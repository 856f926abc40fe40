/**
 * Builds a call's STT, LLM and TTS from the agent and `config.providers`. A provider the agent
 * needs but has no credentials is reported as `missing` (the call ends with a clear endReason,
 * API.md), never thrown.
 */
import type { EngineHost } from './types.js';
import { lacksRequiredKey } from '../providers/openai-key.js';
import { callBrain, createCallLlm } from './pipeline-brain.js';
import type { LlmClient } from '../providers/llm/types.js';
import { ThreadedDeepgramStt } from '../providers/stt/deepgram-threaded.js';
import { DeepgramFluxStt } from '../providers/stt/deepgram-flux.js';
import type { SttStream } from '../providers/stt/types.js';
import { ElevenLabsWsTts } from '../providers/tts/elevenlabs-ws.js';
import { ElevenLabsHttpTts } from '../providers/tts/elevenlabs-http.js';
import { FallbackTts } from '../providers/tts/fallback.js';
import { CartesiaTts, DEFAULT_CARTESIA_VOICE } from '../providers/tts/cartesia.js';
import { OpenAiCompatibleStt } from '../providers/stt/openai-compatible.js';
import { DEFAULT_OPENAI_VOICE, OpenAiCompatibleTts } from '../providers/tts/openai-compatible.js';
import type { TtsProvider } from '../providers/tts/types.js';

/** ElevenLabs' long-standing default voice ("Rachel"), used when the agent names none. */
export const DEFAULT_ELEVENLABS_VOICE = '21m00Tcm4TlvDq8ikWAM';
export const DEFAULT_LLM_MODEL = 'gpt-4o-mini';

export interface PipelineProviders {
  stt: SttStream;
  llm: LlmClient;
  tts: TtsProvider;
  /** Names for endReason `error:<name>`. */
  names: { stt: string; llm: string; tts: string };
}

export type ProvidersResult = { ok: true; providers: PipelineProviders } | { ok: false; endReason: string; note: string };

export function createPipelineProviders(host: EngineHost, endpointingMs: number): ProvidersResult {
  const { agent, config } = host;
  const p = config.providers;
  let stt: SttStream;
  const sttName = agent.stt ?? 'deepgram';
  if (sttName === 'deepgram') {
    if (!p.deepgram.apiKey) return missing('deepgram', 'DEEPGRAM_API_KEY');
    // Its socket lives in the STT worker thread: per-frame writes stay off the media loop.
    stt = new ThreadedDeepgramStt({
      baseUrl: p.deepgram.url,
      apiKey: p.deepgram.apiKey,
      format: host.inputFormat,
      language: agent.language,
      model: agent.sttModel ?? undefined,
      endpointingMs,
    });
  } else if (sttName === 'deepgram-flux') {
    if (!p.deepgram.apiKey) return missing('deepgram', 'DEEPGRAM_API_KEY');
    stt = new DeepgramFluxStt({
      baseUrl: p.deepgram.url,
      apiKey: p.deepgram.apiKey,
      format: host.inputFormat,
      language: agent.language,
      model: agent.sttModel ?? undefined,
      // The agent's wait after an unfinished turn is Flux's forced end of turn.
      eotTimeoutMs: agent.turnDetection?.silenceMs ?? undefined,
    });
  } else {
    // Utterance by utterance, cut by the engine's VAD (speechStarted/finalize).
    const oc = p.openaiCompatible;
    if (lacksRequiredKey(oc.sttBaseUrl, oc.sttApiKey)) return missing('openai-compatible', 'STT_API_KEY');
    stt = new OpenAiCompatibleStt({
      baseUrl: oc.sttBaseUrl,
      apiKey: oc.sttApiKey,
      format: host.inputFormat,
      language: agent.language,
      model: agent.sttModel ?? undefined,
    });
  }

  const brain = callBrain(host);
  if (!brain && lacksRequiredKey(p.openai.baseUrl, p.openai.apiKey)) return missing('openai', 'OPENAI_API_KEY');
  const llm = createCallLlm(host);

  const ttsName = agent.tts ?? 'elevenlabs';
  let tts: TtsProvider;
  if (ttsName === 'elevenlabs') {
    const voiceId = host.call.overrides.voice ?? agent.voiceId ?? DEFAULT_ELEVENLABS_VOICE;
    if (!p.elevenlabs.apiKey) return missing('elevenlabs', 'ELEVENLABS_API_KEY');
    const opts = { baseUrl: p.elevenlabs.baseUrl, apiKey: p.elevenlabs.apiKey, voiceId, format: host.outputFormat, model: agent.ttsModel ?? undefined };
    tts = new FallbackTts(new ElevenLabsWsTts(opts), new ElevenLabsHttpTts(opts), {
      onFallback: (reason) => host.note(`elevenlabs: stream-input WebSocket unavailable (${reason}); using HTTP streaming`),
      onResume: (reason, restChars) => {
        host.metrics.providerReconnects.inc({ provider: 'elevenlabs' });
        host.note(`elevenlabs: ${reason} mid-reply; the unspoken ${restChars} characters went to a new stream`);
      },
    });
  } else if (ttsName === 'cartesia') {
    if (!p.cartesia.apiKey) return missing('cartesia', 'CARTESIA_API_KEY');
    tts = new CartesiaTts({
      baseUrl: p.cartesia.baseUrl,
      apiKey: p.cartesia.apiKey,
      voiceId: host.call.overrides.voice ?? agent.voiceId ?? DEFAULT_CARTESIA_VOICE,
      model: agent.ttsModel ?? undefined,
      // Cartesia's `language` is the two-letter code ("en" of "en-US").
      language: agent.language.split('-')[0]!.toLowerCase(),
      format: host.outputFormat,
      onReconnect: (reason) => host.note(`cartesia: ${reason}; reconnected`),
    });
  } else {
    const oc = p.openaiCompatible;
    if (lacksRequiredKey(oc.ttsBaseUrl, oc.ttsApiKey)) return missing('openai-compatible', 'TTS_API_KEY');
    tts = new OpenAiCompatibleTts({
      baseUrl: oc.ttsBaseUrl,
      apiKey: oc.ttsApiKey,
      // An ElevenLabs voice id means nothing to these servers; only the agent's own voice counts.
      voiceId: host.call.overrides.voice ?? agent.voiceId ?? DEFAULT_OPENAI_VOICE,
      model: agent.ttsModel ?? undefined,
      format: host.outputFormat,
    });
  }
  return { ok: true, providers: { stt, llm, tts, names: { stt: sttName, llm: brain?.provider ?? 'openai', tts: ttsName } } };
}

function missing(provider: string, variable: string): ProvidersResult {
  return { ok: false, endReason: `error:${provider}_not_configured`, note: `${provider}: ${variable} is not set` };
}
