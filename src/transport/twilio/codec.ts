/**
 * Twilio Media Streams messages ↔ typed values, with no I/O (PROTOCOLS.md §1.3, §1.4).
 *
 * `parseInbound` turns one text frame into a discriminated union, or a `malformed` result
 * naming a `MalformedReason` (the metric label) — it never throws. Twilio sends every counter
 * as a JSON string of digits; we also accept plain numbers, because being lenient there costs
 * nothing and Twilio's docs are not explicit about every field.
 *
 * Outbound messages are built by string concatenation around a prefix computed once per
 * stream: one `JSON.stringify`-free string per 20 ms frame is the whole cost of a send.
 */
import type { MalformedReason } from '../../metrics/index.js';

/** μ-law 8 kHz: 8 bytes per ms (PROTOCOLS.md, audio constants). */
export const MULAW_BYTES_PER_MS = 8;
/** One 20 ms frame: what Twilio sends per inbound `media` message. */
export const MULAW_FRAME_BYTES = 160;

/**
 * Largest inbound text message we parse. Twilio's biggest message is `start`, whose custom
 * parameters are each < 500 characters; 16 KiB leaves room for dozens of them. Larger messages
 * are counted as `oversized` and dropped (the socket's hard cap, MEDIA_MAX_MESSAGE_BYTES,
 * bounds what the WebSocket layer buffers at all).
 */
export const MAX_INBOUND_MESSAGE_BYTES = 16 * 1024;

/**
 * Largest decoded inbound media payload: Twilio sends 160 bytes (20 ms); we accept up to one
 * second so a carrier with larger frames still works, and refuse anything that could only be
 * an attempt to make us decode and buffer large blobs.
 */
export const MAX_MEDIA_PAYLOAD_BYTES = 8000;

const MAX_MARK_NAME_CHARS = 256;
const DTMF_RE = /^[0-9A-Da-d*#]$/;
const DIGITS_RE = /^\d{1,15}$/;

export interface StartInfo {
  streamSid: string;
  accountSid: string;
  callSid: string;
  tracks: string[];
  customParameters: Record<string, string>;
  mediaFormat: { encoding: string; sampleRate: number; channels: number };
}

export type InboundMessage =
  | { event: 'connected'; protocol: string; version: string }
  | { event: 'start'; sequenceNumber: number; streamSid: string; start: StartInfo }
  | {
      event: 'media';
      sequenceNumber: number;
      streamSid: string;
      track: string;
      chunk: number;
      /** ms since the stream started (Twilio's presentation time). */
      timestampMs: number;
      /** Decoded μ-law bytes. */
      payload: Buffer;
    }
  | { event: 'mark'; sequenceNumber: number; streamSid: string; name: string }
  | { event: 'dtmf'; sequenceNumber: number; streamSid: string; digit: string }
  | { event: 'stop'; sequenceNumber: number; streamSid: string; callSid: string | null }
  | { event: 'malformed'; reason: MalformedReason; detail: string };

export type MalformedMessage = Extract<InboundMessage, { event: 'malformed' }>;

function bad(reason: MalformedReason, detail: string): MalformedMessage {
  return { event: 'malformed', reason, detail };
}

/** Parses one inbound text frame. `raw` as ws delivers it (a Buffer) or as a string. */
export function parseInbound(raw: Buffer | string): InboundMessage {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > MAX_INBOUND_MESSAGE_BYTES) return bad('oversized', `message of ${size} bytes`);
  let msg: unknown;
  try {
    msg = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return bad('invalid_json', 'not JSON');
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return bad('invalid_json', 'not a JSON object');
  const m = msg as Record<string, unknown>;
  const event = m.event;
  if (typeof event !== 'string') return bad('missing_field', 'event');
  switch (event) {
    case 'connected':
      return {
        event,
        protocol: typeof m.protocol === 'string' ? m.protocol : '',
        version: typeof m.version === 'string' ? m.version : '',
      };
    case 'start':
      return parseStart(m);
    case 'media':
      return parseMedia(m);
    case 'mark': {
      const head = parseHead(m);
      if ('event' in head) return head;
      const mark = m.mark as Record<string, unknown> | undefined;
      const name = mark && typeof mark === 'object' ? mark.name : undefined;
      if (typeof name !== 'string') return bad('missing_field', 'mark.name');
      if (name.length === 0 || name.length > MAX_MARK_NAME_CHARS) return bad('bad_payload', 'mark.name length');
      return { event, ...head, name };
    }
    case 'dtmf': {
      const head = parseHead(m);
      if ('event' in head) return head;
      const dtmf = m.dtmf as Record<string, unknown> | undefined;
      const digit = dtmf && typeof dtmf === 'object' ? dtmf.digit : undefined;
      if (typeof digit !== 'string') return bad('missing_field', 'dtmf.digit');
      if (!DTMF_RE.test(digit)) return bad('bad_payload', 'dtmf.digit');
      return { event, ...head, digit };
    }
    case 'stop': {
      const head = parseHead(m);
      if ('event' in head) return head;
      const stop = m.stop as Record<string, unknown> | undefined;
      const callSid = stop && typeof stop === 'object' && typeof stop.callSid === 'string' ? stop.callSid : null;
      return { event, ...head, callSid };
    }
    default:
      return bad('unknown_event', event.slice(0, 32));
  }
}

function parseCounter(v: unknown): number | null {
  if (typeof v === 'string') return DIGITS_RE.test(v) ? Number(v) : null;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  return null;
}

/** `sequenceNumber` and `streamSid`, shared by every message after `connected`. */
function parseHead(m: Record<string, unknown>): { sequenceNumber: number; streamSid: string } | MalformedMessage {
  if (typeof m.streamSid !== 'string' || m.streamSid.length === 0) return bad('missing_field', 'streamSid');
  if (m.sequenceNumber === undefined) return bad('missing_field', 'sequenceNumber');
  const sequenceNumber = parseCounter(m.sequenceNumber);
  if (sequenceNumber === null) return bad('bad_payload', 'sequenceNumber');
  return { sequenceNumber, streamSid: m.streamSid };
}

function parseStart(m: Record<string, unknown>): InboundMessage {
  const head = parseHead(m);
  if ('event' in head) return head;
  const s = m.start as Record<string, unknown> | undefined;
  if (!s || typeof s !== 'object') return bad('missing_field', 'start');
  for (const field of ['accountSid', 'callSid'] as const) {
    if (typeof s[field] !== 'string') return bad('missing_field', `start.${field}`);
  }
  const params = s.customParameters;
  const customParameters: Record<string, string> = {};
  if (params !== undefined) {
    if (typeof params !== 'object' || params === null || Array.isArray(params)) return bad('bad_payload', 'start.customParameters');
    for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
      if (typeof v === 'string') customParameters[k] = v;
    }
  }
  const fmt = (s.mediaFormat ?? {}) as Record<string, unknown>;
  const mediaFormat = {
    encoding: typeof fmt.encoding === 'string' ? fmt.encoding : 'audio/x-mulaw',
    sampleRate: typeof fmt.sampleRate === 'number' ? fmt.sampleRate : 8000,
    channels: typeof fmt.channels === 'number' ? fmt.channels : 1,
  };
  if (mediaFormat.encoding !== 'audio/x-mulaw' || mediaFormat.sampleRate !== 8000 || mediaFormat.channels !== 1) {
    return bad('bad_payload', 'start.mediaFormat');
  }
  return {
    event: 'start',
    ...head,
    start: {
      streamSid: typeof s.streamSid === 'string' ? s.streamSid : head.streamSid,
      accountSid: s.accountSid as string,
      callSid: s.callSid as string,
      tracks: Array.isArray(s.tracks) ? s.tracks.filter((t): t is string => typeof t === 'string') : ['inbound'],
      customParameters,
      mediaFormat,
    },
  };
}

function parseMedia(m: Record<string, unknown>): InboundMessage {
  const head = parseHead(m);
  if ('event' in head) return head;
  const media = m.media as Record<string, unknown> | undefined;
  if (!media || typeof media !== 'object') return bad('missing_field', 'media');
  const payload = media.payload;
  if (typeof payload !== 'string') return bad('missing_field', 'media.payload');
  if (media.timestamp === undefined) return bad('missing_field', 'media.timestamp');
  const timestampMs = parseCounter(media.timestamp);
  if (timestampMs === null) return bad('bad_payload', 'media.timestamp');
  const chunk = media.chunk === undefined ? 0 : parseCounter(media.chunk);
  if (chunk === null) return bad('bad_payload', 'media.chunk');
  const decoded = decodeBase64(payload);
  if (typeof decoded === 'string') return bad(decoded === 'oversized' ? 'oversized' : 'bad_payload', 'media.payload');
  return {
    event: 'media',
    ...head,
    track: typeof media.track === 'string' ? media.track : 'inbound',
    chunk,
    timestampMs,
    payload: decoded,
  };
}

/**
 * Strict-enough base64: Node's decoder silently skips characters outside the alphabet, so a
 * decoded length shorter than the string's length implies means the payload was not base64.
 * Buffers this small come from Node's shared pool, so a frame costs no fresh allocation.
 */
function decodeBase64(s: string): Buffer | 'bad' | 'oversized' {
  const n = s.length;
  if (n === 0 || n % 4 !== 0) return 'bad';
  const padding = s.charCodeAt(n - 1) === 61 ? (s.charCodeAt(n - 2) === 61 ? 2 : 1) : 0;
  const expected = (n / 4) * 3 - padding;
  if (expected > MAX_MEDIA_PAYLOAD_BYTES) return 'oversized';
  const buf = Buffer.from(s, 'base64');
  return buf.length === expected ? buf : 'bad';
}

/** Outbound messages for one stream (PROTOCOLS.md §1.4: `media` carries only `payload`). */
export class OutboundEncoder {
  private readonly mediaPrefix: string;
  private readonly markPrefix: string;
  private readonly clearMessage: string;

  constructor(readonly streamSid: string) {
    const sid = JSON.stringify(streamSid);
    this.mediaPrefix = `{"event":"media","streamSid":${sid},"media":{"payload":"`;
    this.markPrefix = `{"event":"mark","streamSid":${sid},"mark":{"name":`;
    this.clearMessage = `{"event":"clear","streamSid":${sid}}`;
  }

  media(payload: Buffer): string {
    return this.mediaPrefix + payload.toString('base64') + '"}}';
  }

  mark(name: string): string {
    return this.markPrefix + JSON.stringify(name) + '}}';
  }

  clear(): string {
    return this.clearMessage;
  }
}
