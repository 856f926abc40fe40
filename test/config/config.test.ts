import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('starts on the embedded defaults with no environment at all', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
    expect(config.publicUrl).toBe('http://localhost:8080');
    expect(config.dataDir).toBe(path.resolve('./data'));
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.twilio.apiBaseUrl).toBe('https://api.twilio.com');
    expect(config.providers.deepgram.url).toBe('wss://api.deepgram.com');
    expect(config.providers.openai.baseUrl).toBe('https://api.openai.com/v1');
    expect(config.providers.openai.realtimeUrl).toBe('wss://api.openai.com/v1/realtime');
    expect(config.providers.elevenlabs.baseUrl).toBe('https://api.elevenlabs.io');
    expect(config.providers.xai).toEqual({ apiKey: undefined, realtimeUrl: 'wss://api.x.ai/v1/realtime' });
    expect(config.providers.calendly.baseUrl).toBe('https://api.calendly.com');
  });

  it('reads the xAI and Calendly settings, and refuses a non-WebSocket XAI_REALTIME_URL', () => {
    const config = loadConfig({ XAI_API_KEY: 'xai-k', XAI_REALTIME_URL: 'ws://127.0.0.1:9/v1/realtime', CALENDLY_BASE_URL: 'http://127.0.0.1:8/' });
    expect(config.providers.xai).toEqual({ apiKey: 'xai-k', realtimeUrl: 'ws://127.0.0.1:9/v1/realtime' });
    expect(config.providers.calendly.baseUrl).toBe('http://127.0.0.1:8');
    expect(() => loadConfig({ XAI_REALTIME_URL: 'https://api.x.ai/v1/realtime' })).toThrow(/XAI_REALTIME_URL/);
    expect(() => loadConfig({ CALENDLY_BASE_URL: 'ftp://calendly' })).toThrow(/CALENDLY_BASE_URL/);
    expect(config.providers.cartesia).toEqual({ apiKey: undefined, baseUrl: 'https://api.cartesia.ai' });
  });

  it('reads CARTESIA_API_KEY and CARTESIA_BASE_URL (http or https) and refuses another scheme', () => {
    const config = loadConfig({ CARTESIA_API_KEY: 'sk_car_x', CARTESIA_BASE_URL: 'http://127.0.0.1:9999/' });
    expect(config.providers.cartesia).toEqual({ apiKey: 'sk_car_x', baseUrl: 'http://127.0.0.1:9999' });
    expect(() => loadConfig({ CARTESIA_BASE_URL: 'wss://api.cartesia.ai' })).toThrow(/CARTESIA_BASE_URL: scheme must be one of http, https/);

  });

  it('derives PUBLIC_URL from PORT and strips trailing slashes from URLs', () => {
    const config = loadConfig({ PORT: '9000', OPENAI_BASE_URL: 'http://127.0.0.1:1234/v1/' });
    expect(config.publicUrl).toBe('http://localhost:9000');
    expect(config.providers.openai.baseUrl).toBe('http://127.0.0.1:1234/v1');
    // openai-compatible speech servers default to the OpenAI base
    expect(config.providers.openaiCompatible.sttBaseUrl).toBe('http://127.0.0.1:1234/v1');
  });

  it('lists every bad value at once, naming the variable and the problem', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        ALLOW_PRIVATE_URLS: 'maybe',
        LOG_LEVEL: 'loud',
        TWILIO_ACCOUNT_SID: 'AC123',
        VOXGATE_ADMIN_KEY: 'short',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/PORT: "eighty" is not a whole number/);
    expect(problems).toMatch(/DATABASE_URL: scheme must be one of postgres, postgresql/);
    expect(problems).toMatch(/ALLOW_PRIVATE_URLS: "maybe" is not a boolean/);
    expect(problems).toMatch(/LOG_LEVEL: "loud" is not one of/);
    expect(problems).toMatch(/TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN: set both or neither/);
    expect(problems).toMatch(/VOXGATE_ADMIN_KEY: must be at least 16 characters/);
  });

  it('refuses out-of-range numbers', () => {
    expect(() => loadConfig({ PLAYBACK_LEAD_MS: '5' })).toThrow(/PLAYBACK_LEAD_MS: 5 is outside 20..2000/);
  });
});
