/**
 * The JSON of an agent tool in the control API (webhook tools and preset tools alike), shared
 * by the tools routes and the Calendly preset routes.
 */
import { Type } from '@sinclair/typebox';
import type { AgentTool } from '../store/types.js';
import { CALENDLY_PRESET, PRESET_HEADER, TIMEZONE_HEADER, calendlyPresetOf } from '../tools/index.js';
import { AnyObject, Nullable } from './schemas.js';

export const ToolJson = Type.Object({
  name: Type.String(),
  description: Type.String(),
  parameters: AnyObject,
  url: Type.String(),
  method: Type.String(),
  headers: Nullable(Type.Record(Type.String(), Type.String())),
  timeoutMs: Type.Integer(),
  /** The preset the tool came with (`"calendly"`), or null for a webhook tool. */
  preset: Nullable(Type.String()),
  createdAt: Type.String(),
});

/** Header names that hold a preset's settings in its tool rows: never a webhook's. */
const INTERNAL_HEADERS = new Set([PRESET_HEADER, TIMEZONE_HEADER]);

export const toolToJson = (t: AgentTool) => {
  const preset = calendlyPresetOf(t) ? CALENDLY_PRESET : null;
  const headers = t.headers && preset ? Object.fromEntries(Object.entries(t.headers).filter(([k]) => !INTERNAL_HEADERS.has(k))) : t.headers;
  return {
    name: t.name,
    description: t.description,
    parameters: t.parameters,
    url: t.url,
    method: t.method,
    headers,
    timeoutMs: t.timeoutMs,
    preset,
    createdAt: t.createdAt,
  };
};
