import { createHash } from 'node:crypto';
import type { SearchRequest } from './search.schema.js';
import type { SearchScope } from './search-scope.js';

/** The query cache's key: everything that decides the answer, normalised, plus the read model's position. */
export function queryCacheKey(
  request: SearchRequest,
  freeOnly: boolean,
  scope: SearchScope,
  position: string | null,
) {
  const normalised = {
    ...request,
    query: request.query.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim(),
    filters: normaliseFilters(request.filters),
    minPosition: undefined,
    freeOnly,
    space: scope.space,
    chunker: scope.chunker,
    hybridTextWeight: scope.hybridTextWeight,
    minSimilarity: scope.minSimilarity,
    position,
  };
  return createHash('sha256').update(JSON.stringify(normalised)).digest('hex');
}

/** Filters that select the same chunks make the same key: tag and type lists are sets. */
function normaliseFilters(f: SearchRequest['filters']) {
  if (!f) return undefined;
  return {
    ...f,
    tags: f.tags ? [...new Set(f.tags)].sort() : undefined,
    documentTypes: f.documentTypes ? [...new Set(f.documentTypes)].sort() : undefined,
  };
}
