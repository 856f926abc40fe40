/**
 * OpenAI-compatible TTS (`POST /v1/audio/speech`: OpenAI, Kokoro-FastAPI, speaches, Piper
 * servers) on the `openai` SDK. One request per clause (ClauseTtsStream feeds them in order);
 * `response_format: 'pcm'` is raw 24 kHz 16-bit mono little-endian (OpenAI's definition, which
 * the compatible servers follow), streamed as it arrives, resampled to the call's rate and,
 * for phone calls, μ-law encoded. No alignment: barge-in truncation is proportional.
 */
import OpenAI, { APIError } from 'openai';
import { ProviderError, isAbortError } from '../../errors.js';
import { Resampler, pcm16ToBuffer, ulawEncode } from '../../media/index.js';
import { ClauseTtsStream } from './clause-stream.js';
import type { TtsCapabilities, TtsOptions, TtsProvider, TtsStream } from './types.js';

/** The rate of `response_format: 'pcm'` (OpenAI audio API reference). */
export const OPENAI_PCM_RATE = 24_000;
/** OpenAI's low-latency model; local servers mostly ignore the name or map it. */
export const DEFAULT_TTS_MODEL = 'tts-1';
/** A voice every OpenAI-compatible server knows (Kokoro-FastAPI and speaches alias it). */
export const DEFAULT_OPENAI_VOICE = 'alloy';
const PROVIDER = 'openai-compatible';

export class OpenAiCompatibleTts implements TtsProvider {
  readonly name = 'openai-compatible';
  readonly capabilities: TtsCapabilities = { streamingInput: false, alignment: false };
  private readonly client: OpenAI;

  constructor(private readonly opts: TtsOptions & { timeoutMs?: number }) {
    // maxRetries 0: on the hot path a retry doubles the caller's wait.
    this.client = new OpenAI({ apiKey: opts.apiKey ?? 'none', baseURL: opts.baseUrl, maxRetries: 0, timeout: opts.timeoutMs ?? 15_000 });
  }

  /** HTTP per clause: nothing to warm (keep-alive reuses the connection). */
  async prepare(): Promise<void> {}

  stream(signal: AbortSignal): TtsStream {
    // One converter per utterance: the resampler's filter state runs on across clauses, so
    // clause joins are as smooth as the server's audio.
    const convert = new PcmConverter(this.opts.format.sampleRate, this.opts.format.encoding === 'mulaw');
    return new ClauseTtsStream((text, s) => this.synthesize(text, s, convert), signal);
  }

  private async *synthesize(text: string, signal: AbortSignal, convert: PcmConverter): AsyncIterable<Buffer> {
    let body: ReadableStream<Uint8Array> | null;
    try {
      const res = await this.client.audio.speech.create(
        { model: this.opts.model ?? DEFAULT_TTS_MODEL, voice: this.opts.voiceId as never, input: text, response_format: 'pcm' },
        { signal },
      );
      body = res.body;
    } catch (err) {
      if (signal.aborted || isAbortError(err)) return;
      throw toProviderError(err);
    }
    if (!body) return;
    const reader = body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (value && value.byteLength > 0) {
          const out = convert.push(value);
          if (out.length > 0) yield out;
        }
      }
    } catch (err) {
      if (signal.aborted || isAbortError(err)) return;
      throw new ProviderError(PROVIDER, err instanceof Error ? err.message : String(err), undefined, true);
    } finally {
      if (signal.aborted) await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  }

  close(): void {}
}

/**
 * 24 kHz PCM16 bytes, in chunks of any size (a sample may straddle two), → the call's format.
 * Exported for tests.
 */
export class PcmConverter {
  private readonly resampler: Resampler | null;
  private carry: number | null = null;

  constructor(
    toRate: number,
    private readonly mulaw: boolean,
  ) {
    this.resampler = toRate === OPENAI_PCM_RATE ? null : new Resampler(OPENAI_PCM_RATE, toRate);
  }

  push(bytes: Uint8Array): Buffer {
    const lead = this.carry === null ? 0 : 1;
    const total = bytes.length + lead;
    const n = total >> 1;
    const pcm = new Int16Array(n);
    let i = 0;
    if (this.carry !== null && n > 0) {
      pcm[0] = ((bytes[0]! << 8) | this.carry) << 16 >> 16;
      i = 1;
    }
    for (let k = i; k < n; k++) {
      const b = 2 * k - lead;
      pcm[k] = ((bytes[b + 1]! << 8) | bytes[b]!) << 16 >> 16;
    }
    if (total & 1) this.carry = bytes[bytes.length - 1]!;
    else this.carry = null;
    const out = this.resampler ? this.resampler.process(pcm) : pcm;
    // Fresh arrays each push, so the byte view needs no copy.
    return this.mulaw ? ulawEncode(out) : pcm16ToBuffer(out);
  }
}

function toProviderError(err: unknown): ProviderError {
  if (err instanceof APIError && typeof err.status === 'number') return ProviderError.fromStatus(PROVIDER, err.status, err.message);
  return new ProviderError(PROVIDER, err instanceof Error ? err.message : String(err), undefined, true);
}
