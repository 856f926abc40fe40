/**
 * What an MCP tool is here: a name, the scope of its REST twin, an input schema (a TypeBox
 * schema shared with the route, so `inputSchema` and the OpenAPI document say the same), and a
 * call to the same service function the route calls. Results are the REST JSON.
 */
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { AppContext } from '../context.js';
import type { Scope } from '../store/types.js';
import { routeAllows, type AuthContext } from '../api/auth-context.js';

export interface ToolCall {
  /** Aborted when the client cancels the request or the session closes. */
  signal: AbortSignal;
}

export interface Tool<S extends TObject = TObject> {
  name: string;
  title: string;
  description: string;
  /** The scope of the REST twin, or a predicate for twins that check scopes themselves. */
  scope: Scope | ((auth: AuthContext) => boolean);
  /** Writes that are safe to repeat or never change anything (MCP tool annotations). */
  readOnly?: boolean;
  input: S;
  /**
   * The REST twin's response schema. The result is serialised through it exactly as the route
   * does (fast-json-stringify: fields it does not name are dropped), and it is the tool's
   * `outputSchema`, so a client can check `structuredContent` against it.
   */
  output?: TObject;
  /** Runs before schema validation, for limits the REST route checks before its schema (413). */
  precheck?: (args: Record<string, unknown>) => void;
  /** The REST JSON: the result's `structuredContent`, and its text. */
  run(ctx: AppContext, auth: AuthContext, args: Static<S>, call: ToolCall): Promise<Record<string, unknown>>;
  /** A line before the JSON text, when the JSON alone could mislead (a wait that timed out). */
  note?(json: Record<string, unknown>, args: Static<S>): string | undefined;
}

export const defineTool = <S extends TObject>(tool: Tool<S>): Tool => tool as unknown as Tool;

export function toolAllowed(tool: Tool, auth: AuthContext): boolean {
  return typeof tool.scope === 'function' ? tool.scope(auth) : routeAllows(auth, tool.scope);
}

export function scopeText(tool: Tool): string {
  return typeof tool.scope === 'function' ? 'campaigns:read, campaigns:execute or approvals:write' : tool.scope;
}

/** The JSON Schema of a TypeBox schema as plain data (TypeBox marks its objects with symbols). */
export function jsonSchema(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}
