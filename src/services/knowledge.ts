/**
 * Knowledge documents (API.md, Knowledge base): the one implementation behind
 * `/v1/knowledge*`, `PATCH /v1/agents/:id/knowledge` and the MCP tools `list_knowledge` and
 * `add_knowledge_text`. Documents are immutable once uploaded; agents that still list a deleted
 * document stop listing it.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import type { KnowledgeDoc } from '../store/types.js';
import { notFound, validationFailed } from '../errors.js';
import { newId } from '../ids.js';
import { chunkText, importUrl } from '../knowledge/index.js';
import { MAX_TEXT_CHARS } from '../knowledge/url-import.js';
import { assertWritable, ownerFilter, type AuthContext } from '../api/auth-context.js';
import { pageBody, pageRequest, type PageQuery } from '../api/paging.js';
import { Nullable } from '../api/schemas.js';
import { agentToJson } from '../api/agent-schema.js';
import { assertDocsVisible } from './agents.js';

const Name = Type.String({ minLength: 1, maxLength: 200 });
export const KnowledgeTextBody = Type.Object({ name: Name, text: Type.String({ minLength: 1, maxLength: MAX_TEXT_CHARS }) }, { additionalProperties: false });
export const KnowledgeUrlBody = Type.Object({ name: Name, url: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false });
export const AgentKnowledgeBody = Type.Object(
  { documentIds: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100, uniqueItems: true }) },
  { additionalProperties: false },
);

export const DocJson = Type.Object({
  id: Type.String(),
  name: Type.String(),
  sourceUrl: Nullable(Type.String()),
  createdAt: Type.String(),
});
export const CreatedDoc = Type.Object({
  id: Type.String(),
  name: Type.String(),
  sourceUrl: Nullable(Type.String()),
  characters: Type.Integer(),
  chunks: Type.Integer(),
  createdAt: Type.String(),
});
const docToJson = (d: Omit<KnowledgeDoc, 'text'>) => ({ id: d.id, name: d.name, sourceUrl: d.sourceUrl, createdAt: d.createdAt });

async function create(ctx: AppContext, owner: string, name: string, text: string, sourceUrl: string | null) {
  const chunks = chunkText(text).length;
  if (chunks === 0) throw validationFailed('document has no text', [{ field: 'text', path: 'body/text', message: 'only whitespace' }]);
  const doc: KnowledgeDoc = { id: newId('doc'), owner, name, sourceUrl, text, createdAt: ctx.now().toISOString() };
  await ctx.store.createDoc(doc);
  return { ...docToJson(doc), characters: text.length, chunks };
}

export async function listKnowledge(ctx: AppContext, auth: AuthContext, query: PageQuery) {
  return pageBody(await ctx.store.listDocs(ownerFilter(auth), pageRequest(query)), docToJson);
}

export async function addKnowledgeText(ctx: AppContext, auth: AuthContext, input: Static<typeof KnowledgeTextBody>) {
  return create(ctx, auth.owner, input.name, input.text, null);
}

export async function addKnowledgeUrl(ctx: AppContext, auth: AuthContext, input: Static<typeof KnowledgeUrlBody>) {
  const { text } = await importUrl(input.url, { allowPrivate: ctx.config.allowPrivateUrls });
  return create(ctx, auth.owner, input.name, text, input.url);
}

export async function deleteKnowledge(ctx: AppContext, auth: AuthContext, id: string): Promise<void> {
  const doc = await ctx.store.getDoc(id);
  assertWritable(auth, doc, 'document', id);
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
}

export async function setAgentKnowledge(ctx: AppContext, auth: AuthContext, agentId: string, input: Static<typeof AgentKnowledgeBody>) {
  const agent = await ctx.store.getAgent(agentId);
  assertWritable(auth, agent, 'agent', agentId);
  await assertDocsVisible(ctx, auth, input.documentIds, 'documentIds');
  const saved = await ctx.store.updateAgent({ ...agent, knowledgeIds: input.documentIds });
  assertWritable(auth, saved, 'agent', agentId);
  return agentToJson(saved);
}
