/**
 * The realtime engine: the caller bridged straight to a speech-to-speech model (issue 5,
 * PROTOCOLS.md §5.5). Audio passes through (phone) or is resampled (web); the provider's VAD
 * takes turns; barge-in is ours (clear + cancel + truncate to what the caller heard, read from
 * playback marks); tools run through the shared tool layer; a dropped provider session is
 * replaced under the call with the conversation restored.
 */
import type { RealtimeEvent, RealtimeSession, RealtimeSessionConfig } from '../providers/realtime/index.js';
import { audioMs } from '../providers/realtime/index.js';
import type { ToolRunner } from '../tools/types.js';
import type { Engine, EngineHost, PlaybackPosition } from './types.js';
import { createAudioBridge, type AudioBridge } from './realtime-audio.js';
import { CallerSilence } from './caller-silence.js';
import { ConversationHistory, cutToHeard, newAgentItem, type AgentItem } from './realtime-items.js';
import { connectWithRetry, greetingFor, greetingInstructions, interruptible, minInterruptionMs } from './realtime-setup.js';
import { providerFor, providerSessionFactory, sessionConfigFor, type SessionFactory } from './realtime-setup.js';
import { RealtimeToolCalls } from './realtime-tools.js';
import { ResponseSlot } from './realtime-response.js';
import { RealtimeErrors } from './realtime-errors.js';
import { endWithApology } from './realtime-apology.js';
import { PlayoutWait, resumeNote, type CutResponse } from './realtime-resume.js';
import { FrameBacklog } from './frame-backlog.js';

export interface RealtimeEngineOptions {
  createSession?: SessionFactory;
  /** Pauses before each reconnect attempt after a drop (default: immediately, then 250/750 ms). */
  reconnectBackoffMs?: readonly number[];
}

export function createRealtimeEngine(host: EngineHost, options: RealtimeEngineOptions = {}): Engine {
  return new RealtimeEngine(host, options);
}

class RealtimeEngine implements Engine {
  private session: RealtimeSession | null = null;
  private sessionConfig: RealtimeSessionConfig | null = null;
  private prepared: Promise<void> | null = null;
  private failure: string | null = null;
  private closed = false;
  private reconnecting = false;
  private readonly audio: AudioBridge;
  private readonly silence: CallerSilence;
  /** Between the provider's `speech_started` and `speech_stopped`: every caller frame counts now. */
  private callerSpeaking = false;
  private readonly format: 'pcmu' | 'pcm24k';
  private readonly items = new Map<string, AgentItem>();
  private readonly history = new ConversationHistory();
  private readonly userStarts = new Map<string, number>();
  private readonly cancelled = new Set<string>();
  /** The agent has spoken since the caller last did: an `end_call` needs no extra goodbye. */
  private agentSpokeThisTurn = false;
  private readonly responses = new ResponseSlot((request) => {
    if (!this.session) return false;
    this.session.createResponse(request);
    return true;
  });
  private turn: { stoppedAtMs: number; deltaAtMs: number | null; itemId: string | null } | null = null;
  private bargeInTimer: NodeJS.Timeout | null = null;
  private readonly errors: RealtimeErrors;
  private readonly tools: RealtimeToolCalls;
  private readonly makeSession: SessionFactory;
  /** A reconnect waiting for the old session's audio to play out. */
  private readonly playout: PlayoutWait;
  /** Caller audio from before the first session was up (5 s at most); null once it is. */
  private early: FrameBacklog | null = new FrameBacklog(250);

  constructor(
    private readonly host: EngineHost,
    private readonly options: RealtimeEngineOptions,
  ) {
    this.makeSession = options.createSession ?? providerSessionFactory;
    this.errors = new RealtimeErrors(host);
    this.playout = new PlayoutWait(host);
    this.audio = createAudioBridge(host.inputFormat, host.outputFormat);
    this.silence = new CallerSilence(host.inputFormat);
    this.format = host.inputFormat.encoding === 'mulaw' ? 'pcmu' : 'pcm24k';
    this.tools = new RealtimeToolCalls(host, {
      sendOutput: (callId, output) => this.session?.createItem({ type: 'function_call_output', callId, output }),
      requestResponse: () => this.responses.request(),
      isQuiet: () => this.isQuiet(),
    });
    host.playback.onFirstAudioSent((id, atMs) => this.onFirstAudioSent(id, atMs));
    host.playback.onUtteranceDone((pos) => this.onUtteranceDone(pos));
    host.signal.addEventListener('abort', () => void this.close(), { once: true });
  }

  prepare(): Promise<void> {
    this.prepared ??= this.connect();
    return this.prepared;
  }

  async start(): Promise<void> {
    await this.prepare();
    if (this.failure) {
      // The provider is the voice: the apology comes from the TTS, if there is one.
      await endWithApology(this.host, this.failure);
      return;
    }
    const greeting = greetingFor(this.host);
    if (greeting) this.responses.create({ instructions: greetingInstructions(greeting) });
  }

  onAudio(frame: Buffer): void {
    const session = this.session;
    // Before the first session is up (media can start first), the caller's words wait for it.
    if (!session && !this.reconnecting) return this.early?.push(frame);
    if (!session || this.reconnecting) return; // a drop: the gap is the caller's only loss
    // The gate runs on every frame (its noise floor follows the line), turn or not.
    const silent = this.silence.frame(frame);
    session.sendAudio(this.audio.toProvider(frame), silent && !this.callerSpeaking);
  }

  onDtmf(digit: string): void {
    if (!this.session) return;
    this.session.createItem({ type: 'message', role: 'user', text: `[The caller pressed the phone key ${digit}]` });
    this.responses.request();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.early = null;
    if (this.bargeInTimer) clearTimeout(this.bargeInTimer);
    this.tools.close();
    // What was said but not yet persisted (call ended mid-reply): keep what the caller heard.
    for (const item of this.items.values()) {
      if (item.persisted) continue;
      const pos = this.host.playback.position(item.itemId);
      const interrupted = !item.played && pos.heardMs < item.producedMs;
      await this.persistAgent(item, interrupted ? cutToHeard(item.text, pos.heardMs, item.producedMs) : item.text, interrupted);
    }
    this.session?.close();
    this.session = null;
  }

  // --- connection ------------------------------------------------------------------------------

  private async connect(): Promise<void> {
    const { provider, apiKey } = providerFor(this.host);
    if (!apiKey) {
      this.host.note(`realtime provider not configured (${provider.apiKeyEnv} is not set)`);
      this.failure = provider.notConfiguredReason;
      return;
    }
    let tools: ToolRunner | null = null;
    try {
      tools = await this.host.loadTools();
    } catch (err) {
      this.host.log.warn({ err: (err as Error).message }, 'tools could not be loaded; realtime call runs without tools');
      this.host.note('tools unavailable for this call');
    }
    this.tools.setRunner(tools);
    this.sessionConfig = sessionConfigFor(this.host, tools?.specs ?? []);
    const result = await connectWithRetry(() => this.makeSession(this.host), this.host.signal);
    if (this.closed || this.host.signal.aborted) return 'session' in result ? result.session.close() : undefined;
    if ('error' in result) {
      this.host.log.warn({ err: result.error.message }, 'realtime session could not be opened');
      this.host.note(`realtime provider unavailable: ${result.error.message}`);
      this.host.metrics.providerErrors.labels(this.errors.label, 'connect').inc();
      this.failure = 'error:realtime_unavailable';
      this.early = null;
      return;
    }
    this.attach(result.session);
  }

  private attach(session: RealtimeSession): void {
    this.session = session;
    session.onEvent((event) => {
      if (this.session === session) this.onEvent(event);
    });
    session.updateSession(this.sessionConfig!);
    const early = this.early;
    this.early = null;
    early?.drain((frame) => session.sendAudio(this.audio.toProvider(frame), false));
    if (early?.dropped) {
      this.host.log.warn({ frames: early.dropped }, 'caller audio from before the realtime session was ready was dropped');
      this.host.note(`the realtime session was ready late: the first ${(early.dropped * 20) / 1000} s of caller audio were not heard`);
    }
  }

  private async reconnect(): Promise<void> {
    if (this.reconnecting || this.closed) return;
    this.reconnecting = true;
    this.session = null;
    this.callerSpeaking = false; // a new session knows of no open turn
    const cut = this.cutResponse();
    const inFlight = [...this.items.values()].filter((i) => !i.persisted && i.producedMs > 0);
    this.abandonInFlight();
    // The audio already received plays out meanwhile; what the caller heard of it (marks) goes
    // into the replayed conversation, so the new session knows where its last words stopped.
    const [result] = await Promise.all([
      connectWithRetry(() => this.makeSession(this.host), this.host.signal, this.options.reconnectBackoffMs),
      this.playout.wait(inFlight),
    ]);
    this.reconnecting = false;
    if (this.closed) {
      if ('session' in result) result.session.close();
      return;
    }
    if ('error' in result) {
      this.host.note(`realtime session lost and could not be reopened: ${result.error.message}`);
      await endWithApology(this.host, 'error:realtime_disconnected');
      return;
    }
    // Not played out in time (marks lost): keep what the caller has heard so far.
    for (const item of inFlight) {
      if (!item.persisted) void this.persistAgent(item, cutToHeard(item.text, this.host.playback.position(item.itemId).heardMs, item.producedMs), false);
    }
    this.attach(result.session);
    // Restore the conversation so far; the instructions came back with `session.update`.
    for (const item of this.history.replayItems()) result.session.createItem(item);
    this.host.metrics.providerReconnects.labels(this.errors.label).inc();
    this.host.note('realtime session reconnected');
    this.host.log.info({ replayed: this.history.length }, 'realtime session reconnected');
    if (cut) {
      // The caller is waiting on a reply the old session never finished: carry on from what
      // they heard (or answer afresh if they heard nothing), instead of leaving them in silence.
      const heard = cut.items.map((i) => i.heardText ?? '').join(' ').trim();
      const { item, note } = resumeNote(heard);
      result.session.createItem(item);
      this.responses.create();
      this.host.note(note);
    }
  }

  /** The response the old session was producing when it dropped, unless barge-in had cancelled it. */
  private cutResponse(): CutResponse | null {
    const live = this.responses.liveId;
    if (live && this.cancelled.has(live)) return null;
    // The caller finished a turn the old session had not started answering: it is waiting too.
    const unanswered = this.turn !== null && this.turn.deltaAtMs === null;
    if (!live && !this.responses.pending && !unanswered) return null;
    return { items: [...this.items.values()].filter((i) => i.responseId === live && !i.persisted) };
  }

  /** The old session is gone mid-reply: finish what already reached playback, forget the rest. */
  private abandonInFlight(): void {
    for (const item of this.items.values()) {
      if (!item.transcriptDone) item.text = item.text.trim(); // deltas carry the next word's space
      item.transcriptDone = true;
      this.finishAudio(item);
    }
    this.responses.reset();
    this.tools.abandon();
  }

  // --- provider events ----------------------------------------------------------------------

  private onEvent(event: RealtimeEvent): void {
    switch (event.type) {
      case 'session.created':
      case 'session.updated':
      case 'truncated':
        return;
      case 'speech_started':
        return this.onSpeechStarted(event.itemId);
      case 'speech_stopped':
        return this.onSpeechStopped();
      case 'input_transcript':
        return void this.onUserTranscript(event.itemId, event.transcript);
      case 'response_created':
        return this.responses.onCreated(event.responseId);
      case 'audio_delta':
        return this.onAudioDelta(event.responseId, event.itemId, event.audio);
      case 'audio_done':
        return this.finishAudio(this.items.get(event.itemId));
      case 'transcript_delta': {
        if (this.cancelled.has(event.responseId)) return;
        const item = this.itemFor(event.responseId, event.itemId);
        item.text += event.delta;
        this.host.partial('agent', item.text);
        return;
      }
      case 'transcript_done': {
        const item = this.items.get(event.itemId);
        if (!item || item.persisted) return;
        item.text = event.transcript;
        item.transcriptDone = true;
        return void this.maybePersist(item);
      }
      case 'function_call':
        return this.tools.onCall(event.responseId, event.callId, event.name, event.arguments);
      case 'response_done':
        return this.onResponseDone(event.responseId);
      case 'error':
        if (event.code === 'conversation_already_has_active_response') {
          // Our response.create raced one the server's VAD started: ask again once that one is done.
          this.responses.onRaceLost();
        }
        return this.errors.onError(event.code, event.message, event.clientEventId);
      case 'closed':
        if (event.byClient || this.closed || this.host.signal.aborted) return;
        this.host.log.warn({ code: event.code, reason: event.reason }, 'realtime socket closed under the call');
        return void this.reconnect();
      default: {
        const never: never = event;
        return never;
      }
    }
  }

  private onSpeechStarted(itemId: string): void {
    this.callerSpeaking = true;
    this.userStarts.set(itemId, this.host.nowMs());
    this.history.userTurnStarted(itemId);
    this.agentSpokeThisTurn = false;
    if (!interruptible(this.host)) return;
    if (!this.host.playback.active && !this.responses.liveId) return;
    const delay = minInterruptionMs(this.host);
    if (delay === 0) return this.bargeIn();
    // Only speech that lasts `minInterruptionMs` interrupts (a cough does not).
    if (this.bargeInTimer) clearTimeout(this.bargeInTimer);
    this.bargeInTimer = setTimeout(() => {
      this.bargeInTimer = null;
      this.bargeIn();
    }, delay);
  }

  private onSpeechStopped(): void {
    this.callerSpeaking = false;
    if (this.bargeInTimer) {
      clearTimeout(this.bargeInTimer);
      this.bargeInTimer = null;
    }
    this.turn = { stoppedAtMs: this.host.nowMs(), deltaAtMs: null, itemId: null };
  }

  /** PROTOCOLS.md §5.5: clear, cancel if live, truncate to what was heard (never past what was sent). */
  private bargeIn(): void {
    const session = this.session;
    if (!session || this.closed) return;
    const wasPlaying = this.host.playback.active;
    const pos = wasPlaying ? this.host.playback.clear() : null;
    const live = this.responses.liveId;
    if (live && !this.cancelled.has(live)) {
      this.cancelled.add(live);
      session.cancelResponse();
    }
    if (wasPlaying) this.host.metrics.bargeIns.labels('realtime').inc();
    this.audio.resetOutput();
    // Every agent item whose audio reached playback but was not fully played is cut.
    for (const item of this.items.values()) {
      if (item.persisted || item.played || item.producedMs === 0) continue;
      const p = pos && pos.utteranceId === item.itemId ? pos : this.host.playback.position(item.itemId);
      const heard = Math.min(p.heardMs, p.sentMs);
      const audioEndMs = Math.floor(Math.max(0, Math.min(heard, item.producedMs)));
      const heardText = cutToHeard(item.text, audioEndMs, item.producedMs);
      this.errors.sentTruncate(session.truncate(item.itemId, 0, audioEndMs, heardText));
      this.cancelled.add(item.responseId);
      void this.persistAgent(item, heardText, true);
    }
  }

  private onAudioDelta(responseId: string, itemId: string, audio: Buffer): void {
    // Late deltas of a cancelled response must not reach the caller (§5.5 step 4).
    if (this.cancelled.has(responseId)) return;
    const item = this.itemFor(responseId, itemId);
    if (item.persisted) return;
    if (item.producedMs === 0) {
      this.history.agentStarted(itemId);
      this.audio.resetOutput();
      this.agentSpokeThisTurn = true;
      if (this.turn && this.turn.deltaAtMs === null) {
        this.turn.deltaAtMs = this.host.nowMs();
        this.turn.itemId = itemId;
      }
    }
    item.producedMs += audioMs(this.format, audio.length);
    this.host.playback.enqueue(itemId, this.audio.toCaller(audio));
  }

  private onFirstAudioSent(utteranceId: string, atMs: number): void {
    const item = this.items.get(utteranceId);
    if (item) item.startMs = atMs;
    const turn = this.turn;
    if (!turn || turn.itemId !== utteranceId || turn.deltaAtMs === null) return;
    this.turn = null;
    // Parts are consecutive stages: provider think time, then what the gateway added.
    this.host.recordTurn({
      firstAudioDeltaMs: turn.deltaAtMs - turn.stoppedAtMs,
      firstAudioSentMs: Math.max(0, atMs - turn.deltaAtMs),
      voiceToVoiceMs: Math.max(0, atMs - turn.stoppedAtMs),
    });
  }

  private onUtteranceDone(pos: PlaybackPosition): void {
    const item = pos.utteranceId ? this.items.get(pos.utteranceId) : undefined;
    if (item) {
      item.played = true;
      void this.maybePersist(item);
    }
    this.playout.onUtteranceDone();
    this.tools.checkEnd();
  }

  private onResponseDone(responseId: string): void {
    this.responses.onDone(responseId);
    // An item whose response ended without audio (text only, or cancelled before any) has nothing to play.
    for (const item of this.items.values()) {
      if (item.responseId === responseId && item.producedMs === 0 && !item.played) item.played = true;
    }
    void this.tools.onResponseDone(responseId, this.agentSpokeThisTurn).then(() => {
      this.responses.flush();
      this.tools.checkEnd();
    });
  }

  private async onUserTranscript(itemId: string, text: string): Promise<void> {
    this.history.userTranscribed(itemId, text);
    if (text.trim() === '') return;
    const startMs = this.userStarts.get(itemId) ?? this.host.nowMs();
    this.userStarts.delete(itemId);
    await this.host.transcript({ role: 'user', text, startMs, endMs: this.host.nowMs() });
  }

  // --- helpers ------------------------------------------------------------------------------

  private finishAudio(item: AgentItem | undefined): void {
    if (!item || item.audioDone) return;
    item.audioDone = true;
    this.host.playback.finish(item.itemId);
  }

  private itemFor(responseId: string, itemId: string): AgentItem {
    let item = this.items.get(itemId);
    if (!item) this.items.set(itemId, (item = newAgentItem(itemId, responseId, this.host.nowMs())));
    return item;
  }

  private async maybePersist(item: AgentItem): Promise<void> {
    if (item.persisted || !item.transcriptDone || !(item.played || item.producedMs === 0)) return;
    await this.persistAgent(item, item.text, false);
  }

  private async persistAgent(item: AgentItem, text: string, interrupted: boolean): Promise<void> {
    if (item.persisted) return;
    item.persisted = true;
    item.heardText = text;
    this.items.delete(item.itemId);
    this.history.agentSaid(item.itemId, text);
    if (text.trim() === '' && !interrupted) return;
    await this.host.transcript({ role: 'agent', text, startMs: item.startMs, endMs: this.host.nowMs(), interrupted: interrupted || undefined });
  }

  /** Nothing is being said or about to be: end_call may hang up now. */
  private isQuiet(): boolean {
    return this.responses.idle && !this.host.playback.active;
  }
}
