export { mcpPlugin, MCP_BODY_LIMIT_BYTES } from './http.js';
export { TOOLS } from './tools.js';
export type { Tool } from './tool-kit.js';
