/**
 * Phone numbers (bought in Twilio by a person; voxgate only registers them): the one
 * implementation behind `/v1/phone-numbers*`, `POST /v1/agents/:id/phone` and the MCP tools
 * `list_phone_numbers` and `attach_phone_number`. A number answers for one agent at a time:
 * attaching it to another agent moves it.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import type { Agent, PhoneNumber } from '../store/types.js';
import { notFound, validationFailed, VoxgateError } from '../errors.js';
import { newId } from '../ids.js';
import { assertReadable, assertWritable, ownerFilter, type AuthContext } from '../api/auth-context.js';
import { pageBody, pageRequest, type PageQuery } from '../api/paging.js';
import { Nullable } from '../api/schemas.js';
import { callToJson } from '../api/call-json.js';

import { E164_HINT, E164_PATTERN } from '../e164.js';

export const CreateNumberBody = Type.Object(
  {
    phoneNumber: Type.String({ pattern: E164_PATTERN, maxLength: 16, description: E164_HINT }),
    label: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    agentId: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 100 }))),
  },
  { additionalProperties: false },
);
export type CreateNumberBody = Static<typeof CreateNumberBody>;
export const AttachNumberBody = Type.Object({ phoneNumberId: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });
export type AttachNumberBody = Static<typeof AttachNumberBody>;

export const NumberJson = Type.Object({
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

export async function listPhoneNumbers(ctx: AppContext, auth: AuthContext, query: PageQuery) {
  return pageBody(await ctx.store.listNumbers(ownerFilter(auth), pageRequest(query)), numberToJson);
}

export async function createPhoneNumber(ctx: AppContext, auth: AuthContext, b: CreateNumberBody) {
  const agentId = b.agentId ? (await phoneAgent(ctx, auth, b.agentId, 'agentId')).id : null;
  if (await ctx.store.getNumberByE164(b.phoneNumber)) throw new VoxgateError('conflict', `${b.phoneNumber} is already registered`);
  const num: PhoneNumber = {
    id: newId('num'),
    owner: auth.owner,
    phoneNumber: b.phoneNumber,
    label: b.label ?? null,
    agentId,
    createdAt: ctx.now().toISOString(),
  };
  await ctx.store.createNumber(num); // a concurrent duplicate still fails here with 409
  return numberToJson(num);
}

export async function getPhoneNumber(ctx: AppContext, auth: AuthContext, id: string) {
  const num = await ctx.store.getNumber(id);
  assertReadable(auth, num, 'phone number', id);
  return numberToJson(num);
}

export async function deletePhoneNumber(ctx: AppContext, auth: AuthContext, id: string): Promise<void> {
  const num = await ctx.store.getNumber(id);
  assertWritable(auth, num, 'phone number', id);
  if (!(await ctx.store.deleteNumber(num.id))) throw notFound('phone number', num.id);
}

export async function attachPhoneNumber(ctx: AppContext, auth: AuthContext, agentId: string, body: AttachNumberBody) {
  const existing = await ctx.store.getAgent(agentId);
  assertWritable(auth, existing, 'agent', agentId);
  const num = await ctx.store.getNumber(body.phoneNumberId);
  assertWritable(auth, num, 'phone number', body.phoneNumberId);
  const agent = await phoneAgent(ctx, auth, agentId, 'phoneNumberId');
  await ctx.store.setNumberAgent(num.id, agent.id);
  return numberToJson({ ...num, agentId: agent.id });
}

export async function listPhoneNumberCalls(ctx: AppContext, auth: AuthContext, id: string, query: PageQuery) {
  const num = await ctx.store.getNumber(id);
  assertReadable(auth, num, 'phone number', id);
  const page = await ctx.store.listCalls({ phoneNumberId: num.id, owner: ownerFilter(auth) }, pageRequest(query));
  return pageBody(page, callToJson);
}
