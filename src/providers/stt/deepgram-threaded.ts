/**
 * Deepgram live STT with its sockets in a worker thread (deepgram-worker.ts runs the real
 * `DeepgramStt` there). Each call's caller audio is one WebSocket message per 20 ms frame, and
 * on the main thread those writes were the largest single cost of a pipeline call
 * (docs/performance.md): every other call's media waited behind them. Here a frame costs the
 * main thread a 160-byte copy; everything written in one tick crosses to the worker as one
 * message at the end of the tick, and the worker does the socket writes and reads the results.
 *
 * Behaviour is `DeepgramStt`'s, event for event: the same options, batching (`canWait`),
 * KeepAlive, Finalize, reconnects and errors. If the worker dies, every stream on it reports an
 * error and closes (the engine apologises and ends those calls); the next stream starts a new
 * worker.
 */
import type { Worker } from 'node:worker_threads';
import { ProviderError } from '../../errors.js';
import { TickFlush, siblingModule, startWorker } from '../../workers/index.js';
import type { DeepgramSttOptions } from './deepgram.js';
import type { SttCapabilities, SttEvent, SttListener, SttStream } from './types.js';

const PROVIDER = 'deepgram';

/** Op kinds in `SttBatch.ops` (records of OP_FIELDS int32s: kind, stream id, audio offset, length). */
export const OP = { audio: 1, audioCanWait: 2, finalize: 3, close: 4, abort: 5 } as const;
export const OP_FIELDS = 4;

/** Main thread → worker: streams to open, then ops in order; audio ops point into `audio`. */
export interface SttBatch {
  opens: Array<{ id: number; opts: DeepgramSttOptions }>;
  ops: Int32Array;
  audio: Uint8Array;
}

export interface WireError {
  provider: string;
  message: string;
  status?: number;
  retryable: boolean;
}

export type WireSttEvent = Exclude<SttEvent, { type: 'error' }> | { type: 'error'; error: WireError };

/** Worker → main thread, batched per worker tick. */
export type SttReply =
  | { id: number; kind: 'connected' }
  | { id: number; kind: 'connect_failed'; error: WireError | null; message: string }
  | { id: number; kind: 'event'; event: WireSttEvent }
  | { id: number; kind: 'close_done' };

export function toWireError(err: ProviderError): WireError {
  const prefix = `${err.provider}: `;
  const message = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
  return { provider: err.provider, message, status: err.status, retryable: err.retryable };
}

function fromWireError(e: WireError): ProviderError {
  return new ProviderError(e.provider, e.message, e.status, e.retryable);
}

interface Pending {
  resolve(): void;
  reject(err: unknown): void;
}

interface StreamSide {
  emit(event: SttEvent): void;
  connected: Pending | null;
  closing: Pending | null;
  /** The worker reported `closed`: nothing more comes but the answers to what is pending. */
  ended: boolean;
}

const WORKER_ENTRY = siblingModule(import.meta.url, 'deepgram-worker');
/** Initial per-tick audio buffer: 200 calls × one 160-byte frame; it grows when needed. */
const INITIAL_AUDIO_BYTES = 32 * 1024;

/**
 * The worker, shared by every stream of the process (`sharedSttThread`); started with the first
 * stream, and again after it dies.
 */
export class SttThread {
  private worker: Worker | null = null;
  private readonly streams = new Map<number, StreamSide>();
  private opens: SttBatch['opens'] = [];
  private ops = new Int32Array(256 * OP_FIELDS);
  private opCount = 0;
  private audio = new Uint8Array(INITIAL_AUDIO_BYTES);
  private audioBytes = 0;
  private readonly flushes = new TickFlush(() => this.flush());
  private nextId = 1;

  newId(): number {
    return this.nextId++;
  }

  /** From the stream's first connect: until it is released it keeps the worker (and process) alive. */
  register(id: number, side: StreamSide): void {
    if (this.streams.has(id)) return;
    if (this.streams.size === 0) this.worker?.ref();
    this.streams.set(id, side);
  }

  /** Forgets a stream once it is over and nothing of it is pending. */
  release(id: number): void {
    const side = this.streams.get(id);
    if (!side || !side.ended || side.connected || side.closing) return;
    this.streams.delete(id);
    // Streams keep the process alive while they exist, as their sockets would on the main thread.
    if (this.streams.size === 0) this.worker?.unref();
  }

  open(id: number, opts: DeepgramSttOptions): void {
    this.ensureWorker();
    this.opens.push({ id, opts });
    this.flushes.schedule();
  }

  audioOp(id: number, frame: Buffer, canWait: boolean): void {
    const need = this.audioBytes + frame.length;
    if (need > this.audio.length) {
      const grown = new Uint8Array(Math.max(need, this.audio.length * 2));
      grown.set(this.audio.subarray(0, this.audioBytes));
      this.audio = grown;
    }
    this.audio.set(frame, this.audioBytes);
    this.op(canWait ? OP.audioCanWait : OP.audio, id, this.audioBytes, frame.length);
    this.audioBytes = need;
  }

  op(kind: number, id: number, offset = 0, length = 0): void {
    if ((this.opCount + 1) * OP_FIELDS > this.ops.length) {
      const grown = new Int32Array(this.ops.length * 2);
      grown.set(this.ops);
      this.ops = grown;
    }
    const at = this.opCount * OP_FIELDS;
    this.ops[at] = kind;
    this.ops[at + 1] = id;
    this.ops[at + 2] = offset;
    this.ops[at + 3] = length;
    this.opCount++;
    this.flushes.schedule();
  }

  private flush(): void {
    const worker = this.worker;
    if (!worker || (this.opens.length === 0 && this.opCount === 0)) return;
    // Copies of what was used: the buffers stay with this thread, sized for the next tick.
    const ops = this.ops.slice(0, this.opCount * OP_FIELDS);
    const audio = this.audio.slice(0, this.audioBytes);
    const batch: SttBatch = { opens: this.opens, ops, audio };
    this.opens = [];
    this.opCount = 0;
    this.audioBytes = 0;
    worker.postMessage(batch, [ops.buffer, audio.buffer]);
  }

  warm(): void {
    this.ensureWorker();
    if (this.streams.size === 0) this.worker?.unref();
  }

  /** Ends the worker: its streams report an error and close, as if it had died. */
  async stop(): Promise<void> {
    await this.worker?.terminate();
  }

  private ensureWorker(): void {
    if (this.worker) return;
    const worker = startWorker(WORKER_ENTRY, null);
    this.worker = worker;
    worker.on('message', (replies: SttReply[]) => {
      for (const r of replies) this.dispatch(r);
    });
    const lost = (reason: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.opens = [];
      this.opCount = 0;
      this.audioBytes = 0;
      for (const side of [...this.streams.values()]) {
        const err = new ProviderError(PROVIDER, `STT worker thread stopped (${reason})`, undefined, true);
        const { connected, closing } = side;
        side.connected = side.closing = null;
        connected?.reject(err);
        if (!side.ended) {
          side.ended = true;
          side.emit({ type: 'error', error: err });
          side.emit({ type: 'closed', reason: 'worker stopped' });
        }
        closing?.resolve();
      }
      this.streams.clear();
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
  }

  private dispatch(r: SttReply): void {
    const side = this.streams.get(r.id);
    if (!side) return;
    switch (r.kind) {
      case 'connected': {
        const p = side.connected;
        side.connected = null;
        p?.resolve();
        break;
      }
      case 'connect_failed': {
        const p = side.connected;
        side.connected = null;
        p?.reject(r.error ? fromWireError(r.error) : new Error(r.message));
        break;
      }
      case 'event':
        if (r.event.type === 'closed') side.ended = true;
        side.emit(r.event.type === 'error' ? { type: 'error', error: fromWireError(r.event.error) } : r.event);
        break;
      case 'close_done': {
        const p = side.closing;
        side.closing = null;
        side.ended = true;
        p?.resolve();
        break;
      }
      default: {
        const never: never = r;
        void never;
      }
    }
    this.release(r.id);
  }
}

let shared: SttThread | null = null;

export function sharedSttThread(): SttThread {
  shared ??= new SttThread();
  return shared;
}

/**
 * Starts the STT thread ahead of the first call (process start-up), so that call does not wait
 * for the thread to boot. Idle, the thread does not keep the process alive.
 */
export function startSttThread(): void {
  sharedSttThread().warm();
}

export class ThreadedDeepgramStt implements SttStream {
  readonly capabilities: SttCapabilities = { streaming: true, interim: true };
  private readonly listeners: SttListener[] = [];
  private readonly thread: SttThread;
  private readonly side: StreamSide;
  private readonly id: number;
  /** connect() was called: the worker knows this stream. */
  private opened = false;
  private closePromise: Promise<void> | null = null;
  private connecting: Promise<void> | null = null;

  constructor(
    private readonly opts: DeepgramSttOptions,
    thread: SttThread = sharedSttThread(),
  ) {
    this.thread = thread;
    this.side = {
      emit: (event) => {
        for (const l of this.listeners) l(event);
      },
      connected: null,
      closing: null,
      ended: false,
    };
    this.id = this.thread.newId();
  }

  onEvent(listener: SttListener): void {
    this.listeners.push(listener);
  }

  connect(signal: AbortSignal): Promise<void> {
    if (this.closePromise) return Promise.reject(new ProviderError(PROVIDER, 'stream closed', undefined, false));
    if (signal.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    // Asked again while the handshake runs: the same answer, not a second socket.
    if (this.connecting) return this.connecting;
    const p = new Promise<void>((resolve, reject) => {
      const onAbort = () => this.thread.op(OP.abort, this.id);
      signal.addEventListener('abort', onAbort, { once: true });
      this.side.connected = {
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal.removeEventListener('abort', onAbort);
          reject(signal.aborted ? (signal.reason ?? err) : err);
        },
      };
      this.opened = true;
      this.thread.register(this.id, this.side);
      this.thread.open(this.id, this.opts);
    });
    this.connecting = p;
    const done = () => {
      if (this.connecting === p) this.connecting = null;
    };
    p.then(done, done);
    return p;
  }

  write(frame: Buffer, canWait = false): void {
    if (this.closePromise) return;
    this.thread.audioOp(this.id, frame, canWait);
  }

  speechStarted(): void {
    // Deepgram listens continuously; nothing to start.
  }

  finalize(): void {
    if (!this.closePromise) this.thread.op(OP.finalize, this.id);
  }

  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    if (!this.opened || this.side.ended) {
      if (!this.side.ended) {
        this.side.ended = true;
        this.side.emit({ type: 'closed', reason: 'never opened' });
      }
      this.thread.release(this.id);
      return (this.closePromise = Promise.resolve());
    }
    this.closePromise = new Promise<void>((resolve) => {
      this.side.closing = { resolve, reject: resolve };
      this.thread.op(OP.close, this.id);
    });
    return this.closePromise;
  }
}
