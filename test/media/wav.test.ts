/**
 * WAV files are checked with the real sox/soxi binaries: what they accept is what operators and
 * downstream tools will accept. The crash test SIGKILLs a real writer process mid-write.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { WAV_HEADER_BYTES, WavFileWriter, parseWav, repairWav, wavHeader } from '../../src/media/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'voxgate-wav-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const here = path.dirname(fileURLToPath(import.meta.url));

function soxi(flag: string, file: string): string {
  return execFileSync('soxi', [flag, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Sample frames sox actually decodes from the file (not just what the header claims). */
function soxSampleFrames(file: string): number {
  const raw = execFileSync('sox', [file, '-t', 'raw', '-e', 'signed', '-b', '16', '-'], { maxBuffer: 64 << 20 });
  return raw.length / 2 / Number(soxi('-c', file));
}

function sine(n: number, channels: number, amp = 10000): Int16Array {
  const out = new Int16Array(n * channels);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) out[i * channels + c] = Math.round(amp * Math.sin((2 * Math.PI * 500 * i) / 8000));
  }
  return out;
}

describe('wavHeader and parseWav', () => {
  it('builds a 44-byte PCM header that parses back', () => {
    const h = wavHeader({ sampleRate: 16000, channels: 1, bitsPerSample: 16, dataBytes: 3200 });
    expect(h.length).toBe(WAV_HEADER_BYTES);
    const info = parseWav(Buffer.concat([h, Buffer.alloc(3200)]));
    expect(info).toEqual({ audioFormat: 1, sampleRate: 16000, channels: 1, bitsPerSample: 16, dataOffset: 44, dataBytes: 3200 });
  });

  it('parses sox-made μ-law WAVs with their extra chunks', () => {
    const file = path.join(dir, 'sox-ulaw.wav');
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-e', 'mu-law', file, 'synth', '0.5', 'sine', '440']);
    const info = parseWav(fs.readFileSync(file));
    expect(info.audioFormat).toBe(7);
    expect(info.sampleRate).toBe(8000);
    expect(info.bitsPerSample).toBe(8);
    expect(info.dataBytes).toBe(4000);
    expect(info.dataOffset).toBeGreaterThan(44); // sox adds a fact chunk for non-PCM
  });

  it('rejects files that are not WAV', () => {
    expect(() => parseWav(Buffer.from('not a wav file at all'))).toThrow(/RIFF/);
  });
});

describe('WavFileWriter', () => {
  it('writes a stereo file that soxi reads with the right duration', () => {
    const file = path.join(dir, 'stereo.wav');
    const w = new WavFileWriter(file, 8000, 2);
    for (let i = 0; i < 150; i++) w.write(sine(160, 2)); // 150 × 20 ms = 3 s
    w.close();
    w.close(); // idempotent
    expect(soxi('-r', file)).toBe('8000');
    expect(soxi('-c', file)).toBe('2');
    expect(soxi('-s', file)).toBe('24000');
    expect(soxSampleFrames(file)).toBe(24000);
    expect(() => w.write(sine(1, 2))).toThrow(/closed/);
  });

  it('keeps the header sizes right on disk while the file is still open', () => {
    const file = path.join(dir, 'open.wav');
    const w = new WavFileWriter(file, 8000, 1);
    for (let i = 0; i < 60; i++) w.write(sine(160, 1)); // 1.2 s: two 0.5 s flushes on disk
    // Read while open, as a crash would leave it: sizes match the data already appended.
    expect(soxi('-s', file)).toBe('8000');
    expect(soxSampleFrames(file)).toBe(8000);
    expect(w.durationMs).toBe(1200);
    w.close();
    expect(soxi('-s', file)).toBe('9600');
  });
});

describe('repairWav', () => {
  it('fixes sizes and drops a partial sample frame after a write the header never saw', () => {
    const file = path.join(dir, 'torn.wav');
    const w = new WavFileWriter(file, 8000, 2);
    w.write(sine(4000, 2)); // exactly one flush: 0.5 s on disk, header says so
    w.close();
    // A crash between appending the next batch and updating the header, mid-frame.
    fs.appendFileSync(file, Buffer.alloc(4000 * 4 + 3, 1));
    expect(soxi('-s', file)).toBe('4000'); // stale header: sox sees only the first half second
    const r = repairWav(file);
    expect(r).toEqual({ repaired: true, dataBytes: 8000 * 4, durationMs: 1000 });
    expect(fs.statSync(file).size).toBe(44 + 8000 * 4);
    expect(soxi('-s', file)).toBe('8000');
    expect(soxSampleFrames(file)).toBe(8000);
    expect(repairWav(file).repaired).toBe(false); // a second pass changes nothing
  });

  it('recovers a file whose writer process was SIGKILLed mid-write', async () => {
    const file = path.join(dir, 'killed.wav');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'scripts/wav-writer-child.ts'), file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Wait until it has written at least 2 s, then kill it without warning.
    const lastReported = await new Promise<number>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = [...buf.matchAll(/written (\d+(?:\.\d+)?)/g)].pop();
        if (m && Number(m[1]) >= 2000) {
          child.kill('SIGKILL');
          resolve(Number(m[1]));
        }
      });
      child.on('exit', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`child exited early: ${code}`));
      });
    });
    await new Promise((r) => child.on('close', r));

    const r = repairWav(file);
    // At most the in-memory half second is lost; the writer never gets ahead of what it reported
    // by more than what it wrote between the report and the kill.
    expect(r.durationMs).toBeGreaterThanOrEqual(lastReported - 500);
    expect(r.dataBytes % 4).toBe(0);
    expect(Number(soxi('-D', file)) * 1000).toBeCloseTo(r.durationMs, 0);
    expect(soxSampleFrames(file)).toBe(r.dataBytes / 4);
  });
});
