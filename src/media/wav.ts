/**
 * RIFF/WAVE: a 44-byte header builder, a chunk-walking parser, a crash-safe incremental writer
 * and the repair that fixes a file whose writer died (SIGKILL, power loss) before `close()`.
 *
 * Crash safety: the writer buffers ~0.5 s of audio, appends it with one `fs.writeSync` and then
 * rewrites the RIFF and data sizes in place (two positional 4-byte writes). So at any moment the
 * file on disk is a valid WAV missing at most the last half second, and `repairWav` only has to
 * fix the sizes when the process died between the append and the size update.
 */
import fs from 'node:fs';

/** Bytes of the canonical header: RIFF(12) + 'fmt '(8+16) + 'data'(8). */
export const WAV_HEADER_BYTES = 44;
/** WAVE_FORMAT_PCM and WAVE_FORMAT_MULAW (RFC 2361 / mmreg.h). */
export const WAVE_FORMAT_PCM = 1;
export const WAVE_FORMAT_MULAW = 7;
/** WAVE_FORMAT_EXTENSIBLE: the real format code is the first 2 bytes of the SubFormat GUID. */
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** RIFF sizes are 32-bit; stop growing the header fields there (36 h of 8 kHz stereo PCM16). */
const MAX_RIFF_BYTES = 0xffffffff;

export interface WavFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
}

export interface WavHeaderOptions extends WavFormat {
  dataBytes: number;
  /** 1 = PCM (default), 7 = μ-law. */
  audioFormat?: number;
}

export interface WavInfo extends WavFormat {
  /** Format code after resolving WAVE_FORMAT_EXTENSIBLE: 1 PCM, 3 float, 6 A-law, 7 μ-law. */
  audioFormat: number;
  /** Offset of the first audio byte. */
  dataOffset: number;
  /** Audio bytes actually present: the header's data size, capped at what the buffer holds. */
  dataBytes: number;
}

export function wavHeader(o: WavHeaderOptions): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  const blockAlign = o.channels * (o.bitsPerSample >> 3);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(Math.min(36 + o.dataBytes, MAX_RIFF_BYTES), 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(o.audioFormat ?? WAVE_FORMAT_PCM, 20);
  h.writeUInt16LE(o.channels, 22);
  h.writeUInt32LE(o.sampleRate, 24);
  h.writeUInt32LE(o.sampleRate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(o.bitsPerSample, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(Math.min(o.dataBytes, MAX_RIFF_BYTES - 36), 40);
  return h;
}

/**
 * Finds `fmt ` and `data` by walking the chunks, so files from sox (which adds `fact` chunks
 * for μ-law and may use WAVE_FORMAT_EXTENSIBLE) parse as well as our own. Throws on non-WAV input.
 */
export function parseWav(buf: Buffer): WavInfo {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('parseWav: not a RIFF/WAVE file');
  }
  let fmt: Omit<WavInfo, 'dataOffset' | 'dataBytes'> | undefined;
  let pos = 12;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('ascii', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new Error('parseWav: truncated fmt chunk');
      let audioFormat = buf.readUInt16LE(body);
      if (audioFormat === WAVE_FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= buf.length) {
        audioFormat = buf.readUInt16LE(body + 24);
      }
      fmt = {
        audioFormat,
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        bitsPerSample: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt) throw new Error('parseWav: data chunk before fmt chunk');
      return { ...fmt, dataOffset: body, dataBytes: Math.min(size, buf.length - body) };
    }
    pos = body + size + (size & 1); // chunks are padded to even sizes
  }
  throw new Error(fmt ? 'parseWav: no data chunk' : 'parseWav: no fmt chunk');
}

/** How much audio the writer holds in memory before appending: the most a crash can lose. */
export const WAV_FLUSH_MS = 500;

/**
 * Appends interleaved PCM16 to a WAV file through one fd, keeping the header's sizes right after
 * every append (see the file comment). Synchronous by design: an append is ≤ 0.5 s of audio
 * (16 KiB for 8 kHz stereo), which lands in the page cache in microseconds, and sync writes keep
 * the sizes consistent with the data without a queue to reason about.
 */
export class WavFileWriter {
  readonly path: string;
  readonly sampleRate: number;
  readonly channels: number;
  private fd: number | null;
  private readonly pending: Buffer;
  private pendingBytes = 0;
  private written = 0;
  private readonly sizeScratch = Buffer.alloc(4);

  constructor(path: string, sampleRate: number, channels: number) {
    this.path = path;
    this.sampleRate = sampleRate;
    this.channels = channels;
    const bytesPerSecond = sampleRate * channels * 2;
    const blockAlign = channels * 2;
    const flushBytes = Math.floor((bytesPerSecond * WAV_FLUSH_MS) / 1000 / blockAlign) * blockAlign;
    this.pending = Buffer.allocUnsafe(Math.max(flushBytes, blockAlign));
    this.fd = fs.openSync(path, 'w');
    fs.writeSync(this.fd, wavHeader({ sampleRate, channels, bitsPerSample: 16, dataBytes: 0 }), 0, WAV_HEADER_BYTES, 0);
  }

  /** Audio bytes on disk plus buffered. */
  get dataBytes(): number {
    return this.written + this.pendingBytes;
  }

  /** Duration of everything written so far, in ms. */
  get durationMs(): number {
    return (this.dataBytes / (this.channels * 2) / this.sampleRate) * 1000;
  }

  get closed(): boolean {
    return this.fd === null;
  }

  /** Appends interleaved samples (`channels` per frame). Allocation-free on LE hosts. */
  write(pcm: Int16Array): void {
    if (this.fd === null) throw new Error(`WavFileWriter: ${this.path} is closed`);
    const src = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    let off = 0;
    while (off < src.length) {
      const n = Math.min(src.length - off, this.pending.length - this.pendingBytes);
      if (LE) src.copy(this.pending, this.pendingBytes, off, off + n);
      else for (let i = 0; i < n; i += 2) this.pending.writeInt16LE(pcm[(off + i) >> 1], this.pendingBytes + i);
      this.pendingBytes += n;
      off += n;
      if (this.pendingBytes === this.pending.length) this.flush();
    }
  }

  /** Appends what is buffered and updates the header sizes. */
  flush(): void {
    if (this.fd === null || this.pendingBytes === 0) return;
    fs.writeSync(this.fd, this.pending, 0, this.pendingBytes, WAV_HEADER_BYTES + this.written);
    this.written += this.pendingBytes;
    this.pendingBytes = 0;
    writeSizes(this.fd, this.written, this.sizeScratch);
  }

  /** Flushes and closes the file. Idempotent. */
  close(): void {
    if (this.fd === null) return;
    this.flush();
    fs.closeSync(this.fd);
    this.fd = null;
  }
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Rewrites the RIFF and data sizes of a canonical 44-byte-header file in place. */
function writeSizes(fd: number, dataBytes: number, scratch: Buffer, dataSizeAt = 40): void {
  scratch.writeUInt32LE(Math.min(dataSizeAt - 4 + dataBytes, MAX_RIFF_BYTES), 0);
  fs.writeSync(fd, scratch, 0, 4, 4);
  scratch.writeUInt32LE(Math.min(dataBytes, MAX_RIFF_BYTES - dataSizeAt + 4), 0);
  fs.writeSync(fd, scratch, 0, 4, dataSizeAt);
}

export interface WavRepairResult {
  /** True when the header or length had to be changed. */
  repaired: boolean;
  dataBytes: number;
  durationMs: number;
}

/** Enough to hold any sane header (fmt, fact, LIST chunks) ahead of the data chunk. */
const REPAIR_HEADER_SCAN_BYTES = 64 * 1024;

/**
 * Makes a WAV whose writer died consistent again: the data chunk (assumed last, as our writer
 * puts it) runs to the end of the file, minus any partial sample frame, which is truncated.
 * Throws if the file has no parseable header (nothing useful was written).
 */
export function repairWav(path: string): WavRepairResult {
  const fd = fs.openSync(path, 'r+');
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, REPAIR_HEADER_SCAN_BYTES));
    fs.readSync(fd, head, 0, head.length, 0);
    const info = parseWav(head);
    const blockAlign = Math.max(1, info.channels * (info.bitsPerSample >> 3));
    const available = size - info.dataOffset;
    const dataBytes = Math.floor(available / blockAlign) * blockAlign;
    const declaredRiff = head.readUInt32LE(4);
    const declaredData = head.readUInt32LE(info.dataOffset - 4);
    const expectedRiff = Math.min(info.dataOffset - 8 + dataBytes, MAX_RIFF_BYTES);
    const repaired = declaredData !== dataBytes || declaredRiff !== expectedRiff || dataBytes !== available;
    if (repaired) {
      if (dataBytes !== available) fs.ftruncateSync(fd, info.dataOffset + dataBytes);
      writeSizes(fd, dataBytes, Buffer.alloc(4), info.dataOffset - 4);
      fs.fsyncSync(fd);
    }
    const durationMs = (dataBytes / blockAlign / info.sampleRate) * 1000;
    return { repaired, dataBytes, durationMs };
  } finally {
    fs.closeSync(fd);
  }
}
