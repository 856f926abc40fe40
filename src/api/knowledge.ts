/**
 * Knowledge documents over HTTP: `GET /v1/knowledge`, `POST /v1/knowledge/text`,
 * `POST /v1/knowledge/url`, `DELETE /v1/knowledge/:id`, `PATCH /v1/agents/:id/knowledge`.
 * Thin adapters: the rules live in src/services/knowledge.ts, shared with the MCP tools.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { PageOf, PageQuery } from './paging.js';
import { errorResponses, IdParams } from './schemas.js';
import { AgentJson } from './agent-schema.js';
import {
  AgentKnowledgeBody,
  CreatedDoc,
  DocJson,
  KnowledgeTextBody,
  KnowledgeUrlBody,
  addKnowledgeText,
  addKnowledgeUrl,
  deleteKnowledge,
  listKnowledge,
  setAgentKnowledge,
} from '../services/index.js';

export async function knowledgeRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const tags = ['knowledge'];

  app.get<{ Querystring: PageQuery }>(
    '/v1/knowledge',
    { config: { scope: 'knowledge:read' }, schema: { tags, querystring: PageQuery, response: { 200: PageOf(DocJson), ...errorResponses() } } },
    async (req) => listKnowledge(ctx, req.auth, req.query),
  );

  app.post<{ Body: Static<typeof KnowledgeTextBody> }>(
    '/v1/knowledge/text',
    { config: { scope: 'knowledge:write' }, schema: { tags, body: KnowledgeTextBody, response: { 201: CreatedDoc, ...errorResponses() } } },
    async (req, reply) => reply.code(201).send(await addKnowledgeText(ctx, req.auth, req.body)),
  );

  app.post<{ Body: Static<typeof KnowledgeUrlBody> }>(
    '/v1/knowledge/url',
    { config: { scope: 'knowledge:write' }, schema: { tags, body: KnowledgeUrlBody, response: { 201: CreatedDoc, ...errorResponses() } } },
    async (req, reply) => reply.code(201).send(await addKnowledgeUrl(ctx, req.auth, req.body)),
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/v1/knowledge/:id',
    { config: { scope: 'knowledge:write' }, schema: { tags, params: IdParams, response: { 204: Type.Null(), ...errorResponses(404) } } },
    async (req, reply) => {
      await deleteKnowledge(ctx, req.auth, req.params.id);
      return reply.code(204).send();
    },
  );

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof AgentKnowledgeBody> }>(
    '/v1/agents/:id/knowledge',
    {
      config: { scope: 'agents:write' },
      schema: { tags: ['agents', ...tags], params: IdParams, body: AgentKnowledgeBody, response: { 200: AgentJson, ...errorResponses(404) } },
    },
    async (req) => setAgentKnowledge(ctx, req.auth, req.params.id, req.body),
  );
}
