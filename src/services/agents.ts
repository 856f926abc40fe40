/**
 * Agents (API.md, Agents): the one implementation behind `/v1/agents*` and the MCP agent tools.
 * The architecture table (agent-schema.ts `agentProblems`) is enforced on create and on the
 * merged PATCH result; knowledge documents must be visible to the caller. Deleting keeps the
 * agent's calls (calls do not reference agents by foreign key).
 */
import type { AppContext } from '../context.js';
import type { Agent, NewAgent, Page, PageRequest } from '../store/types.js';
import { validationFailed } from '../errors.js';
import { newId } from '../ids.js';
import { assertReadable, assertWritable, ownerFilter, type AuthContext } from '../api/auth-context.js';
import { pageBody, pageRequest, type PageQuery } from '../api/paging.js';
import { Type } from '@sinclair/typebox';
import { AgentJson, agentProblems, agentToJson, type CreateAgentBody, type PatchAgentBody } from '../api/agent-schema.js';
import { assertLlmUrlAllowed, normaliseLlm } from '../api/agent-llm.js';
import { providerWarnings } from '../api/provider-warnings.js';
import { agentVoiceProblem } from './voices.js';

/** Issue 19: the 201 body names missing provider credentials (docs/api-notes.md, Warnings). */
export const CreatedAgentJson = Type.Composite([AgentJson, Type.Object({ warnings: Type.Array(Type.String()) })]);

/** Throws 422 naming every document the caller cannot see. */
export async function assertDocsVisible(ctx: AppContext, auth: AuthContext, ids: string[], field: string): Promise<void> {
  if (ids.length === 0) return;
  const docs = new Map((await ctx.store.getDocs(ids)).map((d) => [d.id, d]));
  const owner = ownerFilter(auth);
  const bad = ids.filter((id) => {
    const d = docs.get(id);
    return !d || (owner !== undefined && d.owner !== owner);
  });
  if (bad.length > 0) {
    throw validationFailed(
      `unknown knowledge document${bad.length > 1 ? 's' : ''}: ${bad.join(', ')}`,
      bad.map((id) => ({ field, path: `body/${field}`, message: `document ${id} not found` })),
    );
  }
}

function checkAgent(agent: Partial<Agent>): void {
  const problems = agentProblems(agent);
  if (problems.length > 0) {
    throw validationFailed(`agent is invalid: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, problems);
  }
}

const canPhone = (a: Pick<Agent, 'architecture' | 'voiceMode'>): boolean =>
  a.architecture !== 'text' && (a.voiceMode === 'phone' || a.voiceMode === 'web_and_phone');

/** Every item of a paged store list (numbers and campaigns of one owner: a few pages at most). */
async function all<T>(list: (page: PageRequest) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  let afterId: string | undefined;
  do {
    const page = await list({ limit: 100, afterId });
    out.push(...page.items);
    afterId = page.nextAfterId ?? undefined;
  } while (afterId);
  return out;
}

/**
 * A PATCH must not reach a state the create rules refuse: a text agent with phone numbers
 * (numbers are attached only to agents that take calls), or an agent that cannot take phone
 * calls behind a campaign that may still dial (campaigns are created only for such agents).
 */
async function checkDependents(ctx: AppContext, current: Agent, merged: Agent): Promise<void> {
  if (merged.architecture === 'text' && current.architecture !== 'text') {
    const numbers = (await all((p) => ctx.store.listNumbers(current.owner, p))).filter((n) => n.agentId === current.id);
    if (numbers.length > 0) {
      const message = `agent ${current.id} has phone numbers attached (${numbers.map((n) => n.phoneNumber).join(', ')}); a text agent cannot take calls: detach them first`;
      throw validationFailed(message, [{ field: 'architecture', path: 'body/architecture', message }]);
    }
  }
  if (canPhone(current) && !canPhone(merged)) {
    const live = (await all((p) => ctx.store.listCampaigns(current.owner, p))).filter(
      (c) => c.agentId === current.id && c.status !== 'stopped' && c.status !== 'completed',
    );
    if (live.length > 0) {
      const field = merged.architecture === 'text' ? 'architecture' : 'voiceMode';
      const message = `agent ${current.id} runs campaigns that may still call (${live.map((c) => c.id).join(', ')}); it must keep taking phone calls until they are stopped or completed`;
      throw validationFailed(message, [{ field, path: `body/${field}`, message }]);
    }
  }
}

/** A voice the catalogue knows belongs to another provider (API.md, "Voices") → 422 naming `voiceId`. */
async function checkVoice(ctx: AppContext, agent: Agent | NewAgent): Promise<void> {
  const problem = await agentVoiceProblem(ctx, agent);
  if (problem) throw validationFailed(`agent is invalid: voiceId ${problem.message}`, [problem]);
}

export async function listAgents(ctx: AppContext, auth: AuthContext, query: PageQuery) {
  return pageBody(await ctx.store.listAgents(ownerFilter(auth), pageRequest(query)), agentToJson);
}

export async function createAgent(ctx: AppContext, auth: AuthContext, b: CreateAgentBody) {
  const draft: NewAgent = {
    id: newId('agt'),
    owner: auth.owner,
    name: b.name as string,
    architecture: b.architecture!,
    systemPrompt: b.systemPrompt as string,
    firstMessage: b.firstMessage ?? null,
    language: b.language ?? 'en',
    model: b.model ?? null,
    stt: b.stt ?? null,
    sttModel: b.sttModel ?? null,
    tts: b.tts ?? null,
    ttsModel: b.ttsModel ?? null,
    voiceId: b.voiceId ?? null,
    realtimeProvider: b.realtimeProvider ?? null,
    temperature: b.temperature ?? null,
    // A text agent takes no calls, so its default is "off" rather than both channels.
    voiceMode: b.voiceMode ?? (b.architecture === 'text' ? 'off' : 'web_and_phone'),
    turnDetection: b.turnDetection ?? null,
    pronunciations: b.pronunciations ?? null,
    variables: b.variables ?? null,
    knowledgeIds: b.knowledgeIds ?? [],
    disabledTools: b.disabledTools ?? [],
    active: b.active ?? false,
    metadata: b.metadata ?? null,
    llm: normaliseLlm(b.llm),
  };
  checkAgent(draft);
  await assertLlmUrlAllowed(draft.llm, ctx.config.allowPrivateUrls);
  await checkVoice(ctx, draft);
  await assertDocsVisible(ctx, auth, draft.knowledgeIds, 'knowledgeIds');
  const agent = await ctx.store.createAgent(draft);
  // Issue 19: missing provider credentials are named on the 201 body, not discovered at the first call.
  return { ...agentToJson(agent), warnings: providerWarnings(agent, ctx.config) };
}

export async function getAgent(ctx: AppContext, auth: AuthContext, id: string) {
  const agent = await ctx.store.getAgent(id);
  assertReadable(auth, agent, 'agent', id);
  return agentToJson(agent);
}

export async function updateAgent(ctx: AppContext, auth: AuthContext, id: string, patch: PatchAgentBody = {}) {
  const current = await ctx.store.getAgent(id);
  assertWritable(auth, current, 'agent', id);
  const merged: Agent = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v !== undefined) (merged as unknown as Record<string, unknown>)[k] = v;
  }
  // Lists and the default language are never null: null resets them.
  merged.knowledgeIds ??= [];
  merged.disabledTools ??= [];
  merged.language ??= 'en';
  // Becoming a text agent switches calls off unless the client says otherwise (and then
  // the rule below refuses it).
  if (patch.architecture === 'text' && patch.voiceMode === undefined) merged.voiceMode = 'off';
  merged.llm = normaliseLlm(merged.llm);
  checkAgent(merged);
  await checkDependents(ctx, current, merged);
  if (patch.llm) await assertLlmUrlAllowed(merged.llm, ctx.config.allowPrivateUrls);
  // Only a change to the voice or to who speaks it is checked: a renamed agent keeps its voice.
  if (['voiceId', 'tts', 'realtimeProvider', 'architecture'].some((k) => (patch as Record<string, unknown>)[k] !== undefined)) await checkVoice(ctx, merged);
  if (patch.knowledgeIds) await assertDocsVisible(ctx, auth, patch.knowledgeIds, 'knowledgeIds');
  const saved = await ctx.store.updateAgent(merged);
  assertWritable(auth, saved, 'agent', id);
  return agentToJson(saved);
}

export async function deleteAgent(ctx: AppContext, auth: AuthContext, id: string): Promise<void> {
  const agent = await ctx.store.getAgent(id);
  assertWritable(auth, agent, 'agent', id);
  await ctx.store.deleteAgent(agent.id);
}
