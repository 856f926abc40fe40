/**
 * `GET /v1/voices` (API.md, "Voices"): a thin route over `services/voices.ts`, which the MCP
 * `list_voices` tool calls too.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { listVoices, VOICE_PROVIDERS } from '../services/voices.js';
import { errorResponses } from './schemas.js';

const VoicesQuery = Type.Object(
  {
    // A plain string: the service names an unknown provider in its own 422.
    provider: Type.Optional(Type.String({ maxLength: 50, description: `one of ${VOICE_PROVIDERS.join(', ')}` })),
  },
  { additionalProperties: false },
);
type VoicesQuery = Static<typeof VoicesQuery>;

const Voice = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    provider: Type.String(),
    language: Type.Optional(Type.String()),
    gender: Type.Optional(Type.String()),
    previewUrl: Type.Optional(Type.String()),
  },
);

export const VoiceList = Type.Object(
  {
    items: Type.Array(Voice),
    next_cursor: Type.Null(),
    unavailable: Type.Array(Type.Object({ provider: Type.String(), reason: Type.String() })),
  },
);

export async function voiceRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  app.get<{ Querystring: VoicesQuery }>(
    '/v1/voices',
    {
      config: { scope: 'agents:read' },
      schema: {
        tags: ['voices'],
        operationId: 'listVoices',
        summary: 'Voices to pick from: ElevenLabs and Cartesia from their APIs (cached 10 min), OpenAI and xAI documented voices; failing providers in `unavailable`',
        querystring: VoicesQuery,
        response: { 200: VoiceList, ...errorResponses() },
      },
    },
    async (req) => listVoices(ctx, { provider: req.query.provider }),
  );
}
