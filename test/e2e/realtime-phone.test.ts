/**
 * An inbound phone call to a realtime agent, end to end (issue 5, "Done when"): the whole
 * gateway against the fake Twilio REST (signed voice webhook), the Twilio carrier simulator
 * (paced playback, marks, clear), the fake OpenAI Realtime server and a fake webhook tool. The
 * engine runs as in production (default engine factory, OPENAI_REALTIME_URL); the caller
 * speaks the espeak fixtures in real time and the fake's energy VAD takes the turns.
 *
 * One call, in order: session set-up → greeting → a question that makes the model call a
 * webhook tool → the tool's answer is interrupted by the caller (barge-in) → the provider
 * socket drops and the call goes on in a new session → the caller hangs up. Each `it` checks
 * one stage; they share the call, so a failure early makes the later ones fail too.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { FakeTwilioRest, parseStream } from '../fakes/twilio-rest.js';
import { TwilioCarrier } from '../fakes/twilio-carrier.js';
import { startFakeRealtime, type FakeRealtimeConnection, type FakeRealtimeServer, type ResponderContext, type ScriptedRealtimeResponse } from '../fakes/openai-realtime.js';
import { startFakeWebhookTool, type FakeWebhookTool } from '../fakes/webhook-tool.js';
import { readUlawFixture } from '../helpers/fixtures.js';

const poll = <T>(fn: () => T | Promise<T>, timeout = 30_000) => expect.poll(fn, { timeout, interval: 25 });
const STAGE_TIMEOUT = 120_000;

const PROMPT = 'You answer the phone for {{restaurant}}. Be brief.';
const GREETING = 'Hello, thanks for calling Bella Napoli.';
const BOOK_Q = 'Can I book a table for two tomorrow at seven?';
const INTERRUPT_Q = 'Actually, make it eight instead.';
const AFTER_DROP_Q = 'Are you still there?';
const LONG_ANSWER =
  'Your table for two tomorrow at seven is booked under reference B K forty two. We will hold it for fifteen minutes, the terrace is open if the weather is good, and parking is free after six in the lot behind the restaurant.';
const SHORT_REPLY = 'Of course, eight it is.';
const AFTER_DROP_REPLY = 'Yes, I am still here.';
/** Audio lengths are whole 100 ms deltas (the fake's chunk) and so whole 20 ms Twilio frames. */
const GREETING_MS = 1600;
/** Produced at twice real time (the fake's default pace): still streaming when the caller cuts in. */
const LONG_ANSWER_MS = 12_000;
const SHORT_REPLY_MS = 1200;
const AFTER_DROP_REPLY_MS = 1000;
/** The gateway's mark interval (src/session/playback.ts DEFAULT_MARK_EVERY_MS): truncation's resolution. */
const MARK_EVERY_MS = 100;

/** The model's side of the conversation, by what the caller said. */
function responder(ctx: ResponderContext): ScriptedRealtimeResponse {
  if (ctx.trigger === 'response.create') {
    if (ctx.instructions?.includes(GREETING)) return { transcript: GREETING, audioMs: GREETING_MS };
    // A response.create without instructions follows the tool output.
    const last = ctx.connection.items[ctx.connection.items.length - 1];
    if (last?.type === 'function_call_output') return { transcript: LONG_ANSWER, audioMs: LONG_ANSWER_MS };
    return { transcript: 'Unexpected response.create.', audioMs: 500 };
  }
  switch (ctx.userText) {
    case BOOK_Q:
      return { functionCall: { name: 'book_table', arguments: JSON.stringify({ partySize: 2, time: '19:00' }), callId: 'call_book1' } };
    case INTERRUPT_Q:
      return { transcript: SHORT_REPLY, audioMs: SHORT_REPLY_MS };
    case AFTER_DROP_Q:
      return { transcript: AFTER_DROP_REPLY, audioMs: AFTER_DROP_REPLY_MS };
    default:
      return { transcript: `Unexpected turn: ${String(ctx.userText)}`, audioMs: 500 };
  }
}

let twilio: FakeTwilioRest;
let rt: FakeRealtimeServer;
let tool: FakeWebhookTool;
let t: TestApp;
let tmp: string;
let agentId: string;
let callId: string;
let carrier: TwilioCarrier;
let first: FakeRealtimeConnection;
/** Fake item ids of the agent's four utterances, noted as they appear (truncation later cuts the fake's text). */
const ids = { greeting: '', answer: '', reply: '', afterDrop: '' };
/** Carrier bytes played when each `clear` arrived (read right after the simulator handled it). */
const playedAtClear: number[] = [];

/** The bytes of every audio delta a session sent for an item, in order. */
function deltaBytes(conn: FakeRealtimeConnection, itemId: string): Buffer {
  return Buffer.concat(
    conn.sent
      .filter((e) => e['type'] === 'response.output_audio.delta' && e['item_id'] === itemId)
      .map((e) => Buffer.from(String(e['delta']), 'base64')),
  );
}

/** The assistant item a session spoke with `text`. */
function assistantItem(conn: FakeRealtimeConnection, text: string): { id: string; audioMs: number } | undefined {
  return conn.items.find((i) => i.role === 'assistant' && i.type === 'message' && i.raw === undefined && textOf(conn, i.id) === text);
}

/** The full transcript the fake scripted for an item (items' `text` is cut by truncation). */
function textOf(conn: FakeRealtimeConnection, itemId: string): string | undefined {
  const done = conn.sent.find((e) => e['type'] === 'response.output_audio_transcript.done' && e['item_id'] === itemId);
  if (done) return String(done['transcript']);
  return conn.items.find((i) => i.id === itemId)?.text;
}

function responseIdOf(conn: FakeRealtimeConnection, itemId: string): string {
  const e = conn.sent.find((s) => s['type'] === 'response.output_item.added' && (s['item'] as { id?: string }).id === itemId);
  if (!e) throw new Error(`no response.output_item.added for ${itemId}`);
  return String(e['response_id']);
}

/** Mark names are `vg<serial>:<ms into the utterance>[:end]` (src/session/playback.ts). */
function markOffset(name: string): { serial: string; atMs: number } {
  const [serial, atMs] = name.split(':');
  return { serial: serial!, atMs: Number(atMs) };
}

/** Whole 20 ms frames of a fixture: the carrier pads the last partial frame with silence. */
function wholeFrames(audio: Buffer): Buffer {
  return audio.subarray(0, audio.length - (audio.length % 160));
}

async function transcriptItems(): Promise<Array<{ role: string; text: string; interrupted?: boolean }>> {
  return (await t.api('GET', `/v1/calls/${callId}/transcript`)).body.items;
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'voxgate-rt-e2e-'));
  twilio = await new FakeTwilioRest().start();
  [rt, tool] = await Promise.all([startFakeRealtime({ apiKey: 'sk-test', responder }), startFakeWebhookTool()]);
  // Two in-flight deltas of a cancelled response still arrive after the cancel: the caller must not hear them.
  rt.deltasAfterCancel = 2;
  rt.userTranscripts.push(BOOK_Q, INTERRUPT_Q, AFTER_DROP_Q);
  tool.script({ body: { confirmed: true, reference: 'BK-42' } });
  t = await createTestApp({ env: { ...twilio.env(), OPENAI_API_KEY: 'sk-test', OPENAI_REALTIME_URL: rt.url } });
}, STAGE_TIMEOUT);

afterAll(async () => {
  carrier?.terminate();
  await t?.close();
  await Promise.all([twilio?.close(), rt?.close(), tool?.close()]);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('inbound phone call to a realtime agent', () => {
  it('is set up through the API and the provider session gets μ-law both ways, filled instructions and the tools', { timeout: STAGE_TIMEOUT }, async () => {
    const agent = await t.api('POST', '/v1/agents', {
      name: 'Bella Napoli phone',
      architecture: 'realtime',
      realtimeProvider: 'openai',
      systemPrompt: PROMPT,
      firstMessage: GREETING,
      voiceId: 'marin',
      variables: { restaurant: 'Bella Napoli' },
      active: true,
    });
    expect(agent.status).toBe(201);
    agentId = agent.body.id;
    // The tool's secret lives in the agent's env vars and is filled into its headers at call time.
    expect((await t.api('PUT', `/v1/agents/${agentId}/env-vars/BOOKING_TOKEN`, { value: 'tok-secret-42' })).status).toBeLessThan(300);
    const created = await t.api('POST', `/v1/agents/${agentId}/tools`, {
      name: 'book_table',
      description: 'Book a table',
      parameters: { type: 'object', properties: { partySize: { type: 'integer' }, time: { type: 'string' } }, required: ['partySize', 'time'] },
      url: `${tool.url}/bookings`,
      method: 'POST',
      headers: { authorization: 'Bearer {{env.BOOKING_TOKEN}}' },
    });
    expect(created.status).toBe(201);
    const number = await t.api('POST', '/v1/phone-numbers', { phoneNumber: '+14155550188', agentId });
    expect(number.status).toBe(201);

    // Twilio rings the gateway with a signed webhook; the TwiML names the stream and its token.
    const inbound = await twilio.inboundCall(`${t.baseUrl}/twilio/voice`, { from: '+14155550100', to: '+14155550188' });
    expect(inbound.responseStatus).toBe(200);
    const stream = parseStream(inbound.responseBody)!;
    expect(stream).not.toBeNull();
    callId = (await t.ctx.store.getCallByTwilioSid(inbound.call.sid))!.id;

    carrier = await TwilioCarrier.connect({
      url: stream.url,
      customParameters: stream.parameters,
      callSid: inbound.call.sid,
      accountSid: twilio.accountSid,
      keepHeardAudio: true,
    });
    // Runs after the simulator's own handler (registered first): what had played when `clear` landed.
    carrier.ws.on('message', (data: Buffer) => {
      if (data.includes('"clear"')) playedAtClear.push(carrier.playedBytes);
    });

    first = await poll(() => rt.connections[0]).toBeDefined().then(() => rt.connections[0]!);
    await poll(() => first.eventsOf('session.update').length).toBeGreaterThan(0);
    const session = first.eventsOf('session.update')[0]!['session'];
    expect(first.model).toBeTruthy();
    expect(session.type).toBe('realtime');
    expect(session.audio.input.format).toEqual({ type: 'audio/pcmu' });
    expect(session.audio.output.format).toEqual({ type: 'audio/pcmu' });
    expect(session.audio.output.voice).toBe('marin');
    expect(session.audio.input.transcription?.model).toBeTruthy();
    expect(session.audio.input.turn_detection?.type).toMatch(/^(server_vad|semantic_vad)$/);
    expect(session.instructions).toContain('You answer the phone for Bella Napoli. Be brief.');
    expect(session.instructions).not.toContain('{{');
    const tools = session.tools as Array<{ type: string; name: string; parameters: unknown }>;
    expect(tools.map((x) => x.name).sort()).toEqual(['book_table', 'end_call', 'transfer_call']);
    expect(tools.find((x) => x.name === 'book_table')).toMatchObject({
      type: 'function',
      parameters: { type: 'object', properties: { partySize: { type: 'integer' }, time: { type: 'string' } }, required: ['partySize', 'time'] },
    });
  });

  it('speaks the greeting, and the carrier hears exactly the provider\'s μ-law bytes', { timeout: STAGE_TIMEOUT }, async () => {
    const greeting = await poll(() => assistantItem(first, GREETING)).toBeDefined().then(() => assistantItem(first, GREETING)!);
    ids.greeting = greeting.id;
    const greetingCreate = first.eventsOf('response.create')[0]!;
    expect(greetingCreate['response']?.instructions).toContain(GREETING);
    // Produced in full, then played in full at the carrier.
    await poll(() => first.sent.some((e) => e['type'] === 'response.done' && (e['response'] as any).id === responseIdOf(first, greeting.id))).toBe(true);
    const sent = deltaBytes(first, greeting.id);
    expect(sent.length).toBe(GREETING_MS * 8);
    await poll(() => carrier.playedBytes).toBe(sent.length);
    expect(Buffer.concat(carrier.heardAudio).equals(sent)).toBe(true);
    expect(carrier.marksEchoed.length).toBeGreaterThanOrEqual(GREETING_MS / MARK_EVERY_MS);
    expect(carrier.protocolErrors).toEqual([]);
    await poll(async () => (await transcriptItems()).map((i) => [i.role, i.text])).toEqual([['agent', GREETING]]);
  });

  it('passes the caller\'s μ-law bytes through unchanged, makes a user item of the speech, and runs the webhook tool', { timeout: STAGE_TIMEOUT }, async () => {
    const question = readUlawFixture('question');
    carrier.say(question);
    await poll(async () => (await transcriptItems()).filter((i) => i.role === 'user').map((i) => i.text)).toEqual([BOOK_Q]);
    // Twilio's payload reached input_audio_buffer.append untouched: speech frame by frame, the
    // silence around it in whole frames, up to five per append.
    expect(Buffer.concat(first.inputChunks).includes(wholeFrames(question))).toBe(true);
    const appendSizes = first.eventsOf('input_audio_buffer.append').map((e) => e['bytes'] as number);
    expect(appendSizes.every((n) => n % 160 === 0 && n <= 800)).toBe(true);
    expect(appendSizes.filter((n) => n === 160).length).toBeGreaterThanOrEqual(Math.floor(question.length / 160 / 2));

    // The model calls book_table → the webhook gets {tool, arguments, callId, agentId} with the secret.
    await poll(() => tool.requests.length).toBe(1);
    const req = tool.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/bookings');
    expect(req.headers['authorization']).toBe('Bearer tok-secret-42');
    expect(req.json).toEqual({ tool: 'book_table', arguments: { partySize: 2, time: '19:00' }, callId, agentId });

    // The result goes back as a function_call_output item, then the next response is asked for.
    await poll(() => first.items.some((i) => i.type === 'function_call_output')).toBe(true);
    const outputEvent = first.received.findIndex((e) => e['type'] === 'conversation.item.create' && (e['item'] as any)?.type === 'function_call_output');
    const output = first.received[outputEvent]!['item'] as { call_id: string; output: string };
    expect(output.call_id).toBe('call_book1');
    expect(output.output).toContain('BK-42');
    await poll(() => first.received.slice(outputEvent + 1).some((e) => e['type'] === 'response.create')).toBe(true);
    await poll(async () => (await transcriptItems()).some((i) => i.role === 'tool' && i.text.startsWith('book_table'))).toBe(true);
  });

  it('barge-in: clear at the carrier, cancel of the live response, truncate to what the carrier played, item interrupted', { timeout: STAGE_TIMEOUT }, async () => {
    const answer = await poll(() => assistantItem(first, LONG_ANSWER)).toBeDefined().then(() => assistantItem(first, LONG_ANSWER)!);
    ids.answer = answer.id;
    const answerResponse = responseIdOf(first, answer.id);
    const beforeAnswer = GREETING_MS * 8; // everything the carrier played before the answer
    // 1.5 s of the answer heard, then the caller talks over it.
    await poll(() => carrier.playedBytes - beforeAnswer >= 1500 * 8).toBe(true);
    carrier.say(readUlawFixture('long'));

    await poll(() => carrier.clearsAtMs.length).toBe(1);
    await poll(() => playedAtClear.length).toBe(1);
    const playedMs = (playedAtClear[0]! - beforeAnswer) / 8;
    const truncation = await poll(() => first.truncations[0]).toBeDefined().then(() => first.truncations[0]!);
    expect(truncation.itemId).toBe(answer.id);
    expect(truncation.accepted).toBe(true);
    expect(first.eventsOf('conversation.item.truncate')).toHaveLength(1);
    expect(first.eventsOf('conversation.item.truncate')[0]).toMatchObject({ item_id: answer.id, content_index: 0 });

    // The cut is anchored on acked marks: at or after the last mark the carrier echoed as played
    // (not cleared), refined by the time since that ack, never past what the carrier played
    // (issue 5). How close it comes to the carrier's clock is a timing, printed below: on a loaded
    // machine the fake carrier's own player runs late, so a bound on it here failed by chance.
    const answerMarks = carrier.marksEchoed.filter((m) => !m.cleared && m.atMs <= carrier.clearsAtMs[0]! && !m.name.endsWith(':end'));
    const serial = markOffset(answerMarks[answerMarks.length - 1]!.name).serial;
    const playedMarks = answerMarks.map((m) => markOffset(m.name)).filter((m) => m.serial === serial).map((m) => m.atMs);
    const lastPlayedMark = Math.max(...playedMarks);
    expect(truncation.audioEndMs).toBeLessThanOrEqual(playedMs);
    expect(truncation.audioEndMs).toBeGreaterThanOrEqual(lastPlayedMark - MARK_EVERY_MS);
    expect(truncation.audioEndMs).toBeLessThanOrEqual(lastPlayedMark + MARK_EVERY_MS);
    expect(truncation.audioEndMs).toBeGreaterThanOrEqual(1400);
    // Never more than was sent to the carrier, nor than the provider produced.
    expect(truncation.audioEndMs).toBeLessThanOrEqual(answer.audioMs);
    console.log(`barge-in truncate: audio_end_ms ${truncation.audioEndMs}, carrier played ${playedMs.toFixed(1)} ms of the item at the clear (marks every ${MARK_EVERY_MS} ms)`);

    // The answer was still streaming (12 s produced at 2x real time, cut after ~1.5 s): cancelled.
    expect(first.cancels).toEqual([{ responseId: answerResponse }]);
    const done = first.sent.find((e) => e['type'] === 'response.done' && (e['response'] as any).id === answerResponse)!;
    expect((done['response'] as any).status).toBe('cancelled');
    expect(first.sent.filter((e) => e['type'] === 'error')).toEqual([]);

    // The agent's transcript item is what the caller heard, marked interrupted.
    await poll(async () => (await transcriptItems()).filter((i) => i.role === 'agent').length).toBe(2);
    const cut = (await transcriptItems()).filter((i) => i.role === 'agent')[1]!;
    expect(cut.interrupted).toBe(true);
    expect(cut.text.length).toBeGreaterThan(0);
    expect(LONG_ANSWER.startsWith(cut.text)).toBe(true);
    expect(cut.text.length).toBeLessThan(LONG_ANSWER.length / 2);

    // The interruption is answered, and that reply plays in full.
    await poll(async () => (await transcriptItems()).filter((i) => i.role === 'user').map((i) => i.text)).toEqual([BOOK_Q, INTERRUPT_Q]);
    const reply = await poll(() => assistantItem(first, SHORT_REPLY)).toBeDefined().then(() => assistantItem(first, SHORT_REPLY)!);
    ids.reply = reply.id;
    await poll(() => carrier.playedBytes).toBe(playedAtClear[0]! + SHORT_REPLY_MS * 8);
    expect(deltaBytes(first, reply.id).length).toBe(SHORT_REPLY_MS * 8);
    await poll(async () => (await transcriptItems()).filter((i) => i.role === 'agent').map((i) => i.text)).toEqual([GREETING, cut.text, SHORT_REPLY]);
    expect(carrier.clearsAtMs).toHaveLength(1);
  });

  it('survives the provider dropping the socket: new session, same set-up, history restored, a note, and the caller is heard and answered', { timeout: STAGE_TIMEOUT }, async () => {
    const agentTexts = (await transcriptItems()).filter((i) => i.role === 'agent').map((i) => i.text);
    const playedBefore = carrier.playedBytes;
    rt.dropSocket();
    expect(first.isOpen).toBe(false);

    const second = await poll(() => rt.connections[1]).toBeDefined().then(() => rt.connections[1]!);
    await poll(() => second.eventsOf('session.update').length).toBeGreaterThan(0);
    expect(second.eventsOf('session.update')[0]!['session']).toEqual(first.eventsOf('session.update')[0]!['session']);
    // The conversation so far, replayed as items: every turn, the cut answer as heard.
    await poll(() => second.items.filter((i) => i.type === 'message').length).toBe(5);
    const replayed = second.items.filter((i) => i.type === 'message').map((i) => [i.role, i.text]);
    expect(replayed).toEqual([
      ['assistant', GREETING],
      ['user', BOOK_Q],
      ['assistant', agentTexts[1]],
      ['user', INTERRUPT_Q],
      ['assistant', SHORT_REPLY],
    ]);
    expect(second.eventsOf('response.create')).toHaveLength(0); // nothing said unprompted
    await poll(async () => (await t.ctx.store.getCall(callId))!.notes ?? []).toContain('realtime session reconnected');
    expect((await t.ctx.store.getCall(callId))!.status).toBe('in-progress');

    // The call goes on: the caller's audio reaches the new session and its answer the caller.
    const hello = readUlawFixture('hello');
    carrier.say(hello);
    await poll(async () => (await transcriptItems()).filter((i) => i.role === 'user').map((i) => i.text)).toEqual([BOOK_Q, INTERRUPT_Q, AFTER_DROP_Q]);
    expect(Buffer.concat(second.inputChunks).includes(wholeFrames(hello))).toBe(true);
    const reply = await poll(() => assistantItem(second, AFTER_DROP_REPLY)).toBeDefined().then(() => assistantItem(second, AFTER_DROP_REPLY)!);
    ids.afterDrop = reply.id;
    await poll(() => carrier.playedBytes).toBe(playedBefore + AFTER_DROP_REPLY_MS * 8);
    expect(deltaBytes(second, reply.id).length).toBe(AFTER_DROP_REPLY_MS * 8);
    await poll(async () => (await transcriptItems()).filter((i) => i.role === 'agent').at(-1)?.text).toBe(AFTER_DROP_REPLY);
    expect(rt.connections).toHaveLength(2);
  });

  it('over the whole call the caller heard exactly the provider\'s bytes, in order, minus what barge-in cut', { timeout: STAGE_TIMEOUT }, async () => {
    const second = rt.connections[1]!;
    expect(Object.values(ids).every((id) => id !== '')).toBe(true); // every stage above ran to its end
    const answerHeard = playedAtClear[0]! - GREETING_MS * 8;
    expect(answerHeard).toBeGreaterThan(0);
    const expected = Buffer.concat([
      deltaBytes(first, ids.greeting),
      deltaBytes(first, ids.answer).subarray(0, answerHeard),
      deltaBytes(first, ids.reply),
      deltaBytes(second, ids.afterDrop),
    ]);
    const heard = Buffer.concat(carrier.heardAudio);
    expect(heard.length).toBe(expected.length);
    expect(heard.equals(expected)).toBe(true);
    expect(carrier.protocolErrors).toEqual([]);
  });

  it('ends on hang-up as caller_hangup, with transcript, SSE replay, a stereo recording and latency turns', { timeout: STAGE_TIMEOUT }, async () => {
    await carrier.hangup();
    await poll(async () => (await t.ctx.store.getCall(callId))!.status).toBe('completed');
    const ended = await t.api('GET', `/v1/calls/${callId}`);
    expect(ended.body).toMatchObject({ status: 'completed', endReason: 'caller_hangup', direction: 'inbound', agentId, recordingAvailable: true });
    // Turns with audio after the caller spoke: the tool answer, the short reply, the reply after the drop.
    expect(ended.body.latency.turns).toBeGreaterThanOrEqual(3);
    expect(ended.body.latency.p50Ms).toBeGreaterThan(0);
    await poll(() => rt.connections.every((c) => !c.isOpen)).toBe(true);
    expect(t.ctx.calls.get(callId)).toBeUndefined();

    const items = await transcriptItems();
    expect(items.map((i) => i.role)).toEqual(['agent', 'user', 'tool', 'agent', 'user', 'agent', 'user', 'agent']);
    expect(items.filter((i) => i.role === 'user').map((i) => i.text)).toEqual([BOOK_Q, INTERRUPT_Q, AFTER_DROP_Q]);
    expect(items.filter((i) => i.role === 'agent').map((i) => i.interrupted ?? false)).toEqual([false, true, false, false]);

    const sse = await fetch(`${t.baseUrl}/v1/calls/${callId}/transcript/stream`, { headers: { authorization: `Bearer ${t.adminKey}` } });
    const body = await sse.text(); // replays what is stored, then closes after call.ended
    expect(body).toContain('event: transcript.final');
    expect(body).toContain('event: agent.interrupted');
    expect(body).toContain('event: call.ended');
    for (const text of [GREETING, BOOK_Q, INTERRUPT_Q, SHORT_REPLY, AFTER_DROP_Q, AFTER_DROP_REPLY]) expect(body).toContain(text);

    const rec = await fetch(`${t.baseUrl}/v1/calls/${callId}/recording`, { headers: { authorization: `Bearer ${t.adminKey}` } });
    expect(rec.status).toBe(200);
    const wav = path.join(tmp, 'call.wav');
    writeFileSync(wav, Buffer.from(await rec.arrayBuffer()));
    expect(execFileSync('soxi', ['-c', wav]).toString().trim()).toBe('2');
    expect(execFileSync('soxi', ['-r', wav]).toString().trim()).toBe('8000');
    expect(Number(execFileSync('soxi', ['-D', wav]).toString().trim())).toBeGreaterThan(8);
  });
});
