/**
 * Child process for the crash test: a whole gateway holding one live call, streamed to by an
 * in-process carrier. Prints `READY <dataDir> <callId>` once recording is under way, then keeps
 * going until the parent SIGKILLs it.
 */
import { createTestApp } from '../helpers/test-app.js';
import { TwilioCarrier } from '../fakes/twilio-carrier.js';
import { createPhoneCall, toneEngineFactory, toneUlaw } from './call-fixtures.js';

const t = await createTestApp();
t.ctx.calls.configure({ engineFactory: toneEngineFactory(5000, new Map()) });
const { call, token } = await createPhoneCall(t.ctx);
const carrier = await TwilioCarrier.connect({ url: `${t.wsUrl}/twilio/media`, token });
carrier.say(toneUlaw(60_000, 440));
setTimeout(() => process.stdout.write(`READY ${t.dataDir} ${call.id}\n`), 1500);
setInterval(() => {}, 1000);
