/**
 * Shared set-up of the fault suite: the machine's real PostgreSQL (127.0.0.1:5432, db `test`)
 * and Redis (127.0.0.1:6379) behind `TcpFaultProxy`, a fresh schema per file and a random
 * bus/rate-limit prefix, and small polling helpers (no wall-clock asserts: the suite waits for
 * states, it never asserts how long they took).
 */
import pg from 'pg';
import { TcpFaultProxy } from './tcp-proxy.js';

export const PG_PORT = 5432;
export const REDIS_PORT = 6379;
export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';

export function freshSchema(tag: string): string {
  return `faults_${tag}_${process.pid}_${Date.now().toString(36)}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}

export function pgUrlVia(proxy: TcpFaultProxy, schema: string): string {
  return `postgres://postgres@127.0.0.1:${proxy.port}/test?schema=${schema}`;
}

export function redisUrlVia(proxy: TcpFaultProxy): string {
  return `redis://127.0.0.1:${proxy.port}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 25 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export async function getJson(url: string, key?: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* keep text */
  }
  return { status: res.status, body, headers: res.headers };
}

/** The value of a Prometheus sample line (`name{labels} value`) in `/metrics` text, or 0. */
export function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}}` : `${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

export { TcpFaultProxy };
