/**
 * The name, summary and description of every `/v1` operation, by "METHOD /openapi/path".
 * Kept in one table rather than scattered over the route files so a generated client's method
 * names read as one vocabulary and a test can check that none is missing. A route may still
 * set its own `summary`/`description`/`operationId` in its schema: the route's own value wins.
 * Entries for routes that are not registered are ignored.
 */
export interface OperationText {
  operationId: string;
  summary: string;
  description?: string;
}

const op = (operationId: string, summary: string, description?: string): OperationText => ({ operationId, summary, description });

export const OPERATIONS: Record<string, OperationText> = {
  'GET /v1/me': op('getMe', 'The calling key', 'The key that signed this request: its id, owner, scopes and rate limit.'),

  'POST /v1/keys': op('createKey', 'Create an API key', 'The secret `key` is in this response only; it is stored as a hash. A key may not grant scopes it does not hold, and only `admin` creates keys for another owner.'),
  'GET /v1/keys': op('listKeys', 'List API keys', 'Keys of the caller\'s owner (every owner\'s with `admin`), newest first. Secrets are never listed.'),
  'DELETE /v1/keys/{id}': op('deleteKey', 'Revoke an API key', 'Revokes at once on this node, within seconds on the others. The last key holding `admin` cannot be revoked (409 `last_admin_key`).'),

  'GET /v1/agents': op('listAgents', 'List agents', 'The caller\'s agents, newest first.'),
  'POST /v1/agents': op(
    'createAgent',
    'Create an agent',
    'Which fields are required depends on `architecture` (the request schema is a `oneOf` discriminated on it); a missing one is 422 `validation_failed` naming every missing field. A `text` agent takes no calls: its `voiceMode` is `off`.',
  ),
  'GET /v1/agents/{id}': op('getAgent', 'Get an agent'),
  'PATCH /v1/agents/{id}': op('updateAgent', 'Update an agent', 'Send only the fields that change; `null` clears an optional field. The architecture rule of create is checked on the merged result.'),
  'DELETE /v1/agents/{id}': op('deleteAgent', 'Delete an agent', 'Its calls and transcripts are kept; new calls to it are 404.'),
  'POST /v1/agents/{id}/chat': op('chatWithAgent', 'Chat with a text agent', 'Server-sent events: `delta` events with the reply as it is produced, then `done`.'),
  'GET /v1/agents/{id}/env-vars': op('listAgentEnvVars', 'List an agent\'s env var names', 'Values are encrypted at rest and never returned.'),
  'PUT /v1/agents/{id}/env-vars/{name}': op('setAgentEnvVar', 'Set an agent env var', 'Tools reference it as `{{env.NAME}}` in headers or URL.'),
  'DELETE /v1/agents/{id}/env-vars/{name}': op('deleteAgentEnvVar', 'Delete an agent env var'),
  'GET /v1/agents/{id}/tools': op('listAgentTools', 'List an agent\'s tools', 'Webhook tools and the built-in ones the agent has.'),
  'POST /v1/agents/{id}/tools': op('createAgentTool', 'Add a webhook tool to an agent', 'The tool receives `{tool, arguments, callId, agentId}`; its response goes back to the LLM.'),
  'DELETE /v1/agents/{id}/tools/{name}': op('deleteAgentTool', 'Remove a tool from an agent'),
  'POST /v1/agents/{id}/tools/calendly': op('addCalendlyTools', 'Add the Calendly preset tools', 'Adds `calendly_availability` and `calendly_book`, authorised with the personal access token in the agent env var `tokenEnv`.'),
  'DELETE /v1/agents/{id}/tools/calendly': op('removeCalendlyTools', 'Remove the Calendly preset tools'),
  'PATCH /v1/agents/{id}/knowledge': op('setAgentKnowledge', 'Set an agent\'s knowledge documents', 'Replaces the list; every document must be visible to the caller.'),
  'POST /v1/agents/{id}/phone': op('attachPhoneNumber', 'Attach a phone number to an agent', 'One agent per number: attaching moves the number. The agent must take phone calls.'),

  'GET /v1/voices': op('listVoices', 'List voices', 'Voices of every TTS/realtime provider; a provider without credentials or that fails is named in `unavailable`.'),

  'GET /v1/knowledge': op('listKnowledge', 'List knowledge documents'),
  'POST /v1/knowledge/text': op('addKnowledgeText', 'Add a knowledge document from text'),
  'POST /v1/knowledge/url': op('addKnowledgeUrl', 'Add a knowledge document from a URL', 'Fetched once; HTML is reduced to text. Private and loopback addresses are refused unless `ALLOW_PRIVATE_URLS=true`.'),
  'DELETE /v1/knowledge/{id}': op('deleteKnowledge', 'Delete a knowledge document', 'Agents that listed it stop listing it.'),

  'GET /v1/phone-numbers': op('listPhoneNumbers', 'List phone numbers'),
  'POST /v1/phone-numbers': op('createPhoneNumber', 'Register a phone number', 'Numbers are bought in Twilio by a person; voxgate only registers them. `phoneNumber` is E.164.'),
  'GET /v1/phone-numbers/{id}': op('getPhoneNumber', 'Get a phone number'),
  'DELETE /v1/phone-numbers/{id}': op('deletePhoneNumber', 'Unregister a phone number'),
  'GET /v1/phone-numbers/{id}/calls': op('listPhoneNumberCalls', 'List the calls of a phone number'),

  'POST /v1/calls': op('placeCall', 'Place an outbound phone call', 'Twilio dials `toNumber` from the agent\'s number (or `fromNumberId`). A Twilio failure marks the call `failed` and answers 502 `provider_error`.'),
  'GET /v1/calls': op('listCalls', 'List calls', 'Newest first, filtered by agent, status, direction or number.'),
  'GET /v1/calls/{id}': op('getCall', 'Get a call'),
  'POST /v1/calls/{id}/end': op('endCall', 'End a live call', 'Works from any node; idempotent on ended calls.'),
  'GET /v1/calls/{id}/transcript': op('getTranscript', 'Get a call\'s final transcript'),
  'GET /v1/calls/{id}/transcript/stream': op('streamTranscript', 'Stream a call\'s transcript and status (SSE)', 'Replays what is stored, then live events; honours `Last-Event-ID`; closes after `call.ended`.'),
  'GET /v1/calls/{id}/recording': op('getRecording', 'Download a call\'s recording', 'Stereo WAV (left: caller, right: agent), 8 kHz 16-bit PCM; supports `Range`.'),
  'POST /v1/web-calls': op('createWebCall', 'Start a web call', 'Returns a single-use token (5 minutes) and the URLs a browser joins with.'),

  'POST /v1/campaigns': op('createCampaign', 'Create a campaign', 'Created as `draft`. The agent and the number must be the caller\'s own.'),
  'GET /v1/campaigns': op('listCampaigns', 'List campaigns'),
  'GET /v1/campaigns/{id}': op('getCampaign', 'Get a campaign'),
  'GET /v1/campaigns/{id}/results': op('getCampaignResults', 'Get a campaign\'s results'),
  'POST /v1/campaigns/{id}/start': op('requestCampaignStart', 'Request a campaign start (needs human approval)'),
  'POST /v1/campaigns/{id}/pause': op('requestCampaignPause', 'Request a campaign pause (needs human approval)'),
  'POST /v1/campaigns/{id}/stop': op('requestCampaignStop', 'Request a campaign stop (needs human approval)'),
  'POST /v1/campaigns/{id}/contacts': op('addContacts', 'Upload contacts to a campaign'),
  'GET /v1/campaigns/{id}/contacts': op('listContacts', 'List a campaign\'s contacts'),
  'GET /v1/actions/{id}': op('getAction', 'Get a campaign action request', 'The state of a start/pause/stop request: awaiting_approval, approved, rejected, executed or failed.'),
  'GET /v1/approvals': op('listApprovals', 'List actions awaiting approval'),
  'POST /v1/approvals/{id}/approve': op('approveAction', 'Approve a campaign action', 'A person\'s decision: a key may not decide an action its own owner requested (403 `self_approval_forbidden`).'),
  'POST /v1/approvals/{id}/reject': op('rejectAction', 'Reject a campaign action', 'A person\'s decision, with an optional reason. Not for the owner who requested it.'),
};

/** Public routes (outside `/v1`): their text lives with their paths in openapi-extras.ts. */
export const PUBLIC_OPERATION_IDS: Record<string, string> = {
  'GET /healthz': 'getHealth',
  'GET /readyz': 'getReadiness',
  'GET /metrics': 'getMetrics',
  'GET /openapi.json': 'getOpenApiDocument',
  'POST /twilio/voice': 'twilioVoiceWebhook',
  'POST /twilio/status': 'twilioStatusCallback',
  'GET /twilio/media': 'twilioMediaStream',
  'GET /web/media': 'webCallMedia',
  'GET /web/call': 'webCallPage',
};
