/**
 * Request and response schemas of the campaign routes, and the record → JSON mappers. The
 * response schemas are allow-lists: `owner` and other internal fields never leave.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Campaign, CampaignAction, Contact, ContactStatus } from '../store/types.js';
import { AnyObject, Nullable, StringMap } from './schemas.js';

/** API.md: at most 5000 contacts per upload; more is 413 `too_many_contacts`. */
export const MAX_CONTACTS_PER_REQUEST = 5000;

export const CONTACT_STATUSES: readonly ContactStatus[] = ['pending', 'calling', 'retry', 'completed', 'failed', 'exhausted'];

const CallingHours = Type.Object(
  {
    // Formats are checked in code so the 422 can say exactly what is wrong ("end before start").
    start: Type.String({ maxLength: 5, description: 'HH:MM, 24-hour, local to the timezone' }),
    end: Type.String({ maxLength: 5, description: 'HH:MM, 24-hour, after start' }),
    days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), {
      minItems: 1,
      maxItems: 7,
      uniqueItems: true,
      description: 'ISO weekdays: 1 = Monday … 7 = Sunday',
    }),
  },
  { additionalProperties: false },
);

const Schedule = Type.Object(
  {
    timezone: Type.String({ minLength: 1, maxLength: 100, description: 'IANA zone, e.g. America/New_York' }),
    startAt: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601; no calls before' })),
    endAt: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601; no calls from then on' })),
    callingHours: Type.Optional(CallingHours),
  },
  { additionalProperties: false },
);

export const CreateCampaign = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    agentId: Type.String({ minLength: 1, maxLength: 100 }),
    fromNumberId: Type.String({ minLength: 1, maxLength: 100 }),
    purpose: Type.Optional(Type.String({ maxLength: 2000 })),
    schedule: Type.Optional(Schedule),
    maxConcurrentCalls: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 5 })),
    maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, default: 3 })),
    retryDelayMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 60, default: 60 })),
    extractionSchema: Type.Optional(AnyObject),
  },
  { additionalProperties: false },
);
export type CreateCampaign = Static<typeof CreateCampaign>;

const ContactCounts = Type.Object({
  total: Type.Integer(),
  pending: Type.Integer(),
  calling: Type.Integer(),
  retry: Type.Integer(),
  completed: Type.Integer(),
  failed: Type.Integer(),
  exhausted: Type.Integer(),
});

export const CampaignJson = Type.Object({
  id: Type.String(),
  name: Type.String(),
  agentId: Type.String(),
  fromNumberId: Type.String(),
  purpose: Nullable(Type.String()),
  schedule: Schedule,
  maxConcurrentCalls: Type.Integer(),
  maxAttempts: Type.Integer(),
  retryDelayMinutes: Type.Integer(),
  extractionSchema: Nullable(AnyObject),
  status: Type.String(),
  contacts: ContactCounts,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export function campaignToJson(c: Campaign, counts: Record<ContactStatus, number>) {
  const total = CONTACT_STATUSES.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
  return {
    id: c.id,
    name: c.name,
    agentId: c.agentId,
    fromNumberId: c.fromNumberId,
    purpose: c.purpose,
    schedule: c.schedule,
    maxConcurrentCalls: c.maxConcurrentCalls,
    maxAttempts: c.maxAttempts,
    retryDelayMinutes: c.retryDelayMinutes,
    extractionSchema: c.extractionSchema,
    status: c.status,
    contacts: { total, ...counts },
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

export const ContactRow = Type.Object({
  externalId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  // Optional and unpatterned here on purpose: a bad or missing phone fails its row (counted in
  // `failed`), never the whole batch.
  phone: Type.Optional(Type.String({ maxLength: 100 })),
  name: Type.Optional(Type.String({ maxLength: 200 })),
  variables: Type.Optional(StringMap),
});

export const UploadContacts = Type.Object({
  contacts: Type.Array(ContactRow, { maxItems: MAX_CONTACTS_PER_REQUEST }),
});
export type UploadContacts = Static<typeof UploadContacts>;

export const UploadResult = Type.Object({
  created: Type.Integer(),
  updated: Type.Integer(),
  failed: Type.Integer(),
  errors: Type.Array(Type.Object({ index: Type.Integer(), code: Type.String(), message: Type.String() })),
});

export const ContactJson = Type.Object({
  id: Type.String(),
  campaignId: Type.String(),
  externalId: Nullable(Type.String()),
  phone: Type.String(),
  name: Nullable(Type.String()),
  variables: StringMap,
  status: Type.String(),
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(Type.String()),
  lastCallId: Nullable(Type.String()),
  lastOutcome: Nullable(Type.String()),
  result: Nullable(AnyObject),
  resultError: Nullable(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const contactToJson = (c: Contact) => ({
  id: c.id,
  campaignId: c.campaignId,
  externalId: c.externalId,
  phone: c.phone,
  name: c.name,
  variables: c.variables,
  status: c.status,
  attempts: c.attempts,
  nextAttemptAt: c.nextAttemptAt,
  lastCallId: c.lastCallId,
  lastOutcome: c.lastOutcome,
  result: c.result,
  resultError: c.resultError,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
});

export const ContactsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  status: Type.Optional(Type.Union(CONTACT_STATUSES.map((s) => Type.Literal(s)))),
});
export type ContactsQuery = Static<typeof ContactsQuery>;

export const ResultsJson = Type.Object({
  columns: Type.Array(Type.String()),
  rows: Type.Array(
    Type.Object({
      contactId: Type.String(),
      externalId: Nullable(Type.String()),
      phone: Type.String(),
      name: Nullable(Type.String()),
      status: Type.String(),
      attempts: Type.Integer(),
      result: Nullable(AnyObject),
      resultError: Nullable(Type.String()),
    }),
  ),
});

export const ActionAccepted = Type.Object({ actionId: Type.String(), status: Type.Literal('awaiting_approval') });

export const ActionJson = Type.Object({
  id: Type.String(),
  campaignId: Type.String(),
  action: Type.String(),
  status: Type.String(),
  requestedBy: Type.String(),
  requestedByKeyId: Type.String(),
  decidedBy: Nullable(Type.String()),
  decidedByKeyId: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  createdAt: Type.String(),
  decidedAt: Nullable(Type.String()),
});

export const actionToJson = (a: CampaignAction) => ({
  id: a.id,
  campaignId: a.campaignId,
  action: a.action,
  status: a.status,
  requestedBy: a.requestedBy,
  requestedByKeyId: a.requestedByKeyId,
  decidedBy: a.decidedBy,
  decidedByKeyId: a.decidedByKeyId,
  reason: a.reason,
  createdAt: a.createdAt,
  decidedAt: a.decidedAt,
});

/** What a reviewer needs to decide without any other scope: the campaign, summarised. */
export const ApprovalJson = Type.Object({
  ...ActionJson.properties,
  /** False when the caller's owner requested it: visible, but only another owner may decide. */
  canDecide: Type.Boolean(),
  campaign: Nullable(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      status: Type.String(),
      owner: Type.String(),
      purpose: Nullable(Type.String()),
      agentId: Type.String(),
      agentName: Nullable(Type.String()),
      contacts: Type.Integer(),
      schedule: Schedule,
      maxConcurrentCalls: Type.Integer(),
      maxAttempts: Type.Integer(),
      retryDelayMinutes: Type.Integer(),
    }),
  ),
});

export const RejectBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })) });
export const ApproveBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })) });
