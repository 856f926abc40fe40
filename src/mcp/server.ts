/**
 * One MCP server per session (the SDK's low-level `Server`: it takes JSON Schema as given, so
 * the tools' `inputSchema` is the TypeBox schema the REST route declares, not a translation).
 * `tools/list` shows the tools the key's scopes allow; `tools/call` validates the arguments with
 * the route's schema and Fastify's Ajv options, then calls the route's service function.
 * Failures of the call are results with `isError: true`, text starting with the REST error code
 * and then the REST error body as JSON; an unknown tool is a protocol error (-32602).
 */
import fastJson from 'fast-json-stringify';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AppContext } from '../context.js';
import type { AuthContext } from '../api/auth-context.js';
import { toVoxgateError } from '../api/error-handler.js';
import { VoxgateError } from '../errors.js';
import { validateInput } from '../services/index.js';
import { TOOLS } from './tools.js';
import { jsonSchema, scopeText, toolAllowed, type Tool } from './tool-kit.js';

const SERVER_INFO = { name: 'voxgate', version: '1' };
const INSTRUCTIONS =
  'voxgate runs phone and browser calls for AI voice agents. Create an agent, attach a number, place calls and read transcripts; ' +
  'campaign start/pause/stop are requests that a person approves outside MCP (request_campaign_action, then get_action).';

const toolsByName = new Map(TOOLS.map((t) => [t.name, t]));
/** The routes' serialisers, one per response schema: the tool's JSON is byte for byte the route's. */
const serializers = new Map(TOOLS.filter((t) => t.output).map((t) => [t.name, fastJson(t.output!)]));
const listing = new Map(
  TOOLS.map((t) => [
    t.name,
    {
      name: t.name,
      title: t.title,
      description: `${t.description} Needs scope ${scopeText(t)}.`,
      inputSchema: { ...jsonSchema(t.input), type: 'object' as const },
      ...(t.output ? { outputSchema: { ...jsonSchema(t.output), type: 'object' as const } } : {}),
      annotations: { title: t.title, readOnlyHint: t.readOnly === true, destructiveHint: false, openWorldHint: false },
    },
  ]),
);

/** The key of the HTTP request that carried this message (set by http.ts on each request). */
export type AuthOf = (extra: { authInfo?: { extra?: Record<string, unknown> } }) => AuthContext;

export function createMcpServer(ctx: AppContext, authOf: AuthOf): Server {
  const server = new Server(SERVER_INFO, { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS });

  server.setRequestHandler(ListToolsRequestSchema, async (_req, extra) => {
    const auth = authOf(extra);
    return { tools: TOOLS.filter((t) => toolAllowed(t, auth)).map((t) => listing.get(t.name)!) };
  });

  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const auth = authOf(extra);
    const tool = toolsByName.get(req.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `unknown tool: ${String(req.params.name).slice(0, 100)}`);
    return callTool(ctx, auth, tool, req.params.arguments, extra.signal);
  });
  return server;
}

async function callTool(ctx: AppContext, auth: AuthContext, tool: Tool, rawArgs: unknown, signal: AbortSignal): Promise<CallToolResult> {
  try {
    if (!toolAllowed(tool, auth)) {
      throw new VoxgateError('forbidden', `this key lacks the scope ${scopeText(tool)}`, [{ field: 'scope', message: `requires ${scopeText(tool)}` }]);
    }
    const args = rawArgs ?? {};
    if (typeof args !== 'object' || Array.isArray(args)) throw new VoxgateError('validation_failed', 'arguments must be a JSON object');
    tool.precheck?.(args as Record<string, unknown>);
    const valid = validateInput(tool.input, args);
    const result = await tool.run(ctx, auth, valid as never, { signal });
    const serialize = serializers.get(tool.name);
    const text = serialize ? serialize(result) : JSON.stringify(result);
    const json = serialize ? (JSON.parse(text) as Record<string, unknown>) : result;
    const note = tool.note?.(json, valid as never);
    return { content: [{ type: 'text', text: note ? `${note}\n${text}` : text }], structuredContent: json };
  } catch (err) {
    const e = toVoxgateError(err);
    if (e.status >= 500) ctx.log.warn({ err, tool: tool.name }, 'MCP tool failed');
    // No structuredContent: clients check it against the tool's outputSchema even on errors
    // (SDK Client.callTool); the REST error body follows the `code: message` line as JSON.
    return {
      isError: true,
      content: [
        { type: 'text', text: `${e.code}: ${e.message}` },
        { type: 'text', text: JSON.stringify(e.toBody()) },
      ],
    };
  }
}
