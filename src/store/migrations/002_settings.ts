/**
 * Deployment-wide settings that every node of a cluster must agree on, created once by
 * whichever node starts first (e.g. the generated secrets key: nodes that each made their own
 * could not verify each other's stream tokens or decrypt each other's env vars).
 */
import type { Migration } from './index.js';

export const settings: Migration = {
  version: 2,
  name: 'settings',
  sqlite: `
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  created_at TEXT NOT NULL
);`,
  postgres: `
CREATE TABLE settings (
  name text COLLATE "C" PRIMARY KEY,
  value text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);`,
};
