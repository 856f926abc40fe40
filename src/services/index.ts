/**
 * The service functions behind both the REST routes (src/api) and the MCP tools (src/mcp):
 * `(ctx, auth, input)` in, the REST JSON out, or a thrown VoxgateError. One copy of the
 * validation, authorization and owner rules for both surfaces.
 */
export * from './keys.js';
export * from './agents.js';
export * from './phone-numbers.js';
export * from './calls.js';
export * from './web-calls.js';
export * from './campaigns.js';
export * from './knowledge.js';
export { validateInput } from './validate.js';
export { addCalendlyPreset, removeCalendlyPreset, isCalendlyPresetTool, type CalendlyPresetInput, type CalendlyPresetResult } from './calendly-preset.js';
