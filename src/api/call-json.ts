/**
 * The public shape of a call (API.md, Calls), used by every route that returns calls:
 * `/v1/calls*` and `/v1/phone-numbers/:id/calls`. ONE definition, so the two never drift.
 * Optional fields are always present and `null` when unknown, which is easier on clients than
 * absent keys. Internal fields (owner, overrides, notes, record, campaign links) are not shown.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Call } from '../store/types.js';
import { Nullable } from './schemas.js';

export const CallSchema = Type.Object(
  {
    id: Type.String(),
    agentId: Type.String(),
    direction: Type.Union([Type.Literal('inbound'), Type.Literal('outbound'), Type.Literal('web')]),
    status: Type.Union([
      Type.Literal('queued'),
      Type.Literal('ringing'),
      Type.Literal('in-progress'),
      Type.Literal('completed'),
      Type.Literal('busy'),
      Type.Literal('no-answer'),
      Type.Literal('failed'),
      Type.Literal('canceled'),
    ]),
    fromNumber: Nullable(Type.String()),
    toNumber: Nullable(Type.String()),
    phoneNumberId: Nullable(Type.String()),
    twilioCallSid: Nullable(Type.String()),
    startedAt: Nullable(Type.String()),
    answeredAt: Nullable(Type.String()),
    endedAt: Nullable(Type.String()),
    durationSeconds: Nullable(Type.Integer()),
    endReason: Nullable(Type.String()),
    variables: Type.Record(Type.String(), Type.String()),
    metadata: Type.Object({}, { additionalProperties: true }),
    recordingAvailable: Type.Boolean(),
    latency: Type.Object({
      turns: Type.Integer(),
      p50Ms: Nullable(Type.Number()),
      p95Ms: Nullable(Type.Number()),
      /**
       * The last turns' breakdowns (at most 20, oldest first; src/session/latency.ts), for the
       * console's per-turn latency bars (issue 19). Parts a turn did not have are absent.
       */
      recent: Type.Array(
        Type.Object({
          endpointingMs: Type.Optional(Type.Number()),
          sttFinalMs: Type.Optional(Type.Number()),
          llmFirstTokenMs: Type.Optional(Type.Number()),
          ttsFirstByteMs: Type.Optional(Type.Number()),
          firstAudioDeltaMs: Type.Optional(Type.Number()),
          firstAudioSentMs: Type.Optional(Type.Number()),
          voiceToVoiceMs: Type.Number(),
        }),
      ),
    }),
    createdAt: Type.String(),
  },
);
export type CallJson = Static<typeof CallSchema>;

export function callToJson(call: Call): CallJson {
  return {
    id: call.id,
    agentId: call.agentId,
    direction: call.direction,
    status: call.status,
    fromNumber: call.fromNumber,
    toNumber: call.toNumber,
    phoneNumberId: call.phoneNumberId,
    twilioCallSid: call.twilioCallSid,
    startedAt: call.startedAt,
    answeredAt: call.answeredAt,
    endedAt: call.endedAt,
    durationSeconds: call.durationSeconds,
    endReason: call.endReason,
    variables: call.variables ?? {},
    metadata: call.metadata ?? {},
    recordingAvailable: call.recordingAvailable,
    latency: {
      turns: call.latency?.turns ?? 0,
      p50Ms: call.latency?.p50Ms ?? null,
      p95Ms: call.latency?.p95Ms ?? null,
      recent: call.latency?.recent ?? [],
    },
    createdAt: call.createdAt,
  };
}
