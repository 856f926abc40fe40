/**
 * Service functions: what a control-API route does, callable without HTTP (routes stay thin;
 * other front ends, such as MCP tools, call the same functions).
 */
export { addCalendlyPreset, removeCalendlyPreset, isCalendlyPresetTool, type CalendlyPresetInput, type CalendlyPresetResult } from './calendly-preset.js';
