/**
 * Deepgram Flux (`/v2/listen`, model `flux-general-en`) on `@deepgram/sdk` 5.13 (`listen.v2`):
 * speech recognition with its own end-of-turn model. It reports `TurnInfo` events — StartOfTurn,
 * Update, EagerEndOfTurn, TurnResumed, EndOfTurn — which become `turn` events: the engine starts
 * a speculative reply on EagerEndOfTurn, drops it on TurnResumed and commits on EndOfTurn
 * (whose transcript equals the EagerEndOfTurn's unless TurnResumed came between, docs/flux/state).
 *
 * Audio: Flux takes raw linear16, linear32, mulaw, alaw and opus at 8, 16, 24, 44.1 or 48 kHz
 * (Deepgram changelog 2025-10-16), so phone μ-law at 8 kHz goes as it is — no conversion is the
 * cheapest exact one — and browsers' linear16 at 16 kHz too. Fact sources: test/fakes/deepgram-flux.ts.
 */
import { DeepgramClient } from '@deepgram/sdk';
import { ProviderError } from '../../errors.js';
import { FrameBatch, MAX_BATCH_FRAMES } from '../../media/index.js';
import type { SttCapabilities, SttEvent, SttListener, SttStream, SttStreamOptions } from './types.js';

export interface DeepgramFluxOptions extends SttStreamOptions {
  /** `config.providers.deepgram.url` (ws:// or https://). */
  baseUrl: string;
  apiKey?: string;
  /**
   * Confidence for EagerEndOfTurn (0.3–0.9; unset disables eager events). 0.5: the middle of
   * Deepgram's range, which their configuration guide calls a balance of latency and false starts.
   */
  eagerEotThreshold?: number;
  /** Confidence for EndOfTurn (0.5–0.9, Deepgram's default 0.7). */
  eotThreshold?: number;
  /**
   * Silence after which a turn ends whatever the confidence (500–10000 ms). The engine passes the
   * agent's `silenceMs`: the wait after a turn that does not sound finished.
   */
  eotTimeoutMs?: number;
  /** See DeepgramSttOptions: 2 reconnects, a 5 s handshake. */
  reconnectAttempts?: number;
  connectTimeoutMs?: number;
}

type V2Socket = Awaited<ReturnType<DeepgramClient['listen']['v2']['connect']>>;

const PROVIDER = 'deepgram-flux';
const WS_OPEN = 1;
export const FLUX_MODEL = 'flux-general-en';
/** Flux's documented ranges (docs/flux/configuration). */
const EAGER_RANGE = [0.3, 0.9] as const;
const EOT_RANGE = [0.5, 0.9] as const;
const TIMEOUT_RANGE = [500, 10_000] as const;

const clamp = (x: number, [lo, hi]: readonly [number, number]) => Math.min(hi, Math.max(lo, x));

export class DeepgramFluxStt implements SttStream {
  readonly capabilities: SttCapabilities = { streaming: true, interim: true, turns: true };
  private readonly listeners: SttListener[] = [];
  private socket: V2Socket | null = null;
  private opened = false;
  private closing = false;
  private closedEmitted = false;
  private unexpectedCloses = 0;
  droppedFrames = 0;
  private readonly held = new FrameBatch();

  constructor(private readonly opts: DeepgramFluxOptions) {}

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
    const socket = await client.listen.v2.connect({
      model: this.opts.model ?? FLUX_MODEL,
      encoding: phone ? 'mulaw' : 'linear16',
      sample_rate: this.opts.format.sampleRate,
      eager_eot_threshold: String(clamp(this.opts.eagerEotThreshold ?? 0.5, EAGER_RANGE)),
      eot_threshold: String(clamp(this.opts.eotThreshold ?? 0.7, EOT_RANGE)),
      eot_timeout_ms: String(Math.round(clamp(this.opts.eotTimeoutMs ?? 5000, TIMEOUT_RANGE))),
      Authorization: `Token ${this.opts.apiKey}`,
      reconnectAttempts: this.opts.reconnectAttempts ?? 2,
      connectionTimeoutInSeconds: (this.opts.connectTimeoutMs ?? 5000) / 1000,
      abortSignal: signal,
    });
    this.socket = socket;
    socket.on('message', (m) => this.onMessage(m as unknown as Record<string, unknown>));
    socket.on('open', () => {
      if (this.opened) this.emit({ type: 'reconnected' });
      this.opened = true;
    });
    socket.on('error', (err) => {
      if (this.closing) return;
      this.emit({ type: 'error', error: new ProviderError(PROVIDER, err?.message ?? 'socket error', undefined, true) });
    });
    socket.on('close', (ev) => {
      if (this.closing || ev.code === 1000) return this.finish(`closed ${ev.code}`);
      this.unexpectedCloses++;
      if (this.unexpectedCloses > (this.opts.reconnectAttempts ?? 2)) {
        this.emit({ type: 'error', error: new ProviderError(PROVIDER, `socket closed (${ev.code}) and did not come back`, undefined, true) });
        this.finish(`dropped ${ev.code}`);
      }
    });
    socket.connect();
    const timeoutMs = this.opts.connectTimeoutMs ?? 5000;
    try {
      await new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason ?? new Error('aborted'));
        const t = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
        const onAbort = () => reject(signal.reason ?? new Error('aborted'));
        signal.addEventListener('abort', onAbort, { once: true });
        socket.waitForOpen().then(
          () => resolve(),
          (e: unknown) => reject(e instanceof Error ? e : new Error('connection failed')),
        ).finally(() => {
          clearTimeout(t);
          signal.removeEventListener('abort', onAbort);
        });
      });
    } catch (err) {
      this.closing = true;
      socket.close();
      if (signal.aborted) throw err;
      throw new ProviderError(PROVIDER, `could not open the Flux socket: ${err instanceof Error ? err.message : String(err)}`, undefined, true);
    }
    this.opened = true;
  }

  write(frame: Buffer, canWait = false): void {
    const s = this.socket;
    if (!s || this.closing || s.readyState !== WS_OPEN) {
      this.droppedFrames += 1 + this.held.frames;
      this.held.drain();
      return;
    }
    if (!canWait && this.held.frames === 0) return s.sendMedia(frame);
    this.held.add(frame);
    if (canWait && this.held.frames < MAX_BATCH_FRAMES) return;
    this.sendHeld();
  }

  private sendHeld(): void {
    if (this.held.frames === 0) return;
    const audio = Buffer.from(this.held.drain()); // a copy: the batch's memory is reused
    const s = this.socket;
    if (s && s.readyState === WS_OPEN) s.sendMedia(audio);
  }

  speechStarted(): void {
    // Flux listens continuously and finds turns itself.
  }

  finalize(): void {
    // Flux decides the end of turn (capabilities.turns); ForceEndTurn needs server-side
    // enablement (SDK note), so the local VAD's pause only flushes held audio.
    this.sendHeld();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const s = this.socket;
    if (!s) return this.finish('never opened');
    if (s.readyState === WS_OPEN) {
      this.sendHeld();
      try {
        s.sendCloseStream({ type: 'CloseStream' });
      } catch {
        /* already closing */
      }
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
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    this.emit({ type: 'closed', reason });
  }

  private onMessage(m: Record<string, unknown>): void {
    if (m.type === 'Error') {
      this.emit({ type: 'error', error: new ProviderError(PROVIDER, `${String(m.code ?? 'error')}: ${String(m.description ?? '')}`, undefined, true) });
      return;
    }
    if (m.type !== 'TurnInfo') return; // Connected, ConfigureSuccess/Failure
    const text = String(m.transcript ?? '').trim();
    switch (m.event) {
      case 'StartOfTurn':
        this.emit({ type: 'turn', event: 'start', text });
        if (text) this.emit({ type: 'partial', text });
        break;
      case 'Update':
        if (text) this.emit({ type: 'partial', text });
        break;
      case 'EagerEndOfTurn':
        this.emit({ type: 'turn', event: 'eager_end', text });
        break;
      case 'TurnResumed':
        this.emit({ type: 'turn', event: 'resumed', text });
        if (text) this.emit({ type: 'partial', text });
        break;
      case 'EndOfTurn':
        this.emit({ type: 'turn', event: 'end', text });
        break;
      default:
        break; // an event newer than this client: the docs call the set open
    }
  }
}
