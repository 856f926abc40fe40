/**
 * Campaign contacts on PostgreSQL: bulk upsert in one transaction and the cross-node claim.
 *
 * Why `claimContact` locks the campaign row instead of one clever UPDATE: "claim if fewer than
 * N are calling" is a read (the count) followed by a write. In one statement both read the same
 * snapshot, so two nodes can each count N-1, each claim a different row (SKIP LOCKED keeps them
 * apart) and end at N+1. Taking `FOR NO KEY UPDATE` on the campaign row first serialises the
 * claims of one campaign; in READ COMMITTED the next statement takes a fresh snapshot after
 * the lock is granted, so its count sees every claim committed before it. `NO KEY` keeps
 * contact inserts (whose foreign key takes `FOR KEY SHARE` on the campaign) unblocked.
 */
import { CONTACTS, columnList, decodeRow, encodeValue, patchColumns } from './columns.js';
import { mapConstraintError } from './constraint-errors.js';
import { q } from './postgres-connection.js';
import type { PgDb } from './postgres-db.js';
import { checkLimit, dedupeContacts, emptyContactCounts, newContact, toPage } from './shared.js';
import type { Contact, ContactInput, ContactStatus, Page, PageRequest } from './types.js';

/** Rows per INSERT: the arrays travel as 5 parameters whatever the size; this bounds one statement's memory. */
const UPSERT_CHUNK = 5000;

export class PgContacts {
  constructor(
    private readonly d: PgDb,
    private readonly iso: () => string,
  ) {}

  async upsert(campaignId: string, contacts: ContactInput[], now: string): Promise<{ created: number; updated: number }> {
    const batch = dedupeContacts(contacts).map((c) => newContact(campaignId, c, now));
    if (batch.length === 0) return { created: 0, updated: 0 };
    // `xmax = 0` is true for a freshly inserted row and false for one ON CONFLICT updated.
    const text =
      'INSERT INTO contacts (id, external_id, phone, name, variables, campaign_id, status, attempts, created_at, updated_at) ' +
      "SELECT u.id, u.external_id, u.phone, u.name, u.variables::jsonb, $6, 'pending', 0, $7, $7 " +
      'FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u (id, external_id, phone, name, variables) ' +
      'ON CONFLICT (campaign_id, external_id) DO UPDATE SET phone = excluded.phone, name = excluded.name, ' +
      'variables = excluded.variables, updated_at = excluded.updated_at RETURNING (xmax = 0) AS inserted';
    try {
      return await this.d.tx(async (client) => {
        let created = 0;
        let updated = 0;
        for (let i = 0; i < batch.length; i += UPSERT_CHUNK) {
          const chunk = batch.slice(i, i + UPSERT_CHUNK);
          const { rows } = await client.query<{ inserted: boolean }>(
            q(text, [
              chunk.map((c) => c.id),
              chunk.map((c) => c.externalId),
              chunk.map((c) => c.phone),
              chunk.map((c) => c.name),
              chunk.map((c) => JSON.stringify(c.variables)),
              campaignId,
              now,
            ]),
          );
          for (const r of rows) r.inserted ? created++ : updated++;
        }
        return { created, updated };
      });
    } catch (err) {
      throw mapConstraintError(err, 'contact');
    }
  }

  async get(id: string): Promise<Contact | null> {
    const { rows } = await this.d.pool.query(q(`SELECT ${columnList(CONTACTS)} FROM contacts WHERE id = $1`, [id]));
    return rows[0] ? decodeRow<Contact>(CONTACTS, rows[0]) : null;
  }

  async list(campaignId: string, status: ContactStatus | undefined, page: PageRequest): Promise<Page<Contact>> {
    const limit = checkLimit(page.limit);
    const conds = ['campaign_id = $1'];
    const values: unknown[] = [campaignId];
    if (status !== undefined) {
      values.push(status);
      conds.push(`status = $${values.length}`);
    }
    if (page.afterId !== undefined) {
      values.push(page.afterId);
      conds.push(`id < $${values.length}`);
    }
    values.push(limit + 1);
    const text = `SELECT ${columnList(CONTACTS)} FROM contacts WHERE ${conds.join(' AND ')} ORDER BY id DESC LIMIT $${values.length}`;
    const { rows } = await this.d.pool.query(q(text, values));
    return toPage(rows.map((r) => decodeRow<Contact>(CONTACTS, r)), limit);
  }

  async count(campaignId: string): Promise<Record<ContactStatus, number>> {
    const out = emptyContactCounts();
    const { rows } = await this.d.pool.query<{ status: ContactStatus; n: string }>(
      q('SELECT status, count(*) AS n FROM contacts WHERE campaign_id = $1 GROUP BY status', [campaignId]),
    );
    for (const r of rows) out[r.status] = Number(r.n);
    return out;
  }

  async claim(campaignId: string, now: string, maxConcurrent: number): Promise<Contact | null> {
    return this.d.tx(async (client) => {
      const locked = await client.query(q('SELECT 1 FROM campaigns WHERE id = $1 FOR NO KEY UPDATE', [campaignId]));
      if (locked.rowCount === 0) return null;
      const { rows } = await client.query(
        q(
          "UPDATE contacts SET status = 'calling', attempts = attempts + 1, updated_at = $2 WHERE id = (" +
            "SELECT id FROM contacts WHERE campaign_id = $1 AND status IN ('pending', 'retry') " +
            'AND (next_attempt_at IS NULL OR next_attempt_at <= $2) ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED' +
            ") AND (SELECT count(*) FROM contacts WHERE campaign_id = $1 AND status = 'calling') < $3 " +
            `RETURNING ${columnList(CONTACTS)}`,
          [campaignId, now, maxConcurrent],
        ),
      );
      return rows[0] ? decodeRow<Contact>(CONTACTS, rows[0]) : null;
    });
  }

  async update(id: string, patch: Partial<Omit<Contact, 'id' | 'campaignId' | 'createdAt'>>): Promise<Contact | null> {
    const cols = patchColumns(CONTACTS, patch, ['id', 'campaignId', 'createdAt']);
    const p = patch as Record<string, unknown>;
    const values: unknown[] = cols.map(([field, , kind]) => encodeValue('postgres', kind, p[field]));
    const sets = cols.map((c, i) => `${c[1]} = $${i + 1}`);
    if (patch.updatedAt === undefined) {
      values.push(this.iso());
      sets.push(`updated_at = $${values.length}`);
    }
    values.push(id);
    const text = `UPDATE contacts SET ${sets.join(', ')} WHERE id = $${values.length} RETURNING ${columnList(CONTACTS)}`;
    const { rows } = await this.d.pool.query(q(text, values));
    return rows[0] ? decodeRow<Contact>(CONTACTS, rows[0]) : null;
  }
}
