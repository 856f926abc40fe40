/**
 * G.711 μ-law, table-driven (PROTOCOLS.md §7) and bit-exact with sox; `encodeSox` says where
 * sox differs from the Reese/Campbell encoder quoted in §7. test/media/g711-matches-sox.test.ts
 * checks all 256 codes and all 65,536 inputs against the real binary. Encoding is one lookup in
 * a 64 Ki table indexed by the int16's bit pattern, decoding one in a 256-entry table.
 */

/** Added to the magnitude before finding the segment (PROTOCOLS.md §7, `BIAS = 0x84`). */
const BIAS = 0x84;

/** μ-law for linear 0: the byte used for padding and silence (PROTOCOLS.md §7). */
export const ULAW_SILENCE = 0xff;

/** Reference decoder (PROTOCOLS.md §7); used to build the table and by tests. */
export function ulawDecodeSample(byte: number): number {
  const u = ~byte & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
  return sign ? -magnitude | 0 : magnitude; // `| 0`: 0x7F is "negative zero", return +0
}

/** Segment end points of the 14-bit magnitude (Sun g711.c `seg_uend`, as in libsox g711.c). */
const SEG_UEND = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
/** 14-bit clip and bias: CLIP 32635 and BIAS 0x84 of §7, both divided by 4. */
const CLIP14 = 8159;
const BIAS14 = BIAS >> 2;

/**
 * sox's encoder: `sox_14linear2ulaw(SOX_SAMPLE_TO_SIGNED(14, sample))` (libsox g711.c, sox.h).
 * sox first rounds the sample to 14 bits, to nearest (`(x + 2) >> 2`, clipped at 8191), and only
 * then takes the magnitude. The Reese/Campbell encoder quoted in PROTOCOLS.md §7 truncates the
 * magnitude instead, so the two differ by one code for a few hundred inputs near code boundaries
 * (both are valid G.711). We follow sox so that our bytes match the tool every recording and
 * fixture passes through; test/media/g711-matches-sox.test.ts checks all 65,536 inputs.
 * Protocol audit (docs/protocols-audit.md): Twilio documents only the format (audio/x-mulaw,
 * 8 kHz), not its encoder, and interop depends on the decoder alone, which is the one standard
 * table everywhere. Measured over all int16 inputs: the two encoders differ on 383 of them, by
 * exactly one code each, with the same overall quantisation error (RMS 226.50 vs 226.47), so
 * there is no reason to change what matches sox.
 */
function encodeSox(sample: number): number {
  let v = (sample + 2) >> 2;
  if (v > 8191) v = 8191; // SOX_SAMPLE_TO_SIGNED clips the rounded value to the 14-bit range
  let mask: number;
  if (v < 0) {
    v = -v;
    mask = 0x7f;
  } else {
    mask = 0xff;
  }
  if (v > CLIP14) v = CLIP14;
  v += BIAS14;
  let seg = 0;
  while (seg < 8 && v > SEG_UEND[seg]) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask;
}

/** byte → int16 sample. */
export const ULAW_DECODE_TABLE: Int16Array = (() => {
  const t = new Int16Array(256);
  for (let b = 0; b < 256; b++) t[b] = ulawDecodeSample(b);
  return t;
})();

/** Indexed by the sample's 16-bit pattern (`sample & 0xffff`): 64 KiB, built once at load. */
const ENCODE_TABLE: Uint8Array = (() => {
  const t = new Uint8Array(65536);
  for (let s = -32768; s < 32768; s++) t[s & 0xffff] = encodeSox(s);
  return t;
})();

/** int16 sample → μ-law byte. Values outside int16 are clamped first. */
export function ulawEncodeSample(sample: number): number {
  if (sample > 32767) sample = 32767;
  else if (sample < -32768) sample = -32768;
  return ENCODE_TABLE[sample & 0xffff];
}

/**
 * μ-law bytes → PCM16. With `out` (at least `src.length` long) nothing is allocated and the
 * returned array is a view of `out` of exactly `src.length` samples.
 */
export function ulawDecode(src: Uint8Array, out?: Int16Array): Int16Array {
  const n = src.length;
  let dst: Int16Array;
  if (out) {
    if (out.length < n) throw new RangeError(`ulawDecode: out holds ${out.length} samples, need ${n}`);
    dst = out.length === n ? out : out.subarray(0, n);
  } else {
    dst = new Int16Array(n);
  }
  const t = ULAW_DECODE_TABLE;
  for (let i = 0; i < n; i++) dst[i] = t[src[i]];
  return dst;
}

/**
 * PCM16 → μ-law bytes. With `out` (at least `src.length` bytes) nothing is allocated when `out`
 * is already a Buffer of exactly that length; otherwise a Buffer view over its memory is returned.
 */
export function ulawEncode(src: Int16Array, out?: Uint8Array | Buffer): Buffer {
  const n = src.length;
  let dst: Buffer;
  if (out) {
    if (out.length < n) throw new RangeError(`ulawEncode: out holds ${out.length} bytes, need ${n}`);
    dst =
      Buffer.isBuffer(out) && out.length === n
        ? out
        : Buffer.from(out.buffer, out.byteOffset, n);
  } else {
    dst = Buffer.allocUnsafe(n);
  }
  const t = ENCODE_TABLE;
  for (let i = 0; i < n; i++) dst[i] = t[src[i] & 0xffff];
  return dst;
}
