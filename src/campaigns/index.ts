/**
 * Outbound campaigns: the human approval queue (actions.ts), the dialer (dialer.ts), post-call
 * extraction (extraction.ts), calling windows (schedule.ts) and the reviewer page.
 */
import type { AppContext } from '../context.js';
import { placeOutboundCall } from '../calls/outbound.js';
import { createLlmClient } from '../providers/llm/index.js';
import { Dialer, type DialerOptions } from './dialer.js';
import { extractCallResult } from './extraction.js';

export { approvalsPagePlugin } from './approvals-page.js';
export { Dialer, StoreDialerQueue, type DialerQueue, type DialerOptions } from './dialer.js';
export { requestAction, decide, transitionProblem } from './actions.js';
export { extractCallResult, extractionColumns, extractionSchemaProblem } from './extraction.js';
export { isValidTimezone, parseHhmm, mayDialAt, insideCallingHours } from './schedule.js';

/** The dialer wired to the app: the real outbound path, the configured LLM, the app clock. */
export function createDialer(ctx: AppContext, overrides: Partial<DialerOptions> = {}): Dialer {
  const openai = ctx.config.providers.openai;
  // OpenAI itself needs a key; a self-hosted compatible server (OPENAI_BASE_URL) may not.
  const needsKey = /(^|\.)openai\.com$/i.test(new URL(openai.baseUrl).hostname);
  const llm = openai.apiKey || !needsKey ? createLlmClient(openai) : null;
  return new Dialer({
    store: ctx.store,
    place: (req) => placeOutboundCall(ctx, req),
    extract: (campaign, callId) => extractCallResult({ store: ctx.store, llm }, campaign, callId),
    now: () => ctx.now(),
    log: ctx.log.child({ component: 'dialer' }),
    // Overloaded: the campaign waits (no attempt is spent) until the node has room again.
    mayPlaceCalls: () => !ctx.draining && !ctx.load.overloaded,
    loopErrors: ctx.metrics.faults.loopErrors,
    ...overrides,
  });
}

/** Starts the in-process dialer; returns a function that stops it. */
export function startDialer(ctx: AppContext): () => Promise<void> {
  const dialer = createDialer(ctx);
  dialer.start();
  return () => dialer.stop();
}
