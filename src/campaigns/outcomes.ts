/**
 * What a contact becomes after an attempt. Pure: the dialer applies these patches to the store.
 *
 *   answered and completed              → completed (result from extraction)
 *   busy / no-answer / failed / canceled → retry after retryDelayMinutes while attempts < maxAttempts,
 *   placement 5xx, lost or stale call      else exhausted
 *   placement refused as invalid (422)  → failed: the same request would be refused again
 */
import type { Call, CallStatus, Campaign, Contact } from '../store/types.js';

export type ContactPatch = Partial<Omit<Contact, 'id' | 'campaignId' | 'createdAt'>>;

/** The call outcomes that count as a failed attempt (Twilio's terminal statuses but `completed`). */
export const RETRYABLE_CALL_STATUSES: readonly CallStatus[] = ['busy', 'no-answer', 'failed', 'canceled'];

/** Key in a campaign call's `metadata` naming the contact attempt it belongs to. */
export const ATTEMPT_METADATA_KEY = 'campaignAttempt';

/** A failed attempt: retry later, or give up once the campaign's attempts are used. */
export function attemptFailed(campaign: Campaign, contact: Contact, outcome: string, now: Date): ContactPatch {
  const base = { lastOutcome: outcome, updatedAt: now.toISOString() };
  if (contact.attempts >= campaign.maxAttempts) return { ...base, status: 'exhausted', nextAttemptAt: null };
  const next = new Date(now.getTime() + campaign.retryDelayMinutes * 60_000);
  return { ...base, status: 'retry', nextAttemptAt: next.toISOString() };
}

/** A placement the gateway refused as invalid: retrying the same request cannot succeed. */
export function attemptRefused(outcome: string, now: Date): ContactPatch {
  return { status: 'failed', lastOutcome: outcome, nextAttemptAt: null, updatedAt: now.toISOString() };
}

export function answered(call: Call, now: Date, result: { result: Record<string, unknown> | null; resultError: string | null }): ContactPatch {
  return {
    status: 'completed',
    lastOutcome: call.status,
    lastCallId: call.id,
    nextAttemptAt: null,
    result: result.result,
    resultError: result.resultError,
    updatedAt: now.toISOString(),
  };
}

/**
 * Undoes a claim that was never dialed (the campaign was paused between claim and placement):
 * the attempt is given back so pausing never costs a contact one of its attempts.
 */
export function releaseClaim(contact: Contact, now: Date): ContactPatch {
  const attempts = Math.max(0, contact.attempts - 1);
  return { status: attempts === 0 ? 'pending' : 'retry', attempts, updatedAt: now.toISOString() };
}

/** The attempt number a campaign call was placed for, or null for calls without one. */
export function callAttempt(call: Call): number | null {
  const v = call.metadata?.[ATTEMPT_METADATA_KEY];
  return typeof v === 'number' ? v : null;
}
