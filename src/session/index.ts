/**
 * Call sessions: the registry of live calls on this node, the session that hosts an engine,
 * paced playback on one shared clock, the stereo recorder and its start-up repair.
 */
export {
  CallRegistry,
  DEFAULT_MEDIA_CONNECT_TIMEOUT_MS,
  type AnnounceRequest,
  type CallRegistryOptions,
  type CallSessionHandle,
} from './call-registry.js';
export { CallSession, SessionAttachError } from './call-session.js';
export { PacedPlayback, FRAME_MS, type PlaybackOptions, type PlaybackSink } from './playback.js';
export { Pacer, systemClock, DEFAULT_TICK_MS, type Clock, type Paced } from './pacer.js';
export { CallRecorder, recordingPath, RECORDING_SAMPLE_RATE } from './recorder.js';
export { repairRecordings, GATEWAY_RESTART_REASON } from './repair.js';
