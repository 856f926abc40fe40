/**
 * One agent utterance: fixed text (greeting, apology) or an LLM reply with tools, streamed
 * token → clause → pronunciations → TTS → playback. Owns the turn's AbortController: barge-in
 * or cancellation aborts the LLM and the TTS together. A speculative reply holds its audio
 * until `release()` (the caller's turn really ended) so nothing is heard if it is dropped.
 */
import { ProviderError, isAbortError } from '../errors.js';
import type { ChatMessage, LlmClient, ToolCall } from '../providers/llm/types.js';
import { LlmStallError, type StallLimits } from '../providers/llm/index.js';
import type { TtsProvider, TtsStream } from '../providers/tts/types.js';
import type { ToolRunner } from '../tools/types.js';
import type { EngineHost } from './types.js';
import { applyPronunciations } from './template.js';
import { SentenceChunker, type ChunkerOptions } from './sentence-chunker.js';
import { UtteranceText } from './pipeline-utterance.js';

/** Tool rounds per reply: a model looping on tools must not hold the caller forever. */
export const MAX_TOOL_ROUNDS = 5;
/**
 * Said when the LLM has produced nothing by the first-token limit, while one retry runs: the
 * caller hears something within the limit instead of twice its length of silence.
 */
export const HOLD_PHRASE = 'Sorry, one moment.';
/**
 * Said when the LLM stalls for good (its retry stalled too, or it stopped mid-reply): short, so
 * it finishes before the caller gives up, and it hands the turn back; the call goes on.
 */
export const STALL_APOLOGY = "Sorry, I'm having trouble on my end. Could you say that again?";

export interface ReplyDeps {
  host: EngineHost;
  llm: LlmClient;
  tts: TtsProvider;
  model: string;
  temperature?: number;
  tools: ToolRunner | null;
  bytesPerMs: number;
  chunker?: ChunkerOptions;
}

export interface ReplyTimes {
  llmStartAt?: number;
  llmFirstTokenAt?: number;
  ttsFirstPushAt?: number;
  ttsFirstByteAt?: number;
}

export type ReplyOutcome =
  | { kind: 'done'; endsCall: boolean }
  | { kind: 'aborted' }
  /** `source`: which side broke (an LLM or brain failure still leaves a voice to apologise with). */
  | { kind: 'failed'; provider: string; error: ProviderError; source: 'llm' | 'tts' };

export class Reply {
  readonly controller = new AbortController();
  readonly text = new UtteranceText();
  readonly times: ReplyTimes = {};
  /** Messages this reply added to the history (assistant tool calls + tool results). */
  readonly toolMessages: ChatMessage[] = [];
  private held: Buffer[] | null;
  /** Resolves once a speculative reply is released or the reply is aborted (at once if not speculative). */
  private readonly decided: Promise<void>;
  private readonly decide: () => void;
  private tts: TtsStream | null = null;
  private enqueued = false;
  endsCall = false;
  /** Set once the reply's words have been added to the history. */
  recorded = false;

  constructor(
    private readonly deps: ReplyDeps,
    readonly utteranceId: string,
    speculative: boolean,
  ) {
    this.held = speculative ? [] : null;
    let decide!: () => void;
    this.decided = new Promise((resolve) => (decide = resolve));
    this.decide = decide;
    if (!speculative) decide();
    else this.signal.addEventListener('abort', decide, { once: true });
    const call = deps.host.signal;
    if (call.aborted) this.controller.abort();
    else call.addEventListener('abort', () => this.controller.abort(), { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(): void {
    this.controller.abort();
    this.tts?.abort();
  }

  /** Speculative → real: what was held goes to playback now, the rest flows straight. */
  release(): void {
    const held = this.held;
    this.held = null;
    this.decide();
    if (held) for (const b of held) this.enqueue(b);
    if (held && this.text.complete && !this.signal.aborted) this.deps.host.playback.finish(this.utteranceId);
  }

  /** Some audio of this reply reached playback. */
  get audible(): boolean {
    return this.enqueued;
  }

  private enqueue(audio: Buffer): void {
    if (this.held) {
      this.held.push(audio);
      return;
    }
    this.enqueued = true;
    this.deps.host.playback.enqueue(this.utteranceId, audio);
  }

  /** Speaks fixed text (greeting, apology). */
  async say(text: string): Promise<ReplyOutcome> {
    const tts = this.openTts();
    this.pushClause(tts, text);
    tts.end();
    return this.pumpAudio(tts);
  }

  /** Streams an LLM reply to `messages`, running tools as the model asks. */
  async respond(messages: ChatMessage[]): Promise<ReplyOutcome> {
    const tts = this.openTts();
    const audio = this.pumpAudio(tts);
    const llm = this.runLlm(messages, tts);
    const [a, l] = await Promise.all([audio, llm]);
    if (l.kind === 'failed') return l;
    if (a.kind !== 'done') return a;
    return { kind: 'done', endsCall: this.endsCall };
  }

  private openTts(): TtsStream {
    this.tts = this.deps.tts.stream(this.signal);
    return this.tts;
  }

  private pushClause(tts: TtsStream, clause: string): void {
    const spoken = applyPronunciations(clause, this.deps.host.agent.pronunciations);
    this.text.addClause(clause, spoken);
    this.times.ttsFirstPushAt ??= this.deps.host.nowMs();
    tts.push(spoken);
  }

  private async runLlm(messages: ChatMessage[], tts: TtsStream): Promise<ReplyOutcome> {
    const { host, llm, model, temperature, tools } = this.deps;
    const chunker = new SentenceChunker(this.deps.chunker);
    const convo = [...messages];
    let retried = false;
    const limits = host.config.llm;
    const stallLimits: StallLimits | undefined = limits ? { firstTokenMs: limits.firstTokenTimeoutMs, chunkMs: limits.chunkTimeoutMs } : undefined;
    try {
      for (let round = 0; round <= MAX_TOOL_ROUNDS; round++) {
        let calls: ToolCall[] | null = null;
        let gotText = false;
        let said = '';
        this.times.llmStartAt ??= host.nowMs();
        try {
          for await (const ev of llm.stream({ model, turnId: this.utteranceId, messages: convo, tools: tools?.specs, temperature, signal: this.signal, stallLimits })) {
            if (ev.type === 'delta') {
              this.times.llmFirstTokenAt ??= host.nowMs();
              gotText = true;
              said += ev.text;
              for (const clause of chunker.push(ev.text)) this.pushClause(tts, clause);
            } else if (ev.type === 'pause') {
              const held = chunker.flush();
              if (held) this.pushClause(tts, held);
              tts.flush?.();
            } else if (ev.type === 'tool_calls') {
              this.times.llmFirstTokenAt ??= host.nowMs();
              calls = ev.calls;
            }
          }
        } catch (err) {
          // One retry where it can help: a retryable failure before anything was said.
          const silent = !gotText && this.text.text === '';
          if (err instanceof ProviderError && err.retryable && !retried && silent && !this.signal.aborted) {
            retried = true;
            host.note(`openai: ${err.message}; retried once`);
            if (err instanceof LlmStallError) this.stallMetric();
            // A stall has already cost the caller the first-token limit in silence.
            if (err instanceof LlmStallError) this.pushClause(tts, HOLD_PHRASE);
            round--;
            continue;
          }
          if (err instanceof LlmStallError && !this.signal.aborted) return this.stalledFor(err, chunker, tts);
          throw err;
        }
        if (this.signal.aborted) break;
        if (!calls || !tools || round === MAX_TOOL_ROUNDS) break;
        // Words said before the tool calls are voiced before the tools act ("Let me put you
        // through." ahead of transfer_call): the chunker and ElevenLabs' schedule hold them back.
        const before = chunker.flush();
        if (before) this.pushClause(tts, before);
        tts.flush?.();
        // Tools act on the world (transfer, webhooks): a speculative reply may still be dropped
        // because the caller goes on, so its tools wait until its turn is committed.
        await this.decided;
        if (this.signal.aborted) break;
        const assistant: ChatMessage = { role: 'assistant', content: null, toolCalls: calls };
        // The model's follow-up must see what it said alongside the calls (e.g. the goodbye with
        // end_call), or it says it again. The history gets the spoken text once, in `record`.
        convo.push(said ? { ...assistant, content: said } : assistant);
        this.toolMessages.push(assistant);
        for (const call of calls) {
          const started = host.nowMs();
          const result = await tools.run(call.name, call.arguments, this.signal);
          if (this.signal.aborted) break;
          if (result.endsCall) this.endsCall = true;
          const msg: ChatMessage = { role: 'tool', toolCallId: call.id, content: result.output };
          convo.push(msg);
          this.toolMessages.push(msg);
          void host.transcript({
            role: 'tool',
            text: `${call.name}(${call.arguments}) → ${result.ok ? '' : 'error: '}${result.output}`,
            startMs: started,
            endMs: host.nowMs(),
          });
        }
        if (this.signal.aborted) break;
      }
      const rest = chunker.flush();
      if (rest && !this.signal.aborted) this.pushClause(tts, rest);
      tts.end();
      return { kind: 'done', endsCall: this.endsCall };
    } catch (err) {
      const wasAborted = this.signal.aborted || isAbortError(err);
      this.abort(); // the TTS of a failed reply must not report a finished (empty) utterance
      if (wasAborted) return { kind: 'aborted' };
      const error = err instanceof ProviderError ? err : new ProviderError('openai', String(err), undefined, false);
      return { kind: 'failed', provider: error.provider, error, source: 'llm' };
    }
  }

  /** The LLM stalled for good: what it said stands, the apology follows, the turn goes back to the caller. */
  private stalledFor(err: LlmStallError, chunker: SentenceChunker, tts: TtsStream): ReplyOutcome {
    this.stallMetric();
    this.deps.host.note(`openai: ${err.message}; apologised, the call goes on`);
    const rest = chunker.flush();
    if (rest) this.pushClause(tts, rest);
    this.pushClause(tts, STALL_APOLOGY);
    tts.end();
    return { kind: 'done', endsCall: this.endsCall };
  }

  private stallMetric(): void {
    this.deps.host.metrics.providerErrors.inc({ provider: 'openai', kind: 'stall' });
  }

  private async pumpAudio(tts: TtsStream): Promise<ReplyOutcome> {
    const { host, bytesPerMs } = this.deps;
    try {
      for await (const chunk of tts) {
        if (this.signal.aborted) break;
        this.times.ttsFirstByteAt ??= host.nowMs();
        this.text.addAudio(chunk.audio.length / bytesPerMs, chunk.chars);
        this.enqueue(chunk.audio);
      }
    } catch (err) {
      if (this.signal.aborted || isAbortError(err)) return { kind: 'aborted' };
      this.controller.abort(); // stop the LLM too
      const error = err instanceof ProviderError ? err : new ProviderError('tts', String(err), undefined, false);
      return { kind: 'failed', provider: error.provider, error, source: 'tts' };
    }
    if (this.signal.aborted) return { kind: 'aborted' };
    this.text.complete = true;
    if (this.held === null && this.enqueued) host.playback.finish(this.utteranceId);
    return { kind: 'done', endsCall: this.endsCall };
  }
}
