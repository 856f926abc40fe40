/**
 * One Cartesia TTS WebSocket (the SDK's `TTSWS`) and the contexts streaming on it: routes each
 * server event to its context, turns a refused handshake into a ProviderError with its status,
 * and tells the contexts and the provider when the socket dies (the SDK itself does not).
 */
import net from 'node:net';
import { ProviderError } from '../../errors.js';
import { TTSWS, type CartesiaType, type TtsWsType } from './cartesia-sdk.js';

const PROVIDER = 'cartesia';

export interface CartesiaEvent {
  type?: string;
  context_id?: string;
  audio?: Uint8Array;
  data?: string;
  done?: boolean;
  word_timestamps?: { words?: string[]; start?: number[]; end?: number[] };
  title?: string;
  message?: string;
  error?: string;
  error_code?: string;
  status_code?: number;
}

/** One socket and the contexts streaming on it. */
export class Connection {
  readonly ws: TtsWsType;
  readonly ready: Promise<void>;
  opened = false;
  closed = false;
  private openedAt = 0;
  private closedAt = 0;
  private readonly routes = new Map<string, (ev: CartesiaEvent) => void>();
  private readonly dropWatchers = new Set<(reason: string) => void>();

  constructor(client: CartesiaType, plainPort: number | null, timeoutMs: number, onDrop: (c: Connection, reason: string) => void) {
    this.ws = new TTSWS(client, {
      // The SDK always dials `wss://` (SDK-NOTES); a plain-HTTP base (a local server, a TLS-
      // terminating proxy on loopback) gets a plain TCP socket under the same URL.
      ...(plainPort !== null ? { createConnection: (o: { host?: string }) => net.connect(plainPort, o.host ?? '127.0.0.1') } : {}),
      // Base64 JSON audio at 100 calls: deflating every frame costs more CPU than it saves.
      perMessageDeflate: false,
    } as never);
    // Without an `error` listener the SDK turns each error into an unhandled rejection.
    this.ws.on('error', () => {});
    this.ws.on('event', (ev) => {
      const e = ev as CartesiaEvent;
      const route = e.context_id ? this.routes.get(e.context_id) : undefined;
      if (route) route(e);
      else if (e.type === 'error' && !e.context_id) for (const r of this.routes.values()) r(e);
    });
    this.ready = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        reject(new ProviderError(PROVIDER, 'WebSocket did not open in time', undefined, true));
        this.terminate();
      }, timeoutMs);
      this.ws.connect().then(
        () => {
          clearTimeout(t);
          this.opened = true;
          this.openedAt = Date.now();
          resolve();
        },
        (err: unknown) => {
          clearTimeout(t);
          this.closed = true;
          reject(handshakeError(err));
        },
      );
    });
    this.ready.catch(() => {});
    this.ws.socket.addEventListener('close', (ev: { code?: number; reason?: unknown }) => {
      const wasOpen = this.opened && !this.closed;
      this.closed = true;
      this.closedAt = Date.now();
      const reason = `socket closed (${ev.code ?? 1006}${ev.reason ? ` ${String(ev.reason)}` : ''})`;
      for (const w of [...this.dropWatchers]) w(reason);
      if (wasOpen) onDrop(this, reason);
    });
  }

  route(contextId: string, fn: (ev: CartesiaEvent) => void, onDrop: (reason: string) => void): () => void {
    this.routes.set(contextId, fn);
    this.dropWatchers.add(onDrop);
    return () => {
      this.routes.delete(contextId);
      this.dropWatchers.delete(onDrop);
    };
  }

  /** How long the socket was (or has been) open; 0 if it never opened. */
  openedForMs(): number {
    return this.openedAt === 0 ? 0 : (this.closedAt || Date.now()) - this.openedAt;
  }

  get usable(): boolean {
    return !this.closed;
  }

  terminate(): void {
    this.closed = true;
    try {
      this.ws.close({ code: 1000, reason: 'call ended' });
    } catch {
      // already gone
    }
  }
}

/** A refused handshake as a ProviderError with the HTTP status (`ws`: "Unexpected server response: 401"). */
function handshakeError(err: unknown): ProviderError {
  const e = err as { message?: string; error?: { message?: string } } | undefined;
  const msg = e?.message ?? e?.error?.message ?? String(err);
  const m = /Unexpected server response: (\d{3})/.exec(msg);
  if (m) return ProviderError.fromStatus(PROVIDER, Number(m[1]), `WebSocket refused (${m[1]})`);
  return new ProviderError(PROVIDER, `WebSocket: ${msg}`, undefined, true);
}
