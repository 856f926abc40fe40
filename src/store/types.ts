/**
 * The domain records and the `Store` interface. Two implementations (SQLite, PostgreSQL) pass one
 * contract suite (`test/store/store-contract.test.ts`). Records are plain JSON-able objects in
 * the shapes of `docs/API.md`, plus the internal fields (owner, hashes) the API never shows.
 *
 * Ownership: every owned record carries `owner`. `owner` arguments filter lists; `undefined`
 * means "every owner" (keys with `read:all` or `admin`). Get-by-id returns the record whatever
 * its owner; the API layer turns a foreign owner into 404.
 */

export type Scope =
  | 'agents:read'
  | 'agents:write'
  | 'numbers:read'
  | 'numbers:write'
  | 'calls:read'
  | 'calls:write'
  | 'knowledge:read'
  | 'knowledge:write'
  | 'campaigns:read'
  | 'campaigns:write'
  | 'campaigns:execute'
  | 'approvals:write'
  | 'keys:write'
  | 'read:all'
  | 'admin';

export const ALL_SCOPES: readonly Scope[] = [
  'agents:read',
  'agents:write',
  'numbers:read',
  'numbers:write',
  'calls:read',
  'calls:write',
  'knowledge:read',
  'knowledge:write',
  'campaigns:read',
  'campaigns:write',
  'campaigns:execute',
  'approvals:write',
  'keys:write',
  'read:all',
  'admin',
];

export interface ApiKeyRecord {
  id: string;
  owner: string;
  scopes: Scope[];
  name: string | null;
  /** sha256 hex of the secret; the secret itself is never stored. */
  hash: string;
  createdAt: string;
  revokedAt: string | null;
}

export type Architecture = 'pipeline' | 'realtime' | 'text';
export type VoiceMode = 'off' | 'web' | 'phone' | 'web_and_phone';

export interface TurnDetection {
  vadThreshold?: number;
  silenceMs?: number;
  minInterruptionMs?: number;
  interruptible?: boolean;
}

export interface Agent {
  id: string;
  owner: string;
  name: string;
  architecture: Architecture;
  systemPrompt: string;
  firstMessage: string | null;
  language: string;
  model: string | null;
  stt: 'deepgram' | 'deepgram-flux' | 'openai-compatible' | null;
  sttModel: string | null;
  tts: 'elevenlabs' | 'cartesia' | 'openai-compatible' | null;
  /** The TTS provider's model (e.g. Cartesia `sonic-3.6`); null = the provider's default. */
  ttsModel: string | null;
  voiceId: string | null;
  realtimeProvider: 'openai' | 'xai' | null;
  temperature: number | null;
  voiceMode: VoiceMode;
  turnDetection: TurnDetection | null;
  pronunciations: Record<string, string> | null;
  variables: Record<string, string> | null;
  knowledgeIds: string[];
  /** Built-in tools switched off for this agent, e.g. `["transfer_call"]`. */
  disabledTools: string[];
  active: boolean;
  metadata: Record<string, unknown> | null;
  /** Where replies come from (API.md, "bring your own brain"); null/absent: the built-in LLM. */
  llm?: AgentLlm | null;
  createdAt: string;
  updatedAt: string;
}

/** An agent's brain (API.md, Conversation servers). Env var names, never the secrets themselves. */
export type AgentLlm =
  | { provider: 'openai' }
  | { provider: 'openai-compatible'; baseUrl: string; apiKeyEnv?: string }
  | { provider: 'webhook'; url: string; secretEnv?: string; timeoutMs?: number }
  | { provider: 'websocket'; url: string; secretEnv?: string };

export interface AgentTool {
  agentId: string;
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  url: string;
  method: 'POST' | 'GET';
  headers: Record<string, string> | null;
  timeoutMs: number;
  createdAt: string;
}

export interface KnowledgeDoc {
  id: string;
  owner: string;
  name: string;
  sourceUrl: string | null;
  text: string;
  createdAt: string;
}

export interface PhoneNumber {
  id: string;
  owner: string;
  phoneNumber: string;
  label: string | null;
  agentId: string | null;
  createdAt: string;
}

export type CallDirection = 'inbound' | 'outbound' | 'web';
export type CallStatus =
  | 'queued'
  | 'ringing'
  | 'in-progress'
  | 'completed'
  | 'busy'
  | 'no-answer'
  | 'failed'
  | 'canceled';

export const TERMINAL_CALL_STATUSES: readonly CallStatus[] = ['completed', 'busy', 'no-answer', 'failed', 'canceled'];

/** One turn's latency breakdown, all in ms; absent parts were not measured for that engine. */
export interface TurnLatency {
  endpointingMs?: number;
  sttFinalMs?: number;
  llmFirstTokenMs?: number;
  ttsFirstByteMs?: number;
  firstAudioDeltaMs?: number;
  firstAudioSentMs?: number;
  voiceToVoiceMs: number;
}

export interface CallLatency {
  turns: number;
  p50Ms: number | null;
  p95Ms: number | null;
  /** The most recent turns' breakdowns (bounded). */
  recent: TurnLatency[];
}

export interface Call {
  id: string;
  owner: string;
  agentId: string;
  direction: CallDirection;
  status: CallStatus;
  fromNumber: string | null;
  toNumber: string | null;
  phoneNumberId: string | null;
  twilioCallSid: string | null;
  startedAt: string | null;
  answeredAt: string | null;
  endedAt: string | null;
  durationSeconds: number | null;
  endReason: string | null;
  variables: Record<string, string>;
  metadata: Record<string, unknown>;
  /** Per-call overrides from `POST /v1/calls` (initialGreeting, voice, systemPrompt). */
  overrides: { initialGreeting?: string; voice?: string; systemPrompt?: string };
  record: boolean;
  recordingAvailable: boolean;
  latency: CallLatency;
  /** Things that happened to the call worth knowing: provider reconnects, fallbacks, errors. */
  notes: string[];
  campaignId: string | null;
  contactId: string | null;
  createdAt: string;
  updatedAt: string;
}

export type CallEventType =
  | 'transcript.partial'
  | 'transcript.final'
  | 'agent.interrupted'
  | 'call.status'
  | 'call.ended';

/** A stored, sequenced call event: what the SSE stream replays. Partials are never stored. */
export interface CallEvent {
  callId: string;
  seq: number;
  type: CallEventType;
  data: Record<string, unknown>;
  createdAt: string;
}

export type TranscriptRole = 'user' | 'agent' | 'tool' | 'system';

export interface TranscriptItem {
  seq: number;
  role: TranscriptRole;
  text: string;
  startMs: number;
  endMs: number;
  interrupted?: boolean;
  final: true;
}

export interface IdempotencyRecord {
  keyId: string;
  idempotencyKey: string;
  /** sha256 of method + path + body, to detect reuse with a different request. */
  requestHash: string;
  /** The recorded response's status, or `IDEMPOTENCY_PENDING` while the first request runs. */
  status: number;
  body: string;
  createdAt: string;
}

/** `status` of a claim: the request is running somewhere in the cluster, nothing to replay yet. */
export const IDEMPOTENCY_PENDING = 0;

export interface CallingHours {
  start: string;
  end: string;
  days: number[];
}

export interface CampaignSchedule {
  timezone: string;
  startAt?: string;
  endAt?: string;
  callingHours?: CallingHours;
}

export type CampaignStatus = 'draft' | 'running' | 'paused' | 'stopped' | 'completed';

export interface Campaign {
  id: string;
  owner: string;
  name: string;
  agentId: string;
  fromNumberId: string;
  purpose: string | null;
  schedule: CampaignSchedule;
  maxConcurrentCalls: number;
  maxAttempts: number;
  retryDelayMinutes: number;
  extractionSchema: Record<string, unknown> | null;
  status: CampaignStatus;
  createdAt: string;
  updatedAt: string;
}

export type ContactStatus = 'pending' | 'calling' | 'retry' | 'completed' | 'failed' | 'exhausted';

export interface Contact {
  id: string;
  campaignId: string;
  externalId: string | null;
  phone: string;
  name: string | null;
  variables: Record<string, string>;
  status: ContactStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastCallId: string | null;
  lastOutcome: string | null;
  result: Record<string, unknown> | null;
  resultError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ContactInput {
  externalId?: string;
  phone: string;
  name?: string;
  variables?: Record<string, string>;
}

export type ActionKind = 'start' | 'pause' | 'stop';
export type ActionStatus = 'awaiting_approval' | 'approved' | 'rejected' | 'executed' | 'failed';

export interface CampaignAction {
  id: string;
  campaignId: string;
  /** The campaign's owner, for isolation. */
  owner: string;
  action: ActionKind;
  status: ActionStatus;
  requestedBy: string;
  requestedByKeyId: string;
  decidedBy: string | null;
  decidedByKeyId: string | null;
  reason: string | null;
  createdAt: string;
  decidedAt: string | null;
}

export interface Page<T> {
  items: T[];
  /** The id to pass as `afterId` for the next page, or null when this was the last. */
  nextAfterId: string | null;
}

export interface PageRequest {
  limit: number;
  /** Return items strictly older than this id (ids sort by creation time). */
  afterId?: string;
}

export interface CallFilter {
  owner?: string;
  agentId?: string;
  status?: CallStatus;
  direction?: CallDirection;
  phoneNumberId?: string;
  campaignId?: string;
  /** Exact reason, or a prefix ending in `*` (`error:*`: every call that ended on an error). */
  endReason?: string;
}

export type NewAgent = Omit<Agent, 'createdAt' | 'updatedAt'>;
export type NewCall = Omit<Call, 'createdAt' | 'updatedAt'>;
export type NewCampaign = Omit<Campaign, 'createdAt' | 'updatedAt'>;

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Runs pending migrations. Idempotent; called once at start-up. */
  migrate(): Promise<void>;
  /** Cheap round trip for `/readyz`. */
  ping(): Promise<void>;
  close(): Promise<void>;

  // keys
  createKey(key: ApiKeyRecord): Promise<void>;
  getKeyByHash(hash: string): Promise<ApiKeyRecord | null>;
  getKey(id: string): Promise<ApiKeyRecord | null>;
  listKeys(owner: string | undefined, page: PageRequest): Promise<Page<ApiKeyRecord>>;
  revokeKey(id: string, at: string): Promise<boolean>;
  /**
   * Revokes the key unless it is the last unrevoked key holding `admin` (deleting it would lock
   * every operator out). Atomic across nodes: two admins deleting each other's keys at once
   * cannot both succeed.
   */
  revokeKeyKeepingAdmin(id: string, at: string): Promise<'revoked' | 'last_admin' | 'not_found'>;

  // agents
  createAgent(agent: NewAgent): Promise<Agent>;
  getAgent(id: string): Promise<Agent | null>;
  listAgents(owner: string | undefined, page: PageRequest): Promise<Page<Agent>>;
  /** Replaces the agent's mutable fields; returns the stored result or null if gone. */
  updateAgent(agent: Agent): Promise<Agent | null>;
  deleteAgent(id: string): Promise<boolean>;

  // per-agent env vars: the store keeps ciphertext only; encryption happens above it
  putEnvVar(agentId: string, name: string, ciphertext: string): Promise<void>;
  listEnvVarNames(agentId: string): Promise<string[]>;
  getEnvVars(agentId: string): Promise<Record<string, string>>;
  deleteEnvVar(agentId: string, name: string): Promise<boolean>;

  // webhook tools
  putTool(tool: AgentTool): Promise<void>;
  listTools(agentId: string): Promise<AgentTool[]>;
  deleteTool(agentId: string, name: string): Promise<boolean>;

  // knowledge
  createDoc(doc: KnowledgeDoc): Promise<void>;
  getDoc(id: string): Promise<KnowledgeDoc | null>;
  getDocs(ids: string[]): Promise<KnowledgeDoc[]>;
  listDocs(owner: string | undefined, page: PageRequest): Promise<Page<Omit<KnowledgeDoc, 'text'>>>;
  deleteDoc(id: string): Promise<boolean>;

  // phone numbers
  createNumber(num: PhoneNumber): Promise<void>;
  getNumber(id: string): Promise<PhoneNumber | null>;
  getNumberByE164(phoneNumber: string): Promise<PhoneNumber | null>;
  listNumbers(owner: string | undefined, page: PageRequest): Promise<Page<PhoneNumber>>;
  setNumberAgent(id: string, agentId: string | null): Promise<void>;
  deleteNumber(id: string): Promise<boolean>;

  // calls
  createCall(call: NewCall): Promise<Call>;
  getCall(id: string): Promise<Call | null>;
  getCallByTwilioSid(sid: string): Promise<Call | null>;
  listCalls(filter: CallFilter, page: PageRequest): Promise<Page<Call>>;
  /** Shallow-merges `patch` into the call; returns the result or null if the call is unknown. */
  updateCall(id: string, patch: Partial<Omit<Call, 'id' | 'owner' | 'createdAt'>>): Promise<Call | null>;
  /**
   * Moves the call to `status` only if it is not already terminal (status callbacks arrive out
   * of order and twice). Returns the updated call, or null when nothing changed.
   */
  transitionCall(
    id: string,
    status: CallStatus,
    patch?: Partial<Omit<Call, 'id' | 'owner' | 'createdAt' | 'status'>>,
  ): Promise<Call | null>;

  // call events and transcript
  /** Stores an event under the call's next sequence number (atomic across nodes). */
  /**
   * `writeId`: the writer's id for this write. The same id again (a retry whose first reply was
   * lost) returns the event already stored under it instead of storing a second one.
   */
  appendCallEvent(callId: string, type: Exclude<CallEventType, 'transcript.partial'>, data: Record<string, unknown>, writeId?: string): Promise<CallEvent>;
  listCallEvents(callId: string, afterSeq: number): Promise<CallEvent[]>;
  /** Final transcript items in order (the `transcript.final` events). */
  listTranscript(callId: string): Promise<TranscriptItem[]>;

  // idempotency
  getIdempotency(keyId: string, idempotencyKey: string): Promise<IdempotencyRecord | null>;
  putIdempotency(rec: IdempotencyRecord): Promise<void>;
  /**
   * Claims (key, idempotency key) for a request about to run, on whichever node: inserts a
   * pending record unless one exists. An existing record is taken over only if it was created
   * before `reclaimBefore.done` (finished, expired) or `reclaimBefore.pending` (a claim whose
   * node died mid-request). True when the caller now holds the claim.
   */
  claimIdempotency(rec: Omit<IdempotencyRecord, 'status' | 'body'>, reclaimBefore: { done: string; pending: string }): Promise<boolean>;
  /** Drops a pending claim (its request left nothing to replay); finished records stay. */
  releaseIdempotency(keyId: string, idempotencyKey: string): Promise<void>;
  purgeIdempotency(olderThan: string): Promise<number>;

  // settings
  /**
   * The deployment-wide setting `name`: stores `value` if none exists yet and returns what is
   * stored. Atomic across nodes, so concurrent first starts agree on one value.
   */
  getOrCreateSetting(name: string, value: string): Promise<string>;

  // campaigns
  createCampaign(c: NewCampaign): Promise<Campaign>;
  getCampaign(id: string): Promise<Campaign | null>;
  listCampaigns(owner: string | undefined, page: PageRequest): Promise<Page<Campaign>>;
  setCampaignStatus(id: string, status: CampaignStatus): Promise<Campaign | null>;
  listCampaignsByStatus(status: CampaignStatus): Promise<Campaign[]>;
  /**
   * Upserts contacts by externalId (contacts without one are always created) in ONE transaction:
   * either every row is written or none is.
   */
  upsertContacts(campaignId: string, contacts: ContactInput[], now: string): Promise<{ created: number; updated: number }>;
  getContact(id: string): Promise<Contact | null>;
  listContacts(campaignId: string, status: ContactStatus | undefined, page: PageRequest): Promise<Page<Contact>>;
  countContacts(campaignId: string): Promise<Record<ContactStatus, number>>;
  /**
   * Atomically claims one due contact (status pending/retry, nextAttemptAt null or <= now) of the
   * campaign and marks it `calling` with attempts+1, but only while fewer than
   * `maxConcurrent` of the campaign's contacts are `calling`. Safe across nodes.
   */
  claimContact(campaignId: string, now: string, maxConcurrent: number): Promise<Contact | null>;
  updateContact(id: string, patch: Partial<Omit<Contact, 'id' | 'campaignId' | 'createdAt'>>): Promise<Contact | null>;

  // approvals
  createAction(a: CampaignAction): Promise<void>;
  getAction(id: string): Promise<CampaignAction | null>;
  listActions(filter: { owner?: string; status?: ActionStatus; excludeOwner?: string }, page: PageRequest): Promise<Page<CampaignAction>>;
  /**
   * Decides an action only if it is still `awaiting_approval` (compare-and-set). Returns the
   * updated action, or null if it was already decided.
   */
  decideAction(
    id: string,
    decision: { status: 'approved' | 'rejected'; decidedBy: string; decidedByKeyId: string; reason: string | null; decidedAt: string },
  ): Promise<CampaignAction | null>;
  setActionStatus(id: string, status: ActionStatus): Promise<void>;
}
