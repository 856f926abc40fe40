/**
 * The process-wide context every route and session receives. It lives in its own module so
 * that routes, sessions and engines can import its type without importing `app.ts`, which
 * imports them (that was a 39-file import circle).
 */
import type { Config } from './config.js';
import type { Store } from './store/types.js';
import type { EventBus } from './bus/types.js';
import type { Metrics } from './metrics/index.js';
import type { Logger } from './logger.js';
import type { CallRegistry } from './session/call-registry.js';
import type { TwilioRest } from './transport/twilio/rest-client.js';
import type { KnowledgeSearch } from './knowledge/index.js';
import type { Secrets } from './secrets.js';
import type { LoadGuard } from './faults/load-guard.js';

/** Everything a route or a session needs from the process, handed down explicitly. */
export interface AppContext {
  config: Config;
  store: Store;
  bus: EventBus;
  metrics: Metrics;
  log: Logger;
  secrets: Secrets;
  /** Twilio REST (place, end, redirect calls); null without credentials. */
  twilio: TwilioRest | null;
  knowledge: KnowledgeSearch;
  /** The calls whose media socket lives on this node. */
  calls: CallRegistry;
  now: () => Date;
  /** True once SIGTERM arrived: new calls are refused, live ones run on. */
  draining: boolean;
  /** Event-loop lag watch: while `overloaded`, new calls are refused (faults/load-guard.ts). */
  load: LoadGuard;
}

