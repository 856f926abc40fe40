/**
 * Call events get the writer's own id for each write (`write_id`, unique per call), so a write
 * retried after its reply was lost with the connection (the server had committed it) finds the
 * event it already made instead of adding a second transcript line (session/write-queue.ts).
 * Null for writes that are never retried; the index ignores those.
 */
import type { Migration } from './index.js';

export const callEventWriteId: Migration = {
  version: 5,
  name: 'call_event_write_id',
  sqlite:
    'ALTER TABLE call_events ADD COLUMN write_id TEXT;\n' +
    'CREATE UNIQUE INDEX call_events_write_id ON call_events (call_id, write_id) WHERE write_id IS NOT NULL;',
  postgres:
    'ALTER TABLE call_events ADD COLUMN write_id text;\n' +
    'CREATE UNIQUE INDEX call_events_write_id ON call_events (call_id, write_id) WHERE write_id IS NOT NULL;',
};
