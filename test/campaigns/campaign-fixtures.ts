/**
 * A campaign world for dialer and extraction tests: a temp SQLite store on a manual clock, an
 * owner's agent, number and campaign, and a placeOutboundCall stand-in that creates the call
 * record (as the real path does) so outcomes are driven through the store like Twilio status
 * callbacks drive them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { Call, Campaign, CallStatus, ContactInput, NewCampaign, Store } from '../../src/store/types.js';
import type { OutboundRequest } from '../../src/calls/outbound.js';
import { Dialer, type DialerOptions } from '../../src/campaigns/dialer.js';
import type { ExtractionOutcome } from '../../src/campaigns/extraction.js';
import { makeAgent, makeCall, makeCampaign, makeNumber } from '../store/fixtures.js';

export const OWNER = 'acme';
export const silentLog = pino({ level: 'silent' });

export class ManualClock {
  constructor(private ms: number) {}
  now = (): Date => new Date(this.ms);
  set(iso: string): void {
    this.ms = Date.parse(iso);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  advanceMinutes(min: number): void {
    this.ms += min * 60_000;
  }
}

export interface World {
  store: Store;
  clock: ManualClock;
  agentId: string;
  numberId: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function createWorld(startIso = '2026-03-04T15:00:00Z'): Promise<World> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-campaign-'));
  const clock = new ManualClock(Date.parse(startIso));
  const store = SqliteStore.forDataDir(dataDir, { now: clock.now });
  await store.migrate();
  const agent = await store.createAgent(makeAgent(OWNER, { voiceMode: 'phone' }));
  const number = makeNumber(OWNER);
  await store.createNumber(number);
  return {
    store,
    clock,
    agentId: agent.id,
    numberId: number.id,
    dataDir,
    async close() {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function addCampaign(world: World, over: Partial<NewCampaign> = {}, contacts: ContactInput[] = []): Promise<Campaign> {
  const campaign = await world.store.createCampaign(
    makeCampaign(OWNER, world.agentId, world.numberId, {
      schedule: { timezone: 'UTC' },
      maxConcurrentCalls: 5,
      maxAttempts: 3,
      retryDelayMinutes: 60,
      extractionSchema: null,
      status: 'running',
      ...over,
    }),
  );
  if (contacts.length > 0) await world.store.upsertContacts(campaign.id, contacts, world.clock.now().toISOString());
  return campaign;
}

export function phones(n: number): ContactInput[] {
  return Array.from({ length: n }, (_, i) => ({ externalId: `c${i}`, phone: `+1415555${String(1000 + i).padStart(4, '0')}`, name: `Person ${i}`, variables: { first: `P${i}` } }));
}

/** Records placed calls and creates their call records, like placeOutboundCall does. */
export class FakePlacer {
  readonly requests: OutboundRequest[] = [];
  readonly calls: Call[] = [];
  /** Throw this from the next placements instead of creating a call. */
  failWith: Error | null = null;

  constructor(private readonly store: Store) {}

  place = async (req: OutboundRequest): Promise<Call> => {
    this.requests.push(req);
    if (this.failWith) throw this.failWith;
    const call = await this.store.createCall(
      makeCall(req.owner, req.agentId, {
        toNumber: req.toNumber,
        phoneNumberId: req.fromNumberId ?? null,
        variables: req.variables ?? {},
        metadata: req.metadata ?? {},
        campaignId: req.campaignId ?? null,
        contactId: req.contactId ?? null,
        status: 'queued',
      }),
    );
    this.calls.push(call);
    return call;
  };

  /** Calls not yet in a terminal status, per the store. */
  async live(): Promise<Call[]> {
    const out: Call[] = [];
    for (const c of this.calls) {
      const now = await this.store.getCall(c.id);
      if (now && !['completed', 'busy', 'no-answer', 'failed', 'canceled'].includes(now.status)) out.push(now);
    }
    return out;
  }

  /** What a Twilio status callback does to the record. */
  async end(callId: string, status: CallStatus): Promise<void> {
    if (status === 'completed') await this.store.transitionCall(callId, 'in-progress', { answeredAt: new Date().toISOString() });
    await this.store.transitionCall(callId, status, { endedAt: new Date().toISOString() });
  }
}

export function makeDialer(
  world: World,
  placer: FakePlacer,
  over: Partial<DialerOptions> = {},
  extract: DialerOptions['extract'] = async (): Promise<ExtractionOutcome> => ({ ok: false, error: 'no extraction in this test' }),
): Dialer {
  return new Dialer({ store: world.store, place: placer.place, extract, now: world.clock.now, log: silentLog, ...over });
}
