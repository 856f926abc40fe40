/**
 * Ranked retrieval over knowledge documents with MiniSearch (BM25 with prefix and fuzzy
 * matching). An index covers one set of documents (an agent's `knowledgeIds`) and is cached:
 * documents never change after upload, so an index stays valid until one of its documents is
 * deleted — `forget(docId)` drops it on this node; other nodes rebuild after CACHE_TTL_MS.
 */
import MiniSearch from 'minisearch';
import type { Store } from '../store/types.js';
import type { KnowledgeSearch, Passage } from './types.js';
import { chunkText } from './chunker.js';

/** Bounds how long another node's deletion can go unseen here. */
const CACHE_TTL_MS = 60_000;
/** Indexes kept at once (one per distinct document set in use). */
const CACHE_MAX = 100;

interface Chunk {
  id: number;
  docId: string;
  docName: string;
  text: string;
}

interface Entry {
  docIds: Set<string>;
  index: MiniSearch<Chunk>;
  chunks: Map<number, Chunk>;
  builtAt: number;
}

export class MiniSearchKnowledge implements KnowledgeSearch {
  private readonly cache = new Map<string, Entry>();
  private readonly building = new Map<string, Promise<Entry>>();

  constructor(
    private readonly store: Pick<Store, 'getDocs'>,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async search(docIds: string[], query: string, limit: number): Promise<Passage[]> {
    if (docIds.length === 0 || !query.trim() || limit <= 0) return [];
    const entry = await this.entry(docIds);
    const hits = entry.index.search(query, { prefix: true, fuzzy: 0.2, combineWith: 'OR' });
    return hits.slice(0, limit).map((hit) => {
      const chunk = entry.chunks.get(hit.id as number)!;
      return { docId: chunk.docId, docName: chunk.docName, text: chunk.text, score: hit.score };
    });
  }

  /** Drops every cached index that covers `docId` (call after deleting it). */
  forget(docId: string): void {
    for (const [key, entry] of this.cache) if (entry.docIds.has(docId)) this.cache.delete(key);
  }

  private async entry(docIds: string[]): Promise<Entry> {
    const key = [...new Set(docIds)].sort().join(',');
    const cached = this.cache.get(key);
    if (cached && this.nowMs() - cached.builtAt < CACHE_TTL_MS) {
      // Refresh its place in the LRU order.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    let pending = this.building.get(key);
    if (!pending) {
      pending = this.build(key.split(',')).finally(() => this.building.delete(key));
      this.building.set(key, pending);
    }
    const entry = await pending;
    this.cache.set(key, entry);
    while (this.cache.size > CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    return entry;
  }

  private async build(docIds: string[]): Promise<Entry> {
    const docs = await this.store.getDocs(docIds);
    const index = new MiniSearch<Chunk>({ fields: ['text', 'docName'], storeFields: [], searchOptions: { boost: { text: 2 } } });
    const chunks = new Map<number, Chunk>();
    let id = 0;
    for (const doc of docs) {
      for (const text of chunkText(doc.text)) {
        const chunk = { id: id++, docId: doc.id, docName: doc.name, text };
        chunks.set(chunk.id, chunk);
      }
    }
    index.addAll([...chunks.values()]);
    return { docIds: new Set(docIds), index, chunks, builtAt: this.nowMs() };
  }
}
