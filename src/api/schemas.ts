/**
 * Schema building blocks shared by the `/v1` plugins: the error body, nullable fields, id
 * params. Response schemas double as an allow-list: fast-json-stringify drops every property a
 * schema does not name, so internal fields (`owner`, hashes, ciphertext) cannot leak.
 */
import { Type, type TNull, type TSchema, type TUnion } from '@sinclair/typebox';

/**
 * `T | null`. For schemas with a single primitive `type` this is `type: [T, "null"]`, which
 * fast-json-stringify serialises directly (an `anyOf` makes it run Ajv per value to pick a
 * branch, a measurable cost on every list item). Otherwise an `anyOf` with `null` first on
 * purpose: Fastify's Ajv coerces types, and with `string` first a JSON `null` would be coerced
 * to `""` by the first branch instead of matching `null`.
 */
export const Nullable = <T extends TSchema>(schema: T): TUnion<[TNull, T]> => {
  const t = (schema as { type?: unknown }).type;
  if (typeof t === 'string' && t !== 'object' && t !== 'array' && (schema as { const?: unknown }).const === undefined) {
    return Type.Unsafe({ ...schema, type: ['null', t] }) as unknown as TUnion<[TNull, T]>;
  }
  return Type.Union([Type.Null(), schema]);
};

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Array(Type.Object({}, { additionalProperties: true })),
    }),
  },
);

/** A free-form JSON object (metadata, JSON Schema documents). */
export const AnyObject = Type.Object({}, { additionalProperties: true });

/** `{name: string}` maps (variables, pronunciations, headers). */
export const StringMap = Type.Record(Type.String({ maxLength: 200 }), Type.String({ maxLength: 10_000 }));

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

/** Standard error responses a `/v1` route documents in OpenAPI besides its success status. */
export function errorResponses(...statuses: number[]): Record<number, typeof ErrorBody> {
  const out: Record<number, typeof ErrorBody> = {};
  for (const s of [400, 401, 403, 422, 429, ...statuses]) out[s] = ErrorBody;
  return out;
}
