/** `list_voices` serves what GET /v1/voices serves: the same service function. */
export { listVoices } from '../services/voices.js';
