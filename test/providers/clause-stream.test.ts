/**
 * ClauseTtsStream (request-per-clause vendors): the first clause goes out alone for time to first
 * audio; clauses that queue while a request runs are joined into one request, so the voice
 * restarts less often; audio comes out in order.
 */
import { describe, expect, it } from 'vitest';
import { ClauseTtsStream } from '../../src/providers/tts/clause-stream.js';

describe('clause TTS stream', () => {
  it('joins the clauses that queued behind a running request, and keeps the audio in order', async () => {
    const requests: string[] = [];
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((r) => (releaseFirst = r));
    const synth = async function* (text: string): AsyncIterable<Buffer> {
      requests.push(text);
      if (requests.length === 1) await firstHeld;
      yield Buffer.from(text);
    };
    const s = new ClauseTtsStream(synth, new AbortController().signal);
    s.push('Let me check that for you,');
    s.push('one moment.');
    s.push('Your table is booked.');
    s.end();
    await new Promise((r) => setImmediate(r));
    expect(requests).toEqual(['Let me check that for you,']);
    releaseFirst();
    const audio: string[] = [];
    for await (const c of s) audio.push(c.audio.toString());
    expect(requests).toEqual(['Let me check that for you,', 'one moment. Your table is booked.']);
    expect(audio).toEqual(requests);
  });
});
