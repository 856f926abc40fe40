/** Shared fixtures for the tool-layer tests: an agent, a store with tools/env vars, a capturing logger. */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { encryptSecret } from '../../src/crypto/index.js';
import type { Agent, AgentTool, Store } from '../../src/store/types.js';
import type { ToolDeps } from '../../src/tools/types.js';

export function makeAgent(overrides: Partial<Agent> = {}): Agent {
  return {
    id: 'agt_test',
    owner: 'owner',
    name: 'Test agent',
    architecture: 'realtime',
    systemPrompt: 'You help {{name}}.',
    firstMessage: 'Hello {{name}}!',
    language: 'en',
    model: null,
    stt: null,
    sttModel: null,
    ttsModel: null,
    tts: null,
    voiceId: null,
    realtimeProvider: 'openai',
    temperature: null,
    voiceMode: 'web_and_phone',
    turnDetection: null,
    pronunciations: null,
    variables: { name: 'friend' },
    knowledgeIds: [],
    disabledTools: [],
    active: true,
    metadata: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function makeTool(overrides: Partial<AgentTool> = {}): AgentTool {
  return {
    agentId: 'agt_test',
    name: 'lookup_booking',
    description: 'Find a booking',
    parameters: { type: 'object', properties: { phone: { type: 'string' } }, required: ['phone'] },
    url: 'http://127.0.0.1:1/hook',
    method: 'POST',
    headers: null,
    timeoutMs: 5000,
    createdAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export interface CapturedLog {
  lines: string[];
  logger: pino.Logger;
}

export function captureLog(): CapturedLog {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { lines, logger: pino({ level: 'trace' }, stream) };
}

export interface ToolDepsFixture {
  deps: ToolDeps;
  log: CapturedLog;
  ended: string[];
  transfers: string[];
}

export function makeToolDeps(opts: {
  agent?: Partial<Agent>;
  tools?: AgentTool[];
  env?: Record<string, string>;
  channel?: 'phone' | 'web';
  allowPrivateUrls?: boolean;
  transferFails?: boolean;
} = {}): ToolDepsFixture {
  const key = randomBytes(32);
  const sealed = Object.fromEntries(Object.entries(opts.env ?? {}).map(([k, v]) => [k, encryptSecret(key, v)]));
  const store = {
    async listTools() {
      return opts.tools ?? [];
    },
    async getEnvVars() {
      return sealed;
    },
  } as unknown as Store;
  const log = captureLog();
  const ended: string[] = [];
  const transfers: string[] = [];
  const deps: ToolDeps = {
    callId: 'call_test',
    agent: makeAgent(opts.agent),
    channel: opts.channel ?? 'phone',
    store,
    envVarKey: key,
    allowPrivateUrls: opts.allowPrivateUrls ?? true,
    log: log.logger,
    async end(reason) {
      ended.push(reason);
    },
    async transfer(toNumber) {
      if (opts.transferFails) throw new Error('twilio said no');
      transfers.push(toNumber);
    },
  };
  return { deps, log, ended, transfers };
}
