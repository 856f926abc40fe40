/**
 * `GET /v1/calls/:id/recording`: the WAV under DATA_DIR/recordings, whole or one byte range
 * (206 with Content-Range), 416 for ranges outside it, 404 `recording_not_found` when none.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../src/store/types.js';
import { recordingPath } from '../../src/session/index.js';
import { parseRange } from '../../src/api/calls-recording.js';
import { makeCall } from '../store/fixtures.js';
import { seedAgent, seedKey, startCallsGateway, type CallsGateway } from './calls-fixtures.js';

let g: CallsGateway;
let call: Call;
let wav: Buffer;

/** A stereo 8 kHz 16-bit WAV of `frames` sample frames with a recognisable ramp as data. */
function makeWav(frames: number): Buffer {
  const data = Buffer.alloc(frames * 4);
  for (let i = 0; i < data.length; i++) data[i] = i % 251;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8);
  h.write('fmt ', 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(2, 22);
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(8000 * 4, 28);
  h.writeUInt16LE(4, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

async function get(callId: string, headers: Record<string, string> = {}, key = g.t.adminKey) {
  const res = await fetch(`${g.t.baseUrl}/v1/calls/${callId}/recording`, { headers: { authorization: `Bearer ${key}`, ...headers } });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}

beforeAll(async () => {
  g = await startCallsGateway();
  const agent = await seedAgent(g.t);
  call = await g.t.ctx.store.createCall(makeCall('admin', agent.id, { status: 'completed', recordingAvailable: true }));
  wav = makeWav(8000);
  const file = recordingPath(g.t.dataDir, call.id);
  expect(file).toBe(path.join(g.t.dataDir, 'recordings', `${call.id}.wav`));
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, wav);
});
afterAll(async () => g.close());

describe('GET /v1/calls/:id/recording', () => {
  it('serves the whole WAV with Accept-Ranges', async () => {
    const res = await get(call.id);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('content-length')).toBe(String(wav.length));
    expect(res.body.equals(wav)).toBe(true);
  });

  it('serves one byte range with 206 and Content-Range', async () => {
    const cases: Array<[string, number, number]> = [
      ['bytes=0-43', 0, 43],
      ['bytes=44-', 44, wav.length - 1],
      ['bytes=-100', wav.length - 100, wav.length - 1],
      ['bytes=1000-999999', 1000, wav.length - 1],
    ];
    for (const [range, start, end] of cases) {
      const res = await get(call.id, { range });
      expect(res.status).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${wav.length}`);
      expect(res.headers.get('content-length')).toBe(String(end - start + 1));
      expect(res.body.equals(wav.subarray(start, end + 1))).toBe(true);
    }
  });

  it('answers 416 range_not_satisfiable for a range past the end', async () => {
    for (const range of [`bytes=${wav.length}-`, 'bytes=-0']) {
      const res = await get(call.id, { range });
      expect(res.status).toBe(416);
      expect(res.headers.get('content-range')).toBe(`bytes */${wav.length}`);
      expect(JSON.parse(res.body.toString()).error.code).toBe('range_not_satisfiable');
    }
  });

  it('ignores a malformed or multi-part Range and sends everything', async () => {
    for (const range of ['bytes=5-1', 'items=0-1', 'bytes=0-1,5-6']) {
      const res = await get(call.id, { range });
      expect(res.status).toBe(200);
      expect(res.body.length).toBe(wav.length);
    }
  });

  it('is 404 recording_not_found without a file, or when the call was not recorded', async () => {
    const agent = await seedAgent(g.t);
    const bare = await g.t.ctx.store.createCall(makeCall('admin', agent.id));
    const noFile = await get(bare.id);
    expect(noFile.status).toBe(404);
    expect(JSON.parse(noFile.body.toString()).error.code).toBe('recording_not_found');

    const unrecorded = await g.t.ctx.store.createCall(makeCall('admin', agent.id, { record: false }));
    writeFileSync(recordingPath(g.t.dataDir, unrecorded.id), wav);
    expect((await get(unrecorded.id)).status).toBe(404);
  });

  it("is 404 not_found for another owner's call", async () => {
    const bob = await seedKey(g.t, 'bob', ['calls:read']);
    const res = await get(call.id, {}, bob);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body.toString()).error.code).toBe('not_found');
  });
});

describe('parseRange', () => {
  it('handles the edge cases of one bytes= range', () => {
    expect(parseRange(undefined, 10)).toBeNull();
    expect(parseRange('bytes=0-0', 10)).toEqual({ start: 0, end: 0 });
    expect(parseRange('bytes=-20', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
    expect(parseRange('bytes=-', 10)).toBeNull();
  });
});
