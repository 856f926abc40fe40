/**
 * ElevenLabs HTTP streaming TTS (PROTOCOLS.md §4.1) via `@elevenlabs/elevenlabs-js`
 * `textToSpeech.stream`: the fallback when the stream-input WebSocket will not open. One
 * request per clause, audio streamed as it arrives.
 */
import { ElevenLabsClient, ElevenLabsError } from '@elevenlabs/elevenlabs-js';
import { ProviderError, isAbortError } from '../../errors.js';
import { ClauseTtsStream } from './clause-stream.js';
import { elevenLabsFormat } from './elevenlabs-ws.js';
import type { TtsCapabilities, TtsOptions, TtsProvider, TtsStream } from './types.js';

const PROVIDER = 'elevenlabs';

export class ElevenLabsHttpTts implements TtsProvider {
  readonly name = 'elevenlabs-http';
  readonly capabilities: TtsCapabilities = { streamingInput: false, alignment: false };
  private readonly client: ElevenLabsClient;

  constructor(
    private readonly opts: TtsOptions & { voiceSettings?: Record<string, unknown>; timeoutMs?: number },
  ) {
    // maxRetries 0: on the hot path a retry doubles the caller's wait; the engine retries once itself.
    this.client = new ElevenLabsClient({ apiKey: opts.apiKey ?? 'missing', baseUrl: opts.baseUrl, maxRetries: 0, timeoutInSeconds: (opts.timeoutMs ?? 15_000) / 1000 });
  }

  async prepare(): Promise<void> {
    if (!this.opts.apiKey) throw new ProviderError(PROVIDER, 'ELEVENLABS_API_KEY is not set', 401, false);
  }

  stream(signal: AbortSignal): TtsStream {
    return new ClauseTtsStream((text, s) => this.synthesize(text, s), signal);
  }

  private async *synthesize(text: string, signal: AbortSignal): AsyncIterable<Buffer> {
    if (!this.opts.apiKey) throw new ProviderError(PROVIDER, 'ELEVENLABS_API_KEY is not set', 401, false);
    let body: ReadableStream<Uint8Array>;
    try {
      body = await this.client.textToSpeech.stream(
        this.opts.voiceId,
        {
          text,
          modelId: this.opts.model ?? 'eleven_flash_v2_5',
          outputFormat: elevenLabsFormat(this.opts.format) as never,
        },
        { abortSignal: signal },
      );
    } catch (err) {
      if (signal.aborted || isAbortError(err)) return;
      if (err instanceof ElevenLabsError && err.statusCode) throw ProviderError.fromStatus(PROVIDER, err.statusCode, err.message);
      throw new ProviderError(PROVIDER, err instanceof Error ? err.message : String(err), undefined, true);
    }
    const reader = body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        if (value) yield Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      }
    } catch (err) {
      if (signal.aborted || isAbortError(err)) return;
      throw new ProviderError(PROVIDER, err instanceof Error ? err.message : String(err), undefined, true);
    } finally {
      reader.releaseLock();
    }
  }

  close(): void {}
}
