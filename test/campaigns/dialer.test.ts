import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VoxgateError } from '../../src/errors.js';
import { addCampaign, createWorld, FakePlacer, makeDialer, phones, type World } from './campaign-fixtures.js';

let world: World;
beforeEach(async () => {
  // Wednesday 2026-03-04 10:00 EST.
  world = await createWorld('2026-03-04T15:00:00Z');
});
afterEach(async () => {
  await world.close();
});

const statuses = async (campaignId: string) => world.store.countContacts(campaignId);

describe('campaign dialer', () => {
  it('dials only running campaigns', async () => {
    const placer = new FakePlacer(world.store);
    await addCampaign(world, { status: 'draft' }, phones(2));
    await addCampaign(world, { status: 'paused' }, phones(2));
    await addCampaign(world, { status: 'stopped' }, phones(2));
    const dialer = makeDialer(world, placer);
    await dialer.tick();
    expect(placer.requests).toHaveLength(0);
  });

  it('places calls through the outbound path with the contact variables and campaign ids', async () => {
    const placer = new FakePlacer(world.store);
    const campaign = await addCampaign(world, {}, [{ externalId: 'x', phone: '+14155550123', name: 'Ada', variables: { first: 'Ada' } }]);
    await makeDialer(world, placer).tick();
    expect(placer.requests).toHaveLength(1);
    const req = placer.requests[0]!;
    expect(req).toMatchObject({
      owner: 'acme',
      agentId: world.agentId,
      fromNumberId: world.numberId,
      toNumber: '+14155550123',
      variables: { first: 'Ada' },
      campaignId: campaign.id,
    });
    const contact = (await world.store.listContacts(campaign.id, undefined, { limit: 10 })).items[0]!;
    expect(req.contactId).toBe(contact.id);
    expect(contact).toMatchObject({ status: 'calling', attempts: 1, lastCallId: placer.calls[0]!.id });
  });

  it('calls only inside calling hours of a DST-observing zone, across the switch', async () => {
    const placer = new FakePlacer(world.store);
    const campaign = await addCampaign(
      world,
      { schedule: { timezone: 'America/New_York', callingHours: { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] } }, maxConcurrentCalls: 1 },
      phones(3),
    );
    const dialer = makeDialer(world, placer);
    // Friday 2026-03-06 08:30 EST (13:30Z): too early.
    world.clock.set('2026-03-06T13:30:00Z');
    await dialer.tick();
    expect(placer.requests).toHaveLength(0);
    // 09:00 EST = 14:00Z: open.
    world.clock.set('2026-03-06T14:00:00Z');
    await dialer.tick();
    expect(placer.requests).toHaveLength(1);
    await placer.end(placer.calls[0]!.id, 'completed');
    // Saturday: closed even at noon.
    world.clock.set('2026-03-07T17:00:00Z');
    await dialer.tick();
    expect(placer.requests).toHaveLength(1);
    // Monday after spring-forward: 13:30Z is 09:30 EDT (it would have been 08:30 EST): open.
    world.clock.set('2026-03-09T12:59:00Z');
    await dialer.tick();
    expect(placer.requests).toHaveLength(1);
    world.clock.set('2026-03-09T13:30:00Z');
    await dialer.tick();
    expect(placer.requests).toHaveLength(2);
    // 17:00 EDT = 21:00Z: closed.
    await placer.end(placer.calls[1]!.id, 'completed');
    world.clock.set('2026-03-09T21:00:00Z');
    await dialer.tick();
    expect(placer.requests).toHaveLength(2);
    expect((await statuses(campaign.id)).completed).toBe(2);
  });

  it('never exceeds maxConcurrentCalls while calls end at random times, and finishes every contact', async () => {
    const placer = new FakePlacer(world.store);
    const campaign = await addCampaign(world, { maxConcurrentCalls: 3 }, phones(25));
    const dialer = makeDialer(world, placer);
    // Deterministic pseudo-random: a tiny LCG so a failure replays identically.
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let maxLive = 0;
    for (let round = 0; round < 200; round++) {
      await dialer.tick();
      const live = await placer.live();
      maxLive = Math.max(maxLive, live.length);
      expect(live.length).toBeLessThanOrEqual(3);
      for (const call of live) if (rand() < 0.4) await placer.end(call.id, 'completed');
      world.clock.advance(1_000);
      const counts = await statuses(campaign.id);
      if (counts.completed === 25) break;
    }
    expect(maxLive).toBe(3);
    expect((await statuses(campaign.id)).completed).toBe(25);
    // Every contact was called exactly once.
    expect(new Set(placer.requests.map((r) => r.contactId)).size).toBe(25);
    expect(placer.requests).toHaveLength(25);
    await dialer.tick();
    expect((await world.store.getCampaign(campaign.id))!.status).toBe('completed');
  });

  it('retries busy / no-answer / failed after retryDelayMinutes and stops at maxAttempts', async () => {
    const placer = new FakePlacer(world.store);
    const campaign = await addCampaign(world, { maxAttempts: 3, retryDelayMinutes: 30 }, phones(1));
    const dialer = makeDialer(world, placer);
    const contact = async () => (await world.store.listContacts(campaign.id, undefined, { limit: 1 })).items[0]!;

    await dialer.tick();
    expect(placer.requests).toHaveLength(1);
    await placer.end(placer.calls[0]!.id, 'busy');
    await dialer.tick();
    let c = await contact();
    expect(c).toMatchObject({ status: 'retry', attempts: 1, lastOutcome: 'busy' });
    expect(c.nextAttemptAt).toBe(new Date(world.clock.now().getTime() + 30 * 60_000).toISOString());

    // Not before the delay.
    world.clock.advanceMinutes(29);
    await dialer.tick();
    expect(placer.requests).toHaveLength(1);
    world.clock.advanceMinutes(1);
    await dialer.tick();
    expect(placer.requests).toHaveLength(2);
    await placer.end(placer.calls[1]!.id, 'no-answer');
    await dialer.tick();
    expect(await contact()).toMatchObject({ status: 'retry', attempts: 2, lastOutcome: 'no-answer' });

    world.clock.advanceMinutes(30);
    await dialer.tick();
    expect(placer.requests).toHaveLength(3);
    await placer.end(placer.calls[2]!.id, 'failed');
    await dialer.tick();
    expect(await contact()).toMatchObject({ status: 'exhausted', attempts: 3, lastOutcome: 'failed', nextAttemptAt: null });

    world.clock.advanceMinutes(120);
    await dialer.tick();
    expect(placer.requests).toHaveLength(3);
    expect((await world.store.getCampaign(campaign.id))!.status).toBe('completed');
  });

  it('counts a failed placement as an attempt, and a refused (422) one as failed', async () => {
    const placer = new FakePlacer(world.store);
    const campaign = await addCampaign(world, { maxAttempts: 2, retryDelayMinutes: 10 }, phones(2));
    const dialer = makeDialer(world, placer);
    placer.failWith = new VoxgateError('provider_error', 'twilio: 503 service unavailable', [], true);
    await dialer.tick();
    // The pass stops for the campaign after one failed placement.
    expect(placer.requests).toHaveLength(1);
    const first = await world.store.getContact(placer.requests[0]!.contactId!);
    expect(first).toMatchObject({ status: 'retry', attempts: 1 });
    expect(first!.lastOutcome).toContain('provider_error');

    placer.failWith = new VoxgateError('validation_failed', 'the agent cannot take phone calls');
    await dialer.tick();
    const second = await world.store.getContact(placer.requests[1]!.contactId!);
    expect(second).toMatchObject({ status: 'failed', attempts: 1 });
    expect(second!.lastOutcome).toContain('validation_failed');
    expect((await statuses(campaign.id)).calling).toBe(0);
  });

  it('stops placing new calls once paused or stopped, while live calls still get their outcome', async () => {
    const placer = new FakePlacer(world.store);
    const campaign = await addCampaign(world, { maxConcurrentCalls: 2 }, phones(6));
    const dialer = makeDialer(world, placer);
    await dialer.tick();
    expect(placer.requests).toHaveLength(2);
    await world.store.setCampaignStatus(campaign.id, 'paused');
    await placer.end(placer.calls[0]!.id, 'completed');
    await dialer.tick();
    expect(placer.requests).toHaveLength(2);
    expect((await statuses(campaign.id)).completed).toBe(1);

    await world.store.setCampaignStatus(campaign.id, 'running');
    await dialer.tick();
    expect(placer.requests).toHaveLength(3);
    await world.store.setCampaignStatus(campaign.id, 'stopped');
    for (const c of await placer.live()) await placer.end(c.id, 'completed');
    world.clock.advanceMinutes(5);
    await dialer.tick();
    expect(placer.requests).toHaveLength(3);
    const counts = await statuses(campaign.id);
    expect(counts).toMatchObject({ completed: 3, calling: 0, pending: 3 });
    expect((await world.store.getCampaign(campaign.id))!.status).toBe('stopped');
  });

  it('a new dialer over the same store after a restart neither repeats nor loses a contact', async () => {
    const placer = new FakePlacer(world.store);
    const campaign = await addCampaign(world, { maxConcurrentCalls: 2 }, phones(4));
    const first = makeDialer(world, placer);
    await first.tick();
    expect(placer.requests).toHaveLength(2);
    // The process dies here (no stop()). One call ends while nobody is watching.
    await placer.end(placer.calls[0]!.id, 'completed');

    const second = makeDialer(world, placer);
    await second.tick();
    // One slot was freed by the completed call: exactly one new contact, none of the first two.
    expect(placer.requests).toHaveLength(3);
    const firstTwo = placer.requests.slice(0, 2).map((r) => r.contactId);
    expect(firstTwo).not.toContain(placer.requests[2]!.contactId);
    // Ticking again changes nothing while the calls are live.
    await second.tick();
    await second.tick();
    expect(placer.requests).toHaveLength(3);

    for (let i = 0; i < 10; i++) {
      for (const c of await placer.live()) await placer.end(c.id, 'completed');
      await second.tick();
    }
    expect(placer.requests).toHaveLength(4);
    expect(new Set(placer.requests.map((r) => r.contactId)).size).toBe(4);
    expect((await statuses(campaign.id)).completed).toBe(4);
  });

  it('recovers a contact whose process died between claim and placement, and one whose call id was never written', async () => {
    const placer = new FakePlacer(world.store);
    const campaign = await addCampaign(world, { maxConcurrentCalls: 5, retryDelayMinutes: 10 }, phones(2));
    // Claimed, then the process died before placing: `calling` with no call at all.
    const orphanClaim = await world.store.claimContact(campaign.id, world.clock.now().toISOString(), 5);
    // Claimed and placed, then the process died before writing lastCallId.
    const placedClaim = await world.store.claimContact(campaign.id, world.clock.now().toISOString(), 5);
    const call = await placer.place({
      owner: 'acme',
      agentId: world.agentId,
      toNumber: placedClaim!.phone,
      campaignId: campaign.id,
      contactId: placedClaim!.id,
      metadata: { campaignAttempt: 1 },
    });
    await placer.end(call.id, 'completed');

    const dialer = makeDialer(world, placer, { placementTimeoutMs: 60_000 });
    await dialer.tick();
    expect(await world.store.getContact(placedClaim!.id)).toMatchObject({ status: 'completed', lastCallId: call.id });
    // The never-placed claim waits out the placement timeout, then loses its attempt to a retry.
    expect(await world.store.getContact(orphanClaim!.id)).toMatchObject({ status: 'calling' });
    world.clock.advance(61_000);
    await dialer.tick();
    const recovered = await world.store.getContact(orphanClaim!.id);
    expect(recovered).toMatchObject({ status: 'retry', attempts: 1 });
    expect(recovered!.lastOutcome).toMatch(/^lost/);
    expect(placer.requests).toHaveLength(1);
  });

  it('gives up on a call whose status never arrives', async () => {
    const placer = new FakePlacer(world.store);
    const campaign = await addCampaign(world, { retryDelayMinutes: 5 }, phones(1));
    const dialer = makeDialer(world, placer, { ringTimeoutMs: 10 * 60_000 });
    await dialer.tick();
    world.clock.advanceMinutes(11);
    await dialer.tick();
    const c = (await world.store.listContacts(campaign.id, undefined, { limit: 1 })).items[0]!;
    expect(c.status).toBe('retry');
    expect(c.lastOutcome).toMatch(/^stale/);
  });

  it('marks contacts completed with the extraction result, keeping them calling until it is written', async () => {
    const placer = new FakePlacer(world.store);
    const campaign = await addCampaign(
      world,
      { extractionSchema: { type: 'object', properties: { interested: { type: 'boolean' } }, required: ['interested'] } },
      phones(1),
    );
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const dialer = makeDialer(world, placer, {}, async () => {
      await gate;
      return { ok: true, result: { interested: true } };
    });
    await dialer.tick();
    await placer.end(placer.calls[0]!.id, 'completed');
    await dialer.tick();
    expect((await statuses(campaign.id)).calling).toBe(1);
    release();
    await dialer.settled();
    const c = (await world.store.listContacts(campaign.id, undefined, { limit: 1 })).items[0]!;
    expect(c).toMatchObject({ status: 'completed', result: { interested: true }, resultError: null });
  });
});
