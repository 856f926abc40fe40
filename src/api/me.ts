/** `GET /v1/me`: who the presented key is. Any valid key may ask (scope `public` + auth). */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { errorResponses } from './schemas.js';

const Me = Type.Object({
  keyId: Type.String(),
  owner: Type.String(),
  scopes: Type.Array(Type.String()),
  rateLimit: Type.Object({ rpm: Type.Integer() }),
});

export async function meRoutes(app: FastifyInstance, _opts: { ctx: AppContext }): Promise<void> {
  // Any valid key may ask who it is, whatever its scopes.
  app.get(
    '/v1/me',
    { config: { scope: 'any' }, schema: { tags: ['keys'], response: { 200: Me, ...errorResponses() } } },
    async (req) => {
      return { keyId: req.auth.keyId, owner: req.auth.owner, scopes: req.auth.scopes, rateLimit: { rpm: req.auth.rpm } };
    },
  );
}
