/**
 * Bench output: a console table for people and a JSON file under bench/results/ for the README
 * and CI. Every benchmark ends with `writeResults(name, data, rows)`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Writes {name, date, machine, data} to bench/results/<name>.json, prints `rows`, returns the path. */
export function writeResults(name: string, data: unknown, rows: Record<string, unknown>[]): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  const cpus = os.cpus();
  const body = {
    name,
    date: new Date().toISOString(),
    machine: { cpus: cpus.length, model: cpus[0]?.model ?? 'unknown', node: process.version },
    data,
  };
  writeFileSync(file, JSON.stringify(body, null, 2) + '\n');
  console.table(rows);
  return file;
}

/** CPU time (user + system, all threads of this process) in ms since `since` (a `process.cpuUsage()`). */
export function cpuMsSince(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

/** Rounds for tables: 3 significant decimals is plenty for bench figures. */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
