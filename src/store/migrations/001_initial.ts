/**
 * The initial schema. Ids are `text` and sort by creation time (`src/ids.ts`); PostgreSQL
 * compares them with the "C" collation so ORDER BY id is byte order whatever the database
 * locale. Timestamps are ISO text in SQLite and timestamptz in PostgreSQL (see `../columns.ts`).
 *
 * Cascades: an agent's env vars and tools go with it; a deleted agent leaves its numbers
 * unattached; calls and their events are history and outlive agents and numbers.
 */
import type { Migration } from './index.js';

const sqlite = `
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  scopes TEXT NOT NULL,
  name TEXT,
  hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX api_keys_owner ON api_keys (owner, id);

CREATE TABLE agents (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  architecture TEXT NOT NULL,
  system_prompt TEXT NOT NULL,
  first_message TEXT,
  language TEXT NOT NULL,
  model TEXT,
  stt TEXT,
  stt_model TEXT,
  tts TEXT,
  voice_id TEXT,
  realtime_provider TEXT,
  temperature REAL,
  voice_mode TEXT NOT NULL,
  turn_detection TEXT,
  pronunciations TEXT,
  variables TEXT,
  knowledge_ids TEXT NOT NULL,
  disabled_tools TEXT NOT NULL,
  active INTEGER NOT NULL,
  metadata TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX agents_owner ON agents (owner, id);

CREATE TABLE agent_env_vars (
  agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  ciphertext TEXT NOT NULL,
  PRIMARY KEY (agent_id, name)
);

CREATE TABLE agent_tools (
  agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  parameters TEXT NOT NULL,
  url TEXT NOT NULL,
  method TEXT NOT NULL,
  headers TEXT,
  timeout_ms INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (agent_id, name)
);

CREATE TABLE knowledge_docs (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  source_url TEXT,
  text TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX knowledge_docs_owner ON knowledge_docs (owner, id);

CREATE TABLE phone_numbers (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  phone_number TEXT NOT NULL UNIQUE,
  label TEXT,
  agent_id TEXT REFERENCES agents (id) ON DELETE SET NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX phone_numbers_owner ON phone_numbers (owner, id);
CREATE INDEX phone_numbers_agent ON phone_numbers (agent_id);

CREATE TABLE calls (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  direction TEXT NOT NULL,
  status TEXT NOT NULL,
  from_number TEXT,
  to_number TEXT,
  phone_number_id TEXT,
  twilio_call_sid TEXT,
  started_at TEXT,
  answered_at TEXT,
  ended_at TEXT,
  duration_seconds REAL,
  end_reason TEXT,
  variables TEXT NOT NULL,
  metadata TEXT NOT NULL,
  overrides TEXT NOT NULL,
  record INTEGER NOT NULL,
  recording_available INTEGER NOT NULL,
  latency TEXT NOT NULL,
  notes TEXT NOT NULL,
  campaign_id TEXT,
  contact_id TEXT,
  event_seq INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX calls_owner ON calls (owner, id);
CREATE INDEX calls_agent ON calls (agent_id, id);
CREATE INDEX calls_number ON calls (phone_number_id, id);
CREATE INDEX calls_campaign ON calls (campaign_id, id);
CREATE UNIQUE INDEX calls_twilio_sid ON calls (twilio_call_sid) WHERE twilio_call_sid IS NOT NULL;

CREATE TABLE call_events (
  call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (call_id, seq)
) WITHOUT ROWID;

CREATE TABLE idempotency_records (
  key_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (key_id, idempotency_key)
);
CREATE INDEX idempotency_records_created ON idempotency_records (created_at);

CREATE TABLE campaigns (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  from_number_id TEXT NOT NULL,
  purpose TEXT,
  schedule TEXT NOT NULL,
  max_concurrent_calls INTEGER NOT NULL,
  max_attempts INTEGER NOT NULL,
  retry_delay_minutes INTEGER NOT NULL,
  extraction_schema TEXT,
  status TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX campaigns_owner ON campaigns (owner, id);
CREATE INDEX campaigns_status ON campaigns (status);

CREATE TABLE contacts (
  id TEXT PRIMARY KEY,
  campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  external_id TEXT,
  phone TEXT NOT NULL,
  name TEXT,
  variables TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at TEXT,
  last_call_id TEXT,
  last_outcome TEXT,
  result TEXT,
  result_error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (campaign_id, external_id)
);
CREATE INDEX contacts_campaign ON contacts (campaign_id, id);
CREATE INDEX contacts_campaign_status ON contacts (campaign_id, status, id);

CREATE TABLE campaign_actions (
  id TEXT PRIMARY KEY,
  campaign_id TEXT NOT NULL,
  owner TEXT NOT NULL,
  action TEXT NOT NULL,
  status TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  requested_by_key_id TEXT NOT NULL,
  decided_by TEXT,
  decided_by_key_id TEXT,
  reason TEXT,
  created_at TEXT NOT NULL,
  decided_at TEXT
);
CREATE INDEX campaign_actions_owner ON campaign_actions (owner, id);
CREATE INDEX campaign_actions_status ON campaign_actions (status, id);
`;

const postgres = `
CREATE TABLE api_keys (
  id text COLLATE "C" PRIMARY KEY,
  owner text NOT NULL,
  scopes jsonb NOT NULL,
  name text,
  hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX api_keys_owner ON api_keys (owner, id);

CREATE TABLE agents (
  id text COLLATE "C" PRIMARY KEY,
  owner text NOT NULL,
  name text NOT NULL,
  architecture text NOT NULL,
  system_prompt text NOT NULL,
  first_message text,
  language text NOT NULL,
  model text,
  stt text,
  stt_model text,
  tts text,
  voice_id text,
  realtime_provider text,
  temperature double precision,
  voice_mode text NOT NULL,
  turn_detection jsonb,
  pronunciations jsonb,
  variables jsonb,
  knowledge_ids jsonb NOT NULL,
  disabled_tools jsonb NOT NULL,
  active boolean NOT NULL,
  metadata jsonb,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX agents_owner ON agents (owner, id);

CREATE TABLE agent_env_vars (
  agent_id text COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  name text NOT NULL,
  ciphertext text NOT NULL,
  PRIMARY KEY (agent_id, name)
);

CREATE TABLE agent_tools (
  agent_id text COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  name text NOT NULL,
  description text NOT NULL,
  parameters jsonb NOT NULL,
  url text NOT NULL,
  method text NOT NULL,
  headers jsonb,
  timeout_ms integer NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (agent_id, name)
);

CREATE TABLE knowledge_docs (
  id text COLLATE "C" PRIMARY KEY,
  owner text NOT NULL,
  name text NOT NULL,
  source_url text,
  text text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX knowledge_docs_owner ON knowledge_docs (owner, id);

CREATE TABLE phone_numbers (
  id text COLLATE "C" PRIMARY KEY,
  owner text NOT NULL,
  phone_number text NOT NULL UNIQUE,
  label text,
  agent_id text COLLATE "C" REFERENCES agents (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX phone_numbers_owner ON phone_numbers (owner, id);
CREATE INDEX phone_numbers_agent ON phone_numbers (agent_id);

CREATE TABLE calls (
  id text COLLATE "C" PRIMARY KEY,
  owner text NOT NULL,
  agent_id text COLLATE "C" NOT NULL,
  direction text NOT NULL,
  status text NOT NULL,
  from_number text,
  to_number text,
  phone_number_id text COLLATE "C",
  twilio_call_sid text,
  started_at timestamptz,
  answered_at timestamptz,
  ended_at timestamptz,
  duration_seconds double precision,
  end_reason text,
  variables jsonb NOT NULL,
  metadata jsonb NOT NULL,
  overrides jsonb NOT NULL,
  record boolean NOT NULL,
  recording_available boolean NOT NULL,
  latency jsonb NOT NULL,
  notes jsonb NOT NULL,
  campaign_id text COLLATE "C",
  contact_id text COLLATE "C",
  event_seq integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX calls_owner ON calls (owner, id);
CREATE INDEX calls_agent ON calls (agent_id, id);
CREATE INDEX calls_number ON calls (phone_number_id, id);
CREATE INDEX calls_campaign ON calls (campaign_id, id);
CREATE UNIQUE INDEX calls_twilio_sid ON calls (twilio_call_sid) WHERE twilio_call_sid IS NOT NULL;

CREATE TABLE call_events (
  call_id text COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (call_id, seq)
);

CREATE TABLE idempotency_records (
  key_id text NOT NULL,
  idempotency_key text NOT NULL,
  request_hash text NOT NULL,
  status integer NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (key_id, idempotency_key)
);
CREATE INDEX idempotency_records_created ON idempotency_records (created_at);

CREATE TABLE campaigns (
  id text COLLATE "C" PRIMARY KEY,
  owner text NOT NULL,
  name text NOT NULL,
  agent_id text COLLATE "C" NOT NULL,
  from_number_id text COLLATE "C" NOT NULL,
  purpose text,
  schedule jsonb NOT NULL,
  max_concurrent_calls integer NOT NULL,
  max_attempts integer NOT NULL,
  retry_delay_minutes integer NOT NULL,
  extraction_schema jsonb,
  status text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX campaigns_owner ON campaigns (owner, id);
CREATE INDEX campaigns_status ON campaigns (status);

CREATE TABLE contacts (
  id text COLLATE "C" PRIMARY KEY,
  campaign_id text COLLATE "C" NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  external_id text,
  phone text NOT NULL,
  name text,
  variables jsonb NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL,
  next_attempt_at timestamptz,
  last_call_id text COLLATE "C",
  last_outcome text,
  result jsonb,
  result_error text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (campaign_id, external_id)
);
CREATE INDEX contacts_campaign ON contacts (campaign_id, id);
CREATE INDEX contacts_campaign_status ON contacts (campaign_id, status, id);

CREATE TABLE campaign_actions (
  id text COLLATE "C" PRIMARY KEY,
  campaign_id text COLLATE "C" NOT NULL,
  owner text NOT NULL,
  action text NOT NULL,
  status text NOT NULL,
  requested_by text NOT NULL,
  requested_by_key_id text NOT NULL,
  decided_by text,
  decided_by_key_id text,
  reason text,
  created_at timestamptz NOT NULL,
  decided_at timestamptz
);
CREATE INDEX campaign_actions_owner ON campaign_actions (owner, id);
CREATE INDEX campaign_actions_status ON campaign_actions (status, id);
`;

export const initial: Migration = { version: 1, name: 'initial', sqlite, postgres };
