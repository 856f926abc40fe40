/**
 * One streaming POST to a conversation server. `safeFetch` buffers whole bodies; a webhook
 * brain's reply must be spoken as it arrives, so this reads the body chunk by chunk, under the
 * same private-address rule (pinned lookup), with an idle timer (API.md: no first byte within
 * `timeoutMs`, or a stall of more than `timeoutMs` between chunks) and a byte cap.
 */
import http from 'node:http';
import https from 'node:https';
import { isAbortError } from '../../errors.js';
import { pinnedLookup } from '../../net/index.js';

export type BrainHttpFailure = 'timeout' | 'too_large' | 'network' | 'refused';

export class BrainHttpError extends Error {
  constructor(
    readonly kind: BrainHttpFailure,
    message: string,
  ) {
    super(message);
    this.name = 'BrainHttpError';
  }
}

export interface BrainPostOptions {
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  /** First byte and gap between chunks. */
  idleTimeoutMs: number;
  maxBytes: number;
  allowPrivate: boolean;
}

export interface BrainResponse {
  status: number;
  /** Lower-cased media type without parameters ('' when absent). */
  mediaType: string;
  /** The body as it arrives; throws BrainHttpError on a stall or an oversized body. */
  body: AsyncIterable<Buffer>;
  /** Stops reading (a body not iterated to its end must be released). */
  cancel(): void;
}

export function brainPost(url: string, o: BrainPostOptions): Promise<BrainResponse> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return reject(new BrainHttpError('refused', 'the URL is invalid'));
    }
    const lib = target.protocol === 'https:' ? https : http;
    let failure: BrainHttpError | null = null;
    let timer: NodeJS.Timeout | undefined;
    const arm = (what: string): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        failure = new BrainHttpError('timeout', `${what} within ${o.idleTimeoutMs} ms`);
        req.destroy(failure);
      }, o.idleTimeoutMs);
    };
    const mapped = (err: unknown): unknown => {
      if (failure) return failure;
      if (o.signal.aborted || isAbortError(err)) return err;
      const e = err as NodeJS.ErrnoException;
      if (e?.code === 'EPRIVATEADDRESS') return new BrainHttpError('refused', e.message);
      return new BrainHttpError('network', `request failed (${e?.code ?? e?.message ?? 'network error'})`);
    };
    const req = lib.request(
      target,
      {
        method: 'POST',
        headers: { ...o.headers, 'content-length': String(Buffer.byteLength(o.body)) },
        signal: o.signal,
        lookup: pinnedLookup(o.allowPrivate),
        // One fresh connection per turn: a pooled socket may predate the address check.
        agent: false,
      },
      (res) => {
        arm('no further data');
        const mediaType = (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        async function* read(): AsyncGenerator<Buffer> {
          let size = 0;
          try {
            for await (const chunk of res as AsyncIterable<Buffer>) {
              arm('no further data');
              size += chunk.length;
              if (size > o.maxBytes) {
                failure = new BrainHttpError('too_large', `the response exceeded ${o.maxBytes} bytes`);
                throw failure;
              }
              yield chunk;
            }
          } catch (err) {
            throw mapped(err);
          } finally {
            clearTimeout(timer);
            res.destroy();
          }
        }
        resolve({
          status: res.statusCode ?? 0,
          mediaType,
          body: read(),
          cancel: () => {
            clearTimeout(timer);
            res.destroy();
          },
        });
      },
    );
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(mapped(err));
    });
    arm('no answer');
    req.end(o.body);
  });
}

/** Fire-and-forget POST (lifecycle notices): bounded, its outcome only logged. */
export async function brainNotify(url: string, o: Omit<BrainPostOptions, 'maxBytes'>): Promise<number> {
  const res = await brainPost(url, { ...o, maxBytes: 64 * 1024 });
  try {
    for await (const _ of res.body) void _;
  } catch {
    /* the status is all a notice needs */
  }
  return res.status;
}
