/**
 * The one tool layer both engines use: built-ins (`end_call`, `transfer_call`) and the
 * agent's webhook tools, with `{{env.NAME}}` secrets filled at call time.
 */
import type { ToolSpec } from '../providers/llm/types.js';

export interface ToolResult {
  /** false: the tool failed (timeout, HTTP error, bad arguments); `output` says why, for the LLM. */
  ok: boolean;
  /** Text handed back to the model (JSON text or plain text). */
  output: string;
  /** Set by built-ins that end the call once the current reply has been spoken. */
  endsCall?: boolean;
}

export interface ToolRunner {
  /** Tool definitions to offer the model, built-ins first. */
  readonly specs: ToolSpec[];
  /** Runs a tool by name with the model's raw JSON arguments. Never throws; aborts on `signal`. */
  run(name: string, argumentsJson: string, signal: AbortSignal): Promise<ToolResult>;
}

/** What the tool layer needs of the call; the session supplies it. */
export interface ToolDeps {
  callId: string;
  agent: import('../store/types.js').Agent;
  channel: 'phone' | 'web';
  store: import('../store/types.js').Store;
  /** Key for `decryptSecret` of the agent's env vars (`{{env.NAME}}`). */
  envVarKey: Buffer;
  /** ALLOW_PRIVATE_URLS: webhook URLs may resolve to private addresses (tests, self-hosting). */
  allowPrivateUrls: boolean;
  /** CALENDLY_BASE_URL, for the Calendly preset's tools (default https://api.calendly.com). */
  calendlyBaseUrl?: string;
  log: import('../logger.js').Logger;
  end(reason: string): Promise<void>;
  transfer(toNumber: string): Promise<void>;
}

export type ToolRunnerFactory = (deps: ToolDeps) => Promise<ToolRunner>;
