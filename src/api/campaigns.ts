/**
 * Campaigns (API.md "Campaigns (outbound, human-gated)"): create/list/get, results, and the
 * start/pause/stop requests, which only ever create an action awaiting a human's approval.
 * Contacts live in campaigns-contacts.ts, the approval queue in approvals.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import type { ActionKind, Campaign, CampaignSchedule, Contact } from '../store/types.js';
import { validationFailed, type ErrorDetail } from '../errors.js';
import { newId } from '../ids.js';
import { extractionColumns, extractionSchemaProblem, isValidTimezone, parseHhmm, requestAction } from '../campaigns/index.js';
import { assertReadable, assertWritable, ownerFilter, type AuthContext } from './auth-context.js';
import { PageOf, PageQuery, pageRequest } from './paging.js';
import { errorResponses, IdParams } from './schemas.js';
import {
  ActionAccepted,
  CampaignJson,
  CreateCampaign,
  ResultsJson,
  campaignToJson,
} from './campaigns-schemas.js';
import { contactRoutes } from './campaigns-contacts.js';
import { approvalRoutes } from './approvals.js';

export async function campaignRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const withCounts = async (c: Campaign) => campaignToJson(c, await ctx.store.countContacts(c.id));

  app.post<{ Body: CreateCampaign }>(
    '/v1/campaigns',
    {
      config: { scope: 'campaigns:write' },
      schema: { tags: ['campaigns'], body: CreateCampaign, response: { 201: CampaignJson, ...errorResponses() } },
    },
    async (req, reply) => {
      const body = req.body;
      await checkReferences(ctx, req.auth, body);
      const schedule = checkSchedule(body.schedule);
      if (body.extractionSchema) {
        const problem = extractionSchemaProblem(body.extractionSchema);
        if (problem) throw validationFailed(problem, [{ field: 'extractionSchema', message: problem }]);
      }
      const now = ctx.now();
      const campaign = await ctx.store.createCampaign({
        id: newId('cmp', now.getTime()),
        owner: req.auth.owner,
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
      return reply.code(201).send(await withCounts(campaign));
    },
  );

  app.get<{ Querystring: PageQuery }>(
    '/v1/campaigns',
    {
      config: { scope: 'campaigns:read' },
      schema: { tags: ['campaigns'], querystring: PageQuery, response: { 200: PageOf(CampaignJson), ...errorResponses() } },
    },
    async (req) => {
      const page = await ctx.store.listCampaigns(ownerFilter(req.auth), pageRequest(req.query));
      return { items: await Promise.all(page.items.map(withCounts)), next_cursor: page.nextAfterId };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/campaigns/:id',
    {
      config: { scope: 'campaigns:read' },
      schema: { tags: ['campaigns'], params: IdParams, response: { 200: CampaignJson, ...errorResponses(404) } },
    },
    async (req) => {
      const campaign = await ctx.store.getCampaign(req.params.id);
      assertReadable(req.auth, campaign, 'campaign', req.params.id);
      return withCounts(campaign);
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/campaigns/:id/results',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        tags: ['campaigns'],
        description: 'Every contact with its extraction result, in upload order. `columns` are the extractionSchema properties.',
        params: IdParams,
        response: { 200: ResultsJson, ...errorResponses(404) },
      },
    },
    async (req) => {
      const campaign = await ctx.store.getCampaign(req.params.id);
      assertReadable(req.auth, campaign, 'campaign', req.params.id);
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
    },
  );

  for (const action of ['start', 'pause', 'stop'] as const satisfies readonly ActionKind[]) {
    app.post<{ Params: Static<typeof IdParams> }>(
      `/v1/campaigns/:id/${action}`,
      {
        config: { scope: 'campaigns:execute' },
        schema: {
          tags: ['campaigns'],
          description: `Requests to ${action} the campaign. Nothing changes until a human with approvals:write (another owner) approves the action.`,
          params: IdParams,
          response: { 202: ActionAccepted, ...errorResponses(404, 409) },
        },
      },
      async (req, reply) => {
        const campaign = await ctx.store.getCampaign(req.params.id);
        assertWritable(req.auth, campaign, 'campaign', req.params.id);
        const created = await requestAction(ctx.store, campaign, action, { owner: req.auth.owner, keyId: req.auth.keyId }, ctx.now());
        return reply.code(202).send({ actionId: created.id, status: 'awaiting_approval' as const });
      },
    );
  }

  await app.register(contactRoutes, opts);
  await app.register(approvalRoutes, opts);
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
