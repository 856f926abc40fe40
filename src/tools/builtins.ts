/**
 * Built-in tools every voice agent has unless listed in `agent.disabledTools` (API.md, Tools).
 * `end_call` only flags the result: hanging up is the engine's job, because only the engine knows
 * when the goodbye it is speaking has finished playing.
 */
import type { ToolSpec } from '../providers/llm/types.js';
import type { ToolDeps, ToolResult } from './types.js';

export const END_CALL = 'end_call';
export const TRANSFER_CALL = 'transfer_call';
export const BUILTIN_TOOL_NAMES: readonly string[] = [END_CALL, TRANSFER_CALL];

/** E.164: '+', a non-zero country digit, at most 15 digits in all (ITU-T E.164). */
export { E164_PATTERN } from '../e164.js';
import { E164_PATTERN } from '../e164.js';

const END_CALL_SPEC: ToolSpec = {
  name: END_CALL,
  description:
    'End the phone call. Use it when the conversation is finished or the caller asks to hang up. Say a short goodbye in the same reply; the call ends once it has been spoken.',
  parameters: {
    type: 'object',
    properties: { reason: { type: 'string', description: 'Optional: why the call is ending.' } },
  },
};

const TRANSFER_CALL_SPEC: ToolSpec = {
  name: TRANSFER_CALL,
  description:
    'Transfer the caller to another phone number, e.g. a human colleague. Tell the caller you are transferring them before calling this.',
  parameters: {
    type: 'object',
    properties: {
      toNumber: { type: 'string', pattern: E164_PATTERN, description: 'Destination in E.164 format, e.g. +14155550100.' },
    },
    required: ['toNumber'],
    additionalProperties: false,
  },
};

/** Built-in specs available for this call: `transfer_call` needs a phone leg to transfer. */
export function builtinSpecs(deps: Pick<ToolDeps, 'agent' | 'channel'>): ToolSpec[] {
  const disabled = new Set(deps.agent.disabledTools ?? []);
  const specs: ToolSpec[] = [];
  if (!disabled.has(END_CALL)) specs.push(END_CALL_SPEC);
  if (!disabled.has(TRANSFER_CALL) && deps.channel === 'phone') specs.push(TRANSFER_CALL_SPEC);
  return specs;
}

/** Runs a built-in whose arguments have already been validated against its spec. */
export async function runBuiltin(
  name: string,
  args: Record<string, unknown>,
  deps: Pick<ToolDeps, 'transfer' | 'log'>,
): Promise<ToolResult> {
  if (name === END_CALL) {
    return { ok: true, output: 'The call will end after your goodbye has been spoken.', endsCall: true };
  }
  // TRANSFER_CALL
  const toNumber = String(args['toNumber']);
  try {
    await deps.transfer(toNumber);
    return { ok: true, output: `Transferring the call to ${toNumber}.` };
  } catch (err) {
    deps.log.warn({ err: (err as Error).message, tool: TRANSFER_CALL }, 'transfer failed');
    return { ok: false, output: 'The transfer failed; tell the caller and offer to help otherwise.' };
  }
}
