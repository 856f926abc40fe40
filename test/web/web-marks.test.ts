/**
 * Marks on the web transport: a browser has no mark protocol, so the transport acknowledges a
 * mark when its virtual play-out clock (audio sent back to back at real time, plus the page's
 * jitter pre-roll after running dry) passes the audio sent before it. On a fake clock.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { Pacer } from '../../src/session/index.js';
import { createMetrics } from '../../src/metrics/index.js';
import { WebMediaSocket } from '../../src/transport/web/index.js';
import type { TransportEvent } from '../../src/transport/types.js';
import { FakeClock } from '../session/fake-clock.js';

class FakeWs extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: Array<Buffer | string> = [];
  send(data: Buffer | string): void {
    this.sent.push(data);
  }
  close(): void {
    this.readyState = 3;
  }
  terminate(): void {
    this.readyState = 3;
  }
}

function setup(jitterMs = 80) {
  const clock = new FakeClock();
  const pacer = new Pacer(clock, 10);
  const ws = new FakeWs();
  const socket = new WebMediaSocket(ws as unknown as WebSocket, { metrics: createMetrics(), pacer, jitterMs });
  const events: Array<TransportEvent & { at: number }> = [];
  socket.onEvent((e) => events.push({ ...e, at: clock.now() }));
  socket.admit();
  const marks = () => events.filter((e) => e.type === 'mark');
  return { clock, pacer, ws, socket, marks };
}

const audio = (ms: number) => Buffer.alloc(ms * 32);

describe('web transport marks (virtual play-out clock)', () => {
  it('acknowledges a mark when the audio before it has played: pre-roll plus its duration', async () => {
    const { clock, socket, marks, pacer } = setup(80);
    const t0 = clock.now();
    for (let i = 0; i < 5; i++) socket.sendAudio(audio(20)); // 100 ms sent at once (the pacer's lead)
    socket.mark('m1');
    socket.sendAudio(audio(20));
    socket.mark('m2');
    clock.advance(170);
    expect(marks()).toEqual([]);
    clock.advance(20); // 80 ms pre-roll + 100 ms of audio → due at t0 + 180
    expect(marks()).toEqual([expect.objectContaining({ name: 'm1', cleared: false })]);
    expect(marks()[0]!.at - t0).toBeGreaterThanOrEqual(180);
    expect(marks()[0]!.at - t0).toBeLessThanOrEqual(190); // within one pacer tick
    clock.advance(30);
    expect(marks().map((m) => m.name)).toEqual(['m1', 'm2']);
    expect(pacer.size).toBe(0); // nothing pending: off the pacer
  });

  it('keeps playing back to back while audio arrives in time, and re-adds the pre-roll after running dry', () => {
    const { clock, socket, marks } = setup(80);
    const t0 = clock.now();
    socket.sendAudio(audio(20));
    clock.advance(50); // still playing the first frame's pre-roll: no new pre-roll
    socket.sendAudio(audio(20));
    socket.mark('a'); // due t0 + 80 + 40 = 120
    clock.advance(300); // ran dry long ago
    socket.sendAudio(audio(20));
    socket.mark('b'); // due (t0+350) + 80 + 20 = t0 + 450
    clock.advance(200);
    const at = Object.fromEntries(marks().map((m) => [m.name, m.at - t0]));
    expect(at['a']).toBeGreaterThanOrEqual(120);
    expect(at['a']).toBeLessThan(130);
    expect(at['b']).toBeGreaterThanOrEqual(450);
    expect(at['b']).toBeLessThan(460);
  });

  it('a clear sends {"type":"clear"} and returns pending marks as cleared, never as played', async () => {
    const { clock, socket, marks, ws } = setup(80);
    for (let i = 0; i < 10; i++) socket.sendAudio(audio(20));
    socket.mark('x');
    socket.mark('y');
    socket.clear();
    await Promise.resolve();
    expect(ws.sent.filter((s) => typeof s === 'string')).toEqual(['{"type":"clear"}']);
    expect(marks()).toEqual([expect.objectContaining({ name: 'x', cleared: true }), expect.objectContaining({ name: 'y', cleared: true })]);
    clock.advance(1000);
    expect(marks()).toHaveLength(2);
    // After the clear the clock restarts from now: the next audio gets a fresh pre-roll.
    const t1 = clock.now();
    socket.sendAudio(audio(20));
    socket.mark('z');
    clock.advance(110);
    expect(marks()[2]).toMatchObject({ name: 'z', cleared: false });
    expect(marks()[2]!.at - t1).toBeGreaterThanOrEqual(100);
  });

  it('sends nothing and acknowledges nothing once closed', async () => {
    const { clock, socket, marks, ws } = setup(80);
    socket.sendAudio(audio(20));
    socket.mark('p');
    socket.close('api_end');
    await Promise.resolve();
    socket.sendAudio(audio(20));
    socket.mark('q');
    clock.advance(500);
    expect(ws.sent.filter((s) => typeof s !== 'string')).toHaveLength(1);
    expect(marks().filter((m) => !m.cleared)).toEqual([]);
  });
});
