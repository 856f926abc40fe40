/**
 * PLACEHOLDER until `src/services/voices.ts` (GET /v1/voices, another branch) is merged. The
 * lead replaces this whole file with the one line
 *   export { listVoices } from '../services/voices.js';
 * and the MCP tool `list_voices` (tools.ts) then serves the same result as the REST route.
 */
import type { AppContext } from '../context.js';
import { VoxgateError } from '../errors.js';

export async function listVoices(_ctx: AppContext, _query: { provider?: string }): Promise<Record<string, unknown>> {
  throw new VoxgateError('unavailable', 'listing voices is not available in this build of the gateway');
}
