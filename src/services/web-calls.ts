/**
 * Web calls (API.md, Calls; `POST /v1/web-calls`, MCP `create_web_call`): a call from a
 * browser. Creates the call record (`direction: "web"`, `queued`), announces its session at once (provider sockets warm while
 * the page loads and asks for the microphone), and mints the single-use, 5-minute token that
 * admits one browser to `GET /web/media`. The page at `pageUrl` does the rest.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import type { Agent, Call } from '../store/types.js';
import { newId } from '../ids.js';
import { VoxgateError, validationFailed } from '../errors.js';
import { finishCall } from '../calls/lifecycle.js';
import { WEB_TOKEN_TTL_MS, createWebToken, webCallUrls } from '../transport/web/index.js';
import { assertWritable, type AuthContext } from '../api/auth-context.js';
import { AnyObject, StringMap } from '../api/schemas.js';
import { providerWarnings } from '../api/provider-warnings.js';

export const CreateWebCallBody = Type.Object(
  {
    agentId: Type.String({ minLength: 1, maxLength: 100 }),
    variables: Type.Optional(StringMap),
    metadata: Type.Optional(AnyObject),
  },
  { additionalProperties: false },
);
export type CreateWebCallBody = Static<typeof CreateWebCallBody>;

export const WebCallSchema = Type.Object({
  callId: Type.String(),
  token: Type.String(),
  websocketUrl: Type.String(),
  pageUrl: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
  /** Issue 19: missing provider credentials, said now rather than as a failed call later. */
  warnings: Type.Array(Type.String()),
});

export async function createWebCall(ctx: AppContext, auth: AuthContext, body: CreateWebCallBody) {
  const agent = await ctx.store.getAgent(body.agentId);
  // Same rule as phone calls: your own agent, or any with `admin` (others are 404, never 403).
  assertWritable(auth, agent, 'agent', body.agentId);
  checkAgentTakesWebCalls(agent);
  if (ctx.draining) throw new VoxgateError('unavailable', 'this node is shutting down and takes no new calls', [], true);
  if (ctx.load.overloaded) {
    ctx.metrics.faults.callsRefused.inc({ channel: 'web', reason: 'overloaded' });
    throw new VoxgateError('unavailable', 'this node is overloaded and takes no new calls right now; retry shortly', [{ field: 'eventLoopLagMs', message: String(Math.round(ctx.load.lagMs)) }], true);
  }

  const now = ctx.now();
  const call = await ctx.store.createCall({
    id: newId('call'),
    owner: auth.owner,
    agentId: agent.id,
    direction: 'web',
    status: 'queued',
    fromNumber: null,
    toNumber: null,
    phoneNumberId: null,
    twilioCallSid: null,
    startedAt: null,
    answeredAt: null,
    endedAt: null,
    durationSeconds: null,
    endReason: null,
    variables: body.variables ?? {},
    metadata: body.metadata ?? {},
    overrides: {},
    record: true,
    recordingAvailable: false,
    latency: { turns: 0, p50Ms: null, p95Ms: null, recent: [] },
    notes: [],
    campaignId: null,
    contactId: null,
  });
  announce(ctx, call, agent);

  const expiresAt = new Date(now.getTime() + WEB_TOKEN_TTL_MS);
  const token = createWebToken(ctx.secrets.tokenKey, { callId: call.id, expiresAt });
  // The token's expiry is whole seconds; report the one it actually carries.
  const carried = new Date(Math.floor(expiresAt.getTime() / 1000) * 1000);
  return { callId: call.id, token, ...webCallUrls(ctx.config.publicUrl, token), expiresAt: carried.toISOString(), warnings: providerWarnings(agent, ctx.config) };
}

/** A browser that connects in the token's last second still finds its session. */
const MEDIA_CONNECT_GRACE_MS = 30_000;

/**
 * Provider sockets open now, not when the browser connects. A failure here leaves the call
 * `queued`: the media route announces again when the browser arrives.
 */
function announce(ctx: AppContext, call: Call, agent: Agent): void {
  try {
    ctx.calls.announce({ call, agent, channel: 'web', mediaConnectTimeoutMs: WEB_TOKEN_TTL_MS + MEDIA_CONNECT_GRACE_MS });
  } catch (err) {
    ctx.log.error({ err, callId: call.id }, 'announcing the web call session failed');
    void finishCall(ctx, call, 'failed', { endReason: 'error:session' }).catch(() => {});
    throw new VoxgateError('unavailable', 'the call session could not be started', [], true);
  }
}

function checkAgentTakesWebCalls(agent: Agent): void {
  if (agent.architecture === 'text') {
    throw validationFailed('a text agent cannot take calls', [{ field: 'agentId', message: 'agent architecture is "text"' }]);
  }
  if (agent.voiceMode !== 'web' && agent.voiceMode !== 'web_and_phone') {
    throw validationFailed('the agent does not take web calls', [
      { field: 'agentId', message: `agent voiceMode is "${agent.voiceMode}"; web calls need "web" or "web_and_phone"` },
    ]);
  }
}
