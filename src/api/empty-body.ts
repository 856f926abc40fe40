/**
 * API.md: "A POST or DELETE that takes no body accepts an empty body whatever its
 * `Content-Type`." Clients (and generated SDKs) often send `Content-Type: application/json` with
 * no body on `POST /v1/calls/:id/end` or `DELETE /v1/keys/:id`; Fastify's JSON parser refuses
 * that with 400, so a revoke the client believes it sent never happened.
 *
 * The JSON parser here treats an empty (or all-whitespace) body as no body, and otherwise is
 * Fastify's own (prototype-poisoning refusal included). A route that does take a body still
 * answers an empty one with 400 `invalid_json`, as before.
 */
import type { FastifyInstance, FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import { VoxgateError } from '../errors.js';

export function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req: FastifyRequest, body: string | Buffer, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      (req as FastifyRequest & { emptyJsonBody?: boolean }).emptyJsonBody = true;
      done(null, undefined);
      return;
    }
    parse(req, text, done);
  });
}

/** preValidation: an empty JSON body is only acceptable on a route that takes no body. */
export const emptyBodyGuard: preValidationAsyncHookHandler = async (req) => {
  if (!(req as FastifyRequest & { emptyJsonBody?: boolean }).emptyJsonBody) return;
  if (req.routeOptions.schema?.body) throw new VoxgateError('invalid_json', 'request body is empty; this route takes a JSON body');
};
