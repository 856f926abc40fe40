/**
 * Twilio's HTTP webhooks: `POST /twilio/voice` (inbound calls, PROTOCOLS.md §2.1) and
 * `POST /twilio/status` (status callbacks, §2.4). No API key: every request must carry a valid
 * `X-Twilio-Signature` (§2.3), checked before the handler runs. Twilio posts form bodies, so
 * the form parser is registered inside this plugin only; the JSON API never accepts them.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import type { AppContext } from '../../context.js';
import type { CallStatus } from '../../store/types.js';
import { VoxgateError } from '../../errors.js';
import { acceptInboundCall } from '../../calls/inbound.js';
import { applyCarrierStatus } from '../../calls/carrier-status.js';
import { streamTwimlFor } from '../../calls/stream-twiml.js';
import { twilioSignatureHook } from './signature.js';
import { emptyTwiml, rejectBusyTwiml, sayHangupTwiml } from './twiml.js';
import { ServiceUnavailableError } from '../../faults/index.js';

/** Twilio's `CallStatus` values (§2.2) → ours. `initiated` is dialing: still queued for us. */
const CALL_STATUS: Readonly<Record<string, CallStatus>> = {
  queued: 'queued',
  initiated: 'queued',
  ringing: 'ringing',
  'in-progress': 'in-progress',
  completed: 'completed',
  busy: 'busy',
  'no-answer': 'no-answer',
  failed: 'failed',
  canceled: 'canceled',
};

type Form = Record<string, string | string[] | undefined>;

export async function twilioWebhooksPlugin(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  await app.register(formbody);
  app.addHook('preValidation', twilioSignatureHook(ctx.config.twilio, ctx.config.publicUrl));

  app.post('/twilio/voice', { config: { scope: 'public' } }, async (req, reply) => {
    const form = formOf(req.body);
    const callSid = required(form, 'CallSid');
    reply.type('text/xml');
    // Overloaded or without its store, the node refuses the call with a busy signal rather than
    // answering it badly (faults/load-guard.ts; API.md, Conventions: "Backing services").
    if (ctx.load.overloaded) return refuseBusy(ctx, req.log, callSid, 'overloaded');
    let decision: Awaited<ReturnType<typeof acceptInboundCall>>;
    try {
      decision = await acceptInboundCall(ctx, { callSid, from: one(form.From) ?? '', to: one(form.To) ?? '' });
    } catch (err) {
      if (err instanceof ServiceUnavailableError) return refuseBusy(ctx, req.log, callSid, `${err.service}_unavailable`);
      throw err;
    }
    if (decision.kind === 'connect') {
      req.log.info({ callId: decision.call.id, callSid }, 'inbound call answered');
      return streamTwimlFor(ctx, decision.call.id);
    }
    req.log.info({ callSid, reason: decision.reason, callId: decision.call?.id }, 'inbound call refused');
    return sayHangupTwiml(decision.say);
  });

  app.post('/twilio/status', { config: { scope: 'public' } }, async (req, reply) => {
    const form = formOf(req.body);
    const callSid = required(form, 'CallSid');
    const raw = one(form.CallStatus) ?? '';
    const status = CALL_STATUS[raw];
    const query = req.query as Record<string, string | undefined>;
    if (status) {
      const outcome = await applyCarrierStatus(ctx, {
        callId: query.callId,
        callSid,
        status,
        at: parseTimestamp(one(form.Timestamp)),
        durationSeconds: parseSeconds(one(form.CallDuration)),
      });
      if (outcome === 'unknown_call') req.log.warn({ callSid, status: raw }, 'status callback for an unknown call');
    } else {
      // Twilio adds values over time; an unknown one must not fail the callback.
      req.log.warn({ callSid, status: raw }, 'unknown CallStatus ignored');
    }
    // Twilio ignores the body (§2.4); empty TwiML keeps any TwiML-expecting path happy.
    return reply.type('text/xml').send(emptyTwiml());
  });
}

function refuseBusy(ctx: AppContext, log: FastifyBaseLogger, callSid: string, reason: string): string {
  ctx.metrics.faults.callsRefused.inc({ channel: 'phone', reason });
  log.warn({ callSid, reason, lagMs: Math.round(ctx.load.lagMs) }, 'inbound call refused busy');
  return rejectBusyTwiml();
}

function formOf(body: unknown): Form {
  return typeof body === 'object' && body !== null ? (body as Form) : {};
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function required(form: Form, name: string): string {
  const v = one(form[name]);
  if (!v) throw new VoxgateError('bad_request', `${name} is required`, [{ field: name, message: 'missing' }]);
  return v;
}

/** `Timestamp` is RFC 2822 (§2.4); anything unparsable means "now". */
function parseTimestamp(v: string | undefined): Date | undefined {
  if (!v) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

function parseSeconds(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}
