/**
 * Argument validation for tool calls. Compiled validators are shared by every call: a schema is
 * compiled once per process (keyed by its JSON text) and reused by each runner that names it, so
 * a call's set-up costs a lookup and a tool call one validate run, never a compile. (Building an
 * Ajv instance with formats and compiling the two built-in schemas for each call cost ~10 ms of
 * CPU on the event loop per call: bench/media-load, docs/performance.md.)
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import can be the
// module object rather than the function, depending on the loader.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

export type ArgsCheck =
  | { ok: true; args: Record<string, unknown> }
  | { ok: false; message: string };

export interface ArgsValidator {
  /** Compiles `schema` for `name`; throws if the schema itself is invalid. */
  add(name: string, schema: Record<string, unknown>): void;
  /** Parses the model's raw JSON and checks it against the tool's schema. */
  check(name: string, argumentsJson: string): ArgsCheck;
}

function newAjv(): Ajv {
  // strict: false — agent authors write schemas by hand, often with keywords Ajv's strict mode
  // rejects (e.g. `examples`); the model only needs the structural checks.
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv;
}

/**
 * Distinct schemas kept compiled. Agents' tools are few and change rarely; past this many the
 * cache (and the Ajv instance that holds the compiled code) starts over, bounding memory.
 */
const MAX_SHARED_SCHEMAS = 500;
let shared: { ajv: Ajv; byJson: Map<string, ValidateFunction> } | null = null;

function compileShared(schema: Record<string, unknown>): ValidateFunction {
  // A schema with its own `$id` can be added to an Ajv instance only once: compile it alone.
  if ('$id' in schema) return newAjv().compile(schema);
  const key = JSON.stringify(schema);
  if (!shared || shared.byJson.size >= MAX_SHARED_SCHEMAS) shared = { ajv: newAjv(), byJson: new Map() };
  let validate = shared.byJson.get(key);
  if (!validate) {
    validate = shared.ajv.compile(schema);
    shared.byJson.set(key, validate);
  }
  return validate;
}

export function createArgsValidator(): ArgsValidator {
  const compiled = new Map<string, ValidateFunction>();
  return {
    add(name, schema) {
      compiled.set(name, compileShared(schema));
    },
    check(name, argumentsJson) {
      let args: unknown;
      const text = argumentsJson.trim();
      try {
        // Models send "" for a tool without parameters.
        args = text === '' ? {} : JSON.parse(text);
      } catch {
        return { ok: false, message: `invalid arguments for ${name}: not valid JSON. Send a JSON object.` };
      }
      if (args === null || typeof args !== 'object' || Array.isArray(args)) {
        return { ok: false, message: `invalid arguments for ${name}: expected a JSON object.` };
      }
      const validate = compiled.get(name);
      if (validate && !validate(args)) {
        return { ok: false, message: `invalid arguments for ${name}: ${describeErrors(validate.errors)}. Fix them and call ${name} again.` };
      }
      return { ok: true, args: args as Record<string, unknown> };
    },
  };
}

/** Short, model-readable reasons: "toNumber must match pattern ...; missing required property 'date'". */
function describeErrors(errors: ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return 'arguments do not match the schema';
  return errors
    .slice(0, 5)
    .map((e) => {
      if (e.keyword === 'required') return `missing required property '${String(e.params['missingProperty'])}'`;
      if (e.keyword === 'additionalProperties') return `unexpected property '${String(e.params['additionalProperty'])}'`;
      const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'arguments';
      return `${where} ${e.message ?? 'is invalid'}`;
    })
    .join('; ');
}
