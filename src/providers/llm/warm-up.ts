/**
 * The first streamed chat completion in a process blocked the event loop for ~45 ms (measured:
 * 48 ms, then 2–5 ms per request): Node loads its fetch implementation (undici, with its HTTP
 * parser) and web streams on first use, and the SDK's request and SSE paths run cold. At the
 * first turns after a start, that stall held every live call's media with it (media-load bench,
 * 100 calls: first turns 65–156 ms late). Once at start-up, before calls arrive, this runs one
 * plain HTTP request through fetch (to the gateway itself) and one canned streamed completion
 * through the same SDK (its fetch answers locally); the first real request then costs ~9 ms.
 */
import OpenAI from 'openai';

const CANNED_SSE =
  'data: {"id":"warm-up","object":"chat.completion.chunk","created":0,"model":"warm-up","choices":[{"index":0,"delta":{"role":"assistant","content":"ok"},"logprobs":null,"finish_reason":null}]}\n\n' +
  'data: [DONE]\n\n';

/** `selfUrl`: any cheap URL of this gateway (e.g. /healthz). Failures are the caller's to ignore. */
export async function warmUpLlmClient(selfUrl: string): Promise<void> {
  await (await fetch(selfUrl)).arrayBuffer();
  const client = new OpenAI({
    apiKey: 'warm-up',
    baseURL: 'http://warm-up.invalid/v1',
    maxRetries: 0,
    fetch: async () => new Response(new Blob([CANNED_SSE]).stream(), { status: 200, headers: { 'content-type': 'text/event-stream' } }),
  });
  const stream = await client.chat.completions.create({ model: 'warm-up', stream: true, messages: [{ role: 'user', content: 'warm-up' }] });
  for await (const _chunk of stream);
}
