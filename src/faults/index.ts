/**
 * Surviving faults of the backing services and overload: telling connection failures apart
 * (availability.ts), supervised background loops (supervised-loop.ts), the event-loop-lag
 * overload guard (load-guard.ts) and the process-level safety net (process-guard.ts).
 */
export { ServiceUnavailableError, asUnavailable, isConnectionError, serviceOf, type BackingService } from './availability.js';
export { SupervisedLoop, DEFAULT_MAX_BACKOFF_MS, type SupervisedLoopOptions } from './supervised-loop.js';
export { installProcessGuard, type ProcessGuardOptions } from './process-guard.js';
export { LoadGuard, type LoadGuardOptions } from './load-guard.js';
