/** The generated caller clips have the formats and lengths tests and benchmarks rely on. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseWav, rmsDbfs, ulawDecode } from '../../src/media/index.js';
import { fixturePath, readPcm16Fixture, readUlawFixture, type FixtureName } from '../helpers/fixtures.js';

const EXPECTED_MS: Record<FixtureName, [number, number]> = {
  hello: [2000, 4000],
  question: [1000, 2500],
  long: [5000, 7500],
  'uh-huh': [200, 400],
  'noise-150ms': [150, 150],
  'silence-2s': [2000, 2000],
};

describe('speech fixtures', () => {
  for (const [name, [min, max]] of Object.entries(EXPECTED_MS) as [FixtureName, [number, number]][]) {
    it(`${name}: 8 kHz μ-law and 16 kHz PCM16 twins of the same length`, () => {
      const ulaw = readUlawFixture(name);
      const pcm = readPcm16Fixture(name);
      const ms8 = (ulaw.length / 8000) * 1000;
      const ms16 = (pcm.length / 16000) * 1000;
      expect(ms8).toBeGreaterThanOrEqual(min);
      expect(ms8).toBeLessThanOrEqual(max);
      expect(Math.abs(ms8 - ms16)).toBeLessThan(1);
      // The PCM twin is a plain 44-byte-header PCM WAV, as Chromium's fake capture wants.
      expect(parseWav(fs.readFileSync(fixturePath(name, 'pcm16k'))).dataOffset).toBe(44);
      expect(execFileSync('soxi', ['-t', fixturePath(name, 'ulaw')], { encoding: 'utf8' }).trim()).toBe('wav');
    });
  }

  it('has audible speech and true silence where expected', () => {
    expect(rmsDbfs(ulawDecode(readUlawFixture('hello')))).toBeGreaterThan(-30);
    expect(rmsDbfs(ulawDecode(readUlawFixture('silence-2s')))).toBe(-120);
    expect(readUlawFixture('silence-2s').every((b) => b === 0xff)).toBe(true);
  });

  it('regenerating is a no-op when the files exist', () => {
    const file = fixturePath('hello');
    const before = fs.statSync(file).mtimeMs;
    execFileSync('bash', ['fixtures/make-fixtures.sh']);
    expect(fs.statSync(file).mtimeMs).toBe(before);
  });
});
