/**
 * Streaming rational resampler for PCM16 (8 ↔ 16 ↔ 24 kHz: Twilio, browsers, realtime
 * providers, the VAD). A polyphase FIR: the input is conceptually upsampled by L (zeros
 * stuffed), low-passed by one Kaiser-windowed sinc, and decimated by M; only the taps that meet
 * non-zero samples are computed. The low-pass sits below the lower of the two Nyquist
 * frequencies, so it removes images when interpolating and aliases when decimating.
 *
 * The filter is causal and keeps its last K-1 input samples between calls, so 20 ms frames fed
 * one by one give exactly the samples one long buffer would (no clicks at frame edges). The
 * price is a fixed delay of half the filter: 1 ms (8k→16k) to 2 ms (16k→8k) with the defaults.
 */

export interface ResamplerOptions {
  /**
   * Sinc lobes on each side of the centre, counted at the lower rate. 16 gives a ~900 Hz
   * transition band at 16 kHz for ≥ 60 dB of stopband (Kaiser β below): plenty for speech,
   * and about 32 multiply-adds per output sample.
   */
  zeroCrossings?: number;
  /**
   * Cut-off (-6 dB) as a fraction of the lower rate's Nyquist frequency. 0.9 puts it at 3.6 kHz
   * for 8 kHz audio: the telephone band (300–3400 Hz) passes, 4 kHz and up is suppressed.
   */
  rolloff?: number;
}

/** Kaiser β for ~60 dB stopband attenuation (Kaiser's formula: 0.1102·(A − 8.7) at A = 60). */
const KAISER_BETA = 5.65;
const DEFAULT_ZERO_CROSSINGS = 16;
const DEFAULT_ROLLOFF = 0.9;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (power series), for the Kaiser window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

/** Polyphase coefficients: `taps` per phase, `up` phases, flattened phase-major. */
function designFilter(up: number, down: number, zeroCrossings: number, rolloff: number): { coeffs: Float64Array; taps: number } {
  const factor = Math.max(up, down);
  // Taps per phase: the prototype spans 2·zeroCrossings lobes of the lower rate, i.e.
  // 2·zeroCrossings·factor samples at the upsampled rate, split over `up` phases.
  const taps = Math.ceil((2 * zeroCrossings * factor) / up);
  const n = taps * up;
  const fc = (0.5 * rolloff) / factor; // cycles per upsampled sample
  const centre = (n - 1) / 2;
  const i0Beta = besselI0(KAISER_BETA);
  const proto = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const x = k - centre;
    const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
    const r = (2 * k) / (n - 1) - 1;
    proto[k] = sinc * (besselI0(KAISER_BETA * Math.sqrt(Math.max(0, 1 - r * r))) / i0Beta);
  }
  // Phase p holds proto[p + q·up] for q = 0..taps-1; normalising each phase to unit DC gain keeps
  // a constant input constant (no DC ripple at the phase rate).
  const coeffs = new Float64Array(n);
  for (let p = 0; p < up; p++) {
    let sum = 0;
    for (let q = 0; q < taps; q++) sum += proto[p + q * up];
    for (let q = 0; q < taps; q++) coeffs[p * taps + q] = proto[p + q * up] / sum;
  }
  return { coeffs, taps };
}

export class Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  private readonly up: number;
  private readonly down: number;
  private readonly taps: number;
  private readonly coeffs: Float64Array;
  /** History (taps-1 samples) followed by the current input. Grows to the largest input seen. */
  private buf: Float64Array;
  /** Position of the next output in upsampled units, relative to buf[0]. */
  private t: number;

  constructor(fromRate: number, toRate: number, options: ResamplerOptions = {}) {
    if (!(Number.isInteger(fromRate) && fromRate > 0 && Number.isInteger(toRate) && toRate > 0)) {
      throw new RangeError(`Resampler: rates must be positive integers, got ${fromRate} → ${toRate}`);
    }
    this.fromRate = fromRate;
    this.toRate = toRate;
    const g = gcd(fromRate, toRate);
    this.up = toRate / g;
    this.down = fromRate / g;
    if (this.up > 64 || this.down > 64) {
      throw new RangeError(`Resampler: ${fromRate} → ${toRate} needs a ${this.up}/${this.down} ratio; only small ratios are supported`);
    }
    const { coeffs, taps } = designFilter(
      this.up,
      this.down,
      options.zeroCrossings ?? DEFAULT_ZERO_CROSSINGS,
      options.rolloff ?? DEFAULT_ROLLOFF,
    );
    this.coeffs = coeffs;
    this.taps = taps;
    this.buf = new Float64Array(taps - 1 + 960);
    this.t = (taps - 1) * this.up; // first output lines up with the first input sample
  }

  /**
   * Upper bound of the samples `process` returns for `inputLength` samples (for `out` buffers).
   * Exact for whole-ratio chunks (160 → 320 at 8k→16k), so `process` can return `out` itself.
   * `process` emits floor or ceil of inputLength·to/from, depending on the carried phase.
   */
  maxOutputLength(inputLength: number): number {
    return Math.ceil((inputLength * this.up) / this.down);
  }

  /**
   * Resamples the next chunk of a continuous stream. With `out` (see `maxOutputLength`) the
   * result is a view of it and nothing is allocated once the internal buffer has grown.
   */
  process(src: Int16Array, out?: Int16Array): Int16Array {
    const hist = this.taps - 1;
    const len = hist + src.length;
    if (this.buf.length < len) {
      const grown = new Float64Array(len);
      grown.set(this.buf.subarray(0, hist));
      this.buf = grown;
    }
    const buf = this.buf;
    for (let i = 0; i < src.length; i++) buf[hist + i] = src[i];

    const { up, down, taps, coeffs } = this;
    // Outputs whose newest input sample index floor(t/up) is available.
    const count = Math.max(0, Math.ceil((len * up - this.t) / down));
    let dst: Int16Array;
    if (out) {
      if (out.length < count) throw new RangeError(`Resampler: out holds ${out.length} samples, need ${count}`);
      dst = out.length === count ? out : out.subarray(0, count);
    } else {
      dst = new Int16Array(count);
    }
    let t = this.t;
    for (let j = 0; j < count; j++) {
      const i = (t / up) | 0;
      const base = (t - i * up) * taps;
      let acc = 0;
      for (let q = 0; q < taps; q++) acc += buf[i - q] * coeffs[base + q];
      const v = Math.round(acc);
      dst[j] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      t += down;
    }
    // Keep the last `hist` samples as history and rebase t onto the new buf[0].
    const shift = len - hist;
    buf.copyWithin(0, shift, len);
    this.t = t - shift * up;
    return dst;
  }

  /** Forgets the stream: the next `process` starts from silence. */
  reset(): void {
    this.buf.fill(0);
    this.t = (this.taps - 1) * this.up;
  }
}

/** Resamples a whole buffer (a fresh stream: silence before it, no tail flush). */
export function resample(src: Int16Array, fromRate: number, toRate: number, options?: ResamplerOptions): Int16Array {
  if (fromRate === toRate) return src.slice();
  return new Resampler(fromRate, toRate, options).process(src);
}
