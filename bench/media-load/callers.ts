/**
 * The media-load bench's load generator, in its own process: N carrier simulators
 * (test/fakes/twilio-carrier.ts) placed as inbound calls through signed `/twilio/voice`
 * webhooks, each running the scripted conversation of script.ts. It timestamps what a caller
 * would perceive: when its last voiced frame left (speech end), when agent audio arrived
 * (played at once: the carrier's queue is empty then), when `clear` arrived.
 *
 * IPC: parent sends RunRequest; we send `started` (all calls placed), `window-end`, `results`.
 */
import { createHmac } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { TwilioCarrier } from '../../test/fakes/twilio-carrier.js';
import { parseStream } from '../../test/fakes/twilio-rest.js';
import { readUlawFixture } from '../../test/helpers/fixtures.js';
import { ULAW_DECODE_TABLE } from '../../src/media/index.js';
import { percentile } from '../lib/stats.js';
import {
  AGENT_IDLE_MS,
  BARGE_IN_AFTER_MS,
  BARGE_IN_CLIP,
  BARGE_IN_TURN,
  CALLER_TURN,
  SPEECH_RMS,
  type CallerResults,
  type RunRequest,
} from './script.js';

const FRAME_MS = 20;
const MEDIA_TAG = Buffer.from('"event":"media"');
const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type ClipName = 'question' | 'hello';

interface Clip {
  name: ClipName;
  audio: Buffer;
  /** 0-based 20 ms blocks: first and last with RMS ≥ SPEECH_RMS. */
  firstVoiced: number;
  lastVoiced: number;
}

function clip(name: ClipName): Clip {
  const audio = readUlawFixture(name);
  let first = -1;
  let last = -1;
  for (let b = 0; b * 160 < audio.length; b++) {
    let sum = 0;
    const end = Math.min(audio.length, (b + 1) * 160);
    for (let i = b * 160; i < end; i++) sum += ULAW_DECODE_TABLE[audio[i]!]! ** 2;
    if (Math.sqrt(sum / 160) >= SPEECH_RMS) {
      if (first < 0) first = b;
      last = b;
    }
  }
  return { name, audio, firstVoiced: first, lastVoiced: last };
}

interface Call {
  c: TwilioCarrier;
  lastMediaAt: number;
  firstMediaAt: number | null;
  /** frame number → called with the wall time that frame left. */
  watch: Map<number, (at: number) => void>;
  /** Absolute ms where an agent utterance legitimately ends: caller turns and clears. */
  boundaries: number[];
  /** Every clip this caller said: [clip, caller frames sent before it]. */
  said: Array<[ClipName, number]>;
  index: number;
}

const stats = { v2v: [] as number[], v2vClips: [] as Array<'question' | 'hello'>, v2vRefs: [] as Array<[number, number]>, noAnswer: 0, bargeIn: [] as number[], bargeInMissed: 0, sendLate: [] as number[] };
const loop = monitorEventLoopDelay({ resolution: 10 });

process.on('message', (m: RunRequest) => {
  if (m.type === 'run') void run(m).catch((err: Error) => {
    console.error(err);
    process.exit(1);
  });
});

async function run(req: RunRequest): Promise<void> {
  const turnClip = clip(CALLER_TURN);
  const bargeClip = clip(BARGE_IN_CLIP);
  const calls: Call[] = [];
  let connectFailures = 0;
  let next = 0;
  // Ramp: a few webhooks at a time, like calls arriving over a few seconds.
  const ramp = async () => {
    while (next < req.calls) {
      const i = next++;
      try {
        calls.push(await place(req, i));
      } catch (err) {
        connectFailures++;
        if (connectFailures <= 3) console.error(`call ${i}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(20, req.calls) }, ramp));

  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const endAt = t0 + req.seconds * 1000;
  process.send!({ type: 'started', connected: calls.length });
  const scripts = calls.map((call) => converse(call, endAt, turnClip, bargeClip));
  await sleep(Math.max(0, endAt - now()));
  process.send!({ type: 'window-end' });
  const cpu = process.cpuUsage(cpu0);
  const windowMs = now() - t0;
  loop.disable();
  const closedEarly = calls.filter((x) => !x.c.open).length;
  await Promise.all(calls.map((x) => x.c.hangup()));
  await Promise.allSettled(scripts);

  let underruns = 0;
  let underrunMs = 0;
  const gapSamples: Array<[number, number]> = [];
  let utterances = 0;
  for (const x of calls) {
    const segs = x.c.segments.map((s) => ({ start: s.startMs + x.c.startedAt, end: s.endMs + x.c.startedAt }));
    const bounds = [...x.boundaries, ...x.c.clearsAtMs.map((t) => t + x.c.startedAt)];
    if (segs.length) utterances++;
    let uttStart = segs[0]?.start ?? 0;
    for (let i = 1; i < segs.length; i++) {
      const a = segs[i - 1]!;
      const b = segs[i]!;
      const legit = bounds.some((t) => t >= a.end - 25 && t <= b.start + 1);
      if (legit) {
        utterances++;
        uttStart = b.start;
      } else if (b.start - a.end >= 5) {
        underruns++;
        underrunMs += b.start - a.end;
        if (gapSamples.length < 40) gapSamples.push([Math.round(a.end - uttStart), Math.round(b.start - a.end)]);
      }
    }
  }
  const results: CallerResults = {
    type: 'results',
    calls: req.calls,
    connected: calls.length,
    connectFailures,
    closedEarly,
    framesSent: calls.reduce((s, x) => s + x.c.framesSent, 0),
    framesReceived: calls.reduce((s, x) => s + x.c.framesReceived, 0),
    v2vMs: stats.v2v,
    v2vClips: stats.v2vClips,
    v2vRefs: stats.v2vRefs,
    callClips: Array.from({ length: req.calls }, (_, i) => calls.find((x) => x.index === i)?.said ?? []),
    noAnswer: stats.noAnswer,
    bargeInMs: stats.bargeIn,
    bargeInMissed: stats.bargeInMissed,
    underruns,
    underrunMsTotal: Math.round(underrunMs),
    underrunSamples: gapSamples,
    utterancesHeard: utterances,
    protocolErrors: calls.reduce((s, x) => s + x.c.protocolErrors.length, 0),
    loadgenCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / windowMs) * 1000) / 10,
    loadgenLoopLagP99Ms: Math.round(loop.percentile(99) / 1e5) / 10,
    sendLateP99Ms: Math.round(percentile(stats.sendLate, 99) * 10) / 10,
  };
  process.send!(results, () => process.exit(0));
}

/** An inbound call: the signed voice webhook, then the media stream its TwiML names. */
async function place(req: RunRequest, i: number): Promise<Call> {
  const callSid = 'CA' + (0x100000 + i).toString(16).padStart(32, '0');
  const url = `${req.publicUrl}/twilio/voice`;
  const params: Record<string, string> = {
    AccountSid: req.accountSid,
    ApiVersion: '2010-04-01',
    CallSid: callSid,
    CallStatus: 'ringing',
    Direction: 'inbound',
    From: `+1415555${String(i % 10000).padStart(4, '0')}`,
    To: req.toNumber,
  };
  // PROTOCOLS.md §2.3: HMAC-SHA1 over the URL and the sorted name+value pairs, base64.
  let data = url;
  for (const k of Object.keys(params).sort()) data += k + params[k];
  const signature = createHmac('sha1', req.authToken).update(data, 'utf8').digest('base64');
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: new URLSearchParams(params).toString(),
  });
  const twiml = await res.text();
  const stream = parseStream(twiml);
  if (res.status !== 200 || !stream) throw new Error(`voice webhook ${res.status}: ${twiml.slice(0, 200)}`);
  const c = await TwilioCarrier.connect({ url: stream.url, customParameters: stream.parameters, callSid, accountSid: req.accountSid });
  const call: Call = { c, lastMediaAt: 0, firstMediaAt: null, watch: new Map(), boundaries: [], said: [], index: i };
  c.ws.on('message', (d: Buffer, isBinary: boolean) => {
    if (isBinary || d.indexOf(MEDIA_TAG) < 0) return;
    const t = now();
    call.lastMediaAt = t;
    call.firstMediaAt ??= t;
  });
  // Timestamp watched frames as they leave (the carrier sends from its shared ticker).
  const send = c.ws.send.bind(c.ws) as (...a: unknown[]) => void;
  (c.ws as unknown as { send: (...a: unknown[]) => void }).send = (...a: unknown[]) => {
    send(...a);
    const cb = call.watch.get(c.framesSent);
    if (cb) {
      call.watch.delete(c.framesSent);
      cb(now());
    }
  };
  return call;
}

/** Queues a clip; resolves the wall times its first and last voiced frames leave. */
function say(call: Call, k: Clip): { onset: Promise<number>; end: Promise<number>; ref: [number, number] } {
  const s = call.c.framesSent;
  const ref: [number, number] = [call.index, call.said.length];
  call.said.push([k.name, s]);
  call.boundaries.push(now());
  call.c.say(k.audio);
  const at = (frame: number) =>
    new Promise<number>((resolve) =>
      call.watch.set(frame, (t) => {
        stats.sendLate.push(t - (call.c.startedAt + frame * FRAME_MS));
        resolve(t);
      }),
    );
  // Frame numbers are 1-based; the clip's block b goes out as frame s + 1 + b.
  return { onset: at(s + 1 + k.firstVoiced), end: at(s + 1 + k.lastVoiced), ref };
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = now() + timeoutMs;
  while (!check()) {
    if (now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

const agentIdle = (x: Call) => until(() => x.c.queuedMs === 0 && now() - x.lastMediaAt >= AGENT_IDLE_MS, 30_000);

async function converse(x: Call, endAt: number, turnClip: Clip, bargeClip: Clip): Promise<void> {
  await until(() => x.lastMediaAt > 0 || !x.c.open, 15_000); // the greeting
  await agentIdle(x);
  await sleep(Math.random() * 3000); // de-synchronise the calls
  for (let turn = 0; now() + 9000 < endAt && x.c.open; turn++) {
    x.firstMediaAt = null;
    const { end, ref } = say(x, turnClip);
    const speechEnd = await end;
    if (!(await until(() => x.firstMediaAt !== null || !x.c.open, 10_000)) || x.firstMediaAt === null) {
      stats.noAnswer++;
    } else {
      stats.v2v.push(x.firstMediaAt - speechEnd);
      stats.v2vClips.push(CALLER_TURN);
      stats.v2vRefs.push(ref);
      if (turn === BARGE_IN_TURN) {
        await sleep(BARGE_IN_AFTER_MS);
        const before = x.c.clearsAtMs.length;
        const { onset, end: bargeEnd, ref: bargeRef } = say(x, bargeClip);
        // The first voiced frame carries 20 ms of audio captured before it could be sent.
        const speechStart = (await onset) - FRAME_MS;
        if (await until(() => x.c.clearsAtMs.length > before, 5000)) {
          const clearAt = x.c.startedAt + x.c.clearsAtMs[before]!;
          stats.bargeIn.push(clearAt - speechStart);
          x.boundaries.push(clearAt);
          // The agent answers what the caller cut in with before the caller goes on. Without
          // this wait the next turn began ~300 ms after the barge-in clip and both VADs merged
          // the two into one long turn (the old +1.7 s voice-to-voice tail).
          x.firstMediaAt = null;
          const interjectionEnd = await bargeEnd;
          if (!(await until(() => x.firstMediaAt !== null || !x.c.open, 10_000)) || x.firstMediaAt === null) stats.noAnswer++;
          else {
            stats.v2v.push(x.firstMediaAt - interjectionEnd);
            stats.v2vClips.push(BARGE_IN_CLIP);
            stats.v2vRefs.push(bargeRef);
          }
        } else stats.bargeInMissed++;
      }
    }
    await agentIdle(x);
    await sleep(300);
  }
}
