/**
 * `GET /v1/calls/:id/recording`: the stereo WAV (left caller, right agent) with single-range
 * `Range` support (RFC 9110 §14), so players can seek and downloads can resume.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import { VoxgateError } from '../errors.js';
import { recordingPath } from '../session/index.js';
import { assertReadable } from './auth-context.js';
import { ErrorBody, IdParams, errorResponses } from './schemas.js';

type IdParams = Static<typeof IdParams>;

export type ByteRange = { start: number; end: number };

/**
 * Parses one `bytes=` range against `size`. Returns the inclusive range, 'unsatisfiable', or
 * null to ignore the header and send everything (malformed or multi-range: RFC 9110 lets a
 * server ignore Range, and one full body beats a multipart one nobody here needs).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return null; // invalid range-spec: ignore
  if (start >= size) return 'unsatisfiable';
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return { start, end };
}

export async function callRecordingRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;

  app.get<{ Params: IdParams }>(
    '/v1/calls/:id/recording',
    {
      config: { scope: 'calls:read' },
      schema: {
        tags: ['calls'],
        summary: 'The call recording (audio/wav, stereo: caller left, agent right); supports Range',
        params: IdParams,
        response: {
          200: Type.String({ format: 'binary', description: 'audio/wav' }),
          206: Type.String({ format: 'binary', description: 'audio/wav, the requested byte range' }),
          404: ErrorBody,
          416: ErrorBody,
          ...errorResponses(),
        },
      },
    },
    async (req, reply) => {
      const call = await ctx.store.getCall(req.params.id);
      assertReadable(req.auth, call, 'call', req.params.id);
      const file = recordingPath(ctx.config.dataDir, call.id);
      const size = call.record ? await fileSize(file) : null;
      if (size === null) throw new VoxgateError('recording_not_found', `call ${call.id} has no recording`);

      reply.header('accept-ranges', 'bytes').type('audio/wav');
      const range = parseRange(req.headers.range, size);
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${size}`);
        throw new VoxgateError('range_not_satisfiable', `range ${req.headers.range} is outside the ${size}-byte recording`, [
          { field: 'Range', message: `valid bytes are 0-${size - 1}` },
        ]);
      }
      if (range === null) {
        reply.header('content-length', size);
        return reply.code(200).send(createReadStream(file));
      }
      reply.header('content-range', `bytes ${range.start}-${range.end}/${size}`);
      reply.header('content-length', range.end - range.start + 1);
      return reply.code(206).send(createReadStream(file, { start: range.start, end: range.end }));
    },
  );
}

async function fileSize(file: string): Promise<number | null> {
  try {
    const s = await stat(file);
    return s.isFile() ? s.size : null;
  } catch {
    return null;
  }
}
