/**
 * Campaigns over HTTP (API.md "Campaigns (outbound, human-gated)"): create/list/get, results,
 * and the start/pause/stop requests, which only ever create an action awaiting a human's
 * approval. Thin adapters over src/services/campaigns.ts (shared with the MCP tools). Contacts
 * live in campaigns-contacts.ts, the approval queue in approvals.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { PageOf, PageQuery } from './paging.js';
import { errorResponses, IdParams } from './schemas.js';
import { ActionAccepted, CampaignJson, CreateCampaign, ResultsJson } from './campaigns-schemas.js';
import { contactRoutes } from './campaigns-contacts.js';
import { approvalRoutes } from './approvals.js';
import { CAMPAIGN_ACTIONS, campaignResults, createCampaign, getCampaign, listCampaigns, requestCampaignAction } from '../services/index.js';

export async function campaignRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;

  app.post<{ Body: CreateCampaign }>(
    '/v1/campaigns',
    {
      config: { scope: 'campaigns:write' },
      schema: { tags: ['campaigns'], body: CreateCampaign, response: { 201: CampaignJson, ...errorResponses() } },
    },
    async (req, reply) => reply.code(201).send(await createCampaign(ctx, req.auth, req.body)),
  );

  app.get<{ Querystring: PageQuery }>(
    '/v1/campaigns',
    {
      config: { scope: 'campaigns:read' },
      schema: { tags: ['campaigns'], querystring: PageQuery, response: { 200: PageOf(CampaignJson), ...errorResponses() } },
    },
    async (req) => listCampaigns(ctx, req.auth, req.query),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/campaigns/:id',
    {
      config: { scope: 'campaigns:read' },
      schema: { tags: ['campaigns'], params: IdParams, response: { 200: CampaignJson, ...errorResponses(404) } },
    },
    async (req) => getCampaign(ctx, req.auth, req.params.id),
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
    async (req) => campaignResults(ctx, req.auth, req.params.id),
  );

  for (const action of CAMPAIGN_ACTIONS) {
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
      async (req, reply) => reply.code(202).send(await requestCampaignAction(ctx, req.auth, req.params.id, action)),
    );
  }

  await app.register(contactRoutes, opts);
  await app.register(approvalRoutes, opts);
}
