/**
 * `voxgate/client`: a typed client for the `/v1` control API. The request and response types
 * are generated from the gateway's OpenAPI document (schema.ts); `openapi-fetch` does the HTTP
 * with them, so a wrong path, a missing required field or a misspelt property is a compile
 * error, and every call returns `{data, error, response}` with `error` typed as the error body.
 *
 *   const vg = createVoxgateClient({ baseUrl: 'https://gw.example.com', apiKey: process.env.VOXGATE_KEY! });
 *   const { data: agent, error } = await vg.POST('/v1/agents', { body: { name: 'Desk', architecture: 'realtime', systemPrompt: '…', realtimeProvider: 'openai' } });
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, paths, operations } from './schema.js';

export type { components, paths, operations };
type Schemas = components['schemas'];
export type Agent = Schemas['Agent'];
export type Call = Schemas['Call'];
export type Campaign = Schemas['Campaign'];
export type Contact = Schemas['Contact'];
export type PhoneNumber = Schemas['PhoneNumber'];
export type KnowledgeDocument = Schemas['KnowledgeDocument'];
export type Transcript = Schemas['Transcript'];
export type Action = Schemas['Action'];
export type ErrorBody = Schemas['Error'];

export type VoxgateClient = Client<paths>;

export interface VoxgateClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** The gateway's URL, e.g. `https://gw.example.com` (no `/v1`: paths carry it). */
  baseUrl: string;
  /** An API key (`vg_…`), sent as `Authorization: Bearer`. */
  apiKey: string;
}

export function createVoxgateClient({ baseUrl, apiKey, headers, ...rest }: VoxgateClientOptions): VoxgateClient {
  return createClient<paths>({
    ...rest,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: { ...(headers as Record<string, string> | undefined), authorization: `Bearer ${apiKey}` },
  });
}
