/**
 * `POST /v1/agents/:id/chat` `{messages, variables?}` → `text/event-stream` of `delta` events
 * (`{"text"}`) and one final `done` event (`{"text", "finishReason"}`), for `text` agents.
 * The system prompt gets `{{var}}` filled (request variables, then the agent's defaults) and
 * the best knowledge passages for the last user message. Webhook tools are not offered: they
 * belong to calls. The stream only starts once the model produced its first event, so a
 * provider that refuses the request is a plain 502 `provider_error`, not a broken stream; a
 * failure after that arrives as an `error` event carrying the usual error body.
 */
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { VoxgateError, validationFailed } from '../errors.js';
import { randomUUID } from 'node:crypto';
import { createAgentLlm, type ChatMessage, type LlmClient, type LlmEvent } from '../providers/llm/index.js';
import { decryptAgentEnv } from '../tools/index.js';
import type { Agent } from '../store/types.js';
import { fillTemplate } from '../engine/template.js';
import { assertReadable } from './auth-context.js';
import { errorResponses, IdParams, StringMap } from './schemas.js';
import { toVoxgateError } from './error-handler.js';

const ChatBody = Type.Object(
  {
    messages: Type.Array(
      Type.Object(
        { role: Type.Union([Type.Literal('user'), Type.Literal('assistant')]), content: Type.String({ maxLength: 20_000 }) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 200 },
    ),
    variables: Type.Optional(StringMap),
  },
  { additionalProperties: false },
);

/** Passages added to the system prompt: enough context, not a prompt flood. */
const KNOWLEDGE_PASSAGES = 3;
const DEFAULT_OPENAI_BASE = 'https://api.openai.com/v1';

/** A text agent without a model (it has a conversation server) never reaches the built-in LLM. */
const DEFAULT_CHAT_MODEL = 'gpt-4o-mini';

/**
 * The agent's brain for one chat exchange (API.md: the same protocols as calls; a webhook gets
 * one `turn` POST, a WebSocket one connection). Failures are the request's error, not apologies.
 */
function chatLlm(ctx: AppContext, agent: Agent, chatId: string, variables: Record<string, string>): LlmClient {
  let env: Promise<Record<string, string>> | null = null;
  const envVar = async (name: string): Promise<string | undefined> => {
    env ??= decryptAgentEnv(ctx.store, ctx.secrets.envVarKey, agent.id, ctx.log.child({ agentId: agent.id }));
    return (await env)[name];
  };
  const llm = agent.llm;
  const secretEnv = llm && (llm.provider === 'webhook' || llm.provider === 'websocket') ? llm.secretEnv : undefined;
  const vars = { ...(agent.variables ?? {}), ...variables };
  return createAgentLlm(llm, ctx.config.providers.openai, {
    callId: chatId,
    agentId: agent.id,
    direction: 'chat',
    fromNumber: null,
    toNumber: null,
    variables: vars,
    metadata: {},
    call: () => ({ id: chatId, agentId: agent.id, direction: 'chat', variables: vars, metadata: {} }),
    secret: async () => (secretEnv ? envVar(secretEnv) : undefined),
    envVar,
    allowPrivateUrls: ctx.config.allowPrivateUrls,
    log: ctx.log,
    system: (text) => ctx.log.warn({ agentId: agent.id, chatId, note: text }, 'conversation server problem in a chat'),
    onFailure: 'throw',
    notices: false,
  });
}

const sse = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export async function agentChatRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const openai = ctx.config.providers.openai;

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof ChatBody> }>(
    '/v1/agents/:id/chat',
    {
      config: { scope: 'calls:write' },
      schema: {
        tags: ['agents'],
        params: IdParams,
        body: ChatBody,
        response: { 200: { description: 'text/event-stream of delta and done events', type: 'string' }, ...errorResponses(404, 502, 503) },
      },
    },
    async (req, reply) => {
      const agent = await ctx.store.getAgent(req.params.id);
      assertReadable(req.auth, agent, 'agent', req.params.id);
      if (agent.architecture !== 'text') {
        throw validationFailed('only text agents chat; voice agents take calls', [{ field: 'architecture', message: 'must be "text"' }]);
      }
      const builtIn = !agent.llm || agent.llm.provider === 'openai';
      if (builtIn && !openai.apiKey && openai.baseUrl === DEFAULT_OPENAI_BASE) {
        throw new VoxgateError('provider_not_configured', 'the LLM is not configured: set OPENAI_API_KEY or OPENAI_BASE_URL');
      }

      let system = fillTemplate(agent.systemPrompt, req.body.variables, agent.variables);
      const lastUser = [...req.body.messages].reverse().find((m) => m.role === 'user');
      if (lastUser && agent.knowledgeIds.length > 0) {
        const passages = await ctx.knowledge.search(agent.knowledgeIds, lastUser.content, KNOWLEDGE_PASSAGES);
        if (passages.length > 0) {
          system += `\n\nRelevant knowledge:\n${passages.map((p) => `[${p.docName}] ${p.text}`).join('\n---\n')}`;
        }
      }
      const messages: ChatMessage[] = [{ role: 'system', content: system }, ...req.body.messages];

      const abort = new AbortController();
      req.raw.on('close', () => abort.abort());
      const chatId = `chat_${randomUUID()}`;
      const llm = chatLlm(ctx, agent, chatId, req.body.variables ?? {});
      llm.open?.({ unprompted: () => {}, failed: () => {} });
      const startedAt = Date.now();
      const closeBrain = (endReason: string) => llm.close?.({ endReason, durationSeconds: Math.round((Date.now() - startedAt) / 1000) });
      const events = llm
        .stream({ model: agent.model ?? DEFAULT_CHAT_MODEL, turnId: chatId, messages, temperature: agent.temperature ?? undefined, signal: abort.signal })
        [Symbol.asyncIterator]();

      // Wait for the first event before committing to a 200 stream.
      let first: IteratorResult<LlmEvent>;
      try {
        first = await events.next();
      } catch (err) {
        closeBrain('error');
        throw toVoxgateError(err);
      }

      const out = new PassThrough();
      void (async () => {
        let text = '';
        let finishReason = 'stop';
        try {
          for (let r = first; !r.done; r = await events.next()) {
            const ev = r.value;
            if (ev.type === 'delta') {
              text += ev.text;
              out.write(sse('delta', { text: ev.text }));
            } else if (ev.type === 'done') {
              finishReason = ev.finishReason;
            }
          }
          if (!abort.signal.aborted) out.write(sse('done', { text, finishReason }));
        } catch (err) {
          if (!abort.signal.aborted) out.write(sse('error', toVoxgateError(err).toBody()));
        } finally {
          closeBrain(abort.signal.aborted ? 'client_gone' : 'completed');
          out.end();
        }
      })();

      return reply
        .code(200)
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('x-accel-buffering', 'no')
        .send(out);
    },
  );
}
