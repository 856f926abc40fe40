/**
 * End of the caller's turn, from the local VAD's pauses and the STT's transcripts.
 *
 * The VAD reports a pause after `shortSilenceMs`. Then:
 *   - the turn sounds complete (isCompleteTurn: "What time do you open?") → the STT is asked to
 *     finalize at once, a speculative reply starts on the text heard so far, and the turn
 *     commits as soon as the final confirms a complete text;
 *   - it does not ("I'd like to, um") → the turn waits until the pause has lasted the agent's
 *     `silenceMs` (on the VAD's clock, so the wait is the same whatever the inference lag), and
 *     commits with whatever it has then.
 * Speech resuming during the wait cancels it, and any speculative reply.
 * Deepgram's `speech_final` (its own endpointing) is a "stable final": a speculative reply may
 * start on it while the caller may still be talking; the commit above releases it when the text
 * is the same. UtteranceEnd is the fallback when noise keeps the VAD from ending the turn.
 */
import { isCompleteTurn } from './turn-completeness.js';

export interface TurnTakingEvents {
  /** Text the caller may have finished with: start (or restart) a speculative reply on it. */
  early(text: string): void;
  /** The caller went on: drop the speculative reply. */
  cancelEarly(): void;
  /** The caller's turn is over with this text. */
  commit(text: string): void;
  /** The caller's speech ended and produced no words (noise, a cough, a false interruption). */
  empty(): void;
  /** Ask the STT for its final transcript of what it has heard (Deepgram `Finalize`). */
  finalize(): void;
}

export interface TurnTimers {
  set(fn: () => void, ms: number): () => void;
}

/**
 * After we ask the STT to finalize, a final normally follows within a few hundred ms. 1500 ms
 * bounds the wait when it does not (provider hiccup) before we use what we have.
 */
export const FINAL_WAIT_MS = 1500;
/**
 * The pause that ends a complete-sounding turn. 100 ms is two 64 ms Silero windows (128 ms of
 * decided silence) on top of the model's own tail after the last word (~170 ms on the fixtures):
 * the pause fires ~300 ms after the last voiced audio, and Silero at 100 splits none of the
 * fixture sentences (question, hello, long; their gaps between words reach 220 ms). The caller
 * can still go on without penalty until the STT's final confirms the text (~150 ms more).
 * The 500 ms default `silenceMs` is what every turn used to wait.
 */
export const SHORT_SILENCE_MS = 100;

export interface TurnTakingOptions {
  /** The agent's `turnDetection.silenceMs`: the wait after a turn that does not sound finished. */
  silenceMs: number;
  /** The wait after a complete-sounding turn (capped at `silenceMs`). Default SHORT_SILENCE_MS. */
  shortSilenceMs?: number;
  finalWaitMs?: number;
}

export class TurnTaking {
  private segments: string[] = [];
  private partial = '';
  private speaking = false;
  /** The VAD reported a pause at this time (VAD clock), -1 while none. */
  private pauseAtMs = -1;
  /** The pause has lasted `silenceMs`: commit with whatever there is. */
  private holdOver = false;
  /** Finalize was asked for; waiting for the STT's final. */
  private awaitingFinal = false;
  private earlyText: string | null = null;
  private cancelWait: (() => void) | null = null;
  readonly silenceMs: number;
  /** The silence after which the VAD reports a pause (its `silenceMs`). */
  readonly shortSilenceMs: number;
  /** Settable: the engine lengthens it for a per-utterance STT once it knows the provider. */
  finalWaitMs: number;
  /**
   * The STT decides turns itself (Deepgram Flux, `turn` events): the VAD's pauses are then for
   * barge-in only, and `sttTurn` drives speculation and commits.
   */
  providerTurns = false;

  constructor(
    private readonly events: TurnTakingEvents,
    private readonly timers: TurnTimers,
    opts: TurnTakingOptions,
  ) {
    this.silenceMs = opts.silenceMs;
    this.shortSilenceMs = Math.min(opts.silenceMs, opts.shortSilenceMs ?? SHORT_SILENCE_MS);
    this.finalWaitMs = opts.finalWaitMs ?? FINAL_WAIT_MS;
  }

  get text(): string {
    return this.segments.join(' ');
  }

  /** The text the speculative reply was started with, if one is running. */
  get early(): string | null {
    return this.earlyText;
  }

  vadStart(): void {
    if (this.providerTurns) return;
    this.speaking = true;
    this.pauseAtMs = -1;
    this.holdOver = false;
    this.awaitingFinal = false;
    this.clearWait();
    if (this.earlyText !== null) {
      this.earlyText = null;
      this.events.cancelEarly();
    }
  }

  /** The VAD's pause (`shortSilenceMs` of silence); `atMs` is where speech ended, on its clock. */
  vadEnd(atMs: number): void {
    if (this.providerTurns) return;
    this.speaking = false;
    this.pauseAtMs = atMs;
    this.holdOver = false;
    const heard = this.heard();
    if (!isCompleteTurn(heard)) return; // wait for the full silence (vadWindow)
    if (this.partial === '' && this.segments.length > 0) return this.commit();
    this.maybeEarly(heard);
    this.askFinal();
  }

  /** Every decided VAD window (its end on the VAD clock): the long wait is measured here. */
  vadWindow(endMs: number): void {
    if (this.providerTurns || this.speaking || this.pauseAtMs < 0 || this.holdOver) return;
    if (endMs - this.pauseAtMs < this.silenceMs) return;
    this.holdOver = true;
    if (this.awaitingFinal) return; // the final (or its timeout) decides
    if (this.partial === '' && this.segments.length > 0) return this.commit();
    this.askFinal();
  }

  sttPartial(text: string): void {
    this.partial = text;
  }

  sttFinal(text: string, stable: boolean): void {
    this.partial = '';
    if (text) this.segments.push(text);
    if (this.speaking || this.pauseAtMs < 0) {
      if (stable && this.segments.length > 0) this.maybeEarly(this.text);
      return;
    }
    // In a pause.
    if (this.awaitingFinal) {
      this.awaitingFinal = false;
      this.clearWait();
    }
    if (this.holdOver) return this.commitOrEmpty();
    if (this.segments.length > 0 && isCompleteTurn(this.text)) return this.commit();
    if (stable && this.segments.length > 0) this.maybeEarly(this.text);
  }

  /**
   * The STT's own turn events: a speculative reply on `eager_end`, dropped on `resumed`,
   * committed on `end` (Flux: its text equals the last eager one unless `resumed` came between).
   */
  sttTurn(event: 'start' | 'eager_end' | 'resumed' | 'end', text: string): void {
    switch (event) {
      case 'start':
        break;
      case 'eager_end':
        if (text) this.maybeEarly(text);
        break;
      case 'resumed':
        if (this.earlyText !== null) {
          this.earlyText = null;
          this.events.cancelEarly();
        }
        break;
      case 'end':
        this.segments = text ? [text] : [];
        this.partial = '';
        this.commitOrEmpty();
        break;
      default: {
        const never: never = event;
        void never;
      }
    }
  }

  utteranceEnd(): void {
    if (!this.speaking && this.segments.length > 0) this.commit();
  }

  reset(): void {
    this.segments = [];
    this.partial = '';
    this.pauseAtMs = -1;
    this.holdOver = false;
    this.awaitingFinal = false;
    this.earlyText = null;
    this.clearWait();
  }

  /** Finals so far plus the interim being spoken. */
  private heard(): string {
    return this.partial ? [...this.segments, this.partial].join(' ') : this.text;
  }

  private maybeEarly(text: string): void {
    if (this.earlyText === text) return;
    if (this.earlyText !== null) this.events.cancelEarly();
    this.earlyText = text;
    this.events.early(text);
  }

  private askFinal(): void {
    this.awaitingFinal = true;
    this.events.finalize();
    this.clearWait();
    this.cancelWait = this.timers.set(() => {
      this.cancelWait = null;
      if (!this.awaitingFinal) return;
      this.awaitingFinal = false;
      if (this.partial) this.segments.push(this.partial);
      this.partial = '';
      if (this.holdOver) this.commitOrEmpty();
      else if (this.segments.length > 0 && isCompleteTurn(this.text)) this.commit();
    }, this.finalWaitMs);
  }

  private commitOrEmpty(): void {
    if (this.segments.length > 0) return this.commit();
    if (this.earlyText !== null) this.events.cancelEarly();
    this.reset();
    this.events.empty();
  }

  private commit(): void {
    const text = this.text;
    this.segments = [];
    this.partial = '';
    this.pauseAtMs = -1;
    this.holdOver = false;
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
