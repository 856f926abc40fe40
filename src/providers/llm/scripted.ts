/**
 * A brain's unprompted message (`say`, or `end_call` / `transfer` outside a turn) played through
 * the same reply path as an answer: the first request replays its events, the follow-up after
 * the engine ran the requested action has nothing more to say.
 */
import { ProviderError } from '../../errors.js';
import type { LlmClient, LlmCompleteRequest, LlmEvent, LlmStreamRequest } from './types.js';

export class ScriptedLlm implements LlmClient {
  private played = false;
  constructor(private readonly events: LlmEvent[]) {}

  async *stream(request: LlmStreamRequest): AsyncIterable<LlmEvent> {
    if (request.signal.aborted) return;
    if (this.played) {
      yield { type: 'done', finishReason: 'stop' };
      return;
    }
    this.played = true;
    yield* this.events;
  }

  complete(_request: LlmCompleteRequest): Promise<string> {
    return Promise.reject(new ProviderError('scripted', 'no completions'));
  }
}
