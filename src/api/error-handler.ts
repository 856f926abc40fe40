/**
 * One error renderer for the whole app: every failure leaves as
 * `{"error": {"code", "message", "details"}}` with the status of its code (src/errors.ts).
 * Fastify's own errors (validation, body parsing, limits) are translated here so clients see
 * the codes of API.md, never Fastify internals.
 */
import type { FastifyError, FastifyReply, FastifyRequest, onSendAsyncHookHandler } from 'fastify';
import { ProviderError, VoxgateError, type ErrorCode, type ErrorDetail } from '../errors.js';
import { ServiceUnavailableError, isConnectionError, serviceOf } from '../faults/index.js';

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** `body/name`-style pointers to the offending field, one detail per problem. */
export function validationDetails(issues: AjvIssue[], context: string | undefined): ErrorDetail[] {
  return collapseUnions(issues).map((issue) => {
    const segments = (issue.instancePath ?? '').split('/').filter(Boolean);
    const missing = issue.keyword === 'required' ? issue.params?.missingProperty : undefined;
    const extra = issue.keyword === 'additionalProperties' ? issue.params?.additionalProperty : undefined;
    if (typeof missing === 'string') segments.push(missing);
    if (typeof extra === 'string') segments.push(extra);
    const field = segments.join('.');
    return {
      path: [context ?? 'body', ...segments].join('/'),
      field: field || (context ?? 'body'),
      message: issue.message ?? 'is invalid',
    };
  });
}

/**
 * A union (`"a" | "b"`, `T | null`) fails as one `const` or `type` issue per branch plus an
 * `anyOf` issue, all at the same path. Report it once, saying what would have been accepted.
 */
function collapseUnions(issues: AjvIssue[]): AjvIssue[] {
  const unionPaths = new Set(issues.filter((i) => i.keyword === 'anyOf').map((i) => i.instancePath ?? ''));
  if (unionPaths.size === 0) return issues;
  const consts = new Map<string, unknown[]>();
  const types = new Map<string, string[]>();
  for (const issue of issues) {
    const at = issue.instancePath ?? '';
    if (!unionPaths.has(at)) continue;
    if (issue.keyword === 'const') consts.set(at, [...(consts.get(at) ?? []), issue.params?.allowedValue]);
    if (issue.keyword === 'type') types.set(at, [...(types.get(at) ?? []), String(issue.params?.type)]);
  }
  const out: AjvIssue[] = [];
  for (const issue of issues) {
    const at = issue.instancePath ?? '';
    if (!unionPaths.has(at)) out.push(issue);
    else if (issue.keyword === 'anyOf') {
      const parts: string[] = [];
      const c = consts.get(at);
      const t = types.get(at);
      if (c?.length) parts.push(`one of ${c.map((v) => JSON.stringify(v)).join(', ')}`);
      if (t?.length) parts.push(`of type ${[...new Set(t)].join(' or ')}`);
      out.push(parts.length > 0 ? { ...issue, message: `must be ${parts.join(', or ')}` } : issue);
    } else if (issue.keyword !== 'const' && issue.keyword !== 'type') out.push(issue);
  }
  return out;
}

/** Maps any thrown value to the VoxgateError that describes it to the client. */
export function toVoxgateError(err: unknown): VoxgateError {
  if (err instanceof VoxgateError) return err;
  // PostgreSQL or Redis unreachable: 503 `service_unavailable`, never a 500 (API.md, Conventions).
  if (isConnectionError(err)) return new ServiceUnavailableError(serviceOf(err), err);
  if (err instanceof ProviderError) {
    return new VoxgateError('provider_error', err.message, err.status ? [{ message: `upstream status ${err.status}` }] : [], err.retryable);
  }
  const e = err as FastifyError & { validation?: AjvIssue[]; validationContext?: string };
  if (Array.isArray(e?.validation)) {
    return new VoxgateError('validation_failed', 'request does not match the schema', validationDetails(e.validation, e.validationContext));
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new VoxgateError('invalid_json', 'request body is not valid JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new VoxgateError('payload_too_large', 'request body exceeds 1 MiB');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new VoxgateError('unsupported_media_type', 'send the body as application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new VoxgateError('bad_request', 'content-length does not match the body');
  }
  // Body parser failures that arrive as plain errors (secure-json-parse's prototype-poisoning
  // refusal, a SyntaxError from a custom parser) carry status 400.
  if (e instanceof SyntaxError || (e?.statusCode === 400 && /json|prototype/i.test(e.message ?? ''))) {
    return new VoxgateError('invalid_json', 'request body is not valid JSON');
  }
  if (e?.statusCode === 413) return new VoxgateError('payload_too_large', 'request body is too large');
  if (e?.statusCode === 415) return new VoxgateError('unsupported_media_type', 'unsupported content type');
  if (e?.statusCode === 429) return new VoxgateError('rate_limited', 'rate limit exceeded', [], true);
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return new VoxgateError('bad_request', e.message || 'bad request');
  }
  return new VoxgateError('internal_error', 'internal error');
}

export function errorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const ve = toVoxgateError(err);
  if (ve.status >= 500 && !(err instanceof VoxgateError)) {
    // The message stays generic for the client; the log keeps the real cause.
    req.log.error({ err, method: req.method, url: req.url }, 'unhandled error');
  }
  if (reply.sent || reply.raw.headersSent) return;
  if (ve instanceof ServiceUnavailableError) {
    req.log.warn({ err: ve.cause, service: ve.service, method: req.method, url: req.url }, 'backing service unreachable; answered 503');
    // 1 s: outages we ride out are seconds long; a client retrying sooner only adds load.
    void reply.header('retry-after', '1');
  }
  void reply.code(ve.status).type('application/json; charset=utf-8').send(ve.toBody());
}

/**
 * Errors the router raises before any route or hook runs (Fastify `frameworkErrors`): a URL
 * that does not decode, a path parameter over the router's length cap. No id of ours is that
 * long, so the latter is simply "not found".
 */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const ve =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new VoxgateError('not_found', 'no such object: a path parameter is too long')
      : err.code === 'FST_ERR_BAD_URL'
        ? new VoxgateError('bad_request', 'the URL is malformed')
        : toVoxgateError(err);
  void reply.code(ve.status).type('application/json; charset=utf-8').send(ve.toBody());
  void req;
}

const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  416: 'range_not_satisfiable',
  422: 'validation_failed',
  429: 'rate_limited',
  500: 'internal_error',
  502: 'provider_error',
  503: 'unavailable',
};

/**
 * Safety net (root `onSend`): an error status sent with no body — a plugin's bare
 * `reply.code(404).send()`, e.g. @fastify/websocket answering a plain GET on a WebSocket
 * path — still leaves with the error body of API.md.
 */
export const emptyErrorBody: onSendAsyncHookHandler<unknown> = async function emptyErrorBody(req, reply, payload) {
  const status = reply.statusCode;
  if (status < 400 || req.method === 'HEAD') return payload;
  if (payload !== undefined && payload !== null && payload !== '') return payload;
  const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'bad_request');
  const path = req.url.split('?')[0]!;
  const wsOnly = status === 404 && req.routeOptions.url !== undefined && !req.headers.upgrade;
  const message = wsOnly ? `${path} only accepts WebSocket upgrades` : `${req.method} ${path} failed with status ${status}`;
  void reply.type('application/json; charset=utf-8');
  return JSON.stringify({ error: { code, message, details: [] } });
};
