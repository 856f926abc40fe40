/**
 * The start-up warm-up of the LLM client (providers/llm/warm-up.ts): one plain request to the
 * gateway itself, one canned streamed completion through the SDK without any network.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { warmUpLlmClient } from '../../src/providers/llm/warm-up.js';

let server: http.Server | null = null;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

describe('LLM client warm-up', () => {
  it('makes one request to the given URL and runs a streamed completion that needs no server', async () => {
    const seen: string[] = [];
    server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.end('{"status":"ok"}');
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    await warmUpLlmClient(`http://127.0.0.1:${port}/healthz`);
    expect(seen).toEqual(['GET /healthz']);
  });

  it('rejects when the gateway cannot be reached, for the caller to log', async () => {
    server = http.createServer();
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((r) => server!.close(() => r()));
    server = null;
    await expect(warmUpLlmClient(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
