/**
 * The STT thread (deepgram-threaded.ts is the other side): runs one real `DeepgramStt` per
 * stream, applies the main thread's ops in the order they were made, and sends the streams'
 * events back, batched per turn of this thread's loop.
 */
import { parentPort } from 'node:worker_threads';
import { ProviderError } from '../../errors.js';
import { DeepgramStt } from './deepgram.js';
import { OP, OP_FIELDS, toWireError, type SttBatch, type SttReply, type WireSttEvent } from './deepgram-threaded.js';

const port = parentPort!;

interface Stream {
  stt: DeepgramStt;
  abort: AbortController;
}

const streams = new Map<number, Stream>();
let replies: SttReply[] = [];

function reply(r: SttReply): void {
  if (replies.length === 0) setImmediate(sendReplies);
  replies.push(r);
}

function sendReplies(): void {
  const out = replies;
  replies = [];
  port.postMessage(out);
}

function open(id: number, opts: SttBatch['opens'][number]['opts']): void {
  // A retried connect gets a fresh client; the failed one is closed once it is replaced, so
  // nothing it says is taken for the new one's.
  const replaced = streams.get(id)?.stt;
  const stt = new DeepgramStt(opts);
  const abort = new AbortController();
  streams.set(id, { stt, abort });
  replaced?.close().catch(() => {});
  stt.onEvent((event) => {
    if (streams.get(id)?.stt !== stt) return; // a replaced client: its id belongs to the new one
    const wire: WireSttEvent = event.type === 'error' ? { type: 'error', error: toWireError(event.error) } : event;
    reply({ id, kind: 'event', event: wire });
  });
  stt.connect(abort.signal).then(
    () => reply({ id, kind: 'connected' }),
    (err: unknown) =>
      reply({
        id,
        kind: 'connect_failed',
        error: err instanceof ProviderError ? toWireError(err) : null,
        message: err instanceof Error ? err.message : String(err),
      }),
  );
}

function close(id: number): void {
  const closing = streams.get(id)?.stt.close().catch(() => {}) ?? Promise.resolve();
  void closing.then(() => {
    streams.delete(id);
    reply({ id, kind: 'close_done' });
  });
}

port.on('message', (b: SttBatch) => {
  for (const o of b.opens) open(o.id, o.opts);
  const { ops, audio } = b;
  for (let at = 0; at < ops.length; at += OP_FIELDS) {
    const kind = ops[at]!;
    const id = ops[at + 1]!;
    const s = streams.get(id);
    switch (kind) {
      case OP.audio:
      case OP.audioCanWait:
        // A view is enough: the batch's buffer is ours now, and DeepgramStt copies what it holds.
        s?.stt.write(Buffer.from(audio.buffer, audio.byteOffset + ops[at + 2]!, ops[at + 3]!), kind === OP.audioCanWait);
        break;
      case OP.finalize:
        s?.stt.finalize();
        break;
      case OP.abort:
        s?.abort.abort(new Error('aborted'));
        break;
      case OP.close:
        close(id);
        break;
    }
  }
});
