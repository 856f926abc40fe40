/**
 * OpenAI-compatible STT (`POST /v1/audio/transcriptions`: OpenAI, whisper.cpp server, speaches,
 * faster-whisper servers) on the `openai` SDK. These servers transcribe whole files, so this is
 * the non-streaming wrapper STYLE.md asks for: the engine's local VAD cuts the utterance
 * (`speechStarted` → buffer, `finalize` → post a WAV of it), and the text comes back as one
 * `final` with `speechFinal` and `fromFinalize` set. No partials, no provider endpointing.
 */
import OpenAI, { APIError, toFile } from 'openai';
import { ProviderError, isAbortError } from '../../errors.js';
import { ULAW_DECODE_TABLE, ulawDecode, wavHeader } from '../../media/index.js';
import type { SttCapabilities, SttEvent, SttListener, SttStream, SttStreamOptions } from './types.js';

export interface OpenAiCompatibleSttOptions extends SttStreamOptions {
  /** `config.providers.openaiCompatible.sttBaseUrl`, including `/v1`. */
  baseUrl: string;
  apiKey?: string;
  /**
   * Audio kept from before the VAD confirmed speech. The VAD fires `speech_start` after
   * DEFAULT_MIN_SPEECH_MS (100 ms) of speech plus up to one 64 ms window of analysis, so the
   * first syllable is already in the past; 400 ms covers that with room for a soft onset.
   */
  preRollMs?: number;
  /** Longest utterance posted (audio beyond it is dropped): 60 s keeps one request bounded. */
  maxUtteranceMs?: number;
  /** Per request. 15 s: a transcription slower than that has lost the caller anyway. */
  timeoutMs?: number;
}

/** OpenAI's model name; whisper.cpp ignores it, speaches maps it. */
export const DEFAULT_STT_MODEL = 'whisper-1';
const PROVIDER = 'openai-compatible';

export class OpenAiCompatibleStt implements SttStream {
  readonly capabilities: SttCapabilities = { streaming: false, interim: false };
  private readonly listeners: SttListener[] = [];
  private readonly client: OpenAI;
  private readonly rate: number;
  private readonly maxSamples: number;
  /**
   * Recent audio while nobody speaks (a ring, preallocated) and the utterance being collected
   * (grown by doubling): the audio path decodes into them without per-frame allocations.
   */
  private readonly ring: Int16Array;
  private ringPos = 0;
  private ringFill = 0;
  private utterance = new Int16Array(0);
  private utteranceLength = 0;
  private collecting = false;
  /** Results are emitted in utterance order even if a later request answers first. */
  private queue: Promise<void> = Promise.resolve();
  private readonly controller = new AbortController();
  private closed = false;

  constructor(private readonly opts: OpenAiCompatibleSttOptions) {
    this.client = new OpenAI({ apiKey: opts.apiKey ?? 'none', baseURL: opts.baseUrl, maxRetries: 0, timeout: opts.timeoutMs ?? 15_000 });
    this.rate = opts.format.sampleRate;
    this.ring = new Int16Array(Math.round(((opts.preRollMs ?? 400) * this.rate) / 1000));
    this.maxSamples = Math.round(((opts.maxUtteranceMs ?? 60_000) * this.rate) / 1000);
  }

  onEvent(listener: SttListener): void {
    this.listeners.push(listener);
  }

  private emit(event: SttEvent): void {
    for (const l of this.listeners) l(event);
  }

  /** Nothing to open (one HTTP request per utterance); the call's signal cancels requests. */
  async connect(signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw signal.reason ?? new Error('aborted');
    signal.addEventListener('abort', () => this.controller.abort(), { once: true });
  }

  write(frame: Buffer): void {
    if (this.closed) return;
    const mulaw = this.opts.format.encoding === 'mulaw';
    const n = mulaw ? frame.length : frame.length >> 1;
    if (this.collecting) {
      if (this.utteranceLength + n > this.maxSamples) return;
      this.grow(this.utteranceLength + n);
      const dst = this.utterance.subarray(this.utteranceLength, this.utteranceLength + n);
      if (mulaw) ulawDecode(frame, dst);
      else for (let i = 0; i < n; i++) dst[i] = frame.readInt16LE(2 * i);
      this.utteranceLength += n;
      return;
    }
    const ring = this.ring;
    if (ring.length === 0) return;
    for (let i = 0; i < n; i++) {
      ring[this.ringPos] = mulaw ? ULAW_DECODE_TABLE[frame[i]!]! : frame.readInt16LE(2 * i);
      this.ringPos = (this.ringPos + 1) % ring.length;
    }
    this.ringFill = Math.min(ring.length, this.ringFill + n);
  }

  speechStarted(): void {
    if (this.closed || this.collecting) return; // speech resumed before the turn ended: same utterance
    this.collecting = true;
    // The pre-roll, oldest sample first, opens the utterance.
    const ring = this.ring;
    this.grow(this.ringFill);
    const start = (this.ringPos - this.ringFill + ring.length) % Math.max(1, ring.length);
    for (let i = 0; i < this.ringFill; i++) this.utterance[i] = ring[(start + i) % ring.length]!;
    this.utteranceLength = this.ringFill;
    this.ringFill = 0;
  }

  finalize(): void {
    const length = this.utteranceLength;
    const was = this.collecting;
    this.collecting = false;
    this.utteranceLength = 0;
    if (this.closed) return;
    if (!was || length === 0) {
      // Nothing buffered (a stray finalize): say so at once rather than let the turn wait.
      this.emit({ type: 'final', text: '', speechFinal: true, fromFinalize: true });
      return;
    }
    const request = this.transcribe(toWav(this.utterance.subarray(0, length), this.rate));
    this.queue = this.queue.then(async () => {
      const events = await request;
      if (events && !this.closed) this.dispatch(events);
    });
  }

  private grow(samples: number): void {
    if (this.utterance.length >= samples) return;
    const next = new Int16Array(Math.max(samples, this.utterance.length * 2, this.rate));
    next.set(this.utterance.subarray(0, this.utteranceLength));
    this.utterance = next;
  }

  private dispatch(events: SttEvent[]): void {
    for (const e of events) this.emit(e);
  }

  /** One utterance → the events to emit (in order, once earlier utterances are out). */
  private async transcribe(wav: Buffer): Promise<SttEvent[] | null> {
    try {
      const res = await this.client.audio.transcriptions.create(
        {
          file: await toFile(wav, 'utterance.wav', { type: 'audio/wav' }),
          model: this.opts.model ?? DEFAULT_STT_MODEL,
          response_format: 'json',
          // ISO-639-1 ("en"); servers reject region tags like "en-US".
          ...(this.opts.language ? { language: this.opts.language.split('-')[0]!.toLowerCase() } : {}),
        },
        { signal: this.controller.signal },
      );
      return [{ type: 'final', text: (res.text ?? '').trim(), speechFinal: true, fromFinalize: true }];
    } catch (err) {
      if (this.controller.signal.aborted || isAbortError(err)) return null;
      const error = toProviderError(err);
      // A refusal (bad key, unknown model) repeats on every turn: the stream is over. A blip
      // loses this utterance only; an empty final lets the turn end without waiting.
      if (!error.retryable) return [{ type: 'error', error }, { type: 'closed', reason: `refused ${error.status ?? ''}`.trim() }];
      return [{ type: 'error', error }, { type: 'final', text: '', speechFinal: true, fromFinalize: true }];
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.controller.abort();
    this.collecting = false;
    this.utterance = new Int16Array(0);
    this.emit({ type: 'closed', reason: 'closed' });
  }
}

/** PCM16 mono WAV of the utterance: every server accepts it and resamples as it needs. */
function toWav(pcm: Int16Array, sampleRate: number): Buffer {
  const out = Buffer.allocUnsafe(44 + pcm.length * 2);
  wavHeader({ sampleRate, channels: 1, bitsPerSample: 16, dataBytes: pcm.length * 2 }).copy(out, 0);
  for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i]!, 44 + 2 * i);
  return out;
}

function toProviderError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof APIError && typeof err.status === 'number') return ProviderError.fromStatus(PROVIDER, err.status, err.message);
  return new ProviderError(PROVIDER, err instanceof Error ? err.message : String(err), undefined, true);
}
