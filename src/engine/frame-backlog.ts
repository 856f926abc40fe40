/**
 * Caller frames that arrive before the VAD or the STT is ready to take them. Media can start
 * while the call's providers are still connecting (the Deepgram socket, the VAD model's worker),
 * and a caller who says "Hello?" the moment they pick up must still be heard: by the STT, and by
 * the VAD, whose clock must also start at the first frame so that its windows fall where the
 * caller's audio does (bench/media-load/turn-expectation.ts replays calls on that assumption).
 *
 * Bounded: beyond `maxFrames` the oldest frames go (a provider that takes that long to connect
 * has failed anyway), and `dropped` says how many.
 */
export class FrameBacklog {
  private frames: Buffer[] = [];
  private open = true;
  dropped = 0;

  constructor(private readonly maxFrames: number) {}

  /** Keeps a copy: the transport may reuse the frame's memory. No-op once drained or cleared. */
  push(frame: Buffer): void {
    if (!this.open) return;
    if (this.frames.length >= this.maxFrames) {
      this.frames.shift();
      this.dropped++;
    }
    this.frames.push(Buffer.from(frame));
  }

  /** Hands every kept frame to `take`, in arrival order, and stops keeping new ones. */
  drain(take: (frame: Buffer) => void): void {
    const frames = this.frames;
    this.frames = [];
    this.open = false;
    for (const f of frames) take(f);
  }

  /** The consumer will never be ready: forget what was kept. */
  clear(): void {
    this.frames = [];
    this.open = false;
  }

  get size(): number {
    return this.frames.length;
  }
}
