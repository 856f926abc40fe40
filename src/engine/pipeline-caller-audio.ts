/**
 * The pipeline's intake of caller audio: each frame goes to the STT and, decoded, to the local
 * VAD. Either may not be ready when media starts (the Deepgram handshake, the VAD model's
 * worker); frames wait in a backlog for it (frame-backlog.ts) rather than being lost, so a
 * caller heard from the first frame and a VAD clock that starts at the first frame.
 */
import { pcm16FromBytes, ulawDecode } from '../media/index.js';
import type { Metrics } from '../metrics/index.js';
import type { SttStream } from '../providers/stt/types.js';
import { bytesPerMs, type AudioFormat } from '../transport/types.js';
import type { VoiceActivityDetector } from '../vad/index.js';
import { CallerSilence } from './caller-silence.js';
import { FrameBacklog } from './frame-backlog.js';

/** Caller audio kept while the VAD or the STT is not ready yet: 5 s of 20 ms frames. */
const EARLY_AUDIO_FRAMES = 250;

export interface CallerAudioEvents {
  speechStart(atMs: number): void;
  speechEnd(atMs: number): void;
  /** A decided VAD window: its speech probability and where it ends on the VAD's clock. */
  window(p: number, endMs: number): void;
  /** The oldest early frames were dropped: `consumer` took longer than the backlog holds. */
  earlyAudioLost(consumer: 'stt' | 'vad', frames: number): void;
}

export class CallerAudio {
  private stt: SttStream | null = null;
  /** The STT's socket is up: frames go to it directly. */
  sttReady = false;
  vad: VoiceActivityDetector | null = null;
  /** Set by the engine while the caller holds a turn: then no frame may wait for the next. */
  turnOpen = false;
  private closed = false;
  private readonly vadBacklog = new FrameBacklog(EARLY_AUDIO_FRAMES);
  private readonly sttBacklog = new FrameBacklog(EARLY_AUDIO_FRAMES);
  private readonly pcm: Int16Array;
  private readonly silence: CallerSilence;
  private readonly bytesPerMs: number;

  constructor(
    private readonly format: AudioFormat,
    private readonly events: CallerAudioEvents,
  ) {
    // Preallocated: the largest frame we expect is 20 ms at 16 kHz; bigger frames get a fresh array.
    this.pcm = new Int16Array(format.sampleRate / 50);
    this.silence = new CallerSilence(format);
    this.bytesPerMs = bytesPerMs(format);
  }

  /** The STT frames go to once it is connected (`sttConnected`). */
  useStt(stt: SttStream): void {
    this.stt = stt;
  }

  sttConnected(): void {
    if (this.closed || !this.stt) return;
    this.sttReady = true;
    const stt = this.stt;
    this.sttBacklog.drain((frame) => stt.write(frame));
    if (this.sttBacklog.dropped > 0) this.events.earlyAudioLost('stt', this.sttBacklog.dropped);
  }

  /** The STT will not connect: what waited for it is dropped. */
  sttFailed(): void {
    this.sttBacklog.clear();
  }

  attachVad(vad: VoiceActivityDetector): void {
    if (this.closed) return void vad.close();
    this.vad = vad;
    vad.onEvent((e) => (e.type === 'speech_start' ? this.events.speechStart(e.atMs) : this.events.speechEnd(e.atMs)));
    vad.onWindow((p, endMs) => {
      if (!this.closed) this.events.window(p, endMs);
    });
    this.vadBacklog.drain((frame) => vad.push(this.decode(frame)));
    if (this.vadBacklog.dropped > 0) this.events.earlyAudioLost('vad', this.vadBacklog.dropped);
  }

  vadFailed(): void {
    this.vadBacklog.clear();
  }

  push(frame: Buffer): void {
    if (this.closed) return;
    const vad = this.vad;
    if (!vad) {
      this.vadBacklog.push(frame);
      this.toStt(frame, false);
      return;
    }
    const pcm = this.decode(frame);
    // Silence while no caller turn is open may share an STT message with later frames.
    const silent = this.silence.pcm(pcm, frame.length / this.bytesPerMs);
    this.toStt(frame, silent && !this.turnOpen);
    vad.push(pcm);
  }

  /** Ends the intake; the VAD's window counts go to /metrics. */
  close(metrics: Metrics): void {
    if (this.closed) return;
    this.closed = true;
    this.vadBacklog.clear();
    this.sttBacklog.clear();
    const vad = this.vad;
    if (!vad) return;
    const v = vad.stats;
    metrics.vadWindows.inc({ outcome: 'inferred' }, v.inferences);
    metrics.vadWindows.inc({ outcome: 'gated' }, v.gated);
    metrics.vadWindows.inc({ outcome: 'skipped' }, v.skipped);
    vad.close();
  }

  private toStt(frame: Buffer, canWait: boolean): void {
    if (this.sttReady) this.stt!.write(frame, canWait);
    else this.sttBacklog.push(frame);
  }

  /** PCM16 of a caller frame, in a reused array (the VAD copies what it keeps). */
  private decode(frame: Buffer): Int16Array {
    return this.format.encoding === 'mulaw'
      ? ulawDecode(frame, frame.length === this.pcm.length ? this.pcm : new Int16Array(frame.length))
      : pcm16FromBytes(frame);
  }
}
