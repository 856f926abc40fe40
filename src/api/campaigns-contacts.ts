/**
 * `POST /v1/campaigns/:id/contacts` (upsert by externalId, ≤ 5000 per request) and
 * `GET /v1/campaigns/:id/contacts?status=`: thin adapters over src/services/campaigns.ts, where
 * the row rules live (bad phones counted in `failed`, duplicate externalIds refused whole).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { PageOf } from './paging.js';
import { errorResponses, IdParams } from './schemas.js';
import { ContactJson, ContactsQuery, MAX_CONTACTS_PER_REQUEST, UploadContacts, UploadResult } from './campaigns-schemas.js';
import { addContacts, capContacts, listContacts } from '../services/index.js';

/**
 * 5000 realistic rows (names, a few variables) run past the API-wide 1 MiB body limit, and
 * the 5000-row cap is the limit this route means: give it room for that many.
 */
const CONTACTS_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

/** Refuses an oversized batch before Ajv walks 5000+ rows (and before any store work). */
async function capBeforeValidation(req: FastifyRequest): Promise<void> {
  capContacts((req.body as { contacts?: unknown } | undefined)?.contacts);
}

export async function contactRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;

  app.post<{ Params: Static<typeof IdParams>; Body: UploadContacts }>(
    '/v1/campaigns/:id/contacts',
    {
      config: { scope: 'campaigns:write' },
      bodyLimit: CONTACTS_BODY_LIMIT_BYTES,
      preValidation: capBeforeValidation,
      schema: {
        tags: ['campaigns'],
        description: `Upserts up to ${MAX_CONTACTS_PER_REQUEST} contacts by externalId. Invalid phones are counted in failed.`,
        params: IdParams,
        body: UploadContacts,
        response: { 200: UploadResult, ...errorResponses(404, 413) },
      },
    },
    async (req) => addContacts(ctx, req.auth, req.params.id, req.body),
  );

  app.get<{ Params: Static<typeof IdParams>; Querystring: ContactsQuery }>(
    '/v1/campaigns/:id/contacts',
    {
      config: { scope: 'campaigns:read' },
      schema: { tags: ['campaigns'], params: IdParams, querystring: ContactsQuery, response: { 200: PageOf(ContactJson), ...errorResponses(404) } },
    },
    async (req) => listContacts(ctx, req.auth, req.params.id, req.query),
  );
}
