/**
 * The embedded default store: one SQLite file (`DATA_DIR/voxgate.db`) through better-sqlite3.
 * Methods are async to match `Store` but run synchronously inside: better-sqlite3 is a
 * synchronous driver, which is what makes its read path fast (no thread hop) and makes every
 * multi-statement method trivially atomic within this process. Across processes, writes that
 * read-then-write run as IMMEDIATE transactions so they take the write lock before reading.
 *
 * Statements are prepared once and cached by their SQL text: the hot paths (appendCallEvent,
 * getKeyByHash, getCall) never re-parse SQL.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { notFound } from '../errors.js';
import {
  ACTIONS, AGENTS, CALLS, CAMPAIGNS, DOCS, DOC_SUMMARY, EVENTS, IDEMPOTENCY, KEYS, NUMBERS, TOOLS,
  columnList, decodeRow, encodeRecord,
} from './columns.js';
import { mapConstraintError } from './constraint-errors.js';
import { migrateSqlite } from './sqlite-migrate.js';
import { SqliteDb, type Param } from './sqlite-db.js';
import { SqliteContacts } from './sqlite-contacts.js';
import { STATUS_RANK_SQL, TERMINAL_SQL_LIST, statusRank, toTranscriptItem, type StoreOptions } from './shared.js';
import type {
  ActionStatus, Agent, AgentTool, ApiKeyRecord, Call, CallEvent, CallEventType, CallFilter, CallStatus, Campaign,
  CampaignAction, CampaignStatus, Contact, ContactInput, ContactStatus, IdempotencyRecord, KnowledgeDoc, NewAgent,
  NewCall, NewCampaign, Page, PageRequest, PhoneNumber, Store, TranscriptItem,
} from './types.js';
import { IDEMPOTENCY_PENDING } from './types.js';
import { endReasonClause } from './shared.js';

type AppendTx = Database.Transaction<(callId: string, type: string, data: string, createdAt: string, writeId: string | null) => number>;

const KEY_BY_HASH_SQL = `SELECT ${columnList(KEYS)} FROM api_keys WHERE hash = ? AND revoked_at IS NULL`;

/** How long a writer waits for another process's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly d: SqliteDb;
  private readonly now: () => Date;

  private appendTx?: AppendTx;
  private readonly contacts: SqliteContacts;

  private constructor(
    private readonly db: Database.Database,
    options: StoreOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.d = new SqliteDb(db);
    this.contacts = new SqliteContacts(this.d, () => this.iso());
  }

  /**
   * Bumps the call's event counter and stores the event under it, returning the seq. Built on
   * first use: preparing needs the tables, which exist only after `migrate()`.
   */
  private append(): AppendTx {
    if (this.appendTx) return this.appendTx;
    const bump = this.d.db.prepare('UPDATE calls SET event_seq = event_seq + 1 WHERE id = ? RETURNING event_seq');
    const insert = this.d.db.prepare('INSERT INTO call_events (call_id, seq, type, data, created_at, write_id) VALUES (?, ?, ?, ?, ?, ?)');
    const prior = this.d.db.prepare('SELECT seq FROM call_events WHERE call_id = ? AND write_id = ?');
    this.appendTx = this.d.db.transaction((callId: string, type: string, data: string, createdAt: string, writeId: string | null) => {
      if (writeId !== null) {
        const done = prior.get(callId, writeId) as { seq: number } | undefined;
        if (done) return done.seq;
      }
      const row = bump.get(callId) as { event_seq: number } | undefined;
      if (!row) throw notFound('call', callId);
      insert.run(callId, row.event_seq, type, data, createdAt, writeId);
      return row.event_seq;
    });
    return this.appendTx;
  }

  /** Opens (creating if needed) `<dataDir>/voxgate.db`; `:memory:` for a throwaway store. */
  static open(file: string, options: StoreOptions = {}): SqliteStore {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    // WAL: readers never block the writer; synchronous=NORMAL is durable across process
    // crashes in WAL mode and only risks the last commits on power loss (sqlite.org/wal.html).
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    return new SqliteStore(db, options);
  }

  static forDataDir(dataDir: string, options: StoreOptions = {}): SqliteStore {
    return SqliteStore.open(path.join(dataDir, 'voxgate.db'), options);
  }

  private iso(): string {
    return this.now().toISOString();
  }

  async migrate(): Promise<void> {
    migrateSqlite(this.db, this.iso());
  }

  async ping(): Promise<void> {
    this.d.get('SELECT 1', []);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  // keys

  async createKey(key: ApiKeyRecord): Promise<void> {
    this.d.insert(KEYS, key, 'key');
  }

  async getKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    const row = this.d.get(KEY_BY_HASH_SQL, [hash]);
    return row ? decodeRow<ApiKeyRecord>(KEYS, row) : null;
  }

  async getKey(id: string): Promise<ApiKeyRecord | null> {
    return this.d.byId(KEYS, id);
  }

  async listKeys(owner: string | undefined, page: PageRequest): Promise<Page<ApiKeyRecord>> {
    return this.d.ownerPage(KEYS, owner, page);
  }

  async revokeKey(id: string, at: string): Promise<boolean> {
    return this.d.run('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id]) > 0;
  }

  async revokeKeyKeepingAdmin(id: string, at: string): Promise<'revoked' | 'last_admin' | 'not_found'> {
    // SQLite has one writer and this runs synchronously: the check and the update are atomic.
    const row = this.d.get('SELECT scopes FROM api_keys WHERE id = ? AND revoked_at IS NULL', [id]);
    if (!row) return 'not_found';
    const scopes = JSON.parse(String(row.scopes)) as string[];
    if (scopes.includes('admin')) {
      const others = this.d.get(`SELECT 1 AS one FROM api_keys, json_each(api_keys.scopes) WHERE api_keys.id <> ? AND revoked_at IS NULL AND json_each.value = 'admin' LIMIT 1`, [id]);
      if (!others) return 'last_admin';
    }
    this.d.run('UPDATE api_keys SET revoked_at = ? WHERE id = ?', [at, id]);
    return 'revoked';
  }

  // agents

  async createAgent(agent: NewAgent): Promise<Agent> {
    const at = this.iso();
    const record: Agent = { ...agent, createdAt: at, updatedAt: at };
    this.d.insert(AGENTS, record, 'agent');
    return record;
  }

  async getAgent(id: string): Promise<Agent | null> {
    return this.d.byId(AGENTS, id);
  }

  async listAgents(owner: string | undefined, page: PageRequest): Promise<Page<Agent>> {
    return this.d.ownerPage(AGENTS, owner, page);
  }

  async updateAgent(agent: Agent): Promise<Agent | null> {
    return this.d.patch<Agent>(AGENTS, agent, ['id', 'owner', 'createdAt', 'updatedAt'], [['updated_at', this.iso()]], 'id = ?', [agent.id]);
  }

  async deleteAgent(id: string): Promise<boolean> {
    return this.d.run('DELETE FROM agents WHERE id = ?', [id]) > 0;
  }

  // env vars

  async putEnvVar(agentId: string, name: string, ciphertext: string): Promise<void> {
    try {
      this.d.run(
        'INSERT INTO agent_env_vars (agent_id, name, ciphertext) VALUES (?, ?, ?) ' +
          'ON CONFLICT (agent_id, name) DO UPDATE SET ciphertext = excluded.ciphertext',
        [agentId, name, ciphertext],
      );
    } catch (err) {
      throw mapConstraintError(err, 'env var');
    }
  }

  async listEnvVarNames(agentId: string): Promise<string[]> {
    return this.d.all('SELECT name FROM agent_env_vars WHERE agent_id = ? ORDER BY name', [agentId]).map((r) => r.name as string);
  }

  async getEnvVars(agentId: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const r of this.d.all('SELECT name, ciphertext FROM agent_env_vars WHERE agent_id = ? ORDER BY name', [agentId])) {
      out[r.name as string] = r.ciphertext as string;
    }
    return out;
  }

  async deleteEnvVar(agentId: string, name: string): Promise<boolean> {
    return this.d.run('DELETE FROM agent_env_vars WHERE agent_id = ? AND name = ?', [agentId, name]) > 0;
  }

  // tools

  async putTool(tool: AgentTool): Promise<void> {
    const updates = TOOLS.columns
      .filter(([f]) => f !== 'agentId' && f !== 'name')
      .map(([, c]) => `${c} = excluded.${c}`)
      .join(', ');
    const sql =
      `INSERT INTO agent_tools (${columnList(TOOLS)}) VALUES (${TOOLS.columns.map(() => '?').join(', ')}) ` +
      `ON CONFLICT (agent_id, name) DO UPDATE SET ${updates}`;
    try {
      this.d.run(sql, encodeRecord('sqlite', TOOLS, tool));
    } catch (err) {
      throw mapConstraintError(err, 'tool');
    }
  }

  async listTools(agentId: string): Promise<AgentTool[]> {
    return this.d.all(`SELECT ${columnList(TOOLS)} FROM agent_tools WHERE agent_id = ? ORDER BY created_at, name`, [agentId]).map(
      (r) => decodeRow<AgentTool>(TOOLS, r),
    );
  }

  async deleteTool(agentId: string, name: string): Promise<boolean> {
    return this.d.run('DELETE FROM agent_tools WHERE agent_id = ? AND name = ?', [agentId, name]) > 0;
  }

  // knowledge

  async createDoc(doc: KnowledgeDoc): Promise<void> {
    this.d.insert(DOCS, doc, 'document');
  }

  async getDoc(id: string): Promise<KnowledgeDoc | null> {
    return this.d.byId(DOCS, id);
  }

  async getDocs(ids: string[]): Promise<KnowledgeDoc[]> {
    if (ids.length === 0) return [];
    const rows = this.d.all(`SELECT ${columnList(DOCS)} FROM knowledge_docs WHERE id IN (SELECT value FROM json_each(?))`, [
      JSON.stringify(ids),
    ]);
    const byId = new Map(rows.map((r) => [r.id as string, decodeRow<KnowledgeDoc>(DOCS, r)]));
    return [...new Set(ids)].flatMap((id) => byId.get(id) ?? []);
  }

  async listDocs(owner: string | undefined, page: PageRequest): Promise<Page<Omit<KnowledgeDoc, 'text'>>> {
    return this.d.ownerPage(DOC_SUMMARY, owner, page);
  }

  async deleteDoc(id: string): Promise<boolean> {
    return this.d.run('DELETE FROM knowledge_docs WHERE id = ?', [id]) > 0;
  }

  // numbers

  async createNumber(num: PhoneNumber): Promise<void> {
    this.d.insert(NUMBERS, num, 'phone number');
  }

  async getNumber(id: string): Promise<PhoneNumber | null> {
    return this.d.byId(NUMBERS, id);
  }

  async getNumberByE164(phoneNumber: string): Promise<PhoneNumber | null> {
    const row = this.d.get(`SELECT ${columnList(NUMBERS)} FROM phone_numbers WHERE phone_number = ?`, [phoneNumber]);
    return row ? decodeRow<PhoneNumber>(NUMBERS, row) : null;
  }

  async listNumbers(owner: string | undefined, page: PageRequest): Promise<Page<PhoneNumber>> {
    return this.d.ownerPage(NUMBERS, owner, page);
  }

  async setNumberAgent(id: string, agentId: string | null): Promise<void> {
    try {
      this.d.run('UPDATE phone_numbers SET agent_id = ? WHERE id = ?', [agentId, id]);
    } catch (err) {
      throw mapConstraintError(err, 'phone number');
    }
  }

  async deleteNumber(id: string): Promise<boolean> {
    return this.d.run('DELETE FROM phone_numbers WHERE id = ?', [id]) > 0;
  }

  // calls

  async createCall(call: NewCall): Promise<Call> {
    const at = this.iso();
    const record: Call = { ...call, createdAt: at, updatedAt: at };
    this.d.insert(CALLS, record, 'call');
    return record;
  }

  async getCall(id: string): Promise<Call | null> {
    return this.d.byId(CALLS, id);
  }

  async getCallByTwilioSid(sid: string): Promise<Call | null> {
    const row = this.d.get(`SELECT ${columnList(CALLS)} FROM calls WHERE twilio_call_sid = ?`, [sid]);
    return row ? decodeRow<Call>(CALLS, row) : null;
  }

  async listCalls(filter: CallFilter, page: PageRequest): Promise<Page<Call>> {
    const where: string[] = [];
    const params: Param[] = [];
    const add = (column: string, value: unknown): void => {
      if (value === undefined) return;
      where.push(`${column} = ?`);
      params.push(value);
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
      params.push(c.value);
    }
    return this.d.page<Call>(CALLS, where, params, page);
  }

  async updateCall(id: string, patch: Partial<Omit<Call, 'id' | 'owner' | 'createdAt'>>): Promise<Call | null> {
    const extra: Array<[string, Param]> = patch.updatedAt === undefined ? [['updated_at', this.iso()]] : [];
    return this.d.patch<Call>(CALLS, patch, ['id', 'owner', 'createdAt'], extra, 'id = ?', [id]);
  }

  async transitionCall(
    id: string,
    status: CallStatus,
    patch: Partial<Omit<Call, 'id' | 'owner' | 'createdAt' | 'status'>> = {},
  ): Promise<Call | null> {
    const extra: Array<[string, Param]> = [['status', status]];
    if (patch.updatedAt === undefined) extra.push(['updated_at', this.iso()]);
    // One UPDATE: the terminal/backwards check and the write cannot be interleaved.
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
    const seq = this.append().immediate(callId, type, JSON.stringify(data), createdAt, writeId ?? null);
    return { callId, seq, type, data, createdAt };
  }

  async listCallEvents(callId: string, afterSeq: number): Promise<CallEvent[]> {
    return this.d.all(`SELECT ${columnList(EVENTS)} FROM call_events WHERE call_id = ? AND seq > ? ORDER BY seq`, [callId, afterSeq]).map(
      (r) => decodeRow<CallEvent>(EVENTS, r),
    );
  }

  async listTranscript(callId: string): Promise<TranscriptItem[]> {
    return this.d.all("SELECT seq, data FROM call_events WHERE call_id = ? AND type = 'transcript.final' ORDER BY seq", [callId]).map((r) =>
      toTranscriptItem(r.seq as number, JSON.parse(r.data as string) as Record<string, unknown>),
    );
  }

  // idempotency

  async getIdempotency(keyId: string, idempotencyKey: string): Promise<IdempotencyRecord | null> {
    const row = this.d.get(`SELECT ${columnList(IDEMPOTENCY)} FROM idempotency_records WHERE key_id = ? AND idempotency_key = ?`, [
      keyId,
      idempotencyKey,
    ]);
    return row ? decodeRow<IdempotencyRecord>(IDEMPOTENCY, row) : null;
  }

  async putIdempotency(rec: IdempotencyRecord): Promise<void> {
    this.d.run(
      `INSERT INTO idempotency_records (${columnList(IDEMPOTENCY)}) VALUES (?, ?, ?, ?, ?, ?) ` +
        'ON CONFLICT (key_id, idempotency_key) DO UPDATE SET request_hash = excluded.request_hash, ' +
        'status = excluded.status, body = excluded.body, created_at = excluded.created_at',
      encodeRecord('sqlite', IDEMPOTENCY, rec),
    );
  }

  async claimIdempotency(rec: Omit<IdempotencyRecord, 'status' | 'body'>, reclaimBefore: { done: string; pending: string }): Promise<boolean> {
    const claimed = this.d.run(
      `INSERT INTO idempotency_records (${columnList(IDEMPOTENCY)}) VALUES (?, ?, ?, ?, ?, ?) ` +
        'ON CONFLICT (key_id, idempotency_key) DO UPDATE SET request_hash = excluded.request_hash, ' +
        'status = excluded.status, body = excluded.body, created_at = excluded.created_at ' +
        'WHERE (idempotency_records.status <> ? AND idempotency_records.created_at < ?) ' +
        'OR (idempotency_records.status = ? AND idempotency_records.created_at < ?)',
      [
        ...encodeRecord('sqlite', IDEMPOTENCY, { ...rec, status: IDEMPOTENCY_PENDING, body: '' }),
        IDEMPOTENCY_PENDING,
        reclaimBefore.done,
        IDEMPOTENCY_PENDING,
        reclaimBefore.pending,
      ],
    );
    return claimed === 1;
  }

  async releaseIdempotency(keyId: string, idempotencyKey: string): Promise<void> {
    this.d.run('DELETE FROM idempotency_records WHERE key_id = ? AND idempotency_key = ? AND status = ?', [keyId, idempotencyKey, IDEMPOTENCY_PENDING]);
  }

  async purgeIdempotency(olderThan: string): Promise<number> {
    return this.d.run('DELETE FROM idempotency_records WHERE created_at < ?', [olderThan]);
  }

  // settings

  async getOrCreateSetting(name: string, value: string): Promise<string> {
    this.d.run('INSERT INTO settings (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING', [name, value, this.iso()]);
    return String(this.d.get('SELECT value FROM settings WHERE name = ?', [name])!.value);
  }

  // campaigns

  async createCampaign(c: NewCampaign): Promise<Campaign> {
    const at = this.iso();
    const record: Campaign = { ...c, createdAt: at, updatedAt: at };
    this.d.insert(CAMPAIGNS, record, 'campaign');
    return record;
  }

  async getCampaign(id: string): Promise<Campaign | null> {
    return this.d.byId(CAMPAIGNS, id);
  }

  async listCampaigns(owner: string | undefined, page: PageRequest): Promise<Page<Campaign>> {
    return this.d.ownerPage(CAMPAIGNS, owner, page);
  }

  async setCampaignStatus(id: string, status: CampaignStatus): Promise<Campaign | null> {
    return this.d.patch<Campaign>(CAMPAIGNS, { status }, [], [['updated_at', this.iso()]], 'id = ?', [id]);
  }

  async listCampaignsByStatus(status: CampaignStatus): Promise<Campaign[]> {
    return this.d.all(`SELECT ${columnList(CAMPAIGNS)} FROM campaigns WHERE status = ? ORDER BY id`, [status]).map((r) =>
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
    this.d.insert(ACTIONS, a, 'action');
  }

  async getAction(id: string): Promise<CampaignAction | null> {
    return this.d.byId(ACTIONS, id);
  }

  async listActions(
    filter: { owner?: string; status?: ActionStatus; excludeOwner?: string },
    page: PageRequest,
  ): Promise<Page<CampaignAction>> {
    const where: string[] = [];
    const params: Param[] = [];
    if (filter.owner !== undefined) (where.push('owner = ?'), params.push(filter.owner));
    if (filter.status !== undefined) (where.push('status = ?'), params.push(filter.status));
    if (filter.excludeOwner !== undefined) (where.push('owner <> ?'), params.push(filter.excludeOwner));
    return this.d.page<CampaignAction>(ACTIONS, where, params, page);
  }

  async decideAction(
    id: string,
    d: { status: 'approved' | 'rejected'; decidedBy: string; decidedByKeyId: string; reason: string | null; decidedAt: string },
  ): Promise<CampaignAction | null> {
    return this.d.patch<CampaignAction>(ACTIONS, d, [], [], "id = ? AND status = 'awaiting_approval'", [id]);
  }

  async setActionStatus(id: string, status: ActionStatus): Promise<void> {
    this.d.run('UPDATE campaign_actions SET status = ? WHERE id = ?', [status, id]);
  }
}
