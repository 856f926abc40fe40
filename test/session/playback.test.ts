import { describe, expect, it } from 'vitest';
import { PacedPlayback, Pacer, type PlaybackSink } from '../../src/session/index.js';
import { MULAW_8K, PCM16_16K } from '../../src/transport/types.js';
import { FakeClock } from './fake-clock.js';

/**
 * A sink that models the caller's player like Twilio (PROTOCOLS.md §1.5): audio plays at 8 bytes
 * per ms from when it arrives, a mark is echoed once the audio before it has played, and `clear`
 * drops unplayed audio and echoes pending marks at once.
 */
class PlayerSink implements PlaybackSink {
  bufferedAmount = 0;
  queue: Array<{ audio: number } | { mark: string }> = [];
  sent: Array<{ at: number; bytes: number }> = [];
  marksSent: string[] = [];
  acks: Array<{ name: string; cleared: boolean; at: number }> = [];
  clears = 0;
  playedBytes = 0;
  /** Wall times at which the player had nothing to play while audio was still expected. */
  constructor(private readonly clock: FakeClock, private readonly playback: () => PacedPlayback, private readonly bytesPerMs = 8) {}
  sendAudio(payload: Buffer): void {
    this.sent.push({ at: this.clock.now(), bytes: payload.length });
    this.queue.push({ audio: payload.length });
  }
  mark(name: string): void {
    this.marksSent.push(name);
    this.queue.push({ mark: name });
    this.drainMarks();
  }
  clear(): void {
    this.clears++;
    const marks = this.queue.filter((q): q is { mark: string } => 'mark' in q);
    this.queue = [];
    for (const m of marks) this.ack(m.mark, true);
  }
  /** One ms of playback. */
  play(): void {
    let budget = this.bytesPerMs;
    while (budget > 0 && this.queue.length > 0) {
      const head = this.queue[0]!;
      if ('mark' in head) break;
      const n = Math.min(budget, head.audio);
      head.audio -= n;
      budget -= n;
      this.playedBytes += n;
      if (head.audio === 0) this.queue.shift();
      this.drainMarks();
    }
  }
  get queuedBytes(): number {
    return this.queue.reduce((s, q) => s + ('audio' in q ? q.audio : 0), 0);
  }
  private drainMarks(): void {
    while (this.queue.length > 0 && 'mark' in this.queue[0]!) {
      const m = this.queue.shift() as { mark: string };
      this.ack(m.mark, false);
    }
  }
  private ack(name: string, cleared: boolean): void {
    this.acks.push({ name, cleared, at: this.clock.now() });
    // The transport reports pending marks flushed by a clear as cleared.
    this.playback().onMark(name, cleared);
  }
}

function setup(opts: { leadMs?: number; pcm?: boolean; chunkMs?: number } = {}) {
  const clock = new FakeClock();
  const pacer = new Pacer(clock, 10);
  const frames: Array<{ bytes: number; playAt: number }> = [];
  const clearsAt: number[] = [];
  let playback!: PacedPlayback;
  const bytesPerMs = opts.pcm ? 32 : 8;
  const sink = new PlayerSink(clock, () => playback, bytesPerMs);
  playback = new PacedPlayback({
    format: opts.pcm ? PCM16_16K : MULAW_8K,
    pacer,
    leadMs: opts.leadMs ?? 120,
    chunkMs: opts.chunkMs,
    hostTime: (ms) => ms - 1000,
    onFrame: (f, playAt) => frames.push({ bytes: f.length, playAt }),
    onClear: (at) => clearsAt.push(at),
  });
  playback.attach(sink);
  const run = (ms: number) => clock.advance(ms, () => sink.play());
  return { clock, pacer, sink, playback, frames, clearsAt, run };
}

describe('paced playback', () => {
  it('sends 20 ms frames no more than the lead ahead of the caller and never starves a continuous utterance', () => {
    const { sink, playback, run } = setup({ leadMs: 120 });
    playback.enqueue('u1', Buffer.alloc(8 * 2000, 0x55)); // 2 s
    playback.finish('u1');
    let maxAhead = 0;
    let starvedMs = 0;
    for (let i = 0; i < 2100; i++) {
      run(1);
      maxAhead = Math.max(maxAhead, sink.queuedBytes / 8);
      if (i > 20 && i < 1950 && sink.queuedBytes === 0) starvedMs++;
    }
    expect(sink.sent.every((s) => s.bytes === 160)).toBe(true);
    expect(sink.sent.reduce((s, f) => s + f.bytes, 0)).toBe(16000);
    // The caller's buffer holds about the lead (plus at most one tick and one frame).
    expect(maxAhead).toBeLessThanOrEqual(120 + 10 + 20);
    expect(maxAhead).toBeGreaterThanOrEqual(100);
    expect(starvedMs).toBe(0);
    expect(playback.active).toBe(false);
  });

  it('advances heardMs only on acknowledged marks and reports done once the last mark is played', () => {
    const { sink, playback, run } = setup();
    const first: Array<[string, number]> = [];
    const done: unknown[] = [];
    playback.onFirstAudioSent((id, at) => first.push([id, at]));
    playback.onUtteranceDone((p) => done.push(p));
    playback.enqueue('u1', Buffer.alloc(8 * 1000, 1));
    playback.finish('u1');
    run(15);
    expect(first).toEqual([['u1', 10]]);
    const early = playback.position('u1');
    expect(early.sentMs).toBeGreaterThan(0);
    expect(early.heardMs).toBe(0);
    run(500);
    const mid = playback.position('u1');
    expect(mid.heardMs).toBeGreaterThan(300);
    expect(mid.heardMs).toBeLessThanOrEqual(mid.sentMs);
    // heardMs is exactly the offset of the latest acknowledged mark.
    const lastAck = sink.acks.filter((a) => !a.cleared).at(-1)!.name;
    expect(lastAck).toBe(`vg1:${mid.heardMs}`);
    expect(done).toEqual([]);
    run(700);
    expect(done).toEqual([{ utteranceId: 'u1', heardMs: 1000, sentMs: 1000 }]);
    expect(playback.position('u1')).toEqual({ utteranceId: 'u1', heardMs: 1000, sentMs: 1000 });
    expect(playback.active).toBe(false);
  });

  it('clear mid-utterance sends clear, drops the queue and reports what the caller heard', () => {
    const { sink, playback, run, frames, clearsAt, clock } = setup();
    const done: unknown[] = [];
    playback.onUtteranceDone((p) => done.push(p));
    playback.enqueue('u1', Buffer.alloc(8 * 3000, 1));
    playback.enqueue('u2', Buffer.alloc(8 * 500, 2));
    run(1234);
    const pos = playback.clear();
    expect(sink.clears).toBe(1);
    expect(clearsAt).toEqual([clock.now()]);
    expect(pos.utteranceId).toBe('u1');
    expect(pos.heardMs).toBeLessThanOrEqual(pos.sentMs);
    // The caller heard ~1234 ms: the last acked mark plus the time since its ack, never past the
    // next unacknowledged mark nor what the caller played.
    expect(pos.heardMs).toBeLessThanOrEqual(sink.playedBytes / 8);
    const acked = sink.acks.filter((a) => !a.cleared).map((a) => Number(a.name.split(':')[1]));
    const lastAcked = Math.max(...acked);
    expect(pos.heardMs).toBeGreaterThanOrEqual(lastAcked);
    expect(pos.heardMs).toBeLessThanOrEqual(lastAcked + 100);
    expect(sink.playedBytes / 8 - pos.heardMs).toBeLessThan(40); // 10 ms margin + fake-clock steps
    // Marks flushed by the clear came back flagged and did not move heardMs.
    expect(sink.acks.some((a) => a.cleared)).toBe(true);
    expect(playback.position('u1')).toEqual(pos);
    expect(playback.active).toBe(false);
    const sentBefore = frames.length;
    run(500);
    expect(frames.length).toBe(sentBefore);
    expect(done).toEqual([]);
  });

  it('plays utterances back to back and starts a new one after a clear', () => {
    const { playback, run, sink } = setup();
    const done: string[] = [];
    playback.onUtteranceDone((p) => done.push(p.utteranceId!));
    playback.enqueue('a', Buffer.alloc(8 * 300, 1));
    playback.finish('a');
    playback.enqueue('b', Buffer.alloc(8 * 300, 2));
    playback.finish('b');
    run(800);
    expect(done).toEqual(['a', 'b']);
    playback.enqueue('c', Buffer.alloc(8 * 1000, 3));
    run(200);
    playback.clear();
    playback.enqueue('d', Buffer.alloc(8 * 100, 4));
    playback.finish('d');
    run(300);
    expect(done).toEqual(['a', 'b', 'd']);
    expect(sink.marksSent.filter((m) => m.endsWith(':end'))).toHaveLength(3);
  });

  it('holds a partial frame until more audio arrives or the utterance finishes', () => {
    const { playback, run, sink } = setup();
    playback.enqueue('u', Buffer.alloc(100, 1));
    run(50);
    expect(sink.sent).toEqual([]);
    playback.enqueue('u', Buffer.alloc(100, 1));
    run(10);
    expect(sink.sent.map((s) => s.bytes)).toEqual([160]);
    playback.finish('u');
    run(100);
    expect(sink.sent.map((s) => s.bytes)).toEqual([160, 40]);
  });

  it('pauses while the socket is congested', () => {
    const { playback, run, sink } = setup();
    sink.bufferedAmount = 1 << 20;
    playback.enqueue('u', Buffer.alloc(8 * 500, 1));
    run(200);
    expect(sink.sent).toEqual([]);
    sink.bufferedAmount = 0;
    run(20);
    expect(sink.sent.length).toBeGreaterThan(0);
  });

  it('cuts PCM16 16 kHz audio into 640-byte frames', () => {
    const { playback, run, sink } = setup({ pcm: true });
    playback.enqueue('u', Buffer.alloc(32 * 100 + 3, 1));
    playback.finish('u');
    run(300);
    expect(sink.sent.map((s) => s.bytes)).toEqual([640, 640, 640, 640, 640, 2]);
  });

  it('schedules each frame at the time it starts playing, back to back', () => {
    const { playback, run, frames } = setup();
    playback.enqueue('u', Buffer.alloc(8 * 400, 1));
    playback.finish('u');
    run(500);
    for (let i = 1; i < frames.length; i++) expect(frames[i]!.playAt - frames[i - 1]!.playAt).toBe(20);
  });

  it('shares one timer across playbacks and stops it when all are idle', () => {
    const clock = new FakeClock();
    const pacer = new Pacer(clock, 10);
    const sinks = [0, 1, 2].map(() => ({ bufferedAmount: 0, n: 0, sendAudio() { this.n++; }, mark() {}, clear() {} }));
    const pbs = sinks.map((s) => {
      const p = new PacedPlayback({ format: MULAW_8K, pacer, leadMs: 60, hostTime: (x) => x });
      p.attach(s);
      p.enqueue('u', Buffer.alloc(800, 1));
      p.finish('u');
      return p;
    });
    expect(clock.timerCount).toBe(1);
    expect(pacer.size).toBe(3);
    clock.advance(200);
    expect(sinks.map((s) => s.n)).toEqual([5, 5, 5]);
    expect(pacer.size).toBe(0);
    expect(clock.timerCount).toBe(0);
    expect(pbs.every((p) => p.active)).toBe(true); // waiting for acks, without ticking
  });
});

describe('paced playback in 100 ms chunks (what calls use)', () => {
  it('sends whole-frame chunks of at most 100 ms, a mark after each, and never starves the caller', () => {
    const { sink, playback, frames, run } = setup({ chunkMs: 100 });
    playback.enqueue('u1', Buffer.alloc(8 * 2010, 0x55)); // 2.01 s: the tail is a partial frame
    playback.finish('u1');
    let maxAhead = 0;
    let starvedMs = 0;
    for (let i = 0; i < 2200; i++) {
      run(1);
      maxAhead = Math.max(maxAhead, sink.queuedBytes / 8);
      if (i > 20 && i < 1950 && sink.queuedBytes === 0) starvedMs++;
    }
    const sizes = sink.sent.map((s) => s.bytes);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(16080);
    expect(sizes.slice(0, -1).every((n) => n % 160 === 0 && n <= 800)).toBe(true);
    expect(sizes.at(-1)).toBe(80); // the utterance's tail goes out as it is
    // About a fifth of the messages 20 ms frames would need.
    expect(sink.sent.length).toBeLessThanOrEqual(22);
    // Lead plus at most one chunk and one tick.
    expect(maxAhead).toBeLessThanOrEqual(120 + 100 + 10);
    expect(starvedMs).toBe(0);
    // A mark per 100 ms chunk, the last one final; every chunk scheduled back to back.
    expect(sink.marksSent.length).toBe(21);
    expect(sink.marksSent.at(-1)).toMatch(/:end$/);
    for (let i = 1; i < frames.length; i++) expect(frames[i]!.playAt).toBe(frames[i - 1]!.playAt + frames[i - 1]!.bytes / 8);
    expect(playback.active).toBe(false);
  });

  it('sends what it has in whole frames while audio trickles in, holding back a partial frame', async () => {
    const { sink, playback } = setup({ chunkMs: 100 });
    playback.enqueue('u1', Buffer.alloc(8 * 50, 1)); // 50 ms: two frames go, 10 ms waits
    await new Promise((r) => setImmediate(r));
    expect(sink.sent.map((s) => s.bytes)).toEqual([320]);
    playback.enqueue('u1', Buffer.alloc(8 * 10, 1)); // completes the third frame
    await new Promise((r) => setImmediate(r));
    expect(sink.sent.map((s) => s.bytes)).toEqual([320, 160]);
  });

  it('a clear between chunks reports a position within the chunk being played', () => {
    const { sink, playback, run } = setup({ chunkMs: 100 });
    playback.enqueue('u1', Buffer.alloc(8 * 1000, 1));
    playback.finish('u1');
    run(350);
    const heardAtClear = sink.playedBytes / 8;
    const pos = playback.clear();
    expect(pos.utteranceId).toBe('u1');
    expect(pos.heardMs).toBeLessThanOrEqual(heardAtClear);
    expect(heardAtClear - pos.heardMs).toBeLessThanOrEqual(40);
    expect(sink.queuedBytes).toBe(0);
  });
});

describe('paced playback edge cases', () => {
  it('reports an utterance with no audio as done at 0 ms, once', () => {
    const { playback, run } = setup();
    const done: unknown[] = [];
    playback.onUtteranceDone((p) => done.push(p));
    playback.finish('empty');
    run(50);
    playback.finish('empty');
    run(50);
    expect(done).toEqual([{ utteranceId: 'empty', heardMs: 0, sentMs: 0 }]);
  });
});

/** Lets the pacer's out-of-band kick (a setImmediate) run, without moving the fake clock. */
const flushKicks = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('paced playback first frame', () => {
  it('sends the lead of an utterance that starts while idle at once, not at the next shared tick', async () => {
    const { sink, playback, run, frames, clock } = setup({ leadMs: 120 });
    const first: Array<[string, number]> = [];
    const done: unknown[] = [];
    playback.onFirstAudioSent((id, at) => first.push([id, at]));
    playback.onUtteranceDone((p) => done.push(p));
    clock.advance(3); // off the tick grid: the shared timer fires at 1010
    playback.enqueue('u1', Buffer.alloc(8 * 1000, 1));
    playback.finish('u1');
    await flushKicks();
    // Nothing ticked yet, and the lead (120 ms = 6 frames) is already out, from the enqueue time.
    expect(clock.now()).toBe(1003);
    expect(sink.sent).toEqual(Array.from({ length: 6 }, () => ({ at: 1003, bytes: 160 })));
    expect(first).toEqual([['u1', 3]]);
    expect(frames.map((f) => f.playAt)).toEqual([1003, 1023, 1043, 1063, 1083, 1103]);
    // The shared tick carries on from there: frames back to back, the same marks, exact positions.
    run(1300);
    for (let i = 1; i < frames.length; i++) expect(frames[i]!.playAt - frames[i - 1]!.playAt).toBe(20);
    expect(sink.sent.reduce((s, f) => s + f.bytes, 0)).toBe(8000);
    expect(sink.marksSent).toEqual([...Array.from({ length: 10 }, (_, i) => `vg1:${(i + 1) * 100}`), 'vg1:1000:end']);
    expect(done).toEqual([{ utteranceId: 'u1', heardMs: 1000, sentMs: 1000 }]);
    expect(clock.timerCount).toBe(0);
  });

  it('sends a frame as soon as the audio completing it arrives while the playback waits for audio', async () => {
    const { sink, playback, run, clock } = setup();
    playback.enqueue('u', Buffer.alloc(100, 1));
    await flushKicks();
    expect(sink.sent).toEqual([]);
    run(15); // a shared tick found the partial frame and waited
    playback.enqueue('u', Buffer.alloc(100, 1));
    await flushKicks();
    expect(sink.sent).toEqual([{ at: clock.now(), bytes: 160 }]);
    playback.finish('u');
    await flushKicks();
    expect(sink.sent.map((s) => s.bytes)).toEqual([160, 40]);
  });

  it('leaves a playback whose lead is full to the shared tick', async () => {
    const { sink, playback, run } = setup({ leadMs: 120 });
    playback.enqueue('u', Buffer.alloc(8 * 500, 1));
    await flushKicks();
    expect(sink.sent).toHaveLength(6);
    playback.enqueue('u', Buffer.alloc(8 * 500, 1));
    await flushKicks();
    expect(sink.sent).toHaveLength(6); // no extra frames beyond the lead, no kick
    run(20);
    expect(sink.sent.length).toBeGreaterThan(6);
    expect(sink.sent.length).toBeLessThanOrEqual(6 + 2);
  });

  it('starts the next utterance at once after a clear, and not while the socket is congested', async () => {
    const { sink, playback, run, clock } = setup();
    playback.enqueue('a', Buffer.alloc(8 * 1000, 1));
    run(200);
    playback.clear();
    const before = sink.sent.length;
    playback.enqueue('b', Buffer.alloc(8 * 200, 2));
    await flushKicks();
    expect(sink.sent.length - before).toBe(6);
    expect(sink.sent.at(-1)!.at).toBe(clock.now());
    expect(sink.marksSent.at(-1)).toBe('vg2:100');

    const c = setup();
    c.sink.bufferedAmount = 1 << 20;
    c.playback.enqueue('u', Buffer.alloc(8 * 500, 1));
    await flushKicks();
    expect(c.sink.sent).toEqual([]);
  });
});
