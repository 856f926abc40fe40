/**
 * Request validation: Fastify's Ajv, but bodies are never type-coerced. Coercion is right for
 * the query string and path (everything there arrives as text: `?limit=20`), and wrong for JSON,
 * where a client that sends `"agentId": false` or `"temperature": "0.5"` has sent the wrong type
 * and must hear so (422), not have it silently turned into `null` or `0.5` (found by fuzzing).
 */
import { AjvCompiler } from '@fastify/ajv-compiler';

type BuildValidator = ReturnType<typeof AjvCompiler>;

export function bodyStrictValidator(): BuildValidator {
  const pool = AjvCompiler();
  return ((externalSchemas: unknown, options: { customOptions?: Record<string, unknown> }) => {
    const build = pool as unknown as (ext: unknown, opts: unknown) => (route: unknown) => unknown;
    const coercing = build(externalSchemas, options);
    const strict = build(externalSchemas, { ...options, customOptions: { ...options?.customOptions, coerceTypes: false } });
    return (route: { httpPart?: string }) => (route.httpPart === 'body' ? strict : coercing)(route);
  }) as unknown as BuildValidator;
}
