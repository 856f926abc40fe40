/**
 * Campaign contacts on SQLite: the batch upsert and the claim, each one IMMEDIATE transaction
 * (the write lock is taken before the first read, so another process cannot interleave).
 */
import type Database from 'better-sqlite3';
import { CONTACTS, columnList, decodeRow, encodeRecord } from './columns.js';
import { mapConstraintError } from './constraint-errors.js';
import type { Param, Row, SqliteDb } from './sqlite-db.js';
import { dedupeContacts, emptyContactCounts, newContact } from './shared.js';
import type { Contact, ContactInput, ContactStatus, Page, PageRequest } from './types.js';

type ClaimTx = Database.Transaction<(campaignId: string, now: string, maxConcurrent: number) => Contact | null>;

export class SqliteContacts {
  private claimTxn?: ClaimTx;

  constructor(
    private readonly d: SqliteDb,
    private readonly iso: () => string,
  ) {}

  /**
   * Counts the campaign's `calling` contacts and claims the oldest due one; the lock is held
   * from the count to the update, so no other process can push the campaign past
   * maxConcurrent. Built on first use (preparing needs the migrated tables).
   */
  private claimTx(): ClaimTx {
    if (this.claimTxn) return this.claimTxn;
    const count = this.d.db.prepare("SELECT count(*) AS n FROM contacts WHERE campaign_id = ? AND status = 'calling'");
    const claim = this.d.db.prepare(
      "UPDATE contacts SET status = 'calling', attempts = attempts + 1, updated_at = ? WHERE id = (" +
        "SELECT id FROM contacts WHERE campaign_id = ? AND status IN ('pending', 'retry') " +
        'AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id LIMIT 1' +
        `) RETURNING ${columnList(CONTACTS)}`,
    );
    this.claimTxn = this.d.db.transaction((campaignId: string, now: string, maxConcurrent: number) => {
      const { n } = count.get(campaignId) as { n: number };
      if (n >= maxConcurrent) return null;
      const row = claim.get(now, campaignId, now) as Row | undefined;
      return row ? decodeRow<Contact>(CONTACTS, row) : null;
    });
    return this.claimTxn;
  }

  async upsert(campaignId: string, contacts: ContactInput[], now: string): Promise<{ created: number; updated: number }> {
    const find = this.d.stmt('SELECT id FROM contacts WHERE campaign_id = ? AND external_id = ?');
    const update = this.d.stmt('UPDATE contacts SET phone = ?, name = ?, variables = ?, updated_at = ? WHERE id = ?');
    const insert = this.d.stmt(
      `INSERT INTO contacts (${columnList(CONTACTS)}) VALUES (${CONTACTS.columns.map(() => '?').join(', ')})`,
    );
    const batch = dedupeContacts(contacts);
    try {
      return this.d.db
        .transaction(() => {
          let created = 0;
          let updated = 0;
          for (const c of batch) {
            const variables = JSON.stringify(c.variables ?? {});
            const existing =
              c.externalId === undefined ? undefined : (find.get(campaignId, c.externalId) as { id: string } | undefined);
            if (existing) {
              update.run(c.phone, c.name ?? null, variables, now, existing.id);
              updated++;
            } else {
              insert.run(...encodeRecord('sqlite', CONTACTS, newContact(campaignId, c, now)));
              created++;
            }
          }
          return { created, updated };
        })
        .immediate();
    } catch (err) {
      throw mapConstraintError(err, 'contact');
    }
  }

  async get(id: string): Promise<Contact | null> {
    return this.d.byId(CONTACTS, id);
  }

  async list(campaignId: string, status: ContactStatus | undefined, page: PageRequest): Promise<Page<Contact>> {
    return status === undefined
      ? this.d.page<Contact>(CONTACTS, ['campaign_id = ?'], [campaignId], page)
      : this.d.page<Contact>(CONTACTS, ['campaign_id = ?', 'status = ?'], [campaignId, status], page);
  }

  async count(campaignId: string): Promise<Record<ContactStatus, number>> {
    const out = emptyContactCounts();
    for (const r of this.d.all('SELECT status, count(*) AS n FROM contacts WHERE campaign_id = ? GROUP BY status', [campaignId])) {
      out[r.status as ContactStatus] = Number(r.n);
    }
    return out;
  }

  async claim(campaignId: string, now: string, maxConcurrent: number): Promise<Contact | null> {
    return this.claimTx().immediate(campaignId, now, maxConcurrent);
  }

  async update(id: string, patch: Partial<Omit<Contact, 'id' | 'campaignId' | 'createdAt'>>): Promise<Contact | null> {
    const extra: Array<[string, Param]> = patch.updatedAt === undefined ? [['updated_at', this.iso()]] : [];
    return this.d.patch<Contact>(CONTACTS, patch, ['id', 'campaignId', 'createdAt'], extra, 'id = ?', [id]);
  }
}
