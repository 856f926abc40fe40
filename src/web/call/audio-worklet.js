/**
 * The web call's audio thread (one AudioWorklet module, no build step).
 *
 * `voxgate-capture`: microphone at the context rate (48 kHz usually) → 16 kHz PCM16 LE in
 * 20 ms frames (640 bytes), posted to the main thread, which sends them on the WebSocket.
 * `voxgate-player`: 16 kHz PCM16 from the server → the context rate, through a small jitter
 * buffer: playback starts once PREROLL_MS is queued (or the audio stopped coming), and a
 * `clear` (barge-in) drops everything queued at once.
 *
 * Both directions use the same streaming resampler: a Kaiser-windowed sinc low-pass evaluated
 * from a 256-phase table, 16 zero crossings a side at the lower rate. Going down, its cutoff
 * (7.4 kHz) keeps everything above 8 kHz from folding back into the speech band; going up, it
 * removes the images of the 16 kHz signal. Stopband ≈ -80 dB (β = 8), passband flat to 7 kHz.
 */

const WIRE_RATE = 16000;
/** 20 ms at 16 kHz: the wire frame (API.md, Web calls). */
const FRAME_SAMPLES = 320;
/** Jitter buffer pre-roll; the server's mark clock assumes the same (DEFAULT_JITTER_MS). */
const PREROLL_MS = 80;
/** Low-pass cutoff: below the 8 kHz Nyquist of the wire rate, leaving a 600 Hz transition band. */
const CUTOFF_HZ = 7400;
const ZERO_CROSSINGS = 16;
const PHASES = 256;
const KAISER_BETA = 8;

function besselI0(x) {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

/** Streaming sample-rate converter for Float32 mono; keeps its history across calls. */
class Resampler {
  constructor(inRate, outRate) {
    this.step = inRate / outRate; // input samples per output sample
    const cutoff = CUTOFF_HZ / inRate; // cycles per input sample
    // Kernel half-length in input samples: ZERO_CROSSINGS periods of the lower rate.
    this.half = Math.ceil(ZERO_CROSSINGS * Math.max(1, this.step));
    this.taps = 2 * this.half;
    this.table = new Float32Array(PHASES * this.taps);
    const i0b = besselI0(KAISER_BETA);
    for (let p = 0; p < PHASES; p++) {
      const frac = p / PHASES;
      let sum = 0;
      const row = p * this.taps;
      for (let k = 0; k < this.taps; k++) {
        const x = k - this.half + 1 - frac; // distance (input samples) from the output point
        const r = x / this.half;
        const w = Math.abs(r) >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / i0b;
        const arg = 2 * cutoff * x;
        const sinc = arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg);
        const v = 2 * cutoff * sinc * w;
        this.table[row + k] = v;
        sum += v;
      }
      // Unity gain at DC for every phase: no phase-dependent ripple in level.
      for (let k = 0; k < this.taps; k++) this.table[row + k] /= sum;
    }
    this.buf = new Float32Array(8192);
    this.len = this.half; // primed with silence: the first output needs history
    this.pos = this.half - 1;
  }

  /** Feeds `input`; calls `emit(sample)` for every output sample it completes. */
  push(input, emit) {
    if (this.len + input.length > this.buf.length) {
      const bigger = new Float32Array(Math.max(this.buf.length * 2, this.len + input.length));
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
    this.buf.set(input, this.len);
    this.len += input.length;
    const { buf, table, taps, half, step } = this;
    let pos = this.pos;
    while (Math.floor(pos) + half < this.len) {
      const base = Math.floor(pos);
      const phase = Math.min(PHASES - 1, Math.round((pos - base) * PHASES));
      const row = phase * taps;
      const start = base - half + 1;
      let acc = 0;
      for (let k = 0; k < taps; k++) acc += buf[start + k] * table[row + k];
      emit(acc);
      pos += step;
    }
    // Drop what no future output needs.
    const keepFrom = Math.max(0, Math.floor(pos) - half + 1);
    if (keepFrom > 0) {
      buf.copyWithin(0, keepFrom, this.len);
      this.len -= keepFrom;
      pos -= keepFrom;
    }
    this.pos = pos;
  }

  reset() {
    this.buf.fill(0, 0, this.half);
    this.len = this.half;
    this.pos = this.half - 1;
  }
}

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.resampler = new Resampler(sampleRate, WIRE_RATE);
    this.frame = new Int16Array(FRAME_SAMPLES);
    this.filled = 0;
    this.peak = 0;
    this.emit = (s) => {
      const v = s < -1 ? -1 : s > 1 ? 1 : s;
      this.frame[this.filled++] = v < 0 ? v * 32768 : v * 32767;
      const a = v < 0 ? -v : v;
      if (a > this.peak) this.peak = a;
      if (this.filled === FRAME_SAMPLES) {
        const out = this.frame;
        // Transferred, not copied: a fresh frame per 20 ms is the only allocation.
        this.port.postMessage({ type: 'frame', pcm: out.buffer, peak: this.peak }, [out.buffer]);
        this.frame = new Int16Array(FRAME_SAMPLES);
        this.filled = 0;
        this.peak = 0;
      }
    };
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) this.resampler.push(channel, this.emit);
    return true;
  }
}

class PlayerProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.resampler = new Resampler(WIRE_RATE, sampleRate);
    this.queue = new Float32Array(sampleRate * 30); // ring: 30 s at the context rate
    this.read = 0;
    this.size = 0;
    this.playing = false;
    this.prerollSamples = Math.round((sampleRate * PREROLL_MS) / 1000);
    this.lastArrivalFrame = 0;
    this.scratch = new Float32Array(FRAME_SAMPLES * 4);
    this.enqueue = (s) => {
      if (this.size === this.queue.length) return; // 30 s behind: drop rather than grow
      this.queue[(this.read + this.size) % this.queue.length] = s;
      this.size++;
    };
    this.port.onmessage = (ev) => {
      const msg = ev.data;
      if (msg.type === 'audio') {
        const pcm = new Int16Array(msg.pcm);
        if (this.scratch.length < pcm.length) this.scratch = new Float32Array(pcm.length);
        const f = this.scratch.subarray(0, pcm.length);
        for (let i = 0; i < pcm.length; i++) f[i] = pcm[i] / 32768;
        this.resampler.push(f, this.enqueue);
        this.lastArrivalFrame = currentFrame;
      } else if (msg.type === 'clear') {
        // Barge-in: nothing queued may play.
        this.size = 0;
        this.resampler.reset();
        this.setPlaying(false);
      }
    };
  }

  setPlaying(on) {
    if (on === this.playing) return;
    this.playing = on;
    this.port.postMessage({ type: on ? 'playing' : 'idle' });
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    if (!this.playing && this.size > 0) {
      // Start on a full pre-roll, or when the audio stopped arriving (a short last reply).
      const stalled = currentFrame - this.lastArrivalFrame >= this.prerollSamples;
      if (this.size >= this.prerollSamples || stalled) this.setPlaying(true);
    }
    if (!this.playing) return true; // output stays zero-filled
    const n = Math.min(out.length, this.size);
    for (let i = 0; i < n; i++) {
      out[i] = this.queue[this.read];
      this.read = (this.read + 1) % this.queue.length;
    }
    this.size -= n;
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    if (this.size === 0) this.setPlaying(false); // ran dry: buffer a pre-roll again
    return true;
  }
}

registerProcessor('voxgate-capture', CaptureProcessor);
registerProcessor('voxgate-player', PlayerProcessor);
