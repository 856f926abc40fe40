/**
 * The pipeline engine: caller audio → STT (+ local VAD) → turn-taking → LLM (tools, knowledge)
 * → clause chunker → TTS → paced playback, with barge-in that knows what the caller heard.
 * Provider plumbing lives in pipeline-providers.ts, one utterance in pipeline-reply.ts, the
 * end-of-turn rules in turn-taking.ts and the interruption rule in barge-in.ts.
 */
import type { ChatMessage, LlmClient, LlmEvent } from '../providers/llm/types.js';
import { ScriptedLlm, messagesToTranscript } from '../providers/llm/index.js';
import type { ProviderError } from '../errors.js';
import type { SttEvent } from '../providers/stt/types.js';
import type { ToolRunner } from '../tools/types.js';
import { DEFAULT_THRESHOLD, createVad as createSileroVad, type VoiceActivityDetector, type VadOptions } from '../vad/index.js';
import { BargeInDetector, DEFAULT_MIN_INTERRUPTION_MS, isBackchannel } from './barge-in.js';
import { createPipelineProviders, DEFAULT_LLM_MODEL, type PipelineProviders } from './pipeline-providers.js';
import { Reply, type ReplyOutcome } from './pipeline-reply.js';
import { fillTemplate } from './template.js';
import { TurnTaking } from './turn-taking.js';
import { CallerAudio } from './pipeline-caller-audio.js';
import type { ChunkerOptions } from './sentence-chunker.js';
import type { CallEnd, Engine, EngineHost, PlaybackPosition } from './types.js';
import { bytesPerMs } from '../transport/types.js';

/** Silence that ends the caller's turn when the agent sets none (VAD default, DEFAULT_SILENCE_MS). */
export const DEFAULT_TURN_SILENCE_MS = 500;

/**
 * Wait for a per-utterance (non-streaming) STT's final after the VAD ends the turn: its request
 * timeout (15 s) plus a margin, so a slow local whisper still produces the turn; a failed
 * request answers at once with an empty final.
 */
export const NON_STREAMING_FINAL_WAIT_MS = 16_000;
/** Passages of the agent's knowledge appended to the prompt: enough context, bounded tokens. */
export const KNOWLEDGE_PASSAGES = 3;
/** What the caller hears when a provider fails and the call cannot go on. */
export const APOLOGY = "I'm sorry, I'm having technical difficulties right now. Please call back in a little while.";

export interface PipelineDeps {
  /** The VAD factory (tests plug in the energy detector). */
  createVad?: (opts: VadOptions) => Promise<VoiceActivityDetector>;
  providers?: PipelineProviders;
  /** Where replies are cut for TTS (bench/heard-text.ts compares sentence-only cutting). */
  chunker?: ChunkerOptions;
}

export function createPipelineEngine(host: EngineHost, deps: PipelineDeps = {}): Engine {
  return new PipelineEngine(host, deps);
}

class PipelineEngine implements Engine {
  private providers: PipelineProviders | null = null;
  private setupFailure: { endReason: string; note: string } | null = null;
  private readonly turns: TurnTaking;
  private readonly bargeIn: BargeInDetector;
  private readonly history: ChatMessage[] = [];
  private current: Reply | null = null;
  private speculative: Reply | null = null;
  private speculativeText: string | null = null;
  private interrupted: { reply: Reply; heard: string } | null = null;
  /** A brain's unprompted messages (`say`…), spoken when the agent is not already speaking. */
  private readonly unpromptedQueue: LlmEvent[][] = [];
  private tools: ToolRunner | null = null;
  private utteranceSeq = 0;
  private closed = false;
  private ending = false;
  private readonly silenceMs: number;
  private readonly bytesPerMs: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Per-turn marks (host clock). */
  private speechEndAt = -1;
  private sttFinalAt = -1;
  private commitAt = -1;
  private readonly audio: CallerAudio;

  constructor(
    private readonly host: EngineHost,
    private readonly deps: PipelineDeps,
  ) {
    const td = host.agent.turnDetection ?? {};
    this.silenceMs = td.silenceMs ?? DEFAULT_TURN_SILENCE_MS;
    this.bargeIn = new BargeInDetector(td.minInterruptionMs ?? DEFAULT_MIN_INTERRUPTION_MS, td.interruptible ?? true, td.vadThreshold ?? DEFAULT_THRESHOLD, this.silenceMs);
    this.bytesPerMs = bytesPerMs(host.outputFormat);
    this.audio = new CallerAudio(host.inputFormat, {
      speechStart: (atMs) => this.vadStart(atMs),
      speechEnd: (atMs) => this.vadEnd(atMs),
      // Per decided window, on the VAD's clock: the barge-in rule must not see pushed-but-undecided
      // audio as speech (issue 14: a stale probability let an "uh huh" interrupt under load).
      window: (p, endMs) => {
        if (this.closed) return;
        // The closing apology is not interruptible: cutting it would end the call at once, unheard.
        if (this.bargeIn.check(endMs, p, this.host.playback.active && this.current !== null && !this.ending)) this.interrupt();
        this.turns.vadWindow(endMs);
      },
      earlyAudioLost: (consumer, frames) => {
        this.host.log.warn({ consumer, frames }, 'caller audio from before the provider was ready was dropped');
        this.host.note(`${consumer === 'stt' ? 'speech-to-text' : 'VAD'} was ready late: the first ${(frames * 20) / 1000} s of caller audio were not heard`);
      },
    });
    this.turns = new TurnTaking(
      {
        early: (text) => this.startSpeculative(text),
        cancelEarly: () => this.cancelSpeculative(),
        commit: (text) => this.commitTurn(text),
        empty: () => this.emptyTurn(),
        finalize: () => {
          if (this.audio.sttReady) this.providers!.stt.finalize();
        },
      },
      { set: (fn, ms) => this.timer(fn, ms) },
      { silenceMs: this.silenceMs },
    );
    host.playback.onFirstAudioSent((id, atMs) => this.firstAudioSent(id, atMs));
    host.playback.onUtteranceDone((pos) => this.utteranceDone(pos));
  }

  /** Announce-time and media-time callers share one preparation (start() waits for it). */
  prepare(): Promise<void> {
    this.preparing ??= this.setUp();
    return this.preparing;
  }

  private preparing: Promise<void> | null = null;
  private toolsLoaded: Promise<void> | null = null;

  private async setUp(): Promise<void> {
    const made = this.deps.providers
      ? ({ ok: true, providers: this.deps.providers } as const)
      : createPipelineProviders(this.host, Math.min(300, this.silenceMs));
    if (!made.ok) {
      this.setupFailure = { endReason: made.endReason, note: made.note };
      this.host.note(made.note);
      return;
    }
    this.providers = made.providers;
    const { stt, tts } = made.providers;
    stt.onEvent((e) => this.onStt(e));
    this.audio.useStt(stt);
    this.turns.providerTurns = stt.capabilities.turns === true;
    // A per-utterance transcription request takes longer than a streaming Finalize.
    if (!stt.capabilities.streaming) this.turns.finalWaitMs = NON_STREAMING_FINAL_WAIT_MS;
    const vadFactory = this.deps.createVad ?? ((o: VadOptions) => createSileroVad({ ...o, log: this.host.log }));
    const td = this.host.agent.turnDetection ?? {};
    // Each takes the caller's audio the moment it is ready (frames before that wait in a backlog),
    // not once all three are: media often starts while the STT socket is still connecting.
    const [sttResult, , vad] = await Promise.allSettled([
      stt.connect(this.host.signal).then(() => this.audio.sttConnected()),
      tts.prepare(this.host.signal),
      // The VAD reports pauses; turn-taking decides which of them end the turn.
      vadFactory({ sampleRate: this.host.inputFormat.sampleRate as 8000 | 16000, threshold: td.vadThreshold, silenceMs: this.turns.shortSilenceMs }).then((v) => this.audio.attachVad(v)),
    ]);
    if (sttResult.status === 'rejected') this.host.note(`${made.providers.names.stt}: ${errText(sttResult.reason)}`);
    if (vad.status === 'rejected') this.audio.vadFailed();
    this.toolsLoaded = this.host.loadTools().then(
      (t) => void (this.tools = t),
      (err) => this.host.note(`tools: ${errText(err)}`),
    );
  }

  async start(): Promise<void> {
    await this.prepare();
    if (this.setupFailure) return void this.host.end(this.setupFailure.endReason);
    const p = this.providers!;
    if (!this.audio.sttReady) {
      // One more try: the announce-time attempt may have hit a blip.
      try {
        await p.stt.connect(this.host.signal);
        this.audio.sttConnected();
      } catch (err) {
        this.audio.sttFailed();
        this.host.note(`${p.names.stt}: ${errText(err)}`);
        return this.fail(p.names.stt);
      }
    }
    const { call, agent, variables } = this.host;
    const system = fillTemplate(call.overrides.systemPrompt ?? agent.systemPrompt, variables);
    this.history.push({ role: 'system', content: system });
    const greeting = call.overrides.initialGreeting ?? agent.firstMessage;
    p.llm.open?.({ unprompted: (events) => this.unprompted(events), failed: (err) => this.brainFailed(err) });
    if (greeting) {
      const text = fillTemplate(greeting, variables);
      const reply = this.newReply(false);
      this.current = reply;
      void reply.say(text).then((o) => this.replyFinished(reply, o));
    } else if (p.llm.capabilities?.greets) {
      // A conversation server writes the greeting: a request with no user message asks for it.
      // Its end/transfer runs through the tools, which must be there first.
      await this.toolsLoaded;
      if (this.closed || this.ending) return;
      const reply = this.newReply(false);
      this.current = reply;
      void reply.respond([...this.history]).then((o) => this.replyFinished(reply, o));
    }
  }

  onAudio(frame: Buffer): void {
    if (!this.closed) this.audio.push(frame);
  }

  onDtmf(): void {
    // DTMF is not part of the pipeline conversation (yet): tools or IVR logic would go here.
  }

  async close(end?: CallEnd): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.providers?.llm.close?.({ ...(end ?? { endReason: 'abandoned', durationSeconds: 0 }), transcript: messagesToTranscript(this.history) });
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.speculative?.abort();
    this.current?.abort();
    this.turns.reset();
    this.audio.close(this.host.metrics);
    const p = this.providers;
    if (p) {
      p.tts.close();
      await p.stt.close().catch(() => {});
    }
  }

  // ── caller side ────────────────────────────────────────────────────────────────────────

  private vadStart(atMs: number): void {
    this.bargeIn.speechStart(atMs);
    this.audio.turnOpen = true;
    if (this.audio.sttReady) this.providers!.stt.speechStarted();
    this.turns.vadStart();
    // Warm a TTS connection while the caller talks: the reply's first clause skips the handshake.
    if (!this.current && this.providers) this.providers.tts.prepare(this.host.signal).catch(() => {});
  }

  private vadEnd(atMs: number): void {
    this.bargeIn.speechEnd(atMs);
    this.speechEndAt = this.host.nowMs();
    this.sttFinalAt = -1;
    this.turns.vadEnd(atMs);
  }

  private onStt(e: SttEvent): void {
    if (this.closed) return;
    switch (e.type) {
      case 'partial':
        this.bargeIn.interim(e.text);
        this.turns.sttPartial(e.text);
        this.host.partial('user', e.text);
        break;
      case 'final':
        if (this.sttFinalAt < 0 && e.text) this.sttFinalAt = this.host.nowMs();
        this.bargeIn.segmentFinal();
        this.turns.sttFinal(e.text, e.speechFinal || e.fromFinalize);
        break;
      case 'utterance_end':
        this.turns.utteranceEnd();
        break;
      case 'turn':
        if (e.event === 'end') this.bargeIn.segmentFinal();
        this.turns.sttTurn(e.event, e.text);
        break;
      case 'speech_started':
        break; // the local VAD decides barge-in; Deepgram's event is only a hint
      case 'reconnected':
        this.host.note(`${this.providers?.names.stt}: socket dropped and reconnected`);
        this.host.metrics.providerReconnects.inc({ provider: this.providers?.names.stt ?? 'stt' });
        break;
      case 'error':
        this.host.metrics.providerErrors.inc({ provider: e.error.provider, kind: 'stt' });
        break;
      case 'closed':
        if (!this.closed && !this.ending && this.audio.sttReady) {
          this.audio.sttReady = false;
          this.host.note(`${this.providers?.names.stt}: stream closed (${e.reason})`);
          this.fail(this.providers?.names.stt ?? 'stt');
        }
        break;
      default: {
        const never: never = e;
        void never;
      }
    }
  }

  private startSpeculative(text: string): void {
    if (this.current || this.speculative || this.ending) return;
    // An LLM that cannot take back what it was sent may refuse early replies.
    if (this.providers?.llm.capabilities?.speculative === false) return;
    // After an interruption an "okay" is likely a false one: it resumes, so don't start a reply.
    if (this.interrupted && isBackchannel(text)) return;
    const reply = this.newReply(true);
    this.speculative = reply;
    this.speculativeText = text;
    this.runReply(reply, [...this.history, { role: 'user', content: text }], text);
  }

  private cancelSpeculative(): void {
    const s = this.speculative;
    this.speculative = null;
    s?.abort();
  }

  private commitTurn(text: string): void {
    this.commitAt = this.host.nowMs();
    this.audio.turnOpen = false;
    const end = this.speechEndAt >= 0 ? this.speechEndAt : this.commitAt;
    void this.host.transcript({ role: 'user', text, startMs: end, endMs: end });
    // The call is ending (a provider failed, maybe on a speculative reply of this very turn):
    // the words are on record, but nothing may replace the apology now playing.
    if (this.ending) return;
    const cut = this.interrupted;
    if (cut && isBackchannel(text)) {
      // The interruption was an "uh-huh" after all: the agent goes on where it was cut.
      this.interrupted = null;
      this.cancelSpeculative();
      return this.resume(cut);
    }
    const speaking = this.current?.audible === true && this.host.playback.active;
    if (speaking && isBackchannel(text)) return; // said over the agent without interrupting: it goes on
    if (speaking && this.bargeIn.enabled) this.interrupt(); // real words the barge-in rule let through: stop now
    this.interrupted = null;
    this.recordPrevious();
    this.history.push({ role: 'user', content: text });
    const early = this.speculative;
    if (early && this.speculativeText === text) {
      // The caller really stopped where the speculative reply started: it becomes the reply.
      this.speculative = null;
      this.current = early;
      early.release();
      return;
    }
    this.cancelSpeculative();
    if (this.current) this.current.abort();
    const reply = this.newReply(false);
    this.current = reply;
    this.runReply(reply, [...this.history], text);
  }

  private runReply(reply: Reply, msgs: ChatMessage[], text: string): void {
    void this.withKnowledge(msgs, text, reply.signal)
      .then((m) => reply.respond(m))
      .then((o) => this.replyFinished(reply, o));
  }

  /** The caller's speech had no words. After an interruption, the agent picks up where it was cut. */
  private emptyTurn(): void {
    this.audio.turnOpen = false;
    const cut = this.interrupted;
    this.interrupted = null;
    if (cut) this.resume(cut);
  }

  private resume(cut: { reply: Reply; heard: string }): void {
    if (this.current || this.ending) return;
    const rest = cut.reply.text.text.slice(cut.heard.length).trim();
    if (!rest) return;
    this.host.note('false interruption: resumed the agent');
    const reply = this.newReply(false);
    this.current = reply;
    void reply.say(rest).then((o) => this.replyFinished(reply, o));
  }

  // ── agent side ─────────────────────────────────────────────────────────────────────────

  private newReply(speculative: boolean, llm?: LlmClient): Reply {
    const p = this.providers!;
    const td = this.host.agent;
    return new Reply(
      {
        host: this.host,
        llm: llm ?? p.llm,
        tts: p.tts,
        model: td.model ?? DEFAULT_LLM_MODEL,
        temperature: td.temperature ?? undefined,
        tools: this.tools,
        bytesPerMs: this.bytesPerMs,
        chunker: this.deps.chunker,
      },
      `u${++this.utteranceSeq}`,
      speculative,
    );
  }

  /** Knowledge search before the LLM: bounded, and skipped when the agent has no documents. */
  private async withKnowledge(msgs: ChatMessage[], text: string, signal: AbortSignal): Promise<ChatMessage[]> {
    const ids = this.host.agent.knowledgeIds;
    if (ids.length === 0 || signal.aborted) return msgs;
    try {
      const passages = await this.host.knowledge.search(ids, text, KNOWLEDGE_PASSAGES);
      if (passages.length === 0) return msgs;
      const context = passages.map((p, i) => `[${i + 1}] (${p.docName}) ${p.text}`).join('\n');
      const out = [...msgs];
      out.splice(out.length - 1, 0, { role: 'system', content: `Relevant knowledge:\n${context}` });
      return out;
    } catch {
      return msgs;
    }
  }

  private interrupt(): void {
    const reply = this.current;
    if (!reply) return;
    const pos = this.host.playback.clear();
    reply.abort();
    this.cancelSpeculative();
    this.current = null;
    const heard = reply.text.heardText(pos.utteranceId === reply.utteranceId ? pos.heardMs : 0);
    this.interrupted = { reply, heard };
    this.providers?.llm.interrupted?.(reply.utteranceId, heard);
    this.host.metrics.bargeIns.inc({ engine: 'pipeline' });
    this.record(reply, heard, true);
  }

  private utteranceDone(pos: PlaybackPosition): void {
    const reply = this.current;
    if (!reply || pos.utteranceId !== reply.utteranceId) return;
    this.current = null;
    this.record(reply, reply.text.text, false);
    if (reply.endsCall) void this.endCall('agent_hangup');
    else this.sayUnprompted();
  }

  /** Adds the reply's words to history and transcript, once. */
  private record(reply: Reply, text: string, interrupted: boolean): void {
    if (reply.recorded) return;
    reply.recorded = true;
    this.history.push(...reply.toolMessages);
    if (text) this.history.push({ role: 'assistant', content: text });
    const now = this.host.nowMs();
    if (text || interrupted) void this.host.transcript({ role: 'agent', text, startMs: reply.times.ttsFirstByteAt ?? now, endMs: now, ...(interrupted ? { interrupted: true } : {}) });
  }

  /** A reply whose words were generated but whose playback has not finished joins the history before the next turn. */
  private recordPrevious(): void {
    const r = this.current;
    if (r && r.text.complete) this.record(r, r.text.text, false);
  }

  private async replyFinished(reply: Reply, outcome: ReplyOutcome): Promise<void> {
    if (this.closed) return;
    if (outcome.kind === 'failed') {
      if (reply === this.speculative) this.speculative = null;
      this.host.metrics.providerErrors.inc({ provider: outcome.provider, kind: 'reply' });
      this.host.note(`${outcome.provider}: ${outcome.error.message}`);
      // A broken TTS leaves no voice to apologise with.
      return this.fail(outcome.provider, outcome.source === 'tts');
    }
    if (outcome.kind === 'done' && reply === this.current && !reply.audible) {
      // Nothing to play (e.g. only a tool call): the reply is over now.
      this.current = null;
      this.record(reply, reply.text.text, false);
      if (reply.endsCall) void this.endCall('agent_hangup');
      else this.sayUnprompted();
    }
  }

  private unprompted(events: LlmEvent[]): void {
    if (this.closed || this.ending) return;
    this.unpromptedQueue.push(events);
    this.sayUnprompted();
  }

  /** The next unprompted message, once the agent is quiet; it plays (and acts) like a reply. */
  private sayUnprompted(): void {
    if (this.current || this.ending || this.closed || !this.providers) return;
    const events = this.unpromptedQueue.shift();
    if (!events) return;
    const reply = this.newReply(false, new ScriptedLlm(events));
    this.current = reply;
    void reply.respond([...this.history]).then((o) => this.replyFinished(reply, o));
  }

  /** The brain is gone for good between turns (a WebSocket that could not reconnect). */
  private brainFailed(err: ProviderError): void {
    if (this.closed) return;
    this.host.metrics.providerErrors.inc({ provider: err.provider, kind: 'reply' });
    this.fail(err.provider);
  }

  private firstAudioSent(utteranceId: string, atMs: number): void {
    const reply = this.current;
    if (!reply || reply.utteranceId !== utteranceId || this.speechEndAt < 0 || this.commitAt < 0) return;
    const t = reply.times;
    const from = this.speechEndAt;
    this.host.recordTurn({
      endpointingMs: this.commitAt - from,
      ...(this.sttFinalAt >= 0 ? { sttFinalMs: this.sttFinalAt - from } : {}),
      ...(t.llmStartAt !== undefined && t.llmFirstTokenAt !== undefined ? { llmFirstTokenMs: t.llmFirstTokenAt - t.llmStartAt } : {}),
      ...(t.ttsFirstPushAt !== undefined && t.ttsFirstByteAt !== undefined ? { ttsFirstByteMs: t.ttsFirstByteAt - t.ttsFirstPushAt } : {}),
      firstAudioSentMs: atMs - (t.ttsFirstByteAt ?? atMs),
      voiceToVoiceMs: atMs - from,
    });
    this.speechEndAt = -1;
    this.commitAt = -1;
  }

  /** A provider failed for good: apologise if we still can speak, then end with `error:<provider>`. */
  private fail(provider: string, ttsBroken = false): void {
    if (this.ending) return;
    this.ending = true;
    this.speculative?.abort();
    const cut = this.current;
    // What the caller already heard of the failed reply stays in the transcript and history.
    if (cut?.audible) this.record(cut, cut.text.heardText(this.host.playback.position(cut.utteranceId).heardMs), false);
    this.current?.abort();
    this.current = null;
    const reason = `error:${provider}`;
    const p = this.providers;
    // By kind, not by name: STT and TTS may both be 'openai-compatible'.
    if (!p || ttsBroken) return void this.endCall(reason);
    this.host.playback.clear();
    const reply = this.newReply(false);
    this.current = reply;
    void reply.say(APOLOGY).then((o) => {
      if (o.kind !== 'done' || !reply.audible) return void this.endCall(reason);
      // End once the apology has played (utteranceDone), bounded in case marks never come.
      reply.endsCall = true;
      this.pendingEndReason = reason;
      this.timer(() => void this.endCall(reason), 15_000);
    });
  }

  private pendingEndReason: string | null = null;

  private async endCall(reason: string): Promise<void> {
    this.ending = true;
    await this.host.end(this.pendingEndReason ?? reason);
  }

  private timer(fn: () => void, ms: number): () => void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return () => {
      clearTimeout(t);
      this.timers.delete(t);
    };
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
