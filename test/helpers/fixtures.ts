/**
 * Caller-audio fixtures (fixtures/make-fixtures.sh). Files are generated on first use, so a
 * fresh clone needs no extra step beyond having sox and espeak-ng installed.
 *
 * Names: 'hello' | 'question' | 'long' | 'uh-huh' | 'noise-150ms' | 'silence-2s', each as
 * `NAME.ulaw.wav` (8 kHz μ-law) and `NAME.pcm16k.wav` (16 kHz PCM16). Speech starts at 0 ms.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WAVE_FORMAT_MULAW, WAVE_FORMAT_PCM, parseWav, pcm16FromBytes } from '../../src/media/index.js';

export type FixtureName = 'hello' | 'question' | 'long' | 'uh-huh' | 'noise-150ms' | 'silence-2s';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const generated = path.join(root, 'fixtures', 'generated');

/**
 * Absolute path of a fixture file; `name` is a full file name ('hello.ulaw.wav') or a base
 * name plus `kind`. Runs the generator (synchronously) if the file is missing.
 */
export function fixturePath(name: string, kind: 'ulaw' | 'pcm16k' = 'ulaw'): string {
  const file = name.endsWith('.wav') ? name : `${name}.${kind}.wav`;
  const full = path.join(generated, file);
  if (!fs.existsSync(full)) {
    execFileSync('bash', [path.join(root, 'fixtures', 'make-fixtures.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (!fs.existsSync(full)) throw new Error(`fixture ${file} does not exist (see fixtures/make-fixtures.sh)`);
  }
  return full;
}

/** The μ-law payload bytes (8 kHz mono), header stripped: what Twilio media messages carry. */
export function readUlawFixture(name: FixtureName): Buffer {
  const buf = fs.readFileSync(fixturePath(name, 'ulaw'));
  const info = parseWav(buf);
  if (info.audioFormat !== WAVE_FORMAT_MULAW || info.sampleRate !== 8000 || info.channels !== 1) {
    throw new Error(`fixture ${name}.ulaw.wav is not 8 kHz mono μ-law`);
  }
  return buf.subarray(info.dataOffset, info.dataOffset + info.dataBytes);
}

/** The 16 kHz mono PCM16 samples (a copy, safe to keep). */
export function readPcm16Fixture(name: FixtureName): Int16Array {
  const buf = fs.readFileSync(fixturePath(name, 'pcm16k'));
  const info = parseWav(buf);
  if (info.audioFormat !== WAVE_FORMAT_PCM || info.bitsPerSample !== 16 || info.sampleRate !== 16000 || info.channels !== 1) {
    throw new Error(`fixture ${name}.pcm16k.wav is not 16 kHz mono PCM16`);
  }
  return pcm16FromBytes(buf.subarray(info.dataOffset, info.dataOffset + info.dataBytes)).slice();
}
