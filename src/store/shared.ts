/** Dialect-independent pieces both stores share, so their semantics cannot drift apart. */
import { newId } from '../ids.js';
import type { CallStatus, Contact, ContactInput, ContactStatus, Page, TranscriptItem, TranscriptRole } from './types.js';
import { TERMINAL_CALL_STATUSES } from './types.js';

/**
 * How far a live call has progressed. `transitionCall` never moves a call backwards (Twilio
 * status callbacks arrive out of order: a late `ringing` must not undo `in-progress`) and
 * never moves a terminal call at all.
 */
export const LIVE_STATUS_RANK: Readonly<Record<string, number>> = { queued: 0, ringing: 1, 'in-progress': 2 };

export function statusRank(status: CallStatus): number {
  return TERMINAL_CALL_STATUSES.includes(status) ? 3 : (LIVE_STATUS_RANK[status] ?? 0);
}

/** `CASE status WHEN 'queued' THEN 0 ... END`: the rank of the stored status, in SQL. */
export const STATUS_RANK_SQL = `CASE status ${Object.entries(LIVE_STATUS_RANK)
  .map(([s, r]) => `WHEN '${s}' THEN ${r}`)
  .join(' ')} ELSE 3 END`;

/** `'completed', 'busy', ...` for `NOT IN (...)`. */
export const TERMINAL_SQL_LIST = TERMINAL_CALL_STATUSES.map((s) => `'${s}'`).join(', ');

/**
 * Lists fetch `limit + 1` rows newest first; the extra row only says whether another page
 * exists, and the cursor is the last returned id ("strictly older than this").
 */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  if (rows.length > limit) {
    const items = rows.slice(0, limit);
    return { items, nextAfterId: items.length > 0 ? items[items.length - 1].id : null };
  }
  return { items: rows, nextAfterId: null };
}

export function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`page limit must be a positive integer, got ${limit}`);
  return limit;
}

export const CONTACT_STATUSES: readonly ContactStatus[] = ['pending', 'calling', 'retry', 'completed', 'failed', 'exhausted'];

export function emptyContactCounts(): Record<ContactStatus, number> {
  return { pending: 0, calling: 0, retry: 0, completed: 0, failed: 0, exhausted: 0 };
}

/**
 * Folds repeated externalIds in one batch into the last occurrence (last write wins), so one
 * row is written per contact and the created/updated counts describe rows, not input lines.
 * Contacts without an externalId are kept as they are: each one is a new row.
 */
export function dedupeContacts(contacts: ContactInput[]): ContactInput[] {
  const lastIndex = new Map<string, number>();
  contacts.forEach((c, i) => {
    if (c.externalId !== undefined && c.externalId !== null) lastIndex.set(c.externalId, i);
  });
  return contacts.filter((c, i) => c.externalId === undefined || c.externalId === null || lastIndex.get(c.externalId) === i);
}

/** A stored `transcript.final` event's data → the API's transcript item. */
export function toTranscriptItem(seq: number, data: Record<string, unknown>): TranscriptItem {
  const item: TranscriptItem = {
    seq,
    role: data.role as TranscriptRole,
    text: typeof data.text === 'string' ? data.text : '',
    startMs: typeof data.startMs === 'number' ? data.startMs : 0,
    endMs: typeof data.endMs === 'number' ? data.endMs : 0,
    final: true,
  };
  if (typeof data.interrupted === 'boolean') item.interrupted = data.interrupted;
  return item;
}

/** Options common to both stores. */
export interface StoreOptions {
  /** Clock for the timestamps the store sets itself (createdAt/updatedAt); tests pass fakes. */
  now?: () => Date;
  /**
   * PostgreSQL only: the schema (search_path) to use; created if missing. Overrides the
   * `schema` query parameter of DATABASE_URL. Lets tests and several deployments share a
   * database.
   */
  schema?: string;
}

/** A contact as first written: pending, never attempted. */
export function newContact(campaignId: string, c: ContactInput, now: string): Contact {
  return {
    id: newId('cnt'),
    campaignId,
    externalId: c.externalId ?? null,
    phone: c.phone,
    name: c.name ?? null,
    variables: c.variables ?? {},
    status: 'pending',
    attempts: 0,
    nextAttemptAt: null,
    lastCallId: null,
    lastOutcome: null,
    result: null,
    resultError: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** SQL for the `endReason` filter: `= ?`, or `LIKE ? ESCAPE` for a `prefix*`. */
export function endReasonClause(endReason: string): { sql: string; value: string } {
  if (!endReason.endsWith('*')) return { sql: 'end_reason = ?', value: endReason };
  const prefix = endReason.slice(0, -1).replace(/[\\%_]/g, (c) => '\\' + c);
  return { sql: "end_reason LIKE ? ESCAPE '\\'", value: prefix + '%' };
}
