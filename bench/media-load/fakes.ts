/**
 * The media-load bench's provider side, in its own process so its CPU is not the gateway's:
 * Deepgram, OpenAI chat, ElevenLabs, OpenAI Realtime and Twilio REST fakes with FIXED
 * latencies (see LATENCY). Sends `{type:'ready', ...urls}` over IPC, exits when the parent
 * disconnects.
 */
import { startFakeDeepgram } from '../../test/fakes/deepgram.js';
import { startFakeOpenAiChat } from '../../test/fakes/openai-chat.js';
import { startFakeElevenLabs } from '../../test/fakes/elevenlabs.js';
import { startFakeCartesia } from '../../test/fakes/cartesia.js';
import { startFakeRealtime } from '../../test/fakes/openai-realtime.js';
import { FakeTwilioRest } from '../../test/fakes/twilio-rest.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LATENCY, PIPELINE_REPLY, REALTIME_REPLY_MS, TTS_MS_PER_CHAR } from './script.js';

const [dg, chat, el, car, rt, twilio] = await Promise.all([
  startFakeDeepgram({ finalDelayMs: LATENCY.sttFinalMs, fallbackTranscript: 'What are your opening hours?', transcripts: [] }),
  startFakeOpenAiChat({
    respond: () => ({ firstTokenDelayMs: LATENCY.llmFirstTokenMs, tokens: PIPELINE_REPLY.split(/(?<= )/) }),
  }),
  startFakeElevenLabs({ firstChunkDelayMs: LATENCY.ttsFirstByteMs, msPerChar: TTS_MS_PER_CHAR }),
  startFakeCartesia({ firstChunkDelayMs: LATENCY.ttsFirstByteMs, msPerChar: TTS_MS_PER_CHAR }),
  startFakeRealtime({
    apiKey: 'sk-test',
    firstDeltaMs: LATENCY.realtimeFirstDeltaMs,
    responder: (ctx) => {
      const quoted = ctx.instructions ? /"([^"]+)"/.exec(ctx.instructions) : null;
      return quoted ? { transcript: quoted[1], audioMs: 2000 } : { transcript: 'Sure, we open at nine and close at five.', audioMs: REALTIME_REPLY_MS };
    },
  }),
  new FakeTwilioRest({ keepHistory: false }).start(),
]);

// The fakes keep per-connection histories for tests; a long bench would grow them without end.
const trim = setInterval(() => {
  for (const c of dg.connections) c.sent.length = 0;
  for (let i = dg.connections.length - 1; i >= 0; i--) if (dg.connections[i]!.closed) dg.connections.splice(i, 1);
  for (let i = rt.connections.length - 1; i >= 0; i--) if (!rt.connections[i]!.isOpen) rt.connections.splice(i, 1);
  chat.requests.length = 0;
  for (const c of el.ws) c.messages.length = Math.min(c.messages.length, 1);
  for (let i = car.ws.length - 1; i >= 0; i--) if (car.ws[i]!.closed) car.ws.splice(i, 1);
  for (const c of car.ws) {
    c.messages.length = 0;
    for (const [id, ctx] of c.contexts) if (ctx.done || ctx.cancelled) c.contexts.delete(id);
  }
}, 5000);

process.send!({
  type: 'ready',
  env: {
    DEEPGRAM_API_KEY: 'dg-test',
    DEEPGRAM_URL: dg.url,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: chat.url,
    ELEVENLABS_API_KEY: 'el-test',
    ELEVENLABS_BASE_URL: el.url,
    CARTESIA_API_KEY: 'sk_car_test',
    CARTESIA_BASE_URL: car.url,
    OPENAI_REALTIME_URL: rt.url,
    ...twilio.env(),
  },
  authToken: twilio.authToken,
  accountSid: twilio.accountSid,
});

// The fakes share the machine with the gateway: a late timer here shows up as gateway
// overhead in the voice-to-voice figures, so the run reports how punctual the fakes were.
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
let window = { at: performance.now(), cpu: process.cpuUsage() };
process.on('message', (m: { type: string }) => {
  if (m.type === 'window-start') {
    lag.reset();
    window = { at: performance.now(), cpu: process.cpuUsage() };
  } else if (m.type === 'window-end') {
    const cpu = process.cpuUsage(window.cpu);
    const wallMs = performance.now() - window.at;
    // resolution 10: the histogram's floor is the sampling interval itself.
    const p99 = Math.max(0, lag.percentile(99) / 1e6 - 10);
    process.send!({ type: 'fakes-stats', cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100, loopLagP99Ms: p99 });
  }
});

process.on('disconnect', () => {
  clearInterval(trim);
  void Promise.allSettled([dg.close(), chat.close(), el.close(), car.close(), rt.close(), twilio.close()]).then(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
});
