/**
 * The MCP tools of API.md ("MCP: the same API for autonomous agents"). Each one is its REST
 * twin's service function behind the twin's scope and input schema: the validation,
 * authorization and owner rules are the service's, not repeated here. No tool approves or
 * rejects a campaign action: approvals stay with people (`/v1/approvals`, the console).
 */
import { Type } from '@sinclair/typebox';
import type { ActionKind, CallStatus } from '../store/types.js';
import { isTerminal } from '../calls/lifecycle.js';
import { PageQuery } from '../api/paging.js';
import { CreateAgentBody, PatchAgentBody } from '../api/agent-schema.js';
import { ContactsQuery, CreateCampaign, UploadContacts } from '../api/campaigns-schemas.js';
import { createAgent, getAgent, listAgents, updateAgent } from '../services/agents.js';
import { AttachNumberBody, attachPhoneNumber, listPhoneNumbers } from '../services/phone-numbers.js';
import { CallListQuery, CreateCallBody, MAX_WAIT_SECONDS, endCall, getCall, getTranscript, listCalls, placeCall, waitForCall } from '../services/calls.js';
import { CreateWebCallBody, createWebCall } from '../services/web-calls.js';
import { CAMPAIGN_ACTIONS, addContacts, campaignResults, capContacts, createCampaign, getAction, listContacts, mayReadActions, requestCampaignAction } from '../services/campaigns.js';
import { KnowledgeTextBody, addKnowledgeText, listKnowledge } from '../services/knowledge.js';
import { listVoices } from './voices.js';
import { defineTool, type Tool } from './tool-kit.js';

const Id = (description: string) => Type.String({ minLength: 1, maxLength: 100, description });
const AgentId = Id('agent id (agt_…)');
const CallId = Id('call id (call_…)');
const CampaignId = Id('campaign id (cmp_…)');

export const TOOLS: readonly Tool[] = [
  defineTool({
    name: 'list_agents',
    title: 'List agents',
    description: 'Lists your voice and text agents, newest first (GET /v1/agents). Page with `cursor` = the previous `next_cursor`.',
    scope: 'agents:read',
    readOnly: true,
    input: PageQuery,
    run: (ctx, auth, args) => listAgents(ctx, auth, args),
  }),
  defineTool({
    name: 'get_agent',
    title: 'Get an agent',
    description: 'One agent with all its settings (GET /v1/agents/{id}).',
    scope: 'agents:read',
    readOnly: true,
    input: Type.Object({ agentId: AgentId }),
    run: (ctx, auth, args) => getAgent(ctx, auth, args.agentId),
  }),
  defineTool({
    name: 'create_agent',
    title: 'Create an agent',
    description:
      'Creates an agent (POST /v1/agents). Always: name, architecture, systemPrompt. pipeline also needs model, stt, tts; realtime needs realtimeProvider; text needs model (and takes no calls). Missing fields are reported all at once.',
    scope: 'agents:write',
    input: CreateAgentBody,
    run: (ctx, auth, args) => createAgent(ctx, auth, args),
  }),
  defineTool({
    name: 'update_agent',
    title: 'Update an agent',
    description: 'Changes only the fields you send (PATCH /v1/agents/{id}); null clears an optional field. The architecture rules are checked on the result.',
    scope: 'agents:write',
    input: Type.Object({ agentId: AgentId, ...PatchAgentBody.properties }, { additionalProperties: false }),
    run: (ctx, auth, { agentId, ...patch }) => updateAgent(ctx, auth, agentId, patch),
  }),
  defineTool({
    name: 'list_voices',
    title: 'List voices',
    description: 'Voices of the TTS and realtime providers (GET /v1/voices); providers that cannot list are named in `unavailable`.',
    scope: 'agents:read',
    readOnly: true,
    input: Type.Object({ provider: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })) }, { additionalProperties: false }),
    run: (ctx, _auth, args) => listVoices(ctx, args),
  }),
  defineTool({
    name: 'list_phone_numbers',
    title: 'List phone numbers',
    description: 'Your registered phone numbers and the agent each answers for (GET /v1/phone-numbers).',
    scope: 'numbers:read',
    readOnly: true,
    input: PageQuery,
    run: (ctx, auth, args) => listPhoneNumbers(ctx, auth, args),
  }),
  defineTool({
    name: 'attach_phone_number',
    title: 'Attach a phone number to an agent',
    description: 'Makes the agent answer (and call from) the number (POST /v1/agents/{id}/phone). One agent per number: attaching moves it.',
    scope: 'numbers:write',
    input: Type.Object({ agentId: AgentId, ...AttachNumberBody.properties }, { additionalProperties: false }),
    run: (ctx, auth, { agentId, ...body }) => attachPhoneNumber(ctx, auth, agentId, body),
  }),
  defineTool({
    name: 'place_call',
    title: 'Place an outbound phone call',
    description: 'Dials toNumber (E.164) with the agent (POST /v1/calls); the call starts `queued`. Use wait_for_call to learn how it ended.',
    scope: 'calls:write',
    input: CreateCallBody,
    run: (ctx, auth, args) => placeCall(ctx, auth, args),
  }),
  defineTool({
    name: 'create_web_call',
    title: 'Start a web call',
    description: 'A browser call with the agent (POST /v1/web-calls): open `pageUrl` within 5 minutes to talk.',
    scope: 'calls:write',
    input: CreateWebCallBody,
    run: (ctx, auth, args) => createWebCall(ctx, auth, args),
  }),
  defineTool({
    name: 'list_calls',
    title: 'List calls',
    description: 'Calls, newest first, filtered by agentId, status, direction or phoneNumberId (GET /v1/calls).',
    scope: 'calls:read',
    readOnly: true,
    input: CallListQuery,
    run: (ctx, auth, args) => listCalls(ctx, auth, args),
  }),
  defineTool({
    name: 'get_call',
    title: 'Get a call',
    description: 'One call: status, numbers, timings, endReason, latency (GET /v1/calls/{id}).',
    scope: 'calls:read',
    readOnly: true,
    input: Type.Object({ callId: CallId }),
    run: (ctx, auth, args) => getCall(ctx, auth, args.callId),
  }),
  defineTool({
    name: 'get_transcript',
    title: 'Get a call transcript',
    description: 'The final transcript items of a call, in order (GET /v1/calls/{id}/transcript).',
    scope: 'calls:read',
    readOnly: true,
    input: Type.Object({ callId: CallId }),
    run: (ctx, auth, args) => getTranscript(ctx, auth, args.callId),
  }),
  defineTool({
    name: 'end_call',
    title: 'End a live call',
    description: 'Hangs up a live call from any node (POST /v1/calls/{id}/end); an ended call is returned as it is.',
    scope: 'calls:write',
    input: Type.Object({ callId: CallId }),
    run: (ctx, auth, args) => endCall(ctx, auth, args.callId),
  }),
  defineTool({
    name: 'wait_for_call',
    title: 'Wait for a call to end',
    description: `Returns the call as soon as it is over (completed, busy, no-answer, failed, canceled), or as it is after timeoutSeconds (at most ${MAX_WAIT_SECONDS}).`,
    scope: 'calls:read',
    readOnly: true,
    input: Type.Object({ callId: CallId, timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_WAIT_SECONDS, default: 60 })) }, { additionalProperties: false }),
    run: (ctx, auth, args, call) => waitForCall(ctx, auth, args.callId, args.timeoutSeconds ?? 60, call.signal),
    note: (json, args) =>
      isTerminal(json.status as CallStatus) ? undefined : `The call is still ${String(json.status)} after ${args.timeoutSeconds ?? 60} s; call wait_for_call again to keep waiting.`,
  }),
  defineTool({
    name: 'create_campaign',
    title: 'Create a campaign',
    description: 'An outbound campaign in `draft` (POST /v1/campaigns) with your agent and number. Add contacts, then request_campaign_action start; a person approves it.',
    scope: 'campaigns:write',
    input: CreateCampaign,
    run: (ctx, auth, args) => createCampaign(ctx, auth, args),
  }),
  defineTool({
    name: 'add_contacts',
    title: 'Add contacts to a campaign',
    description: 'Upserts up to 5000 contacts by externalId (POST /v1/campaigns/{id}/contacts); bad phones are counted in `failed`, never abort the batch.',
    scope: 'campaigns:write',
    input: Type.Object({ campaignId: CampaignId, ...UploadContacts.properties }, { additionalProperties: false }),
    precheck: (args) => capContacts(args.contacts),
    run: (ctx, auth, { campaignId, ...body }) => addContacts(ctx, auth, campaignId, body),
  }),
  defineTool({
    name: 'list_contacts',
    title: 'List campaign contacts',
    description: 'Contacts of a campaign, optionally by status (GET /v1/campaigns/{id}/contacts).',
    scope: 'campaigns:read',
    readOnly: true,
    input: Type.Object({ campaignId: CampaignId, ...ContactsQuery.properties }, { additionalProperties: false }),
    run: (ctx, auth, { campaignId, ...query }) => listContacts(ctx, auth, campaignId, query),
  }),
  defineTool({
    name: 'request_campaign_action',
    title: 'Request a campaign start, pause or stop',
    description:
      'Asks for the action (POST /v1/campaigns/{id}/start|pause|stop). It is only a request: status `awaiting_approval` until a person of another owner approves it. Follow it with get_action.',
    scope: 'campaigns:execute',
    input: Type.Object(
      { campaignId: CampaignId, action: Type.Union(CAMPAIGN_ACTIONS.map((a) => Type.Literal(a))) },
      { additionalProperties: false },
    ),
    run: (ctx, auth, args) => requestCampaignAction(ctx, auth, args.campaignId, args.action as ActionKind),
  }),
  defineTool({
    name: 'get_action',
    title: 'Get a campaign action request',
    description: 'Whether a start/pause/stop request is awaiting_approval, approved, rejected, executed or failed (GET /v1/actions/{id}).',
    scope: mayReadActions,
    readOnly: true,
    input: Type.Object({ actionId: Id('action id (act_…)') }),
    run: (ctx, auth, args) => getAction(ctx, auth, args.actionId),
  }),
  defineTool({
    name: 'campaign_results',
    title: 'Get campaign results',
    description: 'Every contact with its status, attempts and extracted result (GET /v1/campaigns/{id}/results).',
    scope: 'campaigns:read',
    readOnly: true,
    input: Type.Object({ campaignId: CampaignId }),
    run: (ctx, auth, args) => campaignResults(ctx, auth, args.campaignId),
  }),
  defineTool({
    name: 'list_knowledge',
    title: 'List knowledge documents',
    description: 'Your knowledge documents (GET /v1/knowledge), without their text.',
    scope: 'knowledge:read',
    readOnly: true,
    input: PageQuery,
    run: (ctx, auth, args) => listKnowledge(ctx, auth, args),
  }),
  defineTool({
    name: 'add_knowledge_text',
    title: 'Add a knowledge document',
    description: 'Uploads text the agents can search during calls (POST /v1/knowledge/text). Attach it with update_agent knowledgeIds.',
    scope: 'knowledge:write',
    input: KnowledgeTextBody,
    run: (ctx, auth, args) => addKnowledgeText(ctx, auth, args),
  }),
];
