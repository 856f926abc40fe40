import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { chunkText, MiniSearchKnowledge } from '../../src/knowledge/index.js';
import type { KnowledgeDoc } from '../../src/store/types.js';
import { createVoxgateClient, type VoxgateClient } from '../../src/client/index.js';

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

// Through the typed client (src/client): these tests also prove its types against the server.
describe('knowledge API', () => {
  let t: TestApp;
  let site: Server;
  let siteUrl: string;
  let alice: VoxgateClient;
  let bob: VoxgateClient;
  beforeAll(async () => {
    t = await createTestApp();
    const admin = createVoxgateClient({ baseUrl: t.baseUrl, apiKey: t.adminKey });
    const scopes = ['knowledge:read', 'knowledge:write', 'agents:read', 'agents:write'] as const;
    const mint = async (owner: string) => (await admin.POST('/v1/keys', { body: { owner, scopes: [...scopes] } })).data!.key;
    alice = createVoxgateClient({ baseUrl: t.baseUrl, apiKey: await mint('alice') });
    bob = createVoxgateClient({ baseUrl: t.baseUrl, apiKey: await mint('bob') });
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

  const text = (c: VoxgateClient, name: string, body: string) => c.POST('/v1/knowledge/text', { body: { name, text: body } });
  const url = (c: VoxgateClient, name: string, u: string) => c.POST('/v1/knowledge/url', { body: { name, url: u } });

  it('uploads text and lists it without the text', async () => {
    const res = await text(alice, 'hours', HOURS);
    expect(res.response.status).toBe(201);
    expect(res.data).toMatchObject({ id: expect.stringMatching(/^doc_/), name: 'hours', sourceUrl: null, chunks: 1 });
    const list = await alice.GET('/v1/knowledge');
    expect(list.data!.items[0]).toEqual({ id: res.data!.id, name: 'hours', sourceUrl: null, createdAt: expect.any(String) });
    expect((await bob.GET('/v1/knowledge')).data!.items).toEqual([]);
  });

  it('imports a URL once, reducing HTML to text', async () => {
    const res = await url(alice, 'returns', `${siteUrl}/page`);
    expect(res.response.status).toBe(201);
    const doc = (await t.ctx.store.getDoc(res.data!.id))!;
    expect(doc.text).toContain(REFUND);
    expect(doc.text).not.toMatch(/<p>|var x|body\{\}|x\.png|Menu/);
    expect(doc.sourceUrl).toBe(`${siteUrl}/page`);
  });

  it('refuses a URL that is not text, or answers an error, with 422', async () => {
    expect((await url(alice, 'pdf', `${siteUrl}/pdf`)).response.status).toBe(422);
    const gone = await url(alice, 'gone', `${siteUrl}/gone`);
    expect(gone.response.status).toBe(422);
    expect(gone.error?.error.code).toBe('validation_failed');
  });

  it('attaches visible documents to an agent and refuses others', async () => {
    const agent = (await alice.POST('/v1/agents', { body: { name: 'a', architecture: 'text', systemPrompt: 'p', model: 'm' } })).data!;
    const mine = (await text(alice, 'm', HOURS)).data!.id;
    const theirs = (await text(bob, 't', HOURS)).data!.id;
    const attach = (c: VoxgateClient, documentIds: string[]) => c.PATCH('/v1/agents/{id}/knowledge', { params: { path: { id: agent.id } }, body: { documentIds } });
    const ok = await attach(alice, [mine]);
    expect(ok.response.status).toBe(200);
    expect(ok.data!.knowledgeIds).toEqual([mine]);
    const bad = await attach(alice, [mine, theirs]);
    expect(bad.response.status).toBe(422);
    expect(bad.error!.error.message).toContain(theirs);
    expect((await attach(bob, [])).response.status).toBe(404);
  });

  it('deletes a document; other owners get 404', async () => {
    const id = (await text(alice, 'x', HOURS)).data!.id;
    const del = (c: VoxgateClient) => c.DELETE('/v1/knowledge/{id}', { params: { path: { id } } });
    expect((await del(bob)).response.status).toBe(404);
    expect((await del(alice)).response.status).toBe(204);
    expect(await t.ctx.store.getDoc(id)).toBeNull();
  });

  it('the app-wide search finds uploaded passages', async () => {
    const a = (await text(alice, 'pol', `${FILLER}\n\n${REFUND}`)).data!.id;
    const hits = await t.ctx.knowledge.search([a], 'refund days', 1);
    expect(hits[0]!.text).toContain('14 days');
  });
});
