import { createHash } from 'node:crypto';
import pgvector from 'pgvector';
import type { Embedder } from '../../infrastructure/embeddings/embedder.js';
import {
  noEmbeddingRecorder,
  type EmbeddingRecorder,
} from '../../infrastructure/embeddings/measured-embedder.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';

export function textSha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The vector of each text hash in a space: from a chunk that holds it (through the hash index on
 * embedded_sha256), else from the cache of vectors no chunk holds (`saved`). Each hash is looked up on its own
 * (LIMIT keeps the lateral subquery whole), so that the index is the only cheap way in whatever the planner knows.
 */
export const CACHED_VECTORS_SQL = `SELECT h AS text_sha256, v.embedding::text AS embedding, v.saved
  FROM unnest($2::text[]) AS h CROSS JOIN LATERAL (
    (SELECT embedding, false AS saved FROM chunks WHERE embedded_sha256 = h AND space = $1 LIMIT 1)
    UNION ALL
    (SELECT embedding, true FROM embedding_cache WHERE space = $1 AND text_sha256 = h)
    LIMIT 1) v`;

/** Deletes a configuration's chunks (rebuild, switch), their vectors going into the cache (space, chunker). */
export const DELETE_SAVING_VECTORS_SQL = `WITH saved AS (INSERT INTO embedding_cache (space, text_sha256, embedding)
    SELECT DISTINCT ON (embedded_sha256) space, embedded_sha256, embedding FROM chunks
    WHERE space = $1 AND chunker = $2 ON CONFLICT DO NOTHING)
  DELETE FROM chunks WHERE space = $1 AND chunker = $2`;

/**
 * Embeds texts through the cache: a text whose SHA-256 already has a vector in this embedding space is never
 * sent to the embedder again — not by an edit that leaves a chunk unchanged (its chunks hold the vector), not by
 * a rebuild (the vectors are saved in `embedding_cache` before the chunks are deleted, and leave it once chunks
 * hold them again: see chunk-rows.ts). Reads happen before the projector's transaction.
 */
export class EmbeddingCache {
  constructor(
    private readonly embedder: Embedder,
    private readonly recorder: EmbeddingRecorder = noEmbeddingRecorder,
  ) {}

  get space(): string {
    return this.embedder.space;
  }

  /** Vectors for `texts` (by index), and the hashes whose vectors were found saved in the cache. */
  async embed(
    sql: SqlExecutor,
    texts: readonly string[],
  ): Promise<{ vectors: Float32Array[]; saved: string[] }> {
    const hashes = texts.map(textSha256);
    const { found: cached, saved } = await this.lookup(sql, [...new Set(hashes)]);
    const missing = [...new Set(hashes.filter((h) => !cached.has(h)))];
    this.recorder.cacheLookups(this.space, cached.size, missing.length);
    const textOf = new Map(hashes.map((h, i) => [h, texts[i]!]));
    if (missing.length > 0) {
      const vectors = await this.embedder.embed(missing.map((h) => textOf.get(h)!));
      missing.forEach((h, i) => cached.set(h, vectors[i]!));
    }
    return { vectors: hashes.map((h) => cached.get(h)!), saved };
  }

  private async lookup(sql: SqlExecutor, hashes: string[]) {
    const found = new Map<string, Float32Array>();
    const saved: string[] = [];
    for (let i = 0; i < hashes.length; i += 1000) {
      const { rows } = await sql.query<{ text_sha256: string; embedding: string; saved: boolean }>(
        CACHED_VECTORS_SQL,
        [this.space, hashes.slice(i, i + 1000)],
      );
      for (const r of rows) {
        found.set(r.text_sha256, Float32Array.from(pgvector.fromSql(r.embedding) as number[]));
        if (r.saved) saved.push(r.text_sha256);
      }
    }
    return { found, saved };
  }
}
