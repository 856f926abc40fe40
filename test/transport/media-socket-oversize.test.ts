/**
 * A message over MEDIA_MAX_MESSAGE_BYTES is the peer's fault: the socket closes with 1009
 * (RFC 6455 "message too big"), the metric counts it, and the log says so as a warning, never
 * as an error with a stack trace. A live call on another socket goes on.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { createPhoneCall, metricValue, toneEngineFactory, waitFor, type ToneEngineProbe } from '../session/call-fixtures.js';
import { TwilioCarrier } from '../fakes/twilio-carrier.js';
import { createWebCall, webAgent } from '../web/web-fixtures.js';

let t: TestApp;
let probes: Map<string, ToneEngineProbe>;

beforeEach(async () => {
  t = await createTestApp({ env: { MEDIA_MAX_MESSAGE_BYTES: '4096' } });
  probes = new Map();
  t.ctx.calls.configure({ engineFactory: toneEngineFactory(0, probes) });
});
afterEach(async () => t.close());

describe('an oversized media message', () => {
  for (const route of ['/twilio/media', '/web/media']) {
    it(`closes ${route} with 1009, counts it and warns`, async () => {
      const error = vi.spyOn(t.ctx.log, 'error');
      const warn = vi.spyOn(t.ctx.log, 'warn');
      const { call, token } = await createPhoneCall(t.ctx);
      const live = await TwilioCarrier.connect({ url: `${t.wsUrl}/twilio/media`, token });
      await waitFor(() => probes.get(call.id)?.started === true, 3000, 'attached');

      let path = route;
      if (route === '/web/media') {
        const agent = await webAgent(t);
        const url = new URL((await createWebCall(t, agent.id)).websocketUrl);
        path = url.pathname + url.search;
      }
      const ws = new WebSocket(`${t.wsUrl}${path}`);
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      ws.send('x'.repeat(8192));
      expect(await closed).toBe(1009);
      const transport = route.startsWith('/twilio') ? 'twilio' : 'web';
      await waitFor(async () => (await metricValue(t.ctx, 'voxgate_media_malformed_messages_total', { transport, reason: 'oversized' })) === 1, 3000, 'counted');
      expect(error).not.toHaveBeenCalled();
      expect(warn.mock.calls.some(([, msg]) => msg === 'media socket closed on bad input')).toBe(true);
      // The other call is untouched.
      expect(t.ctx.calls.get(call.id)?.live).toBe(true);
      live.terminate();
    });
  }
});
