/**
 * End of the caller's turn: the local VAD's silence (speech_end, after the agent's `silenceMs`)
 * combined with the STT's finals. Deepgram's `speech_final` (its own shorter endpointing) is a
 * "stable final": the reply may start early on it, and is cancelled if the caller goes on.
 * UtteranceEnd is the fallback when noise keeps the VAD or endpointing from ending the turn.
 */

export interface TurnTakingEvents {
  /** A stable final while the caller may still be talking: start a speculative reply. */
  early(text: string): void;
  /** The caller went on: drop the speculative reply. */
  cancelEarly(): void;
  /** The caller's turn is over with this text. */
  commit(text: string): void;
  /** The caller's speech ended and produced no words (noise, a cough, a false interruption). */
  empty(): void;
}

export interface TurnTimers {
  set(fn: () => void, ms: number): () => void;
}

/**
 * After the VAD ends speech we ask the STT to finalize; a final normally follows within a few
 * hundred ms. 1500 ms bounds the wait when it does not (provider hiccup) before we use what we have.
 */
export const FINAL_WAIT_MS = 1500;

export class TurnTaking {
  private segments: string[] = [];
  private partial = '';
  private speaking = false;
  /** The VAD ended speech; waiting for the STT to deliver the final. */
  private awaitingFinal = false;
  private earlyText: string | null = null;
  private cancelWait: (() => void) | null = null;

  constructor(
    private readonly events: TurnTakingEvents,
    private readonly timers: TurnTimers,
    /** Settable: the engine lengthens it for a per-utterance STT once it knows the provider. */
    public finalWaitMs = FINAL_WAIT_MS,
  ) {}

  get text(): string {
    return this.segments.join(' ');
  }

  vadStart(): void {
    this.speaking = true;
    this.awaitingFinal = false;
    this.clearWait();
    if (this.earlyText !== null) {
      this.earlyText = null;
      this.events.cancelEarly();
    }
  }

  vadEnd(): void {
    this.speaking = false;
    if (this.segments.length > 0 && this.partial === '') return this.commit();
    this.awaitingFinal = true;
    this.clearWait();
    this.cancelWait = this.timers.set(() => {
      this.cancelWait = null;
      if (!this.awaitingFinal) return;
      this.awaitingFinal = false;
      if (this.partial) this.segments.push(this.partial);
      this.partial = '';
      if (this.segments.length > 0) this.commit();
      else this.events.empty();
    }, this.finalWaitMs);
  }

  sttPartial(text: string): void {
    this.partial = text;
  }

  sttFinal(text: string, stable: boolean): void {
    this.partial = '';
    if (text) this.segments.push(text);
    if (this.awaitingFinal) {
      this.awaitingFinal = false;
      this.clearWait();
      if (this.segments.length > 0) this.commit();
      else this.events.empty();
      return;
    }
    if (stable && this.segments.length > 0 && this.earlyText === null) {
      this.earlyText = this.text;
      this.events.early(this.earlyText);
    }
  }

  utteranceEnd(): void {
    if (!this.speaking && this.segments.length > 0) this.commit();
  }

  /** The text the speculative reply was started with, if one is running. */
  get early(): string | null {
    return this.earlyText;
  }

  reset(): void {
    this.segments = [];
    this.partial = '';
    this.awaitingFinal = false;
    this.earlyText = null;
    this.clearWait();
  }

  private commit(): void {
    const text = this.text;
    this.segments = [];
    this.partial = '';
    this.awaitingFinal = false;
    this.clearWait();
    this.events.commit(text);
    this.earlyText = null;
  }

  private clearWait(): void {
    this.cancelWait?.();
    this.cancelWait = null;
  }
}
