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

import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { ScriptedEngine } from '../web/web-fixtures.js';

export interface FaultNode {
  t: TestApp;
  engines: Map<string, ScriptedEngine>;
}

/** A gateway (buildApp, listening) whose calls run a scriptable engine (no providers). */
export async function startNode(env: Record<string, string>): Promise<FaultNode> {
  const t = await createTestApp({ env });
  const engines = new Map<string, ScriptedEngine>();
  t.ctx.calls.configure({
    engineFactory: (host) => {
      const e = new ScriptedEngine(host);
      engines.set(host.call.id, e);
      return e;
    },
  });
  return { t, engines };
}

/** 20 ms of PCM16 16 kHz web-call audio per 640 bytes, filled with `value`. */
export function pcmFrame(ms: number, value = 1000): Buffer {
  const b = Buffer.alloc(ms * 32);
  for (let i = 0; i < b.length; i += 2) b.writeInt16LE(value, i);
  return b;
}

/** The largest gap between consecutive arrival times (ms) inside [from, to]. */
export function maxGapMs(times: number[], from: number, to: number): number {
  const inside = times.filter((x) => x >= from && x <= to);
  let gap = 0;
  for (let i = 1; i < inside.length; i++) gap = Math.max(gap, inside[i]! - inside[i - 1]!);
  return gap;
}

/** An SSE reader over fetch: every event it got, and whether the server closed the stream. */
export class SseReader {
  readonly events: Array<{ id: string | null; event: string; data: any }> = [];
  ended = false;
  private readonly abort = new AbortController();

  static async open(url: string, key: string): Promise<SseReader> {
    const r = new SseReader();
    const res = await fetch(url, { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' }, signal: r.abort.signal });
    if (res.status !== 200) throw new Error(`SSE refused: ${res.status} ${await res.text()}`);
    void r.pump(res.body!);
    return r;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const lines = block.split('\n');
          const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
          if (!event) continue;
          const id = lines.find((l) => l.startsWith('id: '))?.slice(4) ?? null;
          const data = JSON.parse(lines.find((l) => l.startsWith('data: '))!.slice(6));
          this.events.push({ id, event, data });
        }
      }
    } catch {
      /* aborted */
    }
    this.ended = true;
  }

  types(): string[] {
    return this.events.map((e) => e.event);
  }

  close(): void {
    this.abort.abort();
  }
}
