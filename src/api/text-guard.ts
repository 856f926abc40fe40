/**
 * Text the stores cannot hold is refused up front as 422, on every route: PostgreSQL rejects
 * U+0000 in `text` and `jsonb` ("invalid byte sequence") and lone UTF-16 surrogates in `jsonb`
 * ("Unicode low surrogate must follow a high surrogate"). Without this guard such input passes
 * the JSON Schema, works on SQLite and is a 500 on PostgreSQL. Body, query string and path
 * parameters are checked, object keys included; every offending field is named.
 */
import type { preValidationAsyncHookHandler } from 'fastify';
import { validationFailed, type ErrorDetail } from '../errors.js';

const MAX_DETAILS = 20;

/** Node 20 has `String.prototype.isWellFormed`; the TS lib of this project may not declare it. */
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

/** Why `s` cannot be stored, or null when it can. */
export function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'must not contain NUL (\\u0000) characters';
  if (!isWellFormed(s)) return 'must be well-formed Unicode (no lone surrogates)';
  return null;
}

/** Every string (and object key) in `value` that cannot be stored, as error details. */
export function unstorableText(value: unknown, context: string, out: ErrorDetail[] = [], segments: string[] = [], depth = 0): ErrorDetail[] {
  if (out.length >= MAX_DETAILS || depth > 64) return out;
  const add = (segs: string[], message: string): void => {
    const field = segs.join('.');
    out.push({ path: [context, ...segs].join('/'), field: field || context, message });
  };
  if (ArrayBuffer.isView(value)) return out;
  if (typeof value === 'string') {
    const problem = textProblem(value);
    if (problem) add(segments, problem);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => unstorableText(v, context, out, [...segments, String(i)], depth + 1));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const keyProblem = textProblem(k);
      // A key that cannot be stored is named by its position-safe form.
      if (keyProblem) add([...segments, JSON.stringify(k).slice(1, -1)], `key ${keyProblem}`);
      else unstorableText(v, context, out, [...segments, k], depth + 1);
    }
  }
  return out;
}

export const textGuard: preValidationAsyncHookHandler = async function textGuard(req) {
  const details = [
    ...unstorableText(req.params, 'params'),
    ...unstorableText(req.query, 'querystring'),
    ...unstorableText(req.body, 'body'),
  ];
  if (details.length > 0) {
    throw validationFailed('request contains text that cannot be stored', details);
  }
};
