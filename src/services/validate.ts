/**
 * Input validation for callers that do not come through a Fastify route (the MCP tools), with
 * the same TypeBox schemas the routes declare and the Ajv options Fastify compiles JSON bodies
 * with (@fastify/ajv-compiler's defaults — defaults filled in, properties a closed schema does
 * not name removed, one error at a time — without type coercion, as api/validator.ts does for
 * bodies: tool arguments are JSON, so a wrong type is a 422, never silently converted). An
 * argument the REST route accepts the tool accepts, and the other way round. Each schema is
 * compiled once.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Static, TSchema } from '@sinclair/typebox';
import { VoxgateError } from '../errors.js';
import { validationDetails } from '../api/error-handler.js';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import can be the
// module object rather than the function, depending on the loader.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats = (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

/** @fastify/ajv-compiler lib/default-ajv-options.js (Fastify 5) with bodyStrictValidator's `coerceTypes: false`, plus its formats plugin. */
const ajv = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: true, allErrors: false, strict: false });
addFormats(ajv);

const compiled = new WeakMap<TSchema, ValidateFunction>();

/**
 * Checks `input` against `schema`; returns a validated copy (defaults applied, coerced) or
 * throws 422 `validation_failed` with one detail per problem, pointers under `context`.
 */
export function validateInput<S extends TSchema>(schema: S, input: unknown, context = 'arguments'): Static<S> {
  let check = compiled.get(schema);
  if (!check) compiled.set(schema, (check = ajv.compile(schema)));
  const copy = structuredClone(input ?? {});
  if (!check(copy)) {
    const details = validationDetails(check.errors ?? [], context);
    throw new VoxgateError('validation_failed', `${context} do not match the schema: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`, details);
  }
  return copy as Static<S>;
}
