/**
 * Structured logging (pino). One logger per process; sessions get child loggers bound to their
 * call id. Nothing on the per-frame audio path logs.
 */
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'voxgate' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.apiKey', '*.authToken', '*.key'],
      censor: '[redacted]',
    },
  });
}
