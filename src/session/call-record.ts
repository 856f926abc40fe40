/**
 * A session's view of its call record and event stream: every write the session makes to the
 * store, in order, and every event it emits (store first, bus second: SSE readers replay from
 * the store, so a lost publish loses nothing).
 *
 * Every store write goes through the call's `WriteLane` (write-queue.ts): in order, and while
 * the store is unreachable it waits and is written when the store returns, so a store outage
 * costs the call nothing but a late record.
 *
 * Exactly-once `call.ended`: whoever's `transitionCall` makes the call terminal writes it
 * (calls/lifecycle.ts keeps the same rule for status callbacks and the API).
 */
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context.js';
import type { Call, CallEventType, CallLatency, CallStatus } from '../store/types.js';
import type { Logger } from '../logger.js';
import { writeQueueFor, type WriteLane } from './write-queue.js';

type Deps = Pick<AppContext, 'store' | 'bus' | 'now'> & Partial<Pick<AppContext, 'metrics'>>;
type CallPatch = Partial<Omit<Call, 'id' | 'owner' | 'createdAt'>>;
type StoredEventType = Exclude<CallEventType, 'transcript.partial'>;

/** Notes kept on the call record; beyond this a long call's notes stop growing. */
const MAX_NOTES = 100;

export interface CallOutcome {
  reason: string;
  status: CallStatus;
  durationSeconds: number;
  recordingAvailable: boolean;
  /** Media was connected: if the call is already terminal, still add what only we know. */
  wasLive: boolean;
}

export class CallRecord {
  private current: Call;
  /** Seq of the last stored event: what a partial carries. */
  private seq = 0;
  /** Every store write of this call, in order, waiting out store outages. */
  private readonly lane: WriteLane;

  constructor(
    private readonly deps: Deps,
    call: Call,
    private readonly log: Logger,
    /** Mirrors events to the caller's own channel (web calls), if the transport has one. */
    private readonly mirror: (event: Record<string, unknown>) => void,
  ) {
    this.current = call;
    this.lane = writeQueueFor({ store: deps.store, log, metrics: deps.metrics?.faults }).lane(log);
  }

  get call(): Call {
    return this.current;
  }
  get lastSeq(): number {
    return this.seq;
  }

  /** Stores an event under the next seq (after this call's earlier writes), then publishes it. */
  emit(type: StoredEventType, data: Record<string, unknown>): Promise<void> {
    // One id for every attempt of this write: a retry after a lost reply stores nothing twice.
    const writeId = randomUUID();
    return this.lane.run(type, () => this.append(type, data, writeId), { callId: this.current.id, type, data }).then(() => undefined);
  }

  /** Inside the lane only (`finish` emits from within its own write). */
  private async append(type: StoredEventType, data: Record<string, unknown>, writeId: string): Promise<void> {
    const ev = await this.deps.store.appendCallEvent(this.current.id, type, data, writeId);
    if (ev.seq > this.seq) this.seq = ev.seq;
    this.mirror({ type, seq: ev.seq, data });
    // Not awaited: a bus outage must not hold this call's later writes (readers re-read the store).
    this.deps.bus.publishCallEvent({ callId: this.current.id, seq: ev.seq, type, data }).catch((err: unknown) => {
      this.log.warn({ err, type }, 'call event stored but not published');
    });
  }

  /** Publishes a never-stored partial with the last stored seq. */
  partial(data: Record<string, unknown>): void {
    this.mirror({ type: 'transcript.partial', seq: this.seq, data });
    this.deps.bus.publishCallEvent({ callId: this.current.id, seq: this.seq, type: 'transcript.partial', data }).catch(() => {});
  }

  setLatency(latency: CallLatency): void {
    this.write('latency', () => this.patch({ latency }));
  }

  addNote(text: string): void {
    const notes = this.current.notes ?? [];
    if (notes.length >= MAX_NOTES) return;
    const next = [...notes, text];
    this.current = { ...this.current, notes: next };
    this.write('note', () => this.patch({ notes: next }), text);
  }

  /** Media connected: `in-progress` with answer/start times (unless Twilio said so first). */
  answered(): void {
    this.write('answered', async () => {
      const step = this.lane.step.bind(this.lane);
      const cur = (await step('answered: read', () => this.deps.store.getCall(this.current.id))) ?? this.current;
      const at = this.deps.now().toISOString();
      const times = { answeredAt: cur.answeredAt ?? at, startedAt: cur.startedAt ?? at };
      if (cur.status === 'in-progress') {
        // The status callback already moved it (and wrote the event): only fill in the times.
        await step('answered: times', () => this.patch(times));
        return;
      }
      const updated = await step('answered: status', () => this.deps.store.transitionCall(this.current.id, 'in-progress', times));
      if (!updated) return;
      this.keep(updated);
      const data = { status: 'in-progress', previousStatus: cur.status };
      const id = randomUUID();
      await step('call.status', () => this.append('call.status', data, id), data);
    });
  }

  /** The call is over: final status and fields, then `call.status` and `call.ended` if ours. */
  async finish(o: CallOutcome): Promise<void> {
    await this.lane.run('final record', () => this.writeFinal(o), { callId: this.current.id, outcome: o });
  }

  private async writeFinal(o: CallOutcome): Promise<void> {
    const step = this.lane.step.bind(this.lane);
    const previousStatus = this.current.status;
    const patch = {
      endedAt: this.deps.now().toISOString(),
      durationSeconds: o.durationSeconds,
      endReason: o.reason,
      recordingAvailable: o.recordingAvailable,
    };
    const final = await step('final status', () => this.deps.store.transitionCall(this.current.id, o.status, patch), { callId: this.current.id, patch });
    if (final) {
      this.keep(final);
      const status = { status: final.status, previousStatus };
      const ended = { reason: final.endReason, status: final.status, durationSeconds: final.durationSeconds };
      const [statusId, endedId] = [randomUUID(), randomUUID()];
      await step('call.status', () => this.append('call.status', status, statusId), status);
      await step('call.ended', () => this.append('call.ended', ended, endedId), ended);
      return;
    }
    if (final === undefined || !o.wasLive) return; // given up (logged), or e.g. Twilio said busy/no-answer: its record, its events
    // Twilio's callback or the API got there first: keep its status and reason, add ours.
    const cur = await step('final record: read', () => this.deps.store.getCall(this.current.id));
    if (!cur) return;
    const updated = await step('final record: late fields', () =>
      this.deps.store.updateCall(this.current.id, {
        endedAt: cur.endedAt ?? patch.endedAt,
        durationSeconds: cur.durationSeconds ?? o.durationSeconds,
        endReason: cur.endReason ?? o.reason,
        recordingAvailable: cur.recordingAvailable || o.recordingAvailable,
      }),
    );
    if (updated) this.keep(updated);
  }

  private async patch(patch: CallPatch): Promise<void> {
    const updated = await this.deps.store.updateCall(this.current.id, patch);
    if (updated) this.keep(updated);
  }

  /** Takes the stored record, but our notes: they are only ever appended here. */
  private keep(call: Call): void {
    this.current = { ...call, notes: this.current.notes };
  }

  private write(what: string, fn: () => Promise<void>, content?: unknown): void {
    this.lane.run(what, fn, content).catch((err: unknown) => this.log.warn({ err, what }, 'call record update failed'));
  }
}
