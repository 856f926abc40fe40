/**
 * Brain overhead: voice-to-voice latency of a pipeline agent whose replies come from a webhook
 * brain (SSE, first chunk after a fixed delay) against the same agent on the built-in LLM path
 * (the fake OpenAI chat server, first token after the same delay). Same gateway (in process),
 * same fake Deepgram / ElevenLabs / Twilio carrier, same caller audio; calls one after another,
 * alternating between the two modes.
 *
 *   node --import tsx bench/brain-overhead.ts [--calls 2] [--turns 5] [--delay-ms 800] [--name brain-overhead]
 *
 * Two figures per mode: voice-to-voice p50 (what the caller feels) and the "LLM first token"
 * part (request sent → first chunk in). Both paths start their reply speculatively on the STT's
 * early final, so a delay shorter than the end-of-turn silence is hidden entirely; the default
 * delay is longer, which puts the first chunk on the critical path.
 */
import { parseArgs } from 'node:util';
import { createTestApp } from '../test/helpers/test-app.js';
import { FakeTwilioRest, parseStream } from '../test/fakes/twilio-rest.js';
import { TwilioCarrier } from '../test/fakes/twilio-carrier.js';
import { startFakeDeepgram } from '../test/fakes/deepgram.js';
import { startFakeElevenLabs } from '../test/fakes/elevenlabs.js';
import { startFakeOpenAiChat } from '../test/fakes/openai-chat.js';
import { answer, startFakeBrain } from '../test/fakes/brain-server.js';
import { readUlawFixture } from '../test/helpers/fixtures.js';
import { writeResults } from './lib/results.js';
import { summarize } from './lib/stats.js';
import type { TurnLatency } from '../src/store/types.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '2' },
    turns: { type: 'string', default: '5' },
    // Longer than the end-of-turn silence (500 ms), so the reply's first chunk is on the critical path.
    'delay-ms': { type: 'string', default: '800' },
    name: { type: 'string', default: 'brain-overhead' },
  },
});
const CALLS = Number(values.calls);
const TURNS = Number(values.turns);
const DELAY_MS = Number(values['delay-ms']);
const REPLY = 'Sure, I can help with that.';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what} ${JSON.stringify(debug())}`);
    await sleep(25);
  }
}

const twilio = await new FakeTwilioRest().start();
const [dg, el, chat, brain] = await Promise.all([
  startFakeDeepgram({ transcripts: [], fallbackTranscript: 'Can you help me with my order?' }),
  startFakeElevenLabs({ msPerChar: 20 }),
  startFakeOpenAiChat({ respond: () => ({ tokens: REPLY.split(/(?<= )/), firstTokenDelayMs: DELAY_MS }) }),
  startFakeBrain(),
]);
brain.onTurn = async (_req, res) => {
  await sleep(DELAY_MS);
  answer.sseStart(res);
  for (const word of REPLY.split(/(?<= )/)) answer.sse(res, { text: word });
  res.end();
};
const t = await createTestApp({
  env: {
    ...twilio.env(),
    DEEPGRAM_API_KEY: 'dg-test',
    DEEPGRAM_URL: dg.url,
    ELEVENLABS_API_KEY: 'el-test',
    ELEVENLABS_BASE_URL: el.url,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: chat.url,
  },
});

const modes = {
  'built-in LLM': { model: 'gpt-4o-mini' },
  'webhook brain': { llm: { provider: 'webhook', url: `${brain.url}/turn` } },
} as const;

const results: Record<string, TurnLatency[]> = {};
let debug: () => unknown = () => null;
const numbers: Record<string, string> = {};
let n = 0;
for (const [mode, brainFields] of Object.entries(modes)) {
  const number = `+1415555${String(3000 + n++).padStart(4, '0')}`;
  const agent = await t.api('POST', '/v1/agents', {
    name: mode, architecture: 'pipeline', systemPrompt: 'p', firstMessage: 'Hi.', stt: 'deepgram', tts: 'elevenlabs', voiceId: 'v', active: true, ...brainFields,
  });
  if (agent.status !== 201) throw new Error(JSON.stringify(agent.body));
  await t.api('POST', '/v1/phone-numbers', { phoneNumber: number, agentId: agent.body.id });
  numbers[mode] = number;
  results[mode] = [];
}

/** One call of `turns` caller turns; returns its turns' latency breakdowns. */
async function oneCall(number: string): Promise<TurnLatency[]> {
  const inbound = await twilio.inboundCall(`${t.baseUrl}/twilio/voice`, { from: '+14155550100', to: number });
  const stream = parseStream(inbound.responseBody);
  if (!stream) throw new Error(`no stream: ${inbound.responseStatus} ${inbound.responseBody}`);
  await twilio.answer(inbound.call.sid);
  const callId = (await t.ctx.store.getCallByTwilioSid(inbound.call.sid))!.id;
  const carrier = await TwilioCarrier.connect({ url: stream.url, customParameters: stream.parameters, callSid: inbound.call.sid, accountSid: twilio.accountSid });
  debug = () => ({ played: carrier.playedBytes, close: carrier.closeInfo, notes: t.ctx.calls.get(callId)?.call.notes });
  const agentItems = async () =>
    (await t.ctx.store.listCallEvents(callId, 0)).filter((e) => e.type === 'transcript.final' && e.data.role === 'agent').length;
  await waitFor(async () => (await agentItems()) === 1, 'greeting');
  for (let turn = 1; turn <= TURNS; turn++) {
    carrier.say(readUlawFixture('question'));
    await waitFor(async () => (await agentItems()) === 1 + turn, `reply ${turn}`);
    await sleep(300);
  }
  const call = (await t.ctx.store.getCall(callId))!;
  await carrier.hangup();
  await waitFor(async () => (await t.ctx.store.getCall(callId))!.status === 'completed', 'hang-up');
  return call.latency.recent;
}

// Modes alternate call by call, so drift in the machine's load falls on both alike.
for (let c = 0; c < CALLS; c++) {
  for (const mode of Object.keys(modes)) results[mode]!.push(...(await oneCall(numbers[mode]!)));
}

const rows = Object.entries(results).map(([mode, turns]) => {
  const v2v = summarize(turns.map((x) => x.voiceToVoiceMs));
  const first = summarize(turns.flatMap((x) => (x.llmFirstTokenMs !== undefined ? [x.llmFirstTokenMs] : [])));
  return { mode, turns: turns.length, 'v2v p50 ms': v2v.p50, 'v2v p95 ms': v2v.p95, 'first chunk p50 ms': first.p50, 'first chunk p95 ms': first.p95 };
});
const [builtin, hook] = rows;
const overhead = {
  v2vP50Ms: Math.round((hook!['v2v p50 ms'] - builtin!['v2v p50 ms']) * 10) / 10,
  firstChunkP50Ms: Math.round((hook!['first chunk p50 ms'] - builtin!['first chunk p50 ms']) * 10) / 10,
};
writeResults(values.name, { calls: CALLS, turnsPerCall: TURNS, delayMs: DELAY_MS, rows, overhead, raw: results }, rows);
console.log(`webhook brain vs built-in LLM, p50: voice-to-voice ${overhead.v2vP50Ms} ms, first chunk vs first token ${overhead.firstChunkP50Ms} ms (target ≤ 5 ms)`);

await t.close();
await Promise.all([twilio.close(), dg.close(), el.close(), chat.close(), brain.close()]);
process.exit(0);
