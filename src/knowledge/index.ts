/**
 * Knowledge base: chunking, ranked retrieval (MiniSearch) and URL import. Engines use
 * `KnowledgeSearch.search` during calls; the API uses the rest.
 */
import type { Store } from '../store/types.js';
import type { KnowledgeSearch } from './types.js';
import { MiniSearchKnowledge } from './search.js';

export type * from './types.js';
export { chunkText } from './chunker.js';
export { importUrl, htmlToPlainText } from './url-import.js';
export { MiniSearchKnowledge } from './search.js';

export function createKnowledgeSearch(store: Store): KnowledgeSearch {
  return new MiniSearchKnowledge(store);
}
