/** The MCP `list_voices` tool serves the same catalogue as `GET /v1/voices`. */
export { listVoices } from '../services/voices.js';
