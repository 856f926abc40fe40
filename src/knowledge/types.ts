/** Ranked retrieval over an agent's knowledge documents, used by engines during calls. */
export interface Passage {
  docId: string;
  docName: string;
  text: string;
  score: number;
}

export interface KnowledgeSearch {
  /** The best passages of the given documents for `query`, best first, at most `limit`. */
  search(docIds: string[], query: string, limit: number): Promise<Passage[]>;
  /** Drops cached indexes that cover `docId` (after it was deleted). Optional for fakes. */
  forget?(docId: string): void;
}
