/**
 * Phone numbers (bought in Twilio by a person; voxgate only registers them):
 * `GET/POST /v1/phone-numbers`, `GET/DELETE /v1/phone-numbers/:id`,
 * `POST /v1/agents/:id/phone` (attach), `GET /v1/phone-numbers/:id/calls`.
 * A number answers for one agent at a time: attaching it to another agent moves it.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import type { Agent, PhoneNumber } from '../store/types.js';
import { notFound, validationFailed, VoxgateError } from '../errors.js';
import { newId } from '../ids.js';
import { assertReadable, assertWritable, ownerFilter, type AuthContext } from './auth-context.js';
import { PageOf, PageQuery, pageBody, pageRequest } from './paging.js';
import { errorResponses, IdParams, Nullable } from './schemas.js';
import { CallSchema, callToJson } from './call-json.js';

/** E.164: a plus, a non-zero country digit, at most 15 digits in all (ITU-T E.164). */
export { E164_PATTERN as E164 } from '../e164.js';
import { E164_PATTERN as E164 } from '../e164.js';

const CreateNumber = Type.Object(
  {
    phoneNumber: Type.String({ pattern: E164, maxLength: 16 }),
    label: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    agentId: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 100 }))),
  },
  { additionalProperties: false },
);
const AttachBody = Type.Object({ phoneNumberId: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });

const NumberJson = Type.Object({
  id: Type.String(),
  phoneNumber: Type.String(),
  label: Nullable(Type.String()),
  agentId: Nullable(Type.String()),
  createdAt: Type.String(),
});
const numberToJson = (n: PhoneNumber) => ({ id: n.id, phoneNumber: n.phoneNumber, label: n.label, agentId: n.agentId, createdAt: n.createdAt });

/** The agent a number may be attached to: the caller's, able to take phone calls. */
async function phoneAgent(ctx: AppContext, auth: AuthContext, agentId: string, field: string): Promise<Agent> {
  const agent = await ctx.store.getAgent(agentId);
  assertWritable(auth, agent, 'agent', agentId);
  if (agent.architecture === 'text') {
    throw validationFailed('a text agent cannot take calls or numbers', [{ field, path: `body/${field}`, message: 'agent is a text agent' }]);
  }
  if (agent.voiceMode !== 'phone' && agent.voiceMode !== 'web_and_phone') {
    throw validationFailed(`agent ${agent.id} does not take phone calls (voiceMode "${agent.voiceMode}")`, [
      { field, path: `body/${field}`, message: 'agent voiceMode excludes phone' },
    ]);
  }
  return agent;
}

export async function phoneNumberRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const tags = ['phone-numbers'];

  app.get<{ Querystring: PageQuery }>(
    '/v1/phone-numbers',
    { config: { scope: 'numbers:read' }, schema: { tags, querystring: PageQuery, response: { 200: PageOf(NumberJson), ...errorResponses() } } },
    async (req) => pageBody(await ctx.store.listNumbers(ownerFilter(req.auth), pageRequest(req.query)), numberToJson),
  );

  app.post<{ Body: Static<typeof CreateNumber> }>(
    '/v1/phone-numbers',
    { config: { scope: 'numbers:write' }, schema: { tags, body: CreateNumber, response: { 201: NumberJson, ...errorResponses(404, 409) } } },
    async (req, reply) => {
      const b = req.body;
      const agentId = b.agentId ? (await phoneAgent(ctx, req.auth, b.agentId, 'agentId')).id : null;
      if (await ctx.store.getNumberByE164(b.phoneNumber)) throw new VoxgateError('conflict', `${b.phoneNumber} is already registered`);
      const num: PhoneNumber = {
        id: newId('num'),
        owner: req.auth.owner,
        phoneNumber: b.phoneNumber,
        label: b.label ?? null,
        agentId,
        createdAt: ctx.now().toISOString(),
      };
      await ctx.store.createNumber(num); // a concurrent duplicate still fails here with 409
      return reply.code(201).send(numberToJson(num));
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/phone-numbers/:id',
    { config: { scope: 'numbers:read' }, schema: { tags, params: IdParams, response: { 200: NumberJson, ...errorResponses(404) } } },
    async (req) => {
      const num = await ctx.store.getNumber(req.params.id);
      assertReadable(req.auth, num, 'phone number', req.params.id);
      return numberToJson(num);
    },
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/v1/phone-numbers/:id',
    { config: { scope: 'numbers:write' }, schema: { tags, params: IdParams, response: { 204: Type.Null(), ...errorResponses(404) } } },
    async (req, reply) => {
      const num = await ctx.store.getNumber(req.params.id);
      assertWritable(req.auth, num, 'phone number', req.params.id);
      if (!(await ctx.store.deleteNumber(num.id))) throw notFound('phone number', num.id);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof AttachBody> }>(
    '/v1/agents/:id/phone',
    {
      config: { scope: 'numbers:write' },
      schema: { tags, params: IdParams, body: AttachBody, response: { 200: NumberJson, ...errorResponses(404) } },
    },
    async (req) => {
      const existing = await ctx.store.getAgent(req.params.id);
      assertWritable(req.auth, existing, 'agent', req.params.id);
      const num = await ctx.store.getNumber(req.body.phoneNumberId);
      assertWritable(req.auth, num, 'phone number', req.body.phoneNumberId);
      const agent = await phoneAgent(ctx, req.auth, req.params.id, 'phoneNumberId');
      await ctx.store.setNumberAgent(num.id, agent.id);
      return numberToJson({ ...num, agentId: agent.id });
    },
  );

  const CallsQuery = PageQuery;
  app.get<{ Params: Static<typeof IdParams>; Querystring: PageQuery }>(
    '/v1/phone-numbers/:id/calls',
    {
      config: { scope: 'calls:read' },
      schema: { tags, params: IdParams, querystring: CallsQuery, response: { 200: PageOf(CallSchema), ...errorResponses(404) } },
    },
    async (req) => {
      const num = await ctx.store.getNumber(req.params.id);
      assertReadable(req.auth, num, 'phone number', req.params.id);
      const page = await ctx.store.listCalls({ phoneNumberId: num.id, owner: ownerFilter(req.auth) }, pageRequest(req.query));
      return pageBody(page, callToJson);
    },
  );
}
