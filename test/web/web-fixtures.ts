/**
 * Shared set-up for web-call tests: a gateway whose sessions run a scriptable engine (no
 * providers), helpers to create web calls over the API and to open the media socket with ws.
 */
import WebSocket from 'ws';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import type { Engine, EngineHost } from '../../src/engine/types.js';
import type { Agent } from '../../src/store/types.js';
import { seedAgent } from '../api/calls-fixtures.js';

/** An engine that records what it hears and lets the test drive its host. */
export class ScriptedEngine implements Engine {
  audioFrames: Buffer[] = [];
  digits: string[] = [];
  started = false;
  closed = false;
  constructor(readonly host: EngineHost) {}
  async prepare(): Promise<void> {}
  async start(): Promise<void> {
    this.started = true;
  }
  onAudio(frame: Buffer): void {
    this.audioFrames.push(Buffer.from(frame));
  }
  onDtmf(digit: string): void {
    this.digits.push(digit);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

export interface WebGateway {
  t: TestApp;
  engines: Map<string, ScriptedEngine>;
  close(): Promise<void>;
}

export async function startWebGateway(): Promise<WebGateway> {
  const t = await createTestApp();
  const engines = new Map<string, ScriptedEngine>();
  t.ctx.calls.configure({
    engineFactory: (host) => {
      const e = new ScriptedEngine(host);
      engines.set(host.call.id, e);
      return e;
    },
  });
  return { t, engines, close: () => t.close() };
}

export async function webAgent(t: TestApp, owner = 'admin', over: Partial<Agent> = {}): Promise<Agent> {
  return seedAgent(t, owner, { voiceMode: 'web', ...over });
}

export interface CreatedWebCall {
  callId: string;
  token: string;
  websocketUrl: string;
  pageUrl: string;
  expiresAt: string;
}

export async function createWebCall(t: TestApp, agentId: string, key?: string): Promise<CreatedWebCall> {
  const res = await t.api('POST', '/v1/web-calls', { agentId }, key);
  if (res.status !== 201) throw new Error(`web call not created: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as CreatedWebCall;
}

/** A browser stand-in: every message it receives, and how the socket closed. */
export class WebClient {
  readonly binary: Buffer[] = [];
  readonly json: Array<Record<string, unknown>> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.binary.push(data as Buffer);
      else this.json.push(JSON.parse(String(data)) as Record<string, unknown>);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }
  static async open(url: string): Promise<WebClient> {
    const ws = new WebSocket(url);
    const client = new WebClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }
  send(data: Buffer | string): void {
    this.ws.send(data);
  }
  events(type: string): Array<Record<string, unknown>> {
    return this.json.filter((m) => m['type'] === type);
  }
}

export async function malformedCount(t: TestApp, reason: string): Promise<number> {
  const m = await t.ctx.metrics.malformed.get();
  return m.values.find((v) => v.labels['transport'] === 'web' && v.labels['reason'] === reason)?.value ?? 0;
}
