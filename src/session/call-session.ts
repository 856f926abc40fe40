/**
 * One call on this node: its transport, engine, playback, recorder, transcript and timers.
 * The session is the engine's `EngineHost`; engines never see the transport.
 *
 * Lifecycle: announced (engine.prepare warms provider sockets) → live (media attached, engine
 * started) → ended. `end` is idempotent and is the only way out: it closes the engine, the
 * transport and the recording, then writes the final call record and events (store first,
 * bus second, so SSE readers that replay from the store never miss `call.ended`).
 */
import type { AppContext } from '../context.js';
import type { Agent, Call, CallStatus, TurnLatency } from '../store/types.js';
import type { CallEnd, Engine, EngineFactory, EngineHost, TranscriptInput } from '../engine/types.js';
import { mergeVariables } from '../engine/template.js';
import type { ToolRunner } from '../tools/types.js';
import { createToolRunner, decryptAgentEnv } from '../tools/index.js';
import { MULAW_8K, PCM16_16K, type AudioFormat, type Transport, type TransportEvent } from '../transport/types.js';
import { VoxgateError, isAbortError } from '../errors.js';
import type { Logger } from '../logger.js';
import { CALL_CHUNK_MS, PacedPlayback } from './playback.js';
import type { Pacer } from './pacer.js';
import { CallRecorder, recordingPath } from './recorder.js';
import { LATENCY_PARTS, LatencyStats } from './latency.js';
import { CallRecord } from './call-record.js';

/** Why `attach` refused a transport: the route reports it as `token_reused`. */
export class SessionAttachError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SessionAttachError';
  }
}

/** How long `end` waits for the engine to close (flush provider sockets) before moving on. */
const ENGINE_CLOSE_TIMEOUT_MS = 2000;
/** A tool-driven transfer waits this long after the agent's audio ran out (its last words' TTS may lag). */
const AGENT_QUIET_SETTLE_MS = 600;
/** …and never longer than this in all: a transfer must not hang on a stuck playback. */
const AGENT_QUIET_MAX_MS = 15_000;

export interface CallSessionOptions {
  ctx: AppContext;
  call: Call;
  agent: Agent;
  channel: 'phone' | 'web';
  engineFactory: EngineFactory;
  pacer: Pacer;
  /** An announced call whose media never connects ends after this long. */
  mediaConnectTimeoutMs: number;
  onLive(session: CallSession): void;
  onClosed(session: CallSession): void;
}

type State = 'announced' | 'live' | 'ending' | 'ended';

/** What another reporter of the end knows better than the session (calls/lifecycle.ts). */
export interface EndOverrides {
  status?: CallStatus;
  /** The carrier's billed duration: used when no media was measured here. */
  durationSeconds?: number;
}

export class CallSession implements EngineHost {
  readonly callId: string;
  readonly agent: Agent;
  readonly channel: 'phone' | 'web';
  readonly variables: Record<string, string>;
  readonly inputFormat: AudioFormat;
  readonly outputFormat: AudioFormat;
  readonly log: Logger;
  readonly playback: PacedPlayback;
  private readonly ctx: AppContext;
  private readonly engine: Engine;
  private readonly abort = new AbortController();
  private readonly latency = new LatencyStats();
  private readonly record: CallRecord;
  private state: State = 'announced';
  private transport: Transport | null = null;
  private recorder: CallRecorder | null = null;
  private mediaStartAt = 0;
  private transferring = false;
  private tools: Promise<ToolRunner> | null = null;
  private env: Promise<Record<string, string>> | null = null;
  private ending: Promise<void> | null = null;
  private connectTimer: NodeJS.Timeout | null;

  constructor(private readonly opts: CallSessionOptions) {
    this.ctx = opts.ctx;
    this.record = new CallRecord(opts.ctx, opts.call, opts.ctx.log.child({ callId: opts.call.id }), (ev) => this.transport?.sendEvent?.(ev));
    this.callId = opts.call.id;
    this.agent = opts.agent;
    this.channel = opts.channel;
    this.variables = mergeVariables(opts.call.variables, opts.agent.variables);
    const format = opts.channel === 'phone' ? MULAW_8K : PCM16_16K;
    this.inputFormat = format;
    this.outputFormat = format;
    this.log = opts.ctx.log.child({ callId: this.callId });
    this.playback = new PacedPlayback({
      format,
      pacer: opts.pacer,
      leadMs: opts.ctx.config.media.playbackLeadMs,
      chunkMs: CALL_CHUNK_MS,
      hostTime: (clockMs) => clockMs - this.mediaStartAt,
      onFrame: (frame, playAt) => this.recorder?.agent(frame, playAt - this.mediaStartAt),
      onClear: (atMs) => this.recorder?.cleared(atMs - this.mediaStartAt),
    });
    this.engine = opts.engineFactory(this);
    // An announced call whose stream never arrives must not hold its engine (and sockets) forever.
    this.connectTimer = setTimeout(() => void this.giveUpWaitingForMedia(), opts.mediaConnectTimeoutMs);
    this.connectTimer.unref();
  }

  get call(): Call {
    return this.record.call;
  }
  get signal(): AbortSignal {
    return this.abort.signal;
  }
  get config() {
    return this.ctx.config;
  }
  get store() {
    return this.ctx.store;
  }
  get metrics() {
    return this.ctx.metrics;
  }
  get knowledge() {
    return this.ctx.knowledge;
  }
  get live(): boolean {
    return this.state === 'live';
  }
  /** Media was attached at some point (the registry's live-call count). */
  get wasLive(): boolean {
    return this.transport !== null;
  }
  get ended(): boolean {
    return this.state === 'ending' || this.state === 'ended';
  }

  /** Warms the engine (provider sockets). Never throws: failures become notes. */
  async prepare(): Promise<void> {
    try {
      await this.engine.prepare();
    } catch (err) {
      if (!isAbortError(err)) this.note(`engine prepare failed: ${(err as Error).message}`);
    }
  }

  attach(transport: Transport): void {
    if (this.state === 'live') throw new SessionAttachError('the call already has a media stream');
    if (this.state !== 'announced') throw new SessionAttachError('the call has ended');
    if (transport.inputFormat.encoding !== this.inputFormat.encoding || transport.inputFormat.sampleRate !== this.inputFormat.sampleRate) {
      throw new Error(`a ${transport.kind} transport cannot carry a ${this.channel} call`);
    }
    this.state = 'live';
    this.transport = transport;
    this.mediaStartAt = this.opts.pacer.clock.now();
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    if (this.record.call.record) {
      try {
        this.recorder = new CallRecorder(recordingPath(this.ctx.config.dataDir, this.callId), transport.inputFormat, transport.outputFormat);
      } catch (err) {
        this.note(`recording unavailable: ${(err as Error).message}`);
      }
    }
    this.playback.attach(transport);
    transport.onEvent((ev) => this.onTransportEvent(ev));
    this.ctx.metrics.callsTotal.inc({ direction: this.record.call.direction, engine: this.agent.architecture });
    this.opts.onLive(this);
    this.record.answered();
    this.engine.start().catch((err: unknown) => {
      if (isAbortError(err) || this.ended) return;
      this.log.error({ err }, 'engine failed to start');
      void this.end('error:engine_start');
    });
  }

  nowMs(): number {
    return this.state === 'announced' ? 0 : this.opts.pacer.clock.now() - this.mediaStartAt;
  }

  loadTools(): Promise<ToolRunner> {
    this.tools ??= createToolRunner({
      callId: this.callId,
      agent: this.agent,
      channel: this.channel,
      store: this.ctx.store,
      envVarKey: this.ctx.secrets.envVarKey,
      allowPrivateUrls: this.ctx.config.allowPrivateUrls,
      calendlyBaseUrl: this.ctx.config.providers.calendly?.baseUrl,
      log: this.log,
      end: (reason) => this.end(reason),
      // The agent announces a transfer in the same reply as the tool call: let the caller hear it.
      transfer: (toNumber) => this.agentQuiet().then(() => this.transfer(toNumber)),
    });
    return this.tools;
  }

  agentEnv(): Promise<Record<string, string>> {
    this.env ??= decryptAgentEnv(this.ctx.store, this.ctx.secrets.envVarKey, this.agent.id, this.log);
    return this.env;
  }

  async transcript(item: TranscriptInput): Promise<void> {
    const data: Record<string, unknown> = { role: item.role, text: item.text, startMs: item.startMs, endMs: item.endMs };
    if (item.interrupted) data.interrupted = true;
    try {
      // Both queued at once: in order, and together ahead of anything the call writes later
      // (while the store is away they wait in the call's write lane).
      const writes = [this.record.emit('transcript.final', data)];
      if (item.interrupted && item.role === 'agent') {
        writes.push(this.record.emit('agent.interrupted', { text: item.text, startMs: item.startMs, endMs: item.endMs }));
      }
      await Promise.all(writes);
    } catch (err) {
      // A store hiccup loses one transcript line, never the call.
      this.log.warn({ err }, 'transcript write failed');
    }
  }

  partial(role: 'user' | 'agent', text: string): void {
    this.record.partial({ role, text });
  }

  recordTurn(latency: TurnLatency): void {
    const engine = this.agent.architecture;
    for (const [field, part] of LATENCY_PARTS) {
      const v = latency[field];
      if (typeof v === 'number' && Number.isFinite(v)) this.ctx.metrics.turnLatency.observe({ engine, part }, v);
    }
    this.record.setLatency(this.latency.add(latency));
  }

  note(text: string): void {
    this.log.info({ note: text }, 'call note');
    this.record.addNote(text);
  }

  end(reason: string, final?: EndOverrides): Promise<void> {
    this.ending ??= this.finish(reason, final);
    return this.ending;
  }

  /** Ending, with the final record not yet written. */
  get finishing(): boolean {
    return this.state === 'ending';
  }

  /**
   * The media never reached this node. If it reached another one (the call is in progress
   * there: cluster, or the webhook and the stream landed on different nodes), this session is
   * just dropped; otherwise the call failed.
   */
  private async giveUpWaitingForMedia(): Promise<void> {
    if (this.state !== 'announced') return;
    const stored = await this.ctx.store.getCall(this.callId).catch(() => null);
    if (stored && stored.status === 'in-progress') {
      await this.abandon();
      return;
    }
    await this.end('error:media_never_connected');
  }

  /** Drops an announced call that never connected here, leaving its record alone (drain). */
  async abandon(): Promise<void> {
    if (this.state !== 'announced') return;
    this.state = 'ended';
    this.stopLocal();
    await this.closeEngine();
    this.opts.onClosed(this);
  }

  /**
   * Resolves once the caller has heard everything the agent queued and nothing new came for
   * `settleMs` (TTS of the last words may still be on its way), or after `maxMs`, or at the end.
   */
  private agentQuiet(settleMs = AGENT_QUIET_SETTLE_MS, maxMs = AGENT_QUIET_MAX_MS): Promise<void> {
    const started = Date.now();
    let quietSince = -1;
    return new Promise((resolve) => {
      const check = setInterval(() => {
        const now = Date.now();
        if (!this.playback.drained) quietSince = -1;
        else if (quietSince < 0) quietSince = now;
        if (this.ended || (quietSince >= 0 && now - quietSince >= settleMs) || now - started >= maxMs) {
          clearInterval(check);
          resolve();
        }
      }, 50);
    });
  }

  async transfer(toNumber: string): Promise<void> {
    if (this.channel !== 'phone') throw new VoxgateError('validation_failed', 'web calls cannot be transferred');
    const twilio = this.ctx.twilio;
    if (!twilio) throw new VoxgateError('provider_not_configured', 'Twilio is not configured');
    const sid = this.record.call.twilioCallSid;
    if (!sid) throw new VoxgateError('conflict', 'the call has no Twilio CallSid yet');
    if (this.ended) throw new VoxgateError('conflict', 'the call has ended');
    // New TwiML ends our stream from Twilio's side; that hangup is the transfer, not the caller.
    this.transferring = true;
    try {
      await twilio.updateCallTwiml(sid, `<Response><Dial>${escapeXml(toNumber)}</Dial></Response>`);
    } catch (err) {
      this.transferring = false;
      throw err;
    }
    await this.end('transfer');
  }

  private onTransportEvent(ev: TransportEvent): void {
    if (this.state !== 'live') return;
    try {
      switch (ev.type) {
        case 'audio':
          this.recorder?.caller(ev.payload, ev.timestampMs);
          this.engine.onAudio(ev.payload);
          return;
        case 'mark':
          this.playback.onMark(ev.name, ev.cleared);
          return;
        case 'dtmf':
          this.engine.onDtmf(ev.digit);
          return;
        case 'hangup':
          void this.end(this.transferring ? 'transfer' : 'caller_hangup');
          return;
        default: {
          const never: never = ev;
          throw new Error(`unhandled transport event ${JSON.stringify(never)}`);
        }
      }
    } catch (err) {
      // Never let an engine bug escape into the socket's event handler (it would crash the process).
      this.log.error({ err }, 'engine failed on a media event');
      void this.end('error:engine');
    }
  }

  private async finish(reason: string, final?: EndOverrides): Promise<void> {
    const wasLive = this.state === 'live';
    this.state = 'ending';
    try {
      this.stopLocal();
      // The caller goes first (no waiting on providers to hang up), then the recording, then
      // the engine, which may still write a last transcript item while it flushes.
      const endMs = this.nowMs();
      this.transport?.close(reason);
      let recordingAvailable = false;
      if (this.recorder) {
        try {
          this.recorder.close(endMs);
          recordingAvailable = true;
        } catch (err) {
          this.log.error({ err }, 'recording close failed');
        }
      }
      const durationSeconds = wasLive ? Math.round(endMs / 1000) : (final?.durationSeconds ?? 0);
      await this.closeEngine({ endReason: reason, durationSeconds });
      // A call that never had media and ended on an error failed; anything else completed.
      const status: CallStatus = final?.status ?? (!wasLive && reason.startsWith('error:') ? 'failed' : 'completed');
      await this.record.finish({ reason, status, durationSeconds, recordingAvailable, wasLive });
      if (wasLive) this.ctx.metrics.callDuration.observe({ direction: this.record.call.direction }, durationSeconds);
    } catch (err) {
      this.log.error({ err }, 'ending the call failed');
    } finally {
      this.state = 'ended';
      this.opts.onClosed(this);
    }
  }

  /**
   * Closes the engine, but never waits on it forever: an engine that ends the call from inside
   * a turn (`await host.end()`) and waits for that turn in `close()` would otherwise deadlock.
   */
  private async closeEngine(end?: CallEnd): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ENGINE_CLOSE_TIMEOUT_MS);
    });
    try {
      const outcome = await Promise.race([this.engine.close(end).then(() => 'closed' as const), timeout]);
      if (outcome === 'timeout') this.log.warn({ timeoutMs: ENGINE_CLOSE_TIMEOUT_MS }, 'engine close timed out');
    } catch (err) {
      this.log.warn({ err }, 'engine close failed');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops everything local and synchronous: timers, pacing, in-flight provider work. */
  private stopLocal(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    this.abort.abort();
    this.playback.dispose();
  }
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}
