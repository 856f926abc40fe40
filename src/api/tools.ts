/**
 * Webhook tools of an agent: `GET/POST /v1/agents/:id/tools`, `DELETE …/:name`.
 * `parameters` must be a JSON Schema object that Ajv compiles (a schema the model would be
 * handed but nothing could validate is refused now, not mid-call). The URL passes the SSRF
 * guard at create time (the tool runner checks again at call time: DNS can change).
 * `{{env.NAME}}` placeholders are allowed in the URL and headers; the host part must be
 * literal so the guard can check it.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import type { AppContext } from '../context.js';
import type { AgentTool } from '../store/types.js';
import { notFound, validationFailed, VoxgateError } from '../errors.js';
import { checkUrlAllowed } from '../net/index.js';
import { assertReadable, assertWritable } from './auth-context.js';
import { AnyObject, errorResponses, Nullable, StringMap } from './schemas.js';
import { CALENDLY_TOOL_NAMES } from '../tools/index.js';
import { ToolJson, toolToJson } from './tool-json.js';
import { isCalendlyPresetTool, removeCalendlyPreset } from '../services/index.js';
import { calendlyPresetRoutes } from './tools-calendly.js';

export const BUILTIN_TOOLS = ['end_call', 'transfer_call'] as const;
/** OpenAI function names: letters, digits, `_` and `-`, at most 64. */
const TOOL_NAME = '^[A-Za-z0-9_-]{1,64}$';

const AgentParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const ToolParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }), name: Type.String({ minLength: 1, maxLength: 64 }) });

const CreateTool = Type.Object(
  {
    name: Type.String({ pattern: TOOL_NAME }),
    description: Type.String({ minLength: 1, maxLength: 2000 }),
    parameters: AnyObject,
    url: Type.String({ minLength: 1, maxLength: 2000 }),
    method: Type.Optional(Type.Union([Type.Literal('POST'), Type.Literal('GET')])),
    headers: Type.Optional(Nullable(StringMap)),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000 })),
  },
  { additionalProperties: false },
);
type CreateTool = Static<typeof CreateTool>;

// strict: false — tool schemas written for OpenAI often carry keywords Ajv does not know.
const ajv = new Ajv({ strict: false });

export function checkParametersSchema(schema: Record<string, unknown>): void {
  if (schema.type !== 'object') {
    throw validationFailed('parameters must be a JSON Schema with "type": "object"', [
      { field: 'parameters', path: 'body/parameters/type', message: 'must be "object"' },
    ]);
  }
  try {
    ajv.compile(schema);
  } catch (err) {
    throw validationFailed(`parameters is not a valid JSON Schema: ${(err as Error).message}`, [
      { field: 'parameters', path: 'body/parameters', message: (err as Error).message },
    ]);
  }
}

export async function toolRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const tags = ['agents'];
  await app.register(calendlyPresetRoutes, opts);

  app.get<{ Params: Static<typeof AgentParams> }>(
    '/v1/agents/:id/tools',
    {
      config: { scope: 'agents:read' },
      schema: { tags, params: AgentParams, response: { 200: Type.Object({ items: Type.Array(ToolJson) }), ...errorResponses(404) } },
    },
    async (req) => {
      const agent = await ctx.store.getAgent(req.params.id);
      assertReadable(req.auth, agent, 'agent', req.params.id);
      return { items: (await ctx.store.listTools(agent.id)).map(toolToJson) };
    },
  );

  app.post<{ Params: Static<typeof AgentParams>; Body: CreateTool }>(
    '/v1/agents/:id/tools',
    {
      config: { scope: 'agents:write' },
      schema: { tags, params: AgentParams, body: CreateTool, response: { 201: ToolJson, ...errorResponses(404, 409) } },
    },
    async (req, reply) => {
      const agent = await ctx.store.getAgent(req.params.id);
      assertWritable(req.auth, agent, 'agent', req.params.id);
      const b = req.body;
      if ((BUILTIN_TOOLS as readonly string[]).includes(b.name)) {
        throw validationFailed(`${b.name} is a built-in tool name`, [{ field: 'name', path: 'body/name', message: 'collides with a built-in tool' }]);
      }
      if (CALENDLY_TOOL_NAMES.includes(b.name)) {
        throw validationFailed(`${b.name} is reserved for the Calendly preset (POST /v1/agents/:id/tools/calendly)`, [
          { field: 'name', path: 'body/name', message: 'reserved for the Calendly preset' },
        ]);
      }
      const internal = Object.keys(b.headers ?? {}).find((h) => h.toLowerCase().startsWith('x-voxgate-'));
      if (internal) {
        throw validationFailed(`header ${internal} is reserved for voxgate`, [{ field: 'headers', path: `body/headers/${internal}`, message: 'x-voxgate-* headers are reserved' }]);
      }
      checkParametersSchema(b.parameters);
      // Placeholders are filled at call time; check the URL with them neutralised, which
      // keeps the scheme and host (where a placeholder is refused) as written.
      const probe = b.url.replace(/\{\{\s*env\.[A-Za-z0-9_]+\s*\}\}/g, 'x');
      if (/\{\{/.test(b.url.split('/')[2] ?? '')) {
        throw validationFailed('url host must be written out, not a placeholder', [{ field: 'url', path: 'body/url', message: 'placeholder in host' }]);
      }
      await checkUrlAllowed(probe, ctx.config.allowPrivateUrls);
      const existing = (await ctx.store.listTools(agent.id)).find((t) => t.name === b.name);
      if (existing) throw new VoxgateError('conflict', `agent already has a tool named ${b.name}`);
      const tool: AgentTool = {
        agentId: agent.id,
        name: b.name,
        description: b.description,
        parameters: b.parameters,
        url: b.url,
        method: b.method ?? 'POST',
        headers: b.headers ?? null,
        timeoutMs: b.timeoutMs ?? 5000,
        createdAt: ctx.now().toISOString(),
      };
      await ctx.store.putTool(tool);
      return reply.code(201).send(toolToJson(tool));
    },
  );

  app.delete<{ Params: Static<typeof ToolParams> }>(
    '/v1/agents/:id/tools/:name',
    { config: { scope: 'agents:write' }, schema: { tags, params: ToolParams, response: { 204: Type.Null(), ...errorResponses(404) } } },
    async (req, reply) => {
      const agent = await ctx.store.getAgent(req.params.id);
      assertWritable(req.auth, agent, 'agent', req.params.id);
      // A preset's tools go together: deleting one of them deletes the preset.
      const tool = (await ctx.store.listTools(agent.id)).find((t) => t.name === req.params.name);
      if (tool && isCalendlyPresetTool(tool)) {
        await removeCalendlyPreset(ctx, req.auth, agent.id);
        return reply.code(204).send();
      }
      if (!(await ctx.store.deleteTool(agent.id, req.params.name))) throw notFound('tool', req.params.name);
      return reply.code(204).send();
    },
  );
}
