/**
 * The life of one Deepgram live socket, shared by `/v1/listen` (deepgram.ts) and Flux's
 * `/v2/listen` (deepgram-flux.ts): both are @deepgram/sdk 5.13 sockets with the same methods
 * (`connect`, `waitForOpen`, `sendMedia`, `sendCloseStream`, `close`) and the same events, and
 * differ only in their query, their control messages and what their messages mean.
 *
 * What lives here: the handshake within a deadline (abortable), the SDK's own reconnects told
 * apart from the end of the socket, silent frames batched into one message (`write(frame,
 * canWait)`, engine/caller-silence.ts), and the close (CloseStream, then at most 1 s for the
 * last results).
 */
import { ProviderError } from '../../errors.js';
import { FrameBatch, MAX_BATCH_FRAMES } from '../../media/index.js';
import type { SttEvent } from './types.js';

const WS_OPEN = 1;
/** After CloseStream Deepgram sends its last results, then closes; we wait this long for it. */
const CLOSE_WAIT_MS = 1000;

/** The part of the SDK's v1 and v2 sockets used here (structural: both classes fit). */
export interface DeepgramSocketLike {
  readonly readyState: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: 'open' | 'message' | 'error' | 'close', listener: (arg: any) => void): void;
  connect(): unknown;
  waitForOpen(): Promise<unknown>;
  sendMedia(audio: Buffer): void;
  sendCloseStream(message: { type: 'CloseStream' }): void;
  close(): void;
}

export interface DeepgramLinkOptions {
  /** Provider name in errors and metrics ('deepgram', 'deepgram-flux'). */
  provider: string;
  /** What the socket is called in a failed-handshake message ("live socket", "Flux socket"). */
  name: string;
  /** The SDK's reconnect attempts: more unexpected closes than this end the socket for good. */
  reconnectAttempts: number;
  connectTimeoutMs: number;
  emit(event: SttEvent): void;
  onMessage(message: Record<string, unknown>): void;
  /** Runs once when the socket is finished for good (before `closed` is emitted). */
  onFinish?(): void;
}

export class DeepgramLink<S extends DeepgramSocketLike> {
  socket: S | null = null;
  private opened = false;
  private closing = false;
  private closedEmitted = false;
  private unexpectedCloses = 0;
  /** Audio written while the socket is down (reconnecting) is dropped and counted. */
  droppedFrames = 0;
  /** Silent frames waiting to share a message. */
  private readonly held = new FrameBatch();

  constructor(private readonly opts: DeepgramLinkOptions) {}

  get isOpen(): boolean {
    return this.socket !== null && !this.closing && this.socket.readyState === WS_OPEN;
  }

  /** Wires the socket's events, connects, and resolves once it is open (or throws a ProviderError). */
  async open(socket: S, signal: AbortSignal): Promise<void> {
    const { emit, provider } = this.opts;
    this.socket = socket;
    socket.on('message', (m) => this.opts.onMessage(m as Record<string, unknown>));
    socket.on('open', () => {
      if (this.opened) emit({ type: 'reconnected' });
      this.opened = true;
    });
    socket.on('error', (err?: { message?: string }) => {
      if (this.closing) return;
      emit({ type: 'error', error: new ProviderError(provider, err?.message ?? 'socket error', undefined, true) });
    });
    socket.on('close', (ev: { code: number }) => {
      // The SDK reconnects on its own unless the close was normal or the attempts ran out;
      // we only report the end when the underlying socket is finished for good.
      if (this.closing || ev.code === 1000) return this.finish(`closed ${ev.code}`);
      this.unexpectedCloses++;
      if (this.unexpectedCloses > this.opts.reconnectAttempts) {
        emit({ type: 'error', error: new ProviderError(provider, `socket closed (${ev.code}) and did not come back`, undefined, true) });
        this.finish(`dropped ${ev.code}`);
      }
    });
    socket.connect();
    try {
      await withTimeout(socket.waitForOpen(), this.opts.connectTimeoutMs, signal);
    } catch (err) {
      this.closing = true;
      socket.close();
      if (signal.aborted) throw err;
      throw new ProviderError(provider, `could not open the ${this.opts.name}: ${describe(err)}`, undefined, true);
    }
    this.opened = true;
  }

  /** Sends (or holds, `canWait`) one frame; false when the socket is down and the frame was dropped. */
  write(frame: Buffer, canWait: boolean): boolean {
    const s = this.socket;
    if (!s || !this.isOpen) {
      // What was held is lost with the socket, like this frame.
      this.droppedFrames += 1 + this.held.frames;
      this.held.drain();
      return false;
    }
    if (!canWait && this.held.frames === 0) {
      s.sendMedia(frame);
      return true;
    }
    this.held.add(frame);
    if (canWait && this.held.frames < MAX_BATCH_FRAMES) return true;
    this.sendHeld();
    return true;
  }

  /** Held frames go out before anything that depends on them (Finalize, CloseStream). */
  sendHeld(): void {
    if (this.held.frames === 0) return;
    const s = this.socket;
    // A copy: ws may queue what it is given, and the batch's memory is reused.
    const audio = Buffer.from(this.held.drain());
    if (s && s.readyState === WS_OPEN) s.sendMedia(audio);
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
        const t = setTimeout(resolve, CLOSE_WAIT_MS);
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
    this.opts.onFinish?.();
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    this.opts.emit({ type: 'closed', reason });
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
