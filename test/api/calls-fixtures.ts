/**
 * Shared set-up of the calls/Twilio-webhook tests: a whole gateway (SQLite, memory bus) whose
 * `twilio` SDK talks to the fake Twilio REST server, real call sessions with an idle engine
 * (no provider sockets), and helpers to seed agents, numbers and keys.
 */
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { FakeTwilioRest } from '../fakes/twilio-rest.js';
import { hashKey } from '../../src/api/auth.js';
import { newId } from '../../src/ids.js';
import type { Agent, NewAgent, PhoneNumber, Scope } from '../../src/store/types.js';
import type { Engine } from '../../src/engine/types.js';
import { makeAgent } from '../store/fixtures.js';

export interface CallsGateway {
  t: TestApp;
  fake: FakeTwilioRest;
  /** Call ids announced to the session registry, in order. */
  announced: string[];
  close(): Promise<void>;
}

/** An engine that does nothing: sessions live and end without touching any provider. */
export function idleEngine(): Engine {
  return {
    async prepare() {},
    async start() {},
    onAudio() {},
    onDtmf() {},
    async close() {},
  };
}

export async function startCallsGateway(opts: { twilio?: boolean; env?: Record<string, string> } = {}): Promise<CallsGateway> {
  const fake = await new FakeTwilioRest().start();
  const t = await createTestApp({ env: { ...(opts.twilio === false ? {} : fake.env()), ...opts.env } });
  t.ctx.calls.configure({ engineFactory: () => idleEngine() });
  const announced: string[] = [];
  const registry = t.ctx.calls;
  const announce = registry.announce.bind(registry);
  registry.announce = (req) => {
    announced.push(req.call.id);
    return announce(req);
  };
  return {
    t,
    fake,
    announced,
    async close() {
      await fake.close();
      await t.close();
    },
  };
}

export async function seedAgent(t: TestApp, owner = 'admin', over: Partial<NewAgent> = {}): Promise<Agent> {
  return t.ctx.store.createAgent(makeAgent(owner, { voiceMode: 'web_and_phone', ...over }));
}

let numberSeq = 0;
/** A fresh E.164 number (unique per process). */
export function e164(): string {
  numberSeq++;
  return `+1415${String(5_000_000 + ((Date.now() + numberSeq * 7919) % 4_999_999)).padStart(7, '0')}`;
}

export async function seedNumber(t: TestApp, owner: string, agentId: string | null, phoneNumber = e164()): Promise<PhoneNumber> {
  const num: PhoneNumber = { id: newId('num'), owner, phoneNumber, label: null, agentId, createdAt: new Date().toISOString() };
  await t.ctx.store.createNumber(num);
  return num;
}

/** Creates an API key for `owner` with `scopes`; returns its secret. */
export async function seedKey(t: TestApp, owner: string, scopes: Scope[]): Promise<string> {
  const secret = `vg_test_${owner}_${newId('key')}`;
  await t.ctx.store.createKey({ id: newId('key'), owner, scopes, name: null, hash: hashKey(secret), createdAt: new Date().toISOString(), revokedAt: null });
  return secret;
}

/** Polls `check` until it holds (the gateway answers webhooks asynchronously to some events). */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
