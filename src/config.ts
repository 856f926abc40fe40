/**
 * Every environment variable voxgate reads, parsed and validated in one place.
 * No other file reads `process.env`: the rest of the code receives typed slices of `Config`.
 * A bad value stops start-up with a message naming the variable and the problem; all problems
 * are listed at once so an operator fixes them in one pass.
 */
import path from 'node:path';

export type Env = Record<string, string | undefined>;

export interface Config {
  port: number;
  host: string;
  /** Externally reachable base URL without trailing slash, e.g. `https://gw.example.com`. */
  publicUrl: string;
  dataDir: string;
  databaseUrl?: string;
  redisUrl?: string;
  adminKey?: string;
  secretsKey?: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** How long live calls may run on after SIGTERM before they are ended. */
  shutdownDeadlineMs: number;
  rateLimitRpm: number;
  /** Allow webhook/knowledge URLs that resolve to private addresses (tests, trusted LANs). */
  allowPrivateUrls: boolean;
  /** Overload guard (faults/load-guard.ts): new calls are refused above this event-loop lag; 0 = off. */
  overload: { maxEventLoopLagMs: number };
  media: {
    /** How far ahead of the caller's playback position agent audio is sent. */
    playbackLeadMs: number;
    /** Largest text frame accepted on a media socket. */
    maxMessageBytes: number;
    /** Caller audio per `input_audio_buffer.append` to a realtime provider (20 ms = every frame). */
    realtimeAppendMs: number;
  };
  /** Stall limits on a voice reply's LLM stream (providers/llm/stall.ts). */
  llm: {
    firstTokenTimeoutMs: number;
    chunkTimeoutMs: number;
  };
  twilio: {
    accountSid?: string;
    authToken?: string;
    apiBaseUrl: string;
  };
  providers: {
    deepgram: { apiKey?: string; url: string };
    openai: { apiKey?: string; baseUrl: string; realtimeUrl: string };
    /** Calendly API v2, for the Calendly tool preset. */
    calendly: { baseUrl: string };
    /** xAI Grok voice agent (realtime only). */
    xai: { apiKey?: string; realtimeUrl: string };
    elevenlabs: { apiKey?: string; baseUrl: string };
    /** Cartesia TTS; the WebSocket URL is derived from `baseUrl` (https → wss). */
    cartesia: { apiKey?: string; baseUrl: string };
    /** OpenAI-compatible speech servers (whisper.cpp, speaches, Kokoro, Piper…). */
    openaiCompatible: {
      sttBaseUrl: string;
      sttApiKey?: string;
      ttsBaseUrl: string;
      ttsApiKey?: string;
    };
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Parses `env` (the process environment by default) into a `Config`, or throws `ConfigError`. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const r = new Reader(env, problems);

  const port = r.int('PORT', 8080, 0, 65535);
  const host = r.string('HOST', '0.0.0.0');
  const publicUrl = r.url('PUBLIC_URL', `http://localhost:${port}`, ['http:', 'https:']);
  const openaiBase = r.url('OPENAI_BASE_URL', 'https://api.openai.com/v1', ['http:', 'https:']);
  const openaiKey = r.optional('OPENAI_API_KEY');

  const config: Config = {
    port,
    host,
    publicUrl,
    dataDir: path.resolve(r.string('DATA_DIR', './data')),
    databaseUrl: r.optionalUrl('DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: r.optionalUrl('REDIS_URL', ['redis:', 'rediss:']),
    adminKey: r.optionalSecret('VOXGATE_ADMIN_KEY', 16),
    secretsKey: r.optionalSecret('SECRETS_KEY', 32),
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    shutdownDeadlineMs: r.int('SHUTDOWN_DEADLINE_MS', 30_000, 0, 3_600_000),
    rateLimitRpm: r.int('RATE_LIMIT_RPM', 600, 1, 1_000_000),
    allowPrivateUrls: r.bool('ALLOW_PRIVATE_URLS', false),
    overload: {
      // 200 ms: playback is paced 120 ms ahead (PLAYBACK_LEAD_MS), so a loop that runs later
      // than that starves every call's audio; past 200 ms callers hear gaps. Sustained lag
      // (two 500 ms windows) refuses new calls; 0 turns the guard off.
      maxEventLoopLagMs: r.int('OVERLOAD_LAG_MS', 200, 0, 60_000),
    },
    media: {
      // 120 ms: enough to ride out event-loop hiccups and network jitter without starving
      // playback, small enough that a `clear` throws away little already-synthesised audio.
      playbackLeadMs: r.int('PLAYBACK_LEAD_MS', 120, 20, 2000),
      // A Twilio media message is ~300 bytes; 64 KiB leaves room for large outbound-style
      // messages while bounding what one bad peer can make us parse.
      maxMessageBytes: r.int('MEDIA_MAX_MESSAGE_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
      // 20 ms: every caller frame is its own append. 40 ms halves the bridge's provider socket
      // writes (0.4–0.9 ms CPU per call-second, docs/performance.md) but the server VAD hears the
      // end of the caller's silence window up to 20 ms later: that is voice-to-voice time, and
      // the whole gateway budget for it is 10 ms, so batching is opt-in for CPU-bound nodes.
      realtimeAppendMs: r.int('REALTIME_APPEND_MS', 20, 20, 100),
    },
    llm: {
      // 3 s: hosted chat models answer in 0.3-1.5 s (docs/performance.md fakes use 300 ms);
      // past 3 s the caller is already wondering, and the single retry doubles it. A local model
      // that loads on first use (Ollama) needs more: raise it there.
      firstTokenTimeoutMs: r.int('LLM_FIRST_TOKEN_TIMEOUT_MS', 3000, 100, 120_000),
      // 3 s between content chunks: a healthy stream sends tokens every few tens of ms.
      chunkTimeoutMs: r.int('LLM_CHUNK_TIMEOUT_MS', 3000, 100, 120_000),
    },
    twilio: {
      accountSid: r.optional('TWILIO_ACCOUNT_SID'),
      authToken: r.optional('TWILIO_AUTH_TOKEN'),
      apiBaseUrl: r.url('TWILIO_API_BASE_URL', 'https://api.twilio.com', ['http:', 'https:']),
    },
    providers: {
      deepgram: {
        apiKey: r.optional('DEEPGRAM_API_KEY'),
        url: r.url('DEEPGRAM_URL', 'wss://api.deepgram.com', ['ws:', 'wss:', 'http:', 'https:']),
      },
      openai: {
        apiKey: openaiKey,
        baseUrl: openaiBase,
        realtimeUrl: r.url('OPENAI_REALTIME_URL', 'wss://api.openai.com/v1/realtime', ['ws:', 'wss:']),
      },
      calendly: { baseUrl: r.url('CALENDLY_BASE_URL', 'https://api.calendly.com', ['http:', 'https:']) },
      xai: {
        apiKey: r.optional('XAI_API_KEY'),
        realtimeUrl: r.url('XAI_REALTIME_URL', 'wss://api.x.ai/v1/realtime', ['ws:', 'wss:']),
      },
      elevenlabs: {
        apiKey: r.optional('ELEVENLABS_API_KEY'),
        baseUrl: r.url('ELEVENLABS_BASE_URL', 'https://api.elevenlabs.io', ['http:', 'https:']),
      },
      cartesia: {
        apiKey: r.optional('CARTESIA_API_KEY'),
        baseUrl: r.url('CARTESIA_BASE_URL', 'https://api.cartesia.ai', ['http:', 'https:']),
      },
      openaiCompatible: {
        sttBaseUrl: r.url('STT_BASE_URL', openaiBase, ['http:', 'https:']),
        sttApiKey: r.optional('STT_API_KEY') ?? openaiKey,
        ttsBaseUrl: r.url('TTS_BASE_URL', openaiBase, ['http:', 'https:']),
        ttsApiKey: r.optional('TTS_API_KEY') ?? openaiKey,
      },
    },
  };

  const twilioSet = [config.twilio.accountSid, config.twilio.authToken].filter(Boolean).length;
  if (twilioSet === 1) {
    problems.push('TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN: set both or neither');
  }
  if (config.twilio.accountSid && !/^AC[0-9a-fA-F]{32}$/.test(config.twilio.accountSid)) {
    problems.push('TWILIO_ACCOUNT_SID: must be "AC" followed by 32 hex digits');
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Small typed accessors that record a problem instead of throwing, so all are reported. */
class Reader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  private raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  optional(name: string): string | undefined {
    return this.raw(name);
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (!/^-?\d+$/.test(v)) {
      this.problems.push(`${name}: "${v}" is not a whole number`);
      return fallback;
    }
    const n = Number(v);
    if (n < min || n > max) {
      this.problems.push(`${name}: ${n} is outside ${min}..${max}`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const lower = v.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
    if (['0', 'false', 'no', 'off'].includes(lower)) return false;
    this.problems.push(`${name}: "${v}" is not a boolean (use true or false)`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    this.problems.push(`${name}: "${v}" is not one of ${allowed.join(', ')}`);
    return fallback;
  }

  url(name: string, fallback: string, protocols: string[]): string {
    const v = this.raw(name);
    if (v === undefined) return stripSlash(fallback);
    return this.checkUrl(name, v, protocols) ?? stripSlash(fallback);
  }

  optionalUrl(name: string, protocols: string[]): string | undefined {
    const v = this.raw(name);
    return v === undefined ? undefined : this.checkUrl(name, v, protocols);
  }

  optionalSecret(name: string, minLength: number): string | undefined {
    const v = this.raw(name);
    if (v !== undefined && v.length < minLength) {
      this.problems.push(`${name}: must be at least ${minLength} characters`);
      return undefined;
    }
    return v;
  }

  private checkUrl(name: string, v: string, protocols: string[]): string | undefined {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      this.problems.push(`${name}: "${v}" is not a URL`);
      return undefined;
    }
    if (!protocols.includes(u.protocol)) {
      this.problems.push(`${name}: scheme must be one of ${protocols.map((p) => p.slice(0, -1)).join(', ')}`);
      return undefined;
    }
    return stripSlash(v);
  }
}

function stripSlash(s: string): string {
  return s.endsWith('/') ? s.slice(0, -1) : s;
}
