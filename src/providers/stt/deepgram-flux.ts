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
import { DeepgramLink } from './deepgram-socket.js';
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
export const FLUX_MODEL = 'flux-general-en';
/** Flux's documented ranges (docs/flux/configuration). */
const EAGER_RANGE = [0.3, 0.9] as const;
const EOT_RANGE = [0.5, 0.9] as const;
const TIMEOUT_RANGE = [500, 10_000] as const;

const clamp = (x: number, [lo, hi]: readonly [number, number]) => Math.min(hi, Math.max(lo, x));

export class DeepgramFluxStt implements SttStream {
  readonly capabilities: SttCapabilities = { streaming: true, interim: true, turns: true };
  private readonly listeners: SttListener[] = [];
  private readonly link: DeepgramLink<V2Socket>;

  constructor(private readonly opts: DeepgramFluxOptions) {
    this.link = new DeepgramLink<V2Socket>({
      provider: PROVIDER,
      name: 'Flux socket',
      reconnectAttempts: opts.reconnectAttempts ?? 2,
      connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
      emit: (e) => this.emit(e),
      onMessage: (m) => this.onMessage(m),
    });
  }

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
    await this.link.open(socket, signal);
  }

  write(frame: Buffer, canWait = false): void {
    this.link.write(frame, canWait);
  }

  speechStarted(): void {
    // Flux listens continuously and finds turns itself.
  }

  finalize(): void {
    // Flux decides the end of turn (capabilities.turns); ForceEndTurn needs server-side
    // enablement (SDK note), so the local VAD's pause only flushes held audio.
    this.link.sendHeld();
  }

  close(): Promise<void> {
    return this.link.close();
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
