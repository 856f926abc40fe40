/** Record builders for the store contract suite: complete, valid records with overridable fields. */
import { newId } from '../../src/ids.js';
import type {
  ApiKeyRecord, CampaignAction, KnowledgeDoc, NewAgent, NewCall, NewCampaign, PhoneNumber,
} from '../../src/store/types.js';

export function iso(ms = Date.now()): string {
  return new Date(ms).toISOString();
}

export function makeKey(owner: string, over: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const id = newId('key');
  return { id, owner, scopes: ['agents:read', 'calls:write'], name: `key ${id}`, hash: `hash-${id}`, createdAt: iso(), revokedAt: null, ...over };
}

export function makeAgent(owner: string, over: Partial<NewAgent> = {}): NewAgent {
  return {
    id: newId('agt'),
    owner,
    name: 'Receptionist',
    architecture: 'pipeline',
    systemPrompt: 'You answer the phone. Unicode: héllo ☎',
    firstMessage: 'Hello!',
    language: 'en',
    model: 'gpt-4o-mini',
    stt: 'deepgram',
    sttModel: 'nova-3',
    tts: 'elevenlabs',
    ttsModel: 'eleven_flash_v2_5',
    voiceId: 'voice-1',
    realtimeProvider: null,
    temperature: 0.7,
    voiceMode: 'phone',
    turnDetection: { vadThreshold: 0.5, silenceMs: 500, interruptible: true },
    pronunciations: { SQL: 'sequel' },
    variables: { company: 'Acme' },
    knowledgeIds: ['doc_1', 'doc_2'],
    disabledTools: ['transfer_call'],
    active: true,
    metadata: { nested: { a: [1, 2, { b: null }] } },
    llm: { provider: 'webhook', url: 'https://brain.example.com/turn', secretEnv: 'BRAIN_SECRET', timeoutMs: 5000 },
    ...over,
  };
}

export function makeCall(owner: string, agentId: string, over: Partial<NewCall> = {}): NewCall {
  return {
    id: newId('call'),
    owner,
    agentId,
    direction: 'outbound',
    status: 'queued',
    fromNumber: '+15550000001',
    toNumber: '+15550000002',
    phoneNumberId: null,
    twilioCallSid: null,
    startedAt: null,
    answeredAt: null,
    endedAt: null,
    durationSeconds: null,
    endReason: null,
    variables: { name: 'Ada' },
    metadata: { crm: 42 },
    overrides: { initialGreeting: 'Hi' },
    record: true,
    recordingAvailable: false,
    latency: { turns: 0, p50Ms: null, p95Ms: null, recent: [] },
    notes: [],
    campaignId: null,
    contactId: null,
    ...over,
  };
}

export function makeDoc(owner: string, over: Partial<KnowledgeDoc> = {}): KnowledgeDoc {
  return { id: newId('doc'), owner, name: 'FAQ', sourceUrl: null, text: 'Opening hours are 9 to 5.', createdAt: iso(), ...over };
}

let numberCounter = 0;
export function makeNumber(owner: string, over: Partial<PhoneNumber> = {}): PhoneNumber {
  numberCounter++;
  const suffix = String(Date.now() % 1_000_000).padStart(6, '0') + String(numberCounter % 1000).padStart(3, '0');
  return { id: newId('num'), owner, phoneNumber: `+1${suffix.slice(-9).padStart(10, '5')}`, label: null, agentId: null, createdAt: iso(), ...over };
}

export function makeCampaign(owner: string, agentId: string, fromNumberId: string, over: Partial<NewCampaign> = {}): NewCampaign {
  return {
    id: newId('cmp'),
    owner,
    name: 'Renewals',
    agentId,
    fromNumberId,
    purpose: 'remind customers',
    schedule: { timezone: 'Europe/Paris', callingHours: { start: '09:00', end: '18:00', days: [1, 2, 3, 4, 5] } },
    maxConcurrentCalls: 2,
    maxAttempts: 3,
    retryDelayMinutes: 30,
    extractionSchema: { type: 'object', properties: { ok: { type: 'boolean' } } },
    status: 'draft',
    ...over,
  };
}

export function makeAction(owner: string, campaignId: string, over: Partial<CampaignAction> = {}): CampaignAction {
  return {
    id: newId('act'),
    campaignId,
    owner,
    action: 'start',
    status: 'awaiting_approval',
    requestedBy: 'agent-bot',
    requestedByKeyId: 'key_requester',
    decidedBy: null,
    decidedByKeyId: null,
    reason: null,
    createdAt: iso(),
    decidedAt: null,
    ...over,
  };
}
