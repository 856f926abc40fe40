/**
 * Knowledge documents: `GET /v1/knowledge`, `POST /v1/knowledge/text`, `POST /v1/knowledge/url`
 * (fetched once through the SSRF guard, reduced to text), `DELETE /v1/knowledge/:id`, and
 * `PATCH /v1/agents/:id/knowledge` `{documentIds}` (each visible to the caller).
 * Documents are immutable once uploaded; agents that still list a deleted document simply
 * stop finding it.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import type { KnowledgeDoc } from '../store/types.js';
import { notFound, validationFailed } from '../errors.js';
import { newId } from '../ids.js';
import { chunkText, importUrl } from '../knowledge/index.js';
import { MAX_TEXT_CHARS } from '../knowledge/url-import.js';
import { assertWritable, ownerFilter } from './auth-context.js';
import { PageOf, PageQuery, pageBody, pageRequest } from './paging.js';
import { errorResponses, IdParams, Nullable } from './schemas.js';
import { AgentJson, agentToJson } from './agent-schema.js';
import { assertDocsVisible } from './agents.js';

const Name = Type.String({ minLength: 1, maxLength: 200 });
const TextBody = Type.Object({ name: Name, text: Type.String({ minLength: 1, maxLength: MAX_TEXT_CHARS }) }, { additionalProperties: false });
const UrlBody = Type.Object({ name: Name, url: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false });
const AttachBody = Type.Object(
  { documentIds: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100, uniqueItems: true }) },
  { additionalProperties: false },
);

const DocJson = Type.Object({
  id: Type.String(),
  name: Type.String(),
  sourceUrl: Nullable(Type.String()),
  createdAt: Type.String(),
});
const CreatedDoc = Type.Object({
  id: Type.String(),
  name: Type.String(),
  sourceUrl: Nullable(Type.String()),
  characters: Type.Integer(),
  chunks: Type.Integer(),
  createdAt: Type.String(),
});
const docToJson = (d: Omit<KnowledgeDoc, 'text'>) => ({ id: d.id, name: d.name, sourceUrl: d.sourceUrl, createdAt: d.createdAt });

export async function knowledgeRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const tags = ['knowledge'];

  async function create(owner: string, name: string, text: string, sourceUrl: string | null) {
    const chunks = chunkText(text).length;
    if (chunks === 0) throw validationFailed('document has no text', [{ field: 'text', path: 'body/text', message: 'only whitespace' }]);
    const doc: KnowledgeDoc = { id: newId('doc'), owner, name, sourceUrl, text, createdAt: ctx.now().toISOString() };
    await ctx.store.createDoc(doc);
    return { ...docToJson(doc), characters: text.length, chunks };
  }

  app.get<{ Querystring: PageQuery }>(
    '/v1/knowledge',
    { config: { scope: 'knowledge:read' }, schema: { tags, querystring: PageQuery, response: { 200: PageOf(DocJson), ...errorResponses() } } },
    async (req) => pageBody(await ctx.store.listDocs(ownerFilter(req.auth), pageRequest(req.query)), docToJson),
  );

  app.post<{ Body: Static<typeof TextBody> }>(
    '/v1/knowledge/text',
    { config: { scope: 'knowledge:write' }, schema: { tags, body: TextBody, response: { 201: CreatedDoc, ...errorResponses() } } },
    async (req, reply) => reply.code(201).send(await create(req.auth.owner, req.body.name, req.body.text, null)),
  );

  app.post<{ Body: Static<typeof UrlBody> }>(
    '/v1/knowledge/url',
    { config: { scope: 'knowledge:write' }, schema: { tags, body: UrlBody, response: { 201: CreatedDoc, ...errorResponses() } } },
    async (req, reply) => {
      const { text } = await importUrl(req.body.url, { allowPrivate: ctx.config.allowPrivateUrls });
      return reply.code(201).send(await create(req.auth.owner, req.body.name, text, req.body.url));
    },
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/v1/knowledge/:id',
    { config: { scope: 'knowledge:write' }, schema: { tags, params: IdParams, response: { 204: Type.Null(), ...errorResponses(404) } } },
    async (req, reply) => {
      const doc = await ctx.store.getDoc(req.params.id);
      assertWritable(req.auth, doc, 'document', req.params.id);
      if (!(await ctx.store.deleteDoc(doc.id))) throw notFound('document', doc.id);
      ctx.knowledge.forget?.(doc.id);
      // Agents of the document's owner stop listing it, so their `knowledgeIds` never name a
      // document that is gone (a client that PATCHes back what it read would get a 422).
      for (let afterId: string | undefined, guard = 0; guard < 1000; guard++) {
        const page = await ctx.store.listAgents(doc.owner, { limit: 100, afterId });
        for (const agent of page.items) {
          if (agent.knowledgeIds.includes(doc.id)) {
            await ctx.store.updateAgent({ ...agent, knowledgeIds: agent.knowledgeIds.filter((k) => k !== doc.id) });
          }
        }
        if (!page.nextAfterId) break;
        afterId = page.nextAfterId;
      }
      return reply.code(204).send();
    },
  );

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof AttachBody> }>(
    '/v1/agents/:id/knowledge',
    {
      config: { scope: 'agents:write' },
      schema: { tags: ['agents', ...tags], params: IdParams, body: AttachBody, response: { 200: AgentJson, ...errorResponses(404) } },
    },
    async (req) => {
      const agent = await ctx.store.getAgent(req.params.id);
      assertWritable(req.auth, agent, 'agent', req.params.id);
      await assertDocsVisible(ctx, req.auth, req.body.documentIds, 'documentIds');
      const saved = await ctx.store.updateAgent({ ...agent, knowledgeIds: req.body.documentIds });
      assertWritable(req.auth, saved, 'agent', req.params.id);
      return agentToJson(saved);
    },
  );
}
