import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../fakes/openai-chat.js';
import { createLlmClient } from '../../src/providers/llm/index.js';
import { extractCallResult } from '../../src/campaigns/extraction.js';
import type { Campaign } from '../../src/store/types.js';
import { addCampaign, createWorld, FakePlacer, makeDialer, phones, type World } from './campaign-fixtures.js';

const SCHEMA = {
  type: 'object',
  properties: {
    interested: { type: 'boolean' },
    callbackDate: { type: ['string', 'null'] },
  },
  required: ['interested', 'callbackDate'],
  additionalProperties: false,
};

let chat: FakeOpenAiChat;
let world: World;
let campaign: Campaign;

beforeAll(async () => {
  chat = await startFakeOpenAiChat({ apiKey: 'sk-test' });
});
afterAll(async () => {
  await chat.close();
});
beforeEach(async () => {
  chat.requests.length = 0;
  world = await createWorld();
  campaign = await addCampaign(world, { extractionSchema: SCHEMA, purpose: 'renewal reminders' }, phones(1));
});
afterEach(async () => {
  await world.close();
});

const llm = () => createLlmClient({ baseUrl: chat.url, apiKey: 'sk-test' });

/** A finished campaign call with a short transcript in the store. */
async function finishedCall(): Promise<string> {
  const placer = new FakePlacer(world.store);
  const call = await placer.place({ owner: 'acme', agentId: world.agentId, toNumber: '+14155550000', campaignId: campaign.id });
  await world.store.appendCallEvent(call.id, 'transcript.final', { role: 'agent', text: 'Hi, your plan renews next month. Interested?', startMs: 0, endMs: 2000 });
  await world.store.appendCallEvent(call.id, 'transcript.final', { role: 'user', text: 'Yes, call me back on April 1st.', startMs: 2500, endMs: 4000 });
  return call.id;
}

describe('post-call extraction', () => {
  it('sends the transcript with the schema as structured output and returns the validated result', async () => {
    chat.respond(() => ({ json: { interested: true, callbackDate: '2026-04-01' } }));
    const callId = await finishedCall();
    const out = await extractCallResult({ store: world.store, llm: llm() }, campaign, callId);
    expect(out).toEqual({ ok: true, result: { interested: true, callbackDate: '2026-04-01' } });
    expect(chat.requests).toHaveLength(1);
    const body = chat.requests[0]!.body;
    expect(body.response_format?.type).toBe('json_schema');
    expect(body.response_format?.json_schema?.schema).toEqual(SCHEMA);
    expect(body.model).toBe('gpt-4o-mini');
    expect(JSON.stringify(body.messages)).toContain('call me back on April 1st');
  });

  it('retries once after an invalid reply and keeps the valid second one', async () => {
    chat.respond((_req, i) => (i === 0 ? { json: { interested: 'maybe' } } : { json: { interested: false, callbackDate: null } }));
    const out = await extractCallResult({ store: world.store, llm: llm() }, campaign, await finishedCall());
    expect(out).toEqual({ ok: true, result: { interested: false, callbackDate: null } });
    expect(chat.requests).toHaveLength(2);
    // The retry tells the model what was wrong.
    expect(JSON.stringify(chat.requests[1]!.body.messages)).toMatch(/invalid/);
  });

  it('records an error after two invalid replies, never retrying a third time', async () => {
    chat.respond(() => ({ json: 'not json at all' }));
    const out = await extractCallResult({ store: world.store, llm: llm() }, campaign, await finishedCall());
    expect(out.ok).toBe(false);
    expect(!out.ok && out.error).toMatch(/^extraction_failed: the reply is not valid JSON/);
    expect(chat.requests).toHaveLength(2);
  });

  it('records missing OpenAI credentials as the error', async () => {
    const out = await extractCallResult({ store: world.store, llm: null }, campaign, await finishedCall());
    expect(out).toEqual({ ok: false, error: expect.stringMatching(/credentials/) });
  });

  it('lands on the contact through the dialer, and a failure is recorded on the contact', async () => {
    const placer = new FakePlacer(world.store);
    const extract = (c: Campaign, id: string) => extractCallResult({ store: world.store, llm: llm() }, c, id);
    const dialer = makeDialer(world, placer, {}, extract);
    await dialer.tick();
    const callId = placer.calls[0]!.id;
    await world.store.appendCallEvent(callId, 'transcript.final', { role: 'user', text: 'Not interested, thanks.', startMs: 0, endMs: 900 });
    await placer.end(callId, 'completed');
    chat.respond(() => ({ json: { interested: 'no' } }));
    await dialer.tick();
    await dialer.settled();
    const contact = (await world.store.listContacts(campaign.id, undefined, { limit: 1 })).items[0]!;
    expect(contact.status).toBe('completed');
    expect(contact.result).toBeNull();
    expect(contact.resultError).toMatch(/^extraction_failed: the reply does not match the schema: .*interested must be boolean/);
  });
});
