/**
 * Entry of every worker thread. The sources are TypeScript run through tsx, as `npm start` runs
 * them, and Node 20 does not hand the main thread's loader hooks on to workers: each worker
 * registers tsx for itself, then imports its real entry (`workerData.entry`, a file URL). Plain
 * JavaScript because it runs before any loader is in place.
 */
import { workerData } from 'node:worker_threads';

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
