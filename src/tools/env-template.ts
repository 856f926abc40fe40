/**
 * `{{env.NAME}}` in a webhook tool's URL and headers, filled from the agent's decrypted env
 * vars at call time. The filled values are secrets: they exist only in the outgoing request and
 * are scrubbed from anything handed back to the model or written to a log.
 */
const ENV_PLACEHOLDER = /\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export interface EnvFill {
  text: string;
  /** Names referenced but not defined for the agent. */
  missing: string[];
}

export function fillEnv(text: string, env: Record<string, string>, encode?: (v: string) => string): EnvFill {
  const missing: string[] = [];
  const filled = text.replace(ENV_PLACEHOLDER, (whole, name: string) => {
    if (!Object.prototype.hasOwnProperty.call(env, name)) {
      missing.push(name);
      return whole;
    }
    const value = env[name]!;
    return encode ? encode(value) : value;
  });
  return { text: filled, missing };
}

/** Secrets shorter than this are not scrubbed: replacing "1" everywhere would garble output. */
const MIN_SCRUB_LENGTH = 4;

/** Replaces every occurrence of a secret value (raw or URL-encoded) with `[redacted]`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < MIN_SCRUB_LENGTH) continue;
    out = out.split(secret).join('[redacted]');
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join('[redacted]');
  }
  return out;
}
