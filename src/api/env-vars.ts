/**
 * Per-agent env vars (secrets for webhook tools, `{{env.NAME}}`). Values are sealed with
 * AES-256-GCM under the SECRETS_KEY-derived key before they reach the store, and no route ever
 * returns one: `GET` lists names only.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { encryptSecret } from '../crypto/secret-box.js';
import { notFound } from '../errors.js';
import { assertReadable, assertWritable } from './auth-context.js';
import { errorResponses } from './schemas.js';

/** Shell-style names, so they read as what they are and fit `{{env.NAME}}`. */
export const ENV_VAR_NAME = '^[A-Z_][A-Z0-9_]*$';

const AgentParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const VarParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100 }),
  name: Type.String({ minLength: 1, maxLength: 100, pattern: ENV_VAR_NAME }),
});
const PutBody = Type.Object({ value: Type.String({ maxLength: 10_000 }) }, { additionalProperties: false });
const Names = Type.Object({ items: Type.Array(Type.Object({ name: Type.String() })) });
const NameOnly = Type.Object({ name: Type.String() });

export async function envVarRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const tags = ['agents'];

  app.get<{ Params: Static<typeof AgentParams> }>(
    '/v1/agents/:id/env-vars',
    { config: { scope: 'agents:read' }, schema: { tags, params: AgentParams, response: { 200: Names, ...errorResponses(404) } } },
    async (req) => {
      const agent = await ctx.store.getAgent(req.params.id);
      assertReadable(req.auth, agent, 'agent', req.params.id);
      return { items: (await ctx.store.listEnvVarNames(agent.id)).map((name) => ({ name })) };
    },
  );

  app.put<{ Params: Static<typeof VarParams>; Body: Static<typeof PutBody> }>(
    '/v1/agents/:id/env-vars/:name',
    {
      config: { scope: 'agents:write' },
      schema: { tags, params: VarParams, body: PutBody, response: { 200: NameOnly, ...errorResponses(404) } },
    },
    async (req) => {
      const agent = await ctx.store.getAgent(req.params.id);
      assertWritable(req.auth, agent, 'agent', req.params.id);
      await ctx.store.putEnvVar(agent.id, req.params.name, encryptSecret(ctx.secrets.envVarKey, req.body.value));
      return { name: req.params.name };
    },
  );

  app.delete<{ Params: Static<typeof VarParams> }>(
    '/v1/agents/:id/env-vars/:name',
    { config: { scope: 'agents:write' }, schema: { tags, params: VarParams, response: { 204: Type.Null(), ...errorResponses(404) } } },
    async (req, reply) => {
      const agent = await ctx.store.getAgent(req.params.id);
      assertWritable(req.auth, agent, 'agent', req.params.id);
      if (!(await ctx.store.deleteEnvVar(agent.id, req.params.name))) throw notFound('env var', req.params.name);
      return reply.code(204).send();
    },
  );
}
