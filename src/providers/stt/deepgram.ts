/**
 * Deepgram live STT (PROTOCOLS.md §3) on `@deepgram/sdk` 5.13 (`listen.v1.connect`).
 * Phone audio goes through untouched (encoding=mulaw, sample_rate=8000); browsers send
 * linear16 at 16 kHz. One socket per call, opened at prepare() time, kept alive while no
 * audio flows, finalised when the local VAD ends a turn, closed with CloseStream.
 */
import { DeepgramClient } from '@deepgram/sdk';
import { ProviderError } from '../../errors.js';
import { DeepgramLink } from './deepgram-socket.js';
import type { SttCapabilities, SttEvent, SttListener, SttStream, SttStreamOptions } from './types.js';

export interface DeepgramSttOptions extends SttStreamOptions {
  /** `config.providers.deepgram.url`, e.g. wss://api.deepgram.com (http(s) works too). */
  baseUrl: string;
  apiKey?: string;
  /** Gap after the last word that yields UtteranceEnd. 1000 ms: the value Deepgram's docs use (§3.1). */
  utteranceEndMs?: number;
  /**
   * KeepAlive cadence while no audio flows. Deepgram closes a socket that gets neither audio nor
   * KeepAlive for 10 s (NET-0001, §3.3) and advises one every 3–5 s: 4 s leaves a margin.
   */
  keepAliveMs?: number;
  /**
   * Reconnects after an unexpected close. 2: one outage gets a second chance without the SDK's
   * default of 30 attempts keeping a dead call busy for minutes.
   */
  reconnectAttempts?: number;
  /** Time allowed for the handshake. 5 s: a call waiting longer has already failed its greeting. */
  connectTimeoutMs?: number;
}

type V1Socket = Awaited<ReturnType<DeepgramClient['listen']['v1']['connect']>>;

const PROVIDER = 'deepgram';

export class DeepgramStt implements SttStream {
  readonly capabilities: SttCapabilities = { streaming: true, interim: true };
  private readonly listeners: SttListener[] = [];
  private readonly link: DeepgramLink<V1Socket>;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private lastAudioAt = 0;

  constructor(private readonly opts: DeepgramSttOptions) {
    this.link = new DeepgramLink<V1Socket>({
      provider: PROVIDER,
      name: 'live socket',
      reconnectAttempts: opts.reconnectAttempts ?? 2,
      connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
      emit: (e) => this.emit(e),
      onMessage: (m) => this.onMessage(m),
      onFinish: () => clearInterval(this.keepAliveTimer),
    });
  }

  /** Audio written while the socket is down (reconnecting) is dropped and counted. */
  get droppedFrames(): number {
    return this.link.droppedFrames;
  }

  onEvent(listener: SttListener): void {
    this.listeners.push(listener);
  }

  private emit(event: SttEvent): void {
    for (const l of this.listeners) l(event);
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (!this.opts.apiKey) throw new ProviderError(PROVIDER, 'DEEPGRAM_API_KEY is not set', 401, false);
    const client = new DeepgramClient({ apiKey: this.opts.apiKey, baseUrl: this.opts.baseUrl });
    const phone = this.opts.format.encoding === 'mulaw';
    const socket = await client.listen.v1.connect({
      model: (this.opts.model ?? 'nova-3') as never,
      language: this.opts.language,
      encoding: phone ? 'mulaw' : 'linear16',
      sample_rate: this.opts.format.sampleRate,
      channels: 1,
      interim_results: 'true',
      // 300 ms: Deepgram's own example value (§3.1); the engine's VAD + silenceMs decide the turn.
      endpointing: this.opts.endpointingMs ?? 300,
      utterance_end_ms: this.opts.utteranceEndMs ?? 1000,
      vad_events: 'true',
      smart_format: 'true',
      punctuate: 'true',
      Authorization: `Token ${this.opts.apiKey}`,
      reconnectAttempts: this.opts.reconnectAttempts ?? 2,
      connectionTimeoutInSeconds: (this.opts.connectTimeoutMs ?? 5000) / 1000,
      abortSignal: signal,
    } as Parameters<DeepgramClient['listen']['v1']['connect']>[0]);
    await this.link.open(socket, signal);
    this.lastAudioAt = Date.now();
    const every = this.opts.keepAliveMs ?? 4000;
    this.keepAliveTimer = setInterval(() => {
      if (Date.now() - this.lastAudioAt >= every) this.sendControl('KeepAlive');
    }, every);
    this.keepAliveTimer.unref?.();
  }

  write(frame: Buffer, canWait = false): void {
    if (this.link.write(frame, canWait)) this.lastAudioAt = Date.now();
  }

  speechStarted(): void {
    // Deepgram listens continuously; nothing to start.
  }

  finalize(): void {
    this.link.sendHeld();
    this.sendControl('Finalize');
  }

  async close(): Promise<void> {
    clearInterval(this.keepAliveTimer);
    await this.link.close();
  }

  private sendControl(type: 'KeepAlive' | 'Finalize'): void {
    const s = this.link.socket;
    if (!s || !this.link.isOpen) return;
    if (type === 'KeepAlive') s.sendKeepAlive({ type: 'KeepAlive' });
    else s.sendFinalize({ type: 'Finalize' });
  }

  private onMessage(m: Record<string, unknown>): void {
    switch (m.type) {
      case 'Results': {
        const alt = (m.channel as { alternatives?: Array<{ transcript?: string }> } | undefined)?.alternatives?.[0];
        const text = (alt?.transcript ?? '').trim();
        if (m.is_final) {
          this.emit({ type: 'final', text, speechFinal: m.speech_final === true, fromFinalize: m.from_finalize === true });
        } else if (text) {
          this.emit({ type: 'partial', text });
        }
        break;
      }
      case 'UtteranceEnd':
        this.emit({ type: 'utterance_end' });
        break;
      case 'SpeechStarted':
        this.emit({ type: 'speech_started' });
        break;
      case 'Error':
        this.emit({ type: 'error', error: new ProviderError(PROVIDER, String(m.description ?? m.message ?? 'error'), undefined, true) });
        break;
      default:
        break; // Metadata and anything newer: nothing to do
    }
  }
}
