/**
 * A webhook brain's body formats (API.md): SSE and NDJSON split across arbitrary network chunks,
 * CRLF line ends, multi-line `data:`, comments, `[DONE]`; and each kind of garbage named.
 */
import { describe, expect, it } from 'vitest';
import { BrainBodyError, bodyKind, parseBody, type BodyKind, type BrainChunk } from '../../src/providers/llm/brain-body.js';

async function parse(kind: BodyKind, parts: Array<string | Buffer>): Promise<BrainChunk[]> {
  async function* body(): AsyncGenerator<Buffer> {
    for (const p of parts) yield Buffer.isBuffer(p) ? p : Buffer.from(p);
  }
  const out: BrainChunk[] = [];
  for await (const c of parseBody(kind, body())) out.push(c);
  return out;
}

/** Every split of `text` into two network chunks, at every byte. */
function splits(text: string): Buffer[][] {
  const b = Buffer.from(text);
  return Array.from({ length: b.length + 1 }, (_, i) => [b.subarray(0, i), b.subarray(i)]);
}

describe('brain body formats', () => {
  it('maps media types (parameters already stripped)', () => {
    expect(bodyKind('application/json')).toBe('json');
    expect(bodyKind('text/event-stream')).toBe('sse');
    expect(bodyKind('application/x-ndjson')).toBe('ndjson');
    expect(bodyKind('text/plain')).toBe('text');
    expect(bodyKind('text/html')).toBeNull();
    expect(bodyKind('')).toBeNull();
  });

  it('SSE: the same events whatever the chunking, CRLF, comments, multi-line data and [DONE]', async () => {
    const sse = ': hello\r\ndata: {"text":"Hé, "}\r\n\r\nevent: x\ndata: {"text":\ndata: "there"}\n\ndata: {"endCall":true}\n\ndata: [DONE]\n\n';
    for (const parts of splits(sse)) {
      expect(await parse('sse', parts)).toEqual([{ text: 'Hé, ' }, { text: 'there' }, { endCall: true }]);
    }
  });

  it('NDJSON: lines across chunks, blank lines skipped, a last line without newline', async () => {
    const nd = '{"text":"a"}\n\n{"text":"b","transferTo":"+14155550100"}\r\n{"text":"ç"}';
    for (const parts of splits(nd)) {
      expect(await parse('ndjson', parts)).toEqual([{ text: 'a' }, { text: 'b', transferTo: '+14155550100' }, { text: 'ç' }]);
    }
  });

  it('text/plain streams as it arrives, UTF-8 split mid-character included', async () => {
    const chunks = await parse('text', [Buffer.from([0x63, 0x61, 0x66, 0xc3]), Buffer.from([0xa9, 0x21])]);
    expect(chunks.map((c) => c.text).join('')).toBe('café!');
  });

  it('JSON: one object; nulls are absent', async () => {
    expect(await parse('json', ['{"text":"Hi","endCall":null}'])).toEqual([{ text: 'Hi' }]);
  });

  it.each([
    ['json', '{"text": 3}', /"text" must be a string/],
    ['json', '[]', /not a JSON object/],
    ['json', 'nope', /not valid JSON/],
    ['ndjson', '{"text":"ok"}\n{"endCall":"yes"}\n', /line 2: "endCall" must be a boolean/],
    ['sse', 'data: {"transferTo": 5}\n\n', /event 1: "transferTo" must be a string/],
    ['sse', 'data: oops\n\n', /event 1 is not valid JSON/],
  ] as const)('%s garbage %j is named', async (kind, body, message) => {
    const err = await parse(kind, [body]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrainBodyError);
    expect((err as Error).message).toMatch(message);
  });
});
