/**
 * Function calls in the realtime bridge (PROTOCOLS.md §5.4 "function-call loop"): run each call
 * through the shared tool layer as soon as its arguments are complete, and once the response that
 * made them is done (the API allows one live response), hand back every output with
 * `conversation.item.create` and ask for the next response. `end_call` hangs up once the goodbye
 * has played — or straight away when nothing is playing.
 */
import type { ToolRunner } from '../tools/types.js';
import type { EngineHost } from './types.js';

/** Longest we wait for a goodbye to play after `end_call` before hanging up regardless. */
export const END_CALL_MAX_WAIT_MS = 20_000;
/** Characters of a tool result written to the transcript (the model gets all of it). */
const TRANSCRIPT_OUTPUT_CHARS = 500;

interface Outcome {
  callId: string;
  output: string;
  endsCall: boolean;
}

export interface ToolCallHooks {
  sendOutput(callId: string, output: string): void;
  requestResponse(): void;
  /** No response live or requested and nothing playing. */
  isQuiet(): boolean;
}

export class RealtimeToolCalls {
  private runner: ToolRunner | null = null;
  private readonly pending = new Map<string, Array<Promise<Outcome>>>();
  /** Bumped when the provider session is replaced: results for the old one are dropped. */
  private generation = 0;
  private endRequested = false;
  private ending = false;
  private endTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly host: EngineHost,
    private readonly hooks: ToolCallHooks,
  ) {}

  setRunner(runner: ToolRunner | null): void {
    this.runner = runner;
  }

  onCall(responseId: string, callId: string, name: string, argumentsJson: string): void {
    const runs = this.pending.get(responseId) ?? [];
    runs.push(this.run(callId, name, argumentsJson));
    this.pending.set(responseId, runs);
  }

  /** The response is over: deliver its tool outputs, then continue (or say goodbye, or hang up). */
  async onResponseDone(responseId: string, agentSpokeThisTurn: boolean): Promise<void> {
    const runs = this.pending.get(responseId);
    if (!runs) return;
    const generation = this.generation;
    const outcomes = await Promise.all(runs);
    this.pending.delete(responseId);
    if (generation !== this.generation || this.host.signal.aborted) return;
    let endsCall = false;
    for (const o of outcomes) {
      this.hooks.sendOutput(o.callId, o.output);
      endsCall ||= o.endsCall;
    }
    if (!endsCall) return this.hooks.requestResponse();
    this.requestEnd();
    // The model usually says goodbye before calling end_call (same response or the one before);
    // if it has said nothing since the caller spoke, let it speak the goodbye now.
    if (!agentSpokeThisTurn) this.hooks.requestResponse();
  }

  /** Hangs up if `end_call` ran and the agent has finished speaking. */
  checkEnd(): void {
    if (!this.endRequested || this.ending || this.pending.size > 0 || !this.hooks.isQuiet()) return;
    this.hangUp();
  }

  /** The provider session was replaced: results of calls made in it have nowhere to go. */
  abandon(): void {
    this.generation++;
    this.pending.clear();
  }

  close(): void {
    if (this.endTimer) clearTimeout(this.endTimer);
    this.endTimer = null;
  }

  private requestEnd(): void {
    if (this.endRequested) return;
    this.endRequested = true;
    this.endTimer = setTimeout(() => this.hangUp(), END_CALL_MAX_WAIT_MS);
  }

  private hangUp(): void {
    if (this.ending) return;
    this.ending = true;
    this.close();
    void this.host.end('agent_hangup');
  }

  private async run(callId: string, name: string, argumentsJson: string): Promise<Outcome> {
    const result = this.runner
      ? await this.runner.run(name, argumentsJson, this.host.signal)
      : { ok: false, output: `tool ${name} is not available`, endsCall: false };
    const now = this.host.nowMs();
    const shown = result.output.length > TRANSCRIPT_OUTPUT_CHARS ? `${result.output.slice(0, TRANSCRIPT_OUTPUT_CHARS)}…` : result.output;
    await this.host
      .transcript({ role: 'tool', text: `${name}${result.ok ? '' : ' (failed)'}: ${shown}`, startMs: now, endMs: now })
      .catch((err: Error) => this.host.log.warn({ err: err.message }, 'tool transcript not stored'));
    return { callId, output: result.output, endsCall: result.endsCall === true };
  }
}
