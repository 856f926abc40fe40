/**
 * Issue 19: an agent (or a web call to it) whose providers have no credentials on this gateway
 * would only fail when a call starts, with an `endReason` the creator never sees. The 201 body
 * of `POST /v1/agents` and `POST /v1/web-calls` carries `warnings` naming each missing
 * variable, so the person hears about it while they are still looking (docs/api-notes.md).
 * The rules mirror src/engine/pipeline-providers.ts and the realtime bridge: a key is needed
 * for the hosted vendors; an OpenAI-compatible server elsewhere may run without one.
 */
import type { Config } from '../config.js';
import type { Agent } from '../store/types.js';
import { lacksRequiredKey } from '../providers/openai-key.js';

/** The agent's brain (API.md, `llm`): absent means the built-in OpenAI-compatible LLM. */
function llmProvider(agent: Partial<Agent>): string {
  return agent.llm?.provider ?? 'openai';
}

/** Plain sentences, one per missing credential; empty when the agent can take calls here. */
export function providerWarnings(agent: Partial<Agent>, config: Config): string[] {
  const p = config.providers;
  const out: string[] = [];
  const need = (what: string, variable: string) =>
    out.push(`${what} has no credentials on this gateway: set ${variable}, or calls to this agent will fail`);
  const openaiLlm = () => {
    if (llmProvider(agent) === 'openai' && lacksRequiredKey(p.openai.baseUrl, p.openai.apiKey)) need(`the LLM (OpenAI, model ${agent.model ?? 'default'})`, 'OPENAI_API_KEY');
  };
  switch (agent.architecture) {
    case 'pipeline':
      if ((agent.stt === 'deepgram' || agent.stt === 'deepgram-flux') && !p.deepgram.apiKey) need('speech-to-text (Deepgram)', 'DEEPGRAM_API_KEY');
      if (agent.stt === 'openai-compatible' && lacksRequiredKey(p.openaiCompatible.sttBaseUrl, p.openaiCompatible.sttApiKey)) need('speech-to-text (OpenAI-compatible)', 'STT_API_KEY');
      if (agent.tts === 'elevenlabs' && !p.elevenlabs.apiKey) need('text-to-speech (ElevenLabs)', 'ELEVENLABS_API_KEY');
      if (agent.tts === 'cartesia' && !p.cartesia.apiKey) need('text-to-speech (Cartesia)', 'CARTESIA_API_KEY');
      if (agent.tts === 'openai-compatible' && lacksRequiredKey(p.openaiCompatible.ttsBaseUrl, p.openaiCompatible.ttsApiKey)) need('text-to-speech (OpenAI-compatible)', 'TTS_API_KEY');
      openaiLlm();
      break;
    case 'realtime':
      if (agent.realtimeProvider === 'openai' && !p.openai.apiKey) need('the realtime model (OpenAI Realtime)', 'OPENAI_API_KEY');
      if (agent.realtimeProvider === 'xai' && !p.xai.apiKey) need('the realtime model (xAI Grok voice agent)', 'XAI_API_KEY');
      break;
    case 'text':
      openaiLlm();
      break;
    default:
      break;
  }
  return out;
}
