export { placeOutboundCall, E164_RE, type OutboundRequest } from './outbound.js';
export { acceptInboundCall, type InboundDecision, type InboundRequest } from './inbound.js';
export { applyCarrierStatus, endReasonFor, type CarrierStatusReport } from './carrier-status.js';
export { advanceCall, endedData, endLocalSession, isTerminal, recordCallEvent, statusRank } from './lifecycle.js';
export { statusCallbackUrl, streamTwimlFor, STREAM_TOKEN_TTL_MS } from './stream-twiml.js';
