/**
 * Agents over HTTP: `GET/POST /v1/agents`, `GET/PATCH/DELETE /v1/agents/:id`. Thin adapters
 * over src/services/agents.ts, where the architecture table, the dependents rule of PATCH and
 * the knowledge visibility rule live (shared with the MCP tools).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { PageOf, PageQuery } from './paging.js';
import { errorResponses, IdParams } from './schemas.js';
import { AgentJson, CreateAgentBody, PatchAgentBody } from './agent-schema.js';
import { CreatedAgentJson, createAgent, deleteAgent, getAgent, listAgents, updateAgent } from '../services/index.js';

type IdParams = Static<typeof IdParams>;

export async function agentRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const tags = ['agents'];

  app.get<{ Querystring: PageQuery }>(
    '/v1/agents',
    { config: { scope: 'agents:read' }, schema: { tags, querystring: PageQuery, response: { 200: PageOf(AgentJson), ...errorResponses() } } },
    async (req) => listAgents(ctx, req.auth, req.query),
  );

  app.post<{ Body: CreateAgentBody }>(
    '/v1/agents',
    { config: { scope: 'agents:write' }, schema: { tags, body: CreateAgentBody, response: { 201: CreatedAgentJson, ...errorResponses() } } },
    async (req, reply) => reply.code(201).send(await createAgent(ctx, req.auth, req.body)),
  );

  app.get<{ Params: IdParams }>(
    '/v1/agents/:id',
    { config: { scope: 'agents:read' }, schema: { tags, params: IdParams, response: { 200: AgentJson, ...errorResponses(404) } } },
    async (req) => getAgent(ctx, req.auth, req.params.id),
  );

  app.patch<{ Params: IdParams; Body: PatchAgentBody }>(
    '/v1/agents/:id',
    {
      config: { scope: 'agents:write' },
      schema: { tags, params: IdParams, body: PatchAgentBody, response: { 200: AgentJson, ...errorResponses(404) } },
    },
    async (req) => updateAgent(ctx, req.auth, req.params.id, req.body ?? {}),
  );

  app.delete<{ Params: IdParams }>(
    '/v1/agents/:id',
    { config: { scope: 'agents:write' }, schema: { tags, params: IdParams, response: { 204: Type.Null(), ...errorResponses(404) } } },
    async (req, reply) => {
      await deleteAgent(ctx, req.auth, req.params.id);
      return reply.code(204).send();
    },
  );
}
