import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { chunkText, MiniSearchKnowledge } from '../../src/knowledge/index.js';
import type { KnowledgeDoc } from '../../src/store/types.js';

const FILLER = 'The company was founded many years ago and has offices in several cities. '.repeat(12);
const REFUND = 'Refunds are issued within 14 days of the return being received at our warehouse.';
const HOURS = 'Our support line is open Monday to Friday from 9am to 5pm Central European Time.';

describe('chunker', () => {
  it('makes ~500-char passages on sentence boundaries, overlapping', () => {
    const sentences = Array.from({ length: 40 }, (_, i) => `Sentence number ${i} says something short.`);
    const chunks = chunkText(sentences.join(' '));
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(500);
      expect(c).toMatch(/\.$/);
    }
    // Overlap: each passage starts with a sentence the previous one ended with.
    for (let i = 1; i < chunks.length; i++) {
      const firstSentence = chunks[i]!.split(/(?<=\.) /)[0]!;
      expect(chunks[i - 1]).toContain(firstSentence);
    }
  });

  it('cuts an over-long run without punctuation on word boundaries', () => {
    const chunks = chunkText('word '.repeat(400));
    expect(chunks.every((c) => c.length <= 500)).toBe(true);
    expect(chunks.join(' ').split(' ').filter(Boolean).length).toBeGreaterThanOrEqual(400);
  });

  it('returns nothing for whitespace', () => {
    expect(chunkText('  \n\n \t ')).toEqual([]);
  });
});

describe('ranking', () => {
  const docs: KnowledgeDoc[] = [
    { id: 'doc_a', owner: 'o', name: 'About', sourceUrl: null, text: `${FILLER}\n\n${HOURS}`, createdAt: '' },
    { id: 'doc_b', owner: 'o', name: 'Policies', sourceUrl: null, text: `${FILLER}\n\n${REFUND}\n\n${FILLER}`, createdAt: '' },
  ];
  let fetches = 0;
  const store = {
    async getDocs(ids: string[]) {
      fetches++;
      return docs.filter((d) => ids.includes(d.id));
    },
  };
  const search = new MiniSearchKnowledge(store);

  it('puts the passage that answers the question first', async () => {
    const hits = await search.search(['doc_a', 'doc_b'], 'how long does a refund take?', 3);
    expect(hits[0]!.docId).toBe('doc_b');
    expect(hits[0]!.text).toContain('Refunds are issued within 14 days');
    expect(hits[0]!.score).toBeGreaterThan(hits[1]?.score ?? 0);
    const hours = await search.search(['doc_a', 'doc_b'], 'when is support open', 1);
    expect(hours[0]!.text).toContain('Monday to Friday');
  });

  it('searches only the given documents and caches the index per set', async () => {
    const before = fetches;
    const hits = await search.search(['doc_a'], 'refund', 5);
    expect(hits.every((h) => h.docId === 'doc_a')).toBe(true);
    await search.search(['doc_a'], 'support', 5);
    expect(fetches - before).toBe(1);
    search.forget('doc_a');
    await search.search(['doc_a'], 'support', 5);
    expect(fetches - before).toBe(2);
  });
});

describe('knowledge API', () => {
  let t: TestApp;
  let site: Server;
  let siteUrl: string;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    t = await createTestApp();
    const scopes = ['knowledge:read', 'knowledge:write', 'agents:read', 'agents:write'];
    alice = (await t.api('POST', '/v1/keys', { owner: 'alice', scopes })).body.key;
    bob = (await t.api('POST', '/v1/keys', { owner: 'bob', scopes })).body.key;
    site = createServer((req, res) => {
      if (req.url === '/page') {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(`<html><head><style>body{}</style><script>var x=1</script></head><body><nav>Menu</nav><h1>Returns</h1><p>${REFUND}</p><img src="x.png"><a href="/y">link</a></body></html>`);
      } else if (req.url === '/pdf') {
        res.setHeader('content-type', 'application/pdf');
        res.end('%PDF-1.4');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => site.close(() => r()));
    await t.close();
  });

  it('uploads text and lists it without the text', async () => {
    const res = await t.api('POST', '/v1/knowledge/text', { name: 'hours', text: HOURS }, alice);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: expect.stringMatching(/^doc_/), name: 'hours', sourceUrl: null, chunks: 1 });
    const list = await t.api('GET', '/v1/knowledge', undefined, alice);
    expect(list.body.items[0]).toEqual({ id: res.body.id, name: 'hours', sourceUrl: null, createdAt: expect.any(String) });
    expect((await t.api('GET', '/v1/knowledge', undefined, bob)).body.items).toEqual([]);
  });

  it('imports a URL once, reducing HTML to text', async () => {
    const res = await t.api('POST', '/v1/knowledge/url', { name: 'returns', url: `${siteUrl}/page` }, alice);
    expect(res.status).toBe(201);
    const doc = (await t.ctx.store.getDoc(res.body.id))!;
    expect(doc.text).toContain(REFUND);
    expect(doc.text).not.toMatch(/<p>|var x|body\{\}|x\.png|Menu/);
    expect(doc.sourceUrl).toBe(`${siteUrl}/page`);
  });

  it('refuses a URL that is not text, or answers an error, with 422', async () => {
    expect((await t.api('POST', '/v1/knowledge/url', { name: 'pdf', url: `${siteUrl}/pdf` }, alice)).status).toBe(422);
    expect((await t.api('POST', '/v1/knowledge/url', { name: 'gone', url: `${siteUrl}/gone` }, alice)).status).toBe(422);
  });

  it('attaches visible documents to an agent and refuses others', async () => {
    const agent = (await t.api('POST', '/v1/agents', { name: 'a', architecture: 'text', systemPrompt: 'p', model: 'm' }, alice)).body;
    const mine = (await t.api('POST', '/v1/knowledge/text', { name: 'm', text: HOURS }, alice)).body.id;
    const theirs = (await t.api('POST', '/v1/knowledge/text', { name: 't', text: HOURS }, bob)).body.id;
    const ok = await t.api('PATCH', `/v1/agents/${agent.id}/knowledge`, { documentIds: [mine] }, alice);
    expect(ok.status).toBe(200);
    expect(ok.body.knowledgeIds).toEqual([mine]);
    const bad = await t.api('PATCH', `/v1/agents/${agent.id}/knowledge`, { documentIds: [mine, theirs] }, alice);
    expect(bad.status).toBe(422);
    expect(bad.body.error.message).toContain(theirs);
    expect((await t.api('PATCH', `/v1/agents/${agent.id}/knowledge`, { documentIds: [] }, bob)).status).toBe(404);
  });

  it('deletes a document; other owners get 404', async () => {
    const id = (await t.api('POST', '/v1/knowledge/text', { name: 'x', text: HOURS }, alice)).body.id;
    expect((await t.api('DELETE', `/v1/knowledge/${id}`, undefined, bob)).status).toBe(404);
    expect((await t.api('DELETE', `/v1/knowledge/${id}`, undefined, alice)).status).toBe(204);
    expect(await t.ctx.store.getDoc(id)).toBeNull();
  });

  it('the app-wide search finds uploaded passages', async () => {
    const a = (await t.api('POST', '/v1/knowledge/text', { name: 'pol', text: `${FILLER}\n\n${REFUND}` }, alice)).body.id;
    const hits = await t.ctx.knowledge.search([a], 'refund days', 1);
    expect(hits[0]!.text).toContain('14 days');
  });
});
