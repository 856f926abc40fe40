/**
 * `npm run bench`: runs each benchmark in its own process, one after another (they measure CPU,
 * so they must not overlap). `npm run bench -- codec vad` runs a subset. Add new benchmarks to
 * BENCHES.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCHES = ['codec', 'vad', 'media-ingest', 'realtime-bridge', 'media-load', 'api', 'faults', 'clause-chunks', 'brain-overhead', 'provider-faults'];

const here = path.dirname(fileURLToPath(import.meta.url));
const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = asked.filter((a) => !BENCHES.includes(a));
if (unknown.length > 0) {
  console.error(`unknown bench: ${unknown.join(', ')} (known: ${BENCHES.join(', ')})`);
  process.exit(2);
}
const selected = asked.length > 0 ? asked : BENCHES;

let failed = 0;
for (const name of selected) {
  console.log(`\n=== bench/${name}.ts ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, `${name}.ts`)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`bench/${name}.ts failed (${r.signal ?? `exit ${r.status}`})`);
  }
}
process.exit(failed > 0 ? 1 : 0);
