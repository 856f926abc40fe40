/**
 * Cursor pagination (API.md, Conventions): `?limit=` 1..100 (default 20) and `?cursor=`;
 * responses `{items, next_cursor}`, newest first. The cursor is the last id of the page: ids
 * sort by creation time, so a page boundary never moves when newer rows are inserted.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Page, PageRequest } from '../store/types.js';

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  // A cursor is an id we issued (ids.ts); anything else is a client bug, so 422, not an
  // empty or arbitrary page.
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[a-z]+_[0-9A-HJKMNP-TV-Z]{26}$' })),
});
export type PageQuery = Static<typeof PageQuery>;

export function pageRequest(query: PageQuery): PageRequest {
  return { limit: query.limit ?? 20, afterId: query.cursor };
}

export function pageBody<T, R>(page: Page<T>, map: (item: T) => R): { items: R[]; next_cursor: string | null } {
  return { items: page.items.map(map), next_cursor: page.nextAfterId };
}

/** The response schema of a list of `item`. */
export function PageOf<T extends ReturnType<typeof Type.Object>>(item: T) {
  return Type.Object({ items: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) });
}
