/**
 * `POST /v1/knowledge/url`: the page is fetched once, through the SSRF guard, and reduced to
 * plain text; only the text is stored. HTML goes through html-to-text (links and images
 * dropped: they are noise to an LLM); plain text, Markdown, CSV and JSON are kept as they are.
 */
import { convert } from 'html-to-text';
import { validationFailed } from '../errors.js';
import { safeFetch, type Resolver } from '../net/index.js';

/** Largest page fetched; a bigger one is refused, not truncated (a silently cut doc misleads). */
export const MAX_FETCH_BYTES = 5 * 1024 * 1024;
/** Largest text stored per document, the same cap as a text upload. */
export const MAX_TEXT_CHARS = 1_000_000;

export function htmlToPlainText(html: string): string {
  return convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
      { selector: 'nav', format: 'skip' },
    ],
  }).trim();
}

export async function importUrl(
  url: string,
  opts: { allowPrivate: boolean; signal?: AbortSignal; resolver?: Resolver },
): Promise<{ text: string; finalUrl: string }> {
  const res = await safeFetch(url, {
    allowPrivate: opts.allowPrivate,
    signal: opts.signal,
    resolver: opts.resolver,
    maxBytes: MAX_FETCH_BYTES,
    headers: { accept: 'text/html, text/plain;q=0.9, */*;q=0.5', 'user-agent': 'voxgate-knowledge/1' },
  });
  if (!res.ok) throw validationFailed(`url answered HTTP ${res.status}`, [{ field: 'url', message: `HTTP ${res.status}` }]);
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const raw = res.text();
  let text: string;
  if (type === 'text/html' || type === 'application/xhtml+xml' || (type === '' && /^\s*<(!doctype|html)/i.test(raw))) {
    text = htmlToPlainText(raw);
  } else if (type === '' || type.startsWith('text/') || type === 'application/json' || type.endsWith('+json')) {
    text = raw.trim();
  } else {
    throw validationFailed(`url content type ${type} is not text or HTML`, [{ field: 'url', message: `unsupported content type ${type}` }]);
  }
  if (!text) throw validationFailed('url has no text content', [{ field: 'url', message: 'empty document' }]);
  if (text.length > MAX_TEXT_CHARS) {
    throw validationFailed(`document text exceeds ${MAX_TEXT_CHARS} characters`, [{ field: 'url', message: 'document too large' }]);
  }
  return { text, finalUrl: res.url };
}
