/**
 * The approval queue over HTTP: `GET /v1/actions/:id`, `GET /v1/approvals`,
 * `POST /v1/approvals/:id/approve|reject`.
 *
 * Reviewers work across owners (an agent of owner A asks, a person of owner B decides), so a
 * key with `approvals:write` sees every pending action with a summary of its campaign — name,
 * agent, contact count, calling hours — enough to decide without any campaign scope. Actions
 * its own owner requested are listed too, flagged `canDecide: false`: hiding them would leave
 * a reviewer wondering where a request went; deciding them is refused with 403
 * `self_approval_forbidden` whatever the key's scopes (admin included).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import type { CampaignAction } from '../store/types.js';
import { VoxgateError } from '../errors.js';
import { decide } from '../campaigns/index.js';
import { getAction } from '../services/index.js';
import type { AuthContext } from './auth-context.js';
import { PageOf, PageQuery, pageRequest } from './paging.js';
import { errorResponses, IdParams } from './schemas.js';
import { ActionJson, ApprovalJson, RejectBody, actionToJson } from './campaigns-schemas.js';

const DecideBody = Type.Union([RejectBody, Type.Null()]);

export async function approvalRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;

  const summarize = async (a: CampaignAction, auth: AuthContext) => {
    const campaign = await ctx.store.getCampaign(a.campaignId);
    let summary = null;
    if (campaign) {
      const [agent, counts] = await Promise.all([ctx.store.getAgent(campaign.agentId), ctx.store.countContacts(campaign.id)]);
      summary = {
        id: campaign.id,
        name: campaign.name,
        status: campaign.status,
        owner: campaign.owner,
        purpose: campaign.purpose,
        agentId: campaign.agentId,
        agentName: agent?.name ?? null,
        contacts: Object.values(counts).reduce((s, n) => s + n, 0),
        schedule: campaign.schedule,
        maxConcurrentCalls: campaign.maxConcurrentCalls,
        maxAttempts: campaign.maxAttempts,
        retryDelayMinutes: campaign.retryDelayMinutes,
      };
    }
    return { ...actionToJson(a), canDecide: a.requestedBy !== auth.owner && a.status === 'awaiting_approval', campaign: summary };
  };

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/actions/:id',
    {
      // Readable by the requesting side (campaign scopes, own owner) and by reviewers; the
      // check needs the record, so the route takes any key and decides below.
      config: { scope: 'any' },
      schema: { tags: ['approvals'], params: IdParams, response: { 200: ActionJson, ...errorResponses(404) } },
    },
    async (req) => getAction(ctx, req.auth, req.params.id),
  );

  app.get<{ Querystring: PageQuery }>(
    '/v1/approvals',
    {
      config: { scope: 'approvals:write' },
      schema: {
        tags: ['approvals'],
        description: 'Pending actions of every owner, newest first, each with its campaign summarised. canDecide is false for actions your own owner requested.',
        querystring: PageQuery,
        response: { 200: PageOf(ApprovalJson), ...errorResponses() },
      },
    },
    async (req) => {
      const page = await ctx.store.listActions({ status: 'awaiting_approval' }, pageRequest(req.query));
      return { items: await Promise.all(page.items.map((a) => summarize(a, req.auth))), next_cursor: page.nextAfterId };
    },
  );

  for (const verb of ['approve', 'reject'] as const) {
    app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof DecideBody> | undefined }>(
      `/v1/approvals/:id/${verb}`,
      {
        config: { scope: 'approvals:write' },
        schema: {
          tags: ['approvals'],
          description:
            verb === 'approve'
              ? 'Approves and executes the action (start → running, pause → paused, stop → stopped).'
              : 'Rejects the action; the campaign is unchanged. Optional {reason}.',
          params: IdParams,
          response: { 200: ActionJson, ...errorResponses(404, 409) },
        },
      },
      async (req) => {
        const body = req.body;
        if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) {
          throw new VoxgateError('validation_failed', 'the body must be a JSON object like {"reason": "…"}');
        }
        const reason = body && typeof body.reason === 'string' ? body.reason.trim().slice(0, 2000) || null : null;
        if (body && body.reason !== undefined && typeof body.reason !== 'string') {
          throw new VoxgateError('validation_failed', 'reason must be a string', [{ field: 'reason', message: 'must be a string' }]);
        }
        const action = await decide(ctx.store, req.params.id, { approve: verb === 'approve', owner: req.auth.owner, keyId: req.auth.keyId, reason }, ctx.now());
        return actionToJson(action);
      },
    );
  }
}
