export interface SearchResult {
  documentId: string;
  title: string;
  version: number;
  chunkIndex: number;
  content: string;
  score: number;
  startChar: number;
  endChar: number;
  section?: string;
  page?: number;
  metadata: Record<string, unknown>;
}

/** A chunk as every search mode's SQL selects it, `id` included so that rankings can be fused. */
export interface ChunkRow {
  id: string;
  document_id: string;
  title: string;
  version: number;
  chunk_index: number;
  content: string;
  score: number;
  start_char: number;
  end_char: number;
  section: string | null;
  page: number | null;
  metadata: Record<string, unknown>;
}

/** The columns of a ChunkRow but its score, from `chunks c`. */
export const COLUMNS = `c.id::text AS id, c.document_id::text AS document_id, c.title, c.version, c.chunk_index, c.content,
  c.start_char, c.end_char, c.section, c.page, c.metadata`;

/** The API's shape of a row: camelCase, absent rather than null, the score as a number (pg may give text). */
export function toResult(r: ChunkRow): SearchResult {
  return {
    documentId: r.document_id,
    title: r.title,
    version: r.version,
    chunkIndex: r.chunk_index,
    content: r.content,
    score: Number(r.score),
    startChar: r.start_char,
    endChar: r.end_char,
    ...(r.section ? { section: r.section } : {}),
    ...(r.page ? { page: r.page } : {}),
    metadata: r.metadata,
  };
}
