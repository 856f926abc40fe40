/**
 * xAI's `session.update` body and the provider table, as pure functions: the session shape is
 * xAI's (docs.x.ai "Session Parameters"), never OpenAI's, whatever the agent's settings.
 */
import { describe, expect, it } from 'vitest';
import { realtimeProvider, sessionPayload, xaiSessionPayload, type RealtimeSessionConfig } from '../../src/providers/realtime/index.js';
import { xaiSessionProblem } from '../fakes/xai-realtime-dialect.js';

const base: RealtimeSessionConfig = {
  instructions: 'Be brief.',
  format: 'pcmu',
  turnDetection: { type: 'semantic_vad', eagerness: 'auto' },
  transcriptionModel: 'gpt-4o-mini-transcribe',
  tools: [{ name: 'end_call', description: 'End', parameters: { type: 'object', properties: {} } }],
};

describe('xAI session.update', () => {
  it('semantic VAD (which xAI lacks) becomes plain server VAD; no OpenAI-only keys; no transcription model', () => {
    const s = xaiSessionPayload(base);
    expect(s).toEqual({
      instructions: 'Be brief.',
      turn_detection: { type: 'server_vad' },
      audio: { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' } } },
      tools: [{ type: 'function', name: 'end_call', description: 'End', parameters: { type: 'object', properties: {} } }],
    });
    expect(xaiSessionProblem(s)).toBeNull();
    // The OpenAI body for the same config is refused by the xAI fake: the shapes really differ.
    expect(xaiSessionProblem(sessionPayload(base))).toMatchObject({ message: expect.stringMatching(/Unknown session parameter/) });
  });

  it('server VAD numbers are clamped into xAI’s ranges and rounded; PCM is 24 kHz; the voice is passed on', () => {
    const s = xaiSessionPayload({ ...base, format: 'pcm24k', voice: 'Leo', turnDetection: { type: 'server_vad', threshold: 0.02, silenceMs: 20_000.4, prefixPaddingMs: 250.6 } });
    expect(s['turn_detection']).toEqual({ type: 'server_vad', threshold: 0.1, silence_duration_ms: 10_000, prefix_padding_ms: 251 });
    expect(s['audio']).toEqual({ input: { format: { type: 'audio/pcm', rate: 24000 } }, output: { format: { type: 'audio/pcm', rate: 24000 } } });
    expect(s['voice']).toBe('Leo');
    expect(xaiSessionProblem(s)).toBeNull();
  });

  it('the provider table: each name, its env var, end reason, metrics label and default model', () => {
    expect(realtimeProvider('xai')).toMatchObject({ name: 'xai', apiKeyEnv: 'XAI_API_KEY', notConfiguredReason: 'error:xai_not_configured', label: 'xai_realtime', defaultModel: 'grok-voice-think-fast-1.0' });
    expect(realtimeProvider('openai')).toMatchObject({ apiKeyEnv: 'OPENAI_API_KEY', notConfiguredReason: 'error:realtime_not_configured', label: 'openai_realtime', defaultModel: 'gpt-realtime' });
    expect(realtimeProvider(null).name).toBe('openai');
  });
});
