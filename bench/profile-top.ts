/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): top functions by self time, and the
 * share of time by file, so the hot spots of a bench run are one command away.
 *
 *   node --import tsx bench/profile-top.ts FILE.cpuprofile [--top 30]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '30' },
    /** Ignore the first seconds of the profile (start-up, module loading, call set-up). */
    skip: { type: 'string', default: '0' },
    /** For frames whose function or file matches, show which src/ function they ran under. */
    callers: { type: 'string' },
  },
});
for (const file of positionals) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  const skipUs = Number(values.skip) * 1e6;
  let t = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (t < skipUs) continue;
    selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const short = (url: string) => url.replace(/^file:\/\/.*?\/(node_modules|src|test|bench)\//, '$1/').replace(/^node:/, 'node:');
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const cf = n.callFrame;
    const key = `${cf.functionName || '(anonymous)'} ${short(cf.url)}:${cf.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const f = cf.url ? short(cf.url).replace(/^(node_modules\/(@[^/]+\/)?[^/]+).*/, '$1') : `(${cf.functionName})`;
    files.set(f, (files.get(f) ?? 0) + us);
  }
  const pct = (us: number) => `${((us / total) * 100).toFixed(1)}%`;
  if (values.callers) {
    const re = new RegExp(values.callers);
    const under = new Map<string, number>();
    for (const [id, us] of selfUs) {
      const n = byId.get(id)!;
      if (!re.test(`${n.callFrame.functionName} ${n.callFrame.url}`)) continue;
      let a = parent.get(id);
      let label = '(no src/ frame)';
      while (a !== undefined) {
        const cf = byId.get(a)!.callFrame;
        if (/\/src\//.test(cf.url)) {
          label = `${cf.functionName || '(anonymous)'} ${short(cf.url)}:${cf.lineNumber + 1}`;
          break;
        }
        a = parent.get(a);
      }
      under.set(label, (under.get(label) ?? 0) + us);
    }
    console.log(`\nframes matching /${values.callers}/, by the src/ function they ran under:`);
    for (const [k, us] of [...under].sort((x, y) => y[1] - x[1]).slice(0, 15)) console.log(`  ${pct(us).padStart(6)}  ${k}`);
  }
  console.log(`\n${file}: ${(total / 1e6).toFixed(1)} s sampled`);
  console.log('\ntop self time by function:');
  for (const [k, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`  ${pct(us).padStart(6)}  ${k}`);
  console.log('\nself time by file / package:');
  for (const [k, us] of [...files].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${pct(us).padStart(6)}  ${k}`);
}
