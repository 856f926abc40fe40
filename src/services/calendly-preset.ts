/**
 * The Calendly tool preset of an agent (API.md, "Calendly preset"), as service functions so the
 * HTTP route and other front ends (MCP tools) share one implementation. Both tools are added and
 * removed together: a half preset (availability without booking) never stays behind.
 */
import type { AppContext } from '../context.js';
import type { AgentTool } from '../store/types.js';
import type { AuthContext } from '../api/auth-context.js';
import { assertWritable } from '../api/auth-context.js';
import { notFound, validationFailed, VoxgateError } from '../errors.js';
import {
  CALENDLY_PRESET,
  CALENDLY_TOOL_NAMES,
  DEFAULT_CALENDLY_TIMEZONE,
  calendlyPresetOf,
  calendlyToolRows,
  eventTypeUuid,
  isValidTimeZone,
  type CalendlyPreset,
} from '../tools/index.js';

export interface CalendlyPresetInput {
  eventTypeUri: string;
  tokenEnv: string;
  timezone?: string;
}

export interface CalendlyPresetResult extends CalendlyPreset {
  preset: typeof CALENDLY_PRESET;
  tools: AgentTool[];
}

/** An env var name, as `PUT /v1/agents/:id/env-vars/:name` accepts them (api/env-vars.ts). */
const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,99}$/;

export async function addCalendlyPreset(ctx: AppContext, auth: AuthContext, agentId: string, body: CalendlyPresetInput): Promise<CalendlyPresetResult> {
  const agent = await ctx.store.getAgent(agentId);
  assertWritable(auth, agent, 'agent', agentId);
  const problems = [];
  const eventTypeUri = body.eventTypeUri.trim().replace(/\/+$/, '');
  if (!eventTypeUuid(eventTypeUri)) {
    problems.push({ field: 'eventTypeUri', path: 'body/eventTypeUri', message: 'must be a Calendly event type URI, https://api.calendly.com/event_types/<uuid>' });
  }
  if (!ENV_NAME.test(body.tokenEnv)) {
    problems.push({ field: 'tokenEnv', path: 'body/tokenEnv', message: 'must be an env var name: A–Z, 0–9 and _, not starting with a digit' });
  }
  const timezone = body.timezone ?? DEFAULT_CALENDLY_TIMEZONE;
  if (!isValidTimeZone(timezone)) problems.push({ field: 'timezone', path: 'body/timezone', message: 'must be an IANA time zone, e.g. Europe/Berlin' });
  if (problems.length > 0) throw validationFailed('invalid Calendly preset', problems);

  const existing = await ctx.store.listTools(agent.id);
  const clash = existing.find((t) => CALENDLY_TOOL_NAMES.includes(t.name));
  if (clash) {
    throw new VoxgateError(
      'conflict',
      calendlyPresetOf(clash) ? 'agent already has the Calendly preset; DELETE it first to change it' : `agent already has a tool named ${clash.name}`,
    );
  }
  const preset: CalendlyPreset = { eventTypeUri, tokenEnv: body.tokenEnv, timezone };
  const tools = calendlyToolRows(agent.id, preset, ctx.now().toISOString());
  const written: AgentTool[] = [];
  try {
    for (const tool of tools) {
      await ctx.store.putTool(tool);
      written.push(tool);
    }
  } catch (err) {
    // Both or neither: undo the half that was written.
    for (const tool of written) await ctx.store.deleteTool(agent.id, tool.name).catch(() => false);
    throw err;
  }
  return { preset: CALENDLY_PRESET, ...preset, tools };
}

/**
 * Removes both tools of the preset. Without one, a tool literally named `calendly` is removed
 * instead (`DELETE …/tools/calendly` was its route before the preset existed).
 */
export async function removeCalendlyPreset(ctx: AppContext, auth: AuthContext, agentId: string): Promise<void> {
  const agent = await ctx.store.getAgent(agentId);
  assertWritable(auth, agent, 'agent', agentId);
  const tools = await ctx.store.listTools(agent.id);
  const mine = tools.filter((t) => calendlyPresetOf(t) !== null);
  if (mine.length === 0) {
    if (tools.some((t) => t.name === CALENDLY_PRESET) && (await ctx.store.deleteTool(agent.id, CALENDLY_PRESET))) return;
    throw notFound('Calendly preset of agent', agent.id);
  }
  for (const t of mine) await ctx.store.deleteTool(agent.id, t.name);
}

/** Whether a tool name belongs to the agent's Calendly preset (deleting one deletes both). */
export function isCalendlyPresetTool(tool: AgentTool): boolean {
  return calendlyPresetOf(tool) !== null;
}
