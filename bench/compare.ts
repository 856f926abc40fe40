/**
 * Compares the newest bench results with the last committed ones:
 * bench/results/<name>.json on disk against `git show HEAD:bench/results/<name>.json`.
 * Rows are matched by their identifying fields (engine, calls, endpoint, scenario, …), so a
 * run with more or fewer levels still lines up; every numeric figure that changed is printed
 * with its delta.
 *
 *   node --import tsx bench/compare.ts [name ...] [--ref HEAD~3] [--all]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RESULTS_DIR } from './lib/results.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { ref: { type: 'string', default: 'HEAD' }, all: { type: 'boolean', default: false } },
});
const names = positionals.length ? positionals : readdirSync(RESULTS_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));

/** Fields that name a row rather than measure it. */
const KEY_FIELDS = ['engine', 'calls', 'endpoint', 'scenario', 'op', 'impl', 'audio', 'detector', 'name'];

function rowKey(x: unknown, i: number): string {
  if (x && typeof x === 'object' && !Array.isArray(x)) {
    const parts = KEY_FIELDS.filter((k) => k in x).map((k) => `${k}=${String((x as Record<string, unknown>)[k])}`);
    if (parts.length) return parts.join(',');
  }
  return String(i);
}

function flatten(x: unknown, prefix: string, out: Map<string, number>): void {
  if (typeof x === 'number') out.set(prefix, x);
  else if (Array.isArray(x)) x.forEach((v, i) => flatten(v, `${prefix}[${rowKey(v, i)}]`, out));
  else if (x && typeof x === 'object') for (const [k, v] of Object.entries(x)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
}

let shown = 0;
for (const name of names) {
  const file = path.join(RESULTS_DIR, `${name}.json`);
  if (!existsSync(file)) {
    console.log(`${name}: no results on disk`);
    continue;
  }
  let old: string;
  try {
    old = execFileSync('git', ['show', `${values.ref}:bench/results/${name}.json`], { cwd: path.dirname(RESULTS_DIR), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    console.log(`${name}: nothing committed at ${values.ref} to compare with`);
    continue;
  }
  const a = JSON.parse(old) as { date: string; data: unknown };
  const b = JSON.parse(readFileSync(file, 'utf8')) as { date: string; data: unknown };
  const before = new Map<string, number>();
  const after = new Map<string, number>();
  flatten(a.data, '', before);
  flatten(b.data, '', after);
  console.log(`\n${name}: ${a.date} (${values.ref}) → ${b.date}`);
  const rows: Record<string, unknown>[] = [];
  for (const [k, v] of after) {
    const was = before.get(k);
    if (was === undefined) {
      if (values.all) rows.push({ figure: k, before: '—', after: v, delta: '' });
      continue;
    }
    if (was === v && !values.all) continue;
    const pct = was !== 0 ? `${(((v - was) / Math.abs(was)) * 100).toFixed(1)}%` : '';
    rows.push({ figure: k, before: was, after: v, delta: `${v - was >= 0 ? '+' : ''}${Math.round((v - was) * 1000) / 1000} ${pct}`.trim() });
  }
  for (const k of before.keys()) if (!after.has(k)) rows.push({ figure: k, before: before.get(k), after: '—', delta: 'gone' });
  if (rows.length) console.table(rows);
  else console.log('  no change');
  shown++;
}
if (shown === 0) process.exitCode = 1;
