/**
 * The call's brain (`agent.llm`): what a conversation server learns of the call and how its
 * failures reach the transcript. A call created with its own `systemPrompt` keeps the built-in
 * LLM whatever the agent's `llm` (API.md).
 */
import { createAgentLlm, type BrainContext } from '../providers/llm/index.js';
import type { LlmClient } from '../providers/llm/types.js';
import type { AgentLlm } from '../store/types.js';
import type { EngineHost } from './types.js';

/** The brain this call uses; null: the built-in LLM. */
export function callBrain(host: Pick<EngineHost, 'agent' | 'call'>): AgentLlm | null {
  if (host.call.overrides.systemPrompt) return null;
  const llm = host.agent.llm ?? null;
  return llm && llm.provider !== 'openai' ? llm : null;
}

export function createCallLlm(host: EngineHost): LlmClient {
  return createAgentLlm(callBrain(host), host.config.providers.openai, brainContext(host));
}

function brainContext(host: EngineHost): BrainContext & { envVar(name: string): Promise<string | undefined> } {
  const { call, agent } = host;
  const envVar = async (name: string): Promise<string | undefined> => (await host.agentEnv())[name];
  const llm = agent.llm;
  let unsignedNoted = false;
  const secretEnv = llm && (llm.provider === 'webhook' || llm.provider === 'websocket') ? llm.secretEnv : undefined;
  return {
    callId: call.id,
    agentId: agent.id,
    direction: call.direction,
    fromNumber: call.fromNumber,
    toNumber: call.toNumber,
    variables: host.variables,
    metadata: call.metadata ?? {},
    call: () => publicCall(host.call),
    secret: async () => {
      if (!secretEnv) return undefined;
      const value = await envVar(secretEnv);
      // Names only: the value is a secret. A careful server refuses unsigned requests.
      if (value === undefined && !unsignedNoted) {
        unsignedNoted = true;
        host.note(`conversation server: env var ${secretEnv} (secretEnv) is not set; requests go unsigned`);
      }
      return value;
    },
    envVar,
    allowPrivateUrls: host.config.allowPrivateUrls,
    log: host.log,
    system: (text) => {
      const now = host.nowMs();
      host.note(text);
      void host.transcript({ role: 'system', text, startMs: now, endMs: now });
    },
    onFailure: 'apologise',
  };
}

/** The call as API.md shows it (no internal fields: owner, overrides, notes). */
function publicCall(c: EngineHost['call']): Record<string, unknown> {
  return {
    id: c.id,
    agentId: c.agentId,
    direction: c.direction,
    status: c.status,
    fromNumber: c.fromNumber,
    toNumber: c.toNumber,
    phoneNumberId: c.phoneNumberId,
    twilioCallSid: c.twilioCallSid,
    startedAt: c.startedAt,
    answeredAt: c.answeredAt,
    variables: c.variables,
    metadata: c.metadata,
    createdAt: c.createdAt,
  };
}
