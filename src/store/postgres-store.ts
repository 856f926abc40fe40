/**
 * The cluster store: PostgreSQL through a `pg` Pool (DATABASE_URL; schema selection in
 * `postgres-connection.ts`). Every query is a named prepared statement (named after a hash of
 * its text), so each pooled connection parses a statement once and the hot paths
 * (appendCallEvent, getKeyByHash, getCall) are one Bind/Execute round trip.
 *
 * Atomicity across nodes:
 * - `transitionCall` and `decideAction` are single conditional UPDATEs.
 * - `appendCallEvent` is one statement that bumps the call's `event_seq` counter (row lock:
 *   concurrent writers queue on it) and inserts the event under the new value.
 * - `claimContact` locks the campaign row first (`postgres-contacts.ts` explains why a single
 *   statement is not enough).
 */
import pg from 'pg';
import { notFound } from '../errors.js';
import { guardPool } from './postgres-availability.js';
import {
  ACTIONS, AGENTS, CALLS, CAMPAIGNS, DOCS, DOC_SUMMARY, EVENTS, IDEMPOTENCY, KEYS, NUMBERS, TOOLS,
  columnList, decodeRow, encodeRecord,
} from './columns.js';
import { mapConstraintError } from './constraint-errors.js';
import { pgTarget, placeholders, q } from './postgres-connection.js';
import { migratePostgres } from './postgres-migrate.js';
import { PgContacts } from './postgres-contacts.js';
import { PgDb } from './postgres-db.js';
import { STATUS_RANK_SQL, TERMINAL_SQL_LIST, statusRank, toTranscriptItem, type StoreOptions } from './shared.js';
import type {
  ActionStatus, Agent, AgentTool, ApiKeyRecord, Call, CallEvent, CallEventType, CallFilter, CallStatus, Campaign,
  CampaignAction, CampaignStatus, Contact, ContactInput, ContactStatus, IdempotencyRecord, KnowledgeDoc, NewAgent,
  NewCall, NewCampaign, Page, PageRequest, PhoneNumber, Store, TranscriptItem,
} from './types.js';
import { IDEMPOTENCY_PENDING } from './types.js';
import { endReasonClause } from './shared.js';

const KEY_BY_HASH_SQL = `SELECT ${columnList(KEYS)} FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`;

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly now: () => Date;
  private readonly contacts: PgContacts;

  private readonly d: PgDb;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string | null,
    options: StoreOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.d = new PgDb(pool);
    this.contacts = new PgContacts(this.d, () => this.iso());
  }

  static async connect(databaseUrl: string, options: StoreOptions = {}): Promise<PostgresStore> {
    const target = pgTarget(databaseUrl, options.schema);
    const pool = guardPool(new pg.Pool(target.pool));
    return new PostgresStore(pool, target.schema, options);
  }

  private iso(): string {
    return this.now().toISOString();
  }

  async migrate(): Promise<void> {
    await migratePostgres(this.pool, this.schema);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  // keys

  async createKey(key: ApiKeyRecord): Promise<void> {
    await this.d.insert(KEYS, key, 'key');
  }

  getKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    return this.d.one(KEYS, KEY_BY_HASH_SQL, [hash]);
  }

  getKey(id: string): Promise<ApiKeyRecord | null> {
    return this.d.byId(KEYS, id);
  }

  listKeys(owner: string | undefined, page: PageRequest): Promise<Page<ApiKeyRecord>> {
    return this.d.ownerPage(KEYS, owner, page);
  }

  async revokeKey(id: string, at: string): Promise<boolean> {
    return (await this.d.count('UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id])) > 0;
  }

  async revokeKeyKeepingAdmin(id: string, at: string): Promise<'revoked' | 'last_admin' | 'not_found'> {
    return this.d.tx(async (client) => {
      // One lock for every admin-key revocation, so "is another admin left?" cannot be
      // answered twice from the same snapshot (READ COMMITTED would let both deletes pass).
      await client.query("SELECT pg_advisory_xact_lock(hashtext('voxgate.revoke-admin-key'))");
      const found = await client.query('SELECT scopes FROM api_keys WHERE id = $1 AND revoked_at IS NULL', [id]);
      if (found.rowCount === 0) return 'not_found';
      const scopes = found.rows[0].scopes as string[];
      if (scopes.includes('admin')) {
        const others = await client.query(`SELECT 1 FROM api_keys WHERE id <> $1 AND revoked_at IS NULL AND scopes ? 'admin' LIMIT 1`, [id]);
        if (others.rowCount === 0) return 'last_admin';
      }
      await client.query('UPDATE api_keys SET revoked_at = $1 WHERE id = $2', [at, id]);
      return 'revoked';
    });
  }

  // agents

  async createAgent(agent: NewAgent): Promise<Agent> {
    const at = this.iso();
    const record: Agent = { ...agent, createdAt: at, updatedAt: at };
    await this.d.insert(AGENTS, record, 'agent');
    return record;
  }

  getAgent(id: string): Promise<Agent | null> {
    return this.d.byId(AGENTS, id);
  }

  listAgents(owner: string | undefined, page: PageRequest): Promise<Page<Agent>> {
    return this.d.ownerPage(AGENTS, owner, page);
  }

  updateAgent(agent: Agent): Promise<Agent | null> {
    return this.d.patch<Agent>(AGENTS, agent, ['id', 'owner', 'createdAt', 'updatedAt'], [['updated_at', this.iso()]], 'id = ?', [agent.id]);
  }

  async deleteAgent(id: string): Promise<boolean> {
    return (await this.d.count('DELETE FROM agents WHERE id = $1', [id])) > 0;
  }

  // env vars

  async putEnvVar(agentId: string, name: string, ciphertext: string): Promise<void> {
    try {
      await this.pool.query(
        q(
          'INSERT INTO agent_env_vars (agent_id, name, ciphertext) VALUES ($1, $2, $3) ' +
            'ON CONFLICT (agent_id, name) DO UPDATE SET ciphertext = excluded.ciphertext',
          [agentId, name, ciphertext],
        ),
      );
    } catch (err) {
      throw mapConstraintError(err, 'env var');
    }
  }

  async listEnvVarNames(agentId: string): Promise<string[]> {
    return (await this.d.rows('SELECT name FROM agent_env_vars WHERE agent_id = $1 ORDER BY name COLLATE "C"', [agentId])).map(
      (r) => r.name as string,
    );
  }

  async getEnvVars(agentId: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const r of await this.d.rows('SELECT name, ciphertext FROM agent_env_vars WHERE agent_id = $1', [agentId])) {
      out[r.name as string] = r.ciphertext as string;
    }
    return out;
  }

  async deleteEnvVar(agentId: string, name: string): Promise<boolean> {
    return (await this.d.count('DELETE FROM agent_env_vars WHERE agent_id = $1 AND name = $2', [agentId, name])) > 0;
  }

  // tools

  async putTool(tool: AgentTool): Promise<void> {
    const updates = TOOLS.columns
      .filter(([f]) => f !== 'agentId' && f !== 'name')
      .map(([, c]) => `${c} = excluded.${c}`)
      .join(', ');
    const text =
      `INSERT INTO agent_tools (${columnList(TOOLS)}) VALUES (${placeholders(TOOLS.columns.length)}) ` +
      `ON CONFLICT (agent_id, name) DO UPDATE SET ${updates}`;
    try {
      await this.pool.query(q(text, encodeRecord('postgres', TOOLS, tool)));
    } catch (err) {
      throw mapConstraintError(err, 'tool');
    }
  }

  async listTools(agentId: string): Promise<AgentTool[]> {
    const text = `SELECT ${columnList(TOOLS)} FROM agent_tools WHERE agent_id = $1 ORDER BY created_at, name COLLATE "C"`;
    return (await this.d.rows(text, [agentId])).map((r) => decodeRow<AgentTool>(TOOLS, r));
  }

  async deleteTool(agentId: string, name: string): Promise<boolean> {
    return (await this.d.count('DELETE FROM agent_tools WHERE agent_id = $1 AND name = $2', [agentId, name])) > 0;
  }

  // knowledge

  async createDoc(doc: KnowledgeDoc): Promise<void> {
    await this.d.insert(DOCS, doc, 'document');
  }

  getDoc(id: string): Promise<KnowledgeDoc | null> {
    return this.d.byId(DOCS, id);
  }

  async getDocs(ids: string[]): Promise<KnowledgeDoc[]> {
    if (ids.length === 0) return [];
    const rows = await this.d.rows(`SELECT ${columnList(DOCS)} FROM knowledge_docs WHERE id = ANY($1::text[])`, [ids]);
    const byId = new Map(rows.map((r) => [r.id as string, decodeRow<KnowledgeDoc>(DOCS, r)]));
    return [...new Set(ids)].flatMap((id) => byId.get(id) ?? []);
  }

  listDocs(owner: string | undefined, page: PageRequest): Promise<Page<Omit<KnowledgeDoc, 'text'>>> {
    return this.d.ownerPage(DOC_SUMMARY, owner, page);
  }

  async deleteDoc(id: string): Promise<boolean> {
    return (await this.d.count('DELETE FROM knowledge_docs WHERE id = $1', [id])) > 0;
  }

  // numbers

  async createNumber(num: PhoneNumber): Promise<void> {
    await this.d.insert(NUMBERS, num, 'phone number');
  }

  getNumber(id: string): Promise<PhoneNumber | null> {
    return this.d.byId(NUMBERS, id);
  }

  getNumberByE164(phoneNumber: string): Promise<PhoneNumber | null> {
    return this.d.one(NUMBERS, `SELECT ${columnList(NUMBERS)} FROM phone_numbers WHERE phone_number = $1`, [phoneNumber]);
  }

  listNumbers(owner: string | undefined, page: PageRequest): Promise<Page<PhoneNumber>> {
    return this.d.ownerPage(NUMBERS, owner, page);
  }

  async setNumberAgent(id: string, agentId: string | null): Promise<void> {
    try {
      await this.pool.query(q('UPDATE phone_numbers SET agent_id = $1 WHERE id = $2', [agentId, id]));
    } catch (err) {
      throw mapConstraintError(err, 'phone number');
    }
  }

  async deleteNumber(id: string): Promise<boolean> {
    return (await this.d.count('DELETE FROM phone_numbers WHERE id = $1', [id])) > 0;
  }

  // calls

  async createCall(call: NewCall): Promise<Call> {
    const at = this.iso();
    const record: Call = { ...call, createdAt: at, updatedAt: at };
    await this.d.insert(CALLS, record, 'call');
    return record;
  }

  getCall(id: string): Promise<Call | null> {
    return this.d.byId(CALLS, id);
  }

  getCallByTwilioSid(sid: string): Promise<Call | null> {
    return this.d.one(CALLS, `SELECT ${columnList(CALLS)} FROM calls WHERE twilio_call_sid = $1`, [sid]);
  }

  listCalls(filter: CallFilter, page: PageRequest): Promise<Page<Call>> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (column: string, value: unknown): void => {
      if (value === undefined) return;
      where.push(`${column} = ?`);
      values.push(value);
    };
    add('owner', filter.owner);
    add('agent_id', filter.agentId);
    add('status', filter.status);
    add('direction', filter.direction);
    add('phone_number_id', filter.phoneNumberId);
    add('campaign_id', filter.campaignId);
    if (filter.endReason !== undefined) {
      const c = endReasonClause(filter.endReason);
      where.push(c.sql);
      values.push(c.value);
    }
    return this.d.page<Call>(CALLS, where, values, page);
  }

  updateCall(id: string, patch: Partial<Omit<Call, 'id' | 'owner' | 'createdAt'>>): Promise<Call | null> {
    const extra: Array<[string, unknown]> = patch.updatedAt === undefined ? [['updated_at', this.iso()]] : [];
    return this.d.patch<Call>(CALLS, patch, ['id', 'owner', 'createdAt'], extra, 'id = ?', [id]);
  }

  transitionCall(
    id: string,
    status: CallStatus,
    patch: Partial<Omit<Call, 'id' | 'owner' | 'createdAt' | 'status'>> = {},
  ): Promise<Call | null> {
    const extra: Array<[string, unknown]> = [['status', status]];
    if (patch.updatedAt === undefined) extra.push(['updated_at', this.iso()]);
    const where = `id = ? AND status NOT IN (${TERMINAL_SQL_LIST}) AND ${STATUS_RANK_SQL} <= ?`;
    return this.d.patch<Call>(CALLS, patch, ['id', 'owner', 'createdAt', 'status'], extra, where, [id, statusRank(status)]);
  }

  // events

  async appendCallEvent(
    callId: string,
    type: Exclude<CallEventType, 'transcript.partial'>,
    data: Record<string, unknown>,
    writeId?: string,
  ): Promise<CallEvent> {
    const createdAt = this.iso();
    // One statement, one round trip: the UPDATE's row lock makes concurrent appenders (any
    // node) take turns on the counter, and the INSERT uses the value that UPDATE returned. A
    // write id already stored (a retry of a write that committed) bumps nothing and answers
    // with the seq it got then; a null id never matches.
    const { rows } = await this.pool.query<{ seq: number }>(
      q(
        'WITH prior AS (SELECT seq FROM call_events WHERE call_id = $1 AND write_id = $5), ' +
          's AS (UPDATE calls SET event_seq = event_seq + 1 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM prior) RETURNING event_seq), ' +
          'ins AS (INSERT INTO call_events (call_id, seq, type, data, created_at, write_id) SELECT $1, event_seq, $2, $3, $4, $5 FROM s RETURNING seq) ' +
          'SELECT seq FROM ins UNION ALL SELECT seq FROM prior',
        [callId, type, JSON.stringify(data), createdAt, writeId ?? null],
      ),
    );
    if (rows.length === 0) throw notFound('call', callId);
    return { callId, seq: rows[0].seq, type, data, createdAt };
  }

  async listCallEvents(callId: string, afterSeq: number): Promise<CallEvent[]> {
    const text = `SELECT ${columnList(EVENTS)} FROM call_events WHERE call_id = $1 AND seq > $2 ORDER BY seq`;
    return (await this.d.rows(text, [callId, afterSeq])).map((r) => decodeRow<CallEvent>(EVENTS, r));
  }

  async listTranscript(callId: string): Promise<TranscriptItem[]> {
    const text = "SELECT seq, data FROM call_events WHERE call_id = $1 AND type = 'transcript.final' ORDER BY seq";
    return (await this.d.rows(text, [callId])).map((r) => toTranscriptItem(r.seq as number, r.data as Record<string, unknown>));
  }

  // idempotency

  getIdempotency(keyId: string, idempotencyKey: string): Promise<IdempotencyRecord | null> {
    const text = `SELECT ${columnList(IDEMPOTENCY)} FROM idempotency_records WHERE key_id = $1 AND idempotency_key = $2`;
    return this.d.one(IDEMPOTENCY, text, [keyId, idempotencyKey]);
  }

  async putIdempotency(rec: IdempotencyRecord): Promise<void> {
    await this.pool.query(
      q(
        `INSERT INTO idempotency_records (${columnList(IDEMPOTENCY)}) VALUES (${placeholders(6)}) ` +
          'ON CONFLICT (key_id, idempotency_key) DO UPDATE SET request_hash = excluded.request_hash, ' +
          'status = excluded.status, body = excluded.body, created_at = excluded.created_at',
        encodeRecord('postgres', IDEMPOTENCY, rec),
      ),
    );
  }

  async claimIdempotency(rec: Omit<IdempotencyRecord, 'status' | 'body'>, reclaimBefore: { done: string; pending: string }): Promise<boolean> {
    const claimed = await this.d.count(
      `INSERT INTO idempotency_records (${columnList(IDEMPOTENCY)}) VALUES (${placeholders(6)}) ` +
        'ON CONFLICT (key_id, idempotency_key) DO UPDATE SET request_hash = excluded.request_hash, ' +
        'status = excluded.status, body = excluded.body, created_at = excluded.created_at ' +
        'WHERE (idempotency_records.status <> $7 AND idempotency_records.created_at < $8) ' +
        'OR (idempotency_records.status = $7 AND idempotency_records.created_at < $9)',
      [...encodeRecord('postgres', IDEMPOTENCY, { ...rec, status: IDEMPOTENCY_PENDING, body: '' }), IDEMPOTENCY_PENDING, reclaimBefore.done, reclaimBefore.pending],
    );
    return claimed === 1;
  }

  async releaseIdempotency(keyId: string, idempotencyKey: string): Promise<void> {
    await this.d.count('DELETE FROM idempotency_records WHERE key_id = $1 AND idempotency_key = $2 AND status = $3', [keyId, idempotencyKey, IDEMPOTENCY_PENDING]);
  }

  purgeIdempotency(olderThan: string): Promise<number> {
    return this.d.count('DELETE FROM idempotency_records WHERE created_at < $1', [olderThan]);
  }

  // settings

  async getOrCreateSetting(name: string, value: string): Promise<string> {
    await this.d.count('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, value]);
    const rows = await this.d.rows('SELECT value FROM settings WHERE name = $1', [name]);
    return String(rows[0]!.value);
  }

  // campaigns

  async createCampaign(c: NewCampaign): Promise<Campaign> {
    const at = this.iso();
    const record: Campaign = { ...c, createdAt: at, updatedAt: at };
    await this.d.insert(CAMPAIGNS, record, 'campaign');
    return record;
  }

  getCampaign(id: string): Promise<Campaign | null> {
    return this.d.byId(CAMPAIGNS, id);
  }

  listCampaigns(owner: string | undefined, page: PageRequest): Promise<Page<Campaign>> {
    return this.d.ownerPage(CAMPAIGNS, owner, page);
  }

  setCampaignStatus(id: string, status: CampaignStatus): Promise<Campaign | null> {
    return this.d.patch<Campaign>(CAMPAIGNS, { status }, [], [['updated_at', this.iso()]], 'id = ?', [id]);
  }

  async listCampaignsByStatus(status: CampaignStatus): Promise<Campaign[]> {
    return (await this.d.rows(`SELECT ${columnList(CAMPAIGNS)} FROM campaigns WHERE status = $1 ORDER BY id`, [status])).map((r) =>
      decodeRow<Campaign>(CAMPAIGNS, r),
    );
  }

  upsertContacts(campaignId: string, contacts: ContactInput[], now: string): Promise<{ created: number; updated: number }> {
    return this.contacts.upsert(campaignId, contacts, now);
  }

  getContact(id: string): Promise<Contact | null> {
    return this.contacts.get(id);
  }

  listContacts(campaignId: string, status: ContactStatus | undefined, page: PageRequest): Promise<Page<Contact>> {
    return this.contacts.list(campaignId, status, page);
  }

  countContacts(campaignId: string): Promise<Record<ContactStatus, number>> {
    return this.contacts.count(campaignId);
  }

  claimContact(campaignId: string, now: string, maxConcurrent: number): Promise<Contact | null> {
    return this.contacts.claim(campaignId, now, maxConcurrent);
  }

  updateContact(id: string, patch: Partial<Omit<Contact, 'id' | 'campaignId' | 'createdAt'>>): Promise<Contact | null> {
    return this.contacts.update(id, patch);
  }

  // approvals

  async createAction(a: CampaignAction): Promise<void> {
    await this.d.insert(ACTIONS, a, 'action');
  }

  getAction(id: string): Promise<CampaignAction | null> {
    return this.d.byId(ACTIONS, id);
  }

  listActions(filter: { owner?: string; status?: ActionStatus; excludeOwner?: string }, page: PageRequest): Promise<Page<CampaignAction>> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.owner !== undefined) (where.push('owner = ?'), values.push(filter.owner));
    if (filter.status !== undefined) (where.push('status = ?'), values.push(filter.status));
    if (filter.excludeOwner !== undefined) (where.push('owner <> ?'), values.push(filter.excludeOwner));
    return this.d.page<CampaignAction>(ACTIONS, where, values, page);
  }

  decideAction(
    id: string,
    d: { status: 'approved' | 'rejected'; decidedBy: string; decidedByKeyId: string; reason: string | null; decidedAt: string },
  ): Promise<CampaignAction | null> {
    return this.d.patch<CampaignAction>(ACTIONS, d, [], [], "id = ? AND status = 'awaiting_approval'", [id]);
  }

  async setActionStatus(id: string, status: ActionStatus): Promise<void> {
    await this.pool.query(q('UPDATE campaign_actions SET status = $1 WHERE id = $2', [status, id]));
  }
}
