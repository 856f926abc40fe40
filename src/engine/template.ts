/**
 * `{{var}}` placeholders: filled from the call's variables, then the agent's defaults; unknown
 * placeholders stay exactly as written (API.md, Agents). `{{env.NAME}}` is the tools' business
 * and is left alone here.
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

export function fillTemplate(text: string, ...sources: Array<Record<string, string> | null | undefined>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    if (name.startsWith('env.')) return whole;
    for (const source of sources) {
      if (source && Object.prototype.hasOwnProperty.call(source, name)) return String(source[name]);
    }
    return whole;
  });
}

/** Call variables take precedence over agent defaults. */
export function mergeVariables(
  callVariables: Record<string, string> | null | undefined,
  agentDefaults: Record<string, string> | null | undefined,
): Record<string, string> {
  return { ...(agentDefaults ?? {}), ...(callVariables ?? {}) };
}

/**
 * Applies an agent's pronunciation map to text on its way to TTS (never to the transcript).
 * Whole words only, case-insensitive; longer keys first so "New York City" beats "New York".
 */
export function applyPronunciations(text: string, map: Record<string, string> | null | undefined): string {
  if (!map) return text;
  const keys = Object.keys(map).filter((k) => k.length > 0).sort((a, b) => b.length - a.length);
  if (keys.length === 0) return text;
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(${keys.map(escapeRegExp).join('|')})(?![\\p{L}\\p{N}])`, 'giu');
  const lower = new Map(keys.map((k) => [k.toLowerCase(), map[k]!]));
  return text.replace(pattern, (word) => lower.get(word.toLowerCase()) ?? word);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
