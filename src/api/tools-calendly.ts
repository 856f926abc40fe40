/**
 * The Calendly tool preset routes (API.md, "Calendly preset"): `POST /v1/agents/:id/tools/calendly`
 * adds `calendly_availability` and `calendly_book`, `DELETE` removes both. Thin: the work is in
 * services/calendly-preset.ts.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { addCalendlyPreset, removeCalendlyPreset } from '../services/index.js';
import { errorResponses } from './schemas.js';
import { ToolJson, toolToJson } from './tool-json.js';

const AgentParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

const AddCalendly = Type.Object(
  {
    eventTypeUri: Type.String({ minLength: 1, maxLength: 2000, description: 'The Calendly event type URI, https://api.calendly.com/event_types/<uuid>' }),
    tokenEnv: Type.String({ minLength: 1, maxLength: 100, description: 'The agent env var holding the Calendly personal access token' }),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'IANA zone the times are spoken in (default UTC)' })),
  },
  { additionalProperties: false },
);

const CalendlyPresetJson = Type.Object(
  {
    preset: Type.Literal('calendly'),
    eventTypeUri: Type.String(),
    tokenEnv: Type.String(),
    timezone: Type.String(),
    items: Type.Array(ToolJson),
  },
  { $id: 'CalendlyPreset' },
);

export async function calendlyPresetRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const tags = ['agents'];

  app.post<{ Params: Static<typeof AgentParams>; Body: Static<typeof AddCalendly> }>(
    '/v1/agents/:id/tools/calendly',
    {
      config: { scope: 'agents:write' },
      schema: {
        tags,
        operationId: 'addCalendlyPreset',
        summary: 'Add the Calendly preset (calendly_availability and calendly_book)',
        params: AgentParams,
        body: AddCalendly,
        response: { 201: CalendlyPresetJson, ...errorResponses(404, 409) },
      },
    },
    async (req, reply) => {
      const r = await addCalendlyPreset(ctx, req.auth, req.params.id, req.body);
      return reply.code(201).send({ preset: r.preset, eventTypeUri: r.eventTypeUri, tokenEnv: r.tokenEnv, timezone: r.timezone, items: r.tools.map(toolToJson) });
    },
  );

  app.delete<{ Params: Static<typeof AgentParams> }>(
    '/v1/agents/:id/tools/calendly',
    {
      config: { scope: 'agents:write' },
      schema: {
        tags,
        operationId: 'removeCalendlyPreset',
        summary: 'Remove the Calendly preset (both of its tools)',
        params: AgentParams,
        response: { 204: Type.Null(), ...errorResponses(404) },
      },
    },
    async (req, reply) => {
      await removeCalendlyPreset(ctx, req.auth, req.params.id);
      return reply.code(204).send();
    },
  );
}
