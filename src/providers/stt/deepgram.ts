/**
 * Deepgram live STT (PROTOCOLS.md §3) on `@deepgram/sdk` 5.13 (`listen.v1.connect`).
 * Phone audio goes through untouched (encoding=mulaw, sample_rate=8000); browsers send
 * linear16 at 16 kHz. One socket per call, opened at prepare() time, kept alive while no
 * audio flows, finalised when the local VAD ends a turn, closed with CloseStream.
 */
import { DeepgramClient } from '@deepgram/sdk';
import { ProviderError } from '../../errors.js';
import { FrameBatch, MAX_BATCH_FRAMES } from '../../media/index.js';
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
const WS_OPEN = 1;

export class DeepgramStt implements SttStream {
  readonly capabilities: SttCapabilities = { streaming: true, interim: true };
  private readonly listeners: SttListener[] = [];
  private socket: V1Socket | null = null;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private lastAudioAt = 0;
  private opened = false;
  private closing = false;
  private closedEmitted = false;
  private unexpectedCloses = 0;
  /** Audio written while the socket is down (reconnecting) is dropped and counted. */
  droppedFrames = 0;
  /** Silent frames waiting to share a message (`write(frame, canWait)`). */
  private readonly held = new FrameBatch();

  constructor(private readonly opts: DeepgramSttOptions) {}

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
    this.socket = socket;
    socket.on('message', (m) => this.onMessage(m as unknown as Record<string, unknown>));
    socket.on('open', () => {
      if (this.opened) {
        this.emit({ type: 'reconnected' });
      }
      this.opened = true;
    });
    socket.on('error', (err) => {
      if (this.closing) return;
      this.emit({ type: 'error', error: new ProviderError(PROVIDER, err?.message ?? 'socket error', undefined, true) });
    });
    socket.on('close', (ev) => {
      // The SDK reconnects on its own unless the close was normal or the attempts ran out;
      // we only report the end when the underlying socket is finished for good.
      if (this.closing || ev.code === 1000) return this.finish(`closed ${ev.code}`);
      this.unexpectedCloses++;
      if (this.unexpectedCloses > (this.opts.reconnectAttempts ?? 2)) {
        this.emit({ type: 'error', error: new ProviderError(PROVIDER, `socket closed (${ev.code}) and did not come back`, undefined, true) });
        this.finish(`dropped ${ev.code}`);
      }
    });
    socket.connect();
    try {
      await withTimeout(socket.waitForOpen(), this.opts.connectTimeoutMs ?? 5000, signal);
    } catch (err) {
      this.closing = true;
      socket.close();
      if (signal.aborted) throw err;
      throw new ProviderError(PROVIDER, `could not open the live socket: ${describe(err)}`, undefined, true);
    }
    this.opened = true;
    this.lastAudioAt = Date.now();
    const every = this.opts.keepAliveMs ?? 4000;
    this.keepAliveTimer = setInterval(() => {
      if (Date.now() - this.lastAudioAt >= every) this.sendControl('KeepAlive');
    }, every);
    this.keepAliveTimer.unref?.();
  }

  write(frame: Buffer, canWait = false): void {
    const s = this.socket;
    if (!s || this.closing || s.readyState !== WS_OPEN) {
      // What was held is lost with the socket, like this frame.
      this.droppedFrames += 1 + this.held.frames;
      this.held.drain();
      return;
    }
    this.lastAudioAt = Date.now();
    if (!canWait && this.held.frames === 0) {
      s.sendMedia(frame);
      return;
    }
    this.held.add(frame);
    if (canWait && this.held.frames < MAX_BATCH_FRAMES) return;
    this.sendHeld();
  }

  /** Held frames go out before anything that depends on them (Finalize, CloseStream). */
  private sendHeld(): void {
    if (this.held.frames === 0) return;
    const s = this.socket;
    // A copy: ws may queue what it is given, and the batch's memory is reused.
    const audio = Buffer.from(this.held.drain());
    if (s && s.readyState === WS_OPEN) s.sendMedia(audio);
  }

  speechStarted(): void {
    // Deepgram listens continuously; nothing to start.
  }

  finalize(): void {
    this.sendHeld();
    this.sendControl('Finalize');
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.keepAliveTimer);
    const s = this.socket;
    if (!s) return this.finish('never opened');
    if (s.readyState === WS_OPEN) {
      this.sendHeld();
      try {
        s.sendCloseStream({ type: 'CloseStream' });
      } catch {
        /* already closing */
      }
      // Deepgram sends the last Results and Metadata, then closes; don't wait on it forever.
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        s.on('close', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    s.close();
    this.finish('closed');
  }

  private finish(reason: string): void {
    clearInterval(this.keepAliveTimer);
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    this.emit({ type: 'closed', reason });
  }

  private sendControl(type: 'KeepAlive' | 'Finalize'): void {
    const s = this.socket;
    if (!s || s.readyState !== WS_OPEN) return;
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

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  const e = err as { message?: string; error?: { message?: string } } | undefined;
  return e?.error?.message ?? e?.message ?? 'connection failed';
}

function withTimeout<T>(p: Promise<T>, ms: number, signal: AbortSignal): Promise<T> {
  // Aborted while the socket was being set up: an 'abort' listener would never hear it.
  if (signal.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason ?? new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        clearTimeout(t);
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
