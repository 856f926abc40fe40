/**
 * Worker threads for work that would otherwise stall every call's media on the main thread
 * (docs/performance.md): the Silero model, the STT sockets. `startWorker` runs a module of
 * ours in a new thread through boot.mjs, which sets up the TypeScript loader there first.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const BOOT = new URL('./boot.mjs', import.meta.url);

/**
 * The URL of module `name` beside `importMetaUrl`, with that module's own extension: `.ts` when
 * running the sources, `.js` in a compiled build.
 */
export function siblingModule(importMetaUrl: string, name: string): URL {
  return new URL(`./${name}${path.extname(fileURLToPath(importMetaUrl))}`, importMetaUrl);
}

/** Starts `entry` in a worker thread; it reads `data` as `workerData.data`. */
export function startWorker(entry: URL, data: unknown): Worker {
  return new Worker(BOOT, { workerData: { entry: entry.href, data } });
}

/**
 * Calls `flush` once at the end of the current turn of the event loop (the check phase), however
 * often `schedule` is called before then: what a tick produced crosses to a worker in one message.
 */
export class TickFlush {
  private scheduled = false;

  constructor(private readonly flush: () => void) {}

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }
}
