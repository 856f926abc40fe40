/**
 * The last line: a rejection nobody awaited or an exception thrown from a timer or an event
 * handler is logged and counted (`voxgate_process_errors_total`) instead of ending the process.
 * Node's default for both is to exit, which drops every live call on the node for what is
 * usually one failed background write (issue 15: a 1.5 s PostgreSQL blip killed every node).
 *
 * Why carrying on is the safer choice here: the state a voxgate node holds in memory is its
 * live calls, and each of them is independent; the store and the bus are the source of truth.
 * An escaped error is a bug to fix (it is logged at `error` with its stack), not a reason to
 * hang up on every caller. Connection failures of the backing services are expected faults and
 * are logged as warnings.
 */
import type { Counter } from 'prom-client';
import type { Logger } from '../logger.js';
import { isConnectionError } from './availability.js';

export interface ProcessGuardOptions {
  log: Pick<Logger, 'warn' | 'error'>;
  errors?: Counter<'kind'>;
  /** The process to guard (tests pass an EventEmitter stand-in). */
  target?: Pick<NodeJS.Process, 'on' | 'off'>;
}

/** Installs the handlers; returns a function that removes them. */
export function installProcessGuard(opts: ProcessGuardOptions): () => void {
  const target = opts.target ?? process;
  const report = (kind: 'unhandled_rejection' | 'uncaught_exception', err: unknown): void => {
    opts.errors?.inc({ kind });
    if (isConnectionError(err)) opts.log.warn({ err, kind }, 'backing service failure escaped its caller; the node carries on');
    else opts.log.error({ err, kind }, 'unhandled error caught at process level; the node carries on');
  };
  const onRejection = (reason: unknown): void => report('unhandled_rejection', reason);
  const onException = (err: Error): void => report('uncaught_exception', err);
  target.on('unhandledRejection', onRejection);
  target.on('uncaughtException', onException);
  return () => {
    target.off('unhandledRejection', onRejection);
    target.off('uncaughtException', onException);
  };
}
