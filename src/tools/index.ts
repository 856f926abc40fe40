/**
 * `createToolRunner(deps)`: the call's tools — built-ins first, then the agent's webhook tools —
 * with argument schemas compiled once per runner. Both engines use it through
 * `EngineHost.loadTools()`.
 */
import { decryptAgentEnv } from './agent-env.js';
import type { ToolSpec } from '../providers/llm/types.js';
import type { AgentTool } from '../store/types.js';
import type { ToolDeps, ToolResult, ToolRunner } from './types.js';
import { BUILTIN_TOOL_NAMES, builtinSpecs, runBuiltin } from './builtins.js';
import { createArgsValidator } from './schema.js';
import { runWebhook } from './webhook.js';
import { calendlyPresetOf, DEFAULT_CALENDLY_BASE_URL, runCalendly, type CalendlyPreset } from './calendly.js';
import type { WebhookFetch } from './http.js';

export type * from './types.js';
export { END_CALL, TRANSFER_CALL, BUILTIN_TOOL_NAMES, E164_PATTERN } from './builtins.js';
export { DEFAULT_TOOL_TIMEOUT_MS } from './webhook.js';
export {
  CALENDLY_AVAILABILITY,
  CALENDLY_BOOK,
  CALENDLY_PRESET,
  CALENDLY_TOOL_NAMES,
  DEFAULT_CALENDLY_TIMEZONE,
  PRESET_HEADER,
  TIMEZONE_HEADER,
  calendlyPresetOf,
  calendlyToolRows,
  eventTypeUuid,
  type CalendlyPreset,
} from './calendly.js';
export { isValidTimeZone } from './calendly-time.js';
export { decryptAgentEnv } from './agent-env.js';

export async function createToolRunner(deps: ToolDeps, options: { fetch?: WebhookFetch } = {}): Promise<ToolRunner> {
  const validator = createArgsValidator();
  const specs: ToolSpec[] = [];
  for (const spec of builtinSpecs(deps)) {
    validator.add(spec.name, spec.parameters);
    specs.push(spec);
  }
  const builtins = new Set(specs.map((s) => s.name));

  const webhooks = new Map<string, AgentTool>();
  /** Tools of a preset (Calendly): run by their own executor, not posted to `url`. */
  const presets = new Map<string, CalendlyPreset>();
  for (const tool of await deps.store.listTools(deps.agent.id)) {
    // A webhook may not shadow a built-in name: the model would not know which one it calls.
    if (BUILTIN_TOOL_NAMES.includes(tool.name) || webhooks.has(tool.name)) continue;
    try {
      validator.add(tool.name, tool.parameters);
    } catch (err) {
      deps.log.warn({ tool: tool.name, err: (err as Error).message }, 'tool schema does not compile; tool not offered');
      continue;
    }
    webhooks.set(tool.name, tool);
    const preset = calendlyPresetOf(tool);
    if (preset) presets.set(tool.name, preset);
    specs.push({ name: tool.name, description: tool.description, parameters: tool.parameters });
  }

  // Env vars are decrypted lazily, once, and only if a webhook tool actually runs.
  let env: Promise<Record<string, string>> | null = null;
  const loadEnv = (): Promise<Record<string, string>> => {
    env ??= decryptAgentEnv(deps.store, deps.envVarKey, deps.agent.id, deps.log);
    return env;
  };

  return {
    specs,
    async run(name: string, argumentsJson: string, signal: AbortSignal): Promise<ToolResult> {
      try {
        if (!builtins.has(name) && !webhooks.has(name)) {
          return { ok: false, output: `unknown tool ${name}; available: ${specs.map((s) => s.name).join(', ') || 'none'}` };
        }
        const checked = validator.check(name, argumentsJson);
        if (!checked.ok) return { ok: false, output: checked.message };
        if (builtins.has(name)) return await runBuiltin(name, checked.args, deps);
        const preset = presets.get(name);
        if (preset) {
          const baseUrl = deps.calendlyBaseUrl ?? DEFAULT_CALENDLY_BASE_URL;
          return await runCalendly({ tool: name, preset, args: checked.args, env: await loadEnv(), baseUrl, signal, log: deps.log });
        }
        return await runWebhook({
          tool: webhooks.get(name)!,
          args: checked.args,
          callId: deps.callId,
          agentId: deps.agent.id,
          env: await loadEnv(),
          allowPrivateUrls: deps.allowPrivateUrls,
          signal,
          log: deps.log,
          fetch: options.fetch,
        });
      } catch (err) {
        // Never throws (ToolRunner contract): anything unexpected is a tool error for the model.
        deps.log.error({ tool: name, err: (err as Error).message }, 'tool runner failed');
        return { ok: false, output: `tool ${name} failed: internal error` };
      }
    },
  };
}
