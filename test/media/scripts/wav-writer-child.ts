/**
 * Child process for the crash test: writes stereo 8 kHz audio through WavFileWriter as fast as it
 * can, 20 ms at a time, reporting progress on stdout, until the parent SIGKILLs it.
 * Usage: node --import tsx wav-writer-child.ts <path>
 */
import { WavFileWriter } from '../../../src/media/index.js';

const path = process.argv[2];
if (!path) throw new Error('usage: wav-writer-child.ts <path>');
const writer = new WavFileWriter(path, 8000, 2);
const frame = new Int16Array(160 * 2);
let n = 0;

function tick(): void {
  for (let i = 0; i < 160; i++) {
    const v = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (n * 160 + i)) / 8000));
    frame[2 * i] = v;
    frame[2 * i + 1] = -v;
  }
  writer.write(frame);
  n++;
  if (n % 25 === 0) process.stdout.write(`written ${writer.durationMs}\n`);
  setImmediate(tick);
}
tick();
