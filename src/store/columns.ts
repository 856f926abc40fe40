/**
 * One table of column mappings for both dialects: record field ↔ column name ↔ value kind.
 * Both stores build their SQL and decode their rows from these lists, so a field added to a
 * record is added here once and both stores (and the contract suite) pick it up.
 *
 * Kinds and how each dialect stores them:
 * - `text`, `num`: as-is.
 * - `bool`: SQLite INTEGER 0/1, PostgreSQL boolean.
 * - `json`: SQLite JSON text, PostgreSQL jsonb (always sent as JSON text: `pg` would turn a JS
 *   array into a PostgreSQL array literal).
 * - `time`: ISO-8601 strings. SQLite TEXT (every writer uses `toISOString()`, so string order is
 *   time order); PostgreSQL timestamptz, read back through `toISOString()`.
 */
export type ColumnKind = 'text' | 'num' | 'bool' | 'json' | 'time';
export type Column = readonly [field: string, column: string, kind: ColumnKind];
export type Dialect = 'sqlite' | 'postgres';

export interface TableSpec {
  table: string;
  columns: readonly Column[];
  /** field name → column, for building SET clauses from patches. */
  byField: ReadonlyMap<string, Column>;
  /** `a, b, c`: computed once, the hot paths build no strings. */
  list: string;
  /** `SELECT <list> FROM <table> WHERE id = ` + the dialect's placeholder. */
  selectById: { sqlite: string; postgres: string };
}

function spec(table: string, columns: readonly Column[]): TableSpec {
  const list = columns.map((c) => c[1]).join(', ');
  const select = `SELECT ${list} FROM ${table} WHERE id = `;
  return {
    table,
    columns,
    byField: new Map(columns.map((c) => [c[0], c])),
    list,
    selectById: { sqlite: `${select}?`, postgres: `${select}$1` },
  };
}

export const KEYS = spec('api_keys', [
  ['id', 'id', 'text'],
  ['owner', 'owner', 'text'],
  ['scopes', 'scopes', 'json'],
  ['name', 'name', 'text'],
  ['hash', 'hash', 'text'],
  ['createdAt', 'created_at', 'time'],
  ['revokedAt', 'revoked_at', 'time'],
]);

export const AGENTS = spec('agents', [
  ['id', 'id', 'text'],
  ['owner', 'owner', 'text'],
  ['name', 'name', 'text'],
  ['architecture', 'architecture', 'text'],
  ['systemPrompt', 'system_prompt', 'text'],
  ['firstMessage', 'first_message', 'text'],
  ['language', 'language', 'text'],
  ['model', 'model', 'text'],
  ['stt', 'stt', 'text'],
  ['sttModel', 'stt_model', 'text'],
  ['tts', 'tts', 'text'],
  ['ttsModel', 'tts_model', 'text'],
  ['voiceId', 'voice_id', 'text'],
  ['realtimeProvider', 'realtime_provider', 'text'],
  ['temperature', 'temperature', 'num'],
  ['voiceMode', 'voice_mode', 'text'],
  ['turnDetection', 'turn_detection', 'json'],
  ['pronunciations', 'pronunciations', 'json'],
  ['variables', 'variables', 'json'],
  ['knowledgeIds', 'knowledge_ids', 'json'],
  ['disabledTools', 'disabled_tools', 'json'],
  ['active', 'active', 'bool'],
  ['metadata', 'metadata', 'json'],
  ['llm', 'llm', 'json'],
  ['createdAt', 'created_at', 'time'],
  ['updatedAt', 'updated_at', 'time'],
]);

export const TOOLS = spec('agent_tools', [
  ['agentId', 'agent_id', 'text'],
  ['name', 'name', 'text'],
  ['description', 'description', 'text'],
  ['parameters', 'parameters', 'json'],
  ['url', 'url', 'text'],
  ['method', 'method', 'text'],
  ['headers', 'headers', 'json'],
  ['timeoutMs', 'timeout_ms', 'num'],
  ['createdAt', 'created_at', 'time'],
]);

export const DOCS = spec('knowledge_docs', [
  ['id', 'id', 'text'],
  ['owner', 'owner', 'text'],
  ['name', 'name', 'text'],
  ['sourceUrl', 'source_url', 'text'],
  ['text', 'text', 'text'],
  ['createdAt', 'created_at', 'time'],
]);

/** Document listings leave out the (possibly large) text. */
export const DOC_SUMMARY = spec(
  'knowledge_docs',
  DOCS.columns.filter((c) => c[0] !== 'text'),
);

export const NUMBERS = spec('phone_numbers', [
  ['id', 'id', 'text'],
  ['owner', 'owner', 'text'],
  ['phoneNumber', 'phone_number', 'text'],
  ['label', 'label', 'text'],
  ['agentId', 'agent_id', 'text'],
  ['createdAt', 'created_at', 'time'],
]);

export const CALLS = spec('calls', [
  ['id', 'id', 'text'],
  ['owner', 'owner', 'text'],
  ['agentId', 'agent_id', 'text'],
  ['direction', 'direction', 'text'],
  ['status', 'status', 'text'],
  ['fromNumber', 'from_number', 'text'],
  ['toNumber', 'to_number', 'text'],
  ['phoneNumberId', 'phone_number_id', 'text'],
  ['twilioCallSid', 'twilio_call_sid', 'text'],
  ['startedAt', 'started_at', 'time'],
  ['answeredAt', 'answered_at', 'time'],
  ['endedAt', 'ended_at', 'time'],
  ['durationSeconds', 'duration_seconds', 'num'],
  ['endReason', 'end_reason', 'text'],
  ['variables', 'variables', 'json'],
  ['metadata', 'metadata', 'json'],
  ['overrides', 'overrides', 'json'],
  ['record', 'record', 'bool'],
  ['recordingAvailable', 'recording_available', 'bool'],
  ['latency', 'latency', 'json'],
  ['notes', 'notes', 'json'],
  ['campaignId', 'campaign_id', 'text'],
  ['contactId', 'contact_id', 'text'],
  ['createdAt', 'created_at', 'time'],
  ['updatedAt', 'updated_at', 'time'],
]);

export const EVENTS = spec('call_events', [
  ['callId', 'call_id', 'text'],
  ['seq', 'seq', 'num'],
  ['type', 'type', 'text'],
  ['data', 'data', 'json'],
  ['createdAt', 'created_at', 'time'],
]);

export const IDEMPOTENCY = spec('idempotency_records', [
  ['keyId', 'key_id', 'text'],
  ['idempotencyKey', 'idempotency_key', 'text'],
  ['requestHash', 'request_hash', 'text'],
  ['status', 'status', 'num'],
  ['body', 'body', 'text'],
  ['createdAt', 'created_at', 'time'],
]);

export const CAMPAIGNS = spec('campaigns', [
  ['id', 'id', 'text'],
  ['owner', 'owner', 'text'],
  ['name', 'name', 'text'],
  ['agentId', 'agent_id', 'text'],
  ['fromNumberId', 'from_number_id', 'text'],
  ['purpose', 'purpose', 'text'],
  ['schedule', 'schedule', 'json'],
  ['maxConcurrentCalls', 'max_concurrent_calls', 'num'],
  ['maxAttempts', 'max_attempts', 'num'],
  ['retryDelayMinutes', 'retry_delay_minutes', 'num'],
  ['extractionSchema', 'extraction_schema', 'json'],
  ['status', 'status', 'text'],
  ['createdAt', 'created_at', 'time'],
  ['updatedAt', 'updated_at', 'time'],
]);

export const CONTACTS = spec('contacts', [
  ['id', 'id', 'text'],
  ['campaignId', 'campaign_id', 'text'],
  ['externalId', 'external_id', 'text'],
  ['phone', 'phone', 'text'],
  ['name', 'name', 'text'],
  ['variables', 'variables', 'json'],
  ['status', 'status', 'text'],
  ['attempts', 'attempts', 'num'],
  ['nextAttemptAt', 'next_attempt_at', 'time'],
  ['lastCallId', 'last_call_id', 'text'],
  ['lastOutcome', 'last_outcome', 'text'],
  ['result', 'result', 'json'],
  ['resultError', 'result_error', 'text'],
  ['createdAt', 'created_at', 'time'],
  ['updatedAt', 'updated_at', 'time'],
]);

export const ACTIONS = spec('campaign_actions', [
  ['id', 'id', 'text'],
  ['campaignId', 'campaign_id', 'text'],
  ['owner', 'owner', 'text'],
  ['action', 'action', 'text'],
  ['status', 'status', 'text'],
  ['requestedBy', 'requested_by', 'text'],
  ['requestedByKeyId', 'requested_by_key_id', 'text'],
  ['decidedBy', 'decided_by', 'text'],
  ['decidedByKeyId', 'decided_by_key_id', 'text'],
  ['reason', 'reason', 'text'],
  ['createdAt', 'created_at', 'time'],
  ['decidedAt', 'decided_at', 'time'],
]);

/** `a, b, c` for SELECT / RETURNING lists. */
export function columnList(t: TableSpec): string {
  return t.list;
}

/** JS value → SQL parameter. */
export function encodeValue(dialect: Dialect, kind: ColumnKind, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  switch (kind) {
    case 'text':
    case 'num':
    case 'time':
      return value;
    case 'bool':
      return dialect === 'sqlite' ? (value ? 1 : 0) : Boolean(value);
    case 'json':
      return JSON.stringify(value);
    default: {
      const never: never = kind;
      throw new Error(`unknown column kind ${String(never)}`);
    }
  }
}

/** SQL value → JS value. */
export function decodeValue(kind: ColumnKind, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'text':
      return value;
    case 'num':
      // PostgreSQL bigint/numeric arrive as strings.
      return typeof value === 'number' ? value : Number(value);
    case 'bool':
      return value === true || value === 1;
    case 'json':
      // jsonb arrives parsed from `pg`; SQLite hands back the text.
      return typeof value === 'string' ? JSON.parse(value) : value;
    case 'time':
      return value instanceof Date ? value.toISOString() : value;
    default: {
      const never: never = kind;
      throw new Error(`unknown column kind ${String(never)}`);
    }
  }
}

export function encodeRecord(dialect: Dialect, t: TableSpec, record: object): unknown[] {
  const r = record as Record<string, unknown>;
  return t.columns.map(([field, , kind]) => encodeValue(dialect, kind, r[field]));
}

/**
 * A row read in raw mode (an array in `t.list` order) → record. better-sqlite3 builds a row
 * object by interning every column name on every read; a raw read skips that, which was a
 * fifth of the CPU of `GET /v1/calls/:id` (docs/performance.md).
 */
export function decodeRawRow<T>(t: TableSpec, row: readonly unknown[]): T {
  const out: Record<string, unknown> = {};
  const cols = t.columns;
  for (let i = 0; i < cols.length; i++) {
    const [field, , kind] = cols[i]!;
    out[field] = decodeValue(kind, row[i]);
  }
  return out as T;
}

export function decodeRow<T>(t: TableSpec, row: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [field, column, kind] of t.columns) out[field] = decodeValue(kind, row[column]);
  return out as T;
}

/**
 * The columns a patch touches, in the patch's key order, skipping unknown or forbidden fields
 * and `undefined` values (a shallow merge leaves those untouched).
 */
export function patchColumns(t: TableSpec, patch: object, forbidden: readonly string[]): Column[] {
  const out: Column[] = [];
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined || forbidden.includes(field)) continue;
    const col = t.byField.get(field);
    if (col) out.push(col);
  }
  return out;
}
