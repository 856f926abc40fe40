/**
 * Campaigns (API.md "Campaigns (outbound, human-gated)"): the one implementation behind the
 * `/v1/campaigns*` and `/v1/actions/:id` routes and the MCP campaign tools. A start, pause or
 * stop only ever creates an action awaiting a person's approval; nothing here decides one.
 */
import type { AppContext } from '../context.js';
import type { ActionKind, Campaign, CampaignSchedule, Contact, ContactInput } from '../store/types.js';
import { VoxgateError, notFound, validationFailed, type ErrorDetail } from '../errors.js';
import { newId } from '../ids.js';
import { E164_RE as E164 } from '../e164.js';
import { extractionColumns, extractionSchemaProblem, isValidTimezone, parseHhmm, requestAction } from '../campaigns/index.js';
import { assertReadable, assertWritable, hasScope, ownerFilter, type AuthContext } from '../api/auth-context.js';
import { pageBody, pageRequest, type PageQuery } from '../api/paging.js';
import { actionToJson, campaignToJson, contactToJson, MAX_CONTACTS_PER_REQUEST, type ContactsQuery, type CreateCampaign, type UploadContacts } from '../api/campaigns-schemas.js';

export const CAMPAIGN_ACTIONS = ['start', 'pause', 'stop'] as const satisfies readonly ActionKind[];

const withCounts = async (ctx: AppContext, c: Campaign) => campaignToJson(c, await ctx.store.countContacts(c.id));

export async function createCampaign(ctx: AppContext, auth: AuthContext, body: CreateCampaign) {
  await checkReferences(ctx, auth, body);
  const schedule = checkSchedule(body.schedule);
  if (body.extractionSchema) {
    const problem = extractionSchemaProblem(body.extractionSchema);
    if (problem) throw validationFailed(problem, [{ field: 'extractionSchema', message: problem }]);
  }
  const now = ctx.now();
  const campaign = await ctx.store.createCampaign({
    id: newId('cmp', now.getTime()),
    owner: auth.owner,
    name: body.name,
    agentId: body.agentId,
    fromNumberId: body.fromNumberId,
    purpose: body.purpose ?? null,
    schedule,
    maxConcurrentCalls: body.maxConcurrentCalls ?? 5,
    maxAttempts: body.maxAttempts ?? 3,
    retryDelayMinutes: body.retryDelayMinutes ?? 60,
    extractionSchema: body.extractionSchema ?? null,
    status: 'draft',
  });
  return withCounts(ctx, campaign);
}

export async function listCampaigns(ctx: AppContext, auth: AuthContext, query: PageQuery) {
  const page = await ctx.store.listCampaigns(ownerFilter(auth), pageRequest(query));
  return { items: await Promise.all(page.items.map((c) => withCounts(ctx, c))), next_cursor: page.nextAfterId };
}

export async function getCampaign(ctx: AppContext, auth: AuthContext, id: string) {
  const campaign = await ctx.store.getCampaign(id);
  assertReadable(auth, campaign, 'campaign', id);
  return withCounts(ctx, campaign);
}

export async function campaignResults(ctx: AppContext, auth: AuthContext, id: string) {
  const campaign = await ctx.store.getCampaign(id);
  assertReadable(auth, campaign, 'campaign', id);
  const contacts = await allContacts(ctx, campaign.id);
  return {
    columns: extractionColumns(campaign.extractionSchema),
    rows: contacts.map((c) => ({
      contactId: c.id,
      externalId: c.externalId,
      phone: c.phone,
      name: c.name,
      status: c.status,
      attempts: c.attempts,
      result: c.result,
      resultError: c.resultError,
    })),
  };
}

/** Asks for a start, pause or stop: an action awaiting a person's approval, never more. */
export async function requestCampaignAction(ctx: AppContext, auth: AuthContext, id: string, action: ActionKind) {
  const campaign = await ctx.store.getCampaign(id);
  assertWritable(auth, campaign, 'campaign', id);
  const created = await requestAction(ctx.store, campaign, action, { owner: auth.owner, keyId: auth.keyId }, ctx.now());
  return { actionId: created.id, status: 'awaiting_approval' as const };
}

/**
 * Readable by the requesting side (campaign scopes, own owner) and by reviewers (any owner).
 * The scope check needs the key only; the owner check needs the record.
 */
export function mayReadActions(auth: AuthContext): boolean {
  return isReviewer(auth) || (['campaigns:read', 'campaigns:write', 'campaigns:execute'] as const).some((s) => hasScope(auth, s));
}
const isReviewer = (auth: AuthContext) => hasScope(auth, 'approvals:write') || auth.scopes.includes('read:all');

export async function getAction(ctx: AppContext, auth: AuthContext, id: string) {
  if (!mayReadActions(auth)) {
    throw new VoxgateError('forbidden', 'this key lacks the scope campaigns:read (or approvals:write)', [
      { field: 'scope', message: 'requires campaigns:read, campaigns:execute or approvals:write' },
    ]);
  }
  const action = await ctx.store.getAction(id);
  const own = action && (action.owner === auth.owner || action.requestedBy === auth.owner);
  if (!action || (!isReviewer(auth) && !own)) throw notFound('action', id);
  return actionToJson(action);
}


interface RowError {
  index: number;
  code: string;
  message: string;
}

/** The 413 for a batch over the cap, checked before any schema walk over 5000+ rows. */
export function capContacts(contacts: unknown): void {
  if (Array.isArray(contacts) && contacts.length > MAX_CONTACTS_PER_REQUEST) {
    throw new VoxgateError(
      'too_many_contacts',
      `${contacts.length} contacts in one request; send at most ${MAX_CONTACTS_PER_REQUEST} per request`,
      [{ field: 'contacts', message: `at most ${MAX_CONTACTS_PER_REQUEST}`, count: contacts.length }],
    );
  }
}

/**
 * Upserts by externalId. A bad row (phone not E.164) is counted in `failed` and never aborts
 * the batch; the valid rows are written in one store transaction. A batch naming one
 * externalId twice is ambiguous (which row wins?) and is refused whole with 422.
 */
export async function addContacts(ctx: AppContext, auth: AuthContext, id: string, body: UploadContacts) {
  capContacts(body.contacts);
  const campaign = await ctx.store.getCampaign(id);
  assertWritable(auth, campaign, 'campaign', id);
  const rows = body.contacts;
  refuseDuplicateExternalIds(rows);
  const errors: RowError[] = [];
  const valid: ContactInput[] = [];
  rows.forEach((row, index) => {
    const phone = row.phone?.trim() ?? '';
    if (!phone) {
      errors.push({ index, code: 'invalid_phone', message: 'phone is required' });
    } else if (!E164.test(phone)) {
      errors.push({ index, code: 'invalid_phone', message: `"${phone}" is not an E.164 number (e.g. +14155550100)` });
    } else {
      valid.push({
        phone,
        ...(row.externalId !== undefined ? { externalId: row.externalId } : {}),
        ...(row.name !== undefined ? { name: row.name } : {}),
        ...(row.variables !== undefined ? { variables: row.variables } : {}),
      });
    }
  });
  const written = valid.length > 0 ? await ctx.store.upsertContacts(campaign.id, valid, ctx.now().toISOString()) : { created: 0, updated: 0 };
  return { created: written.created, updated: written.updated, failed: errors.length, errors };
}

export async function listContacts(ctx: AppContext, auth: AuthContext, id: string, query: ContactsQuery) {
  const campaign = await ctx.store.getCampaign(id);
  assertReadable(auth, campaign, 'campaign', id);
  const page = await ctx.store.listContacts(campaign.id, query.status, pageRequest(query));
  return pageBody(page, contactToJson);
}

function refuseDuplicateExternalIds(rows: UploadContacts['contacts']): void {
  const firstIndex = new Map<string, number>();
  const details: Array<{ field: string; message: string; index: number }> = [];
  rows.forEach((row, index) => {
    if (row.externalId === undefined) return;
    const first = firstIndex.get(row.externalId);
    if (first === undefined) firstIndex.set(row.externalId, index);
    else details.push({ field: `contacts.${index}.externalId`, message: `externalId "${row.externalId}" already used by row ${first}`, index });
  });
  if (details.length > 0) {
    throw validationFailed(
      `duplicate externalId in one batch: ${details
        .slice(0, 5)
        .map((d) => d.message)
        .join('; ')}`,
      details,
    );
  }
}

/** Every contact of the campaign, oldest first (the order they were uploaded). */
async function allContacts(ctx: AppContext, campaignId: string): Promise<Contact[]> {
  const out: Contact[] = [];
  let afterId: string | undefined;
  do {
    const page = await ctx.store.listContacts(campaignId, undefined, { limit: 100, afterId });
    out.push(...page.items);
    afterId = page.nextAfterId ?? undefined;
  } while (afterId);
  return out.reverse();
}

/**
 * The agent must be the caller's and able to take phone calls; the number must be the caller's.
 * Strictly the caller's owner, admin included: the dialer places the calls as the campaign's
 * owner, and the outbound path only lets an owner dial with its own agent and number.
 */
async function checkReferences(ctx: AppContext, auth: AuthContext, body: CreateCampaign): Promise<void> {
  const mine = (owner: string | undefined) => owner === auth.owner;
  const agent = await ctx.store.getAgent(body.agentId);
  if (!agent || !mine(agent.owner)) {
    throw validationFailed(`agent ${body.agentId} not found`, [{ field: 'agentId', message: 'no such agent of yours' }]);
  }
  if (agent.architecture === 'text' || (agent.voiceMode !== 'phone' && agent.voiceMode !== 'web_and_phone')) {
    const why = agent.architecture === 'text' ? 'it is a text agent' : `its voiceMode is "${agent.voiceMode}"`;
    const message = `agent ${agent.id} cannot take phone calls (${why}); campaigns need an agent with voiceMode "phone" or "web_and_phone"`;
    throw validationFailed(message, [{ field: 'agentId', message }]);
  }
  const number = await ctx.store.getNumber(body.fromNumberId);
  if (!number || !mine(number.owner)) {
    const message = `phone number ${body.fromNumberId} is not one of your registered numbers`;
    throw validationFailed(message, [{ field: 'fromNumberId', message }]);
  }
}

/** Timezone, calling hours and window, each failure a 422 naming the field. */
function checkSchedule(input: CreateCampaign['schedule']): CampaignSchedule {
  const schedule: CampaignSchedule = input ? { ...input } : { timezone: 'UTC' };
  const problems: ErrorDetail[] = [];
  if (!isValidTimezone(schedule.timezone)) {
    problems.push({ field: 'schedule.timezone', message: `unknown timezone "${schedule.timezone}": use an IANA name such as America/New_York` });
  }
  const hours = schedule.callingHours;
  if (hours) {
    const start = parseHhmm(hours.start);
    const end = parseHhmm(hours.end);
    if (start === null) problems.push({ field: 'schedule.callingHours.start', message: `"${hours.start}" is not a 24-hour HH:MM time` });
    if (end === null) problems.push({ field: 'schedule.callingHours.end', message: `"${hours.end}" is not a 24-hour HH:MM time` });
    if (start !== null && end !== null && end <= start) {
      problems.push({ field: 'schedule.callingHours.end', message: `calling hours end (${hours.end}) must be after start (${hours.start})` });
    }
    schedule.callingHours = { ...hours, days: [...hours.days].sort((a, b) => a - b) };
  }
  for (const field of ['startAt', 'endAt'] as const) {
    const value = schedule[field];
    if (value !== undefined) {
      const ms = Date.parse(value);
      if (!/^\d{4}-\d\d-\d\dT/.test(value) || Number.isNaN(ms)) {
        problems.push({ field: `schedule.${field}`, message: `"${value}" is not an ISO 8601 date-time` });
      } else {
        schedule[field] = new Date(ms).toISOString();
      }
    }
  }
  if (schedule.startAt && schedule.endAt && Date.parse(schedule.endAt) <= Date.parse(schedule.startAt)) {
    problems.push({ field: 'schedule.endAt', message: 'endAt must be after startAt' });
  }
  if (problems.length > 0) throw validationFailed(problems.map((p) => p.message).join('; '), problems);
  return schedule;
}
