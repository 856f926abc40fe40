/**
 * Our μ-law must be byte-for-byte what sox produces, for every code and every PCM16 input,
 * because recordings and fixtures go through sox and Twilio's carriers use the same algorithm.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ULAW_DECODE_TABLE,
  ULAW_SILENCE,
  ulawDecode,
  ulawDecodeSample,
  ulawEncode,
  ulawEncodeSample,
} from '../../src/media/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'voxgate-g711-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function sox(args: string[]): void {
  execFileSync('sox', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

describe('G.711 μ-law against the real sox binary', () => {
  it('decodes all 256 codes exactly as sox does', () => {
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const inFile = path.join(dir, 'codes.ulaw');
    const outFile = path.join(dir, 'codes.s16');
    fs.writeFileSync(inFile, codes);
    sox(['-t', 'raw', '-r', '8000', '-e', 'mu-law', '-b', '8', '-c', '1', inFile, '-t', 'raw', '-e', 'signed', '-b', '16', '-L', outFile]);
    const expected = fs.readFileSync(outFile);
    const ours = Buffer.from(ulawDecode(codes).buffer);
    expect(expected.length).toBe(512);
    expect(ours.equals(expected)).toBe(true);
  });

  it('encodes all 65,536 PCM16 inputs exactly as sox does', () => {
    const pcm = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
    const inFile = path.join(dir, 'all.s16');
    const outFile = path.join(dir, 'all.ulaw');
    fs.writeFileSync(inFile, Buffer.from(pcm.buffer));
    // -D: no dither, or sox would add noise before quantising to 8 bits.
    sox(['-D', '-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-L', '-c', '1', inFile, '-t', 'raw', '-e', 'mu-law', '-b', '8', outFile]);
    const expected = fs.readFileSync(outFile);
    const ours = ulawEncode(pcm);
    expect(expected.length).toBe(65536);
    let mismatches = 0;
    for (let i = 0; i < 65536; i++) if (ours[i] !== expected[i]) mismatches++;
    expect(mismatches).toBe(0);
  });
});

describe('G.711 μ-law reference values (PROTOCOLS.md §7)', () => {
  it('decodes the documented bytes', () => {
    const table: [number, number][] = [
      [0x00, -32124], [0x0f, -16764], [0x70, -120], [0x7e, -8], [0x7f, 0],
      [0x80, 32124], [0x8f, 16764], [0xf0, 120], [0xfe, 8], [0xff, 0],
    ];
    for (const [byte, value] of table) {
      expect(ULAW_DECODE_TABLE[byte]).toBe(value);
      expect(ulawDecodeSample(byte)).toBe(value);
    }
  });

  it('encodes the documented samples, silence as 0xFF', () => {
    const table: [number, number][] = [
      [0, 0xff], [100, 0xf2], [-100, 0x72], [1000, 0xce], [-1000, 0x4e],
      [4000, 0xaf], [8159, 0x9f], [32767, 0x80], [-32768, 0x00],
    ];
    for (const [sample, byte] of table) expect(ulawEncodeSample(sample)).toBe(byte);
    expect(ulawEncodeSample(0)).toBe(ULAW_SILENCE);
  });

  it('round-trips every decoded value to the same value', () => {
    for (let b = 0; b < 256; b++) {
      expect(ulawDecodeSample(ulawEncodeSample(ulawDecodeSample(b)))).toBe(ulawDecodeSample(b));
    }
  });

  it('writes into caller buffers and returns views of them', () => {
    const bytes = Buffer.alloc(160, 0x80);
    const pcmOut = new Int16Array(320);
    const pcm = ulawDecode(bytes, pcmOut);
    expect(pcm.buffer).toBe(pcmOut.buffer);
    expect(pcm.length).toBe(160);
    expect(pcm[0]).toBe(32124);

    const byteOut = Buffer.alloc(160);
    const enc = ulawEncode(pcm, byteOut);
    expect(enc).toBe(byteOut);
    expect(enc[159]).toBe(0x80);
    expect(() => ulawEncode(pcm, Buffer.alloc(10))).toThrow(RangeError);
  });
});
