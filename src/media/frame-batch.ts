/**
 * Caller frames held back to leave as one provider message (src/engine/caller-silence.ts says
 * which frames may wait). Frames are copied in: transports reuse their frame buffers.
 */
/** The most frames any provider holds per message: 100 ms, so a held frame is at most 80 ms late. */
export const MAX_BATCH_FRAMES = 5;

export class FrameBatch {
  private held = Buffer.alloc(0);
  private heldBytes = 0;
  private heldFrames = 0;

  /** Frames held now. */
  get frames(): number {
    return this.heldFrames;
  }

  add(frame: Buffer): void {
    const need = this.heldBytes + frame.length;
    if (need > this.held.length) {
      // Room for a full batch of frames this size.
      const grown = Buffer.allocUnsafe(Math.max(need, frame.length * MAX_BATCH_FRAMES));
      this.held.copy(grown, 0, 0, this.heldBytes);
      this.held = grown;
    }
    frame.copy(this.held, this.heldBytes);
    this.heldBytes = need;
    this.heldFrames++;
  }

  /** Everything held, in order, as a view that is valid until the next `add`; then empty. */
  drain(): Buffer {
    const out = this.held.subarray(0, this.heldBytes);
    this.heldBytes = 0;
    this.heldFrames = 0;
    return out;
  }
}
