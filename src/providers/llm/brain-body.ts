/**
 * A webhook brain's answer, by media type (API.md): `application/json` `{text?, endCall?,
 * transferTo?}`; `text/event-stream` (`data: {json}` per event) or `application/x-ndjson` (one
 * JSON per line) of such chunks; `text/plain` (the body, spoken as it arrives). Anything else,
 * or a chunk that is not such an object, is a BrainBodyError naming what was wrong.
 */
export interface BrainChunk {
  text?: string;
  endCall?: boolean;
  transferTo?: string;
}

export type BodyKind = 'json' | 'sse' | 'ndjson' | 'text';

export class BrainBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrainBodyError';
  }
}

export function bodyKind(mediaType: string): BodyKind | null {
  switch (mediaType) {
    case 'application/json':
      return 'json';
    case 'text/event-stream':
      return 'sse';
    case 'application/x-ndjson':
    case 'application/ndjson':
      return 'ndjson';
    case 'text/plain':
      return 'text';
    default:
      return null;
  }
}

/** Checks one decoded chunk; `where` names it in the error ("event 3"). */
export function toChunk(value: unknown, where: string): BrainChunk {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BrainBodyError(`${where} is not a JSON object`);
  const v = value as Record<string, unknown>;
  const out: BrainChunk = {};
  if (v.text !== undefined && v.text !== null) {
    if (typeof v.text !== 'string') throw new BrainBodyError(`${where}: "text" must be a string`);
    out.text = v.text;
  }
  if (v.endCall !== undefined && v.endCall !== null) {
    if (typeof v.endCall !== 'boolean') throw new BrainBodyError(`${where}: "endCall" must be a boolean`);
    out.endCall = v.endCall;
  }
  if (v.transferTo !== undefined && v.transferTo !== null) {
    if (typeof v.transferTo !== 'string') throw new BrainBodyError(`${where}: "transferTo" must be a string`);
    out.transferTo = v.transferTo;
  }
  return out;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BrainBodyError(`${where} is not valid JSON`);
  }
}

export async function* parseBody(kind: BodyKind, body: AsyncIterable<Buffer>): AsyncGenerator<BrainChunk> {
  const decoder = new TextDecoder('utf-8');
  switch (kind) {
    case 'text':
      for await (const buf of body) {
        const text = decoder.decode(buf, { stream: true });
        if (text) yield { text };
      }
      {
        const tail = decoder.decode();
        if (tail) yield { text: tail };
      }
      return;
    case 'json': {
      let all = '';
      for await (const buf of body) all += decoder.decode(buf, { stream: true });
      all += decoder.decode();
      yield toChunk(parseJson(all, 'the JSON body'), 'the JSON body');
      return;
    }
    case 'ndjson': {
      let n = 0;
      for await (const line of lines(body, decoder)) {
        if (!line.trim()) continue;
        n++;
        yield toChunk(parseJson(line, `line ${n}`), `line ${n}`);
      }
      return;
    }
    case 'sse': {
      // text/event-stream (WHATWG HTML §9.2): fields per line, an event ends at a blank line,
      // several `data:` lines join with "\n", lines starting with ':' are comments.
      let data: string[] = [];
      let n = 0;
      const dispatch = function* (): Generator<BrainChunk> {
        if (data.length === 0) return;
        const payload = data.join('\n');
        data = [];
        if (payload.trim() === '[DONE]') return; // the OpenAI-style terminator some servers copy
        n++;
        yield toChunk(parseJson(payload, `event ${n}`), `event ${n}`);
      };
      for await (const line of lines(body, decoder)) {
        if (line === '') {
          yield* dispatch();
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') data.push(value);
      }
      yield* dispatch();
      return;
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown body kind ${String(never)}`);
    }
  }
}

/** Lines as they complete (LF, CRLF or CR), the last one even without a newline. */
async function* lines(body: AsyncIterable<Buffer>, decoder: TextDecoder): AsyncGenerator<string> {
  let rest = '';
  for await (const buf of body) {
    rest += decoder.decode(buf, { stream: true });
    let m: RegExpExecArray | null;
    const re = /\r\n|\n|\r(?!$)/g;
    let start = 0;
    while ((m = re.exec(rest)) !== null) {
      yield rest.slice(start, m.index);
      start = m.index + m[0].length;
    }
    rest = rest.slice(start);
  }
  rest += decoder.decode();
  if (rest.endsWith('\r')) rest = rest.slice(0, -1);
  if (rest !== '') yield rest;
}
