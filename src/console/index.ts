/** The operator console (issue 19): static pages served by the gateway, `GET /` → `/console`. */
export { consolePagePlugin, CONSOLE_PATH } from './console-route.js';
