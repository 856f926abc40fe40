/**
 * `POST /v1/campaigns/:id/contacts` (upsert by externalId, ≤ 5000 per request) and
 * `GET /v1/campaigns/:id/contacts?status=`.
 *
 * A bad row (phone not E.164) is counted in `failed` with `{index, code, message}` and never
 * aborts the batch; the valid rows are written in one store transaction, so a failure midway
 * leaves nothing half-written. A batch naming one externalId twice is ambiguous (which row
 * wins?) and is refused whole with 422.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import type { ContactInput } from '../store/types.js';
import { VoxgateError, validationFailed } from '../errors.js';
import { assertReadable, assertWritable } from './auth-context.js';
import { PageOf, pageBody, pageRequest } from './paging.js';
import { errorResponses, IdParams } from './schemas.js';
import {
  ContactJson,
  ContactsQuery,
  MAX_CONTACTS_PER_REQUEST,
  UploadContacts,
  UploadResult,
  contactToJson,
} from './campaigns-schemas.js';

/** E.164: '+', a non-zero country digit, at most 15 digits in all (ITU-T E.164 §6). */
import { E164_RE as E164 } from '../e164.js';

/**
 * 5000 realistic rows (names, a few variables) run past the API-wide 1 MiB body limit, and
 * the 5000-row cap is the limit this route means: give it room for that many.
 */
const CONTACTS_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

interface RowError {
  index: number;
  code: string;
  message: string;
}

/** Refuses an oversized batch before Ajv walks 5000+ rows (and before any store work). */
async function capContacts(req: FastifyRequest): Promise<void> {
  const contacts = (req.body as { contacts?: unknown } | undefined)?.contacts;
  if (Array.isArray(contacts) && contacts.length > MAX_CONTACTS_PER_REQUEST) {
    throw new VoxgateError(
      'too_many_contacts',
      `${contacts.length} contacts in one request; send at most ${MAX_CONTACTS_PER_REQUEST} per request`,
      [{ field: 'contacts', message: `at most ${MAX_CONTACTS_PER_REQUEST}`, count: contacts.length }],
    );
  }
}

export async function contactRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;

  app.post<{ Params: Static<typeof IdParams>; Body: UploadContacts }>(
    '/v1/campaigns/:id/contacts',
    {
      config: { scope: 'campaigns:write' },
      bodyLimit: CONTACTS_BODY_LIMIT_BYTES,
      preValidation: capContacts,
      schema: {
        tags: ['campaigns'],
        description: `Upserts up to ${MAX_CONTACTS_PER_REQUEST} contacts by externalId. Invalid phones are counted in failed.`,
        params: IdParams,
        body: UploadContacts,
        response: { 200: UploadResult, ...errorResponses(404, 413) },
      },
    },
    async (req) => {
      const campaign = await ctx.store.getCampaign(req.params.id);
      assertWritable(req.auth, campaign, 'campaign', req.params.id);
      const rows = req.body.contacts;
      refuseDuplicateExternalIds(rows);
      const errors: RowError[] = [];
      const valid: ContactInput[] = [];
      rows.forEach((row, index) => {
        const phone = row.phone?.trim() ?? '';
        if (!phone) {
          errors.push({ index, code: 'invalid_phone', message: 'phone is required' });
        } else if (!E164.test(phone)) {
          errors.push({ index, code: 'invalid_phone', message: `"${phone}" is not an E.164 number (e.g. +14155550100)` });
        } else {
          valid.push({
            phone,
            ...(row.externalId !== undefined ? { externalId: row.externalId } : {}),
            ...(row.name !== undefined ? { name: row.name } : {}),
            ...(row.variables !== undefined ? { variables: row.variables } : {}),
          });
        }
      });
      const written = valid.length > 0 ? await ctx.store.upsertContacts(campaign.id, valid, ctx.now().toISOString()) : { created: 0, updated: 0 };
      return { created: written.created, updated: written.updated, failed: errors.length, errors };
    },
  );

  app.get<{ Params: Static<typeof IdParams>; Querystring: ContactsQuery }>(
    '/v1/campaigns/:id/contacts',
    {
      config: { scope: 'campaigns:read' },
      schema: { tags: ['campaigns'], params: IdParams, querystring: ContactsQuery, response: { 200: PageOf(ContactJson), ...errorResponses(404) } },
    },
    async (req) => {
      const campaign = await ctx.store.getCampaign(req.params.id);
      assertReadable(req.auth, campaign, 'campaign', req.params.id);
      const page = await ctx.store.listContacts(campaign.id, req.query.status, pageRequest(req.query));
      return pageBody(page, contactToJson);
    },
  );
}

function refuseDuplicateExternalIds(rows: UploadContacts['contacts']): void {
  const firstIndex = new Map<string, number>();
  const details: Array<{ field: string; message: string; index: number }> = [];
  rows.forEach((row, index) => {
    if (row.externalId === undefined) return;
    const first = firstIndex.get(row.externalId);
    if (first === undefined) firstIndex.set(row.externalId, index);
    else details.push({ field: `contacts.${index}.externalId`, message: `externalId "${row.externalId}" already used by row ${first}`, index });
  });
  if (details.length > 0) {
    throw validationFailed(
      `duplicate externalId in one batch: ${details
        .slice(0, 5)
        .map((d) => d.message)
        .join('; ')}`,
      details,
    );
  }
}
