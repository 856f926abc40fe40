/**
 * The campaign dialer: a tick (every second by default) that, for each campaign,
 *   1. reconciles contacts left `calling` against their call's status in the store (Twilio
 *      status callbacks write it), so outcomes are seen even across restarts;
 *   2. for `running` campaigns inside their calling window, claims due contacts and places
 *      each through `placeOutboundCall`, the same path as `POST /v1/calls`;
 *   3. marks a campaign `completed` once no contact is pending, retrying or calling.
 *
 * All state lives in the store; this object holds only "what this process is doing right now"
 * (contacts mid-placement or mid-extraction). A new Dialer over the same store continues where
 * the last one stopped without repeating a contact: claims are atomic updates (`claimContact`
 * refuses above maxConcurrentCalls and never hands out a `calling` contact), and each call
 * carries its attempt number in `metadata.campaignAttempt`, so a call of an earlier attempt is
 * never mistaken for the current one.
 *
 * Cluster seam: `DialerQueue` is the only way work is handed out. The default claims from the
 * store, which is already safe across nodes (PostgreSQL row locks / SQLite write lock); a
 * Redis-backed queue (BullMQ delayed jobs per contact) can replace it without touching the
 * reconcile and outcome logic, which stays idempotent.
 */
import type { Campaign, Call, Contact, Store } from '../store/types.js';
import { TERMINAL_CALL_STATUSES } from '../store/types.js';
import type { OutboundRequest } from '../calls/outbound.js';
import type { Logger } from '../logger.js';
import { VoxgateError } from '../errors.js';
import { mayDialAt, scheduleEnded } from './schedule.js';
import { ATTEMPT_METADATA_KEY, answered, attemptFailed, attemptRefused, callAttempt, releaseClaim, type ContactPatch } from './outcomes.js';
import type { ExtractionOutcome } from './extraction.js';
import { SupervisedLoop, isConnectionError } from '../faults/index.js';
import type { Counter } from 'prom-client';

export interface DialerQueue {
  /**
   * Hands out the next due contact of `campaign` (status pending/retry, nextAttemptAt passed),
   * already marked `calling` with attempts + 1, or null when none is due or the campaign
   * already has `maxConcurrentCalls` contacts calling. Must be atomic across nodes.
   */
  claim(campaign: Campaign, now: Date): Promise<Contact | null>;
}

export class StoreDialerQueue implements DialerQueue {
  constructor(private readonly store: Store) {}
  claim(campaign: Campaign, now: Date): Promise<Contact | null> {
    return this.store.claimContact(campaign.id, now.toISOString(), campaign.maxConcurrentCalls);
  }
}

export interface DialerOptions {
  store: Store;
  /** Places one call; `placeOutboundCall(ctx, req)` in production. */
  place: (req: OutboundRequest) => Promise<Call>;
  /** Post-call extraction for answered calls of campaigns with an extractionSchema. */
  extract: (campaign: Campaign, callId: string) => Promise<ExtractionOutcome>;
  now: () => Date;
  log: Logger;
  queue?: DialerQueue;
  /** False while the process drains: no new calls, outcomes still recorded. */
  mayPlaceCalls?: () => boolean;
  intervalMs?: number;
  /** Longest wait between passes while they keep failing (the store is away). */
  maxBackoffMs?: number;
  /** `voxgate_loop_errors_total`: failed passes are counted under `loop="dialer"`. */
  loopErrors?: Counter<'loop'>;
  /** A `calling` contact with no call record after this long lost its attempt (crash mid-placement). */
  placementTimeoutMs?: number;
  /** A call still queued/ringing after this long is stale (Twilio gives up ringing after ~60 s). */
  ringTimeoutMs?: number;
  /** A call not ended after this long is stale (its status callbacks were lost). */
  maxCallMs?: number;
}

/** Short enough that a freed slot is reused promptly, long enough to cost nothing when idle. */
export const DEFAULT_TICK_MS = 1_000;
const DEFAULT_PLACEMENT_TIMEOUT_MS = 2 * 60_000;
const DEFAULT_RING_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_MAX_CALL_MS = 4 * 60 * 60_000;
/** How many recent campaign calls to scan for a call whose id was never written to its contact. */
const ORPHAN_SCAN_LIMIT = 100;

export class Dialer {
  private readonly store: Store;
  private readonly queue: DialerQueue;
  /** Contacts this process is placing or extracting: the reconciler leaves them alone. */
  private readonly busy = new Set<string>();
  /** `contactId:attempt` pairs already searched for an orphaned call, to scan once, not every tick. */
  private readonly scanned = new Set<string>();
  private readonly background = new Set<Promise<void>>();
  private ticking: Promise<void> | null = null;
  private loop: SupervisedLoop | null = null;

  constructor(private readonly opts: DialerOptions) {
    this.store = opts.store;
    this.queue = opts.queue ?? new StoreDialerQueue(opts.store);
  }

  /**
   * Ticks under supervision: a pass that fails (the store went away) is logged, counted and
   * retried with back-off; it never becomes an unhandled rejection that ends the process.
   */
  start(): void {
    if (this.loop) return;
    this.loop = new SupervisedLoop({
      name: 'dialer',
      intervalMs: this.opts.intervalMs ?? DEFAULT_TICK_MS,
      maxBackoffMs: this.opts.maxBackoffMs,
      run: () => this.tick(),
      log: this.opts.log,
      errors: this.opts.loopErrors,
    });
    this.loop.start();
  }

  /** Stops ticking and waits for the current tick and any extraction in flight. */
  async stop(): Promise<void> {
    const loop = this.loop;
    this.loop = null;
    await loop?.stop();
    await this.ticking?.catch(() => undefined);
    await this.settled();
  }

  /** Resolves once background work (extractions) started so far has finished. */
  async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  /** One pass. Overlapping calls share the pass in progress instead of running twice. */
  tick(): Promise<void> {
    if (!this.ticking) {
      this.ticking = this.pass().finally(() => {
        this.ticking = null;
      });
    }
    return this.ticking;
  }

  private async pass(): Promise<void> {
    const now = this.opts.now();
    // Paused and stopped campaigns still have live calls finishing: their outcomes count.
    for (const status of ['running', 'paused', 'stopped'] as const) {
      for (const campaign of await this.store.listCampaignsByStatus(status)) {
        try {
          await this.reconcile(campaign, now);
          if (status === 'running') await this.dial(campaign, now);
        } catch (err) {
          // The store itself is away: the whole pass fails and the loop backs off, rather
          // than logging one error per campaign every second.
          if (isConnectionError(err)) throw err;
          this.opts.log.error({ err, campaignId: campaign.id }, 'dialer pass failed for campaign');
        }
      }
    }
  }

  // --- placing calls -------------------------------------------------------------------

  private async dial(campaign: Campaign, now: Date): Promise<void> {
    if (await this.completeIfDone(campaign, now)) return;
    if (!mayDialAt(now, campaign.schedule)) return;
    if (this.opts.mayPlaceCalls && !this.opts.mayPlaceCalls()) return;
    // At most one round of the cap per pass: the next pass continues, so one slow campaign
    // cannot starve the others.
    for (let i = 0; i < campaign.maxConcurrentCalls; i++) {
      const contact = await this.queue.claim(campaign, now);
      if (!contact) return;
      this.busy.add(contact.id);
      try {
        // A pause or stop approved a moment ago takes effect before this call, not after it.
        const fresh = await this.store.getCampaign(campaign.id);
        if (fresh?.status !== 'running') {
          await this.patch(contact.id, releaseClaim(contact, this.opts.now()));
          return;
        }
        if (!(await this.placeOne(campaign, contact))) return;
      } finally {
        this.busy.delete(contact.id);
      }
    }
  }

  /** Places the claimed contact's call; false when placement failed (stop for this pass). */
  private async placeOne(campaign: Campaign, contact: Contact): Promise<boolean> {
    try {
      const call = await this.opts.place({
        owner: campaign.owner,
        agentId: campaign.agentId,
        toNumber: contact.phone,
        fromNumberId: campaign.fromNumberId,
        variables: contact.variables,
        metadata: { campaignId: campaign.id, contactId: contact.id, [ATTEMPT_METADATA_KEY]: contact.attempts },
        campaignId: campaign.id,
        contactId: contact.id,
      });
      await this.patch(contact.id, { lastCallId: call.id, updatedAt: this.opts.now().toISOString() });
      return true;
    } catch (err) {
      // A refused or failed placement is an attempt like a failed call; it also ends this
      // pass for the campaign, because the cause (an agent made web-only, Twilio down) usually
      // applies to every contact and must not burn through the whole list in one second.
      const now = this.opts.now();
      const e = err as Error;
      const code = err instanceof VoxgateError ? err.code : 'error';
      const outcome = `placement_failed: ${code}: ${e.message}`;
      const invalid = err instanceof VoxgateError && err.status === 422;
      await this.patch(contact.id, invalid ? attemptRefused(outcome, now) : attemptFailed(campaign, contact, outcome, now));
      this.opts.log.warn({ err, campaignId: campaign.id, contactId: contact.id }, 'campaign call placement failed');
      return false;
    }
  }

  /** Running → completed once nothing is left to dial (or the schedule ended) and no call is live. */
  private async completeIfDone(campaign: Campaign, now: Date): Promise<boolean> {
    const counts = await this.store.countContacts(campaign.id);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const left = counts.pending + counts.retry + counts.calling;
    const done = (total > 0 && left === 0) || (scheduleEnded(now, campaign.schedule) && counts.calling === 0);
    if (!done) return false;
    await this.store.setCampaignStatus(campaign.id, 'completed');
    this.opts.log.info({ campaignId: campaign.id, counts }, 'campaign completed');
    return true;
  }

  // --- outcomes --------------------------------------------------------------------------

  private async reconcile(campaign: Campaign, now: Date): Promise<void> {
    let afterId: string | undefined;
    do {
      const page = await this.store.listContacts(campaign.id, 'calling', { limit: 100, afterId });
      for (const contact of page.items) {
        if (this.busy.has(contact.id)) continue;
        await this.reconcileContact(campaign, contact, now);
      }
      afterId = page.nextAfterId ?? undefined;
    } while (afterId);
  }

  private async reconcileContact(campaign: Campaign, contact: Contact, now: Date): Promise<void> {
    let call = contact.lastCallId ? await this.store.getCall(contact.lastCallId) : null;
    // lastCallId still names the previous attempt's call between a claim and its placement.
    if (call && !belongsToAttempt(call, contact)) call = null;
    if (!call) call = await this.findOrphanCall(campaign, contact);
    if (!call) {
      if (now.getTime() - Date.parse(contact.updatedAt) > (this.opts.placementTimeoutMs ?? DEFAULT_PLACEMENT_TIMEOUT_MS)) {
        await this.patch(contact.id, attemptFailed(campaign, contact, 'lost: no call was placed for this attempt', now));
      }
      return;
    }
    if (call.status === 'completed') return this.finishAnswered(campaign, contact, call);
    if (TERMINAL_CALL_STATUSES.includes(call.status)) {
      await this.patch(contact.id, { ...attemptFailed(campaign, contact, call.status, now), lastCallId: call.id });
      return;
    }
    const age = now.getTime() - Date.parse(call.createdAt);
    const ringing = call.status === 'queued' || call.status === 'ringing';
    if ((ringing && age > (this.opts.ringTimeoutMs ?? DEFAULT_RING_TIMEOUT_MS)) || age > (this.opts.maxCallMs ?? DEFAULT_MAX_CALL_MS)) {
      await this.patch(contact.id, { ...attemptFailed(campaign, contact, `stale: call ${call.id} still ${call.status}`, now), lastCallId: call.id });
    }
  }

  /**
   * The process may have died after the call was created but before its id reached the
   * contact: look for it among the campaign's newest calls, once per attempt per process.
   */
  private async findOrphanCall(campaign: Campaign, contact: Contact): Promise<Call | null> {
    const key = `${contact.id}:${contact.attempts}`;
    if (this.scanned.has(key)) return null;
    this.scanned.add(key);
    if (this.scanned.size > 100_000) this.scanned.clear();
    const page = await this.store.listCalls({ campaignId: campaign.id }, { limit: ORPHAN_SCAN_LIMIT });
    const call = page.items.find((c) => c.contactId === contact.id && belongsToAttempt(c, contact)) ?? null;
    if (call) await this.patch(contact.id, { lastCallId: call.id });
    return call;
  }

  /** Completed call: the contact is completed, with its extraction result when it has a schema. */
  private async finishAnswered(campaign: Campaign, contact: Contact, call: Call): Promise<void> {
    if (!campaign.extractionSchema) {
      await this.patch(contact.id, answered(call, this.opts.now(), { result: null, resultError: null }));
      return;
    }
    // Extraction takes seconds (an LLM round trip): it runs beside the tick, and the contact
    // stays `calling` until its result is written, so a restart mid-extraction redoes it.
    this.busy.add(contact.id);
    const work = (async () => {
      try {
        const outcome = await this.opts.extract(campaign, call.id);
        const result = outcome.ok ? { result: outcome.result, resultError: null } : { result: null, resultError: outcome.error };
        await this.patch(contact.id, answered(call, this.opts.now(), result));
      } catch (err) {
        this.opts.log.error({ err, contactId: contact.id }, 'extraction crashed');
        await this.patch(contact.id, answered(call, this.opts.now(), { result: null, resultError: `extraction_failed: ${(err as Error).message}` }));
      } finally {
        this.busy.delete(contact.id);
      }
    })().catch((err: unknown) => {
      // The store refused the write: the contact stays `calling` and the next pass retries.
      this.opts.log.error({ err, contactId: contact.id }, 'could not record the extraction result');
    });
    this.background.add(work);
    void work.finally(() => this.background.delete(work));
  }

  private async patch(contactId: string, patch: ContactPatch): Promise<void> {
    await this.store.updateContact(contactId, patch);
  }
}

function belongsToAttempt(call: Call, contact: Contact): boolean {
  const attempt = callAttempt(call);
  return call.contactId === contact.id && (attempt === null || attempt === contact.attempts);
}
