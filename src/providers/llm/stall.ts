/**
 * Stall limits for a streamed reply. The SDK's request timeout stops once the response headers
 * are in (openai-node: `timeout` bounds the request, not the time between body chunks), so a
 * server that sends its headers and then nothing would hold a voice turn forever. A brain arms a
 * `StallWatch` per stream: the first-token limit runs from the request until the first content
 * or tool-call fragment, the between-chunk limit from each fragment to the next.
 */
import { ProviderError } from '../../errors.js';

export interface StallLimits {
  /** Request start → first content or tool-call fragment. */
  firstTokenMs: number;
  /** One fragment → the next (or the end of the stream). */
  chunkMs: number;
}

export type StallPhase = 'first_token' | 'between_chunks';

/** The stream made no progress in time. Retryable: a fresh request usually lands elsewhere. */
export class LlmStallError extends ProviderError {
  constructor(
    provider: string,
    readonly phase: StallPhase,
    readonly afterMs: number,
  ) {
    super(provider, phase === 'first_token' ? `no first token within ${afterMs} ms` : `stream stalled for ${afterMs} ms mid-reply`, undefined, true);
    this.name = 'LlmStallError';
  }
}

/**
 * Aborts its controller when the stream goes quiet for too long; `stalled` then says which
 * limit fired. `progress()` on every fragment that carries content.
 */
export class StallWatch {
  readonly controller = new AbortController();
  stalled: LlmStallError | null = null;
  private timer: NodeJS.Timeout | null = null;
  private started = false;

  constructor(
    private readonly provider: string,
    private readonly limits: StallLimits | undefined,
  ) {
    this.arm('first_token');
  }

  progress(): void {
    this.started = true;
    this.arm('between_chunks');
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(phase: StallPhase): void {
    this.stop();
    const ms = phase === 'first_token' ? this.limits?.firstTokenMs : this.limits?.chunkMs;
    if (!ms || ms <= 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.stalled = new LlmStallError(this.provider, this.started ? 'between_chunks' : 'first_token', ms);
      this.controller.abort();
    }, ms);
  }
}
